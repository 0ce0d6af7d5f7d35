//! A hyper "hello" server on minirt's multi-thread runtime
//! (`cargo run -p minirt --features hyper --example hyper_server [ADDR]`,
//! default `127.0.0.1:8080`; prints `listening on ADDR`).

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use minirt::hyper::Timer;
use minirt::net::TcpListener;

async fn hello(_req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(
        b"Hello, world!",
    ))))
}

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    let runtime = minirt::Runtime::builder().worker_threads(2).build()?;
    runtime.block_on(async move {
        let listener = TcpListener::bind(&addr).await?;
        println!("listening on {}", listener.local_addr()?);
        loop {
            let (stream, _) = match listener.accept().await {
                Ok(accepted) => accepted,
                // E.g. out of file descriptors: keep serving the others.
                Err(err) => {
                    eprintln!("accept: {err}");
                    continue;
                }
            };
            minirt::spawn(async move {
                if let Err(err) = hyper::server::conn::http1::Builder::new()
                    .timer(Timer::new())
                    .serve_connection(stream, service_fn(hello))
                    .await
                {
                    eprintln!("connection: {err}");
                }
            });
        }
    })
}
