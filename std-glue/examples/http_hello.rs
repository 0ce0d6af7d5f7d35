//! A minimal HTTP/1.1 "Hello, world!" server with keep-alive, on minirt's
//! multi-thread runtime.
//!
//! Why this example: it is the benchmark shape used to compare runtimes
//! (`wrk -t1 -c64 http://127.0.0.1:8080/`): an accept loop, one task per
//! connection, read until the end of a request head (`\r\n\r\n`), write a
//! fixed response, repeat on the same connection. It is deliberately not a
//! real HTTP parser: every request gets the same answer, and request bodies
//! are not supported.
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
use std::net::SocketAddr;
use std::process::ExitCode;

use minirt::io::{AsyncReadExt, AsyncWriteExt};
use minirt::net::{TcpListener, TcpStream};

/// The one response, with the length of "Hello, world!" (13 bytes).
const RESPONSE: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\nConnection: keep-alive\r\n\r\nHello, world!";

/// Largest request head we buffer; a client sending more is cut off.
const MAX_REQUEST_HEAD: usize = 8 * 1024;

fn main() -> ExitCode {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".to_string());
    let addr: SocketAddr = match addr.parse() {
        Ok(addr) => addr,
        Err(err) => {
            eprintln!("http_hello: {addr:?} is not an IP:PORT address ({err})");
            return ExitCode::from(2);
        }
    };
    let runtime = match minirt::Builder::multi_thread().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("http_hello: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(addr)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("http_hello: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Accepts connections forever, one task each.
async fn serve(addr: SocketAddr) -> io::Result<()> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|err| io::Error::new(err.kind(), format!("cannot listen on {addr}: {err}")))?;
    let mut stdout = io::stdout().lock();
    writeln!(stdout, "listening on {}", listener.local_addr()?)?;
    // stdout is block-buffered when it is a pipe; flush so a waiting script sees the line.
    stdout.flush()?;
    drop(stdout);

    loop {
        match listener.accept().await {
            Ok((stream, _peer)) => {
                minirt::spawn(async move {
                    // Errors end one connection only; the client will see it closed.
                    let _ = handle_connection(stream).await;
                });
            }
            // One client reset before we took it, or we are out of file
            // descriptors for a moment: the listener itself is fine.
            Err(err) => eprintln!("http_hello: accept failed: {err}"),
        }
    }
}

/// Answers every request head on `stream` until the client closes it.
async fn handle_connection(mut stream: TcpStream) -> io::Result<()> {
    // Responses are small and latency matters more than packet count.
    stream.set_nodelay(true)?;
    let mut buf = vec![0u8; MAX_REQUEST_HEAD];
    let mut filled = 0;
    loop {
        let n = stream.read(&mut buf[filled..]).await?;
        if n == 0 {
            // The client closed the connection (normally between requests).
            return Ok(());
        }
        filled += n;
        // Answer every complete request head in the buffer (clients may pipeline).
        let mut consumed = 0;
        while let Some(end) = find_head_end(&buf[consumed..filled]) {
            stream.write_all(RESPONSE).await?;
            consumed += end;
        }
        buf.copy_within(consumed..filled, 0);
        filled -= consumed;
        if filled == buf.len() {
            // A head larger than we accept: give up on this client.
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "request head too large",
            ));
        }
    }
}

/// The length of the first request head in `bytes`, including its `\r\n\r\n`.
fn find_head_end(bytes: &[u8]) -> Option<usize> {
    bytes
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .map(|start| start + 4)
}
