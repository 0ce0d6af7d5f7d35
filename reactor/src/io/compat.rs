//! [`Compat`]: one wrapper that bridges minirt's I/O traits and the
//! `futures-io` traits in both directions (feature `futures-io`).
//!
//! Why: much of the ecosystem (futures-rustls, async-tungstenite, many
//! codecs) speaks `futures_io::{AsyncRead, AsyncWrite, AsyncBufRead}`, while
//! minirt's `copy`, [`BufReader`](super::BufReader) and extension traits
//! speak minirt's. Wrapping a value in `Compat` gives it whichever set it
//! lacks:
//!
//! - `Compat<T>` where `T` implements the **`futures-io`** traits implements
//!   **minirt's** (so `minirt::io::copy` works on a TLS stream);
//! - `Compat<T>` where `T` implements **minirt's** traits implements the
//!   **`futures-io`** ones (so a futures-io library accepts any minirt
//!   reader or writer; minirt's sockets implement them directly as well).
//!
//! `poll_shutdown` and `poll_close` map onto each other. Reads into a
//! [`ReadBuf`](super::ReadBuf) through a futures-io reader zero the unfilled
//! part once, as `futures-io` has no uninitialized read.

use std::io::{self, IoSlice, IoSliceMut};
use std::pin::Pin;
use std::task::{Context, Poll};

use super::{AsyncBufRead, AsyncRead, AsyncWrite};

/// Bridges minirt's I/O traits and the `futures-io` traits, both ways.
///
/// - Around a type with the **`futures-io`** traits (a futures-rustls TLS
///   stream, say), `Compat` implements **minirt's** `AsyncRead`, `AsyncWrite`
///   and `AsyncBufRead`, so `minirt::io::copy`, `BufReader` and the extension
///   traits work on it.
/// - Around a type with **minirt's** traits, it implements the
///   **`futures-io`** ones, for libraries that take those.
///
/// `poll_shutdown` and `poll_close` map onto each other; errors pass through
/// unchanged. A minirt read into a `ReadBuf` through a futures-io reader
/// zeroes the unfilled part once (futures-io has no uninitialized read).
///
/// ```
/// use minirt_reactor::io::{AsyncReadExt, Compat};
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let mut f = std::pin::pin!(f);
/// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
/// # }
///
/// // A type with only the futures-io traits (standing in for a TLS stream),
/// // read with minirt's extension methods:
/// struct FuturesOnly(&'static [u8]);
/// impl futures_io::AsyncRead for FuturesOnly {
///     fn poll_read(
///         mut self: std::pin::Pin<&mut Self>,
///         _: &mut std::task::Context<'_>,
///         buf: &mut [u8],
///     ) -> std::task::Poll<std::io::Result<usize>> {
///         let n = buf.len().min(self.0.len());
///         buf[..n].copy_from_slice(&self.0[..n]);
///         self.0 = &self.0[n..];
///         std::task::Poll::Ready(Ok(n))
///     }
/// }
/// let mut text = String::new();
/// block_on(Compat::new(FuturesOnly(b"hello")).read_to_string(&mut text))?;
/// assert_eq!(text, "hello");
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Compat<T> {
    inner: T,
}

impl<T> Compat<T> {
    /// Wraps `inner`.
    pub fn new(inner: T) -> Compat<T> {
        Compat { inner }
    }

    /// The wrapped value.
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// The wrapped value, mutably.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Unwraps the value.
    pub fn into_inner(self) -> T {
        self.inner
    }

    fn project(self: Pin<&mut Self>) -> Pin<&mut T> {
        // SAFETY: `inner` is pinned structurally: `Compat` never moves it out
        // of a pinned `Compat` (no method takes it by value from a `Pin`),
        // has no `Drop` impl, and is `Unpin` exactly when `T` is (the auto
        // trait), so a pinned `Compat<T>` keeps its `T` pinned.
        unsafe { self.map_unchecked_mut(|compat| &mut compat.inner) }
    }
}

// futures-io → minirt

impl<T: futures_io::AsyncRead> AsyncRead for Compat<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        futures_io::AsyncRead::poll_read(self.project(), cx, buf)
    }
}

impl<T: futures_io::AsyncWrite> AsyncWrite for Compat<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        futures_io::AsyncWrite::poll_write(self.project(), cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        futures_io::AsyncWrite::poll_flush(self.project(), cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        futures_io::AsyncWrite::poll_close(self.project(), cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        futures_io::AsyncWrite::poll_write_vectored(self.project(), cx, bufs)
    }
}

impl<T: futures_io::AsyncBufRead> AsyncBufRead for Compat<T> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        futures_io::AsyncBufRead::poll_fill_buf(self.project(), cx)
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        futures_io::AsyncBufRead::consume(self.project(), amt)
    }
}

// minirt → futures-io
//
// The impls below are on `Compat<T>` for `T` with minirt's traits; a type
// with both sets (minirt's sockets) then has both through `Compat` too, and
// the calls stay unambiguous because each impl names its trait.

impl<T: AsyncRead> futures_io::AsyncRead for Compat<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        AsyncRead::poll_read(self.project(), cx, buf)
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        // minirt's readers have no vectored read: fill the first non-empty
        // buffer, as `std::io::Read::read_vectored`'s default does.
        let buf = bufs
            .iter_mut()
            .find(|b| !b.is_empty())
            .map_or(&mut [][..], |b| &mut **b);
        AsyncRead::poll_read(self.project(), cx, buf)
    }
}

impl<T: AsyncWrite> futures_io::AsyncWrite for Compat<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        AsyncWrite::poll_write(self.project(), cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        AsyncWrite::poll_write_vectored(self.project(), cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        AsyncWrite::poll_flush(self.project(), cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        AsyncWrite::poll_shutdown(self.project(), cx)
    }
}

impl<T: AsyncBufRead> futures_io::AsyncBufRead for Compat<T> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        AsyncBufRead::poll_fill_buf(self.project(), cx)
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        AsyncBufRead::consume(self.project(), amt)
    }
}
