//! `Builder`: every knob of a runtime, validated in one place.

use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use super::lifecycle_hooks::RuntimeHook;
use super::trace::{LongPoll, LongPollConfig};
use super::{Runtime, UnhandledPanic};
use crate::blocking::{PoolConfig, DEFAULT_KEEP_ALIVE, DEFAULT_MAX_THREADS};
use crate::time::Clock;

/// A hook run on each runtime thread as it starts or stops.
pub(crate) type ThreadHook = Arc<dyn Fn() + Send + Sync + 'static>;

/// Configures and builds a [`Runtime`].
///
/// Setters only record values; [`build`](Builder::build) validates them and
/// returns an `io::Error` of kind `InvalidInput` whose message names the
/// offending setting.
///
/// ```
/// use minirt::Builder;
///
/// let rt = Builder::multi_thread()
///     .worker_threads(2)
///     .thread_name("app-worker")
///     .max_blocking_threads(16)
///     .build()?;
/// assert_eq!(rt.block_on(async { 40 + 2 }), 42);
///
/// let err = Builder::multi_thread().worker_threads(0).build().unwrap_err();
/// assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
/// assert!(err.to_string().contains("worker_threads"));
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Builder {
    pub(crate) kind: Kind,
    pub(crate) worker_threads: Option<usize>,
    pub(crate) thread_name: String,
    pub(crate) thread_stack_size: Option<usize>,
    pub(crate) on_thread_start: Option<ThreadHook>,
    pub(crate) on_thread_stop: Option<ThreadHook>,
    pub(crate) max_blocking_threads: usize,
    pub(crate) blocking_keep_alive: Duration,
    pub(crate) clock: Clock,
    pub(crate) seed: Option<u64>,
    /// Async hooks run once inside `build` (see `lifecycle_hooks.rs`).
    pub(crate) on_runtime_start: Vec<RuntimeHook>,
    /// Async hooks run once when the runtime shuts down.
    pub(crate) on_runtime_shutdown: Vec<RuntimeHook>,
    /// What a panic in a spawned task does ([`Builder::unhandled_panic`]).
    pub(crate) unhandled_panic: UnhandledPanic,
    /// The long-poll detector ([`Builder::on_long_poll`]).
    pub(crate) long_poll: Option<LongPollConfig>,
}

/// Which scheduler a [`Builder`] builds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    CurrentThread,
    MultiThread,
}

/// The environment variable that overrides the default worker count.
pub const WORKER_THREADS_ENV: &str = "MINIRT_WORKER_THREADS";

impl Builder {
    /// A builder for the current-thread runtime: every task runs on the
    /// thread that calls `block_on`; no worker threads are started.
    pub fn current_thread() -> Builder {
        Builder::with_kind(Kind::CurrentThread)
    }

    /// A builder for the work-stealing multi-thread runtime (the default of
    /// [`Runtime::new`]).
    pub fn multi_thread() -> Builder {
        Builder::with_kind(Kind::MultiThread)
    }

    fn with_kind(kind: Kind) -> Builder {
        Builder {
            kind,
            worker_threads: None,
            thread_name: "minirt-worker".to_owned(),
            thread_stack_size: None,
            on_thread_start: None,
            on_thread_stop: None,
            max_blocking_threads: DEFAULT_MAX_THREADS,
            blocking_keep_alive: DEFAULT_KEEP_ALIVE,
            clock: Clock::real(),
            seed: None,
            on_runtime_start: Vec::new(),
            on_runtime_shutdown: Vec::new(),
            unhandled_panic: UnhandledPanic::Ignore,
            long_poll: None,
        }
    }

    /// Number of worker threads of the multi-thread runtime. Defaults to the
    /// `MINIRT_WORKER_THREADS` environment variable if set, else
    /// `std::thread::available_parallelism()`. Must be at least 1. Ignored
    /// by the current-thread runtime.
    pub fn worker_threads(mut self, n: usize) -> Builder {
        self.worker_threads = Some(n);
        self
    }

    /// Name prefix of the runtime's threads (workers are `NAME-0`, ...;
    /// blocking threads `NAME-blocking-0`, ...). Must not be empty.
    pub fn thread_name(mut self, name: impl Into<String>) -> Builder {
        self.thread_name = name.into();
        self
    }

    /// Stack size in bytes of the runtime's threads (at least 16 KiB).
    pub fn thread_stack_size(mut self, bytes: usize) -> Builder {
        self.thread_stack_size = Some(bytes);
        self
    }

    /// Runs `f` on every runtime thread (workers and blocking threads) when
    /// it starts.
    ///
    /// If `f` panics, the panic is caught (after the panic hook reported
    /// it, as for any panic) and the thread runs as if `f` had returned:
    /// a hook cannot take a worker or a blocking thread down.
    ///
    /// ```
    /// let rt = minirt::Builder::multi_thread()
    ///     .worker_threads(1)
    ///     .on_thread_start(|| panic!("a faulty hook"))
    ///     .build()?;
    /// assert_eq!(rt.block_on(rt.spawn(async { 1 })).unwrap(), 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn on_thread_start(mut self, f: impl Fn() + Send + Sync + 'static) -> Builder {
        self.on_thread_start = Some(Arc::new(f));
        self
    }

    /// Runs `f` on every runtime thread just before it exits. A panic in
    /// `f` is caught as for [`on_thread_start`](Builder::on_thread_start):
    /// the thread still exits cleanly and the runtime's drop still returns.
    ///
    /// ```
    /// let rt = minirt::Builder::multi_thread()
    ///     .worker_threads(1)
    ///     .on_thread_stop(|| panic!("a faulty hook"))
    ///     .build()?;
    /// rt.block_on(async {});
    /// drop(rt); // joins the worker; does not panic
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn on_thread_stop(mut self, f: impl Fn() + Send + Sync + 'static) -> Builder {
        self.on_thread_stop = Some(Arc::new(f));
        self
    }

    /// Upper bound on threads of the blocking pool (default 512, at least 1).
    pub fn max_blocking_threads(mut self, n: usize) -> Builder {
        self.max_blocking_threads = n;
        self
    }

    /// How long an idle blocking thread waits for work before exiting
    /// (default 10 s).
    pub fn blocking_keep_alive(mut self, d: Duration) -> Builder {
        self.blocking_keep_alive = d;
        self
    }

    /// The clock timers read: [`Clock::real`] (default) or [`Clock::mock`]
    /// for virtual time (both runtimes support it).
    pub fn clock(mut self, clock: Clock) -> Builder {
        self.clock = clock;
        self
    }

    /// Shorthand for `.clock(Clock::mock())`: virtual time that jumps to the
    /// next deadline whenever everything is idle.
    pub fn mock_clock(self) -> Builder {
        self.clock(Clock::mock())
    }

    /// Deterministic mode (current-thread runtime only): ready tasks run in
    /// a permutation drawn from a PRNG seeded with `seed`, so tests and
    /// fuzzers can explore interleavings and replay one exactly. With a mock
    /// clock, the same seed gives the same order and the same virtual times.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// fn order(seed: u64) -> Vec<u32> {
    ///     let rt = minirt::Builder::current_thread().seed(seed).mock_clock().build().unwrap();
    ///     let log = Arc::new(Mutex::new(vec![]));
    ///     rt.block_on(async {
    ///         let hs: Vec<_> = (0..8).map(|i| {
    ///             let log = log.clone();
    ///             minirt::spawn(async move { log.lock().unwrap().push(i) })
    ///         }).collect();
    ///         for h in hs { h.await.unwrap(); }
    ///     });
    ///     let v = log.lock().unwrap().clone();
    ///     v
    /// }
    /// assert_eq!(order(7), order(7));
    /// ```
    pub fn seed(mut self, seed: u64) -> Builder {
        self.seed = Some(seed);
        self
    }

    /// What the runtime does when a spawned task panics: by default
    /// ([`UnhandledPanic::Ignore`]) the panic only reaches the task's
    /// `JoinHandle`; with [`UnhandledPanic::ShutdownRuntime`] the runtime
    /// cancels every task at the first panic and `block_on` panics. tokio's
    /// option of the same name (unstable there, and current-thread only);
    /// here both runtimes support both values.
    ///
    /// It covers tasks spawned with `spawn` and `spawn_local` (and scope
    /// tasks, which are spawned tasks); not the `block_on` future itself,
    /// whose panic already propagates out of `block_on`, nor blocking jobs,
    /// whose panic goes to their `JoinHandle`.
    ///
    /// ```
    /// use minirt::{Builder, UnhandledPanic};
    ///
    /// let rt = Builder::current_thread()
    ///     .unhandled_panic(UnhandledPanic::ShutdownRuntime)
    ///     .build()?;
    /// rt.spawn(async { panic!("boom") });
    /// let sibling = rt.spawn(std::future::pending::<()>());
    /// let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
    ///     rt.block_on(std::future::pending::<()>())
    /// }));
    /// assert!(outcome.is_err(), "block_on panics once a task panicked");
    /// // The other task was cancelled by the shutdown.
    /// assert!(sibling.is_finished());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn unhandled_panic(mut self, behavior: UnhandledPanic) -> Builder {
        self.unhandled_panic = behavior;
        self
    }

    /// Reports every poll that holds a runtime thread for longer than
    /// `threshold` — which task, where it was spawned, for how long — while
    /// it is still running, once per offending poll.
    ///
    /// A poll that takes that long is almost always a blocking call inside
    /// `async` code (a `std::thread::sleep`, a synchronous read, a heavy
    /// computation), which stalls every other task of that thread. A watcher
    /// thread (named `NAME-watch`) samples each runtime thread every
    /// `threshold / 4` (at least every millisecond) and calls `hook` on
    /// itself, never on a worker; a panic in `hook` is caught and the
    /// watching goes on. Cost while nothing is slow: a few stores around
    /// each poll (see the runtime's `trace` module), and none at all
    /// without a detector. `threshold` must not be zero.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use std::time::Duration;
    ///
    /// let seen = Arc::new(Mutex::new(Vec::new()));
    /// let log = seen.clone();
    /// let rt = minirt::Builder::current_thread()
    ///     .on_long_poll(Duration::from_millis(20), move |poll| {
    ///         log.lock().unwrap().push(poll.task_id());
    ///     })
    ///     .build()?;
    /// let task = rt.spawn(async {
    ///     std::thread::sleep(Duration::from_millis(200)); // blocks the thread
    /// });
    /// let id = task.id();
    /// rt.block_on(task).unwrap();
    /// assert_eq!(*seen.lock().unwrap(), [id]);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn on_long_poll(
        mut self,
        threshold: Duration,
        hook: impl Fn(&LongPoll) + Send + Sync + 'static,
    ) -> Builder {
        self.long_poll = Some(LongPollConfig {
            threshold,
            hook: Arc::new(hook),
        });
        self
    }

    /// [`on_long_poll`](Builder::on_long_poll) with the default hook: one
    /// line on stderr per offending poll (the [`LongPoll`]'s `Display`).
    ///
    /// ```
    /// let rt = minirt::Builder::multi_thread()
    ///     .warn_on_long_poll(std::time::Duration::from_millis(100))
    ///     .build()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn warn_on_long_poll(self, threshold: Duration) -> Builder {
        self.on_long_poll(threshold, super::trace::eprint_hook)
    }

    /// Validates the settings and starts the runtime.
    ///
    /// Then runs the [`on_runtime_start`](Builder::on_runtime_start) hooks;
    /// if one fails, the runtime shuts down again (without its shutdown
    /// hooks) and this returns the hook's error.
    pub fn build(mut self) -> io::Result<Runtime> {
        let start_hooks = std::mem::take(&mut self.on_runtime_start);
        let shutdown_hooks = std::mem::take(&mut self.on_runtime_shutdown);
        let mut runtime = Runtime::from_builder(self.validate()?)?;
        runtime.run_start_hooks(start_hooks)?;
        runtime.shutdown_hooks = shutdown_hooks;
        Ok(runtime)
    }

    fn validate(mut self) -> io::Result<Builder> {
        if self.kind == Kind::MultiThread {
            let n = match self.worker_threads {
                Some(n) => n,
                None => default_worker_threads()?,
            };
            if n == 0 {
                return Err(invalid("worker_threads must be at least 1 (got 0)"));
            }
            self.worker_threads = Some(n);
        }
        if self.thread_name.is_empty() {
            return Err(invalid("thread_name must not be empty"));
        }
        if let Some(size) = self.thread_stack_size {
            if size < 16 * 1024 {
                return Err(invalid(&format!(
                    "thread_stack_size must be at least 16384 bytes (got {size})"
                )));
            }
        }
        if self.seed.is_some() && self.kind == Kind::MultiThread {
            return Err(invalid(
                "seed is only supported by the current-thread runtime (Builder::current_thread())",
            ));
        }
        if self.max_blocking_threads == 0 {
            return Err(invalid("max_blocking_threads must be at least 1 (got 0)"));
        }
        if self
            .long_poll
            .as_ref()
            .is_some_and(|l| l.threshold.is_zero())
        {
            return Err(invalid(
                "on_long_poll threshold must be greater than zero (every poll would be long)",
            ));
        }
        Ok(self)
    }

    pub(crate) fn blocking_config(&self) -> PoolConfig {
        PoolConfig {
            name: format!("{}-blocking", self.thread_name),
            max_threads: self.max_blocking_threads,
            keep_alive: self.blocking_keep_alive,
            stack_size: self.thread_stack_size,
            on_thread_start: self.on_thread_start.clone(),
            on_thread_stop: self.on_thread_stop.clone(),
        }
    }
}

fn default_worker_threads() -> io::Result<usize> {
    match std::env::var(WORKER_THREADS_ENV) {
        Ok(value) => value.trim().parse::<usize>().map_err(|_| {
            invalid(&format!(
                "{WORKER_THREADS_ENV} must be a positive integer (got {value:?})"
            ))
        }),
        Err(_) => Ok(std::thread::available_parallelism().map_or(1, |n| n.get())),
    }
}

fn invalid(msg: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("minirt::Builder: {msg}"),
    )
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("kind", &self.kind)
            .field("worker_threads", &self.worker_threads)
            .field("thread_name", &self.thread_name)
            .field("thread_stack_size", &self.thread_stack_size)
            .field("max_blocking_threads", &self.max_blocking_threads)
            .field("blocking_keep_alive", &self.blocking_keep_alive)
            .field("clock", &self.clock)
            .field("seed", &self.seed)
            .field("on_runtime_start", &self.on_runtime_start.len())
            .field("on_runtime_shutdown", &self.on_runtime_shutdown.len())
            .field("unhandled_panic", &self.unhandled_panic)
            .field(
                "long_poll_threshold",
                &self.long_poll.as_ref().map(|l| l.threshold),
            )
            .finish_non_exhaustive()
    }
}
