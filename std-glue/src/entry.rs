//! The free functions most programs start with: `block_on`, `spawn`,
//! `spawn_local`, `spawn_blocking`.

use std::future::Future;

use minirt_core::task::JoinHandle;

use crate::runtime::{context, Builder, Handle, Runtime, NO_RUNTIME};

thread_local! {
    /// The current-thread runtime `minirt::block_on` uses on this thread,
    /// created on first use and kept so that resources made in one call
    /// (sockets, channels, timers) stay usable in the next.
    static THREAD_RUNTIME: Runtime = Builder::current_thread()
        .build()
        .expect("the default current-thread runtime is always valid");
}

/// Runs `future` to completion on the calling thread and returns its output.
///
/// The first call on a thread creates a current-thread runtime that later
/// calls on the same thread reuse; it spawns no threads (the blocking pool
/// starts threads only if `spawn_blocking` is used). Tasks spawned inside
/// with [`spawn`] run on this thread while `block_on` is driving; tasks still
/// alive when it returns wait for the next call.
///
/// # Panics
///
/// If called from inside a runtime — from a task, or from inside another
/// `block_on` — because blocking that thread would stall every task it
/// drives. Use `.await` there instead, or `spawn_blocking` for the blocking
/// part.
///
/// ```
/// let n = minirt::block_on(async {
///     minirt::yield_now().await;
///     7
/// });
/// assert_eq!(n, 7);
/// ```
#[track_caller]
pub fn block_on<F: Future>(future: F) -> F::Output {
    if context::is_entered() {
        // Fail before touching the thread-local runtime, whose core the
        // outer `block_on` may hold.
        let _ = context::enter_runtime("minirt::block_on");
    }
    THREAD_RUNTIME.with(|rt| rt.block_on(future))
}

/// Spawns a task on the runtime the calling thread is inside.
///
/// The task starts running in the background; await the returned
/// [`JoinHandle`] for its output, drop it to let the task run detached, or
/// call [`JoinHandle::abort`] to cancel it.
///
/// # Panics
///
/// Outside a runtime, with a message saying where to call it from.
///
/// ```
/// minirt::block_on(async {
///     let handle = minirt::spawn(async { "hello" });
///     assert_eq!(handle.await.unwrap(), "hello");
/// });
/// ```
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let at = std::panic::Location::caller();
    context::with_current(|handle| match handle {
        Some(handle) => handle.spawn_at(future, at),
        None => panic!("minirt::spawn: {NO_RUNTIME}"),
    })
}

/// Spawns a `!Send` task on the current-thread runtime driving this thread.
///
/// **The task stays on this thread**, whatever is done with the runtime: it
/// is polled, cancelled and dropped only here. A current-thread
/// [`Runtime`](crate::Runtime) is `Send + Sync`, so another thread may call
/// `block_on` on it (through an `Arc`) or own it; that thread runs the
/// runtime's `Send` tasks but leaves this thread's local tasks queued until
/// this thread drives the runtime again. Waking or aborting the task from
/// any thread only queues it. If the runtime is dropped here, its local
/// tasks are cancelled here; if it is dropped on another thread, they are
/// cancelled here when *this* thread next calls `spawn_local` (on any
/// runtime) or exits — and on a thread that does neither (an idle main
/// thread) they are leaked, their destructors never run, rather than run on
/// the wrong thread.
///
/// A `JoinHandle` whose output is `!Send` cannot leave the thread either; one
/// whose output is `Send` may be awaited anywhere, but it resolves only once
/// this thread has run the task.
///
/// # Panics
///
/// If the calling thread is not inside `minirt::block_on` or a
/// current-thread `Runtime::block_on` that drives the runtime (a second
/// thread's `block_on` on a runtime another thread is driving only polls its
/// own future, and cannot spawn local tasks). Use `minirt::spawn` on a
/// multi-thread runtime.
///
/// The type system refuses what the runtime could not keep at home: a
/// `!Send` future cannot be given to `spawn`,
///
/// ```compile_fail
/// minirt::block_on(async {
///     let shared = std::rc::Rc::new(5);
///     minirt::spawn(async move { minirt::yield_now().await; *shared });
/// });
/// ```
///
/// and a local task's `!Send` output cannot be sent to another thread:
///
/// ```compile_fail
/// minirt::block_on(async {
///     let handle = minirt::spawn_local(async { std::rc::Rc::new(5) });
///     std::thread::spawn(move || drop(handle));
/// });
/// ```
///
/// ```
/// use std::rc::Rc;
/// minirt::block_on(async {
///     let shared = Rc::new(5); // Rc is !Send
///     let s = shared.clone();
///     let out = minirt::spawn_local(async move { *s * 2 }).await.unwrap();
///     assert_eq!(out, 10);
/// });
/// ```
#[track_caller]
pub fn spawn_local<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    crate::runtime::spawn_local(future)
}

/// Runs a blocking closure on the current runtime's blocking pool and
/// returns a [`JoinHandle`] to await its result.
///
/// Threads are started on demand up to the pool's limit and exit when idle.
/// Aborting the handle before the closure starts prevents it from running; a
/// closure that has started runs to completion. A panic is reported on the
/// handle.
///
/// # Panics
///
/// Outside a runtime.
///
/// ```
/// minirt::block_on(async {
///     let len = minirt::spawn_blocking(|| std::fs::read("Cargo.toml").map(|b| b.len()));
///     assert!(len.await.unwrap().unwrap() > 0);
/// });
/// ```
#[track_caller]
pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    match Handle::try_current() {
        Some(handle) => handle.spawn_blocking(f),
        None => panic!("minirt::spawn_blocking: {NO_RUNTIME}"),
    }
}
