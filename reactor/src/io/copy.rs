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
/// Whenever the reader has nothing more for now (its read is `Pending`),
/// what was written since the last flush is flushed first, as tokio's
/// `copy` does: a writer that buffers (a TLS stream keeps the encrypted
/// bytes the socket did not take yet, a `BufWriter` its buffer) then
/// never holds the last reply of a conversation while `copy` waits for
/// the next request.
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
        need_flush: false,
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
    /// Something was written since the last flush.
    need_flush: bool,
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
                let n = match Pin::new(&mut *this.reader).poll_read(cx, &mut this.buf) {
                    Poll::Ready(read) => read?,
                    Poll::Pending => {
                        // Nothing to read for now: push out what the writer
                        // may still hold before waiting.
                        if this.need_flush {
                            ready!(Pin::new(&mut *this.writer).poll_flush(cx))?;
                            this.need_flush = false;
                        }
                        return Poll::Pending;
                    }
                };
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
                this.need_flush = true;
            }
            if this.reader_done {
                ready!(Pin::new(&mut *this.writer).poll_flush(cx))?;
                return Poll::Ready(Ok(this.total));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hands out `data` once, then is `Pending` forever.
    struct ThenPending(&'static [u8]);

    impl AsyncRead for ThenPending {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            if self.0.is_empty() {
                return Poll::Pending;
            }
            let n = self.0.len().min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Poll::Ready(Ok(n))
        }
    }

    /// Keeps what is written until flushed (a TLS stream or a `BufWriter`).
    #[derive(Default)]
    struct Buffering {
        held: Vec<u8>,
        flushed: Vec<u8>,
        flushes: usize,
    }

    impl AsyncWrite for Buffering {
        fn poll_write(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.held.extend_from_slice(buf);
            Poll::Ready(Ok(buf.len()))
        }
        fn poll_flush(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            let held = std::mem::take(&mut self.held);
            self.flushed.extend_from_slice(&held);
            self.flushes += 1;
            Poll::Ready(Ok(()))
        }
        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    #[test]
    fn a_pending_reader_flushes_what_was_written_once() {
        let mut reader = ThenPending(b"last reply");
        let mut writer = Buffering::default();
        let mut cx = Context::from_waker(std::task::Waker::noop());
        {
            let mut copy = copy(&mut reader, &mut writer);
            assert!(Pin::new(&mut copy).poll(&mut cx).is_pending());
            // Polled again with nothing new: no second flush.
            assert!(Pin::new(&mut copy).poll(&mut cx).is_pending());
        }
        assert_eq!(writer.flushed, b"last reply");
        assert!(writer.held.is_empty());
        assert_eq!(writer.flushes, 1);
    }
}
