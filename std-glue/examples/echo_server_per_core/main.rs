//! The TCP echo server on `minirt::server`: thread-per-core instead of work
//! stealing (compare `echo_server.rs`).
//!
//! Why this example: it is the smallest use of [`minirt::server::Server`]
//! with everything a service needs — N workers, each a current-thread
//! runtime on its own thread with its own `SO_REUSEPORT` listener, and a
//! graceful shutdown on `SIGINT`/`SIGTERM`. Each client is first greeted
//! with `worker N` (the index of the worker that accepted it; this is how the
//! tests see the kernel spreading connections), then everything it sends is
//! echoed back until it closes its side.
//!
//! ```text
//! cargo run -p minirt --example echo_server_per_core -- 127.0.0.1:8080 4 5
//! nc 127.0.0.1 8080
//! ```
//!
//! Arguments: the address (default `127.0.0.1:8080`; port 0 picks a free
//! port), the worker count (default 2), the grace period in seconds (default
//! 5; fractions allowed). Output on stdout: `listening on ADDR` once every
//! worker is ready; after a shutdown signal and the drain, one line per
//! worker, `worker N: M in flight, K aborted`. Exit status 0 after a clean
//! drain.
//!
//! Unix only: it needs `SO_REUSEPORT` (`minirt::server`). On other platforms it prints that and exits.

#[cfg(unix)]
mod unix;

#[cfg(unix)]
fn main() -> std::process::ExitCode {
    unix::main()
}

#[cfg(not(unix))]
fn main() {
    eprintln!("this example needs SO_REUSEPORT (minirt::server), which this platform lacks");
}
