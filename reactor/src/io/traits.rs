//! The poll-level traits and their impls for std types and pointers.

use std::io::{self, IoSlice};
use std::ops::DerefMut;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use super::ReadBuf;

/// Reads bytes asynchronously.
///
/// Like [`std::io::Read`], but instead of blocking, `poll_read` returns
/// `Poll::Pending` and arranges for the task to be woken when it can make
/// progress. `Ok(0)` means end of file (or an empty `buf`).
///
/// Most users call the methods of [`AsyncReadExt`](super::AsyncReadExt) instead.
///
/// Implementors write only `poll_read`. Readers that can fill uninitialized
/// memory (sockets) also override [`poll_read_buf`](AsyncRead::poll_read_buf),
/// which callers with big reusable buffers (hyper, `read_buf`) use to skip
/// zeroing; see [`ReadBuf`] for why there are two methods.
///
/// ```
/// use std::pin::Pin;
/// use std::task::{Context, Poll};
/// use minirt_reactor::io::AsyncRead;
///
/// /// An endless stream of `b'z'`.
/// struct Zs;
///
/// impl AsyncRead for Zs {
///     fn poll_read(self: Pin<&mut Self>, _cx: &mut Context<'_>, buf: &mut [u8])
///         -> Poll<std::io::Result<usize>> {
///         buf.fill(b'z');
///         Poll::Ready(Ok(buf.len()))
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not implement minirt's `AsyncRead`",
    note = "a type with only `futures_io::AsyncRead` (a futures-rustls TLS stream, say) works through `minirt::io::Compat::new(..)`, which needs minirt's `futures-io` feature"
)]
pub trait AsyncRead {
    /// Attempts to read into `buf`, returning how many bytes were read.
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>>;

    /// Attempts to read into the unfilled part of `buf`, advancing its
    /// filled part by the bytes read (none: end of file, or no room).
    ///
    /// The default zeroes the not-yet-initialized part of the unfilled
    /// memory (once: `buf` remembers it) and calls
    /// [`poll_read`](AsyncRead::poll_read). minirt's sockets and split
    /// halves override it to read straight into uninitialized memory, so
    /// for them [`ReadBuf::initialized`] grows only by what was read.
    ///
    /// # Panics
    ///
    /// The default panics if `poll_read` reports more bytes than it was given.
    ///
    /// ```
    /// use std::mem::MaybeUninit;
    /// use std::pin::Pin;
    /// use std::task::{Context, Poll, Waker};
    /// use minirt_reactor::io::{AsyncRead, ReadBuf};
    ///
    /// let mut input: &[u8] = b"hello";
    /// let mut storage = [MaybeUninit::uninit(); 16];
    /// let mut buf = ReadBuf::uninit(&mut storage);
    /// let mut cx = Context::from_waker(Waker::noop());
    /// let poll = Pin::new(&mut input).poll_read_buf(&mut cx, &mut buf);
    /// assert!(matches!(poll, Poll::Ready(Ok(()))));
    /// assert_eq!(buf.filled(), b"hello");
    /// ```
    fn poll_read_buf(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let n = ready!(self.poll_read(cx, buf.initialize_unfilled()))?;
        buf.advance(n);
        Poll::Ready(Ok(()))
    }
}

/// Writes bytes asynchronously.
///
/// Like [`std::io::Write`], but returns `Poll::Pending` instead of blocking.
/// Most users call the methods of [`AsyncWriteExt`](super::AsyncWriteExt).
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not implement minirt's `AsyncWrite`",
    note = "a type with only `futures_io::AsyncWrite` (a futures-rustls TLS stream, say) works through `minirt::io::Compat::new(..)`, which needs minirt's `futures-io` feature"
)]
pub trait AsyncWrite {
    /// Attempts to write from `buf`, returning how many bytes were written.
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>>;

    /// Attempts to flush buffered data to its destination.
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>>;

    /// Flushes and shuts down the writing side; for sockets, sends end-of-file
    /// to the peer (TCP half-close) while reading stays possible.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>>;

    /// Whether [`poll_write_vectored`](AsyncWrite::poll_write_vectored)
    /// really writes several buffers at once (e.g. with `writev`). The
    /// default, `false`, tells callers such as hyper to flatten their buffers
    /// first instead of writing them one at a time.
    ///
    /// ```
    /// use minirt_reactor::io::AsyncWrite;
    /// assert!(Vec::<u8>::new().is_write_vectored());
    /// ```
    fn is_write_vectored(&self) -> bool {
        false
    }

    /// Like `poll_write`, from several buffers. The default writes the first
    /// non-empty buffer.
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let buf = bufs
            .iter()
            .find(|b| !b.is_empty())
            .map_or(&[][..], |b| &**b);
        self.poll_write(cx, buf)
    }
}

/// A reader with an internal buffer, allowing line-oriented reads.
///
/// See [`AsyncBufReadExt`](super::AsyncBufReadExt) for `read_line` and
/// [`BufReader`](super::BufReader) to add a buffer to any reader.
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not implement minirt's `AsyncBufRead`",
    note = "a type with only `futures_io::AsyncBufRead` (a futures-rustls TLS stream, say) works through `minirt::io::Compat::new(..)`, which needs minirt's `futures-io` feature"
)]
pub trait AsyncBufRead: AsyncRead {
    /// Returns the buffered data, filling the buffer from the inner reader if
    /// it is empty. An empty slice means end of file.
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>>;

    /// Marks `amt` bytes of the buffer as consumed.
    fn consume(self: Pin<&mut Self>, amt: usize);
}

macro_rules! deref_async_read {
    () => {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            Pin::new(&mut **self).poll_read(cx, buf)
        }
        fn poll_read_buf(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            Pin::new(&mut **self).poll_read_buf(cx, buf)
        }
    };
}

macro_rules! deref_async_write {
    () => {
        fn poll_write(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            Pin::new(&mut **self).poll_write(cx, buf)
        }
        fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut **self).poll_flush(cx)
        }
        fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut **self).poll_shutdown(cx)
        }
        fn poll_write_vectored(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            bufs: &[IoSlice<'_>],
        ) -> Poll<io::Result<usize>> {
            Pin::new(&mut **self).poll_write_vectored(cx, bufs)
        }
        fn is_write_vectored(&self) -> bool {
            (**self).is_write_vectored()
        }
    };
}

impl<T: AsyncRead + Unpin + ?Sized> AsyncRead for &mut T {
    deref_async_read!();
}

impl<T: AsyncRead + Unpin + ?Sized> AsyncRead for Box<T> {
    deref_async_read!();
}

impl<T: AsyncWrite + Unpin + ?Sized> AsyncWrite for &mut T {
    deref_async_write!();
}

impl<T: AsyncWrite + Unpin + ?Sized> AsyncWrite for Box<T> {
    deref_async_write!();
}

impl<P> AsyncRead for Pin<P>
where
    P: DerefMut + Unpin,
    P::Target: AsyncRead,
{
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().as_mut().poll_read(cx, buf)
    }
    fn poll_read_buf(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.get_mut().as_mut().poll_read_buf(cx, buf)
    }
}

impl<P> AsyncWrite for Pin<P>
where
    P: DerefMut + Unpin,
    P::Target: AsyncWrite,
{
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().as_mut().poll_write(cx, buf)
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().as_mut().poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().as_mut().poll_shutdown(cx)
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().as_mut().poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        (**self).is_write_vectored()
    }
}

impl<T: AsyncBufRead + Unpin + ?Sized> AsyncBufRead for &mut T {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        Pin::new(&mut **self.get_mut()).poll_fill_buf(cx)
    }
    fn consume(mut self: Pin<&mut Self>, amt: usize) {
        Pin::new(&mut **self).consume(amt);
    }
}

/// Reading from a byte slice consumes it from the front; never pending.
impl AsyncRead for &[u8] {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(io::Read::read(&mut *self, buf))
    }
    /// Copies straight into the unfilled memory: no zeroing.
    fn poll_read_buf(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let n = self.len().min(buf.remaining());
        buf.put_slice(&self[..n]);
        *self = &self[n..];
        Poll::Ready(Ok(()))
    }
}

impl AsyncBufRead for &[u8] {
    fn poll_fill_buf(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        Poll::Ready(Ok(*self.get_mut()))
    }
    fn consume(mut self: Pin<&mut Self>, amt: usize) {
        *self = &self[amt..];
    }
}

/// Writing to a vector appends; never pending.
impl AsyncWrite for Vec<u8> {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(io::Write::write_vectored(self.get_mut(), bufs))
    }
    fn is_write_vectored(&self) -> bool {
        true
    }
}

/// Reads from the cursor's position; never pending.
impl<T: AsRef<[u8]> + Unpin> AsyncRead for io::Cursor<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(io::Read::read(self.get_mut(), buf))
    }
    /// Copies straight into the unfilled memory: no zeroing.
    fn poll_read_buf(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let cursor = self.get_mut();
        let data = cursor.get_ref().as_ref();
        let start = usize::try_from(cursor.position()).map_or(data.len(), |p| p.min(data.len()));
        let n = (data.len() - start).min(buf.remaining());
        buf.put_slice(&data[start..start + n]);
        cursor.set_position((start + n) as u64);
        Poll::Ready(Ok(()))
    }
}

impl<T: AsRef<[u8]> + Unpin> AsyncBufRead for io::Cursor<T> {
    fn poll_fill_buf(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        Poll::Ready(io::BufRead::fill_buf(self.get_mut()))
    }
    fn consume(self: Pin<&mut Self>, amt: usize) {
        io::BufRead::consume(self.get_mut(), amt);
    }
}

/// Writes at the cursor's position (whatever `std::io::Write` does for it); never pending.
impl<T> AsyncWrite for io::Cursor<T>
where
    io::Cursor<T>: io::Write + Unpin,
{
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(io::Write::write(self.get_mut(), buf))
    }
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(io::Write::flush(self.get_mut()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}
