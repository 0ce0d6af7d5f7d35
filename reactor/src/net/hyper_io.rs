//! `hyper::rt::Read` and `hyper::rt::Write` for the stream sockets (feature
//! `hyper`), so `hyper::server::conn::http1::Builder::serve_connection` and
//! `hyper::client::conn::http1::handshake` take a minirt stream directly.
//!
//! Implemented here rather than in a wrapper because of the orphan rule:
//! only the crate defining `TcpStream` may implement hyper's traits for it.
//! Reads go through the same uninitialized-memory primitive as
//! `AsyncRead::poll_read_buf`, so hyper's read buffer is never zeroed.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use crate::io::AsyncWrite;

macro_rules! impl_hyper_io {
    ($ty:ty) => {
        impl hyper::rt::Read for $ty {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                mut buf: hyper::rt::ReadBufCursor<'_>,
            ) -> Poll<io::Result<()>> {
                // SAFETY: `read_uninit` writes only initialized bytes.
                let unfilled = unsafe { buf.as_mut() };
                let n = ready!(self.get_mut().poll_read_uninit_ref(cx, unfilled))?;
                // SAFETY: `poll_read_uninit_ref` initialized the first `n` bytes.
                unsafe { buf.advance(n) };
                Poll::Ready(Ok(()))
            }
        }

        impl hyper::rt::Write for $ty {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                AsyncWrite::poll_write(self, cx, buf)
            }
            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                AsyncWrite::poll_flush(self, cx)
            }
            fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                AsyncWrite::poll_shutdown(self, cx)
            }
            fn is_write_vectored(&self) -> bool {
                true
            }
            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[io::IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                AsyncWrite::poll_write_vectored(self, cx, bufs)
            }
        }
    };
}

impl_hyper_io!(super::TcpStream);
#[cfg(unix)]
impl_hyper_io!(super::UnixStream);
