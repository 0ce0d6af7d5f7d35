//! `Notify`: wake one task, or all waiting tasks, without sending data.
//!
//! Why: many coordination problems are "something changed, go and look" —
//! a queue got an item, a config was reloaded, shutdown began. `Notify` is
//! that signal. [`Notify::notify_one`] stores a permit when nobody is
//! waiting, so a notification sent just before the waiter arrives is not
//! lost. [`Notify::notify_waiters`] wakes everyone waiting *now*, including
//! [`Notified`] futures created before the call but not yet polled, which
//! makes the pattern "create `notified()`, check the condition, then await"
//! race-free.
//!
//! How: waiters queue in FIFO order in a [`WaitList`] behind a
//! [`Lock`]; the lock is never held across an `.await` or while a waker
//! is woken or dropped (wakers go through a [`WakeList`](wake_list::WakeList)). `notify_waiters`
//! bumps a generation counter; a `Notified` remembers the generation it was
//! created in and is ready as soon as the counter moved on. A waiter woken by
//! `notify_one` that is dropped before it sees the notification passes it on
//! to the next waiter (or stores it as the permit), so it is never lost.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

use super::lock::{Lock, LockGuard};
use super::wait_list::WaitList;
use super::wake_list;
use crate::loom::atomic::{AtomicUsize, Ordering};

/// Wakes waiting tasks on request, without sending data.
///
/// Why: many coordination problems are "something changed, go and look" — a
/// queue got an item, a config was reloaded, shutdown began.
///
/// - [`notify_one`](Self::notify_one) wakes the longest-waiting task, or
///   stores one permit if nobody waits, so a notification sent just before
///   the waiter arrives is not lost.
/// - [`notify_waiters`](Self::notify_waiters) wakes everyone waiting now,
///   including [`Notified`] futures created before the call but not yet
///   polled, so "create `notified()`, check the condition, then await" is
///   race-free.
/// - Dropping a `Notified` that `notify_one` had picked passes the
///   notification on to the next waiter (or stores it as the permit).
///
///
/// ```
/// use core::future::Future;
/// use core::pin::pin;
/// use core::task::{Context, Waker};
/// use minirt_core::sync::Notify;
///
/// let notify = Notify::new();
/// notify.notify_one(); // nobody waits: stored as a permit
/// let mut cx = Context::from_waker(Waker::noop());
/// assert!(pin!(notify.notified()).poll(&mut cx).is_ready());
/// assert!(pin!(notify.notified()).poll(&mut cx).is_pending());
/// ```
pub struct Notify {
    /// How many times `notify_waiters` ran (wrapping). Written under the
    /// lock, read without it by `notified()`.
    generation: AtomicUsize,
    /// The permit and the waiters.
    state: Lock<State>,
}

/// Everything the lock protects.
struct State {
    /// A `notify_one` arrived while nobody was waiting.
    permit: bool,
    /// Waiting `Notified` futures in FIFO order.
    waiters: WaitList<Waiter>,
}

/// One waiting `Notified`.
struct Waiter {
    /// Whom to wake; taken when notified.
    waker: Option<Waker>,
    /// The `generation` when it queued.
    generation: usize,
    /// Whether, and how, it has been notified.
    wakeup: Wakeup,
}

/// How a waiter was notified.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Wakeup {
    /// Not yet.
    None,
    /// By `notify_one`: must be passed on if the future is dropped unseen.
    One,
    /// By `notify_waiters`.
    All,
}

impl Notify {
    /// Creates a `Notify` with no stored permit.
    #[cfg(not(loom))]
    pub const fn new() -> Self {
        Self {
            generation: AtomicUsize::new(0),
            state: Lock::new(State::new()),
        }
    }

    /// Creates a `Notify` with no stored permit.
    #[cfg(loom)]
    pub fn new() -> Self {
        Self {
            generation: AtomicUsize::new(0),
            state: Lock::new(State::new()),
        }
    }

    /// A future that completes when this task is notified.
    ///
    /// It counts as waiting for [`notify_waiters`](Self::notify_waiters) from
    /// the moment it is created, and for [`notify_one`](Self::notify_one)
    /// from its first poll.
    pub fn notified(&self) -> Notified<'_> {
        Notified {
            notify: self,
            generation: self.generation.load(Ordering::Acquire),
            stage: Stage::Init,
        }
    }

    /// Wakes the longest-waiting task, or stores a permit (at most one) for
    /// the next `notified()` if none is waiting.
    pub fn notify_one(&self) {
        let waker = self.lock().notify_one();
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Wakes every task waiting now (and every `Notified` created before
    /// this call). Does not store a permit.
    pub fn notify_waiters(&self) {
        let state = self.lock();
        let generation = self.generation.load(Ordering::Relaxed).wrapping_add(1);
        self.generation.store(generation, Ordering::Release);
        wake_list::in_batches(
            state,
            || self.lock(),
            |state, wakes| {
                while let Some(key) = state.waiters.front() {
                    // Stop at the first waiter that queued after this call (or
                    // after a later call, if batches of two calls interleave).
                    let queued_in = state.waiters.get(key).generation;
                    if (generation.wrapping_sub(queued_in) as isize) <= 0 {
                        break;
                    }
                    if !wakes.can_push() {
                        return true;
                    }
                    let waiter = state.waiters.detach(key);
                    waiter.wakeup = Wakeup::All;
                    if let Some(waker) = waiter.waker.take() {
                        wakes.push(waker);
                    }
                }
                false
            },
        );
    }

    /// Locks the state.
    fn lock(&self) -> LockGuard<'_, State> {
        self.state.lock()
    }
}

impl Default for Notify {
    fn default() -> Self {
        Self::new()
    }
}

impl core::fmt::Debug for Notify {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Notify").finish_non_exhaustive()
    }
}

impl State {
    /// No permit, nobody waiting.
    const fn new() -> Self {
        Self {
            permit: false,
            waiters: WaitList::new(),
        }
    }

    /// Notifies the head waiter (returning its waker) or stores the permit.
    #[must_use]
    fn notify_one(&mut self) -> Option<Waker> {
        match self.waiters.detach_front() {
            Some(key) => {
                let waiter = self.waiters.get_mut(key);
                waiter.wakeup = Wakeup::One;
                waiter.waker.take()
            }
            None => {
                self.permit = true;
                None
            }
        }
    }
}

/// Where a `Notified` stands.
#[derive(Debug)]
enum Stage {
    /// Not polled yet.
    Init,
    /// Queued under this key.
    Waiting(usize),
    /// Completed.
    Done,
}

/// Future returned by [`Notify::notified`].
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub struct Notified<'a> {
    /// The `Notify` waited on.
    notify: &'a Notify,
    /// `notify.generation` when this future was created.
    generation: usize,
    /// Progress.
    stage: Stage,
}

impl Future for Notified<'_> {
    type Output = ();

    /// One budgeted operation (see [`coop`](crate::coop)): with the task's
    /// budget spent it yields before looking, even with a stored permit.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        crate::sync::poll_waiting_in(cx, crate::task::WaitKind::Notify, |cx| {
            this.poll_unbudgeted(cx)
        })
    }
}

impl Notified<'_> {
    /// `poll` without the budget.
    fn poll_unbudgeted(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        match self.stage {
            Stage::Init => {
                let mut state = self.notify.lock();
                let generation = self.notify.generation.load(Ordering::Relaxed);
                if generation != self.generation || core::mem::take(&mut state.permit) {
                    self.stage = Stage::Done;
                    return Poll::Ready(());
                }
                let waiter = Waiter {
                    waker: Some(cx.waker().clone()),
                    generation,
                    wakeup: Wakeup::None,
                };
                self.stage = Stage::Waiting(state.waiters.push_back(waiter));
                Poll::Pending
            }
            Stage::Waiting(key) => {
                let mut state = self.notify.lock();
                let waiter = state.waiters.get_mut(key);
                if waiter.wakeup == Wakeup::None {
                    let stale = match &waiter.waker {
                        Some(w) if w.will_wake(cx.waker()) => None,
                        _ => waiter.waker.replace(cx.waker().clone()),
                    };
                    drop(state);
                    drop(stale);
                    return Poll::Pending;
                }
                let waiter = state.waiters.remove(key);
                drop(state);
                drop(waiter);
                self.stage = Stage::Done;
                Poll::Ready(())
            }
            Stage::Done => panic!("Notified polled after it completed"),
        }
    }
}

impl Drop for Notified<'_> {
    fn drop(&mut self) {
        let Stage::Waiting(key) = self.stage else {
            return;
        };
        let mut state = self.notify.lock();
        let waiter = state.waiters.remove(key);
        // A `notify_one` aimed at us must not vanish with us.
        let forwarded = if waiter.wakeup == Wakeup::One {
            state.notify_one()
        } else {
            None
        };
        drop(state);
        drop(waiter);
        if let Some(waker) = forwarded {
            waker.wake();
        }
    }
}

const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Notify>();
    assert_send_sync::<Notified<'_>>();
};

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::sync::test_util::{block_on, poll_once, poll_with, CountingWaker};
    use alloc::sync::Arc;
    use alloc::vec::Vec;

    #[test]
    fn notify_one_wakes_waiters_in_fifo_order() {
        let notify = Notify::new();
        let (first_count, first_waker) = CountingWaker::new();
        let mut first = notify.notified();
        let mut second = notify.notified();
        assert!(poll_with(&mut first, &first_waker).is_pending());
        assert!(poll_once(&mut second).is_pending());
        notify.notify_one();
        assert_eq!(first_count.wakes(), 1);
        assert!(poll_once(&mut second).is_pending());
        assert!(poll_once(&mut first).is_ready());
    }

    #[test]
    fn notify_waiters_wakes_more_than_one_batch() {
        let notify = Notify::new();
        let mut waiters: Vec<_> = (0..40)
            .map(|_| (notify.notified(), CountingWaker::new()))
            .collect();
        for (fut, (_, waker)) in &mut waiters {
            assert!(poll_with(fut, waker).is_pending());
        }
        notify.notify_waiters();
        for (fut, (counter, waker)) in &mut waiters {
            assert_eq!(counter.wakes(), 1);
            assert!(poll_with(fut, waker).is_ready());
        }
    }

    #[test]
    fn permit_is_stored_once() {
        let notify = Notify::new();
        notify.notify_one();
        notify.notify_one();
        assert!(poll_once(&mut notify.notified()).is_ready());
        assert!(poll_once(&mut notify.notified()).is_pending());
    }

    #[test]
    fn notify_waiters_wakes_all_current_and_created_but_unpolled() {
        let notify = Notify::new();
        let mut polled = notify.notified();
        assert!(poll_once(&mut polled).is_pending());
        let mut created = notify.notified();
        notify.notify_waiters();
        let mut later = notify.notified();
        assert!(poll_once(&mut polled).is_ready());
        assert!(poll_once(&mut created).is_ready());
        assert!(
            poll_once(&mut later).is_pending(),
            "no permit stored by notify_waiters"
        );
    }

    #[test]
    fn cancelled_notify_one_is_passed_on() {
        let notify = Notify::new();
        let mut first = notify.notified();
        let (count, waker) = CountingWaker::new();
        let mut second = notify.notified();
        assert!(poll_once(&mut first).is_pending());
        assert!(poll_with(&mut second, &waker).is_pending());
        notify.notify_one();
        drop(first);
        assert_eq!(count.wakes(), 1);
        assert!(poll_once(&mut second).is_ready());
        // And with nobody left, it becomes the permit.
        let mut third = notify.notified();
        assert!(poll_once(&mut third).is_pending());
        notify.notify_one();
        drop(third);
        assert!(poll_once(&mut notify.notified()).is_ready());
    }

    #[test]
    fn wakes_a_thread_blocked_on_it() {
        let notify = Arc::new(Notify::new());
        let barrier = Arc::new(std::sync::Barrier::new(2));
        let waiter = {
            let (notify, barrier) = (Arc::clone(&notify), Arc::clone(&barrier));
            std::thread::spawn(move || {
                let notified = notify.notified();
                barrier.wait();
                block_on(notified);
            })
        };
        barrier.wait();
        notify.notify_waiters();
        waiter.join().unwrap();
    }
}
