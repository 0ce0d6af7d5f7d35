//! The life of one pool thread: start hook, run jobs, wait idle, leave.
//!
//! ```text
//!   start ──► on_thread_start ──► ┌─► run queued jobs ──┐
//!                                 │                     ▼
//!                                 │   queue empty, not shutting down
//!                                 │                     │
//!                                 ├── job queued ◄── spin (≤ SPIN_FOR; one thread,
//!                                 │                     │  not after a spin)
//!                                 │                     ▼
//!                                 └── claimed ◄── idle wait ── keep-alive over
//!                                                       │      or shutting down
//!                                                       ▼
//!                                   leave `live` ──► on_thread_stop ──► finished
//! ```

use std::cell::Cell;
use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::ptr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use super::config::ThreadHook;
use super::pool::Shared;
use super::state::{IdleWake, State};
use super::Job;

/// Which pool the current thread works for, if any.
#[derive(Clone, Copy)]
struct PoolThread {
    /// [`Shared::id`] of the pool.
    pool_id: u64,
    /// This thread called `shutdown` on its own pool and is counted in
    /// `State::in_shutdown`.
    in_shutdown: bool,
}

thread_local! {
    static POOL_THREAD: Cell<Option<PoolThread>> = const { Cell::new(None) };
    /// While this pool thread runs a job: its pool's `Shared::returning`,
    /// for [`job_work_done`]; null otherwise, and once that has been called.
    static RETURNING: Cell<*const AtomicUsize> = const { Cell::new(ptr::null()) };
}

/// Called by a job on its pool thread when its work is done and only the
/// hand-over of its result is left (a blocking task, before it completes
/// and wakes its awaiter): the thread counts as on its way back to the
/// queue, so a job submitted in reaction to that result waits for this
/// thread instead of waking another (see `state.rs`). Does nothing on any
/// other thread, or a second time within a job.
pub(crate) fn job_work_done() {
    let returning = RETURNING.with(|r| r.replace(ptr::null()));
    // SAFETY: a non-null pointer was set by `run_announcing` on this thread
    // from a `&Shared` it borrows until the job returns, and the job is
    // still running: the counter is alive.
    if let Some(returning) = unsafe { returning.as_ref() } {
        returning.fetch_add(1, Ordering::Relaxed);
    }
}

/// Runs `job` with [`job_work_done`] armed; then, with the lock taken
/// again, takes this thread out of `returning` if the job announced it.
fn run_announcing<'a, J: Job>(shared: &'a Shared<J>, job: J) -> MutexGuard<'a, State<J>> {
    RETURNING.with(|r| r.set(&shared.returning));
    run_job(job);
    let announced = RETURNING.with(|r| r.replace(ptr::null())).is_null();
    let state = shared.lock();
    if announced {
        shared.returning.fetch_sub(1, Ordering::Relaxed);
    }
    state
}

/// Is the calling thread one of the threads of pool `pool_id`?
pub(super) fn current_thread_is_in(pool_id: u64) -> bool {
    POOL_THREAD.with(|t| t.get().is_some_and(|t| t.pool_id == pool_id))
}

/// Marks the calling thread, a thread of pool `pool_id`, as having called
/// `shutdown`. Returns `true` only the first time, so the thread is counted
/// once in `State::in_shutdown` however often it calls `shutdown`.
pub(super) fn mark_current_thread_in_shutdown(pool_id: u64) -> bool {
    POOL_THREAD.with(|t| match t.get() {
        Some(me) if me.pool_id == pool_id && !me.in_shutdown => {
            t.set(Some(PoolThread {
                in_shutdown: true,
                ..me
            }));
            true
        }
        _ => false,
    })
}

/// Starts pool thread number `number`. Called with the pool lock held, after
/// `State::transition_to_queued` counted the thread as live.
pub(super) fn start_thread<J: Job>(shared: &Arc<Shared<J>>, number: u64) -> io::Result<()> {
    let mut builder = thread::Builder::new().name(format!("{}-{}", shared.config.name, number));
    if let Some(size) = shared.config.stack_size {
        builder = builder.stack_size(size);
    }
    let shared = Arc::clone(shared);
    builder.spawn(move || thread_main(shared)).map(drop)
}

fn thread_main<J: Job>(shared: Arc<Shared<J>>) {
    let _finished = FinishOnDrop::register(&shared);
    // More jobs queued than this thread's own: wake or start the next helper
    // now, not after a start hook that may take its time.
    let mut state = shared.lock();
    let dispatch =
        state.dispatch_ahead_of_starting_thread(shared.config.max_threads, shared.returning());
    // `Err` only when no thread is alive, and this one is.
    let _ = shared.carry_out(state, dispatch);
    run_hook(shared.config.on_thread_start.as_ref());
    let mut state = shared.lock();
    state.transition_to_started();
    work_loop(&shared, state);
    run_hook(shared.config.on_thread_stop.as_ref());
}

/// Runs jobs until the keep-alive expires or the pool shuts down, then takes
/// the thread out of `live` (with the lock held, so no submitter counts on a
/// thread that is leaving).
///
/// Taking a job with more queued behind it wakes (or starts) the next thread
/// for them, unless one is already on its way (the hand-off rule in
/// `state.rs`).
fn work_loop<'a, J: Job>(shared: &'a Arc<Shared<J>>, mut state: MutexGuard<'a, State<J>>) {
    // Whether this thread may spin when it next finds the queue empty: once
    // after each job, so a spin that found nothing goes to sleep.
    let mut may_spin = shared.may_spin;
    loop {
        if let Some(job) = state.queue.pop_front() {
            let dispatch = state.dispatch(shared.config.max_threads, shared.returning());
            // `Err` only when no thread is alive, and this one is.
            let _ = shared.carry_out(state, dispatch);
            state = run_announcing(shared, job);
            may_spin = shared.may_spin;
            continue;
        }
        if state.shutting_down {
            break;
        }
        if std::mem::take(&mut may_spin) && state.transition_to_spinning() {
            let seen = shared.queued_while_spinning.load(Ordering::Acquire);
            drop(state);
            spin_for_a_job(shared, seen);
            state = shared.lock();
            state.transition_from_spinning();
            continue;
        }
        state.transition_to_idle();
        let (relocked, wake) = wait_while_idle(shared, state);
        state = relocked;
        match wake {
            IdleWake::Claimed => continue,
            IdleWake::Exit => break,
            IdleWake::KeepWaiting => unreachable!("wait_while_idle loops on KeepWaiting"),
        }
    }
    state.transition_to_leaving();
}

/// How long a thread that found the queue empty spins before it sleeps:
/// longer than the usual gap between a job's result reaching an async task
/// and that task's next job (a wake-up and a poll), far shorter than a
/// keep-alive.
const SPIN_FOR: Duration = Duration::from_micros(50);

/// Spins, without the lock, until a job is queued (the counter moves past
/// `seen`) or [`SPIN_FOR`] is over. (Shutdown does not end it early: it
/// waits at most `SPIN_FOR` for this thread.)
fn spin_for_a_job<J>(shared: &Shared<J>, seen: u64) {
    let start = Instant::now();
    loop {
        for _ in 0..64 {
            if shared.queued_while_spinning.load(Ordering::Acquire) != seen {
                return;
            }
            std::hint::spin_loop();
        }
        if start.elapsed() >= SPIN_FOR {
            return;
        }
    }
}

/// Waits on `job_ready` until claimed, shut down, or idle for `keep_alive`.
/// Spurious wakeups do not restart the keep-alive: the deadline is fixed once.
fn wait_while_idle<'a, J>(
    shared: &'a Shared<J>,
    mut state: MutexGuard<'a, State<J>>,
) -> (MutexGuard<'a, State<J>>, IdleWake) {
    // `None` when keep_alive is too large to add to now: wait without limit.
    let deadline = Instant::now().checked_add(shared.config.keep_alive);
    loop {
        let expired = match deadline {
            None => {
                state = shared.wait_for_job(state, None);
                false
            }
            Some(deadline) => {
                let remaining = deadline.saturating_duration_since(Instant::now());
                if !remaining.is_zero() {
                    state = shared.wait_for_job(state, Some(remaining));
                }
                Instant::now() >= deadline
            }
        };
        match state.transition_from_idle(expired) {
            IdleWake::KeepWaiting => continue,
            wake => return (state, wake),
        }
    }
}

/// Runs one job, keeping the thread alive if it panics. The runtime's own
/// jobs catch their panics to report them on the `JoinHandle`; this catch is
/// for raw closures. The panic message has already been printed by the panic
/// hook, as for any thread.
fn run_job<J: Job>(job: J) {
    if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| job.run())) {
        drop_panic_payload(payload);
    }
}

/// Drops a panic payload whose destructor may itself panic; a second payload
/// is leaked rather than risk a panic loop.
pub(crate) fn drop_panic_payload(payload: Box<dyn std::any::Any + Send>) {
    if let Err(second) = panic::catch_unwind(AssertUnwindSafe(move || drop(payload))) {
        std::mem::forget(second);
    }
}

/// Runs a start/stop hook; a panicking hook must not leave the counters
/// claiming a thread that no longer exists, so its panic is caught (the
/// panic hook has reported it) and the thread carries on. The multi-thread
/// runtime's workers use it too: a worker killed by its start hook would
/// leave the idle protocol counting a thread that never runs.
pub(crate) fn run_hook(hook: Option<&ThreadHook>) {
    if let Some(hook) = hook {
        if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| hook())) {
            drop_panic_payload(payload);
        }
    }
}

/// Registers the thread as a pool thread for its lifetime and, when dropped
/// (after the stop hook), counts it as finished and wakes `shutdown` waiters.
struct FinishOnDrop<'a, J> {
    shared: &'a Shared<J>,
}

impl<'a, J> FinishOnDrop<'a, J> {
    fn register(shared: &'a Shared<J>) -> Self {
        POOL_THREAD.with(|t| {
            t.set(Some(PoolThread {
                pool_id: shared.id,
                in_shutdown: false,
            }))
        });
        FinishOnDrop { shared }
    }
}

impl<J> Drop for FinishOnDrop<'_, J> {
    fn drop(&mut self) {
        let was_in_shutdown = POOL_THREAD
            .with(|t| t.take())
            .is_some_and(|me| me.in_shutdown);
        self.shared.lock().transition_to_finished(was_in_shutdown);
        self.shared.thread_finished.notify_all();
    }
}
