//! [`Pool`]: submit jobs, read counters, shut down.

use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::config::PoolConfig;
use super::state::{Dispatch, State};
use super::worker;
use super::Job;

/// Source of [`Shared::id`], which tells a thread which pool it belongs to.
static NEXT_POOL_ID: AtomicU64 = AtomicU64::new(0);

/// Everything a pool's threads and its owner share.
pub(super) struct Shared<J> {
    /// Unique per pool, so `shutdown` can tell whether it runs on its own thread.
    pub(super) id: u64,
    /// Settings, fixed at creation.
    pub(super) config: PoolConfig,
    /// Queue and counters; see `state.rs` for the invariants.
    state: Mutex<State<J>>,
    /// Idle threads wait here; signalled once per claimed idle thread, and
    /// broadcast at shutdown.
    job_ready: Condvar,
    /// `shutdown` waits here; broadcast whenever a thread finishes or a pool
    /// thread enters `shutdown`.
    pub(super) thread_finished: Condvar,
    /// Bumped (under the lock) for each job queued while a thread spins;
    /// the spinner watches it without the lock (see `state.rs`).
    pub(super) queued_while_spinning: AtomicU64,
    /// Whether an idle thread may spin first: not on a single-core machine.
    pub(super) may_spin: bool,
    /// Threads whose job's work is done and that are handing over its
    /// result: on their way back to the queue (see `state.rs`). Raised by
    /// the job without the lock, lowered by the thread under it.
    pub(super) returning: AtomicUsize,
}

impl<J> Shared<J> {
    /// [`returning`](Self::returning), read under the lock for a dispatch.
    pub(super) fn returning(&self) -> usize {
        self.returning.load(Ordering::Relaxed)
    }

    /// Locks the state. Jobs and hooks never run under this lock, so poisoning
    /// can only come from a bug in the pool itself; the counters are still the
    /// best information there is, so a poisoned lock is used as is.
    pub(super) fn lock(&self) -> MutexGuard<'_, State<J>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Carries out what [`State::dispatch`] decided, releasing the lock
    /// (before the wake-up, so the woken thread does not block on it).
    ///
    /// `Err` hands the lock back if a thread had to be started, the OS
    /// refused, and no thread at all is alive to run the queue: the caller
    /// must take its job back. With some thread alive the queue waits for
    /// it (a thread that finishes its job dispatches again).
    pub(super) fn carry_out<'a>(
        self: &'a Arc<Self>,
        mut state: MutexGuard<'a, State<J>>,
        dispatch: Dispatch,
    ) -> Result<(), MutexGuard<'a, State<J>>>
    where
        J: Job,
    {
        match dispatch {
            Dispatch::HandToIdle => {
                drop(state);
                // One claimed thread, one wake-up: the other idle threads
                // sleep on.
                self.job_ready.notify_one();
            }
            Dispatch::StartThread(number) => {
                if worker::start_thread(self, number).is_err() {
                    state.thread_start_failed();
                    if state.live == 0 {
                        return Err(state);
                    }
                }
            }
            Dispatch::OnItsWay | Dispatch::QueueForBusy => {}
        }
        Ok(())
    }

    /// Blocks an idle thread until notified or `timeout` passes.
    pub(super) fn wait_for_job<'a>(
        &self,
        state: MutexGuard<'a, State<J>>,
        timeout: Option<Duration>,
    ) -> MutexGuard<'a, State<J>> {
        wait(&self.job_ready, state, timeout)
    }
}

/// `Condvar::wait` / `wait_timeout`, ignoring poisoning (see [`Shared::lock`]).
fn wait<'a, T>(
    condvar: &Condvar,
    guard: MutexGuard<'a, T>,
    timeout: Option<Duration>,
) -> MutexGuard<'a, T> {
    match timeout {
        None => condvar.wait(guard).unwrap_or_else(PoisonError::into_inner),
        Some(timeout) => {
            condvar
                .wait_timeout(guard, timeout)
                .unwrap_or_else(PoisonError::into_inner)
                .0
        }
    }
}

/// An elastic pool of threads for blocking work, generic over the job type.
///
/// Threads are started on demand, up to [`PoolConfig::max_threads`], and exit
/// after [`PoolConfig::keep_alive`] without work. A new job goes to an idle
/// thread if there is one (waking exactly that one); otherwise a thread is
/// started if the maximum allows; otherwise the job waits in a FIFO queue for
/// the first thread that finishes its current job.
///
/// The runtime keeps one in an `Arc` for `spawn_blocking`; users who want a
/// separate, named pool of closures use [`BlockingPool`](super::BlockingPool).
///
/// # Shutdown and drop
///
/// [`shutdown`](Pool::shutdown) stops accepting jobs, drops the queued ones
/// without running them, lets running jobs finish and waits for the threads,
/// at most for a given time. Dropping the pool does the first three but does
/// **not** wait (`shutdown(Some(Duration::ZERO))`): a destructor should not
/// block for an unbounded time, and a pool may be dropped on one of its own
/// threads. Call `shutdown` before dropping to wait.
///
/// # Example
///
/// ```
/// use minirt::blocking::{Pool, PoolConfig};
/// use std::sync::mpsc;
///
/// let pool = Pool::new(PoolConfig::default());
/// let (tx, rx) = mpsc::channel();
/// pool.submit(move || tx.send(6 * 7).unwrap()).ok().unwrap();
/// assert_eq!(rx.recv().unwrap(), 42);
/// assert!(pool.shutdown(None));
/// ```
pub struct Pool<J: Job> {
    pub(super) shared: Arc<Shared<J>>,
}

impl<J: Job> Pool<J> {
    /// Creates a pool with no threads; the first [`submit`](Pool::submit)
    /// starts one.
    ///
    /// # Panics
    ///
    /// If `config.max_threads` is 0: such a pool could never run anything.
    /// Builders validate this first and report an `io::Error` instead.
    pub fn new(config: PoolConfig) -> Self {
        assert!(
            config.max_threads > 0,
            "blocking pool `{}`: max_threads must be at least 1",
            config.name
        );
        Pool {
            shared: Arc::new(Shared {
                id: NEXT_POOL_ID.fetch_add(1, Ordering::Relaxed),
                config,
                state: Mutex::new(State::new()),
                job_ready: Condvar::new(),
                thread_finished: Condvar::new(),
                queued_while_spinning: AtomicU64::new(0),
                may_spin: std::thread::available_parallelism().is_ok_and(|n| n.get() > 1),
                returning: AtomicUsize::new(0),
            }),
        }
    }

    /// Queues `job`; wakes one idle thread for it, or starts a thread if none
    /// is idle and fewer than `max_threads` exist.
    ///
    /// Returns `Err(job)`, without running or dropping it, so the caller can
    /// cancel it properly:
    /// - after [`shutdown`](Pool::shutdown) began (or the pool was dropped);
    /// - if the pool has no thread at all and the OS refused to start one.
    ///   (If other threads exist the job is queued for them instead.)
    ///
    /// At most one thread is woken or started per call, and none while
    /// another woken or started thread has yet to reach the queue: that
    /// thread takes the next job and wakes the next helper for the rest (the
    /// hand-off rule in `state.rs`). A new thread is started while the pool's
    /// lock is held, so that a failed start can hand back exactly this job;
    /// that happens only when the pool grows.
    pub fn submit(&self, job: J) -> Result<(), J> {
        let mut state = self.shared.lock();
        if state.shutting_down {
            return Err(job);
        }
        let dispatch = state.transition_to_queued(
            job,
            self.shared.config.max_threads,
            self.shared.returning(),
        );
        if state.spinning > 0 {
            // The spinner takes it (`dispatch` said `OnItsWay`): tell it.
            self.shared
                .queued_while_spinning
                .fetch_add(1, Ordering::Release);
        }
        if let Err(mut state) = self.shared.carry_out(state, dispatch) {
            // Nobody else can run it. The lock has been held since the push,
            // and with no thread alive the queue held nothing before, so the
            // job at the back is this one.
            let job = state.queue.pop_back().expect("job pushed under this lock");
            return Err(job);
        }
        Ok(())
    }

    /// Shuts the pool down and waits for its threads, at most `timeout`
    /// (`None`: as long as it takes).
    ///
    /// In order:
    /// 1. Stop accepting jobs: later [`submit`](Pool::submit)s return `Err`.
    /// 2. Take the queued jobs out and drop them, outside the lock, without
    ///    running them: their destructors cancel them.
    /// 3. Wake every idle thread; each sees the shutdown and exits.
    /// 4. Wait until every thread has finished its current job, run its
    ///    `on_thread_stop` hook and left, or until `timeout` passes.
    ///
    /// Returns `true` if every thread finished in time. On `false` the
    /// remaining threads are detached: they finish their current job and exit
    /// on their own. Calling `shutdown` again is allowed (steps 1–3 are then
    /// no-ops) and waits again.
    ///
    /// **Called from one of this pool's own threads** (for example when a job
    /// drops the last handle to a runtime), it cannot wait for its own thread,
    /// which is busy running the calling job. It then waits only for the
    /// *other* threads, not counting threads that are themselves inside
    /// `shutdown` (so two jobs shutting the pool down at once do not wait for
    /// each other), and returns `true` if those finished in time. The calling
    /// thread exits right after its job returns.
    pub fn shutdown(&self, timeout: Option<Duration>) -> bool {
        // Overflowing deadlines mean "forever".
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let caller_is_pool_thread = worker::current_thread_is_in(self.shared.id);

        let mut state = self.shared.lock();
        let dropped_jobs = state.transition_to_shutting_down();
        if worker::mark_current_thread_in_shutdown(self.shared.id) {
            state.pool_thread_entered_shutdown();
        }
        drop(state);
        self.shared.job_ready.notify_all();
        // Other pool threads waiting in `shutdown` may now be done waiting.
        self.shared.thread_finished.notify_all();
        drop(dropped_jobs);

        let mut state = self.shared.lock();
        loop {
            if state.threads_to_wait_for(caller_is_pool_thread) == 0 {
                return true;
            }
            let remaining = match (timeout, deadline) {
                (None, _) | (Some(_), None) => None,
                (Some(_), Some(deadline)) => {
                    let remaining = deadline.saturating_duration_since(Instant::now());
                    if remaining.is_zero() {
                        return false;
                    }
                    Some(remaining)
                }
            };
            state = wait(&self.shared.thread_finished, state, remaining);
        }
    }

    /// Has [`shutdown`](Pool::shutdown) begun (or the pool been dropped)?
    pub fn is_shut_down(&self) -> bool {
        self.shared.lock().shutting_down
    }

    /// Threads that take jobs: running one, or idle. Threads that decided to
    /// exit (keep-alive over, or shutdown) are not counted.
    pub fn live_threads(&self) -> usize {
        self.shared.lock().live
    }

    /// Threads waiting for a job that no submitter has claimed yet (one
    /// of them may be spinning briefly before it sleeps).
    pub fn idle_threads(&self) -> usize {
        self.shared.lock().idle_or_spinning()
    }

    /// Jobs submitted and not yet taken by a thread.
    pub fn queued(&self) -> usize {
        self.shared.lock().queue.len()
    }

    /// Threads running a job, or woken for one and about to take it.
    ///
    /// With [`queued`](Pool::queued) this tells whether blocking work is
    /// pending: both zero means none is (what a mock clock's auto-advance
    /// must check before jumping ahead).
    pub fn busy_threads(&self) -> usize {
        let state = self.shared.lock();
        state.live - state.idle_or_spinning()
    }

    /// All counters, read at one instant (under one lock acquisition), so
    /// they are consistent with each other.
    ///
    /// ```
    /// use minirt::blocking::{Pool, PoolConfig};
    ///
    /// let pool: Pool<fn()> = Pool::new(PoolConfig::default());
    /// let metrics = pool.metrics();
    /// assert_eq!((metrics.live_threads, metrics.queued), (0, 0));
    /// ```
    pub fn metrics(&self) -> PoolMetrics {
        let state = self.shared.lock();
        PoolMetrics {
            live_threads: state.live,
            idle_threads: state.idle_or_spinning(),
            busy_threads: state.live - state.idle_or_spinning(),
            queued: state.queue.len(),
        }
    }

    /// The settings this pool was created with.
    pub fn config(&self) -> &PoolConfig {
        &self.shared.config
    }
}

impl<J: Job> Drop for Pool<J> {
    /// Begins shutdown without waiting; see [`Pool`]'s "Shutdown and drop".
    fn drop(&mut self) {
        self.shutdown(Some(Duration::ZERO));
    }
}

impl<J: Job> fmt::Debug for Pool<J> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.shared.lock();
        f.debug_struct("Pool")
            .field("name", &self.shared.config.name)
            .field("max_threads", &self.shared.config.max_threads)
            .field("live_threads", &state.live)
            .field("idle_threads", &state.idle_or_spinning())
            .field("queued", &state.queue.len())
            .field("shut_down", &state.shutting_down)
            .finish()
    }
}

/// A snapshot of a pool's counters; see [`Pool::metrics`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PoolMetrics {
    /// Threads that take jobs: busy or idle ([`Pool::live_threads`]).
    pub live_threads: usize,
    /// Threads waiting for a job ([`Pool::idle_threads`]).
    pub idle_threads: usize,
    /// Threads running a job or about to ([`Pool::busy_threads`]).
    pub busy_threads: usize,
    /// Jobs waiting for a thread ([`Pool::queued`]).
    pub queued: usize,
}

/// The runtime shares a pool between threads through an `Arc`.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Pool<Box<dyn FnOnce() + Send>>>();
};
