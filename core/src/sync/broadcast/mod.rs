//! A multi-producer, multi-consumer channel where every receiver sees every
//! value — unless it falls too far behind.
//!
//! Why: events that several tasks each need (a chat message for every
//! connection, a cache invalidation for every worker). tokio's `broadcast`,
//! with its names and meanings. The channel is bounded and never makes a
//! sender wait: when a receiver is `capacity` values behind, the oldest
//! value is overwritten, and that receiver's next receive reports
//! [`RecvError::Lagged(n)`](RecvError::Lagged) — once, with the number of
//! values it missed — and then continues from the oldest value still kept.
//!
//! - [`channel(capacity)`](channel) keeps the last `capacity` values,
//!   rounded up to a power of two (as tokio does: lag is counted against
//!   that ring length). Capacity 0 panics.
//! - Values are cloned out to each receiver (`T: Clone`), and a value is
//!   dropped as soon as every receiver that will see it has seen it (or it
//!   is overwritten); a dropped receiver gives up its share at once.
//! - A receiver sees values sent after it was created
//!   ([`Sender::subscribe`], [`Receiver::resubscribe`]).
//!
//! How: a ring of slots, each a reader-writer lock (`ValueLock`) around
//! "position, value" plus an atomic count of the receivers still to see it.
//! The *tail* (next position, receiver count, closed flag, waiting
//! receivers) sits behind one small lock. A send takes the tail lock,
//! writes the next slot (its write lock waits for receivers still cloning
//! the old value), and removes every waiting receiver, waking them after
//! unlocking. A receive reads its slot under the read lock only:
//!
//! - the slot holds the receiver's position: clone the value, count down
//!   (the last receiver takes the value out and drops it);
//! - the slot holds the position one lap earlier: nothing new yet. Under
//!   the tail lock it looks once more (the tail moves only under that lock)
//!   and registers; a later send sees the registration;
//! - the slot holds a later lap: the receiver lagged; under the tail lock
//!   it computes how many values it missed and moves to the oldest kept.
//!
//! As in `watch`, a send removes every waiter in one critical section, so
//! a woken receiver that finds its value forgets its registration without
//! taking the tail lock again. No lock is held across an `.await` or while
//! a waker is woken or dropped; a replaced or last-seen value is dropped
//! after its lock is released. `Clone` of the value runs under the slot's
//! read lock (as in tokio): a send that wants that slot waits for it.
//!
//! ```
//! use minirt_core::executor::LocalExecutor;
//! use minirt_core::sync::broadcast;
//!
//! let ex = LocalExecutor::new();
//! let (tx, mut rx1) = broadcast::channel(16);
//! let mut rx2 = tx.subscribe();
//! let first = ex.spawn(async move { (rx1.recv().await, rx1.recv().await) });
//! let second = ex.spawn(async move { (rx2.recv().await, rx2.recv().await) });
//! tx.send(10).unwrap();
//! tx.send(20).unwrap();
//! assert_eq!(ex.block_on(first, || {}).unwrap(), (Ok(10), Ok(20)));
//! assert_eq!(ex.block_on(second, || {}).unwrap(), (Ok(10), Ok(20)));
//! ```

pub mod error;
#[cfg(all(test, not(loom)))]
mod tests;

use alloc::boxed::Box;
use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use self::error::{RecvError, SendError, TryRecvError};
use super::cache_line::CacheLine;
use super::lock::{Lock, LockGuard};
use super::value_lock::{ReadGuard, ValueLock};
use super::waiter_set::{self, Registration, WaiterSet};
use super::Notify;
use crate::loom::atomic::{AtomicUsize, Ordering::*};
use crate::loom::sync::Arc;

/// Creates a channel that keeps the last `capacity` values (rounded up to
/// a power of two), with one sender and one receiver.
///
/// # Panics
///
/// If `capacity` is 0 (a broadcast channel must hold at least one value;
/// for "latest value only" semantics use [`watch`](super::watch)), or
/// exceeds `usize::MAX / 2`.
///
/// ```
/// use minirt_core::sync::broadcast::{self, error::TryRecvError};
///
/// let (tx, mut rx) = broadcast::channel(2);
/// for i in 1..=3 {
///     tx.send(i).unwrap();
/// }
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(1)));
/// assert_eq!(rx.try_recv(), Ok(2));
/// assert_eq!(rx.try_recv(), Ok(3));
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
/// ```
pub fn channel<T: Clone>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let tx = Sender::new(capacity);
    let rx = tx.subscribe();
    (tx, rx)
}

/// State shared by every handle.
struct Shared<T> {
    /// The ring; position `p` lives in slot `p & mask`.
    slots: Box<[Slot<T>]>,
    /// `slots.len() - 1` (the length is a power of two).
    mask: u64,
    /// Next position, receivers, closed flag, waiting receivers. On a cache
    /// line of its own: every send and every receiver that registers writes
    /// the lock word, while every receive reads `slots` and `mask`, which
    /// never change — on one line, each lock stole the line those reads
    /// need.
    tail: CacheLine<Lock<Tail>>,
    /// Live senders (the last one to go closes the channel).
    senders: AtomicUsize,
    /// Senders waiting in `closed`, woken when the last receiver goes.
    tx_closed: Notify,
}

/// What the tail lock guards.
struct Tail {
    /// The position the next send writes.
    pos: u64,
    /// Live receivers: each new value must be seen by this many.
    receivers: usize,
    /// Every sender is gone.
    closed: bool,
    /// Receivers waiting in `recv` for position `pos`.
    waiters: WaiterSet,
}

/// One place in the ring.
struct Slot<T> {
    /// Receivers that still have to see the value (set by the send, under
    /// the write lock; counted down under the read lock).
    remaining: AtomicUsize,
    /// The position written last and its value (`None` once every receiver
    /// saw it).
    state: ValueLock<SlotState<T>>,
}

/// A slot's position and value.
struct SlotState<T> {
    /// The position this slot holds (before the first lap: the position one
    /// lap before its index, so it reads as "not written yet").
    pos: u64,
    /// The value, until the last receiver took it out or it is overwritten.
    value: Option<T>,
}

/// What a receiver found in its slot, without the tail lock.
enum Look<T> {
    /// The value at its position.
    Value(T),
    /// Nothing at its position yet.
    NotYet,
    /// Its position was overwritten.
    Lagged,
}

impl<T> Shared<T> {
    /// The ring length.
    fn len(&self) -> u64 {
        self.mask + 1
    }

    /// The slot of position `pos`.
    fn slot(&self, pos: u64) -> &Slot<T> {
        // The mask keeps the index below `slots.len()`, a `usize`.
        &self.slots[(pos & self.mask) as usize]
    }

    /// Locks the tail.
    fn tail(&self) -> LockGuard<'_, Tail> {
        self.tail.lock()
    }

    /// A receiver at `pos` is done with it (saw it, or never will): counts
    /// it down and, if it was the last, drops the value. `state` is the read
    /// guard under which the receiver saw `pos` in the slot: the count must
    /// go down before a send can overwrite the slot and reset it.
    fn release(&self, pos: u64, slot: &Slot<T>, state: ReadGuard<'_, SlotState<T>>) {
        let last = slot.remaining.fetch_sub(1, AcqRel) == 1;
        drop(state);
        if !last {
            return;
        }
        // The last to see it. A send may have overwritten the slot since we
        // unlocked (then the overwrite dropped the value): check the lap.
        let mut state = slot.state.write();
        let value = if state.pos == pos {
            state.value.take()
        } else {
            None
        };
        drop(state);
        drop(value); // outside the lock: a destructor may use the channel
    }

    /// Counts the receiver at `pos` out of the value there, if it is still
    /// there (used by a dropped receiver for the values it never read).
    fn release_unread(&self, pos: u64) {
        let slot = self.slot(pos);
        let state = slot.state.read();
        if state.pos == pos {
            self.release(pos, slot, state);
        }
    }
}

impl<T: Clone> Shared<T> {
    /// Looks at the slot of `pos` under its read lock only.
    fn look(&self, pos: u64) -> Look<T> {
        let slot = self.slot(pos);
        let state = slot.state.read();
        if state.pos == pos {
            let value = state
                .value
                .clone()
                .expect("broadcast: a value is kept until every counted receiver saw it");
            self.release(pos, slot, state);
            return Look::Value(value);
        }
        if state.pos.wrapping_add(self.len()) == pos {
            Look::NotYet
        } else {
            Look::Lagged
        }
    }
}

/// The sending half; clone it for more senders. Sending never waits.
///
/// ```
/// use minirt_core::sync::broadcast;
///
/// let (tx, mut rx) = broadcast::channel(4);
/// let tx2 = tx.clone();
/// assert_eq!(tx.send(1).unwrap(), 1, "seen by one receiver");
/// tx2.send(2).unwrap();
/// assert_eq!(rx.try_recv(), Ok(1));
/// assert_eq!(rx.try_recv(), Ok(2));
/// ```
pub struct Sender<T> {
    /// The shared channel.
    shared: Arc<Shared<T>>,
}

/// The receiving half: sees every value sent after it was created, in
/// order, unless it lags.
///
/// ```
/// use minirt_core::sync::broadcast;
///
/// let (tx, mut rx) = broadcast::channel(4);
/// tx.send("a").unwrap();
/// let mut late = rx.resubscribe();
/// tx.send("b").unwrap();
/// assert_eq!(rx.try_recv(), Ok("a"));
/// assert_eq!(late.try_recv(), Ok("b"), "a new receiver starts at the tail");
/// ```
pub struct Receiver<T> {
    /// The shared channel.
    shared: Arc<Shared<T>>,
    /// The position of the next value to receive.
    next: u64,
}

impl<T> Sender<T> {
    /// Creates a sender with room for `capacity` values (rounded up to a
    /// power of two) and no receiver yet (use [`subscribe`](Self::subscribe)).
    ///
    /// # Panics
    ///
    /// As [`channel`].
    ///
    /// ```
    /// use minirt_core::sync::broadcast;
    ///
    /// let tx = broadcast::Sender::new(8);
    /// assert!(tx.send(1).is_err(), "no receiver");
    /// let mut rx = tx.subscribe();
    /// tx.send(2).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(2));
    /// ```
    pub fn new(capacity: usize) -> Self {
        assert!(
            capacity > 0,
            "broadcast::channel: capacity cannot be zero (the ring must hold at least one \
             value; for a channel that keeps only the latest value, use sync::watch)"
        );
        assert!(
            capacity <= usize::MAX >> 1,
            "broadcast::channel: capacity {capacity} exceeds usize::MAX / 2"
        );
        let len = capacity.next_power_of_two();
        let slots = (0..len)
            .map(|i| Slot {
                remaining: AtomicUsize::new(0),
                state: ValueLock::new(SlotState {
                    pos: (i as u64).wrapping_sub(len as u64),
                    value: None,
                }),
            })
            .collect();
        Sender {
            shared: Arc::new(Shared {
                slots,
                mask: len as u64 - 1,
                tail: CacheLine(Lock::new(Tail {
                    pos: 0,
                    receivers: 0,
                    closed: false,
                    waiters: WaiterSet::new(),
                })),
                senders: AtomicUsize::new(1),
                tx_closed: Notify::new(),
            }),
        }
    }

    /// Sends `value` to every receiver that exists now and returns how many
    /// that is. Never waits: if the ring is full, the oldest value is
    /// overwritten (receivers that had not seen it get
    /// [`Lagged`](RecvError::Lagged)). Fails, returning the value, if no
    /// receiver exists.
    ///
    /// ```
    /// use minirt_core::sync::broadcast;
    ///
    /// let (tx, rx) = broadcast::channel(1);
    /// let _rx2 = tx.subscribe();
    /// assert_eq!(tx.send(1).unwrap(), 2);
    /// drop(rx);
    /// drop(_rx2);
    /// assert_eq!(tx.send(2).unwrap_err().0, 2);
    /// ```
    pub fn send(&self, value: T) -> Result<usize, SendError<T>> {
        let shared = &*self.shared;
        let mut tail = shared.tail();
        if tail.receivers == 0 {
            return Err(SendError(value));
        }
        let pos = tail.pos;
        tail.pos = pos.wrapping_add(1);
        let receivers = tail.receivers;
        let slot = shared.slot(pos);
        let mut state = slot.state.write();
        state.pos = pos;
        let old = state.value.replace(value);
        // Under the write lock: a reader that sees `pos` sees this count.
        slot.remaining.store(receivers, Relaxed);
        drop(state);
        let mut wakers = (!tail.waiters.is_empty()).then(|| tail.waiters.take_all());
        drop(tail);
        drop(old); // outside the locks: a destructor may use the channel
        if let Some(mut wakers) = wakers.take() {
            waiter_set::wake_all(&mut wakers);
            shared.tail().waiters.recycle(wakers);
        }
        Ok(receivers)
    }

    /// A new receiver that sees every value sent from now on.
    ///
    /// ```
    /// use minirt_core::sync::broadcast;
    ///
    /// let tx = broadcast::Sender::new(2);
    /// let mut rx = tx.subscribe();
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn subscribe(&self) -> Receiver<T> {
        subscribe(&self.shared)
    }

    /// How many receivers exist now.
    ///
    /// ```
    /// use minirt_core::sync::broadcast;
    ///
    /// let (tx, rx) = broadcast::channel::<u8>(2);
    /// assert_eq!(tx.receiver_count(), 1);
    /// drop(rx);
    /// assert_eq!(tx.receiver_count(), 0);
    /// ```
    pub fn receiver_count(&self) -> usize {
        self.shared.tail().receivers
    }

    /// How many values are kept for some receiver that has not seen them
    /// yet (at most the ring length).
    ///
    /// ```
    /// use minirt_core::sync::broadcast;
    ///
    /// let (tx, mut rx1) = broadcast::channel(4);
    /// let mut rx2 = tx.subscribe();
    /// tx.send(1).unwrap();
    /// tx.send(2).unwrap();
    /// assert_eq!(tx.len(), 2);
    /// rx1.try_recv().unwrap();
    /// assert_eq!(tx.len(), 2, "rx2 has not seen the first yet");
    /// rx2.try_recv().unwrap();
    /// assert_eq!(tx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        let shared = &*self.shared;
        let end = shared.tail().pos;
        let mut count = 0;
        for back in 1..=shared.len().min(end) {
            let pos = end - back;
            let slot = shared.slot(pos);
            let state = slot.state.read();
            if state.pos == pos && slot.remaining.load(Acquire) > 0 {
                count += 1;
            }
        }
        count
    }

    /// Whether no value waits for a receiver (`len() == 0`).
    ///
    /// ```
    /// use minirt_core::sync::broadcast;
    ///
    /// let (tx, mut rx) = broadcast::channel(4);
    /// assert!(tx.is_empty());
    /// tx.send(1).unwrap();
    /// assert!(!tx.is_empty());
    /// rx.try_recv().unwrap();
    /// assert!(tx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `other` is a handle of the same channel.
    ///
    /// ```
    /// use minirt_core::sync::broadcast;
    ///
    /// let (tx, _rx) = broadcast::channel::<u8>(1);
    /// let (other, _other_rx) = broadcast::channel::<u8>(1);
    /// assert!(tx.same_channel(&tx.clone()));
    /// assert!(!tx.same_channel(&other));
    /// ```
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// Waits until no receiver is left (returns at once if none is).
    ///
    /// Cancel-safe: the future holds only its place among the waiters;
    /// dropping it gives that up and changes nothing else.
    ///
    /// ```
    /// use minirt_core::executor::LocalExecutor;
    /// use minirt_core::sync::broadcast;
    ///
    /// let ex = LocalExecutor::new();
    /// let (tx, rx) = broadcast::channel::<u8>(1);
    /// let listener = ex.spawn(async move { drop(rx) });
    /// ex.block_on(tx.closed(), || {});
    /// assert!(listener.is_finished());
    /// ```
    pub async fn closed(&self) {
        loop {
            // Counted as waiting from here, before the check.
            let notified = self.shared.tx_closed.notified();
            if self.receiver_count() == 0 {
                return;
            }
            notified.await;
        }
    }
}

/// A new receiver of `shared` at its tail.
fn subscribe<T>(shared: &Arc<Shared<T>>) -> Receiver<T> {
    let mut tail = shared.tail();
    tail.receivers += 1;
    let next = tail.pos;
    drop(tail);
    Receiver {
        shared: Arc::clone(shared),
        next,
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.senders.fetch_add(1, Relaxed);
        Sender {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if self.shared.senders.fetch_sub(1, AcqRel) != 1 {
            return;
        }
        let mut tail = self.shared.tail();
        tail.closed = true;
        let mut wakers = tail.waiters.take_all();
        drop(tail);
        waiter_set::wake_all(&mut wakers);
    }
}

impl<T: Clone> Receiver<T> {
    /// Receives the next value, waiting until one is sent.
    ///
    /// - [`RecvError::Lagged(n)`](RecvError::Lagged): `n` values were
    ///   overwritten before this receiver saw them; it now stands at the
    ///   oldest value kept, which the next call returns.
    /// - [`RecvError::Closed`]: every sender is gone and every value was
    ///   received.
    ///
    /// Cancel-safe: a value is taken (and the receiver moved past it) only
    /// by the poll that returns it, so a future dropped before completing
    /// loses nothing; the next `recv` returns the same value.
    ///
    /// Spends one unit of the task's [cooperative budget](crate::coop) when
    /// it completes; with the budget spent it yields first.
    ///
    /// ```
    /// use minirt_core::executor::LocalExecutor;
    /// use minirt_core::sync::broadcast::{self, error::RecvError};
    ///
    /// let ex = LocalExecutor::new();
    /// let (tx, mut rx) = broadcast::channel(8);
    /// let sum = ex.spawn(async move {
    ///     let mut sum = 0;
    ///     loop {
    ///         match rx.recv().await {
    ///             Ok(v) => sum += v,
    ///             Err(RecvError::Lagged(_)) => {}
    ///             Err(RecvError::Closed) => return sum,
    ///         }
    ///     }
    /// });
    /// for i in 1..=4 {
    ///     tx.send(i).unwrap();
    /// }
    /// drop(tx);
    /// assert_eq!(ex.block_on(sum, || {}).unwrap(), 10);
    /// ```
    pub fn recv(&mut self) -> impl Future<Output = Result<T, RecvError>> + '_ {
        Recv {
            rx: self,
            registration: None,
        }
    }

    /// Takes the next value if one was sent, without waiting.
    ///
    /// ```
    /// use minirt_core::sync::broadcast::{self, error::TryRecvError};
    ///
    /// let (tx, mut rx) = broadcast::channel(2);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.send(1).unwrap();
    /// drop(tx);
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        loop {
            match self.shared.look(self.next) {
                Look::Value(value) => {
                    self.next = self.next.wrapping_add(1);
                    return Ok(value);
                }
                Look::Lagged => {
                    if let Some(missed) = self.catch_up() {
                        return Err(TryRecvError::Lagged(missed));
                    }
                }
                Look::NotYet => {
                    let tail = self.shared.tail();
                    if tail.pos == self.next {
                        return Err(if tail.closed {
                            TryRecvError::Closed
                        } else {
                            TryRecvError::Empty
                        });
                    }
                    // Sent meanwhile: look again.
                }
            }
        }
    }
}

impl<T> Receiver<T> {
    /// After a lagged look: moves to the oldest value kept and returns how
    /// many values were missed (`None` if the look raced a send and nothing
    /// was missed after all: look again).
    fn catch_up(&mut self) -> Option<u64> {
        let tail = self.shared.tail();
        let oldest = tail.pos.wrapping_sub(self.shared.len());
        drop(tail);
        let missed = oldest.wrapping_sub(self.next);
        if (missed as i64) <= 0 {
            return None;
        }
        self.next = oldest;
        Some(missed)
    }

    /// How many values were sent that this receiver has not received yet
    /// (including ones it will find overwritten).
    ///
    /// ```
    /// use minirt_core::sync::broadcast;
    ///
    /// let (tx, mut rx) = broadcast::channel(4);
    /// tx.send(1).unwrap();
    /// tx.send(2).unwrap();
    /// assert_eq!(rx.len(), 2);
    /// rx.try_recv().unwrap();
    /// assert_eq!(rx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        let pos = self.shared.tail().pos;
        usize::try_from(pos.wrapping_sub(self.next)).unwrap_or(usize::MAX)
    }

    /// Whether this receiver has received every value sent.
    ///
    /// ```
    /// use minirt_core::sync::broadcast;
    ///
    /// let (tx, mut rx) = broadcast::channel(4);
    /// assert!(rx.is_empty());
    /// tx.send(1).unwrap();
    /// assert!(!rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether every sender is gone (values may still be left to receive).
    ///
    /// ```
    /// use minirt_core::sync::broadcast;
    ///
    /// let (tx, rx) = broadcast::channel::<u8>(1);
    /// assert!(!rx.is_closed());
    /// drop(tx);
    /// assert!(rx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.shared.tail().closed
    }

    /// A new receiver of the same channel that sees values sent from now
    /// on (not the ones this receiver has yet to receive).
    ///
    /// ```
    /// use minirt_core::sync::broadcast::{self, error::TryRecvError};
    ///
    /// let (tx, mut rx) = broadcast::channel(2);
    /// tx.send(1).unwrap();
    /// let mut fresh = rx.resubscribe();
    /// assert_eq!(fresh.try_recv(), Err(TryRecvError::Empty));
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn resubscribe(&self) -> Receiver<T> {
        subscribe(&self.shared)
    }

    /// Whether `other` is a handle of the same channel.
    ///
    /// ```
    /// use minirt_core::sync::broadcast;
    ///
    /// let (_tx, rx) = broadcast::channel::<u8>(1);
    /// assert!(rx.same_channel(&rx.resubscribe()));
    /// ```
    pub fn same_channel(&self, other: &Receiver<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let shared = &*self.shared;
        let mut tail = shared.tail();
        tail.receivers -= 1;
        let last = tail.receivers == 0;
        let end = tail.pos;
        drop(tail);
        // Give up our share of every value still kept for us; older ones
        // were overwritten. Values sent from here on do not count us.
        let kept_from = end.wrapping_sub(shared.len().min(end));
        let mut pos = if (self.next.wrapping_sub(kept_from) as i64) < 0 {
            kept_from
        } else {
            self.next
        };
        while pos != end {
            shared.release_unread(pos);
            pos = pos.wrapping_add(1);
        }
        if last {
            shared.tx_closed.notify_waiters();
        }
    }
}

/// The future of [`Receiver::recv`].
struct Recv<'a, T> {
    /// The receiver.
    rx: &'a mut Receiver<T>,
    /// Our entry among the waiters, if we registered and may still be there.
    registration: Option<Registration>,
}

impl<T: Clone> Future for Recv<'_, T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        crate::sync::poll_waiting_in(cx, crate::task::WaitKind::Broadcast, |cx| {
            this.poll_unbudgeted(cx)
        })
    }
}

impl<T: Clone> Recv<'_, T> {
    /// `poll` without the budget.
    fn poll_unbudgeted(&mut self, cx: &mut Context<'_>) -> Poll<Result<T, RecvError>> {
        let rx = &mut *self.rx;
        loop {
            // Whatever we find here was sent after we registered (we did so
            // only with the tail at our position), by a send that removes
            // every waiter: our entry is gone or about to go.
            match rx.shared.look(rx.next) {
                Look::Value(value) => {
                    self.registration = None;
                    rx.next = rx.next.wrapping_add(1);
                    return Poll::Ready(Ok(value));
                }
                Look::Lagged => {
                    self.registration = None;
                    if let Some(missed) = rx.catch_up() {
                        return Poll::Ready(Err(RecvError::Lagged(missed)));
                    }
                    continue;
                }
                Look::NotYet => {}
            }
            let mut tail = rx.shared.tail();
            if tail.pos != rx.next {
                // Sent meanwhile; that send removed every waiter already.
                self.registration = None;
                continue;
            }
            if tail.closed {
                let stale = self
                    .registration
                    .take()
                    .and_then(|r| tail.waiters.remove(r));
                drop(tail);
                drop(stale);
                return Poll::Ready(Err(RecvError::Closed));
            }
            let stale = match self.registration {
                Some(registration) if tail.waiters.contains(registration) => {
                    tail.waiters.update(registration, cx.waker())
                }
                _ => {
                    self.registration = Some(tail.waiters.register(cx.waker()));
                    None
                }
            };
            drop(tail);
            drop(stale); // outside the lock: dropping a waker runs code
            return Poll::Pending;
        }
    }
}

impl<T> Drop for Recv<'_, T> {
    fn drop(&mut self) {
        if let Some(registration) = self.registration.take() {
            let stale = self.rx.shared.tail().waiters.remove(registration);
            drop(stale);
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("broadcast::Sender").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("broadcast::Receiver")
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Sender<alloc::vec::Vec<u8>>>();
    assert_send_sync::<Receiver<alloc::vec::Vec<u8>>>();
};
