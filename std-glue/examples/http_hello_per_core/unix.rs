//! The example itself (Unix only; see `main.rs`).

use std::io::{self, Write as _};
use std::time::Duration;

use minirt::io::{AsyncReadExt, AsyncWriteExt};
use minirt::net::TcpStream;
use minirt::server::Server;

/// The answer to `GET /`.
const HELLO: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, world!";
/// The answer to anything else.
const NOT_FOUND: &[u8] = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
/// Requests must fit in this many bytes (headers included).
const BUFFER_BYTES: usize = 4096;

pub fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    let workers = match args.next() {
        Some(n) => n.parse().map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "the worker count must be a number",
            )
        })?,
        None => 2,
    };
    let server = Server::builder()
        .workers(workers)
        .grace(Duration::from_secs(1))
        .bind(addr)?;
    let mut stdout = io::stdout().lock();
    writeln!(stdout, "listening on {}", server.local_addr())?;
    // stdout is block-buffered when it is a pipe; a waiting script must see the line now.
    stdout.flush()?;
    drop(stdout);
    server.serve(|worker| async move {
        loop {
            let (stream, _) = match worker.listener().accept().await {
                Ok(connection) => connection,
                // One client reset before we took it, or file descriptors ran
                // out for a moment: the listener itself is fine.
                Err(error) => {
                    eprintln!("http_hello_per_core: accept failed: {error}");
                    continue;
                }
            };
            worker.spawn(async move {
                // A client hanging up mid-request is normal; nothing to report.
                let _ = handle_connection(stream).await;
            });
        }
    })?;
    Ok(())
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
