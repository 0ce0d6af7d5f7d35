//! The user-facing side of the cooperative budget (`minirt_core::coop`):
//! spending from it in your own loops, and opting out of it.
//!
//! Why: every minirt future that can complete without waiting — channel
//! send and receive, semaphore acquire, `Notify`, `JoinHandle`, socket
//! reads, writes and accepts, an elapsed sleep — spends one unit of a
//! per-task budget of 128, refilled each time the task is polled. When the
//! budget is spent, such a future wakes its task and returns `Pending`, so
//! the task goes to the back of the run queue and its neighbours (and the
//! timers and I/O of its thread) get their turn. These are tokio's names and
//! meaning: `tokio::task::consume_budget` and `tokio::task::unconstrained`.

use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{Context, Poll};

use minirt_core::coop;

/// Spends one unit of the current task's cooperative budget, yielding to
/// the scheduler first if the budget is already spent.
///
/// For loops that do work the budget cannot see — CPU work, or polling
/// something that is not a minirt future — so that they still let the other
/// tasks on their thread run, but without yielding on every iteration as
/// [`yield_now`](crate::yield_now) would: it returns at once while budget is
/// left, and yields only once the task has done its share (128 budgeted
/// operations since it was last polled). Outside a minirt task (for example
/// directly in a `block_on` future) there is no budget and it never yields.
///
/// # Cancellation safety
///
/// Cancel-safe. It returns `Pending` only when there is no budget left to
/// spend, so dropping the future before it completes spends nothing and
/// loses nothing.
///
/// ```
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use std::sync::Arc;
///
/// let rt = minirt::Builder::current_thread().build().unwrap();
/// rt.block_on(async {
///     let stop = Arc::new(AtomicBool::new(false));
///     let s = stop.clone();
///     // Work that never waits: without `consume_budget` this task would
///     // hold the thread forever and the task below would never run.
///     let busy = minirt::spawn(async move {
///         let mut iterations = 0u64;
///         while !s.load(Ordering::Relaxed) {
///             iterations += 1;
///             minirt::task::consume_budget().await;
///         }
///         iterations
///     });
///     minirt::spawn(async move { stop.store(true, Ordering::Relaxed) });
///     assert!(busy.await.unwrap() >= 128);
/// });
/// ```
pub async fn consume_budget() {
    poll_fn(|cx| coop::poll_proceed(cx).map(|restore| restore.made_progress())).await
}

/// Runs `future` with the cooperative budget disabled: minirt futures
/// polled inside it never yield because of the budget, and do not spend
/// from the budget of the task around it.
///
/// For code that must not be interrupted between operations that are ready
/// (a latency-critical drain of a channel, a benchmark of raw throughput).
/// The price is the starvation the budget prevents: a loop over
/// always-ready futures inside `unconstrained` keeps its thread until the
/// loop ends. Like tokio's `unconstrained`, it affects only the budget:
/// futures that really wait still return `Pending`.
///
/// ```
/// use minirt::task::unconstrained;
///
/// minirt::block_on(async {
///     let (tx, mut rx) = minirt::sync::mpsc::channel(1000);
///     for i in 0..1000u64 {
///         tx.try_send(i).unwrap();
///     }
///     // All 1000 receives complete in one poll of the task, instead of
///     // a yield every 128 of them.
///     let sum = minirt::spawn(unconstrained(async move {
///         let mut sum = 0;
///         for _ in 0..1000 {
///             sum += rx.recv().await.unwrap();
///         }
///         sum
///     }));
///     assert_eq!(sum.await.unwrap(), 999 * 1000 / 2);
/// });
/// ```
pub fn unconstrained<F: Future>(future: F) -> Unconstrained<F> {
    Unconstrained { inner: future }
}

/// The future returned by [`unconstrained`]: polls its inner future with
/// the cooperative budget disabled.
///
/// ```
/// use minirt::task::{unconstrained, Unconstrained};
///
/// let fut: Unconstrained<_> = unconstrained(async { 1 + 1 });
/// assert_eq!(minirt::block_on(fut), 2);
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct Unconstrained<F> {
    /// Structurally pinned: never moved out of `self`.
    inner: F,
}

impl<F: Future> Future for Unconstrained<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: structural pinning of `inner`: `Unconstrained` never
        // moves it out (no method gives it away, and there is no `Drop`
        // impl), and it is `Unpin` only when `F` is (the auto impl).
        let inner = unsafe { self.map_unchecked_mut(|this| &mut this.inner) };
        coop::with_unconstrained(|| inner.poll(cx))
    }
}

impl<F> fmt::Debug for Unconstrained<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Unconstrained").finish_non_exhaustive()
    }
}
