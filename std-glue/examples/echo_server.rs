//! A TCP echo server with graceful shutdown, on minirt's multi-thread runtime.
//!
//! Why this example: it is the smallest complete server shape — an accept
//! loop, one task per client, and a shutdown that does not cut anyone off
//! mid-sentence. On `SIGINT` (Ctrl-C) or `SIGTERM` it
//!
//! 1. stops accepting (the listener is closed, so new clients are refused),
//! 2. prints `shutting down: N connection(s) in flight`,
//! 3. lets the connections that are already open finish, for at most a
//!    grace period (5 s by default), then aborts whichever are still open,
//! 4. exits with status 0.
//!
//! ```text
//! cargo run -p minirt --example echo_server -- 127.0.0.1:8080
//! # in another terminal:
//! nc 127.0.0.1 8080
//! ```
//!
//! The first argument is the address to listen on (default
//! `127.0.0.1:8080`; port 0 picks a free port), the optional second one the
//! grace period in seconds (default 5; fractions allowed). Once the server accepts
//! connections it prints exactly one line, `listening on ADDR`, with the real
//! address, so scripts and tests can wait for it.

use std::io::{self, Write as _};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use minirt::future::{select, Either};
use minirt::io::{AsyncReadExt, AsyncWriteExt};
use minirt::net::{TcpListener, TcpStream};
use minirt::signal::{signal, SignalKind};
use minirt::task::JoinHandle;

/// How long open connections may keep talking after a shutdown signal,
/// unless the second argument says otherwise.
const DEFAULT_GRACE_PERIOD: Duration = Duration::from_secs(5);

/// Size of each connection's read buffer.
const BUFFER_SIZE: usize = 16 * 1024;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:8080".to_string());
    let addr: SocketAddr = match addr.parse() {
        Ok(addr) => addr,
        Err(err) => {
            eprintln!("echo_server: {addr:?} is not an IP:PORT address ({err})");
            return ExitCode::from(2);
        }
    };
    let grace_period = match args.next() {
        None => DEFAULT_GRACE_PERIOD,
        Some(seconds) => match seconds.parse().map(Duration::try_from_secs_f64) {
            Ok(Ok(period)) => period,
            _ => {
                eprintln!("echo_server: grace period {seconds:?} is not a number of seconds");
                return ExitCode::from(2);
            }
        },
    };
    let runtime = match minirt::Builder::multi_thread().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("echo_server: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(addr, grace_period)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("echo_server: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Accepts clients until a shutdown signal, then drains them.
async fn serve(addr: SocketAddr, grace_period: Duration) -> io::Result<()> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|err| io::Error::new(err.kind(), format!("cannot listen on {addr}: {err}")))?;
    // Install the handlers before announcing the address: a signal sent by
    // someone who saw the announcement must reach us, not kill us.
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    announce(listener.local_addr()?)?;

    let mut connections: Vec<JoinHandle<()>> = Vec::new();
    loop {
        let shutdown = select(interrupt.recv(), terminate.recv());
        // `select` polls its first future first: a pending signal wins over
        // a pending client.
        match select(shutdown, listener.accept()).await {
            Either::Left(_) => break,
            Either::Right(Ok((stream, peer))) => {
                // Forget connections that have ended, so the list holds only
                // the ones a shutdown must wait for.
                connections.retain(|connection| !connection.is_finished());
                connections.push(minirt::spawn(echo(stream, peer)));
            }
            // Accept errors are about one client (it reset before we took it)
            // or a temporary shortage (out of file descriptors): log and go
            // on, the listener itself is still fine.
            Either::Right(Err(err)) => eprintln!("echo_server: accept failed: {err}"),
        }
    }

    // Step 1: stop accepting. Clients connecting from now on are refused.
    drop(listener);
    connections.retain(|connection| !connection.is_finished());
    println!(
        "shutting down: {} connection(s) in flight",
        connections.len()
    );
    io::stdout().flush()?;

    // Step 2: let the open connections finish, but not forever.
    let deadline = minirt::time::sleep(grace_period);
    let all_finished = async {
        for connection in &mut connections {
            // A connection task that panicked has already reported why on
            // stderr; the others still deserve their grace period.
            let _ = connection.await;
        }
    };
    if let Either::Right(()) = select(all_finished, deadline).await {
        // Step 3: the grace period is over; cut off whoever is still talking.
        let remaining = connections.iter().filter(|c| !c.is_finished()).count();
        eprintln!(
            "echo_server: grace period of {grace_period:?} over, aborting {remaining} connection(s)"
        );
        for connection in &connections {
            connection.abort();
        }
    }
    Ok(())
}

/// Prints the one line that tells scripts the server is ready.
fn announce(addr: SocketAddr) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    writeln!(stdout, "listening on {addr}")?;
    // stdout is block-buffered when it is a pipe; a waiting script would
    // otherwise never see the line.
    stdout.flush()
}

/// Echoes everything `stream` sends until it closes its side, then closes ours.
async fn echo(mut stream: TcpStream, peer: SocketAddr) {
    let mut buf = vec![0; BUFFER_SIZE];
    loop {
        let n = match stream.read(&mut buf).await {
            // The client closed its writing side: everything it sent has been
            // echoed, so finish our side too and end the conversation.
            Ok(0) => break,
            Ok(n) => n,
            // Reset or similar: the client is gone, nobody is left to echo to.
            Err(err) => {
                eprintln!("echo_server: reading from {peer} failed: {err}");
                return;
            }
        };
        if let Err(err) = stream.write_all(&buf[..n]).await {
            // The client stopped reading and went away (broken pipe, reset).
            eprintln!("echo_server: writing to {peer} failed: {err}");
            return;
        }
    }
    if let Err(err) = stream.shutdown().await {
        // The client may already have closed completely; nothing to tell it.
        eprintln!("echo_server: closing the connection to {peer} failed: {err}");
    }
}
