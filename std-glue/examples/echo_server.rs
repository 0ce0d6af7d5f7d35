//! A TCP echo server with graceful shutdown, on minirt's multi-thread runtime.
//!
//! Why this example: it is the smallest complete server shape — an accept
//! loop, one task per client, and a shutdown that does not cut anyone off
//! mid-sentence. On `SIGINT` (Ctrl-C) or `SIGTERM` (on Windows: on Ctrl-C) it
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
use minirt::task::JoinHandle;

use shutdown::ShutdownSignal;

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
    let mut shutdown = ShutdownSignal::listen().await?;
    announce(listener.local_addr()?)?;

    let mut connections: Vec<JoinHandle<()>> = Vec::new();
    loop {
        // `select` polls its first future first: a pending signal wins over
        // a pending client.
        match select(shutdown.recv(), listener.accept()).await {
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

/// Unix: `SIGINT` (Ctrl-C) and `SIGTERM` (what `kill` and service managers send).
#[cfg(unix)]
mod shutdown {
    use std::io;

    use minirt::future::select;
    use minirt::signal::{signal, Signal, SignalKind};

    /// Listens for the signals that ask the server to shut down.
    pub struct ShutdownSignal {
        interrupt: Signal,
        terminate: Signal,
    }

    impl ShutdownSignal {
        /// Installs the handlers: from now on these signals no longer kill us.
        pub async fn listen() -> io::Result<ShutdownSignal> {
            Ok(ShutdownSignal {
                interrupt: signal(SignalKind::interrupt())?,
                terminate: signal(SignalKind::terminate())?,
            })
        }

        /// Completes at the next shutdown signal. Cancellation safe: a
        /// signal that arrives while nobody waits is reported by the next call.
        pub async fn recv(&mut self) {
            select(self.interrupt.recv(), self.terminate.recv()).await;
        }
    }
}

/// Windows: Ctrl-C (the console's `CTRL_C_EVENT`); Windows has no `SIGTERM`.
#[cfg(windows)]
mod shutdown {
    use std::future::{poll_fn, Future};
    use std::io;
    use std::pin::Pin;
    use std::task::Poll;

    /// Listens for Ctrl-C.
    pub struct ShutdownSignal {
        /// One `ctrl_c` future for the whole run: while it exists, Ctrl-C is
        /// reported to it instead of ending the process.
        ctrl_c: Pin<Box<dyn Future<Output = io::Result<()>> + Send>>,
        /// Whether `ctrl_c` has completed (it must not be polled again).
        requested: bool,
    }

    impl ShutdownSignal {
        /// Registers the console handler: from now on Ctrl-C no longer kills us.
        pub async fn listen() -> io::Result<ShutdownSignal> {
            let mut ctrl_c = Box::pin(minirt::signal::ctrl_c());
            // `ctrl_c` subscribes when first polled, so poll it once now.
            let first = poll_fn(|cx| Poll::Ready(ctrl_c.as_mut().poll(cx))).await;
            let requested = match first {
                Poll::Ready(result) => {
                    result?;
                    true
                }
                Poll::Pending => false,
            };
            Ok(ShutdownSignal { ctrl_c, requested })
        }

        /// Completes at the next Ctrl-C (at once after the first one).
        /// Cancellation safe: the `ctrl_c` future lives on in `self`.
        pub async fn recv(&mut self) {
            if !self.requested {
                // An error is impossible after the first poll succeeded.
                let _ = self.ctrl_c.as_mut().await;
                self.requested = true;
            }
        }
    }
}
