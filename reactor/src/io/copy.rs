//! [`copy`]: move every byte from a reader to a writer.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use super::{AsyncRead, AsyncWrite};

/// Size of the buffer one `copy` allocates.
const COPY_BUFFER_SIZE: usize = 8 * 1024;

/// Copies everything from `reader` to `writer` until the reader reaches end of
/// file, then flushes the writer. Resolves to the number of bytes copied.
///
/// Allocates one 8 KiB buffer. The writer is not shut down; call
/// [`shutdown`](super::AsyncWriteExt::shutdown) to half-close a socket after.
///
/// ```
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let mut f = std::pin::pin!(f);
/// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
/// # }
/// block_on(async {
///     let mut reader: &[u8] = b"copied";
///     let mut writer = Vec::new();
///     let n = minirt_reactor::io::copy(&mut reader, &mut writer).await?;
///     assert_eq!((n, &writer[..]), (6, &b"copied"[..]));
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn copy<'a, R, W>(reader: &'a mut R, writer: &'a mut W) -> Copy<'a, R, W>
where
    R: AsyncRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    Copy {
        reader,
        writer,
        buf: vec![0; COPY_BUFFER_SIZE].into_boxed_slice(),
        start: 0,
        end: 0,
        total: 0,
        reader_done: false,
    }
}

/// Future of [`copy`].
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct Copy<'a, R: ?Sized, W: ?Sized> {
    reader: &'a mut R,
    writer: &'a mut W,
    buf: Box<[u8]>,
    /// `buf[start..end]` has been read but not yet written.
    start: usize,
    end: usize,
    /// Bytes written so far.
    total: u64,
    /// The reader returned end of file.
    reader_done: bool,
}

impl<R, W> Future for Copy<'_, R, W>
where
    R: AsyncRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    type Output = io::Result<u64>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        loop {
            if this.start == this.end && !this.reader_done {
                let n = ready!(Pin::new(&mut *this.reader).poll_read(cx, &mut this.buf))?;
                this.start = 0;
                this.end = n;
                this.reader_done = n == 0;
            }
            while this.start < this.end {
                let n = ready!(
                    Pin::new(&mut *this.writer).poll_write(cx, &this.buf[this.start..this.end])
                )?;
                if n == 0 {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::WriteZero,
                        "copy: the writer accepted 0 bytes",
                    )));
                }
                this.start += n;
                this.total += n as u64;
            }
            if this.reader_done {
                ready!(Pin::new(&mut *this.writer).poll_flush(cx))?;
                return Poll::Ready(Ok(this.total));
            }
        }
    }
}
