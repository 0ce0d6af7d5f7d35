//! `minirt::io::Compat` (feature `futures-io`) in both directions, on both
//! runtimes: a futures-io-only stream (what futures-rustls hands out) used
//! with minirt's `copy`, `BufReader` and extension traits, and minirt's
//! sockets used through the futures-io traits; shutdown and close map onto
//! each other, and errors pass through unchanged.

use std::future::poll_fn;
use std::io::{self, ErrorKind};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use minirt::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, Compat};
use minirt::net::{TcpListener, TcpStream};
use minirt_tests::{bounded, named_runtimes};

const LIMIT: Duration = Duration::from_secs(60);

/// A reader and writer with only the futures-io traits, returning one byte
/// per read (so every loop above it runs many times) and recording writes.
#[derive(Default)]
struct FuturesOnly {
    input: Vec<u8>,
    written: Arc<Mutex<Vec<u8>>>,
    closed: Arc<Mutex<bool>>,
    fail_reads: bool,
}

impl futures_io::AsyncRead for FuturesOnly {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if self.fail_reads {
            return Poll::Ready(Err(io::Error::new(
                ErrorKind::ConnectionReset,
                "peer reset",
            )));
        }
        if self.input.is_empty() || buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        buf[0] = self.input.remove(0);
        Poll::Ready(Ok(1))
    }
}

impl futures_io::AsyncWrite for FuturesOnly {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        assert!(!*self.closed.lock().unwrap(), "write after close");
        self.written.lock().unwrap().extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        *self.closed.lock().unwrap() = true;
        Poll::Ready(Ok(()))
    }
}

#[test]
fn a_futures_io_stream_works_with_minirts_copy_bufreader_and_ext_traits() {
    bounded(LIMIT, || {
        for (flavour, rt) in named_runtimes() {
            rt.block_on(async {
                let text = b"first line\nsecond line\n".to_vec();
                let sink = FuturesOnly::default();
                let (written, closed) = (sink.written.clone(), sink.closed.clone());
                let mut from = Compat::new(FuturesOnly {
                    input: text.clone(),
                    ..Default::default()
                });
                let mut to = Compat::new(sink);
                let n = minirt::io::copy(&mut from, &mut to).await.unwrap();
                assert_eq!(n, text.len() as u64, "{flavour}");
                to.shutdown().await.unwrap();
                assert_eq!(*written.lock().unwrap(), text, "{flavour}");
                assert!(*closed.lock().unwrap(), "{flavour}: shutdown must close");

                let mut lines = BufReader::new(Compat::new(FuturesOnly {
                    input: text.clone(),
                    ..Default::default()
                }));
                let mut line = String::new();
                lines.read_line(&mut line).await.unwrap();
                assert_eq!(line, "first line\n", "{flavour}");
                let mut rest = Vec::new();
                lines.read_to_end(&mut rest).await.unwrap();
                assert_eq!(rest, b"second line\n", "{flavour}");

                let mut failing = Compat::new(FuturesOnly {
                    fail_reads: true,
                    ..Default::default()
                });
                let err = failing.read(&mut [0; 4]).await.unwrap_err();
                assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{flavour}");
            });
        }
    });
}

/// Reads to the end through the futures-io trait only, as a futures-io
/// library would.
async fn futures_read_to_end(mut reader: impl futures_io::AsyncRead + Unpin) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 3];
    loop {
        let n = poll_fn(|cx| futures_io::AsyncRead::poll_read(Pin::new(&mut reader), cx, &mut buf))
            .await
            .unwrap();
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&buf[..n]);
    }
}

async fn futures_write_and_close(mut writer: impl futures_io::AsyncWrite + Unpin, data: &[u8]) {
    let mut data = data;
    while !data.is_empty() {
        let n = poll_fn(|cx| futures_io::AsyncWrite::poll_write(Pin::new(&mut writer), cx, data))
            .await
            .unwrap();
        data = &data[n..];
    }
    poll_fn(|cx| futures_io::AsyncWrite::poll_close(Pin::new(&mut writer), cx))
        .await
        .unwrap();
}

#[test]
fn minirt_streams_work_through_the_futures_io_traits() {
    bounded(LIMIT, || {
        for (flavour, rt) in named_runtimes() {
            rt.block_on(async {
                // A minirt-only reader (a byte slice) through Compat.
                let got = futures_read_to_end(Compat::new(&b"slice bytes"[..])).await;
                assert_eq!(got, b"slice bytes", "{flavour}");

                // A loopback TCP pair: the client writes and closes through
                // futures-io (close = shutdown: the server reads EOF).
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                let server = minirt::spawn(async move {
                    let (stream, _) = listener.accept().await.unwrap();
                    futures_read_to_end(Compat::new(stream)).await
                });
                let client = TcpStream::connect(addr).await.unwrap();
                futures_write_and_close(Compat::new(client), &[7u8; 100_000]).await;
                assert_eq!(server.await.unwrap(), vec![7u8; 100_000], "{flavour}");
            });
        }
    });
}
