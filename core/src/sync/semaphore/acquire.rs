//! The futures returned by `Semaphore::acquire*`.
//!
//! Both futures share [`Request`], which holds the request size and, once
//! queued, the key of the waiter's node. They are `Unpin`: the node lives in
//! the semaphore's slab, not in the future.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use alloc::sync::Arc;

use super::super::wake_list::WakeList;
use super::{
    AcquireError, Outcome, OwnedSemaphorePermit, Semaphore, SemaphorePermit, TryTake, CLOSED,
    HAS_WAITERS,
};
use crate::loom::atomic::Ordering;
use crate::task::WaitKind;

/// Where an acquire request stands.
#[derive(Debug)]
enum Request {
    /// Not polled yet: not in the queue.
    Idle { needed: u32 },
    /// Queued under `key` with grant ticket `ticket` (or granted and not yet
    /// told, or closed and not yet collected).
    Queued {
        needed: u32,
        key: usize,
        ticket: usize,
    },
    /// Resolved; polling again is a bug.
    Done,
}

impl Request {
    /// Drives the request; `Ready(Ok(n))` means `n` permits now belong to the
    /// caller.
    ///
    /// One budgeted operation (see [`coop`](crate::coop)): with the task's budget spent it
    /// yields before looking, whether or not permits are free. A request
    /// already granted keeps its permits until the next poll collects them.
    /// A wait is noted on the polling task as `kind` (see
    /// `sync::poll_waiting_in`).
    fn poll(
        &mut self,
        sem: &Semaphore,
        kind: WaitKind,
        cx: &mut Context<'_>,
    ) -> Poll<Result<u32, AcquireError>> {
        crate::sync::poll_waiting_in(cx, kind, |cx| self.poll_unbudgeted(sem, cx))
    }

    /// [`poll`](Self::poll) without the budget.
    fn poll_unbudgeted(
        &mut self,
        sem: &Semaphore,
        cx: &mut Context<'_>,
    ) -> Poll<Result<u32, AcquireError>> {
        match *self {
            Request::Idle { needed } => match sem.try_take_fast(needed) {
                TryTake::Taken => {
                    *self = Request::Done;
                    Poll::Ready(Ok(needed))
                }
                TryTake::Closed => {
                    *self = Request::Done;
                    Poll::Ready(Err(AcquireError::new()))
                }
                TryTake::MustWait => self.enqueue(sem, needed, cx),
            },
            Request::Queued {
                needed,
                key,
                ticket,
            } => {
                // The common case after a wake-up: granted, known lock-free.
                if sem.is_served(ticket) {
                    *self = Request::Done;
                    return Poll::Ready(Ok(needed));
                }
                let mut state = sem.lock();
                if !state.holds(key, ticket) {
                    // Granted after all (the lock-free check is a hint).
                    drop(state);
                    *self = Request::Done;
                    return Poll::Ready(Ok(needed));
                }
                let waiter = state.waiters.get_mut(key);
                match waiter.outcome {
                    Outcome::Waiting => {
                        let stale = match &waiter.waker {
                            Some(waker) if waker.will_wake(cx.waker()) => None,
                            _ => waiter.waker.replace(cx.waker().clone()),
                        };
                        drop(state);
                        drop(stale);
                        Poll::Pending
                    }
                    Outcome::Closed => {
                        let node = state.waiters.remove(key);
                        drop(state);
                        drop(node);
                        *self = Request::Done;
                        Poll::Ready(Err(AcquireError::new()))
                    }
                }
            }
            Request::Done => panic!("semaphore acquire future polled after it completed"),
        }
    }

    /// The slow path of a first poll: join the queue.
    fn enqueue(
        &mut self,
        sem: &Semaphore,
        needed: u32,
        cx: &mut Context<'_>,
    ) -> Poll<Result<u32, AcquireError>> {
        let mut state = sem.lock();
        // Announce the queue first, so every release from now on takes the
        // lock; then serve the queue (us included) from whatever is free,
        // which also covers a release that slipped in before the flag.
        // (Only `close` sets `CLOSED` and only under this lock, and the flag
        // is cleared only under it: if it is set, it stays set; skipping the
        // read-modify-write then keeps the permit word's line shared.)
        let mut word = sem.permits.load(Ordering::Acquire);
        if word & HAS_WAITERS == 0 {
            word = sem.permits.fetch_or(HAS_WAITERS, Ordering::AcqRel);
        }
        if word & CLOSED != 0 {
            if state.waiters.is_empty() {
                sem.permits.fetch_and(!HAS_WAITERS, Ordering::AcqRel);
            }
            *self = Request::Done;
            return Poll::Ready(Err(AcquireError::new()));
        }
        let (key, ticket) = state.enqueue(needed);
        let mut wakes = WakeList::new();
        let more = sem.grant_waiters(&mut state, &mut 0, &mut wakes);
        // Served at once (permits arrived before the flag): no need to wait
        // for a wake-up.
        let granted = !state.holds(key, ticket);
        if granted {
            *self = Request::Done;
        } else {
            state.waiters.get_mut(key).waker = Some(cx.waker().clone());
            *self = Request::Queued {
                needed,
                key,
                ticket,
            };
        }
        drop(state);
        wakes.wake_all();
        if more {
            sem.grant_and_wake(sem.lock(), 0);
        }
        if granted {
            Poll::Ready(Ok(needed))
        } else {
            Poll::Pending
        }
    }

    /// Gives up the request: leaves the queue, returning any permits already
    /// granted so that the next waiters get them.
    fn cancel(&mut self, sem: &Semaphore) {
        let Request::Queued {
            needed,
            key,
            ticket,
        } = core::mem::replace(self, Request::Done)
        else {
            return;
        };
        if sem.is_served(ticket) {
            // Granted but never told: hand the permits on.
            sem.release(needed as usize);
            return;
        }
        let mut state = sem.lock();
        let node = if state.holds(key, ticket) {
            Some(state.waiters.remove(key))
        } else {
            // Granted (the lock-free check is a hint): give them back.
            let _ = sem.add(needed as usize);
            None
        };
        // Whether this waiter was granted or was blocking the head, the
        // waiters behind it may fit now.
        sem.grant_and_wake(state, 0);
        drop(node);
    }
}

/// Future returned by [`Semaphore::acquire`] and [`Semaphore::acquire_many`].
///
/// Dropping it before completion gives up its place in the queue; permits
/// already assigned to it go to the next waiters.
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub struct Acquire<'a> {
    /// The semaphore asked.
    sem: &'a Semaphore,
    /// Progress of the request.
    request: Request,
    /// What a task dump says the waiting task waits in (a `Mutex` or
    /// `RwLock` on top of the semaphore says so).
    kind: WaitKind,
}

impl<'a> Acquire<'a> {
    /// A request for `needed` permits of `sem`, noted as `kind` while it
    /// waits.
    pub(crate) fn new(sem: &'a Semaphore, needed: u32, kind: WaitKind) -> Self {
        Self {
            sem,
            request: Request::Idle { needed },
            kind,
        }
    }
}

impl<'a> Future for Acquire<'a> {
    type Output = Result<SemaphorePermit<'a>, AcquireError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        this.request
            .poll(this.sem, this.kind, cx)
            .map(|granted| granted.map(|n| SemaphorePermit::new(this.sem, n)))
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        self.request.cancel(self.sem);
    }
}

/// Future returned by [`Semaphore::acquire_owned`] and
/// [`Semaphore::acquire_many_owned`].
///
/// Dropping it before completion gives up its place in the queue; permits
/// already assigned to it go to the next waiters.
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub struct AcquireOwned {
    /// The semaphore asked; moved into the permit on success.
    sem: Option<Arc<Semaphore>>,
    /// Progress of the request.
    request: Request,
}

impl AcquireOwned {
    /// A request for `needed` permits of `sem`.
    pub(super) fn new(sem: Arc<Semaphore>, needed: u32) -> Self {
        Self {
            sem: Some(sem),
            request: Request::Idle { needed },
        }
    }
}

impl Future for AcquireOwned {
    type Output = Result<OwnedSemaphorePermit, AcquireError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let sem = this
            .sem
            .as_ref()
            .expect("AcquireOwned polled after it completed");
        let result = core::task::ready!(this.request.poll(sem, WaitKind::Semaphore, cx));
        let sem = this.sem.take().expect("checked above");
        Poll::Ready(result.map(|n| OwnedSemaphorePermit::new(sem, n)))
    }
}

impl Drop for AcquireOwned {
    fn drop(&mut self) {
        if let Some(sem) = &self.sem {
            self.request.cancel(sem);
        }
    }
}
