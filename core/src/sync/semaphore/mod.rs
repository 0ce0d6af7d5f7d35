//! The FIFO-fair async counting semaphore, [`Semaphore`].
//!
//! The user-facing rules (fairness, cancellation, close) are on the type;
//! this is how they are implemented.
//!
//! # How it works
//!
//! All state lives behind one [`Lock`]: the free permit count, the closed
//! flag and a [`WaitList`] of waiters (a FIFO list in a slab, so a wait does not
//! allocate once the slab has warmed up, and a cancelled waiter leaves in
//! O(1)). The lock is held only for a few loads and stores: **never across an
//! `.await` and never while a waker is woken or dropped**. Wakers to wake are
//! moved into a [`WakeList`] and woken after the guard is gone, because waking
//! or dropping a waker may run a task's destructor, which may in turn drop
//! another acquire on this same semaphore and need the lock. (Cloning a waker,
//! a reference-count increment, does happen under the lock.)
//!
//! A waiter's node moves through these states:
//!
//! ```text
//!            push_back               grant_waiters (enough free permits)
//!  (poll) ───────────────▶ Waiting ─────────────────────────────────▶ Granted
//!                             │                                          │
//!                             │ close()                                  │ poll: remove, Ok(permit)
//!                             ▼                                          │ drop: remove, release
//!                          Closed ── poll: remove, Err / drop: remove    ▼
//! ```
//!
//! Dropping a future in `Waiting` unlinks it and re-runs `grant_waiters`
//! (the waiter behind it may now fit). Dropping one in `Granted` gives its
//! permits back, which are handed on to the next waiters. Nothing leaks.
//!
//! After [`Semaphore::close`], waiters that were already `Granted` still get
//! their permits; everyone still `Waiting`, and every later acquire, gets an
//! [`AcquireError`]. Releasing and adding permits keeps working.

mod acquire;
mod error;
#[cfg(all(any(test, fuzzing), not(loom)))]
mod fuzz;
mod permit;
#[cfg(all(test, not(loom)))]
mod tests;

use core::task::Waker;

pub use acquire::{Acquire, AcquireOwned};
pub use error::{AcquireError, TryAcquireError};
#[cfg(all(any(test, fuzzing), not(loom)))]
pub use fuzz::fuzz_semaphore;
pub use permit::{OwnedSemaphorePermit, SemaphorePermit};

use super::lock::{Lock, LockGuard};
use super::wait_list::WaitList;
use super::wake_list::WakeList;

/// A FIFO-fair counting semaphore for async tasks.
///
/// Why: to bound how many tasks use a resource at once (connections, memory,
/// in-flight requests) without starving anyone.
///
/// - **Fair.** Waiters are served strictly in arrival order, *including*
///   requests for several permits: a large request at the head of the queue
///   holds back later small ones until enough permits have been released for
///   it, so it is never starved. [`try_acquire`](Self::try_acquire) does not
///   jump the queue either.
/// - **Cancel-safe.** Dropping an acquire future gives up its place without
///   losing or leaking permits: if permits had already been assigned to it,
///   they go to the next waiters.
/// - **Closable.** After [`close`](Self::close), waiting and future acquires
///   fail with [`AcquireError`]; permits already held stay valid.
/// - **No allocation per wait** once warmed up; cancelling a wait is O(1).
///
/// The waiter queue is protected by a spin lock held only for a few loads and
/// stores — never across an `.await` and never while a waker is woken or
/// dropped (wakers are collected and woken after the lock is released).
///
/// # Examples
///
/// ```
/// use core::future::Future;
/// use core::pin::pin;
/// use core::task::{Context, Poll, Waker};
/// use minirt_core::sync::Semaphore;
///
/// let sem = Semaphore::new(2);
/// let one = sem.try_acquire().unwrap();
/// assert_eq!(sem.available_permits(), 1);
///
/// // Asking for two waits until `one` is released.
/// let mut cx = Context::from_waker(Waker::noop());
/// let mut two = pin!(sem.acquire_many(2));
/// assert!(two.as_mut().poll(&mut cx).is_pending());
/// drop(one);
/// let Poll::Ready(Ok(permit)) = two.as_mut().poll(&mut cx) else { panic!() };
/// assert_eq!(permit.num_permits(), 2);
/// ```
pub struct Semaphore {
    /// Free permits, the closed flag and the waiter queue.
    state: Lock<State>,
}

/// Everything the lock protects.
struct State {
    /// Permits nobody holds or has been granted.
    permits: usize,
    /// Set by [`Semaphore::close`]; never cleared.
    closed: bool,
    /// Waiters in arrival order, plus detached nodes not yet collected.
    waiters: WaitList<Waiter>,
}

/// One pending acquire.
struct Waiter {
    /// How many permits it asked for.
    needed: u32,
    /// Whom to wake when `outcome` changes; taken when it does.
    waker: Option<Waker>,
    /// What happened to it.
    outcome: Outcome,
}

/// The state of a waiter's node; see the diagram in the module docs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// Queued, permits not yet assigned.
    Waiting,
    /// Detached; `needed` permits are assigned to it.
    Granted,
    /// Detached by `close`; gets no permits.
    Closed,
}

/// What a request for permits finds without waiting.
enum TryTake {
    /// The permits were taken.
    Taken,
    /// The semaphore is closed.
    Closed,
    /// Not enough permits, or others are queued first.
    MustWait,
}

impl Semaphore {
    /// The most permits a semaphore can hold.
    pub const MAX_PERMITS: usize = usize::MAX >> 3;

    /// Creates a semaphore with `permits` free permits.
    ///
    /// It is a `const fn`, so a semaphore can be a `static`:
    ///
    /// ```
    /// use minirt_core::sync::Semaphore;
    ///
    /// static DB_CONNECTIONS: Semaphore = Semaphore::new(8);
    /// assert_eq!(DB_CONNECTIONS.available_permits(), 8);
    /// ```
    ///
    /// # Panics
    ///
    /// If `permits` exceeds [`Semaphore::MAX_PERMITS`].
    #[cfg(not(loom))]
    pub const fn new(permits: usize) -> Self {
        assert!(
            permits <= Self::MAX_PERMITS,
            "Semaphore::new: too many permits"
        );
        Self {
            state: Lock::new(State::new(permits)),
        }
    }

    /// Creates a semaphore with `permits` free permits.
    ///
    /// # Panics
    ///
    /// If `permits` exceeds [`Semaphore::MAX_PERMITS`].
    #[cfg(loom)]
    pub fn new(permits: usize) -> Self {
        assert!(
            permits <= Self::MAX_PERMITS,
            "Semaphore::new: too many permits"
        );
        Self {
            state: Lock::new(State::new(permits)),
        }
    }

    /// Waits for one permit; resolves to an RAII guard that releases it.
    ///
    /// Waiters are served in FIFO order. Dropping the future before it
    /// completes gives up its place and loses no permits. Fails with
    /// [`AcquireError`] once the semaphore is [closed](Self::close).
    pub fn acquire(&self) -> Acquire<'_> {
        Acquire::new(self, 1)
    }

    /// Waits for `n` permits at once, in FIFO order with every other waiter.
    ///
    /// While this request is at the head of the queue, later requests wait
    /// behind it even if they are smaller. `n == 0` completes at once (unless
    /// the semaphore is closed); a request for more than
    /// [`MAX_PERMITS`](Self::MAX_PERMITS) can never complete.
    pub fn acquire_many(&self, n: u32) -> Acquire<'_> {
        Acquire::new(self, n)
    }

    /// Like [`acquire`](Self::acquire), but the permit keeps the semaphore
    /// alive through an [`Arc`](alloc::sync::Arc), so it can move into a
    /// spawned task.
    ///
    /// ```
    /// use alloc::sync::Arc;
    /// # extern crate alloc;
    /// use minirt_core::sync::{OwnedSemaphorePermit, Semaphore};
    ///
    /// let sem = Arc::new(Semaphore::new(1));
    /// let permit: OwnedSemaphorePermit = Arc::clone(&sem).try_acquire_owned().unwrap();
    /// assert_eq!(sem.available_permits(), 0);
    /// drop(permit);
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    pub fn acquire_owned(self: alloc::sync::Arc<Self>) -> AcquireOwned {
        AcquireOwned::new(self, 1)
    }

    /// Like [`acquire_many`](Self::acquire_many), with an owned permit.
    pub fn acquire_many_owned(self: alloc::sync::Arc<Self>, n: u32) -> AcquireOwned {
        AcquireOwned::new(self, n)
    }

    /// Takes one permit if one is free and nobody is queued.
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_acquire_many(1)
    }

    /// Takes `n` permits if they are free and nobody is queued.
    ///
    /// This never jumps the queue: while any acquire is waiting it fails with
    /// [`TryAcquireError::NoPermits`], even if `n` permits are free.
    pub fn try_acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_take(n).map(|()| SemaphorePermit::new(self, n))
    }

    /// Owned version of [`try_acquire`](Self::try_acquire).
    pub fn try_acquire_owned(
        self: alloc::sync::Arc<Self>,
    ) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.try_acquire_many_owned(1)
    }

    /// Owned version of [`try_acquire_many`](Self::try_acquire_many).
    pub fn try_acquire_many_owned(
        self: alloc::sync::Arc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.try_take(n)
            .map(|()| OwnedSemaphorePermit::new(self, n))
    }

    /// Adds `n` permits, waking the waiters they satisfy (in FIFO order).
    ///
    /// # Panics
    ///
    /// If the total would exceed [`Semaphore::MAX_PERMITS`].
    pub fn add_permits(&self, n: usize) {
        self.release(n);
    }

    /// Permits free right now (not counting those granted to waiters).
    pub fn available_permits(&self) -> usize {
        self.lock().permits
    }

    /// Closes the semaphore: every waiting and future acquire fails with
    /// [`AcquireError`]. Permits already held stay valid and can still be
    /// released; `try_acquire` returns [`TryAcquireError::Closed`]. An acquire
    /// that had already been granted its permits still completes with them.
    ///
    /// ```
    /// use minirt_core::sync::{Semaphore, TryAcquireError};
    ///
    /// let sem = Semaphore::new(1);
    /// sem.close();
    /// assert!(sem.is_closed());
    /// assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::Closed);
    /// ```
    pub fn close(&self) {
        let mut wakes = WakeList::new();
        loop {
            let mut state = self.lock();
            state.closed = true;
            let mut batch_full = false;
            while let Some(key) = state.waiters.front() {
                if !wakes.can_push() {
                    batch_full = true;
                    break;
                }
                let waiter = state.waiters.detach(key);
                waiter.outcome = Outcome::Closed;
                if let Some(waker) = waiter.waker.take() {
                    wakes.push(waker);
                }
            }
            drop(state);
            wakes.wake_all();
            if !batch_full {
                return;
            }
        }
    }

    /// Whether [`close`](Self::close) has been called.
    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// Locks the state.
    fn lock(&self) -> LockGuard<'_, State> {
        self.state.lock()
    }

    /// Takes `n` permits without waiting, if fairness allows.
    fn try_take(&self, n: u32) -> Result<(), TryAcquireError> {
        match self.lock().try_take(n) {
            TryTake::Taken => Ok(()),
            TryTake::Closed => Err(TryAcquireError::Closed),
            TryTake::MustWait => Err(TryAcquireError::NoPermits),
        }
    }

    /// Returns `n` permits and hands them on to waiters.
    fn release(&self, n: usize) {
        let mut state = self.lock();
        state.add(n);
        self.grant_and_wake(state);
    }

    /// Grants permits to waiters at the head of the queue, waking each after
    /// unlocking. Consumes the guard.
    fn grant_and_wake<'a>(&'a self, mut state: LockGuard<'a, State>) {
        let mut wakes = WakeList::new();
        loop {
            let batch_full = state.grant_waiters(&mut wakes);
            drop(state);
            wakes.wake_all();
            if !batch_full {
                return;
            }
            state = self.lock();
        }
    }
}

impl State {
    /// A fresh state with `permits` free permits.
    const fn new(permits: usize) -> Self {
        Self {
            permits,
            closed: false,
            waiters: WaitList::new(),
        }
    }

    /// Adds `n` free permits.
    fn add(&mut self, n: usize) {
        self.permits = match self.permits.checked_add(n) {
            Some(total) if total <= Semaphore::MAX_PERMITS => total,
            _ => panic!(
                "Semaphore::add_permits: {} + {n} permits exceed Semaphore::MAX_PERMITS",
                self.permits
            ),
        };
    }

    /// Takes `n` permits if nobody is queued ahead and enough are free.
    fn try_take(&mut self, n: u32) -> TryTake {
        let n = n as usize;
        if self.closed {
            TryTake::Closed
        } else if n == 0 || (self.waiters.is_empty() && self.permits >= n) {
            self.permits -= n;
            TryTake::Taken
        } else {
            TryTake::MustWait
        }
    }

    /// Serves waiters from the head of the queue while the head's request
    /// fits in the free permits. Stops early (returning `true`) when `wakes`
    /// is full, so the caller can wake that batch and call again.
    #[must_use]
    fn grant_waiters(&mut self, wakes: &mut WakeList) -> bool {
        while let Some(key) = self.waiters.front() {
            let needed = self.waiters.get(key).needed as usize;
            if needed > self.permits {
                return false;
            }
            if !wakes.can_push() {
                return true;
            }
            self.permits -= needed;
            let waiter = self.waiters.detach(key);
            debug_assert_eq!(
                waiter.outcome,
                Outcome::Waiting,
                "queued node {key} not waiting"
            );
            waiter.outcome = Outcome::Granted;
            if let Some(waker) = waiter.waker.take() {
                wakes.push(waker);
            }
        }
        false
    }
}

impl core::fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let (permits, closed, has_waiters) = {
            let state = self.lock();
            (state.permits, state.closed, !state.waiters.is_empty())
        };
        f.debug_struct("Semaphore")
            .field("permits", &permits)
            .field("closed", &closed)
            .field("has_waiters", &has_waiters)
            .finish()
    }
}

const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Semaphore>();
    assert_send_sync::<SemaphorePermit<'_>>();
    assert_send_sync::<OwnedSemaphorePermit>();
    assert_send_sync::<Acquire<'_>>();
    assert_send_sync::<AcquireOwned>();
};
