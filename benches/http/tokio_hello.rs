//! A minimal HTTP/1.1 keep-alive "hello" server on tokio (2 workers), the
//! peer of minirt's `std-glue/examples/http_hello.rs` for `http/run.sh`.
//!
//! The shape is kept plain on purpose so the two servers do the same work:
//! an accept loop, one task per connection, read into a buffer, find the end
//! of each request (`\r\n\r\n`), write a fixed response, repeat.
//!
//! ```text
//! http_hello_tokio [ADDR]      # default 127.0.0.1:8080; prints "listening on ADDR"
//! ```

use std::io;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

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
