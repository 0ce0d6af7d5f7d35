//! The AsyncRead/AsyncWrite traits, extension futures, copy and BufReader,
//! over in-memory types and a reader that is pending half of the time.

mod common;

use std::io::{self, Cursor, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};

use common::block_on;
use minirt_reactor::io::{
    copy, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader,
};

/// Yields `data` one byte per ready poll, returning `Pending` (after waking
/// itself) in between, so every future's resume path is exercised.
struct Trickle {
    data: Vec<u8>,
    pos: usize,
    pending_next: bool,
}

impl Trickle {
    fn new(data: &[u8]) -> Trickle {
        Trickle {
            data: data.to_vec(),
            pos: 0,
            pending_next: true,
        }
    }
}

impl AsyncRead for Trickle {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if self.pending_next {
            self.pending_next = false;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.pending_next = true;
        if self.pos == self.data.len() || buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        buf[0] = self.data[self.pos];
        self.pos += 1;
        Poll::Ready(Ok(1))
    }
}

/// Accepts at most 3 bytes per write, pending every other call.
#[derive(Default)]
struct SlowWriter {
    written: Vec<u8>,
    pending_next: bool,
    flushed: bool,
    shut_down: bool,
}

impl AsyncWrite for SlowWriter {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.pending_next = !self.pending_next;
        if self.pending_next {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let n = buf.len().min(3);
        self.written.extend_from_slice(&buf[..n]);
        Poll::Ready(Ok(n))
    }
    fn poll_flush(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.flushed = true;
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.shut_down = true;
        Poll::Ready(Ok(()))
    }
}

#[test]
fn read_exact_across_pending_and_eof_error() {
    block_on(async {
        let mut reader = Trickle::new(b"abcdef");
        let mut buf = [0u8; 4];
        reader.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"abcd");
        let err = reader.read_exact(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    });
}

#[test]
fn read_to_end_and_read_to_string() {
    block_on(async {
        let mut out = b"prefix:".to_vec();
        let n = Trickle::new(b"body").read_to_end(&mut out).await.unwrap();
        assert_eq!((n, &out[..]), (4, &b"prefix:body"[..]));

        let mut text = String::from(">");
        Trickle::new("héllo".as_bytes())
            .read_to_string(&mut text)
            .await
            .unwrap();
        assert_eq!(text, ">héllo");

        let mut unchanged = String::from("keep");
        let err = Trickle::new(&[0xff, 0xfe])
            .read_to_string(&mut unchanged)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert_eq!(unchanged, "keep");
    });
}

#[test]
fn write_all_flush_shutdown_on_a_slow_writer() {
    block_on(async {
        let mut writer = SlowWriter::default();
        writer.write_all(b"0123456789").await.unwrap();
        writer.flush().await.unwrap();
        writer.shutdown().await.unwrap();
        assert_eq!(writer.written, b"0123456789");
        assert!(writer.flushed && writer.shut_down);
    });
}

#[test]
fn copy_moves_everything_and_flushes() {
    block_on(async {
        let data = common::pattern(20_000, 9);
        let mut reader = Trickle::new(&data[..100]);
        let mut writer = SlowWriter::default();
        assert_eq!(copy(&mut reader, &mut writer).await.unwrap(), 100);
        assert_eq!(writer.written, &data[..100]);
        assert!(writer.flushed);

        let mut slice: &[u8] = &data;
        let mut sink = Vec::new();
        assert_eq!(
            copy(&mut slice, &mut sink).await.unwrap(),
            data.len() as u64
        );
        assert!(sink == data);
    });
}

#[test]
fn buf_reader_lines_over_a_trickling_reader() {
    block_on(async {
        let mut reader = BufReader::with_capacity(4, Trickle::new(b"one\ntwo\n\nlast"));
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).await.unwrap() == 0 {
                break;
            }
            lines.push(line);
        }
        assert_eq!(lines, ["one\n", "two\n", "\n", "last"]);
    });
}

#[test]
fn read_until_and_buffered_plain_reads() {
    block_on(async {
        let mut reader = BufReader::new(&b"a,b,c"[..]);
        let mut field = Vec::new();
        assert_eq!(reader.read_until(b',', &mut field).await.unwrap(), 2);
        assert_eq!(field, b"a,");
        let mut rest = [0u8; 8];
        let n = reader.read(&mut rest).await.unwrap();
        assert_eq!(&rest[..n], b"b,c");
        assert!(reader.buffer().is_empty());
    });
}

#[test]
fn cursor_pointer_and_box_impls() {
    block_on(async {
        let mut cursor = Cursor::new(vec![0u8; 0]);
        cursor.write_all(b"cursor").await.unwrap();
        cursor.set_position(0);
        let mut back = String::new();
        cursor.read_to_string(&mut back).await.unwrap();
        assert_eq!(back, "cursor");

        let mut boxed: Box<dyn AsyncRead + Unpin> = Box::new(&b"boxed"[..]);
        let mut buf = [0u8; 5];
        boxed.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"boxed");

        let mut pinned = Box::pin(Vec::new());
        pinned.write_all(b"pinned").await.unwrap();
        assert_eq!(&**pinned, b"pinned");

        let mut target = Vec::new();
        let by_ref = &mut target;
        let n = Pin::new(by_ref)
            .poll_write_vectored(
                &mut Context::from_waker(std::task::Waker::noop()),
                &[IoSlice::new(b"ab"), IoSlice::new(b"cd")],
            )
            .map(Result::unwrap);
        assert_eq!(n, Poll::Ready(4));
        assert_eq!(target, b"abcd");
    });
}
