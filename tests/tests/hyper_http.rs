//! hyper 1.x over minirt (feature `hyper`): HTTP/1 and HTTP/2 between a
//! hyper server and client on minirt TCP, on both runtimes, and a hyper
//! timeout that fires in virtual time on the mock clock.

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use minirt::hyper::{Executor, Timer};
use minirt::io::{AsyncReadExt, AsyncWriteExt};
use minirt::net::{TcpListener, TcpStream};
use minirt_tests::{bounded, mock_runtimes, runtimes};

/// Answers `hello <path>`.
async fn hello(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let text = format!("hello {}", req.uri().path());
    Ok(Response::new(Full::new(Bytes::from(text))))
}

fn get(path: &str) -> Request<Empty<Bytes>> {
    Request::get(path)
        .header("host", "localhost")
        .body(Empty::new())
        .unwrap()
}

async fn body_text(resp: Response<Incoming>) -> String {
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[test]
fn http1_server_and_client_over_minirt_tcp() {
    bounded(Duration::from_secs(60), || {
        for rt in runtimes() {
            rt.block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                let server = minirt::spawn(async move {
                    let (stream, _) = listener.accept().await.unwrap();
                    hyper::server::conn::http1::Builder::new()
                        .timer(Timer::new())
                        .serve_connection(stream, service_fn(hello))
                        .await
                });
                let stream = TcpStream::connect(addr).await.unwrap();
                let (mut sender, conn) =
                    hyper::client::conn::http1::handshake(stream).await.unwrap();
                let conn = minirt::spawn(conn);
                for path in ["/a", "/b"] {
                    // hyper's contract: an HTTP/1 sender takes a second
                    // request only once the connection task has finished
                    // the first; `ready` waits for that (on the
                    // multi-thread runtime the connection runs on another
                    // worker, so without it the send can lose the race).
                    sender.ready().await.unwrap();
                    let resp = sender.send_request(get(path)).await.unwrap();
                    assert_eq!(resp.status(), 200);
                    assert_eq!(body_text(resp).await, format!("hello {path}"));
                }
                drop(sender);
                conn.await.unwrap().unwrap();
                server.await.unwrap().unwrap();
            });
        }
    });
}

#[test]
fn http2_runs_on_the_minirt_executor() {
    bounded(Duration::from_secs(60), || {
        for rt in runtimes() {
            rt.block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                let server = minirt::spawn(async move {
                    let (stream, _) = listener.accept().await.unwrap();
                    hyper::server::conn::http2::Builder::new(Executor::new())
                        .timer(Timer::new())
                        .serve_connection(stream, service_fn(hello))
                        .await
                });
                let stream = TcpStream::connect(addr).await.unwrap();
                let (sender, conn) = hyper::client::conn::http2::Builder::new(Executor::new())
                    .timer(Timer::new())
                    .handshake(stream)
                    .await
                    .unwrap();
                let conn = minirt::spawn(conn);
                // Two requests at once on one connection: HTTP/2 streams.
                let (mut a, mut b) = (sender.clone(), sender);
                let (ra, rb) = minirt::join!(a.send_request(get("/x")), b.send_request(get("/y")));
                assert_eq!(body_text(ra.unwrap()).await, "hello /x");
                assert_eq!(body_text(rb.unwrap()).await, "hello /y");
                drop((a, b));
                conn.await.unwrap().unwrap();
                server.await.unwrap().unwrap();
            });
        }
    });
}

#[test]
fn header_read_timeout_fires_in_virtual_time_on_the_mock_clock() {
    bounded(Duration::from_secs(60), || {
        for rt in mock_runtimes() {
            rt.block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                let start = minirt::time::Instant::now();
                let server = minirt::spawn(async move {
                    let (stream, _) = listener.accept().await.unwrap();
                    hyper::server::conn::http1::Builder::new()
                        .timer(Timer::new())
                        .header_read_timeout(Duration::from_secs(3600))
                        .serve_connection(stream, service_fn(hello))
                        .await
                });
                let mut client = TcpStream::connect(addr).await.unwrap();
                // Half a request head, then silence.
                client.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
                let mut rest = Vec::new();
                let _ = client.read_to_end(&mut rest).await;
                let err = server.await.unwrap().unwrap_err();
                assert!(err.is_timeout(), "expected a timeout, got {err:?}");
                // An hour passed on the mock clock (in milliseconds of real time).
                assert!(start.elapsed() >= Duration::from_secs(3600));
            });
        }
    });
}

/// Makes the next close of `stream` send a RST instead of a FIN.
#[cfg(unix)]
fn set_linger_zero(stream: &std::net::TcpStream) {
    use std::os::fd::AsRawFd;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid socket descriptor and a correctly sized option value.
    let rc = unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            std::ptr::addr_of!(linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(
        rc,
        0,
        "setsockopt(SO_LINGER): {}",
        std::io::Error::last_os_error()
    );
}

/// Whether hyper's error says what happened: the peer reset the connection
/// (the OS error, as its source) or the message ended early.
#[cfg(unix)]
fn reset_or_cut_short(err: &hyper::Error) -> bool {
    use std::error::Error as _;
    let reset = err
        .source()
        .and_then(|s| s.downcast_ref::<std::io::Error>())
        .is_some_and(|e| e.kind() == std::io::ErrorKind::ConnectionReset);
    reset || err.is_incomplete_message()
}

/// A server (a plain std thread) that reads one request, writes `reply`,
/// then resets the connection.
#[cfg(unix)]
fn resetting_server(reply: &'static [u8]) -> (std::net::SocketAddr, std::thread::JoinHandle<()>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let thread = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut request = Vec::new();
        let mut buf = [0u8; 1024];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream.read(&mut buf).unwrap();
            assert!(n > 0, "the client closed before sending its request");
            request.extend_from_slice(&buf[..n]);
        }
        stream.write_all(reply).unwrap();
        set_linger_zero(&stream);
        drop(stream); // RST
    });
    (addr, thread)
}

#[cfg(unix)]
#[test]
fn a_server_resetting_mid_body_is_an_error_not_a_short_success() {
    bounded(Duration::from_secs(60), || {
        for rt in runtimes() {
            rt.block_on(async {
                // Headers promise 100 bytes; 10 arrive, then a reset.
                let (addr, server) =
                    resetting_server(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n0123456789");
                let stream = TcpStream::connect(addr).await.unwrap();
                let (mut sender, conn) =
                    hyper::client::conn::http1::handshake(stream).await.unwrap();
                let conn = minirt::spawn(conn);
                let resp = sender.send_request(get("/")).await.unwrap();
                assert_eq!(resp.status(), 200);
                let body = resp.into_body().collect().await;
                let err = body.expect_err("a truncated body must not be reported as complete");
                assert!(reset_or_cut_short(&err), "{err:?}");
                drop(sender);
                let _ = conn.await.unwrap(); // the connection ends with the error too
                server.join().unwrap();
            });
        }
    });
}

#[cfg(unix)]
#[test]
fn a_server_resetting_mid_headers_fails_the_request() {
    bounded(Duration::from_secs(60), || {
        for rt in runtimes() {
            rt.block_on(async {
                let (addr, server) = resetting_server(b"HTTP/1.1 200 OK\r\ncontent-le");
                let stream = TcpStream::connect(addr).await.unwrap();
                let (mut sender, conn) =
                    hyper::client::conn::http1::handshake(stream).await.unwrap();
                let conn = minirt::spawn(conn);
                let result = sender.send_request(get("/")).await;
                let err = result.expect_err("half a status line is not a response");
                assert!(reset_or_cut_short(&err), "{err:?}");
                drop(sender);
                let _ = conn.await.unwrap();
                server.join().unwrap();
            });
        }
    });
}
