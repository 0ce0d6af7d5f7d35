//! What every socket wraps: a mio source registered with the current driver.
//!
//! Why: each socket type needs the same three things — register with the
//! reactor on creation, wait for readiness in a direction, and deregister
//! before its file descriptor closes. [`PollEvented`] does all three once, and
//! its [`poll_io`](PollEvented::poll_io) is the one loop every operation uses:
//! wait until ready, try the non-blocking operation, and on `WouldBlock` clear
//! the readiness (only if no newer event arrived, see `scheduled_io`) and wait
//! again. Stream reads and writes use
//! [`poll_stream_io`](PollEvented::poll_stream_io), which also clears after a
//! short transfer and so skips the `WouldBlock` attempt altogether.
//!
//! That loop is also where socket operations spend the task's cooperative
//! budget ([`minirt_core::coop`]): a socket with plenty of buffered data (or
//! room to write) is ready on every poll, and without the budget a task
//! reading it in a loop would never let its thread run anything else.

use std::io;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use minirt_core::coop;
use mio::event::Source;
use mio::Interest;

use crate::driver::ready::Direction;
use crate::driver::scheduled_io::{ReadyEvent, ScheduledIo};
use crate::driver::Handle;

/// Whether a short stream transfer clears readiness (see
/// [`PollEvented::poll_stream_io`]).
///
/// True where the OS poller is edge-triggered and reports every new edge
/// (epoll, kqueue). False on Windows: mio emulates readiness there with one
/// `AFD` poll per socket, which it re-arms only inside an operation that
/// fails with `WouldBlock`. Clearing after a short read would leave no poll
/// armed, and the next data would never wake the task (a lost wake-up that
/// the Windows test run under Wine showed, in `net_tcp`'s 1 MiB echo). tokio
/// skips this shortcut on Windows for the same reason.
const SHORT_TRANSFER_CLEARS: bool = cfg!(not(windows));

/// One live entry in a driver's slab; removes it on drop.
pub(crate) struct Registration {
    /// The reactor the entry lives in.
    handle: Handle,
    /// Readiness and waiters of this resource.
    shared: Arc<ScheduledIo>,
}

impl Registration {
    /// Registers `source` with `handle`'s reactor for `interest`.
    pub(crate) fn new<S: Source + ?Sized>(
        source: &mut S,
        interest: Interest,
        handle: Handle,
    ) -> io::Result<Registration> {
        let shared = handle.inner.add(source, interest)?;
        Ok(Registration { handle, shared })
    }

    /// Ready when the resource is ready in `direction`; otherwise stores the waker.
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
    ) -> Poll<io::Result<ReadyEvent>> {
        self.shared.poll_ready(cx, direction)
    }

    /// Forgets `event`'s readiness unless a newer event replaced it.
    pub(crate) fn clear_readiness(&self, event: ReadyEvent) {
        self.shared.clear_readiness(event);
    }

    /// Waits for readiness in `direction`, runs `op`, and retries after clearing
    /// readiness when `op` reports `WouldBlock`.
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        op: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_io_until_drained(cx, direction, op, |_| false)
    }

    /// [`poll_io`](Self::poll_io) that also clears readiness after a success
    /// for which `drained` says the next attempt would only block.
    ///
    /// One budgeted operation: with the task's budget spent it yields
    /// (woken) without trying `op`; a completed attempt, success or error,
    /// spends a unit.
    pub(crate) fn poll_io_until_drained<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        mut op: impl FnMut() -> io::Result<R>,
        drained: impl Fn(&R) -> bool,
    ) -> Poll<io::Result<R>> {
        coop::poll_budgeted(cx, |cx| loop {
            let event = ready!(self.poll_ready(cx, direction))?;
            match op() {
                Ok(value) => {
                    if drained(&value) {
                        self.clear_readiness(event);
                    }
                    return Poll::Ready(Ok(value));
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    self.clear_readiness(event);
                }
                Err(err) => return Poll::Ready(Err(err)),
            }
        })
    }

    /// Removes `source` from the OS poller.
    pub(crate) fn deregister<S: Source + ?Sized>(&self, source: &mut S) -> io::Result<()> {
        self.handle.inner.deregister(source)
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.handle.inner.remove(&self.shared);
    }
}

/// A mio source plus its registration: the core of every socket type.
///
/// On drop the source is deregistered from mio, then closed, then its slab
/// entry freed — in that order, so no event for a closed descriptor can be
/// delivered to whoever reuses the slot (and the generation check covers any
/// event already collected).
pub(crate) struct PollEvented<E: Source> {
    /// `None` only during drop / `into_inner`.
    io: Option<E>,
    /// Must drop after `io` has been deregistered (field order irrelevant: done in `Drop`).
    registration: Registration,
}

impl<E: Source> PollEvented<E> {
    /// Registers `io` for reading and writing with the current reactor.
    ///
    /// # Panics
    ///
    /// Outside a minirt runtime (see [`Handle::current`]).
    pub(crate) fn new(io: E) -> io::Result<PollEvented<E>> {
        Self::new_with_interest(io, Interest::READABLE | Interest::WRITABLE)
    }

    /// Registers `io` for `interest` with the current reactor.
    pub(crate) fn new_with_interest(mut io: E, interest: Interest) -> io::Result<PollEvented<E>> {
        let registration = Registration::new(&mut io, interest, Handle::current())?;
        Ok(PollEvented {
            io: Some(io),
            registration,
        })
    }

    /// The wrapped source.
    pub(crate) fn get_ref(&self) -> &E {
        self.io
            .as_ref()
            .expect("PollEvented source is present until drop")
    }

    /// See [`Registration::poll_ready`].
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
    ) -> Poll<io::Result<ReadyEvent>> {
        self.registration.poll_ready(cx, direction)
    }

    /// See [`Registration::clear_readiness`].
    pub(crate) fn clear_readiness(&self, event: ReadyEvent) {
        self.registration.clear_readiness(event);
    }

    /// Runs the non-blocking `op` on the source when ready in `direction`,
    /// retrying on `WouldBlock` (see [`Registration::poll_io`]).
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        mut op: impl FnMut(&E) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        let io = self.get_ref();
        self.registration.poll_io(cx, direction, || op(io))
    }

    /// [`poll_io`](Self::poll_io) for a read or write of `len` bytes on a
    /// stream socket, which also clears readiness after a *short* transfer.
    ///
    /// Why: a stream read that returns fewer bytes than asked for has
    /// drained the socket's receive queue, and a short write has filled its
    /// send queue; the next attempt would only fail with `WouldBlock`. Clearing
    /// now saves that syscall — one per request for a server that reads
    /// requests into a larger buffer. It loses nothing: data that arrives
    /// after the transfer raises a new edge, and the clear is ignored if that
    /// edge was already recorded (the tick check in `clear_readiness`).
    ///
    /// Not on Windows ([`SHORT_TRANSFER_CLEARS`]): there mio re-arms a
    /// socket's poll only when an operation fails with `WouldBlock`, so after
    /// a short transfer no new edge would ever come.
    pub(crate) fn poll_stream_io(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        len: usize,
        mut op: impl FnMut(&E) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        let io = self.get_ref();
        self.registration.poll_io_until_drained(
            cx,
            direction,
            || op(io),
            |&n| SHORT_TRANSFER_CLEARS && n > 0 && n < len,
        )
    }

    /// Deregisters and returns the source (for `into_std`).
    pub(crate) fn into_inner(mut self) -> io::Result<E> {
        let mut io = self.io.take().expect("source present");
        self.registration.deregister(&mut io)?;
        Ok(io)
    }
}

impl<E: Source> Drop for PollEvented<E> {
    fn drop(&mut self) {
        if let Some(mut io) = self.io.take() {
            // Fails only if the poller is already gone, which deregisters everything anyway.
            let _ = self.registration.deregister(&mut io);
            drop(io);
        }
    }
}

impl<E: Source + std::fmt::Debug> std::fmt::Debug for PollEvented<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("PollEvented").field(&self.io).finish()
    }
}
