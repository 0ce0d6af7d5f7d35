//! `c10k_idle` and `c10k_idle_memory`: one server holding
//! [`C10K_CONNECTIONS`] idle loopback TCP connections, for minirt, tokio and
//! smol (each on its 2-worker runtime).
//!
//! Why: a server's idle connections are most of its connections. What each
//! costs in heap while it waits (a task, a reactor registration, a buffer of
//! the runtime's making) decides how many fit, and how fast a burst of them
//! is accepted decides how a server rides out a reconnect storm.
//!
//! How, the same for every runtime: the server accepts exactly the
//! connections of one run and spawns a task per connection that increments a
//! count, then waits in a one-byte `read`. The clients are plain blocking
//! `std` sockets connected from the bench thread, so only the server side is
//! the runtime's; they stay at most [`C10K_MAX_PENDING`] connections ahead of
//! the accepts (a full accept backlog would make the kernel drop SYNs and a
//! client wait a second to retry). `c10k_idle` is the time from the first
//! `connect` until every connection's task holds it; `c10k_idle_memory` is
//! the heap bytes allocated meanwhile, per connection. Clients close with
//! `SO_LINGER` 0 (a reset, no `TIME_WAIT`), so runs do not run out of ports.
//!
//! Both ends are in this process, so each connection takes two file
//! descriptors: [`connections`] raises `RLIMIT_NOFILE`'s soft limit to its
//! hard limit, and scales the count down (saying why, once) if even that is
//! too low.

use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, OnceLock};
use std::time::{Duration, Instant};

use crate::alloc_counter::ByteCounter;
use crate::countdown::Countdown;
use crate::params::*;
use crate::workloads::{Runner, Runtime};

/// The code for c10k workload `id` on `runtime`.
pub(crate) fn runner(runtime: Runtime, id: &str) -> Option<Runner> {
    Some(match (runtime, id) {
        #[cfg(feature = "minirt")]
        (Runtime::Minirt, "c10k_idle") => {
            Runner::Time(|iters| time(&minirt_side::Server::new(), iters))
        }
        #[cfg(feature = "minirt")]
        (Runtime::Minirt, "c10k_idle_memory") => {
            Runner::Bytes(|| bytes(&minirt_side::Server::new()))
        }
        (Runtime::Tokio, "c10k_idle") => {
            Runner::Time(|iters| time(&tokio_side::Server::new(), iters))
        }
        (Runtime::Tokio, "c10k_idle_memory") => Runner::Bytes(|| bytes(&tokio_side::Server::new())),
        (Runtime::Smol, "c10k_idle") => {
            Runner::Time(|iters| time(&smol_side::Server::new(), iters))
        }
        (Runtime::Smol, "c10k_idle_memory") => Runner::Bytes(|| bytes(&smol_side::Server::new())),
        _ => return None,
    })
}

/// File descriptors kept free for everything else the process holds.
const SPARE_FDS: u64 = 256;

/// How many connections one run makes: [`C10K_CONNECTIONS`] (a tenth in
/// `--quick` mode), or fewer if the file-descriptor limit cannot hold two
/// descriptors per connection even after raising the soft limit to the
/// hard one. Decided, and explained on stderr if scaled down, once.
pub fn connections() -> usize {
    static COUNT: OnceLock<usize> = OnceLock::new();
    let wanted = if quick() {
        C10K_CONNECTIONS / 10
    } else {
        C10K_CONNECTIONS
    };
    let budget = *COUNT.get_or_init(|| {
        let limit = raise_fd_limit();
        let fit = (limit.saturating_sub(SPARE_FDS) / 2) as usize;
        if fit < C10K_CONNECTIONS {
            eprintln!(
                "c10k_idle: RLIMIT_NOFILE's hard limit is {limit}: with two descriptors per \
                 loopback connection (both ends are in this process) and {SPARE_FDS} spare, \
                 at most {fit} connections fit, not {C10K_CONNECTIONS}; measuring {fit}"
            );
        }
        fit
    });
    wanted.min(budget)
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit; returns the limit now
/// in force.
fn raise_fd_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid, writable `rlimit` for the call to fill.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return 1024;
    }
    if limit.rlim_cur < limit.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: limit.rlim_max,
            rlim_max: limit.rlim_max,
        };
        // SAFETY: `raised` is a valid `rlimit`, only read by the call.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            limit = raised;
        }
    }
    limit.rlim_cur
}

/// What the server side of one run reports: counts of connections held and
/// closed, and signals when all are.
pub struct Tally {
    /// Connections whose task has started waiting on them.
    held: AtomicUsize,
    /// Fires when every connection of the run is held.
    all_held: Countdown<mpsc::Sender<()>>,
    /// Fires when every connection of the run is closed on the server side.
    all_closed: Countdown<mpsc::Sender<()>>,
}

impl Tally {
    /// Called by a connection's task when it starts waiting on it.
    pub fn held(&self) {
        self.held.fetch_add(1, Ordering::AcqRel);
        if let Some(done) = self.all_held.count_down() {
            let _ = done.send(());
        }
    }

    /// Called by a connection's task after it has closed its end.
    pub fn closed(&self) {
        if let Some(done) = self.all_closed.count_down() {
            let _ = done.send(());
        }
    }
}

/// One runtime's server: a listener on a runtime that stays up across runs.
trait Server {
    /// Where clients connect.
    fn addr(&self) -> SocketAddr;
    /// Spawns a task that accepts `count` connections and gives each a task
    /// that calls `tally.held()`, waits in a one-byte read, closes, and calls
    /// `tally.closed()`.
    fn accept(&self, count: usize, tally: Arc<Tally>);
}

/// Connects `count` clients to `server`; returns the time until all are
/// held and the heap bytes allocated meanwhile (if `count_bytes` and the
/// counting allocator is installed). Leaves no connection behind.
fn run_once(server: &dyn Server, count: usize, count_bytes: bool) -> (Duration, Option<isize>) {
    let (held_tx, held_rx) = mpsc::channel();
    let (closed_tx, closed_rx) = mpsc::channel();
    let tally = Arc::new(Tally {
        held: AtomicUsize::new(0),
        all_held: Countdown::new(count, held_tx),
        all_closed: Countdown::new(count, closed_tx),
    });
    let mut clients = Vec::with_capacity(count);
    let addr = server.addr();
    let counter = if count_bytes {
        ByteCounter::start()
    } else {
        None
    };
    let start = Instant::now();
    server.accept(count, tally.clone());
    for connected in 0..count {
        while connected - tally.held.load(Ordering::Acquire) >= C10K_MAX_PENDING {
            std::thread::yield_now();
        }
        let client = TcpStream::connect(addr).expect("connecting a c10k client");
        reset_on_close(&client);
        clients.push(client);
    }
    held_rx.recv().expect("the server lost its tally");
    let elapsed = start.elapsed();
    let bytes = counter.as_ref().map(ByteCounter::net_bytes);
    drop(counter);
    drop(clients);
    closed_rx.recv().expect("the server lost its tally");
    (elapsed, bytes)
}

/// Makes closing `stream` send a reset (`SO_LINGER` with a zero timeout), so
/// that no `TIME_WAIT` entry is left to block the port for later runs.
fn reset_on_close(stream: &TcpStream) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: the descriptor is a live socket owned by `stream`, and the
    // option value is a `linger` of the size passed.
    let rc = unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(
        rc,
        0,
        "setting SO_LINGER: {}",
        std::io::Error::last_os_error()
    );
}

/// `c10k_idle`: the time `iters` runs take on one server.
fn time(server: &dyn Server, iters: u64) -> Duration {
    let count = connections();
    (0..iters).map(|_| run_once(server, count, false).0).sum()
}

/// `c10k_idle_memory`: heap bytes per connection of one run on a fresh server.
fn bytes(server: &dyn Server) -> Option<f64> {
    let count = connections();
    let bytes = run_once(server, count, true).1?;
    Some(bytes as f64 / count as f64)
}

#[cfg(feature = "minirt")]
mod minirt_side {
    //! minirt's 2-worker runtime.
    use super::*;
    use minirt::io::AsyncReadExt;
    use minirt::net::{TcpListener, TcpStream};

    pub(super) struct Server {
        rt: minirt::Runtime,
        listener: Arc<TcpListener>,
    }

    impl Server {
        pub(super) fn new() -> Server {
            let rt = minirt::Builder::multi_thread()
                .worker_threads(WORKER_THREADS)
                .build()
                .expect("building a minirt multi-thread runtime");
            let listener = rt
                .block_on(TcpListener::bind("127.0.0.1:0"))
                .expect("binding the c10k server");
            Server {
                rt,
                listener: Arc::new(listener),
            }
        }
    }

    async fn hold(mut stream: TcpStream, tally: Arc<Tally>) {
        tally.held();
        let _ = stream.read(&mut [0u8; 1]).await;
        drop(stream);
        tally.closed();
    }

    impl super::Server for Server {
        fn addr(&self) -> SocketAddr {
            self.listener.local_addr().expect("c10k server address")
        }

        fn accept(&self, count: usize, tally: Arc<Tally>) {
            let listener = self.listener.clone();
            drop(self.rt.spawn(async move {
                for _ in 0..count {
                    let (stream, _) = listener.accept().await.expect("c10k accept failed");
                    drop(minirt::spawn(hold(stream, tally.clone())));
                }
            }));
        }
    }
}

mod tokio_side {
    //! tokio's 2-worker runtime.
    use super::*;
    use tokio::io::AsyncReadExt;
    use tokio::net::{TcpListener, TcpStream};

    pub(super) struct Server {
        rt: tokio::runtime::Runtime,
        listener: Arc<TcpListener>,
    }

    impl Server {
        pub(super) fn new() -> Server {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(WORKER_THREADS)
                .enable_all()
                .build()
                .expect("building a tokio multi-thread runtime");
            let listener = rt
                .block_on(TcpListener::bind("127.0.0.1:0"))
                .expect("binding the c10k server");
            Server {
                rt,
                listener: Arc::new(listener),
            }
        }
    }

    async fn hold(mut stream: TcpStream, tally: Arc<Tally>) {
        tally.held();
        let _ = stream.read(&mut [0u8; 1]).await;
        drop(stream);
        tally.closed();
    }

    impl super::Server for Server {
        fn addr(&self) -> SocketAddr {
            self.listener.local_addr().expect("c10k server address")
        }

        fn accept(&self, count: usize, tally: Arc<Tally>) {
            let listener = self.listener.clone();
            drop(self.rt.spawn(async move {
                for _ in 0..count {
                    let (stream, _) = listener.accept().await.expect("c10k accept failed");
                    drop(tokio::spawn(hold(stream, tally.clone())));
                }
            }));
        }
    }
}

mod smol_side {
    //! smol: an `async-executor` run by 2 workers ([`SmolPool`]).
    use super::*;
    use crate::smol_pool::SmolPool;
    use async_net::{TcpListener, TcpStream};
    use futures_lite::AsyncReadExt;

    pub(super) struct Server {
        pool: SmolPool,
        listener: TcpListener,
    }

    impl Server {
        pub(super) fn new() -> Server {
            let pool = SmolPool::new(WORKER_THREADS);
            let listener = pool
                .block_on(TcpListener::bind("127.0.0.1:0"))
                .expect("binding the c10k server");
            Server { pool, listener }
        }
    }

    async fn hold(mut stream: TcpStream, tally: Arc<Tally>) {
        tally.held();
        let _ = stream.read(&mut [0u8; 1]).await;
        drop(stream);
        tally.closed();
    }

    impl super::Server for Server {
        fn addr(&self) -> SocketAddr {
            self.listener.local_addr().expect("c10k server address")
        }

        fn accept(&self, count: usize, tally: Arc<Tally>) {
            let listener = self.listener.clone();
            let executor = self.pool.executor().clone();
            self.pool
                .executor()
                .spawn(async move {
                    for _ in 0..count {
                        let (stream, _) = listener.accept().await.expect("c10k accept failed");
                        executor.spawn(hold(stream, tally.clone())).detach();
                    }
                })
                .detach();
        }
    }
}
