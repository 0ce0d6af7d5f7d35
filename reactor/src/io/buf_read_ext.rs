//! `.await`-able line reading for every [`AsyncBufRead`].

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use super::AsyncBufRead;

/// Extension methods for [`AsyncBufRead`]: `read_until` and `read_line`.
///
/// Cancel safety: bytes read by a dropped `read_line`/`read_until` future are
/// kept in `buf` for `read_until`, but lost for `read_line` (they are only
/// appended once a whole line is validated as UTF-8).
pub trait AsyncBufReadExt: AsyncBufRead {
    /// Reads until `delimiter` (included) or end of file, appending to `buf`.
    /// Resolves to the number of bytes read; 0 means end of file.
    fn read_until<'a>(&'a mut self, delimiter: u8, buf: &'a mut Vec<u8>) -> ReadUntil<'a, Self>
    where
        Self: Unpin,
    {
        ReadUntil {
            reader: self,
            delimiter,
            buf,
            read: 0,
        }
    }

    /// Reads one line (through `\n`, included) or up to end of file, appending
    /// it to `buf`. Resolves to the number of bytes read; 0 means end of file.
    /// Invalid UTF-8 gives `InvalidData` and leaves `buf` unchanged.
    fn read_line<'a>(&'a mut self, buf: &'a mut String) -> ReadLine<'a, Self>
    where
        Self: Unpin,
    {
        ReadLine {
            reader: self,
            buf,
            bytes: Vec::new(),
        }
    }
}

impl<R: AsyncBufRead + ?Sized> AsyncBufReadExt for R {}

/// Moves bytes from `reader`'s buffer into `out` until `delimiter` (included)
/// or end of file. Progress is kept in `out` across `Pending`.
fn poll_read_until<R: AsyncBufRead + Unpin + ?Sized>(
    reader: &mut R,
    cx: &mut Context<'_>,
    delimiter: u8,
    out: &mut Vec<u8>,
) -> Poll<io::Result<()>> {
    loop {
        let available = ready!(Pin::new(&mut *reader).poll_fill_buf(cx))?;
        let (done, used) = match available.iter().position(|&b| b == delimiter) {
            Some(i) => (true, i + 1),
            None => (available.is_empty(), available.len()),
        };
        out.extend_from_slice(&available[..used]);
        Pin::new(&mut *reader).consume(used);
        if done {
            return Poll::Ready(Ok(()));
        }
    }
}

/// Future of [`AsyncBufReadExt::read_until`].
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct ReadUntil<'a, R: ?Sized> {
    reader: &'a mut R,
    delimiter: u8,
    buf: &'a mut Vec<u8>,
    /// Bytes this call has appended to `buf` so far.
    read: usize,
}

impl<R: AsyncBufRead + Unpin + ?Sized> Future for ReadUntil<'_, R> {
    type Output = io::Result<usize>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let before = this.buf.len();
        let result = poll_read_until(this.reader, cx, this.delimiter, this.buf);
        this.read += this.buf.len() - before;
        ready!(result)?;
        Poll::Ready(Ok(this.read))
    }
}

/// Future of [`AsyncBufReadExt::read_line`].
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct ReadLine<'a, R: ?Sized> {
    reader: &'a mut R,
    buf: &'a mut String,
    /// The line so far; validated as UTF-8 once complete.
    bytes: Vec<u8>,
}

impl<R: AsyncBufRead + Unpin + ?Sized> Future for ReadLine<'_, R> {
    type Output = io::Result<usize>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        ready!(poll_read_until(this.reader, cx, b'\n', &mut this.bytes))?;
        let line = std::str::from_utf8(&this.bytes).map_err(|err| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("read_line: line is not valid UTF-8 ({err})"),
            )
        })?;
        this.buf.push_str(line);
        Poll::Ready(Ok(this.bytes.len()))
    }
}
