//! [`ChildStdin`], [`ChildStdout`], [`ChildStderr`] on Windows: a child's
//! piped stdio, read and written on the blocking pool.
//!
//! Why the pool: the anonymous pipes std creates for a child cannot do
//! overlapped I/O, so the reactor cannot wait for them; each pipe end is a
//! [`crate::fs::File`] instead, whose reads and writes are blocking jobs
//! (tokio does the same on Windows). A read takes whatever the child has
//! written, up to 64 KiB, in one job. A write is sent on at once — the job
//! starts before `poll_write` returns, so a child that answers line by line
//! gets each line without a `flush` — and the next write waits for it; its
//! error (`BrokenPipe` once the child has closed its stdin or exited) comes
//! back from the next write, flush or shutdown.

use std::fmt;
use std::fs::File as StdFile;
use std::io;
use std::os::windows::io::{AsHandle, AsRawHandle, BorrowedHandle, OwnedHandle, RawHandle};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use crate::fs::File;
use crate::io::{AsyncRead, AsyncWrite};

/// The writing end of a child's stdin (when spawned with
/// `stdin(Stdio::piped())`); implements [`AsyncWrite`].
///
/// Dropping it, or [`shutdown`](crate::io::AsyncWriteExt::shutdown), closes
/// the pipe once what was written has gone through: the child reads end of
/// file. [`Child::wait`](super::Child::wait) closes it first for you.
pub struct ChildStdin {
    /// `None` once shut down.
    file: Option<File>,
}

/// The reading end of a child's stdout (when spawned with
/// `stdout(Stdio::piped())`); implements [`AsyncRead`]. A read returns 0
/// (end of file) once the child, and every process it shared the pipe with,
/// has closed its end.
pub struct ChildStdout {
    file: File,
}

/// The reading end of a child's stderr; like [`ChildStdout`].
pub struct ChildStderr {
    file: File,
}

/// A pipe end as a blocking-pool file.
fn pipe_file(handle: OwnedHandle) -> File {
    File::from_std(StdFile::from(handle))
}

/// The handle back out of `file`, if no job of it is in flight.
fn into_owned_handle(file: File) -> io::Result<OwnedHandle> {
    file.try_into_std().map(OwnedHandle::from).map_err(|_| {
        io::Error::new(
            io::ErrorKind::WouldBlock,
            "a read or write of this pipe is still in flight; finish it first",
        )
    })
}

impl ChildStdin {
    /// Wraps std's pipe end for the current runtime's blocking pool.
    ///
    /// # Errors
    ///
    /// None on Windows; a `Result` to match the Unix signature.
    pub fn from_std(stdin: std::process::ChildStdin) -> io::Result<ChildStdin> {
        Ok(ChildStdin {
            file: Some(pipe_file(stdin.into())),
        })
    }

    /// Takes the pipe end out of the runtime, for another process to
    /// inherit or for blocking code. `Stdio::try_from` (and so
    /// `.try_into()`) does this.
    ///
    /// # Errors
    ///
    /// `BrokenPipe` if it was shut down; `WouldBlock` if a write is still
    /// in flight (flush first).
    pub fn into_owned_handle(mut self) -> io::Result<OwnedHandle> {
        into_owned_handle(self.file.take().ok_or_else(stdin_shut_down)?)
    }

    fn file(&mut self) -> io::Result<Pin<&mut File>> {
        self.file.as_mut().map(Pin::new).ok_or_else(stdin_shut_down)
    }
}

/// The error of every use of a [`ChildStdin`] after its shutdown.
fn stdin_shut_down() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "the child's stdin was shut down")
}

/// The pipe end as another child's stdout or stderr (see
/// [`into_owned_handle`](ChildStdin::into_owned_handle)).
impl TryFrom<ChildStdin> for std::process::Stdio {
    type Error = io::Error;

    fn try_from(stdin: ChildStdin) -> io::Result<std::process::Stdio> {
        stdin.into_owned_handle().map(std::process::Stdio::from)
    }
}

impl AsyncWrite for ChildStdin {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let mut file = match this.file() {
            Ok(file) => file,
            Err(err) => return Poll::Ready(Err(err)),
        };
        // One write in flight at a time; its error is this write's.
        ready!(file.as_mut().poll_flush(cx))?;
        let written = ready!(file.as_mut().poll_write(cx, buf))?;
        // Send it on now (the job runs on; `Pending` is the usual answer).
        if let Poll::Ready(Err(err)) = file.poll_flush(cx) {
            return Poll::Ready(Err(err));
        }
        Poll::Ready(Ok(written))
    }

    /// Waits until everything written has gone into the pipe.
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut().file() {
            Ok(file) => file.poll_flush(cx),
            Err(err) => Poll::Ready(Err(err)),
        }
    }

    /// Writes what is left, then closes the pipe (the child reads end of
    /// file); later writes fail with `BrokenPipe`. Shutting down twice is
    /// fine.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let Some(file) = this.file.as_mut() else {
            return Poll::Ready(Ok(()));
        };
        let flushed = ready!(Pin::new(file).poll_flush(cx));
        this.file = None;
        Poll::Ready(flushed)
    }
}

impl fmt::Debug for ChildStdin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildStdin")
            .field("open", &self.file.is_some())
            .finish()
    }
}

macro_rules! impl_reader {
    ($ty:ident, $from:ty) => {
        impl $ty {
            /// Wraps std's pipe end for the current runtime's blocking pool.
            ///
            /// # Errors
            ///
            /// None on Windows; a `Result` to match the Unix signature.
            pub fn from_std(pipe: $from) -> io::Result<$ty> {
                Ok($ty {
                    file: pipe_file(pipe.into()),
                })
            }

            /// Takes the pipe end out of the runtime, for another process
            /// to inherit or for blocking code. `Stdio::try_from` (and so
            /// `.try_into()`) does this, to pipe one child into another.
            ///
            /// # Errors
            ///
            /// `WouldBlock` if a read is still in flight, or bytes already
            /// read from the pipe wait in this end's buffer.
            pub fn into_owned_handle(self) -> io::Result<OwnedHandle> {
                into_owned_handle(self.file)
            }
        }

        /// The pipe end as another child's stdio (see
        /// [`into_owned_handle`]($ty::into_owned_handle)).
        impl TryFrom<$ty> for std::process::Stdio {
            type Error = io::Error;

            fn try_from(pipe: $ty) -> io::Result<std::process::Stdio> {
                pipe.into_owned_handle().map(std::process::Stdio::from)
            }
        }

        impl AsyncRead for $ty {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                Pin::new(&mut self.get_mut().file).poll_read(cx, buf)
            }
        }

        impl AsRawHandle for $ty {
            fn as_raw_handle(&self) -> RawHandle {
                self.file.std_file().as_raw_handle()
            }
        }

        impl AsHandle for $ty {
            fn as_handle(&self) -> BorrowedHandle<'_> {
                self.file.std_file().as_handle()
            }
        }

        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($ty))
                    .field("handle", &self.as_raw_handle())
                    .finish()
            }
        }
    };
}

impl_reader!(ChildStdout, std::process::ChildStdout);
impl_reader!(ChildStderr, std::process::ChildStderr);
