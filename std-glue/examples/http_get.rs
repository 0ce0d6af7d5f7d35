//! Two real HTTP requests at once from a plain synchronous `main`, with
//! hyper on minirt (`cargo run -p minirt --features hyper --example http_get`).
//!
//! The example starts its own hyper server on `127.0.0.1:0` (on a minirt
//! runtime in a background thread), so it needs no network; then
//! `minirt::run` runs both GETs concurrently and returns their bodies.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use minirt::hyper::Timer;
use minirt::net::{TcpListener, TcpStream};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = start_server()?;
    let results = minirt::run([
        Box::pin(fetch(addr, "/first"))
            as std::pin::Pin<Box<dyn std::future::Future<Output = _> + Send>>,
        Box::pin(fetch(addr, "/second")),
    ]);
    for result in results {
        println!("{}", result?);
    }
    Ok(())
}

/// GETs `path` from `addr` over a fresh HTTP/1 connection; the body as text.
async fn fetch(addr: SocketAddr, path: &'static str) -> Result<String, String> {
    let stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(stream)
        .await
        .map_err(|e| e.to_string())?;
    minirt::spawn(conn);
    let request = Request::get(path)
        .header("host", addr.to_string())
        .body(Empty::<Bytes>::new())
        .map_err(|e| e.to_string())?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok(format!(
        "{path}: {status} {}",
        String::from_utf8_lossy(&body)
    ))
}

/// Starts a hyper hello server on a minirt runtime in a background thread.
fn start_server() -> std::io::Result<SocketAddr> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        minirt::block_on(async move {
            let listener = match TcpListener::bind("127.0.0.1:0").await {
                Ok(listener) => listener,
                Err(err) => return drop(tx.send(Err(err))),
            };
            let _ = tx.send(listener.local_addr());
            while let Ok((stream, _)) = listener.accept().await {
                minirt::spawn(async move {
                    let service = service_fn(|req: Request<Incoming>| async move {
                        let text = format!("hello from {}", req.uri().path());
                        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(text))))
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .timer(Timer::new())
                        .serve_connection(stream, service)
                        .await;
                });
            }
        });
    });
    rx.recv().map_err(std::io::Error::other)?
}
