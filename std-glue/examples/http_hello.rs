//! A minimal HTTP/1.1 keep-alive "hello" server on minirt's multi-thread
//! runtime (2 workers).
//!
//! Why this example: it is the benchmark shape used to compare runtimes
//! (`benches/http/run.sh` drives it and its tokio twin,
//! `benches/http/tokio_hello.rs`, with `wrk -t1 -c64`). The code is kept
//! plain on purpose so both servers do the same work: an accept loop, one
//! task per connection, read into a buffer, find the end of each request
//! (`\r\n\r\n`), write a fixed response, repeat on the same connection. It is
//! not a real HTTP parser: `GET /` gets `Hello, world!`, anything else a 404,
//! and request bodies are not supported.
//!
//! ```text
//! cargo run --release -p minirt --example http_hello -- 127.0.0.1:8080
//! curl http://127.0.0.1:8080/
//! ```
//!
//! The first argument is the address to listen on (default
//! `127.0.0.1:8080`; port 0 picks a free port). Once the server accepts
//! connections it prints exactly one line, `listening on ADDR`.

use std::io::{self, Write as _};

use minirt::io::{AsyncReadExt, AsyncWriteExt};
use minirt::net::{TcpListener, TcpStream};

/// The answer to `GET /`.
const HELLO: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, world!";
/// The answer to anything else.
const NOT_FOUND: &[u8] = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
/// Requests must fit in this many bytes (headers included).
const BUFFER_BYTES: usize = 4096;

fn main() -> io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    let runtime = minirt::Builder::multi_thread().worker_threads(2).build()?;
    runtime.block_on(serve(&addr))
}

async fn serve(addr: &str) -> io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    let mut stdout = io::stdout().lock();
    writeln!(stdout, "listening on {}", listener.local_addr()?)?;
    // stdout is block-buffered when it is a pipe; a waiting script must see the line now.
    stdout.flush()?;
    drop(stdout);
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(connection) => connection,
            // One client reset before we took it, or file descriptors ran out
            // for a moment: the listener itself is fine, keep serving.
            Err(error) => {
                eprintln!("http_hello: accept failed: {error}");
                continue;
            }
        };
        minirt::spawn(async move {
            // A client hanging up mid-request is normal; nothing to report.
            let _ = handle_connection(stream).await;
        });
    }
}

/// Answers every request on `stream` until the client closes it.
async fn handle_connection(mut stream: TcpStream) -> io::Result<()> {
    let mut buffer = [0u8; BUFFER_BYTES];
    let mut filled = 0;
    loop {
        let read = stream.read(&mut buffer[filled..]).await?;
        if read == 0 {
            // The client closed the connection (normally between requests).
            return Ok(());
        }
        filled += read;
        // Answer every complete request in the buffer (clients may pipeline).
        while let Some(end) = find_request_end(&buffer[..filled]) {
            let response = if buffer.starts_with(b"GET / ") {
                HELLO
            } else {
                NOT_FOUND
            };
            stream.write_all(response).await?;
            buffer.copy_within(end..filled, 0);
            filled -= end;
        }
        if filled == buffer.len() {
            // No end of headers in a full buffer: not a request we can answer.
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "request headers too large",
            ));
        }
    }
}

/// The index just past the first `\r\n\r\n`, if the buffer holds one.
fn find_request_end(bytes: &[u8]) -> Option<usize> {
    bytes
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .map(|at| at + 4)
}
