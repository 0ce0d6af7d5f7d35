//! [`Io`]: hyper's I/O traits for any minirt stream.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use crate::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Wraps any `T: AsyncRead + AsyncWrite` (a TLS stream, a split half, a
/// custom transport) so it implements `hyper::rt::Read`/`Write`. minirt's
/// own `TcpStream` and `UnixStream` need no wrapper.
///
/// Reads go through [`AsyncRead::poll_read_buf`]: a `T` that overrides it
/// fills hyper's buffer without zeroing it.
///
/// ```no_run
/// # async fn f() -> std::io::Result<()> {
/// let (read, _write) = minirt::net::TcpStream::connect("127.0.0.1:80").await?.into_split();
/// let _io = minirt::hyper::Io::new(read);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Io<T> {
    inner: T,
}

impl<T> Io<T> {
    /// Wraps `inner`.
    ///
    /// ```
    /// let io = minirt::hyper::Io::new(Vec::<u8>::new());
    /// assert!(io.get_ref().is_empty());
    /// ```
    pub fn new(inner: T) -> Io<T> {
        Io { inner }
    }

    /// The wrapped stream.
    ///
    /// ```
    /// let io = minirt::hyper::Io::new(5);
    /// assert_eq!(*io.get_ref(), 5);
    /// ```
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// The wrapped stream, mutably.
    ///
    /// ```
    /// let mut io = minirt::hyper::Io::new(5);
    /// *io.get_mut() = 6;
    /// assert_eq!(io.into_inner(), 6);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Unwraps the stream.
    ///
    /// ```
    /// assert_eq!(minirt::hyper::Io::new(5).into_inner(), 5);
    /// ```
    pub fn into_inner(self) -> T {
        self.inner
    }

    fn inner(self: Pin<&mut Self>) -> Pin<&mut T> {
        // SAFETY: structural pinning of `inner`: `Io` has no `Drop`, is
        // `Unpin` only when `T` is, and never moves `inner` out of a pin.
        unsafe { self.map_unchecked_mut(|io| &mut io.inner) }
    }
}

impl<T: AsyncRead> hyper::rt::Read for Io<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut cursor: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        // SAFETY: a `ReadBuf` never writes uninitialized bytes.
        let mut buf = ReadBuf::uninit(unsafe { cursor.as_mut() });
        let start = buf.filled().as_ptr();
        ready!(self.inner().poll_read_buf(cx, &mut buf))?;
        assert_eq!(
            buf.filled().as_ptr(),
            start,
            "poll_read_buf replaced the ReadBuf it was given"
        );
        let n = buf.filled().len();
        // SAFETY: the first `n` bytes of the cursor's memory are filled,
        // hence initialized (same memory: checked above).
        unsafe { cursor.advance(n) };
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite> hyper::rt::Write for Io<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.inner().poll_write(cx, buf)
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.inner().poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.inner().poll_shutdown(cx)
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.inner().poll_write_vectored(cx, bufs)
    }
}
