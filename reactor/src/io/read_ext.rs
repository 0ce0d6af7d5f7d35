//! `.await`-able reading methods for every [`AsyncRead`].

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use super::{AsyncRead, ReadBuf};

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

    /// Reads some bytes into `buf`'s spare capacity (reserving 64 bytes
    /// first if it has none, as tokio's `read_buf` on a `Vec` does) and
    /// appends them; resolves to how many (0 = end of file).
    ///
    /// Through [`AsyncRead::poll_read_buf`], so a socket reads straight into
    /// the uninitialized capacity: a large `Vec::with_capacity` is never zeroed.
    ///
    /// Cancel safety: safe; if dropped before completing, nothing was read.
    ///
    /// ```
    /// use minirt_reactor::io::AsyncReadExt;
    /// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
    /// #     let mut f = std::pin::pin!(f);
    /// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
    /// # }
    /// block_on(async {
    ///     let mut input: &[u8] = b"abc";
    ///     let mut buf = Vec::with_capacity(1024);
    ///     assert_eq!(input.read_buf(&mut buf).await?, 3);
    ///     assert_eq!(buf, b"abc");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    fn read_buf<'a>(&'a mut self, buf: &'a mut Vec<u8>) -> ReadBufVec<'a, Self>
    where
        Self: Unpin,
    {
        ReadBufVec { reader: self, buf }
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

/// Future of [`AsyncReadExt::read_buf`].
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct ReadBufVec<'a, R: ?Sized> {
    reader: &'a mut R,
    buf: &'a mut Vec<u8>,
}

/// What `read_buf` reserves in a full `Vec` (tokio's figure).
const READ_BUF_MIN_SPARE: usize = 64;

impl<R: AsyncRead + Unpin + ?Sized> Future for ReadBufVec<'_, R> {
    type Output = io::Result<usize>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if this.buf.capacity() == this.buf.len() {
            this.buf.reserve(READ_BUF_MIN_SPARE);
        }
        poll_read_spare(&mut *this.reader, this.buf, usize::MAX, cx)
    }
}

/// Reads into at most `window` bytes of `buf`'s spare capacity through
/// `poll_read_buf`, appending what was read.
///
/// # Panics
///
/// If the reader's `poll_read_buf` swapped the `ReadBuf` for one over other
/// memory (exposing the spare capacity uninitialized would be unsound).
fn poll_read_spare<R: AsyncRead + Unpin + ?Sized>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    window: usize,
    cx: &mut Context<'_>,
) -> Poll<io::Result<usize>> {
    let len = buf.len();
    let spare = buf.spare_capacity_mut();
    let window = spare.len().min(window);
    let mut read_buf = ReadBuf::uninit(&mut spare[..window]);
    let start = read_buf.filled().as_ptr();
    ready!(Pin::new(reader).poll_read_buf(cx, &mut read_buf))?;
    assert_eq!(
        read_buf.filled().as_ptr(),
        start,
        "poll_read_buf replaced the ReadBuf it was given"
    );
    let n = read_buf.filled().len();
    // SAFETY: the `ReadBuf` is still the one over `buf`'s spare capacity
    // (checked above), and its first `n` bytes are filled, so initialized.
    unsafe { buf.set_len(len + n) };
    Poll::Ready(Ok(n))
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
        if buf.capacity() - buf.len() < READ_TO_END_CHUNK {
            buf.reserve(READ_TO_END_CHUNK);
        }
        // Through `poll_read_buf`: a socket reads into the spare capacity
        // without zeroing it. The window is capped so a reader that keeps
        // the zeroing default does not zero a large capacity on every read.
        let n = ready!(poll_read_spare(
            &mut *reader,
            buf,
            READ_TO_END_MAX_WINDOW,
            cx
        ))?;
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
