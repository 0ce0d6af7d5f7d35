//! Splitting a stream into a read half and a write half.
//!
//! Why: a protocol often reads in one place and writes in another — two
//! branches of one task (`split`, borrowed halves) or two tasks (`into_split`,
//! owned halves sharing the stream through an `Arc`). This is sound because
//! the reactor keeps one waker slot per direction: the reader's waker and the
//! writer's waker never overwrite each other.
//!
//! The halves are generic over the stream type and implemented for
//! [`TcpStream`](super::TcpStream) and (on Unix) `UnixStream`.

use std::error::Error;
use std::fmt;
use std::sync::Arc;

/// The reading half of a stream borrowed by `split`; implements `AsyncRead`.
#[derive(Debug)]
pub struct ReadHalf<'a, S> {
    pub(super) stream: &'a S,
}

/// The writing half of a stream borrowed by `split`; implements `AsyncWrite`.
///
/// `shutdown` half-closes the whole stream's write side.
#[derive(Debug)]
pub struct WriteHalf<'a, S> {
    pub(super) stream: &'a S,
}

/// The reading half of a stream split by `into_split`; can move to another task.
#[derive(Debug)]
pub struct OwnedReadHalf<S> {
    pub(super) stream: Arc<S>,
}

/// The writing half of a stream split by `into_split`; can move to another task.
///
/// The connection closes when both halves are dropped. Dropping only this half
/// does not half-close it: call `shutdown().await` for that.
#[derive(Debug)]
pub struct OwnedWriteHalf<S> {
    pub(super) stream: Arc<S>,
}

impl<S> AsRef<S> for ReadHalf<'_, S> {
    fn as_ref(&self) -> &S {
        self.stream
    }
}

impl<S> AsRef<S> for WriteHalf<'_, S> {
    fn as_ref(&self) -> &S {
        self.stream
    }
}

impl<S> AsRef<S> for OwnedReadHalf<S> {
    fn as_ref(&self) -> &S {
        &self.stream
    }
}

impl<S> AsRef<S> for OwnedWriteHalf<S> {
    fn as_ref(&self) -> &S {
        &self.stream
    }
}

impl<S> OwnedReadHalf<S> {
    /// Puts the two halves of one `into_split` back together.
    ///
    /// # Errors
    ///
    /// [`ReuniteError`] (holding both halves) if they come from different streams.
    pub fn reunite(self, other: OwnedWriteHalf<S>) -> Result<S, ReuniteError<S>> {
        reunite(self, other)
    }
}

impl<S> OwnedWriteHalf<S> {
    /// Puts the two halves of one `into_split` back together.
    ///
    /// # Errors
    ///
    /// [`ReuniteError`] (holding both halves) if they come from different streams.
    pub fn reunite(self, other: OwnedReadHalf<S>) -> Result<S, ReuniteError<S>> {
        reunite(other, self)
    }
}

fn reunite<S>(read: OwnedReadHalf<S>, write: OwnedWriteHalf<S>) -> Result<S, ReuniteError<S>> {
    if !Arc::ptr_eq(&read.stream, &write.stream) {
        return Err(ReuniteError(read, write));
    }
    drop(write);
    match Arc::try_unwrap(read.stream) {
        Ok(stream) => Ok(stream),
        Err(_) => unreachable!("exactly two owned halves share the stream"),
    }
}

/// The halves given to `reunite` came from different streams; both are returned.
pub struct ReuniteError<S>(pub OwnedReadHalf<S>, pub OwnedWriteHalf<S>);

impl<S> fmt::Debug for ReuniteError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReuniteError").finish_non_exhaustive()
    }
}

impl<S> fmt::Display for ReuniteError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tried to reunite halves that are not from the same stream")
    }
}

impl<S> Error for ReuniteError<S> {}

/// Implements `AsyncRead`/`AsyncWrite`, `split` and `into_split` for a stream
/// type that has `poll_read_ref`, `poll_write_ref`, `poll_write_vectored_ref`
/// and `shutdown_write` taking `&self`.
macro_rules! impl_stream {
    ($stream:ident) => {
        impl $stream {
            pub(crate) fn poll_read_ref(
                &self,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                use std::io::Read as _;
                let len = buf.len();
                self.io.poll_stream_io(cx, $crate::driver::ready::Direction::Read, len, |mut s| s.read(buf))
            }

            /// Reads into possibly uninitialized memory; on `Ready(Ok(n))`
            /// the first `n` bytes of `buf` are initialized.
            pub(crate) fn poll_read_uninit_ref(
                &self,
                cx: &mut std::task::Context<'_>,
                buf: &mut [std::mem::MaybeUninit<u8>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                let len = buf.len();
                self.io.poll_stream_io(cx, $crate::driver::ready::Direction::Read, len, |s| {
                    $crate::net::uninit_read::read_uninit(s, &mut *buf)
                })
            }

            pub(crate) fn poll_read_buf_ref(
                &self,
                cx: &mut std::task::Context<'_>,
                buf: &mut $crate::io::ReadBuf<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                // SAFETY: `read_uninit` only writes initialized bytes.
                let unfilled = unsafe { buf.unfilled_mut() };
                let n = std::task::ready!(self.poll_read_uninit_ref(cx, unfilled))?;
                // SAFETY: `poll_read_uninit_ref` initialized the first `n` bytes.
                unsafe { buf.assume_init(n) };
                buf.advance(n);
                std::task::Poll::Ready(Ok(()))
            }

            pub(crate) fn poll_write_ref(
                &self,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                use std::io::Write as _;
                self.io.poll_stream_io(cx, $crate::driver::ready::Direction::Write, buf.len(), |mut s| s.write(buf))
            }

            pub(crate) fn poll_write_vectored_ref(
                &self,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                use std::io::Write as _;
                // Not `poll_stream_io`: a vectored write can also stop short
                // at the platform's slice limit with room left in the socket.
                self.io.poll_io(cx, $crate::driver::ready::Direction::Write, |mut s| s.write_vectored(bufs))
            }

            /// Half-closes the write side. A peer that already closed the
            /// connection makes `shutdown(2)` fail with `NotConnected` (on
            /// some platforms); as in tokio that is success: nothing more
            /// can reach the peer either way, and callers such as hyper
            /// would otherwise log an error for every keep-alive connection
            /// the client closed first.
            pub(crate) fn shutdown_write(&self) -> std::io::Result<()> {
                match self.io.get_ref().shutdown(std::net::Shutdown::Write) {
                    Err(err) if err.kind() == std::io::ErrorKind::NotConnected => Ok(()),
                    other => other,
                }
            }

            /// Splits the stream into borrowed read and write halves, usable
            /// concurrently within one task (e.g. reading while writing).
            pub fn split(&mut self) -> ($crate::net::ReadHalf<'_, $stream>, $crate::net::WriteHalf<'_, $stream>) {
                (
                    $crate::net::ReadHalf { stream: &*self },
                    $crate::net::WriteHalf { stream: &*self },
                )
            }

            /// Splits the stream into owned halves that can move to different
            /// tasks; [`reunite`]($crate::net::OwnedReadHalf::reunite) undoes it.
            pub fn into_split(self) -> ($crate::net::OwnedReadHalf<$stream>, $crate::net::OwnedWriteHalf<$stream>) {
                let stream = std::sync::Arc::new(self);
                (
                    $crate::net::OwnedReadHalf { stream: stream.clone() },
                    $crate::net::OwnedWriteHalf { stream },
                )
            }
        }

        $crate::net::split::impl_stream!(@read $stream, $stream, |s| &*s);
        $crate::net::split::impl_stream!(@write $stream, $stream, |s| &*s);
        $crate::net::split::impl_stream!(@read $stream, $crate::net::ReadHalf<'_, $stream>, |s| s.stream);
        $crate::net::split::impl_stream!(@write $stream, $crate::net::WriteHalf<'_, $stream>, |s| s.stream);
        $crate::net::split::impl_stream!(@read $stream, $crate::net::OwnedReadHalf<$stream>, |s| &*s.stream);
        $crate::net::split::impl_stream!(@write $stream, $crate::net::OwnedWriteHalf<$stream>, |s| &*s.stream);
    };
    (@read $stream:ident, $ty:ty, |$s:ident| $get:expr) => {
        impl $crate::io::AsyncRead for $ty {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                let $s = self.get_mut();
                let stream: &$stream = $get;
                stream.poll_read_ref(cx, buf)
            }
            /// Reads straight into the unfilled memory (`recv(2)` on Unix):
            /// no zeroing, and `initialized` grows only by what was read.
            fn poll_read_buf(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut $crate::io::ReadBuf<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                let $s = self.get_mut();
                let stream: &$stream = $get;
                stream.poll_read_buf_ref(cx, buf)
            }
        }
    };
    (@write $stream:ident, $ty:ty, |$s:ident| $get:expr) => {
        impl $crate::io::AsyncWrite for $ty {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                let $s = self.get_mut();
                let stream: &$stream = $get;
                stream.poll_write_ref(cx, buf)
            }
            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                let $s = self.get_mut();
                let stream: &$stream = $get;
                stream.poll_write_vectored_ref(cx, bufs)
            }
            /// `true`: vectored writes are one `writev(2)` (`WSASend` on Windows).
            fn is_write_vectored(&self) -> bool {
                true
            }
            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                // Sockets have no user-space buffer: written bytes are already in the kernel.
                std::task::Poll::Ready(Ok(()))
            }
            fn poll_shutdown(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                let $s = self.get_mut();
                let stream: &$stream = $get;
                std::task::Poll::Ready(stream.shutdown_write())
            }
        }
    };
}
pub(crate) use impl_stream;
