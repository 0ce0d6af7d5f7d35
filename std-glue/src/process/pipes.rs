//! [`ChildStdin`], [`ChildStdout`], [`ChildStderr`]: a child's piped stdio,
//! driven by the reactor.
//!
//! Why: std's pipe ends block, so reading a child's output from async code
//! would hold a worker thread for as long as the child runs. Here each end
//! is switched to non-blocking mode and registered with the reactor (as an
//! [`AsyncFd`]), and reads and writes wait for readiness like a socket's.
//!
//! A write to a child that has closed its stdin (or exited) fails with
//! `BrokenPipe`, provided `SIGPIPE` is ignored, as it is in every Rust
//! program by default (a library embedding minirt in a C program may need
//! to ignore `SIGPIPE` itself, or the write kills the process).

use std::fmt;
use std::fs::File;
use std::io::{self, IoSlice, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::task::{Context, Poll};

use minirt_reactor::io::unix::{AsyncFd, Interest};

use crate::io::{AsyncRead, AsyncWrite};

/// One pipe end, non-blocking and registered with the reactor.
struct Pipe {
    fd: AsyncFd<File>,
}

impl Pipe {
    fn new(fd: OwnedFd, interest: Interest) -> io::Result<Pipe> {
        set_nonblocking(fd.as_raw_fd(), true)?;
        Ok(Pipe {
            fd: AsyncFd::with_interest(File::from(fd), interest)?,
        })
    }

    /// The descriptor, deregistered from the reactor and back in blocking
    /// mode: a process that inherits it as its stdio expects a blocking
    /// pipe (a non-blocking one would fail its reads with `EAGAIN`).
    fn into_owned_fd(self) -> io::Result<OwnedFd> {
        let fd = OwnedFd::from(self.fd.into_inner()?);
        set_nonblocking(fd.as_raw_fd(), false)?;
        Ok(fd)
    }
}

/// Sets or clears `O_NONBLOCK` on `fd`.
fn set_nonblocking(fd: RawFd, on: bool) -> io::Result<()> {
    // SAFETY: `fcntl` on a descriptor we own, with integer arguments only.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    let flags = if on {
        flags | libc::O_NONBLOCK
    } else {
        flags & !libc::O_NONBLOCK
    };
    // SAFETY: as above.
    if unsafe { libc::fcntl(fd, libc::F_SETFL, flags) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The writing end of a child's stdin (when spawned with
/// `stdin(Stdio::piped())`); implements [`AsyncWrite`].
///
/// Dropping it, or [`shutdown`](crate::io::AsyncWriteExt::shutdown), closes
/// the pipe: the child reads end of file. [`Child::wait`](super::Child::wait)
/// closes it first for you, so a child that reads until end of file cannot
/// deadlock the wait.
///
/// ```no_run
/// use minirt::io::AsyncWriteExt;
/// use minirt::process::{Command, Stdio};
///
/// # async fn demo() -> std::io::Result<()> {
/// let mut child = Command::new("wc").arg("-c").stdin(Stdio::piped()).spawn()?;
/// let mut stdin = child.stdin.take().expect("piped");
/// stdin.write_all(b"four").await?;
/// stdin.shutdown().await?; // end of file for `wc`
/// child.wait().await?;
/// # Ok(()) }
/// ```
pub struct ChildStdin {
    /// `None` once shut down.
    pipe: Option<Pipe>,
}

/// The reading end of a child's stdout (when spawned with
/// `stdout(Stdio::piped())`); implements [`AsyncRead`]. A read returns 0
/// (end of file) once the child, and every process it shared the pipe with,
/// has closed its end.
///
/// ```no_run
/// use minirt::io::AsyncReadExt;
/// use minirt::process::{Command, Stdio};
///
/// # async fn demo() -> std::io::Result<()> {
/// let mut child = Command::new("echo").arg("hi").stdout(Stdio::piped()).spawn()?;
/// let mut text = String::new();
/// child.stdout.take().expect("piped").read_to_string(&mut text).await?;
/// assert_eq!(text, "hi\n");
/// child.wait().await?;
/// # Ok(()) }
/// ```
pub struct ChildStdout {
    pipe: Pipe,
}

/// The reading end of a child's stderr; like [`ChildStdout`].
///
/// ```no_run
/// use minirt::io::AsyncReadExt;
/// use minirt::process::{Command, Stdio};
///
/// # async fn demo() -> std::io::Result<()> {
/// let mut child = Command::new("sh").args(["-c", "echo oops >&2"]).stderr(Stdio::piped()).spawn()?;
/// let mut text = String::new();
/// child.stderr.take().expect("piped").read_to_string(&mut text).await?;
/// assert_eq!(text, "oops\n");
/// # Ok(()) }
/// ```
pub struct ChildStderr {
    pipe: Pipe,
}

impl ChildStdin {
    /// Wraps std's pipe end in the current runtime (made non-blocking).
    ///
    /// # Errors
    ///
    /// The OS error from `fcntl` or the poller.
    ///
    /// # Panics
    ///
    /// Outside a minirt runtime.
    ///
    /// ```no_run
    /// # async fn demo() -> std::io::Result<()> {
    /// let mut std_child = std::process::Command::new("cat")
    ///     .stdin(std::process::Stdio::piped())
    ///     .spawn()?;
    /// let stdin = minirt::process::ChildStdin::from_std(std_child.stdin.take().unwrap())?;
    /// # drop(stdin); std_child.wait()?; Ok(()) }
    /// ```
    pub fn from_std(stdin: std::process::ChildStdin) -> io::Result<ChildStdin> {
        Ok(ChildStdin {
            pipe: Some(Pipe::new(stdin.into(), Interest::WRITABLE)?),
        })
    }

    /// Takes the pipe end out of the runtime: deregistered from the reactor
    /// and in blocking mode again, for another process to inherit or for
    /// blocking code. `Stdio::try_from` (and so `.try_into()`) does this,
    /// to feed a child's stdin from elsewhere.
    ///
    /// # Errors
    ///
    /// `BrokenPipe` if it was [shut down](crate::io::AsyncWriteExt::shutdown)
    /// (the pipe is closed); the OS error from the poller or `fcntl`.
    ///
    /// ```no_run
    /// use std::os::fd::OwnedFd;
    /// use minirt::process::{Command, Stdio};
    ///
    /// # async fn demo() -> std::io::Result<()> {
    /// let mut cat = Command::new("cat").stdin(Stdio::piped()).spawn()?;
    /// let fd: OwnedFd = cat.stdin.take().unwrap().into_owned_fd()?;
    /// std::fs::File::from(fd).sync_all().ok(); // a blocking pipe again
    /// # Ok(()) }
    /// ```
    pub fn into_owned_fd(mut self) -> io::Result<OwnedFd> {
        self.pipe
            .take()
            .ok_or_else(stdin_shut_down)?
            .into_owned_fd()
    }

    fn open_pipe(&self) -> io::Result<&Pipe> {
        self.pipe.as_ref().ok_or_else(stdin_shut_down)
    }
}

/// The error of every use of a [`ChildStdin`] after its shutdown.
fn stdin_shut_down() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "the child's stdin was shut down")
}

impl ChildStdout {
    /// Wraps std's pipe end in the current runtime (made non-blocking).
    ///
    /// # Errors and panics
    ///
    /// As [`ChildStdin::from_std`].
    ///
    /// ```no_run
    /// # async fn demo() -> std::io::Result<()> {
    /// let mut std_child = std::process::Command::new("true")
    ///     .stdout(std::process::Stdio::piped())
    ///     .spawn()?;
    /// let stdout = minirt::process::ChildStdout::from_std(std_child.stdout.take().unwrap())?;
    /// # drop(stdout); std_child.wait()?; Ok(()) }
    /// ```
    pub fn from_std(stdout: std::process::ChildStdout) -> io::Result<ChildStdout> {
        Ok(ChildStdout {
            pipe: Pipe::new(stdout.into(), Interest::READABLE)?,
        })
    }
}

impl ChildStderr {
    /// Wraps std's pipe end in the current runtime (made non-blocking).
    ///
    /// # Errors and panics
    ///
    /// As [`ChildStdin::from_std`].
    ///
    /// ```no_run
    /// # async fn demo() -> std::io::Result<()> {
    /// let mut std_child = std::process::Command::new("true")
    ///     .stderr(std::process::Stdio::piped())
    ///     .spawn()?;
    /// let stderr = minirt::process::ChildStderr::from_std(std_child.stderr.take().unwrap())?;
    /// # drop(stderr); std_child.wait()?; Ok(()) }
    /// ```
    pub fn from_std(stderr: std::process::ChildStderr) -> io::Result<ChildStderr> {
        Ok(ChildStderr {
            pipe: Pipe::new(stderr.into(), Interest::READABLE)?,
        })
    }
}

/// The pipe end as another child's stdout or stderr (see
/// [`into_owned_fd`](ChildStdin::into_owned_fd)): what a second child
/// writes there, the first reads.
///
/// ```
/// use minirt::process::{Command, Stdio};
///
/// # fn main() -> std::io::Result<()> {
/// minirt::block_on(async {
///     let mut cat = Command::new("cat").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn()?;
///     let pipe: Stdio = cat.stdin.take().unwrap().try_into()?;
///     Command::new("echo").arg("fed").stdout(pipe).status().await?;
///     let out = cat.wait_with_output().await?;
///     assert_eq!(out.stdout, b"fed\n");
///     Ok(())
/// })
/// # }
/// ```
impl TryFrom<ChildStdin> for std::process::Stdio {
    type Error = io::Error;

    fn try_from(stdin: ChildStdin) -> io::Result<std::process::Stdio> {
        stdin.into_owned_fd().map(std::process::Stdio::from)
    }
}

impl AsyncWrite for ChildStdin {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.open_pipe() {
            Ok(pipe) => pipe.fd.poll_write_io(cx, |mut f| f.write(buf)),
            Err(err) => Poll::Ready(Err(err)),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.open_pipe() {
            Ok(pipe) => pipe.fd.poll_write_io(cx, |mut f| f.write_vectored(bufs)),
            Err(err) => Poll::Ready(Err(err)),
        }
    }

    /// Pipes have no buffer of ours to flush.
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Closes the pipe (the child reads end of file); later writes fail
    /// with `BrokenPipe`. Shutting down twice is fine.
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().pipe = None;
        Poll::Ready(Ok(()))
    }
}

macro_rules! impl_reader {
    ($ty:ident) => {
        impl AsyncRead for $ty {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                self.pipe.fd.poll_read_io(cx, |mut f| f.read(buf))
            }
        }

        impl $ty {
            /// Takes the pipe end out of the runtime: deregistered from the
            /// reactor and in blocking mode again, for another process to
            /// inherit or for blocking code. `Stdio::try_from` (and so
            /// `.try_into()`) does this, to pipe one child into another.
            ///
            /// # Errors
            ///
            /// The OS error from the poller or `fcntl`.
            ///
            /// ```no_run
            /// use std::io::Read;
            /// use std::os::fd::OwnedFd;
            /// use minirt::process::{Command, Stdio};
            ///
            /// # async fn demo() -> std::io::Result<()> {
            /// let mut echo = Command::new("echo").arg("hi").stdout(Stdio::piped()).spawn()?;
            /// let fd: OwnedFd = echo.stdout.take().unwrap().into_owned_fd()?;
            /// let mut text = String::new();
            /// std::fs::File::from(fd).read_to_string(&mut text)?; // blocks
            /// assert_eq!(text, "hi\n");
            /// # Ok(()) }
            /// ```
            pub fn into_owned_fd(self) -> io::Result<OwnedFd> {
                self.pipe.into_owned_fd()
            }
        }

        /// The pipe end as another child's stdio (see
        /// [`into_owned_fd`]($ty::into_owned_fd)): how one child's output
        /// feeds the next, as in a shell pipeline.
        ///
        /// ```
        /// use minirt::process::{Command, Stdio};
        ///
        /// # fn main() -> std::io::Result<()> {
        /// minirt::block_on(async {
        ///     let mut echo = Command::new("echo").arg("hi").stdout(Stdio::piped()).spawn()?;
        ///     let pipe: Stdio = echo.stdout.take().unwrap().try_into()?;
        ///     let upper = Command::new("tr").args(["a-z", "A-Z"]).stdin(pipe).output().await?;
        ///     assert_eq!(upper.stdout, b"HI\n");
        ///     assert!(echo.wait().await?.success());
        ///     Ok(())
        /// })
        /// # }
        /// ```
        impl TryFrom<$ty> for std::process::Stdio {
            type Error = io::Error;

            fn try_from(pipe: $ty) -> io::Result<std::process::Stdio> {
                pipe.into_owned_fd().map(std::process::Stdio::from)
            }
        }

        impl AsRawFd for $ty {
            fn as_raw_fd(&self) -> RawFd {
                self.pipe.fd.as_raw_fd()
            }
        }

        impl AsFd for $ty {
            fn as_fd(&self) -> BorrowedFd<'_> {
                self.pipe.fd.as_fd()
            }
        }

        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($ty))
                    .field("fd", &self.pipe.fd.as_raw_fd())
                    .finish()
            }
        }
    };
}

impl_reader!(ChildStdout);
impl_reader!(ChildStderr);

impl fmt::Debug for ChildStdin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildStdin")
            .field("fd", &self.pipe.as_ref().map(|p| p.fd.as_raw_fd()))
            .finish()
    }
}
