//! The cooperative budget: how a task that only ever finds work ready still
//! lets its neighbours run.
//!
//! # Why
//!
//! An executor runs a task until its poll returns. A task that loops on
//! futures which are always ready — `rx.recv()` on a channel it keeps
//! filling, `sem.acquire()` on a semaphore with a free permit — never
//! returns `Pending`, so on a single thread nothing else ever runs: not its
//! sibling tasks, not the timers, not the I/O. The program hangs.
//!
//! minirt answers as tokio does: each task poll gets a **budget** of
//! [`INITIAL`] operations. Every minirt future that can complete without
//! waiting (channel send and receive, semaphore acquire, `Notify`,
//! `JoinHandle`, socket operations, an elapsed sleep) spends one unit when it
//! completes. Once the budget is spent, such a future wakes its task and
//! returns `Pending` instead of completing, so the task goes to the back of
//! the run queue; the next poll of the task starts with a fresh budget.
//!
//! # How
//!
//! - Executors run each task poll inside [`budget`] (the task harness does it
//!   for every minirt executor).
//! - A budgeted future calls [`poll_proceed`] before doing its work. If the
//!   budget is spent it gets `Pending` (its task is already woken); otherwise
//!   it gets a [`RestoreOnPending`] guard that gives the unit back when
//!   dropped, unless the future calls [`made_progress`] because it is about
//!   to return `Ready`. [`poll_budgeted`] wraps a whole poll that way.
//! - [`with_unconstrained`] runs code with no budget at all (behind
//!   `minirt::task::unconstrained`).
//!
//! Outside [`budget`] (a plain `block_on` future, a thread that is not an
//! executor) the budget is *unconstrained*: nothing is counted and nothing
//! yields.
//!
//! # Where the budget lives
//!
//! With the crate's `std` feature (which `minirt` enables) the budget is a
//! `Cell` in a `thread_local!`: one TLS access per operation, no allocation,
//! no atomics. Without `std` there is no thread-local storage to keep it in,
//! so this module is a **no-op**: [`budget`] just calls its closure, every
//! [`poll_proceed`] proceeds and nothing ever yields for budget reasons. A
//! `no_std` executor gets the same API, so code written against it does not
//! change when the budget becomes real. (The two versions are whole files,
//! `thread_local.rs` and `none.rs`, chosen once below.)
//!
//! ```
//! use core::future::{poll_fn, Future};
//! use core::task::{ready, Context, Poll};
//! use minirt_core::coop;
//!
//! /// A counter whose `next()` is always ready, made cooperative.
//! struct Counter(u64);
//!
//! impl Counter {
//!     fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<u64> {
//!         // Spend one unit, or yield (already woken) if the task has none.
//!         let restore = ready!(coop::poll_proceed(cx));
//!         self.0 += 1;
//!         // We complete: keep the unit spent.
//!         restore.made_progress();
//!         Poll::Ready(self.0)
//!     }
//! }
//!
//! let mut counter = Counter(0);
//! let waker = core::task::Waker::noop();
//! let mut cx = Context::from_waker(&waker);
//! // Executors wrap each task poll like this.
//! let polled = coop::budget(|| counter.poll_next(&mut cx));
//! assert_eq!(polled, Poll::Ready(1));
//! ```
//!
//! [`made_progress`]: RestoreOnPending::made_progress

use core::cell::Cell;
use core::task::{Context, Poll};

#[cfg_attr(all(any(feature = "std", test), not(loom)), path = "thread_local.rs")]
#[cfg_attr(not(all(any(feature = "std", test), not(loom))), path = "none.rs")]
mod current;

#[cfg(test)]
mod tests;

/// The budget of one task poll: this many budgeted operations complete
/// before the task is made to yield (tokio's number).
pub const INITIAL: u8 = 128;

/// What is left of the current budget: `None` is unconstrained.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Budget(Option<u8>);

impl Budget {
    /// A fresh task poll's budget.
    const fn initial() -> Budget {
        Budget(Some(INITIAL))
    }

    /// No budget: nothing is counted.
    const fn unconstrained() -> Budget {
        Budget(None)
    }
}

/// Runs `f` with a fresh budget of [`INITIAL`] units, then restores the
/// budget that was current before (also if `f` panics).
///
/// Executors call it around each poll of a task; minirt's task harness does
/// it for all of minirt's executors, so a task's future never needs to.
/// Without the `std` feature it just calls `f` (see the module docs).
///
/// ```
/// use minirt_core::coop;
///
/// let waker = core::task::Waker::noop();
/// let mut cx = core::task::Context::from_waker(&waker);
/// // A fresh budget always has room for `INITIAL` operations.
/// coop::budget(|| {
///     for _ in 0..coop::INITIAL {
///         let restore = coop::poll_proceed(&mut cx);
///         assert!(restore.is_ready());
///         restore.map(|r| r.made_progress());
///     }
/// });
/// ```
#[inline]
pub fn budget<R>(f: impl FnOnce() -> R) -> R {
    with_budget(Budget::initial(), f)
}

/// Runs `f` with the budget disabled: budgeted operations inside it always
/// proceed and never yield. Restores the previous budget afterwards (also if
/// `f` panics).
///
/// This is what `minirt::task::unconstrained` uses around each poll of its
/// future. Use it with care: a loop over always-ready work inside it can
/// starve the thread again.
///
/// ```
/// use minirt_core::coop;
///
/// let waker = core::task::Waker::noop();
/// let mut cx = core::task::Context::from_waker(&waker);
/// coop::budget(|| {
///     coop::with_unconstrained(|| {
///         for _ in 0..1000 {
///             assert!(coop::poll_proceed(&mut cx).is_ready());
///         }
///     });
/// });
/// ```
#[inline]
pub fn with_unconstrained<R>(f: impl FnOnce() -> R) -> R {
    with_budget(Budget::unconstrained(), f)
}

/// Installs `budget` for the duration of `f`.
#[inline(always)]
fn with_budget<R>(budget: Budget, f: impl FnOnce() -> R) -> R {
    /// Puts the previous budget back, on return and on unwind.
    struct Reset(Option<Budget>);

    impl Drop for Reset {
        #[inline(always)]
        fn drop(&mut self) {
            if let Some(previous) = self.0 {
                current::with(|cell| cell.set(previous));
            }
        }
    }

    let _reset = Reset(current::with(|cell| cell.replace(budget)));
    f()
}

/// Whether the current budget has a unit left (always `true` when
/// unconstrained).
///
/// For combinators that must know whether their inner future stopped
/// because of the budget: `minirt::time::timeout` polls its timer without a
/// budget when the inner future has just spent the last unit, so that a
/// busy inner future cannot keep the deadline from being noticed.
#[inline]
pub fn has_budget_remaining() -> bool {
    current::with(|cell| cell.get().0 != Some(0)).unwrap_or(true)
}

/// Spends one unit of the current budget, or yields.
///
/// - Budget spent: wakes the task (`cx.waker().wake_by_ref()`) and returns
///   `Pending`. The caller must return `Pending` too, doing nothing else:
///   its next poll comes after the executor let other tasks run.
/// - Otherwise: takes a unit and returns a guard. If the caller then
///   completes, it calls [`made_progress`](RestoreOnPending::made_progress)
///   to keep the unit spent; if it returns `Pending` (it has to wait after
///   all), dropping the guard gives the unit back, since waiting is not
///   progress.
///
/// Costs one thread-local access; unconstrained, it always proceeds.
///
/// See the [module docs](self) for an example.
#[inline]
pub fn poll_proceed(cx: &mut Context<'_>) -> Poll<RestoreOnPending> {
    let spent = current::with(|cell| match cell.get().0 {
        None => Some(false),
        Some(0) => None,
        Some(left) => {
            cell.set(Budget(Some(left - 1)));
            Some(true)
        }
    });
    match spent {
        // No thread-local budget (`no_std`, or the thread is exiting).
        None => Poll::Ready(RestoreOnPending::new(false)),
        Some(Some(spent)) => Poll::Ready(RestoreOnPending::new(spent)),
        Some(None) => {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

/// Runs the poll function `poll` as one budgeted operation: yields (woken)
/// without calling it if the budget is spent, otherwise calls it and spends
/// a unit only if it returned `Ready`.
///
/// The shape of every budgeted minirt future:
///
/// ```
/// use core::task::{Context, Poll};
/// use minirt_core::coop;
///
/// fn poll_always_ready(cx: &mut Context<'_>) -> Poll<u32> {
///     coop::poll_budgeted(cx, |_cx| Poll::Ready(7))
/// }
///
/// let waker = core::task::Waker::noop();
/// let mut cx = core::task::Context::from_waker(&waker);
/// assert_eq!(coop::budget(|| poll_always_ready(&mut cx)), Poll::Ready(7));
/// ```
#[inline]
pub fn poll_budgeted<T>(
    cx: &mut Context<'_>,
    poll: impl FnOnce(&mut Context<'_>) -> Poll<T>,
) -> Poll<T> {
    let restore = core::task::ready!(poll_proceed(cx));
    let result = poll(cx);
    if result.is_ready() {
        restore.made_progress();
    }
    result
}

/// A unit of budget taken by [`poll_proceed`]: given back on drop unless
/// [`made_progress`](Self::made_progress) was called.
///
/// Drop it before the poll that took it returns; it gives the unit back to
/// whatever budget is current on this thread when it drops.
#[must_use = "dropping the guard at once gives the unit back; call `made_progress` on completion"]
#[derive(Debug)]
pub struct RestoreOnPending {
    /// Whether a unit was taken and is still owed back.
    owed: Cell<bool>,
}

impl RestoreOnPending {
    #[inline(always)]
    fn new(owed: bool) -> Self {
        RestoreOnPending {
            owed: Cell::new(owed),
        }
    }

    /// The operation completed: the unit stays spent.
    #[inline]
    pub fn made_progress(&self) {
        self.owed.set(false);
    }
}

impl Drop for RestoreOnPending {
    #[inline]
    fn drop(&mut self) {
        if self.owed.get() {
            current::with(|cell| {
                if let Some(left) = cell.get().0 {
                    cell.set(Budget(Some(left.saturating_add(1))));
                }
            });
        }
    }
}
