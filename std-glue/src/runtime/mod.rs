//! Runtimes: the current-thread scheduler behind `minirt::block_on`, the
//! work-stealing multi-thread scheduler, and the [`Handle`] tasks use to
//! reach them.

mod builder;
pub(crate) mod context;
pub(crate) mod current_thread;
mod lifecycle_hooks;
mod metrics;
pub(crate) mod multi_thread;
pub(crate) mod trace;
pub(crate) mod unhandled_panic;

use std::fmt;
use std::future::Future;
use std::io;
use std::panic::Location;
use std::sync::Arc;
use std::time::Duration;

use minirt_core::task::JoinHandle;

use crate::blocking::task::{spawn_blocking_on, BlockingJob};
use crate::blocking::Pool;
use crate::driver::Driver;

pub use builder::{Builder, WORKER_THREADS_ENV};
pub use lifecycle_hooks::HookError;
pub use metrics::RuntimeMetrics;
pub use minirt_core::task::{TaskState, WaitKind};
pub use trace::{Dump, LongPoll, ScopeDump, TaskDump, TaskKind, WaitsOn};
pub(crate) use unhandled_panic::PanicShutdown;
pub use unhandled_panic::UnhandledPanic;

use builder::Kind;

/// A runtime: a scheduler for tasks, a blocking pool, and the driver that
/// serves its timers, its clock (real or mock) and its I/O.
///
/// Build one with [`Runtime::new`] (multi-thread, work stealing) or a
/// [`Builder`]. Most programs that only need to run a few things from
/// synchronous code can use [`minirt::block_on`](crate::block_on) instead,
/// which keeps a current-thread runtime per thread.
///
/// Dropping the runtime shuts it down: every task still alive is cancelled
/// (its future dropped, destructors run), then the blocking pool waits for
/// closures already running.
///
/// ```
/// let rt = minirt::Runtime::new()?;
/// let handle = rt.spawn(async { "from a worker" });
/// assert_eq!(rt.block_on(handle).unwrap(), "from a worker");
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Runtime {
    handle: Handle,
    /// The worker threads of a multi-thread runtime, joined on drop.
    workers: Option<multi_thread::Workers>,
    /// Bound on how long dropping waits for blocking work.
    shutdown_timeout: Option<Duration>,
    /// Run once when the runtime shuts down, before tasks are cancelled.
    shutdown_hooks: Vec<lifecycle_hooks::RuntimeHook>,
    /// The long-poll watcher thread, if `on_long_poll` was set; stopped
    /// after the workers.
    watcher: Option<trace::Watcher>,
}

/// A cheap, cloneable reference to a runtime, usable from any thread.
///
/// ```
/// let rt = minirt::Runtime::new()?;
/// let handle = rt.handle().clone();
/// let join = std::thread::spawn(move || handle.spawn(async { 1 }))
///     .join()
///     .unwrap();
/// assert_eq!(rt.block_on(join).unwrap(), 1);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct Handle {
    pub(crate) inner: Arc<HandleInner>,
}

pub(crate) struct HandleInner {
    pub(crate) scheduler: SchedulerHandle,
    pub(crate) blocking: Arc<Pool<BlockingJob>>,
    /// I/O, timers, the clock and the busy count; sockets register with its
    /// reactor.
    pub(crate) driver: Arc<Driver>,
    /// Dumps' state (the scope registry, among others).
    pub(crate) tracer: Arc<trace::Tracer>,
}

/// What a scheduler needs from the runtime being built.
pub(crate) struct Parts {
    pub(crate) driver: Arc<Driver>,
    /// What to do when a spawned task panics.
    pub(crate) on_panic: Arc<PanicShutdown>,
    /// Dumps' and the long-poll detector's state.
    pub(crate) tracer: Arc<trace::Tracer>,
}

pub(crate) enum SchedulerHandle {
    CurrentThread(Arc<current_thread::Shared>),
    MultiThread(Arc<multi_thread::Shared>),
}

impl Runtime {
    /// A multi-thread runtime with default settings.
    pub fn new() -> io::Result<Runtime> {
        Builder::multi_thread().build()
    }

    /// Same as [`Builder::multi_thread`].
    pub fn builder() -> Builder {
        Builder::multi_thread()
    }

    pub(crate) fn from_builder(builder: Builder) -> io::Result<Runtime> {
        let blocking = Arc::new(Pool::new(builder.blocking_config()));
        let (pollers, multi) = match builder.kind {
            Kind::CurrentThread => (1, false),
            Kind::MultiThread => (builder.worker_threads.expect("validated by Builder"), true),
        };
        let driver = Driver::new(&builder.clock, pollers)?;
        let tracer = Arc::new(trace::Tracer::new(
            builder.long_poll.as_ref(),
            pollers,
            multi,
        ));
        let watcher = trace::Watcher::start(&tracer, &builder.thread_name)?;
        let make_handle = |scheduler| Handle {
            inner: Arc::new(HandleInner {
                scheduler,
                blocking: blocking.clone(),
                driver: driver.clone(),
                tracer: tracer.clone(),
            }),
        };
        let parts = Parts {
            driver: driver.clone(),
            on_panic: Arc::new(PanicShutdown::new(builder.unhandled_panic)),
            tracer: tracer.clone(),
        };
        match builder.kind {
            Kind::CurrentThread => {
                let shared = current_thread::Shared::new(parts, builder.seed);
                let handle = make_handle(SchedulerHandle::CurrentThread(shared));
                Ok(Runtime {
                    handle,
                    workers: None,
                    shutdown_timeout: None,
                    shutdown_hooks: Vec::new(),
                    watcher,
                })
            }
            Kind::MultiThread => {
                let (handle, _shared, workers) =
                    multi_thread::Shared::start(&builder, parts, |shared| {
                        make_handle(SchedulerHandle::MultiThread(shared))
                    })?;
                Ok(Runtime {
                    handle,
                    workers: Some(workers),
                    shutdown_timeout: None,
                    shutdown_hooks: Vec::new(),
                    watcher,
                })
            }
        }
    }

    /// Runs `future` to completion on the calling thread, with this runtime
    /// current (so `minirt::spawn` inside it spawns here).
    ///
    /// # Panics
    ///
    /// If called from inside a runtime (a task, or another `block_on`): that
    /// would block a thread other tasks depend on. Use `.await` instead.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.handle.block_on_as("Runtime::block_on", future)
    }

    /// Spawns a task on this runtime; see [`Handle::spawn`].
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn_at(future, Location::caller())
    }

    /// Runs a blocking closure on this runtime's blocking pool; see
    /// [`crate::spawn_blocking`].
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.handle.spawn_blocking(f)
    }

    /// Runs all `futures` concurrently on this runtime and returns their
    /// outputs in input order.
    pub fn run<I>(&self, futures: I) -> Vec<<I::Item as Future>::Output>
    where
        I: IntoIterator,
        I::Item: Future,
    {
        self.block_on(minirt_core::future::join_all(futures))
    }

    /// The runtime's handle.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Counters describing what the runtime has done so far.
    pub fn metrics(&self) -> RuntimeMetrics {
        self.handle.metrics()
    }

    /// A snapshot of every live task; see [`Handle::dump`].
    pub fn dump(&self) -> Dump {
        self.handle.dump()
    }

    /// Shuts down, waiting at most `timeout` for running blocking closures
    /// (tasks are always cancelled right away). Threads still busy after
    /// the timeout are detached.
    pub fn shutdown_timeout(mut self, timeout: Duration) {
        self.shutdown_timeout = Some(timeout);
        drop(self);
    }

    /// Shuts down as dropping does, and returns the first error an
    /// [`on_runtime_shutdown`](Builder::on_runtime_shutdown) hook returned
    /// (dropping only prints it on stderr).
    ///
    /// ```
    /// let rt = minirt::Builder::current_thread()
    ///     .on_runtime_shutdown(|| async { Err("the log could not be flushed".into()) })
    ///     .build()?;
    /// let err = rt.shutdown().unwrap_err();
    /// assert_eq!(err.to_string(), "the log could not be flushed");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # Panics
    ///
    /// With a shutdown hook's panic, once the runtime has shut down.
    pub fn shutdown(mut self) -> Result<(), HookError> {
        let outcome = self.run_shutdown_hooks();
        drop(self);
        if let Some(payload) = outcome.panic {
            std::panic::resume_unwind(payload);
        }
        outcome.error.map_or(Ok(()), Err)
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        // Hooks first: the tasks they may talk to are still alive.
        let hooks = self.run_shutdown_hooks();
        // Destructors of cancelled tasks may call `minirt::spawn`; let them
        // find this (closed) runtime rather than panic.
        let (workers, watcher) = (self.workers.take(), self.watcher.take());
        let handle = &self.handle;
        context::enter_handle(handle, || {
            match &handle.inner.scheduler {
                SchedulerHandle::CurrentThread(ct) => ct.shutdown(),
                SchedulerHandle::MultiThread(mt) => {
                    if let Some(workers) = workers {
                        workers.shutdown(mt);
                    }
                }
            }
            handle.inner.blocking.shutdown(self.shutdown_timeout);
            if let Some(mut watcher) = watcher {
                watcher.stop();
            }
        });
        if let Some(payload) = hooks.panic {
            if !std::thread::panicking() {
                std::panic::resume_unwind(payload);
            }
        }
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("flavor", &self.handle.flavor())
            .finish_non_exhaustive()
    }
}

impl Handle {
    /// The handle of the runtime the calling thread is inside.
    ///
    /// # Panics
    ///
    /// Outside a runtime; see [`try_current`](Handle::try_current).
    #[track_caller]
    pub fn current() -> Handle {
        match Handle::try_current() {
            Some(handle) => handle,
            None => panic!("{}", NO_RUNTIME),
        }
    }

    /// The handle of the runtime the calling thread is inside, if any.
    ///
    /// "Inside" means: in a task, in a `block_on` future
    /// ([`Runtime::block_on`], [`Handle::block_on`], `minirt::block_on`), in
    /// a `spawn_blocking` closure, or in a scope child; there it is the
    /// runtime that runs that code.
    ///
    /// ```
    /// assert!(minirt::Handle::try_current().is_none());
    /// let rt = minirt::Runtime::new()?;
    /// let inside = rt.block_on(async {
    ///     minirt::spawn_blocking(|| minirt::Handle::try_current().is_some()).await
    /// });
    /// assert!(inside.unwrap());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn try_current() -> Option<Handle> {
        context::try_current()
    }

    /// Runs `future` to completion on the calling thread, on the runtime
    /// behind this handle: from synchronous code that has a handle but not
    /// the [`Runtime`], typically a `spawn_blocking` closure that needs an
    /// async API.
    ///
    /// The future runs on the calling thread (as with tokio's
    /// `Handle::block_on`), with this runtime current: `minirt::spawn` in it
    /// spawns onto the runtime, and its sleeps and sockets use the runtime's
    /// timers and I/O driver.
    ///
    /// # Timers and I/O on a current-thread runtime
    ///
    /// tokio's `Handle::block_on` cannot drive a current-thread runtime's
    /// timers and I/O: a sleep in it completes only while some thread is in
    /// `Runtime::block_on`. minirt has one driver per runtime, which whoever
    /// drives the runtime polls, so:
    ///
    /// - if a thread is inside the runtime's `block_on` (the common case:
    ///   `rt.block_on(...)` awaiting the `spawn_blocking` that calls this),
    ///   that thread fires the timers and polls the I/O, and their wake-ups
    ///   reach this thread's future;
    /// - if none is, this call drives the runtime itself — its tasks, timers
    ///   and I/O — on the calling thread, like `Runtime::block_on`.
    ///
    /// Either way a sleep or a socket in `future` completes. With a mock
    /// clock, the thread counts as idle while it waits, so virtual time moves
    /// (a `spawn_blocking` closure blocked here does not hold time still).
    ///
    /// # Panics
    ///
    /// If called from inside the runtime's asynchronous context — a task, a
    /// `block_on` future, a worker thread — because blocking that thread
    /// would stall the tasks it drives (and could deadlock waiting for
    /// them). Call it from a `spawn_blocking` closure or a thread of your
    /// own, or `.await` the future instead.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = minirt::Builder::current_thread().build()?;
    /// let out = rt.block_on(async {
    ///     minirt::spawn_blocking(|| {
    ///         // Synchronous code with async APIs to call.
    ///         let handle = minirt::Handle::current();
    ///         handle.block_on(async {
    ///             minirt::time::sleep(Duration::from_millis(5)).await;
    ///             "slept on the runtime's timers"
    ///         })
    ///     })
    ///     .await
    /// });
    /// assert_eq!(out.unwrap(), "slept on the runtime's timers");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.block_on_as("Handle::block_on", future)
    }

    /// `block_on` for [`Runtime::block_on`] and [`Handle::block_on`]; `what`
    /// names the caller in the panic message.
    #[track_caller]
    #[inline]
    fn block_on_as<F: Future>(&self, what: &str, future: F) -> F::Output {
        let _entered = context::enter_runtime(what);
        context::enter_handle(self, || match &self.inner.scheduler {
            SchedulerHandle::CurrentThread(ct) => ct.block_on(future),
            SchedulerHandle::MultiThread(mt) => mt.block_on(future),
        })
    }

    /// Spawns a `Send` task; it starts running right away on the runtime's
    /// threads (or, for a current-thread runtime, at its next `block_on`).
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawn_at(future, Location::caller())
    }

    /// [`spawn`](Self::spawn) with the spawn site a dump shows given (for
    /// callers whose own caller is behind a closure).
    #[inline]
    pub(crate) fn spawn_at<F>(
        &self,
        future: F,
        at: &'static Location<'static>,
    ) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        // SAFETY: the future and its output are `'static`, so nothing they
        // borrow can be invalidated while the task lives.
        unsafe { self.spawn_unchecked(future, at) }
    }

    /// Spawns a `Send` future that may borrow non-`'static` data (for
    /// scopes); `at` is the spawn site a dump shows.
    ///
    /// # Safety
    ///
    /// The task must be completed or shut down, and its output taken or
    /// dropped, before anything the future borrows is invalidated.
    #[inline]
    pub(crate) unsafe fn spawn_unchecked<F>(
        &self,
        future: F,
        at: &'static Location<'static>,
    ) -> JoinHandle<F::Output>
    where
        F: Future + Send,
        F::Output: Send,
    {
        // SAFETY: forwarded from the caller.
        unsafe {
            match &self.inner.scheduler {
                SchedulerHandle::CurrentThread(ct) => ct.spawn_unchecked(future, at),
                SchedulerHandle::MultiThread(mt) => mt.spawn_unchecked(future, at),
            }
        }
    }

    /// Runs a blocking closure on the runtime's blocking pool.
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        spawn_blocking_on(&self.inner.blocking, Some(self.clone()), f)
    }

    /// Counters describing what the runtime has done so far.
    pub fn metrics(&self) -> RuntimeMetrics {
        metrics::collect(self)
    }

    /// A snapshot of every live task of the runtime: its id, where it was
    /// spawned, its state, how often it was polled and how long ago last.
    ///
    /// Works on both runtimes, from any thread, while the runtime runs (a
    /// task may dump its own runtime). What it costs while taken:
    ///
    /// - **multi-thread**: each owned-task shard's lock in turn, held while
    ///   its tasks' headers are read (a spawn or a completion on that shard
    ///   waits that long: about 10 ns per task);
    /// - **current-thread**: the tasks the driving thread owns can only be
    ///   read on that thread, so a dump from elsewhere asks it and waits for
    ///   its next scheduling round (up to 100 ms; if it is stuck in one
    ///   poll, the dump says so in [`Dump::unlisted`] instead), or, when no
    ///   thread drives the runtime, reads them itself. Local tasks are
    ///   listed when the dump runs on, or is answered by, their own thread.
    ///
    /// No task is paused, and no allocation is made per task beyond the
    /// dump's own vector.
    ///
    /// ```
    /// let rt = minirt::Runtime::new()?;
    /// let (tx, rx) = std::sync::mpsc::channel::<()>();
    /// let stuck = rt.spawn(async move {
    ///     minirt::time::sleep(std::time::Duration::from_secs(3600)).await;
    ///     drop(tx);
    /// });
    /// let dump = rt.dump();
    /// let task = dump.tasks().iter().find(|t| t.id() == stuck.id()).unwrap();
    /// assert!(task.spawned_at().file().ends_with(".rs"));
    /// println!("{dump}");
    /// # drop(rx);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn dump(&self) -> Dump {
        match &self.inner.scheduler {
            SchedulerHandle::CurrentThread(ct) => ct.dump(),
            SchedulerHandle::MultiThread(mt) => mt.dump(),
        }
    }

    fn flavor(&self) -> &'static str {
        match &self.inner.scheduler {
            SchedulerHandle::CurrentThread(_) => "current_thread",
            SchedulerHandle::MultiThread(_) => "multi_thread",
        }
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("flavor", &self.flavor())
            .finish_non_exhaustive()
    }
}

pub(crate) const NO_RUNTIME: &str = "there is no minirt runtime on this thread: call this from \
     inside `minirt::block_on(...)`, `Runtime::block_on`, or a task spawned on a runtime";

/// Spawns a `!Send` task on the current-thread runtime driving this thread.
#[track_caller]
pub(crate) fn spawn_local<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let at = Location::caller();
    context::with_current(|handle| match handle.map(|h| &h.inner.scheduler) {
        Some(SchedulerHandle::CurrentThread(ct)) if ct.is_core_thread() => {
            ct.spawn_local(future, at)
        }
        _ => panic!(
            "minirt::spawn_local needs a current-thread runtime driven by this thread: call it \
             inside `minirt::block_on(...)` or a current-thread `Runtime::block_on`"
        ),
    })
}
