//! [`AsyncFd`]: any Unix file descriptor driven by the reactor.
//!
//! Why: sockets are not the only descriptors worth waiting on. A child
//! process's pipes, a Linux `pidfd` (readable once the process has exited),
//! an `eventfd` or a terminal all report readiness through the same poller,
//! and with `AsyncFd` code outside this crate (`minirt::process`, users'
//! own wrappers) can wait on them with the same edge-triggered loop the
//! socket types use, instead of a thread per descriptor.
//!
//! The descriptor must be non-blocking: the operations passed to
//! [`poll_read_io`](AsyncFd::poll_read_io) and
//! [`poll_write_io`](AsyncFd::poll_write_io) must fail with `WouldBlock`
//! rather than block when they cannot make progress, which is how the
//! reactor learns that readiness has been used up.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::ops::BitOr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::task::{Context, Poll};

use mio::event::Source;
use mio::unix::SourceFd;
use mio::{Registry, Token};

use crate::driver::ready::Direction;
use crate::registration::PollEvented;

/// Which readiness an [`AsyncFd`] is registered for.
///
/// ```
/// use minirt_reactor::io::unix::Interest;
///
/// let both = Interest::READABLE | Interest::WRITABLE;
/// assert!(both.is_readable() && both.is_writable());
/// assert!(!Interest::READABLE.is_writable());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interest(mio::Interest);

impl Interest {
    /// Readable (or closed for reading, or in error).
    pub const READABLE: Interest = Interest(mio::Interest::READABLE);
    /// Writable (or closed for writing, or in error).
    pub const WRITABLE: Interest = Interest(mio::Interest::WRITABLE);

    /// Whether this includes [`READABLE`](Interest::READABLE).
    pub fn is_readable(self) -> bool {
        self.0.is_readable()
    }

    /// Whether this includes [`WRITABLE`](Interest::WRITABLE).
    pub fn is_writable(self) -> bool {
        self.0.is_writable()
    }
}

impl BitOr for Interest {
    type Output = Interest;
    fn bitor(self, other: Interest) -> Interest {
        Interest(self.0 | other.0)
    }
}

/// A non-blocking file descriptor (owned through `T`) registered with the
/// current runtime's reactor, as in tokio's `tokio::io::unix::AsyncFd`.
///
/// Dropping it deregisters the descriptor, then drops `T` (which usually
/// closes it). Only one task should wait in each direction at a time (see the
/// crate docs on waker slots).
///
/// Unix only.
///
/// ```no_run
/// use std::io::Read;
/// use std::os::unix::net::UnixStream;
/// use minirt_reactor::io::unix::AsyncFd;
///
/// async fn read_some(stream: UnixStream) -> std::io::Result<Vec<u8>> {
///     stream.set_nonblocking(true)?;
///     let fd = AsyncFd::new(stream)?;
///     let mut buf = vec![0; 1024];
///     let n = fd.read_io(|mut s| s.read(&mut buf)).await?;
///     buf.truncate(n);
///     Ok(buf)
/// }
/// ```
pub struct AsyncFd<T: AsRawFd> {
    io: PollEvented<FdSource<T>>,
}

/// `T` as a mio event source, through its raw descriptor.
struct FdSource<T: AsRawFd>(T);

impl<T: AsRawFd> Source for FdSource<T> {
    fn register(
        &mut self,
        registry: &Registry,
        token: Token,
        interest: mio::Interest,
    ) -> io::Result<()> {
        SourceFd(&self.0.as_raw_fd()).register(registry, token, interest)
    }

    fn reregister(
        &mut self,
        registry: &Registry,
        token: Token,
        interest: mio::Interest,
    ) -> io::Result<()> {
        SourceFd(&self.0.as_raw_fd()).reregister(registry, token, interest)
    }

    fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        SourceFd(&self.0.as_raw_fd()).deregister(registry)
    }
}

impl<T: AsRawFd> AsyncFd<T> {
    /// Registers `inner` for reading and writing with the current reactor.
    ///
    /// # Errors
    ///
    /// The OS error if the poller refuses the descriptor (a regular file
    /// under epoll gives `EPERM`, for example).
    ///
    /// # Panics
    ///
    /// Outside a minirt runtime.
    pub fn new(inner: T) -> io::Result<AsyncFd<T>> {
        AsyncFd::with_interest(inner, Interest::READABLE | Interest::WRITABLE)
    }

    /// Registers `inner` for `interest` only (a pipe's read end needs only
    /// [`Interest::READABLE`], say).
    ///
    /// # Errors and panics
    ///
    /// As [`new`](AsyncFd::new).
    pub fn with_interest(inner: T, interest: Interest) -> io::Result<AsyncFd<T>> {
        Ok(AsyncFd {
            io: PollEvented::new_with_interest(FdSource(inner), interest.0)?,
        })
    }

    /// The wrapped value.
    pub fn get_ref(&self) -> &T {
        &self.io.get_ref().0
    }

    /// Deregisters the descriptor and gives back the wrapped value (still
    /// non-blocking).
    ///
    /// # Errors
    ///
    /// The OS error if deregistering fails.
    pub fn into_inner(self) -> io::Result<T> {
        Ok(self.io.into_inner()?.0)
    }

    /// Waits until the descriptor is readable, then runs `op`; if `op` fails
    /// with `WouldBlock`, forgets the readiness and waits again.
    ///
    /// Every completed attempt spends from the task's cooperative budget.
    pub fn poll_read_io<R>(
        &self,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.io.poll_io(cx, Direction::Read, |s| op(&s.0))
    }

    /// As [`poll_read_io`](AsyncFd::poll_read_io), for writability.
    pub fn poll_write_io<R>(
        &self,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.io.poll_io(cx, Direction::Write, |s| op(&s.0))
    }

    /// [`poll_read_io`](AsyncFd::poll_read_io) as a future.
    ///
    /// Cancellation safe as long as `op` is: dropping the future before
    /// `op` succeeds loses nothing.
    pub async fn read_io<R>(&self, mut op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        poll_fn(|cx| self.poll_read_io(cx, &mut op)).await
    }

    /// [`poll_write_io`](AsyncFd::poll_write_io) as a future.
    ///
    /// Cancellation safe as long as `op` is.
    pub async fn write_io<R>(&self, mut op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        poll_fn(|cx| self.poll_write_io(cx, &mut op)).await
    }
}

impl<T: AsRawFd> AsRawFd for AsyncFd<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.get_ref().as_raw_fd()
    }
}

impl<T: AsRawFd + AsFd> AsFd for AsyncFd<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.get_ref().as_fd()
    }
}

impl<T: AsRawFd + fmt::Debug> fmt::Debug for AsyncFd<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFd")
            .field("inner", self.get_ref())
            .finish()
    }
}
