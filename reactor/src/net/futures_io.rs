//! `futures-io` interop (feature `futures-io`): the socket types and their
//! owned/borrowed halves implement `futures_io::{AsyncRead, AsyncWrite}` by
//! delegating to minirt's own traits.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::io::{AsyncRead, AsyncWrite};

#[cfg(unix)]
use super::UnixStream;
use super::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, TcpStream, WriteHalf};

macro_rules! futures_read {
    ($($ty:ty),*) => {$(
        impl futures_io::AsyncRead for $ty {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                AsyncRead::poll_read(self, cx, buf)
            }
        }
    )*};
}

macro_rules! futures_write {
    ($($ty:ty),*) => {$(
        impl futures_io::AsyncWrite for $ty {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                AsyncWrite::poll_write(self, cx, buf)
            }
            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                AsyncWrite::poll_write_vectored(self, cx, bufs)
            }
            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                AsyncWrite::poll_flush(self, cx)
            }
            /// `futures-io`'s close is minirt's shutdown: the write side is half-closed.
            fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                AsyncWrite::poll_shutdown(self, cx)
            }
        }
    )*};
}

futures_read!(TcpStream, ReadHalf<'_, TcpStream>, OwnedReadHalf<TcpStream>);
futures_write!(
    TcpStream,
    WriteHalf<'_, TcpStream>,
    OwnedWriteHalf<TcpStream>
);

#[cfg(unix)]
futures_read!(
    UnixStream,
    ReadHalf<'_, UnixStream>,
    OwnedReadHalf<UnixStream>
);
#[cfg(unix)]
futures_write!(
    UnixStream,
    WriteHalf<'_, UnixStream>,
    OwnedWriteHalf<UnixStream>
);
