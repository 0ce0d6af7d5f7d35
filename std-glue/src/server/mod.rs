//! A multi-worker, thread-per-core TCP server (Python aiotools'
//! `start_server(worker, num_workers=N)`).
//!
//! # Why
//!
//! minirt's multi-thread runtime shares one listener and lets idle workers
//! steal tasks from busy ones. The other classic shape — glommio's,
//! monoio's, nginx's — gives every core its own single-threaded runtime and
//! its own listening socket on the same port (`SO_REUSEPORT`), and lets the
//! kernel spread connections over them. Nothing is shared between workers,
//! so nothing needs a lock or an atomic, and a connection's data stays in one
//! core's cache; the price is that a busy worker cannot hand work to an idle
//! one. [`Server`] is that shape, with the shutdown a service needs.
//!
//! # What happens
//!
//! 1. [`ServerBuilder::bind`] opens one listener per worker, all on the same
//!    address (port 0 picks one free port for all of them).
//! 2. [`Server::serve`] installs `SIGINT` and `SIGTERM` listeners, then
//!    starts the workers: each is a thread (named `minirt-server-N`,
//!    optionally pinned to a core) running a current-thread runtime, which
//!    calls the setup closure with that worker's [`Worker`] and runs the
//!    future it returns — typically an accept loop that hands each
//!    connection to [`Worker::spawn`].
//! 3. On the first `SIGINT` or `SIGTERM` (or [`ShutdownHandle::shutdown`],
//!    or a worker's setup future returning an error), every worker **stops
//!    accepting**: its setup future is dropped, which closes its listener.
//! 4. Each worker **drains**: the connection tasks it spawned keep running
//!    for at most the [grace period](ServerBuilder::grace) (5 s by
//!    default); those still running then are aborted.
//! 5. `serve` joins the worker threads and returns a [`ServeReport`]; a
//!    **second signal** during the drain exits the process at once with
//!    status 128 + its number.
//!
//! A worker whose setup future returns `Ok` before any shutdown stops
//! accepting and drains its connections (without a deadline until the server
//! shuts down); `serve` returns when all workers have ended.
//!
//! ```no_run
//! use minirt::io::{AsyncReadExt, AsyncWriteExt};
//! use minirt::server::Server;
//!
//! fn main() -> std::io::Result<()> {
//!     let server = Server::builder().workers(4).pin_to_cores(true).bind("0.0.0.0:7000")?;
//!     println!("listening on {}", server.local_addr());
//!     let report = server.serve(|worker| async move {
//!         loop {
//!             let (mut stream, _) = worker.listener().accept().await?;
//!             worker.spawn(async move {
//!                 let mut buf = [0; 1024];
//!                 while let Ok(n @ 1..) = stream.read(&mut buf).await {
//!                     if stream.write_all(&buf[..n]).await.is_err() {
//!                         break;
//!                     }
//!                 }
//!             });
//!         }
//!     })?;
//!     println!("stopped by {:?}", report.signal);
//!     Ok(())
//! }
//! ```
//!
//! # Portability
//!
//! Unix only. `SO_REUSEPORT` balances connections on Linux (and FreeBSD's
//! `SO_REUSEPORT_LB`); on macOS and the other BSDs several sockets may bind
//! the port but one of them gets the connections. Pinning to cores works on
//! Linux and is a no-op elsewhere ([`Worker::cpu`] says `None`).

mod affinity;
mod socket;
mod worker;

use std::fmt;
use std::future::Future;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::panic;
use std::pin::pin;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use minirt_core::future::{select, Either};
use minirt_core::sync::{oneshot, watch};
use minirt_reactor::net::TcpListener;
use minirt_reactor::signal::{self, SignalKind};

use crate::Builder;

pub use worker::{Worker, WorkerReport};

/// The grace period unless [`ServerBuilder::grace`] says otherwise.
const DEFAULT_GRACE: Duration = Duration::from_secs(5);

/// A thread-per-core TCP server: N workers, each a current-thread runtime on
/// its own thread with its own `SO_REUSEPORT` listener; see the
/// [module docs](self).
///
/// ```no_run
/// use minirt::server::Server;
///
/// let server = Server::builder().workers(2).bind("127.0.0.1:0")?;
/// let addr = server.local_addr();
/// server.serve(move |worker| async move {
///     let (_stream, peer) = worker.listener().accept().await?;
///     println!("worker {} accepted {peer} on {addr}", worker.index());
///     Ok(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Server {
    listeners: Vec<std::net::TcpListener>,
    local_addr: SocketAddr,
    pin_to_cores: bool,
    grace: Duration,
    stop: Arc<watch::Sender<bool>>,
}

/// Configures a [`Server`]: worker count, pinning, grace period; then
/// [`bind`](ServerBuilder::bind).
///
/// ```
/// use std::time::Duration;
/// use minirt::server::Server;
///
/// let server = Server::builder()
///     .workers(2)
///     .pin_to_cores(false)
///     .grace(Duration::from_secs(1))
///     .bind("127.0.0.1:0")
///     .unwrap();
/// assert_ne!(server.local_addr().port(), 0);
///
/// let err = Server::builder().workers(0).bind("127.0.0.1:0").unwrap_err();
/// assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
/// ```
#[derive(Clone, Debug)]
pub struct ServerBuilder {
    workers: usize,
    pin_to_cores: bool,
    grace: Duration,
}

impl Server {
    /// A builder with one worker per available CPU, no pinning, and a 5 s
    /// grace period.
    ///
    /// ```
    /// let server = minirt::server::Server::builder().bind("127.0.0.1:0").unwrap();
    /// # drop(server);
    /// ```
    pub fn builder() -> ServerBuilder {
        ServerBuilder {
            workers: thread::available_parallelism().map_or(1, |n| n.get()),
            pin_to_cores: false,
            grace: DEFAULT_GRACE,
        }
    }

    /// The address every worker listens on (with the real port if port 0
    /// was asked for).
    ///
    /// ```
    /// let server = minirt::server::Server::builder().bind("127.0.0.1:0").unwrap();
    /// assert!(server.local_addr().ip().is_loopback());
    /// ```
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// How many workers [`serve`](Server::serve) will start.
    ///
    /// ```
    /// let server = minirt::server::Server::builder().workers(3).bind("127.0.0.1:0").unwrap();
    /// assert_eq!(server.workers(), 3);
    /// ```
    pub fn workers(&self) -> usize {
        self.listeners.len()
    }

    /// A handle that shuts the server down as a signal would (from another
    /// thread, a worker, a test).
    ///
    /// ```
    /// let server = minirt::server::Server::builder().workers(2).bind("127.0.0.1:0").unwrap();
    /// let handle = server.shutdown_handle();
    /// handle.shutdown(); // before `serve`: the workers stop at once
    /// let report = server.serve(|worker| async move {
    ///     std::future::pending::<()>().await; // an accept loop, say
    ///     Ok(())
    /// }).unwrap();
    /// assert_eq!(report.signal, None);
    /// assert_eq!(report.workers.len(), 2);
    /// ```
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle {
            stop: self.stop.clone(),
        }
    }

    /// Starts the workers, calls `setup` on each worker's thread with its
    /// [`Worker`], runs the returned future there, and returns once the
    /// server has shut down and every worker has drained; see the
    /// [module docs](self) for the sequence.
    ///
    /// The future need not be `Send`: it is made and run on its worker's
    /// thread. `setup` is shared by all workers, so it is `Fn + Send + Sync`.
    ///
    /// ```no_run
    /// use std::rc::Rc;
    /// use minirt::io::AsyncWriteExt;
    ///
    /// let server = minirt::server::Server::builder().workers(2).bind("127.0.0.1:8080")?;
    /// server.serve(|worker| async move {
    ///     let greeting = Rc::new(format!("hello from worker {}\n", worker.index()));
    ///     loop {
    ///         let (mut stream, _) = worker.listener().accept().await?;
    ///         let greeting = greeting.clone(); // per-worker state, no locks
    ///         worker.spawn(async move {
    ///             let _ = stream.write_all(greeting.as_bytes()).await;
    ///         });
    ///     }
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// The first error a worker's setup future returned (after every worker
    /// has drained), or why a worker's runtime or the signal listeners
    /// could not start.
    ///
    /// # Panics
    ///
    /// With the panic of a worker (after the others have drained).
    pub fn serve<S, Fut>(self, setup: S) -> io::Result<ServeReport>
    where
        S: Fn(Worker) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = io::Result<()>> + 'static,
    {
        let Server {
            listeners,
            local_addr: _,
            pin_to_cores,
            grace,
            stop,
        } = self;
        let control = Builder::current_thread().build()?;
        control.block_on(async move {
            // Before any worker runs: a signal sent by someone who saw the
            // server ready must reach us, not kill us.
            let mut interrupt = signal::signal(SignalKind::interrupt())?;
            let mut terminate = signal::signal(SignalKind::terminate())?;
            let setup = Arc::new(setup);
            let mut threads = Vec::with_capacity(listeners.len());
            let mut reports = Vec::with_capacity(listeners.len());
            for (index, listener) in listeners.into_iter().enumerate() {
                let (done, report) = oneshot::channel();
                reports.push(report);
                let setup = setup.clone();
                let worker_stop = stop.clone();
                let thread = thread::Builder::new()
                    .name(format!("minirt-server-{index}"))
                    .spawn(move || {
                        let stop = worker_stop;
                        let _stop_on_panic = StopOnPanic(stop.clone());
                        let cpu = if pin_to_cores {
                            affinity::pin_current_thread(index)
                        } else {
                            None
                        };
                        let result = worker_thread(index, cpu, listener, &*setup, &stop, grace);
                        let _ = done.send(result);
                    });
                match thread {
                    Ok(thread) => threads.push(thread),
                    Err(err) => {
                        stop.send_replace(true);
                        drop(reports.pop());
                        eprintln!("minirt::server: cannot start worker {index}: {err}");
                        break;
                    }
                }
            }
            let mut all_done = pin!(async move {
                let mut results = Vec::with_capacity(reports.len());
                for report in reports {
                    // An error means the worker panicked; joining it says so.
                    if let Ok(result) = report.await {
                        results.push(result);
                    }
                }
                results
            });
            let mut results = None;
            let mut signal = None;
            {
                let first_signal = pin!(async {
                    match select(pin!(interrupt.recv()), pin!(terminate.recv())).await {
                        Either::Left(_) => SignalKind::interrupt(),
                        Either::Right(_) => SignalKind::terminate(),
                    }
                });
                let asked = pin!(worker::wait_for_shutdown(stop.subscribe()));
                let stopping = pin!(select(first_signal, asked));
                match select(all_done.as_mut(), stopping).await {
                    Either::Left(done) => results = Some(done),
                    Either::Right(Either::Left(kind)) => {
                        eprintln!(
                            "minirt::server: {} received, draining for up to {grace:?} (send it again to exit at once)",
                            signal_name(kind)
                        );
                        signal = Some(kind);
                    }
                    Either::Right(Either::Right(())) => {}
                }
            }
            stop.send_replace(true);
            let second_signal = pin!(async {
                let kind = match select(pin!(interrupt.recv()), pin!(terminate.recv())).await {
                    Either::Left(_) => SignalKind::interrupt(),
                    Either::Right(_) => SignalKind::terminate(),
                };
                eprintln!(
                    "minirt::server: second signal ({}) while draining, exiting now",
                    signal_name(kind)
                );
                std::process::exit(128 + kind.as_raw())
            });
            let results = match results {
                Some(results) => results,
                None => match select(all_done, second_signal).await {
                    Either::Left(results) => results,
                    Either::Right(()) => unreachable!("process::exit returned"),
                },
            };
            let mut panic = None;
            for thread in threads {
                if let Err(payload) = thread.join() {
                    panic.get_or_insert(payload);
                }
            }
            if let Some(payload) = panic {
                panic::resume_unwind(payload);
            }
            let mut workers = Vec::with_capacity(results.len());
            let mut first_error = None;
            for result in results {
                match result {
                    Ok(report) => workers.push(report),
                    Err(err) => {
                        first_error.get_or_insert(err);
                    }
                }
            }
            match first_error {
                Some(err) => Err(err),
                None => Ok(ServeReport { signal, workers }),
            }
        })
    }
}

/// One worker thread's life: its runtime, its listener, its setup future,
/// its drain.
fn worker_thread<S, Fut>(
    index: usize,
    cpu: Option<usize>,
    listener: std::net::TcpListener,
    setup: &S,
    stop: &watch::Sender<bool>,
    grace: Duration,
) -> io::Result<WorkerReport>
where
    S: Fn(Worker) -> Fut,
    Fut: Future<Output = io::Result<()>>,
{
    let failed = |err: io::Error| {
        stop.send_replace(true);
        io::Error::new(
            err.kind(),
            format!("minirt::server: worker {index} could not start: {err}"),
        )
    };
    let runtime = Builder::current_thread().build().map_err(failed)?;
    runtime.block_on(async {
        let listener = TcpListener::from_std(listener).map_err(failed)?;
        let worker = Worker::new(index, cpu, listener, stop.subscribe(), Default::default());
        worker::run_worker(index, setup, worker, stop, grace).await
    })
}

/// Shuts the server down if a worker thread panics, so the others drain
/// and `serve` can re-raise the panic.
struct StopOnPanic(Arc<watch::Sender<bool>>);

impl Drop for StopOnPanic {
    fn drop(&mut self) {
        if thread::panicking() {
            self.0.send_replace(true);
        }
    }
}

fn signal_name(kind: SignalKind) -> String {
    if kind == SignalKind::interrupt() {
        "SIGINT".into()
    } else if kind == SignalKind::terminate() {
        "SIGTERM".into()
    } else {
        format!("signal {}", kind.as_raw())
    }
}

impl ServerBuilder {
    /// How many workers (threads, runtimes, listeners) to start; the
    /// default is one per available CPU. Zero is refused by
    /// [`bind`](ServerBuilder::bind).
    ///
    /// ```
    /// let builder = minirt::server::Server::builder().workers(2);
    /// # drop(builder);
    /// ```
    pub fn workers(mut self, n: usize) -> ServerBuilder {
        self.workers = n;
        self
    }

    /// Pins worker `i` to the `i`-th CPU the process may run on (wrapping
    /// around). Linux only; elsewhere a no-op. Off by default: pinning helps
    /// on a machine the server has to itself and hurts on a shared one,
    /// where a pinned worker cannot move away from a busy core.
    ///
    /// ```
    /// let builder = minirt::server::Server::builder().pin_to_cores(true);
    /// # drop(builder);
    /// ```
    pub fn pin_to_cores(mut self, pin: bool) -> ServerBuilder {
        self.pin_to_cores = pin;
        self
    }

    /// How long each worker's connection tasks may run after the shutdown
    /// begins before they are aborted (default 5 s).
    ///
    /// ```
    /// let builder = minirt::server::Server::builder().grace(std::time::Duration::from_millis(500));
    /// # drop(builder);
    /// ```
    pub fn grace(mut self, grace: Duration) -> ServerBuilder {
        self.grace = grace;
        self
    }

    /// Opens one `SO_REUSEPORT` listener per worker on `addr` (the first
    /// address it resolves to).
    ///
    /// ```
    /// let server = minirt::server::Server::builder().workers(2).bind("127.0.0.1:0").unwrap();
    /// assert_eq!(server.workers(), 2);
    /// ```
    ///
    /// # Errors
    ///
    /// `InvalidInput` for zero workers or an address that resolves to
    /// nothing; otherwise the OS error (`AddrInUse`, `PermissionDenied`...),
    /// its message naming the address.
    pub fn bind<A: ToSocketAddrs + fmt::Debug>(self, addr: A) -> io::Result<Server> {
        if self.workers == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "minirt::server needs at least one worker; `workers(0)` was asked for",
            ));
        }
        let resolved = addr
            .to_socket_addrs()
            .map_err(|err| io::Error::new(err.kind(), format!("cannot resolve {addr:?}: {err}")))?
            .next()
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{addr:?} resolves to no address"),
                )
            })?;
        let listeners = socket::bind_reuse_port(resolved, self.workers).map_err(|err| {
            io::Error::new(err.kind(), format!("cannot listen on {resolved}: {err}"))
        })?;
        let local_addr = listeners[0].local_addr()?;
        let (stop, _) = watch::channel(false);
        Ok(Server {
            listeners,
            local_addr,
            pin_to_cores: self.pin_to_cores,
            grace: self.grace,
            stop: Arc::new(stop),
        })
    }
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("local_addr", &self.local_addr)
            .field("workers", &self.listeners.len())
            .field("pin_to_cores", &self.pin_to_cores)
            .field("grace", &self.grace)
            .finish_non_exhaustive()
    }
}

/// Shuts a [`Server`] down as `SIGTERM` would: workers stop accepting and
/// drain. Cheap to clone, usable from any thread; shutting down twice is
/// harmless.
///
/// ```
/// let server = minirt::server::Server::builder().workers(1).bind("127.0.0.1:0").unwrap();
/// let handle = server.shutdown_handle();
/// let report = server.serve(move |_worker| {
///     let handle = handle.clone();
///     async move {
///         handle.shutdown(); // a worker may decide the server is done
///         std::future::pending::<()>().await;
///         Ok(())
///     }
/// }).unwrap();
/// assert_eq!(report.workers[0].in_flight, 0);
/// ```
#[derive(Clone, Debug)]
pub struct ShutdownHandle {
    stop: Arc<watch::Sender<bool>>,
}

impl ShutdownHandle {
    /// Begins the shutdown (idempotent).
    pub fn shutdown(&self) {
        self.stop.send_replace(true);
    }
}

/// How a [`Server::serve`] ended.
///
/// ```
/// use minirt::server::{ServeReport, WorkerReport};
///
/// let report = ServeReport {
///     signal: None,
///     workers: vec![WorkerReport { index: 0, in_flight: 2, aborted: 0 }],
/// };
/// assert_eq!(report.aborted(), 0);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServeReport {
    /// The signal that stopped the server, if one did.
    pub signal: Option<SignalKind>,
    /// Each worker's drain, by index.
    pub workers: Vec<WorkerReport>,
}

impl ServeReport {
    /// Connection tasks aborted at the end of the grace period, over all
    /// workers.
    pub fn aborted(&self) -> usize {
        self.workers.iter().map(|w| w.aborted).sum()
    }

    /// Connection tasks running when the workers stopped accepting, over all
    /// workers.
    pub fn in_flight(&self) -> usize {
        self.workers.iter().map(|w| w.in_flight).sum()
    }
}
