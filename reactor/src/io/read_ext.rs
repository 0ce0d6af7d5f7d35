//! `.await`-able reading methods for every [`AsyncRead`].

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use super::AsyncRead;

/// Extension methods for [`AsyncRead`]: `read`, `read_exact`, `read_to_end`,
/// `read_to_string`. Each returns a named future type; nothing is boxed.
///
/// ```
/// use minirt_reactor::io::AsyncReadExt;
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let mut f = std::pin::pin!(f);
/// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
/// # }
/// block_on(async {
///     let mut input: &[u8] = b"abcdef";
///     let mut head = [0u8; 2];
///     input.read_exact(&mut head).await?;
///     assert_eq!(&head, b"ab");
///     let mut rest = Vec::new();
///     assert_eq!(input.read_to_end(&mut rest).await?, 4);
///     assert_eq!(rest, b"cdef");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub trait AsyncReadExt: AsyncRead {
    /// Reads some bytes into `buf`; resolves to how many (0 = end of file).
    fn read<'a>(&'a mut self, buf: &'a mut [u8]) -> Read<'a, Self>
    where
        Self: Unpin,
    {
        Read { reader: self, buf }
    }

    /// Reads exactly `buf.len()` bytes; end of file first is `UnexpectedEof`.
    ///
    /// Cancel safety: if dropped early, some bytes may have been read into `buf`.
    fn read_exact<'a>(&'a mut self, buf: &'a mut [u8]) -> ReadExact<'a, Self>
    where
        Self: Unpin,
    {
        ReadExact {
            reader: self,
            buf,
            filled: 0,
        }
    }

    /// Reads until end of file, appending to `buf`; resolves to the number of bytes read.
    fn read_to_end<'a>(&'a mut self, buf: &'a mut Vec<u8>) -> ReadToEnd<'a, Self>
    where
        Self: Unpin,
    {
        let start_len = buf.len();
        ReadToEnd {
            reader: self,
            buf,
            start_len,
        }
    }

    /// Reads until end of file, appending UTF-8 text to `buf`.
    ///
    /// Invalid UTF-8 gives `InvalidData` and leaves `buf` unchanged.
    fn read_to_string<'a>(&'a mut self, buf: &'a mut String) -> ReadToString<'a, Self>
    where
        Self: Unpin,
    {
        ReadToString {
            reader: self,
            buf,
            bytes: Vec::new(),
        }
    }
}

impl<R: AsyncRead + ?Sized> AsyncReadExt for R {}

/// Future of [`AsyncReadExt::read`].
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct Read<'a, R: ?Sized> {
    reader: &'a mut R,
    buf: &'a mut [u8],
}

impl<R: AsyncRead + Unpin + ?Sized> Future for Read<'_, R> {
    type Output = io::Result<usize>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        Pin::new(&mut *this.reader).poll_read(cx, this.buf)
    }
}

/// Future of [`AsyncReadExt::read_exact`].
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct ReadExact<'a, R: ?Sized> {
    reader: &'a mut R,
    buf: &'a mut [u8],
    filled: usize,
}

impl<R: AsyncRead + Unpin + ?Sized> Future for ReadExact<'_, R> {
    type Output = io::Result<usize>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        while this.filled < this.buf.len() {
            let n =
                ready!(Pin::new(&mut *this.reader).poll_read(cx, &mut this.buf[this.filled..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!(
                        "end of file after {} of {} bytes in read_exact",
                        this.filled,
                        this.buf.len()
                    ),
                )));
            }
            this.filled += n;
        }
        Poll::Ready(Ok(this.filled))
    }
}

/// Size of the spare capacity `read_to_end` makes before each read.
const READ_TO_END_CHUNK: usize = 8 * 1024;

/// Largest slice handed to one `poll_read` by `read_to_end`.
const READ_TO_END_MAX_WINDOW: usize = 64 * 1024;

/// Reads into `buf`'s spare capacity until end of file (shared by the
/// `read_to_end` and `read_to_string` futures).
fn poll_read_to_end<R: AsyncRead + Unpin + ?Sized>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    cx: &mut Context<'_>,
) -> Poll<io::Result<()>> {
    loop {
        let len = buf.len();
        if buf.capacity() - len < READ_TO_END_CHUNK {
            buf.reserve(READ_TO_END_CHUNK);
        }
        // Zero-filled rather than uninitialised: no unsafe. The window is capped so a
        // large spare capacity is not re-zeroed on every read.
        let window = (buf.capacity() - len).min(READ_TO_END_MAX_WINDOW);
        buf.resize(len + window, 0);
        let result = Pin::new(&mut *reader).poll_read(cx, &mut buf[len..]);
        let n = match result {
            Poll::Ready(Ok(n)) => n,
            Poll::Ready(Err(err)) => {
                buf.truncate(len);
                return Poll::Ready(Err(err));
            }
            Poll::Pending => {
                buf.truncate(len);
                return Poll::Pending;
            }
        };
        buf.truncate(len + n);
        if n == 0 {
            return Poll::Ready(Ok(()));
        }
    }
}

/// Future of [`AsyncReadExt::read_to_end`].
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct ReadToEnd<'a, R: ?Sized> {
    reader: &'a mut R,
    buf: &'a mut Vec<u8>,
    start_len: usize,
}

impl<R: AsyncRead + Unpin + ?Sized> Future for ReadToEnd<'_, R> {
    type Output = io::Result<usize>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        ready!(poll_read_to_end(this.reader, this.buf, cx))?;
        Poll::Ready(Ok(this.buf.len() - this.start_len))
    }
}

/// Future of [`AsyncReadExt::read_to_string`].
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct ReadToString<'a, R: ?Sized> {
    reader: &'a mut R,
    buf: &'a mut String,
    /// Bytes read so far; validated as UTF-8 at end of file.
    bytes: Vec<u8>,
}

impl<R: AsyncRead + Unpin + ?Sized> Future for ReadToString<'_, R> {
    type Output = io::Result<usize>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        ready!(poll_read_to_end(this.reader, &mut this.bytes, cx))?;
        let text = std::str::from_utf8(&this.bytes).map_err(|err| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("read_to_string: stream is not valid UTF-8 ({err})"),
            )
        })?;
        this.buf.push_str(text);
        Poll::Ready(Ok(this.bytes.len()))
    }
}
