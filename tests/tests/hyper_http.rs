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
