//! The FIFO-fair async counting semaphore, [`Semaphore`].
//!
//! The user-facing rules (fairness, cancellation, close) are on the type;
//! this is how they are implemented.
//!
//! # How it works
//!
//! The free permit count and two flags live in one atomic word,
//! `permits = free << 2 | HAS_WAITERS | CLOSED`; the [`WaitList`] of waiters
//! (a FIFO list in a slab, so a wait does not allocate once the slab has
//! warmed up, and a cancelled waiter leaves in O(1)) lives behind one
//! [`Lock`].
//!
//! **Fast path, no lock:** while nobody waits (`HAS_WAITERS` clear), an
//! acquire is one compare-and-swap that subtracts permits, and a release one
//! that adds them. That is the common case of a semaphore with permits to
//! spare.
//!
//! **Slow path, under the lock:** an acquire that cannot be served sets
//! `HAS_WAITERS` *before* it queues, then serves the queue from the atomic
//! count. From then on every release sees the flag and takes the lock, so
//! permits reach waiters in FIFO order and no later acquire jumps the queue.
//! A release that added permits just before the flag was set is not lost:
//! its permits are in the atomic count, which the queuing acquire serves
//! from after setting the flag. The flag is cleared, under the lock, when
//! the queue becomes empty.
//!
//! **Hand-over:** a release that sees `HAS_WAITERS` takes the lock and gives
//! its permits straight to the head of the queue, topping up from the free
//! count only if the head needs more; only what the queue does not take is
//! added to the word, after unlocking. So while waiters queue, the permit
//! word is only read — its cache line stays shared between the threads
//! instead of bouncing on every release (`semaphore_mt`: ~20% faster). The
//! grant counter `served` (below), written on every grant, lives next to
//! the lock for the same reason (`semaphore_mt`: another ~6%). Had
//! the release seen the flag clear, it adds to the word and, if the flag got
//! set meanwhile, serves the queue from the word as before.
//!
//! The lock is held only for a few loads and stores: **never across an
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
//!  (poll) ───────────────▶ Waiting ─────────────────────────────────▶ (freed)
//!                             │                              `served` passes its ticket
//!                             │ close()
//!                             ▼
//!                          Closed ── poll: remove, Err / drop: remove
//! ```
//!
//! # Grant tickets
//!
//! Each waiter gets a *ticket*, the next number of a counter kept under the
//! lock, so tickets follow queue order. Granting the head frees its node at
//! once and stores `ticket + 1` into the atomic `served`. Since grants go in
//! FIFO order, a live waiter whose ticket is below `served` has been granted:
//! the woken task finds out with **one load and no lock**. (Before tickets it
//! took the lock a third time per wait just to collect its grant; in
//! `semaphore_mt` that lock was the hottest spot.) Tickets are compared in
//! wrapping order, so the check is only a hint: when it says "not yet", the
//! waiter looks under the lock, where "my key no longer holds my ticket"
//! means granted (a key can be reused by a later waiter; its ticket cannot).
//! Nothing is granted once the semaphore is closed, so a closed waiter's
//! ticket never looks served.
//!
//! Dropping a future in `Waiting` unlinks it and re-runs `grant_waiters`
//! (the waiter behind it may now fit). Dropping one that was granted gives
//! its permits back, which are handed on to the next waiters. Nothing leaks.
//!
//! After [`Semaphore::close`], waiters that were already granted still get
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

use crate::task::WaitKind;

pub use acquire::{Acquire, AcquireOwned};
pub use error::{AcquireError, TryAcquireError};
#[cfg(all(any(test, fuzzing), not(loom)))]
pub use fuzz::fuzz_semaphore;
pub use permit::{OwnedSemaphorePermit, SemaphorePermit};

use super::cache_line::CacheLine;
use super::lock::{Lock, LockGuard};
use super::wait_list::WaitList;
use super::wake_list::{self, WakeList};
use crate::loom::atomic::{AtomicUsize, Ordering::*};

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
/// The waiter queue is protected by a lock (a `std` mutex with the `std`
/// feature, a spin lock without) held only for a few loads and stores —
/// never across an `.await` and never while a waker is woken or dropped
/// (wakers are collected and woken after the lock is released).
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
    /// `free << 2 | HAS_WAITERS | CLOSED`; see the module docs.
    permits: AtomicUsize,
    /// The waiter queue and its grant counter, on their own cache line.
    queue: CacheLine<Queue>,
}

/// The part of a [`Semaphore`] that only the queue's users write, kept off
/// the permit word's cache line: while waiters queue, the permit word is
/// only read, and its line stays shared between the cores.
struct Queue {
    /// The waiters, behind the lock.
    state: Lock<State>,
    /// Grant tickets below this one (in wrapping order) have been granted:
    /// a woken waiter learns that it got its permits with one load, without
    /// the lock. See "Grant tickets" in the module docs. Written by the
    /// granter under the lock, so its line is the lock's: a grant dirties
    /// no other line, and the woken waiter's load fetches the line its next
    /// lock needs anyway.
    served: AtomicUsize,
}

/// Set once [`Semaphore::close`] ran; never cleared.
const CLOSED: usize = 1;
/// Set while the queue may be non-empty: releases must take the lock.
const HAS_WAITERS: usize = 2;
/// The free count starts at this bit.
const SHIFT: u32 = 2;

fn free(word: usize) -> usize {
    word >> SHIFT
}

/// Everything the lock protects.
struct State {
    /// Waiters in arrival order, plus closed nodes not yet collected.
    waiters: WaitList<Waiter>,
    /// The grant ticket of the next waiter to queue.
    next_ticket: usize,
}

/// One pending acquire.
struct Waiter {
    /// How many permits it asked for.
    needed: u32,
    /// Its place in arrival order; see "Grant tickets" in the module docs.
    ticket: usize,
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
            permits: AtomicUsize::new(permits << SHIFT),
            queue: CacheLine(Queue {
                state: Lock::new(State::new()),
                served: AtomicUsize::new(0),
            }),
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
            permits: AtomicUsize::new(permits << SHIFT),
            queue: CacheLine(Queue {
                state: Lock::new(State::new()),
                served: AtomicUsize::new(0),
            }),
        }
    }

    /// Waits for one permit; resolves to an RAII guard that releases it.
    ///
    /// Waiters are served in FIFO order. Dropping the future before it
    /// completes gives up its place and loses no permits. Fails with
    /// [`AcquireError`] once the semaphore is [closed](Self::close).
    pub fn acquire(&self) -> Acquire<'_> {
        Acquire::new(self, 1, WaitKind::Semaphore)
    }

    /// Waits for `n` permits at once, in FIFO order with every other waiter.
    ///
    /// While this request is at the head of the queue, later requests wait
    /// behind it even if they are smaller. `n == 0` completes at once (unless
    /// the semaphore is closed); a request for more than
    /// [`MAX_PERMITS`](Self::MAX_PERMITS) can never complete.
    pub fn acquire_many(&self, n: u32) -> Acquire<'_> {
        Acquire::new(self, n, WaitKind::Semaphore)
    }

    /// [`acquire_many`](Self::acquire_many) for a lock built on the
    /// semaphore: a task dump shows its waiters as waiting in `kind`.
    pub(crate) fn acquire_many_as(&self, n: u32, kind: WaitKind) -> Acquire<'_> {
        Acquire::new(self, n, kind)
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
        free(self.permits.load(Acquire))
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
        wake_list::in_batches(
            self.lock(),
            || self.lock(),
            |state, wakes| {
                self.permits.fetch_or(CLOSED, AcqRel);
                while let Some(key) = state.waiters.front() {
                    if !wakes.can_push() {
                        return true;
                    }
                    let waiter = state.waiters.detach(key);
                    waiter.outcome = Outcome::Closed;
                    if let Some(waker) = waiter.waker.take() {
                        wakes.push(waker);
                    }
                }
                // Nobody is queued any more: releases may skip the lock.
                self.permits.fetch_and(!HAS_WAITERS, AcqRel);
                false
            },
        );
    }

    /// Whether [`close`](Self::close) has been called.
    pub fn is_closed(&self) -> bool {
        self.permits.load(Acquire) & CLOSED != 0
    }

    /// Locks the state.
    fn lock(&self) -> LockGuard<'_, State> {
        self.queue.state.lock()
    }

    /// Whether the waiter with `ticket` has been granted its permits: one
    /// load, no lock. `false` is only a hint (see "Grant tickets").
    fn is_served(&self, ticket: usize) -> bool {
        let served = self.queue.served.load(Acquire);
        // `ticket < served` in wrapping order: the distance is "small".
        served.wrapping_sub(ticket).wrapping_sub(1) <= isize::MAX as usize
    }

    /// Takes `n` permits without waiting, if fairness allows: lock-free.
    fn try_take(&self, n: u32) -> Result<(), TryAcquireError> {
        match self.try_take_fast(n) {
            TryTake::Taken => Ok(()),
            TryTake::Closed => Err(TryAcquireError::Closed),
            TryTake::MustWait => Err(TryAcquireError::NoPermits),
        }
    }

    /// One CAS loop: takes `n` permits if the semaphore is open, nobody is
    /// queued and enough are free.
    fn try_take_fast(&self, n: u32) -> TryTake {
        let n = n as usize;
        let mut cur = self.permits.load(Acquire);
        loop {
            if cur & CLOSED != 0 {
                return TryTake::Closed;
            }
            if n == 0 {
                return TryTake::Taken;
            }
            if cur & HAS_WAITERS != 0 || free(cur) < n {
                return TryTake::MustWait;
            }
            match self
                .permits
                .compare_exchange_weak(cur, cur - (n << SHIFT), AcqRel, Acquire)
            {
                Ok(_) => return TryTake::Taken,
                Err(actual) => cur = actual,
            }
        }
    }

    /// Adds `n` free permits to the atomic count and returns the word as it
    /// was before.
    ///
    /// One unconditional add, not a CAS loop: under contention (a channel's
    /// receiver releasing slots while senders take them) retries of a failed
    /// CAS were a measurable share of the time.
    ///
    /// # Panics
    ///
    /// If the total would exceed [`Semaphore::MAX_PERMITS`].
    fn add(&self, n: usize) -> usize {
        let prev = self.permits.fetch_add(n << SHIFT, AcqRel);
        if free(prev)
            .checked_add(n)
            .is_none_or(|total| total > Semaphore::MAX_PERMITS)
        {
            self.permits.fetch_sub(n << SHIFT, AcqRel);
            panic!(
                "Semaphore::add_permits: {} + {n} permits exceed Semaphore::MAX_PERMITS",
                free(prev)
            );
        }
        prev
    }

    /// Returns `n` permits: lock-free while nobody waits; else handed
    /// straight to the waiters under the lock.
    fn release(&self, n: usize) {
        if n == 0 {
            return;
        }
        if self.permits.load(Acquire) & HAS_WAITERS != 0 {
            self.hand_over(n);
        } else {
            self.release_to_word(n);
        }
    }

    /// Adds `n` permits to the word, then serves the queue from it if it
    /// turned out to be non-empty.
    fn release_to_word(&self, n: usize) {
        let prev = self.add(n);
        if prev & HAS_WAITERS != 0 {
            // Someone queued meanwhile: hand the permits on in FIFO order.
            // (If the queue emptied meanwhile, this finds nothing to do.)
            self.grant_and_wake(self.lock(), 0);
        }
    }

    /// The release path while waiters are queued: the released permits go
    /// to the head of the queue without passing through the permit word, so
    /// that word is not written at all while the queue is busy (both workers
    /// only read it, and its line stays shared). Whatever the queue does not
    /// take is added to the word afterwards.
    fn hand_over(&self, n: usize) {
        let left = self.grant_and_wake(self.lock(), n);
        if left > 0 {
            // Outside the lock, as the plain release path does (`add` may
            // panic on overflow).
            self.release_to_word(left);
        }
    }

    /// Grants permits to waiters at the head of the queue — first the
    /// `in_hand` permits the caller is releasing, then free ones from the
    /// word — waking each after unlocking. Consumes the guard; returns the
    /// permits left in hand, which the caller must put back.
    fn grant_and_wake<'a>(&'a self, state: LockGuard<'a, State>, mut in_hand: usize) -> usize {
        wake_list::in_batches(
            state,
            || self.lock(),
            |state, wakes| self.grant_waiters(state, &mut in_hand, wakes),
        );
        in_hand
    }

    /// Serves waiters from the head of the queue while the head's request
    /// fits in the permits `in_hand` (being released by the caller, not yet
    /// in the word) plus the free ones in the word, and clears
    /// `HAS_WAITERS` if the queue empties. Permits come from `in_hand`
    /// first; what is left there is the caller's to put back. Stops early
    /// (returning `true`) when `wakes` is full, so the caller can wake that
    /// batch and call again. Needs the lock (`state`).
    #[must_use]
    fn grant_waiters(&self, state: &mut State, in_hand: &mut usize, wakes: &mut WakeList) -> bool {
        while let Some(key) = state.waiters.front() {
            let needed = state.waiters.get(key).needed as usize;
            if !wakes.can_push() {
                return true;
            }
            let mut cur = self.permits.load(Acquire);
            // Once closed, whoever still waits gets an error, not permits
            // (`close` is detaching them, batch by batch).
            if cur & CLOSED != 0 {
                return false;
            }
            if needed <= *in_hand {
                *in_hand -= needed;
            } else {
                let missing = needed - *in_hand;
                loop {
                    if free(cur) < missing || cur & CLOSED != 0 {
                        return false;
                    }
                    match self.permits.compare_exchange_weak(
                        cur,
                        cur - (missing << SHIFT),
                        AcqRel,
                        Acquire,
                    ) {
                        Ok(_) => break,
                        Err(actual) => cur = actual,
                    }
                }
                *in_hand = 0;
            }
            // Granted: free the node now (its future will not need the
            // lock to find out), then publish the ticket.
            let mut waiter = state.waiters.remove(key);
            debug_assert_eq!(
                waiter.outcome,
                Outcome::Waiting,
                "queued node {key} not waiting"
            );
            self.queue
                .served
                .store(waiter.ticket.wrapping_add(1), Release);
            if let Some(waker) = waiter.waker.take() {
                wakes.push(waker);
            }
        }
        self.permits.fetch_and(!HAS_WAITERS, AcqRel);
        false
    }
}

impl State {
    /// An empty queue.
    const fn new() -> Self {
        Self {
            waiters: WaitList::new(),
            next_ticket: 0,
        }
    }

    /// Queues a waiter for `needed` permits; returns its key and ticket.
    fn enqueue(&mut self, needed: u32) -> (usize, usize) {
        let ticket = self.next_ticket;
        self.next_ticket = ticket.wrapping_add(1);
        let key = self.waiters.push_back(Waiter {
            needed,
            ticket,
            waker: None,
            outcome: Outcome::Waiting,
        });
        (key, ticket)
    }

    /// Whether the node under `key` is still the one that got `ticket`
    /// (waiting or closed). If not, it was granted: the granter freed it.
    fn holds(&self, key: usize, ticket: usize) -> bool {
        matches!(self.waiters.try_get(key), Some(w) if w.ticket == ticket)
    }
}

impl core::fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let word = self.permits.load(Acquire);
        let (permits, closed, has_waiters) =
            (free(word), word & CLOSED != 0, word & HAS_WAITERS != 0);
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
