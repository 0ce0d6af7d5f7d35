//! The sync-boundary scope: `minirt::scope(|s| ...)` blocks the calling
//! thread while children that borrow from its stack run on a multi-thread
//! runtime. The soundness argument is in the [module docs](super).

use std::future::Future;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};

use super::handle::ScopeHandle;
use super::options::Options;
use super::outcome::{Finished, Report, Stopped, TryJoinError};
use super::state::State;
use crate::driver::busy::BusyToken;
use crate::driver::{BlockOnThread, Driver};
use crate::runtime::{context, Handle, Runtime, SchedulerHandle};

/// Runs `f` with a [`ScopeHandle`] whose children may borrow from the
/// caller's stack, and blocks until every child finished; returns their
/// outputs in spawn order.
///
/// This is `std::thread::scope` for async work: the children run in
/// parallel on a multi-thread runtime, while the calling thread (which must
/// not be a runtime worker) waits. The scope is fail-fast: the first child
/// to panic cancels the others, and its panic resumes here after they were
/// dropped. A panic in `f` itself cancels the children, waits for them, then
/// resumes. `Err(Stopped)` means the scope was cancelled (see
/// [`ScopeHandle::cancel`]) or, with [`Options::timeout`], timed out; it
/// still holds the outputs that completed.
///
/// **Which runtime.** If the calling thread belongs to a multi-thread
/// runtime (a `spawn_blocking` closure, say), that runtime; otherwise a
/// process-wide multi-thread runtime started on first use. Choose one with
/// [`scope_on`] or [`Options::on`].
///
/// **Mock clocks.** The closure counts as work of the scope's runtime while
/// it runs: a mock clock does not jump (to a child's timer or the scope's
/// deadline) until it has returned, so every child it spawns starts at the
/// same virtual instant. Once the closure has returned, the blocked caller
/// is idle and time moves as the children need. A scope blocking a
/// `spawn_blocking` thread of a mock-clock runtime is itself inside blocking
/// work, which keeps that runtime's auto-advance waiting; its children's
/// timers then only move with `time::advance`.
///
/// # Panics
///
/// On a runtime worker thread or inside `block_on` (blocking there would
/// stall the tasks that thread drives): use the async [`Scope`](super::Scope)
/// there.
///
/// ```
/// let data: Vec<u64> = (1..=1000).collect();
/// let sums = minirt::scope(|s| {
///     for chunk in data.chunks(100) {
///         s.spawn(async move { chunk.iter().sum::<u64>() }); // borrows `data`
///     }
/// })
/// .unwrap();
/// assert_eq!(sums.iter().sum::<u64>(), 500_500);
/// ```
///
/// A child cannot borrow something that dies before the scope ends:
///
/// ```compile_fail
/// minirt::scope(|s| {
///     let local = String::from("dies at the end of the closure");
///     s.spawn(async { local.len() }); // error: `local` does not live long enough
/// });
/// ```
///
/// Nor can a borrowed value escape through a child's output:
///
/// ```compile_fail
/// let mut escaped: Vec<&String> = Vec::new();
/// let out = minirt::scope(|s| {
///     let local = String::from("short-lived");
///     s.spawn(async { &local });
/// });
/// escaped.extend(out.unwrap());
/// ```
#[track_caller]
pub fn scope<'env, T, F>(f: F) -> Result<Vec<T>, Stopped<T>>
where
    T: Send + 'env,
    F: for<'s> FnOnce(&'s ScopeHandle<'env, T>),
{
    Options::new().scope(f)
}

/// [`scope`] with its children on the runtime behind `handle`.
///
/// ```
/// let rt = minirt::Runtime::new()?;
/// let name = String::from("minirt");
/// let lens = minirt::scope::scope_on(rt.handle(), |s| {
///     s.spawn(async { name.len() });
/// });
/// assert_eq!(lens.unwrap(), [6]);
/// # Ok::<(), std::io::Error>(())
/// ```
#[track_caller]
pub fn scope_on<'env, T, F>(handle: &Handle, f: F) -> Result<Vec<T>, Stopped<T>>
where
    T: Send + 'env,
    F: for<'s> FnOnce(&'s ScopeHandle<'env, T>),
{
    Options::new().on(handle).scope(f)
}

/// [`scope`] for children returning `Result`: the first `Err` cancels the
/// others and is returned (miniasync's "errors as values").
///
/// ```
/// use minirt::scope::TryJoinError;
///
/// let out = minirt::scope::try_scope(|s| {
///     s.spawn(async { Ok::<u8, String>(1) });
///     s.spawn(async { Err("nope".to_string()) });
/// });
/// assert!(matches!(out, Err(TryJoinError::Failed(e)) if e == "nope"));
/// ```
#[track_caller]
pub fn try_scope<'env, V, E, F>(f: F) -> Result<Vec<V>, TryJoinError<V, E>>
where
    V: Send + 'env,
    E: Send + 'env,
    F: for<'s> FnOnce(&'s ScopeHandle<'env, Result<V, E>>),
{
    Options::new().try_scope(f)
}

impl Options {
    /// Runs a sync-boundary scope with these settings; see [`scope`].
    ///
    /// ```
    /// use minirt::scope::Options;
    ///
    /// let inputs = [3u32, 1, 4, 1, 5, 9, 2, 6];
    /// let doubled = Options::new()
    ///     .max_concurrency(3)
    ///     .scope(|s| {
    ///         for x in &inputs {
    ///             s.spawn_with(move || async move { x * 2 });
    ///         }
    ///     })
    ///     .unwrap();
    /// assert_eq!(doubled, [6, 2, 8, 2, 10, 18, 4, 12]);
    /// ```
    #[track_caller]
    pub fn scope<'env, T, F>(&self, f: F) -> Result<Vec<T>, Stopped<T>>
    where
        T: Send + 'env,
        F: for<'s> FnOnce(&'s ScopeHandle<'env, T>),
    {
        run(self, None, f).into_result()
    }

    /// Runs a sync-boundary scope of `Result` children; see [`try_scope`].
    #[track_caller]
    pub fn try_scope<'env, V, E, F>(&self, f: F) -> Result<Vec<V>, TryJoinError<V, E>>
    where
        V: Send + 'env,
        E: Send + 'env,
        F: for<'s> FnOnce(&'s ScopeHandle<'env, Result<V, E>>),
    {
        run(self, Some(Result::is_err), f).into_try_result()
    }

    /// Runs a sync-boundary scope and returns every child's outcome (no
    /// panic resumes); with [`supervisor`](Options::supervisor), failures do
    /// not cancel siblings.
    #[track_caller]
    pub fn scope_outcomes<'env, T, F>(&self, f: F) -> Report<T>
    where
        T: Send + 'env,
        F: for<'s> FnOnce(&'s ScopeHandle<'env, T>),
    {
        run(self, None, f).into_report()
    }
}

/// The common part: start the scope, run `f`, wait for every child —
/// whatever happens, even if `f` panics — and only then return or unwind.
#[track_caller]
fn run<'env, T, F>(options: &Options, fail_on: Option<fn(&T) -> bool>, f: F) -> Finished<T>
where
    T: Send + 'env,
    F: for<'s> FnOnce(&'s ScopeHandle<'env, T>),
{
    if context::is_entered() {
        panic!(
            "minirt::scope blocks the calling thread, but this thread drives a minirt \
             runtime (it is a worker, or inside `block_on`). Use the async \
             `minirt::scope::Scope` here, or call `minirt::scope` from `spawn_blocking`."
        );
    }
    // `_owned` (a runtime only this call uses, under Miri) is declared
    // first, so it is dropped last: after every child and the scope state.
    let (handle, _owned) = match &options.handle {
        Some(h) => (h.clone(), None),
        None => default_runtime(),
    };
    // This thread is work of the runtime from here until it waits for the
    // children (see `driver::busy`): the scope's deadline watchdog, spawned
    // by `State::new`, must not see the clock jump to the deadline before
    // the closure has even run (seen: a scope with a 60-minute timeout
    // timed out at once), nor may the clock move between the closure's end
    // and the wait, where the unit is handed over (seen: a daemon heartbeat
    // beating 16 times instead of 3 before the owner looked at its
    // children).
    let busy = BusyToken::new(&handle.inner.driver);
    let config = options.config(&handle, fail_on);
    let state = State::new(handle.clone(), config);
    let body = {
        let scope = ScopeHandle::new(state.clone());
        // A `Handle::block_on` inside the closure adopts that unit while it
        // waits (see `driver::busy`).
        let _held = handle.inner.driver.busy.mark_held_here();
        catch_unwind(AssertUnwindSafe(|| f(&scope)))
    };
    if body.is_err() {
        state.node.cancel(super::StopReason::Cancelled);
    }
    // Nothing below may unwind before every child is gone: `poll_finish`
    // takes no user code and ignores lock poisoning.
    let finished = match &handle.inner.scheduler {
        // Nobody may be driving a current-thread runtime but this thread:
        // it runs the children itself while it waits (or waits for the
        // thread that holds the core). It holds a unit of the busy count
        // from its first poll on, so the closure's can go then.
        SchedulerHandle::CurrentThread(core) => {
            // As in `block_on`: the children's `minirt::spawn` reach this
            // runtime, and a child calling `minirt::scope` gets its panic.
            let _entered = context::enter_runtime("minirt::scope::scope_on");
            let mut busy = Some(busy);
            context::enter_handle(&handle, || {
                core.drive_scope_owner(std::future::poll_fn(|cx| {
                    drop(busy.take());
                    state.poll_finish(cx)
                }))
            })
        }
        SchedulerHandle::MultiThread(_) => block_here(
            &handle.inner.driver,
            busy,
            std::future::poll_fn(|cx| state.poll_finish(cx)),
        ),
    };
    if let Err(payload) = body {
        drop(finished);
        resume_unwind(payload);
    }
    finished
}

/// The runtime a sync-boundary scope uses when none was chosen, and the
/// runtime this call owns, if it made one.
///
/// Normally that is the process-wide runtime, started on first use and
/// never shut down, like any global pool. Under Miri a call builds its own
/// runtime and shuts it down when the scope is done instead: Miri reports
/// every thread still running when `main` returns (the only way to silence
/// that also silences its leak check), and the scope code it checks is the
/// same either way: only who owns the runtime differs.
fn default_runtime() -> (Handle, Option<Runtime>) {
    if let Some(handle) = Handle::try_current() {
        if matches!(handle.inner.scheduler, SchedulerHandle::MultiThread(_)) {
            return (handle, None);
        }
    }
    let build = || {
        crate::Builder::multi_thread()
            .thread_name("minirt-scope")
            .build()
            .expect("could not start the runtime for minirt::scope")
    };
    if cfg!(miri) {
        let runtime = build();
        return (runtime.handle().clone(), Some(runtime));
    }
    static GLOBAL: OnceLock<Runtime> = OnceLock::new();
    (GLOBAL.get_or_init(build).handle().clone(), None)
}

/// Parks the calling thread until `future` completes, through the scope
/// runtime's driver. Virtual time is left to the runtime's workers: this
/// thread only waits for the children (`has_work` = true: never jump from
/// here). `busy`, the unit the closure held, is given back only once the
/// waiting thread holds its own.
fn block_here<F: Future>(
    driver: &std::sync::Arc<Driver>,
    busy: Option<BusyToken>,
    future: F,
) -> F::Output {
    let thread = BlockOnThread::new(driver);
    drop(busy);
    let mut cx = Context::from_waker(thread.waker());
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        thread.park(&driver.blocking, None, &|| true);
    }
}
