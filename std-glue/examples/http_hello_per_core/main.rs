//! The HTTP/1.1 keep-alive "hello" server on `minirt::server`:
//! thread-per-core (compare `http_hello.rs`, the same server on the
//! work-stealing runtime).
//!
//! Why this example: it is the thread-per-core row of `benches/http/run.sh`
//! (glommio's and monoio's model): two workers, each a current-thread
//! runtime with its own `SO_REUSEPORT` listener, no task ever moving between
//! threads. The request handling is the same plain code as `http_hello.rs`:
//! `GET /` gets `Hello, world!`, anything else a 404, no request bodies.
//!
//! ```text
//! cargo run --release -p minirt --example http_hello_per_core -- 127.0.0.1:8080
//! curl http://127.0.0.1:8080/
//! ```
//!
//! Arguments: the address (default `127.0.0.1:8080`; port 0 picks a free
//! port) and the worker count (default 2). Prints `listening on ADDR` once
//! the listeners are open (the kernel queues connections until the workers
//! accept them). Stops on `SIGINT`/`SIGTERM`, draining for 1 s.
//!
//! Unix only: it needs `SO_REUSEPORT` (`minirt::server`). On other platforms it prints that and exits.

#[cfg(unix)]
mod unix;

#[cfg(unix)]
fn main() -> std::io::Result<()> {
    unix::main()
}

#[cfg(not(unix))]
fn main() {
    eprintln!("this example needs SO_REUSEPORT (minirt::server), which this platform lacks");
}
