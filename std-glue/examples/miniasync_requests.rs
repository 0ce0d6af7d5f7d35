//! Two real HTTP requests run concurrently from plain synchronous code, with
//! the errors you expect returned as values — Python miniasync's
//! `run(c1, c2, return_exceptions=(NotFound,))`.
//!
//! ```text
//! cargo run -p minirt --features hyper --example miniasync_requests
//! ```
//!
//! The example starts its own hyper server on `127.0.0.1:0` (on a minirt
//! runtime in a background thread; the socket is bound before any request
//! is made), so it needs no network. `/users` answers 200 with a JSON list,
//! any other path a real 404. A second address, where nothing listens, gives
//! a real "connection refused".
//!
//! `minirt::scope` blocks `main` while both requests run on a worker pool;
//! they borrow `base_url` from `main`'s stack. Each request returns a
//! `Result`, so the caller decides which errors are values (`NotFound`, the
//! server's 404: show it) and which are fatal (anything else: `?`). The
//! fail-fast `try_scope` at the end stops at the refused connection and
//! shows it.

use std::convert::Infallible;
use std::fmt;
use std::io;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode, Uri};
use minirt::hyper::Timer;
use minirt::net::{TcpListener, TcpStream};

#[derive(Debug)]
enum FetchError {
    /// The server answered 404 for this path.
    NotFound(String),
    /// No connection to the URL's host (nothing listens there, say).
    Connect { url: String, error: io::Error },
    /// Any other status than 200 or 404.
    Status { url: String, status: StatusCode },
    /// The HTTP exchange itself failed.
    Http(hyper::Error),
    /// `base` + `path` is not an `http://host:port/path` URL.
    BadUrl(String),
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FetchError::NotFound(path) => write!(f, "404 not found: {path}"),
            FetchError::Connect { url, error }
                if error.kind() == io::ErrorKind::ConnectionRefused =>
            {
                write!(f, "connection refused: {url}")
            }
            FetchError::Connect { url, error } => write!(f, "cannot connect for {url}: {error}"),
            FetchError::Status { url, status } => write!(f, "{status}: {url}"),
            FetchError::Http(error) => write!(f, "HTTP error: {error}"),
            FetchError::BadUrl(url) => write!(f, "not an http://host:port URL: {url}"),
        }
    }
}

impl std::error::Error for FetchError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            FetchError::Connect { error, .. } => Some(error),
            FetchError::Http(error) => Some(error),
            _ => None,
        }
    }
}

impl From<hyper::Error> for FetchError {
    fn from(error: hyper::Error) -> FetchError {
        FetchError::Http(error)
    }
}

/// GETs `base` + `path` over a fresh HTTP/1 connection; the 200 body as
/// text, prefixed with the URL.
async fn fetch(base: &str, path: &str) -> Result<String, FetchError> {
    let url = format!("{base}{path}");
    let uri: Uri = url.parse().map_err(|_| FetchError::BadUrl(url.clone()))?;
    let Some(authority) = uri.authority().map(|a| a.as_str().to_owned()) else {
        return Err(FetchError::BadUrl(url));
    };
    let stream = match TcpStream::connect(authority.as_str()).await {
        Ok(stream) => stream,
        Err(error) => return Err(FetchError::Connect { url, error }),
    };
    let (mut sender, conn) = hyper::client::conn::http1::handshake(stream).await?;
    minirt::spawn(conn);
    let request = Request::get(path)
        .header(hyper::header::HOST, authority)
        .body(Empty::<Bytes>::new())
        .map_err(|_| FetchError::BadUrl(url.clone()))?;
    let response = sender.send_request(request).await?;
    match response.status() {
        StatusCode::OK => {}
        StatusCode::NOT_FOUND => return Err(FetchError::NotFound(path.to_owned())),
        status => return Err(FetchError::Status { url, status }),
    }
    let body = response.into_body().collect().await?.to_bytes();
    Ok(format!("{url}: {}", String::from_utf8_lossy(&body)))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base_url = format!("http://{}", start_server()?);
    // Bound and dropped at once: nothing listens on this port, so connecting
    // there is refused.
    let down_url = format!(
        "http://{}",
        std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?
    );

    // Both requests run at once; results come back in spawn order.
    let responses = minirt::scope(|s| {
        s.spawn(fetch(&base_url, "/users"));
        s.spawn(fetch(&base_url, "/missing"));
    })?;

    for response in responses {
        match response {
            Ok(body) => println!("ok:       {body}"),
            // The selected error is just a value...
            Err(FetchError::NotFound(path)) => println!("skipped:  {path} (not found)"),
            // ...every other error ends the program.
            Err(other) => return Err(other.into()),
        }
    }

    // The fail-fast form: the first `Err` (the refused connection) cancels
    // the other request.
    let first_error = minirt::scope::try_scope(|s| {
        s.spawn(fetch(&base_url, "/users"));
        s.spawn(fetch(&down_url, "/admin"));
    });
    if let Err(minirt::scope::TryJoinError::Failed(e)) = first_error {
        println!("try_scope stopped at the first error: {e}");
    }
    Ok(())
}

/// Binds `127.0.0.1:0` here, so the server accepts (into the listen
/// backlog) before this returns, then serves on a minirt runtime in a
/// background thread: `/users` is 200 with a JSON list, anything else 404.
fn start_server() -> io::Result<std::net::SocketAddr> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    std::thread::spawn(move || {
        minirt::block_on(async move {
            let listener = match TcpListener::from_std(listener) {
                Ok(listener) => listener,
                // Dropping the listener refuses the requests: they fail, not hang.
                Err(err) => return eprintln!("server: {err}"),
            };
            while let Ok((stream, _)) = listener.accept().await {
                minirt::spawn(async move {
                    let service = service_fn(|req: Request<Incoming>| async move {
                        let mut response =
                            Response::new(Full::new(Bytes::from_static(br#"["ada", "grace"]"#)));
                        if req.uri().path() != "/users" {
                            *response.body_mut() = Full::new(Bytes::from_static(b"not found"));
                            *response.status_mut() = StatusCode::NOT_FOUND;
                        }
                        Ok::<_, Infallible>(response)
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .timer(Timer::new())
                        .serve_connection(stream, service)
                        .await;
                });
            }
        })
    });
    Ok(addr)
}
