//! A hyper 1.x HTTP/1 keep-alive "hello" server on tokio's multi-thread
//! runtime (2 workers), the twin of `http/hyper_minirt.rs` for `http/run.sh`.
//!
//! Both hyper servers do the same work and differ only in the runtime: an
//! accept loop, one task per connection, `http1::Builder::new()` with the
//! runtime's timer (so hyper arms its 30 s header-read timeout on each
//! request, as it does whenever a timer is set) and keep-alive on, and the
//! answer of the hand-written servers: `GET /` gets `Hello, world!` as
//! `text/plain` (hyper adds `content-length` and `date`), anything else an
//! empty 404. tokio's `TcpStream` reaches hyper through hyper-util's
//! `TokioIo`, its timer through `TokioTimer`.
//!
//! ```text
//! http_hyper_tokio [ADDR]      # default 127.0.0.1:8080; prints "listening on ADDR"
//! ```

use std::convert::Infallible;
use std::io;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;

fn main() -> io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(serve(&addr))
}

async fn serve(addr: &str) -> io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    println!("listening on {}", listener.local_addr()?);
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(connection) => connection,
            // Running out of file descriptors is temporary: keep serving.
            Err(error) => {
                eprintln!("accept failed: {error}");
                continue;
            }
        };
        tokio::spawn(async move {
            // A client hanging up mid-request is normal; nothing to report.
            let _ = http1::Builder::new()
                .timer(TokioTimer::new())
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service_fn(hello))
                .await;
        });
    }
}

/// `Hello, world!` for `GET /`, an empty 404 for anything else.
async fn hello(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    if request.method() == Method::GET && request.uri().path() == "/" {
        let mut response = Response::new(Full::new(Bytes::from_static(b"Hello, world!")));
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        Ok(response)
    } else {
        let mut response = Response::new(Full::new(Bytes::new()));
        *response.status_mut() = StatusCode::NOT_FOUND;
        Ok(response)
    }
}
