//! The reusable async barrier, [`Barrier`].
//!
//! How: a count of arrivals and a [`WaitList`] of the waiting tasks live
//! behind one [`Lock`]; the number of the current *generation* (one round
//! of `n` arrivals) is also kept in an atomic, so that a woken waiter learns
//! it was released with one load and no lock.
//!
//! The `n`-th arrival (the leader) bumps the generation under the lock,
//! resets the count, and then removes every node of the old generation from
//! the list, waking them after unlocking (in batches of the [`WakeList`]'s
//! size). Arrivals of the new generation may queue while it does so; they
//! sit behind the old nodes (the list is FIFO) and carry the new
//! generation number, which is where the leader stops.
//!
//! A waiter's node is only ever freed by the leader (once released) or by
//! the waiter itself while its generation is still current (cancellation,
//! under the lock); so a waiter that sees the generation moved on never
//! touches its key again.

#[cfg(all(test, not(loom)))]
mod tests;

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

use super::lock::{Lock, LockGuard};
use super::wait_list::WaitList;
use super::wake_list::{self, WakeList};
use crate::loom::atomic::{AtomicUsize, Ordering::*};

/// Lets a group of `n` tasks wait until all of them have reached the same
/// point, then releases them together; reusable for the next round.
///
/// Why: phased work (every worker finishes step 1 before any starts step
/// 2) without counting and notifying by hand.
///
/// - **Leader.** Exactly one task of each round — the last to arrive —
///   gets a [`BarrierWaitResult`] whose [`is_leader`](BarrierWaitResult::is_leader)
///   is `true`, e.g. to do the round's bookkeeping.
/// - **Reusable.** Once a round is released the next `n` calls form the
///   next round.
/// - `Barrier::new(0)` behaves like `Barrier::new(1)` (as tokio and `std`):
///   every `wait` returns at once, as leader.
///
/// # Examples
///
/// ```
/// use alloc::sync::Arc;
/// # extern crate alloc;
/// use minirt_core::executor::LocalExecutor;
/// use minirt_core::sync::Barrier;
///
/// let ex = LocalExecutor::new();
/// let barrier = Arc::new(Barrier::new(3));
/// let tasks: Vec<_> = (0..3)
///     .map(|_| {
///         let barrier = Arc::clone(&barrier);
///         ex.spawn(async move { barrier.wait().await.is_leader() })
///     })
///     .collect();
/// let leaders = ex.block_on(
///     async {
///         let mut leaders = 0;
///         for t in tasks {
///             leaders += usize::from(t.await.unwrap());
///         }
///         leaders
///     },
///     || {},
/// );
/// assert_eq!(leaders, 1);
/// ```
pub struct Barrier {
    /// Tasks per round (at least 1).
    n: usize,
    /// The current round's number; bumped under the lock by each leader.
    /// A waiter whose round number differs has been released.
    generation: AtomicUsize,
    /// Arrivals and waiters of the current round.
    state: Lock<State>,
}

/// Everything the lock protects.
struct State {
    /// Tasks of the current round that arrived and still wait (a cancelled
    /// wait withdraws).
    arrived: usize,
    /// Waiting tasks in arrival order; released nodes of the previous
    /// round may still be at the front while their leader wakes them.
    waiters: WaitList<Waiter>,
}

/// One task waiting at the barrier.
struct Waiter {
    /// The round it arrived in.
    generation: usize,
    /// Whom to wake when the round is released.
    waker: Option<Waker>,
}

impl Barrier {
    /// Creates a barrier that releases its waiters each time `n` tasks have
    /// called [`wait`](Self::wait). `n == 0` is treated as 1.
    ///
    /// ```
    /// use minirt_core::executor::LocalExecutor;
    /// use minirt_core::sync::Barrier;
    ///
    /// let barrier = Barrier::new(0);
    /// let result = LocalExecutor::new().block_on(barrier.wait(), || {});
    /// assert!(result.is_leader(), "a barrier of 0 or 1 never waits");
    /// ```
    pub fn new(n: usize) -> Self {
        Self {
            n: n.max(1),
            generation: AtomicUsize::new(0),
            state: Lock::new(State {
                arrived: 0,
                waiters: WaitList::new(),
            }),
        }
    }

    /// Arrives at the barrier and waits until `n` tasks of this round have
    /// arrived; the last one to arrive is the round's leader and releases
    /// the others.
    ///
    /// # Cancellation safety
    ///
    /// Dropping the future before its round is released **withdraws its
    /// arrival**: the round then waits for one more task, as if this one
    /// had never come. (tokio's `wait` is documented as not cancel safe: a
    /// dropped tokio waiter still counts.) Dropping it after the release
    /// changes nothing — the round is over, and the leader was whoever
    /// arrived last.
    ///
    /// ```
    /// use core::future::Future;
    /// use core::pin::pin;
    /// use core::task::{Context, Waker};
    /// use minirt_core::sync::Barrier;
    ///
    /// let barrier = Barrier::new(2);
    /// let mut cx = Context::from_waker(Waker::noop());
    /// let mut first = Box::pin(barrier.wait());
    /// assert!(first.as_mut().poll(&mut cx).is_pending());
    /// drop(first); // withdraws
    /// let mut second = pin!(barrier.wait());
    /// assert!(second.as_mut().poll(&mut cx).is_pending(), "one more is needed");
    /// ```
    pub fn wait(&self) -> BarrierWait<'_> {
        BarrierWait {
            barrier: self,
            state: WaitState::Idle,
        }
    }

    /// Locks the state.
    fn lock(&self) -> LockGuard<'_, State> {
        self.state.lock()
    }

    /// Whether the round `generation` has been released: one load, no lock.
    fn is_released(&self, generation: usize) -> bool {
        self.generation.load(Acquire) != generation
    }

    /// The first poll of a wait: arrive, and either lead the release or
    /// queue.
    fn arrive(&self, cx: &mut Context<'_>) -> WaitState {
        let mut state = self.lock();
        let generation = self.generation.load(Relaxed);
        state.arrived += 1;
        if state.arrived < self.n {
            let key = state.waiters.push_back(Waiter {
                generation,
                waker: Some(cx.waker().clone()),
            });
            return WaitState::Waiting { key, generation };
        }
        // The leader: start the next round, then wake this one.
        state.arrived = 0;
        self.generation.store(generation.wrapping_add(1), Release);
        wake_list::in_batches(
            state,
            || self.lock(),
            |state, wakes| release_round(state, self.generation.load(Relaxed), wakes),
        );
        WaitState::Done
    }

    /// A later poll of a queued wait: released, or still waiting (with the
    /// newest waker stored).
    fn poll_waiting(&self, key: usize, generation: usize, cx: &mut Context<'_>) -> bool {
        if self.is_released(generation) {
            return true;
        }
        let mut state = self.lock();
        if self.is_released(generation) {
            // The leader frees our node; it is no longer ours to touch.
            return true;
        }
        let waiter = state.waiters.get_mut(key);
        let stale = match &waiter.waker {
            Some(waker) if waker.will_wake(cx.waker()) => None,
            _ => waiter.waker.replace(cx.waker().clone()),
        };
        drop(state);
        drop(stale);
        false
    }

    /// A wait dropped before its round was released withdraws its arrival.
    fn withdraw(&self, key: usize, generation: usize) {
        if self.is_released(generation) {
            return;
        }
        let mut state = self.lock();
        if self.is_released(generation) {
            return;
        }
        let node = state.waiters.remove(key);
        debug_assert_eq!(node.generation, generation, "barrier node {key} reused");
        state.arrived -= 1;
        drop(state);
        drop(node);
    }
}

/// Frees the nodes of released rounds — all before the first node of the
/// `current` round — from the front of the queue, collecting their wakers;
/// returns `true` if `wakes` filled up first.
///
/// Not just the leader's own round: if a later round completed while this
/// leader was waking a batch, that round's leader stopped at our nodes, and
/// whoever drains next must free its nodes too.
fn release_round(state: &mut State, current: usize, wakes: &mut WakeList) -> bool {
    while let Some(key) = state.waiters.front() {
        if state.waiters.get(key).generation == current {
            // The first arrival of the round still gathering.
            return false;
        }
        if !wakes.can_push() {
            return true;
        }
        if let Some(waker) = state.waiters.remove(key).waker {
            wakes.push(waker);
        }
    }
    false
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let arrived = self.lock().arrived;
        f.debug_struct("Barrier")
            .field("n", &self.n)
            .field("arrived", &arrived)
            .finish()
    }
}

/// Where a [`BarrierWait`] stands.
#[derive(Debug)]
enum WaitState {
    /// Not polled yet: not counted.
    Idle,
    /// Counted in round `generation`, queued under `key`.
    Waiting { key: usize, generation: usize },
    /// Released (or led the release).
    Done,
}

/// Future returned by [`Barrier::wait`].
///
/// Dropping it before its round is released withdraws its arrival (see
/// [`Barrier::wait`]).
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub struct BarrierWait<'a> {
    /// The barrier waited at.
    barrier: &'a Barrier,
    /// Progress of the wait.
    state: WaitState,
}

impl Future for BarrierWait<'_> {
    type Output = BarrierWaitResult;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<BarrierWaitResult> {
        let this = self.get_mut();
        super::poll_waiting_in(cx, crate::task::WaitKind::Barrier, |cx| {
            this.poll_unbudgeted(cx)
        })
    }
}

impl BarrierWait<'_> {
    /// `poll` without the budget.
    fn poll_unbudgeted(&mut self, cx: &mut Context<'_>) -> Poll<BarrierWaitResult> {
        match self.state {
            WaitState::Idle => {
                self.state = self.barrier.arrive(cx);
                match self.state {
                    WaitState::Done => Poll::Ready(BarrierWaitResult { leader: true }),
                    _ => Poll::Pending,
                }
            }
            WaitState::Waiting { key, generation } => {
                if self.barrier.poll_waiting(key, generation, cx) {
                    self.state = WaitState::Done;
                    Poll::Ready(BarrierWaitResult { leader: false })
                } else {
                    Poll::Pending
                }
            }
            WaitState::Done => panic!("BarrierWait polled after it completed"),
        }
    }
}

impl Drop for BarrierWait<'_> {
    fn drop(&mut self) {
        if let WaitState::Waiting { key, generation } = self.state {
            self.barrier.withdraw(key, generation);
        }
    }
}

/// What [`Barrier::wait`] resolves to: whether this task was the round's
/// leader.
///
/// ```
/// use minirt_core::executor::LocalExecutor;
/// use minirt_core::sync::{Barrier, BarrierWaitResult};
///
/// let barrier = Barrier::new(1);
/// let result: BarrierWaitResult = LocalExecutor::new().block_on(barrier.wait(), || {});
/// assert!(result.is_leader());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BarrierWaitResult {
    /// Whether this task arrived last in its round.
    leader: bool,
}

impl BarrierWaitResult {
    /// `true` for exactly one task per round: the one that arrived last.
    ///
    /// ```
    /// use minirt_core::executor::LocalExecutor;
    /// use minirt_core::sync::Barrier;
    ///
    /// let barrier = Barrier::new(1);
    /// assert!(LocalExecutor::new().block_on(barrier.wait(), || {}).is_leader());
    /// ```
    pub fn is_leader(&self) -> bool {
        self.leader
    }
}
