//! The I/O traits as libraries use them: `poll_read_buf` into uninitialized
//! memory, its zeroing default, `is_write_vectored`, and `poll_shutdown` of
//! a stream whose peer already closed. On both runtimes.

use std::future::poll_fn;
use std::io;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use minirt::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader, ReadBuf};
use minirt::net::{TcpListener, TcpStream};
use minirt_tests::{bounded, runtimes};

/// A connected pair on loopback: (client, server side).
async fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (client, accepted) = minirt::join!(TcpStream::connect(addr), listener.accept());
    (client.unwrap(), accepted.unwrap().0)
}

#[test]
fn socket_reads_into_uninitialized_memory_without_zeroing() {
    bounded(Duration::from_secs(60), || {
        for rt in runtimes() {
            rt.block_on(async {
                let (mut client, mut server) = pair().await;
                server.write_all(b"hello").await.unwrap();
                let mut storage = [MaybeUninit::<u8>::uninit(); 4096];
                let mut buf = ReadBuf::uninit(&mut storage);
                while buf.filled().len() < 5 {
                    poll_fn(|cx| Pin::new(&mut client).poll_read_buf(cx, &mut buf))
                        .await
                        .unwrap();
                }
                assert_eq!(buf.filled(), b"hello");
                // The default would have zeroed all 4096 bytes.
                assert_eq!(buf.initialized().len(), 5);

                // The split halves take the same path.
                let (mut read, _write) = client.split();
                server.write_all(b"!").await.unwrap();
                poll_fn(|cx| Pin::new(&mut read).poll_read_buf(cx, &mut buf))
                    .await
                    .unwrap();
                assert_eq!(buf.filled(), b"hello!");
                assert_eq!(buf.initialized().len(), 6);
            });
        }
    });
}

#[test]
fn read_buf_appends_into_a_vec_spare_capacity() {
    bounded(Duration::from_secs(60), || {
        for rt in runtimes() {
            rt.block_on(async {
                let (mut client, mut server) = pair().await;
                server.write_all(b"abc").await.unwrap();
                drop(server);
                let mut out = b"x".to_vec();
                let mut total = 0;
                loop {
                    let n = client.read_buf(&mut out).await.unwrap();
                    if n == 0 {
                        break;
                    }
                    total += n;
                }
                assert_eq!(total, 3);
                assert_eq!(out, b"xabc");
            });
        }
    });
}

/// A reader that only implements `poll_read`: writes one `7` per call and
/// records whether the slice it was given was zeroed.
struct OneSeven {
    saw_nonzero: bool,
}

impl AsyncRead for OneSeven {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if buf.iter().any(|&b| b != 0) {
            self.saw_nonzero = true;
        }
        buf[0] = 7;
        Poll::Ready(Ok(1))
    }
}

#[test]
fn default_poll_read_buf_zeroes_once_and_fills_what_poll_read_reports() {
    let mut storage = [MaybeUninit::new(0xAAu8); 8];
    let mut buf = ReadBuf::uninit(&mut storage);
    let mut reader = OneSeven { saw_nonzero: false };
    let mut cx = Context::from_waker(std::task::Waker::noop());
    for _ in 0..3 {
        let poll = Pin::new(&mut reader).poll_read_buf(&mut cx, &mut buf);
        assert!(matches!(poll, Poll::Ready(Ok(()))));
    }
    assert_eq!(buf.filled(), &[7, 7, 7]);
    assert_eq!(buf.initialized().len(), 8);
    assert!(
        !reader.saw_nonzero,
        "the default handed poll_read unzeroed memory"
    );
}

/// Reports reading more than it was given: a bug the default must catch.
struct Liar;

impl AsyncRead for Liar {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(buf.len() + 1))
    }
}

#[test]
#[should_panic(expected = "a reader reported more bytes than it wrote")]
fn default_poll_read_buf_panics_on_a_reader_that_overreports() {
    let mut storage = [0u8; 4];
    let mut buf = ReadBuf::new(&mut storage);
    let mut cx = Context::from_waker(std::task::Waker::noop());
    let _ = Pin::new(&mut Liar).poll_read_buf(&mut cx, &mut buf);
}

/// A writer with only the required methods.
struct Plain;

impl AsyncWrite for Plain {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[test]
fn write_vectored_flag_is_true_for_sockets_and_forwarded_by_wrappers() {
    bounded(Duration::from_secs(60), || {
        for rt in runtimes() {
            rt.block_on(async {
                let (mut client, server) = pair().await;
                assert!(client.is_write_vectored());
                {
                    let (_read, write) = client.split();
                    assert!(write.is_write_vectored());
                }
                assert!(AsyncWrite::is_write_vectored(&&mut client));
                let boxed: Box<TcpStream> = Box::new(server);
                assert!(boxed.is_write_vectored());
                assert!(BufReader::new(boxed).is_write_vectored());
                let (_read, write) = client.into_split();
                assert!(write.is_write_vectored());
            });
        }
    });
    assert!(!Plain.is_write_vectored());
    assert!(!Box::new(Plain).is_write_vectored());
}

#[test]
fn shutdown_after_the_peer_closed_is_ok() {
    bounded(Duration::from_secs(60), || {
        for rt in runtimes() {
            rt.block_on(async {
                let (mut client, server) = pair().await;
                drop(server);
                let mut rest = Vec::new();
                client.read_to_end(&mut rest).await.unwrap();
                client.shutdown().await.unwrap();
            });
        }
    });
}

/// A peer that resets the connection (`SO_LINGER` 0): `shutdown(2)` then
/// fails with `ENOTCONN`, which `poll_shutdown` reports as success.
#[cfg(unix)]
#[test]
fn shutdown_after_the_peer_reset_is_ok() {
    use std::os::fd::AsRawFd;
    bounded(Duration::from_secs(60), || {
        for rt in runtimes() {
            rt.block_on(async {
                let (mut client, server) = pair().await;
                let linger = libc::linger {
                    l_onoff: 1,
                    l_linger: 0,
                };
                // SAFETY: a valid option struct of the right size for an open socket.
                let rc = unsafe {
                    libc::setsockopt(
                        server.as_raw_fd(),
                        libc::SOL_SOCKET,
                        libc::SO_LINGER,
                        (&linger as *const libc::linger).cast(),
                        std::mem::size_of::<libc::linger>() as libc::socklen_t,
                    )
                };
                assert_eq!(rc, 0);
                drop(server);
                let mut rest = Vec::new();
                let err = client.read_to_end(&mut rest).await.unwrap_err();
                assert_eq!(err.kind(), io::ErrorKind::ConnectionReset);
                client.shutdown().await.unwrap();
            });
        }
    });
}
