//! One worker: its listener, its connections, and how it drains.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::io;
use std::pin::pin;
use std::rc::Rc;
use std::time::Duration;

use minirt_core::future::{select, Either};
use minirt_core::sync::watch;
use minirt_reactor::net::TcpListener;

use crate::task::JoinHandle;

/// What one worker of a [`Server`](super::Server) gets: its index, its own
/// `SO_REUSEPORT` listener, the shutdown signal, and a way to spawn
/// connection tasks that the shutdown waits for.
///
/// A `Worker` lives on its worker's thread (it is `!Send`): everything it
/// spawns runs on that thread's current-thread runtime, so connection tasks
/// may hold `Rc`s and `RefCell`s of per-worker state.
///
/// ```no_run
/// use minirt::io::AsyncWriteExt;
/// use minirt::server::{Server, Worker};
///
/// fn main() -> std::io::Result<()> {
///     let server = Server::builder().workers(2).bind("127.0.0.1:8080")?;
///     server.serve(|worker: Worker| async move {
///         loop {
///             let (mut stream, _peer) = worker.listener().accept().await?;
///             let index = worker.index();
///             worker.spawn(async move {
///                 let _ = stream.write_all(format!("worker {index}\n").as_bytes()).await;
///             });
///         }
///     })?;
///     Ok(())
/// }
/// ```
///
/// It cannot be sent to another thread:
///
/// ```compile_fail
/// fn assert_send<T: Send>() {}
/// assert_send::<minirt::server::Worker>();
/// ```
pub struct Worker {
    /// This worker's number, `0..workers`.
    index: usize,
    /// The CPU it is pinned to, if it is.
    cpu: Option<usize>,
    /// Its own listener on the shared port.
    listener: TcpListener,
    /// Becomes `true` once the server shuts down.
    shutdown: watch::Receiver<bool>,
    /// Connection tasks spawned with [`Worker::spawn`], drained at shutdown.
    connections: Connections,
}

/// The connection tasks of one worker, shared between its [`Worker`] and the
/// drain that follows it.
pub(super) type Connections = Rc<RefCell<Vec<JoinHandle<()>>>>;

impl Worker {
    pub(super) fn new(
        index: usize,
        cpu: Option<usize>,
        listener: TcpListener,
        shutdown: watch::Receiver<bool>,
        connections: Connections,
    ) -> Worker {
        Worker {
            index,
            cpu,
            listener,
            shutdown,
            connections,
        }
    }

    /// This worker's number, from 0 to the worker count minus one (for
    /// logs, per-worker state, sharding).
    ///
    /// ```no_run
    /// # let server = minirt::server::Server::builder().bind("127.0.0.1:0").unwrap();
    /// server.serve(|worker| async move {
    ///     println!("worker {} ready", worker.index());
    ///     Ok(())
    /// }).unwrap();
    /// ```
    pub fn index(&self) -> usize {
        self.index
    }

    /// The CPU this worker's thread is pinned to, if
    /// [`pin_to_cores`](super::ServerBuilder::pin_to_cores) asked for it and
    /// the platform supports it (Linux).
    ///
    /// ```no_run
    /// # let server = minirt::server::Server::builder().pin_to_cores(true).bind("127.0.0.1:0").unwrap();
    /// server.serve(|worker| async move {
    ///     println!("worker {} on cpu {:?}", worker.index(), worker.cpu());
    ///     Ok(())
    /// }).unwrap();
    /// ```
    pub fn cpu(&self) -> Option<usize> {
        self.cpu
    }

    /// This worker's listener. Every worker has its own socket bound to the
    /// same address with `SO_REUSEPORT`; the kernel spreads new connections
    /// over them (on Linux by a hash of the client's address and port, so
    /// the spread is even only over many connections).
    ///
    /// The listener closes when the worker's setup future is dropped, at
    /// shutdown: from then on this worker accepts no one.
    ///
    /// ```no_run
    /// # let server = minirt::server::Server::builder().bind("127.0.0.1:0").unwrap();
    /// server.serve(|worker| async move {
    ///     let (_stream, peer) = worker.listener().accept().await?;
    ///     println!("worker {} got {peer}", worker.index());
    ///     Ok(())
    /// }).unwrap();
    /// ```
    pub fn listener(&self) -> &TcpListener {
        &self.listener
    }

    /// A future that completes once the server shuts down (a signal, a
    /// [`ShutdownHandle`](super::ShutdownHandle), or another worker's failure).
    /// Useful inside connection tasks, to finish a long conversation
    /// politely within the grace period. The setup future itself need not
    /// wait for it: it is cancelled at shutdown anyway.
    ///
    /// Cancellation safe: dropping the future loses nothing.
    ///
    /// ```no_run
    /// # let server = minirt::server::Server::builder().bind("127.0.0.1:0").unwrap();
    /// server.serve(|worker| async move {
    ///     let stop = worker.shutdown_signal();
    ///     worker.spawn(async move {
    ///         stop.await;
    ///         println!("saying goodbye to the client");
    ///     });
    ///     Ok(())
    /// }).unwrap();
    /// ```
    pub fn shutdown_signal(&self) -> impl Future<Output = ()> + Send + 'static {
        wait_for_shutdown(self.shutdown.clone())
    }

    /// Spawns a connection task on this worker's thread. Unlike a bare
    /// [`spawn_local`](crate::spawn_local), the shutdown waits for it: up to
    /// the grace period, then aborts it.
    ///
    /// ```no_run
    /// # let server = minirt::server::Server::builder().bind("127.0.0.1:0").unwrap();
    /// server.serve(|worker| async move {
    ///     loop {
    ///         let (stream, _) = worker.listener().accept().await?;
    ///         worker.spawn(async move { drop(stream) });
    ///     }
    /// }).unwrap();
    /// ```
    ///
    /// # Panics
    ///
    /// Outside the worker's thread (the `Worker` cannot leave it anyway).
    pub fn spawn<F>(&self, task: F)
    where
        F: Future<Output = ()> + 'static,
    {
        let handle = crate::spawn_local(task);
        let mut connections = self.connections.borrow_mut();
        // Forget finished ones, so the list holds what a shutdown waits for.
        connections.retain(|connection| !connection.is_finished());
        connections.push(handle);
    }
}

impl fmt::Debug for Worker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Worker")
            .field("index", &self.index)
            .field("cpu", &self.cpu)
            .field("listener", &self.listener)
            .finish_non_exhaustive()
    }
}

/// How one worker's shutdown went.
///
/// ```
/// use minirt::server::WorkerReport;
///
/// let report = WorkerReport { index: 0, in_flight: 3, aborted: 1 };
/// assert_eq!(report.in_flight - report.aborted, 2); // finished within the grace period
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkerReport {
    /// The worker's index.
    pub index: usize,
    /// Connection tasks still running when the worker stopped accepting.
    pub in_flight: usize,
    /// Of those, how many were still running at the end of the grace
    /// period and were aborted.
    pub aborted: usize,
}

pub(super) async fn wait_for_shutdown(mut shutdown: watch::Receiver<bool>) {
    // An error means the sender is gone, which only happens once `serve`
    // has returned: nothing is left to wait for either way.
    let _ = shutdown.wait_for(|stopping| *stopping).await;
}

/// Runs one worker's setup future until it ends or the server shuts down,
/// then drains the worker's connections (up to `grace` after the shutdown).
pub(super) async fn run_worker<Fut>(
    index: usize,
    setup: impl FnOnce(Worker) -> Fut,
    worker: Worker,
    stop: &watch::Sender<bool>,
    grace: Duration,
) -> io::Result<WorkerReport>
where
    Fut: Future<Output = io::Result<()>>,
{
    let shutdown = worker.shutdown.clone();
    let connections = worker.connections.clone();
    let served = {
        // Dropping the setup future at the end of this block drops the
        // `Worker` in it, and with it the listener: no more accepts.
        let serving = pin!(setup(worker));
        let stopping = pin!(wait_for_shutdown(shutdown.clone()));
        match select(serving, stopping).await {
            Either::Left(result) => result,
            Either::Right(()) => Ok(()),
        }
    };
    if served.is_err() {
        // One worker failing (its setup, its accept loop) stops them all.
        stop.send_replace(true);
    }
    let mut in_flight = std::mem::take(&mut *connections.borrow_mut());
    in_flight.retain(|connection| !connection.is_finished());
    let mut report = WorkerReport {
        index,
        in_flight: in_flight.len(),
        aborted: 0,
    };
    let timed_out = {
        let all_done = pin!(async {
            for connection in &mut in_flight {
                // A connection that panicked has reported it on stderr already.
                let _ = connection.await;
            }
        });
        let deadline = pin!(async {
            wait_for_shutdown(shutdown).await;
            crate::time::sleep(grace).await;
        });
        matches!(select(all_done, deadline).await, Either::Right(()))
    };
    if timed_out {
        for connection in &in_flight {
            if !connection.is_finished() {
                connection.abort();
                report.aborted += 1;
            }
        }
    }
    served.map(|()| report)
}
