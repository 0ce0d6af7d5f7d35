//! The example itself (Unix only; see `main.rs`).

use std::io::{self, Write as _};
use std::process::ExitCode;
use std::sync::{Arc, Barrier};
use std::time::Duration;

use minirt::io::{AsyncReadExt, AsyncWriteExt};
use minirt::net::TcpStream;
use minirt::server::Server;

/// Size of each connection's read buffer.
const BUFFER_SIZE: usize = 16 * 1024;

pub fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:8080".to_string());
    let workers = match args.next().map(|n| n.parse::<usize>()) {
        None => 2,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            eprintln!("echo_server_per_core: the worker count must be a number");
            return ExitCode::from(2);
        }
    };
    let grace = match args
        .next()
        .map(|s| s.parse().map(Duration::try_from_secs_f64))
    {
        None => Duration::from_secs(5),
        Some(Ok(Ok(grace))) => grace,
        Some(_) => {
            eprintln!("echo_server_per_core: the grace period must be a number of seconds");
            return ExitCode::from(2);
        }
    };
    match run(&addr, workers, grace) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("echo_server_per_core: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run(addr: &str, workers: usize, grace: Duration) -> io::Result<()> {
    let server = Server::builder().workers(workers).grace(grace).bind(addr)?;
    let local_addr = server.local_addr();
    // Announce once every worker has its listener registered, so a script
    // that saw the line can connect and signal right away.
    let ready = Arc::new(Barrier::new(workers + 1));
    let announcer = {
        let ready = ready.clone();
        std::thread::spawn(move || {
            ready.wait();
            let mut stdout = io::stdout().lock();
            // Pipes are block-buffered: flush so a waiting script sees it.
            writeln!(stdout, "listening on {local_addr}").and_then(|()| stdout.flush())
        })
    };
    let report = server.serve(move |worker| {
        let ready = ready.clone();
        async move {
            ready.wait();
            loop {
                let (stream, _peer) = match worker.listener().accept().await {
                    Ok(connection) => connection,
                    // About one client (it reset first) or a passing shortage
                    // of descriptors: the listener is still fine.
                    Err(err) => {
                        eprintln!("echo_server_per_core: accept failed: {err}");
                        continue;
                    }
                };
                worker.spawn(greet_and_echo(stream, worker.index()));
            }
        }
    })?;
    announcer.join().expect("the announcer does not panic")?;
    let mut stdout = io::stdout().lock();
    for worker in &report.workers {
        writeln!(
            stdout,
            "worker {}: {} in flight, {} aborted",
            worker.index, worker.in_flight, worker.aborted
        )?;
    }
    stdout.flush()
}

/// Says which worker took the connection, then echoes until the client
/// closes its side, then closes ours.
async fn greet_and_echo(mut stream: TcpStream, index: usize) {
    if stream
        .write_all(format!("worker {index}\n").as_bytes())
        .await
        .is_err()
    {
        return;
    }
    let mut buf = vec![0; BUFFER_SIZE];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) => break,
            Ok(n) => {
                if stream.write_all(&buf[..n]).await.is_err() {
                    // The client went away; nobody is left to echo to.
                    return;
                }
            }
            Err(_) => return,
        }
    }
    let _ = stream.shutdown().await;
}
