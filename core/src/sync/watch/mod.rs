//! A single-value channel: receivers see the *latest* value, not every one.
//!
//! Why: configuration, a shutdown flag, the current leader, a progress
//! figure — state that many tasks read and one task updates, where a reader
//! that was busy wants the newest value rather than a backlog. tokio's
//! `watch`, with its names and meanings.
//!
//! - [`channel(init)`](channel) makes a [`Sender`] and a [`Receiver`]
//!   holding `init`. [`Sender::subscribe`] and `Receiver::clone` make more
//!   receivers; `Sender::clone` more senders.
//! - [`Sender::send`] replaces the value and marks it changed for every
//!   receiver; it fails (and keeps the old value) when no receiver is left.
//!   [`send_replace`](Sender::send_replace), [`send_modify`](Sender::send_modify)
//!   and [`send_if_modified`](Sender::send_if_modified) always update.
//! - [`Receiver::changed`] waits until a value the receiver has not seen
//!   arrives (marking it seen); [`borrow_and_update`](Receiver::borrow_and_update)
//!   reads and marks seen; [`borrow`](Receiver::borrow) only reads.
//!   `changed` fails once every sender is gone and the last value was seen.
//! - [`Sender::closed`] waits until every receiver is gone.
//!
//! How: the value sits in a reader-writer lock (`ValueLock`: a
//! `std::sync::RwLock` with `std`, a writer-preferring spin lock without)
//! so that the many receivers reading after a change do not queue behind
//! each other. Next to it a *version* word counts changes (bit 0 says "every
//! sender is gone"); a receiver remembers the version it saw last, so "has
//! it changed" is one atomic load. A change bumps the version while the
//! write lock is held, so a reader always gets a value and a version that
//! belong together.
//!
//! Waking (no lost wake-up): a sender bumps the version (or sets the closed
//! bit) first, then takes the small waiter lock and removes every waiting
//! receiver, waking them after unlocking. A receiver that found nothing new
//! takes the waiter lock, **looks at the version again**, and registers only
//! if it is still unchanged. Both sides order their steps through that one
//! lock: either the receiver's look comes after the sender's critical
//! section (it sees the bump), or its registration comes before it (the
//! sender removes and wakes it). Since a sender removes all waiters in one
//! critical section (see `waiter_set.rs`), a woken receiver that sees the
//! new version needs no lock to forget its registration.
//!
//! No lock is held across an `.await`, and none while a waker is woken or
//! dropped. A [`Ref`] holds the read lock: do not keep one across an
//! `.await`, or senders block until it is dropped.
//!
//! ```
//! use minirt_core::executor::LocalExecutor;
//! use minirt_core::sync::watch;
//!
//! let ex = LocalExecutor::new();
//! let (tx, mut rx) = watch::channel("starting");
//! let reader = ex.spawn(async move {
//!     rx.changed().await.unwrap();
//!     *rx.borrow_and_update()
//! });
//! tx.send("ready").unwrap();
//! tx.send("serving").unwrap(); // the reader sees only the latest
//! assert_eq!(ex.block_on(reader, || {}).unwrap(), "serving");
//! ```

pub mod error;
#[cfg(all(test, not(loom)))]
mod tests;

use core::fmt;
use core::future::Future;
use core::ops::Deref;
use core::pin::Pin;
use core::task::{Context, Poll};

use self::error::{RecvError, SendError};
use super::lock::Lock;
use super::value_lock::{ReadGuard, ValueLock};
use super::waiter_set::{self, Registration, WaiterSet};
use super::Notify;
use crate::loom::atomic::{AtomicUsize, Ordering::*};
use crate::loom::sync::Arc;

/// Bit 0 of the version word: every sender is gone.
const CLOSED: usize = 1;

/// Each change adds this to the version word (bit 0 is [`CLOSED`]).
const STEP: usize = 2;

/// Creates a channel holding `init`, with one sender and one receiver.
///
/// The receiver starts with `init` marked as seen: its first
/// [`changed`](Receiver::changed) waits for the first send.
///
/// ```
/// use minirt_core::sync::watch;
///
/// let (tx, rx) = watch::channel(1);
/// assert_eq!(*rx.borrow(), 1);
/// assert!(!rx.has_changed().unwrap());
/// tx.send(2).unwrap();
/// assert!(rx.has_changed().unwrap());
/// ```
pub fn channel<T>(init: T) -> (Sender<T>, Receiver<T>) {
    let tx = Sender::new(init);
    let rx = tx.subscribe();
    (tx, rx)
}

/// State shared by every handle.
struct Shared<T> {
    /// The current value.
    value: ValueLock<T>,
    /// `changes * STEP | CLOSED`; changed only while `value` is locked for
    /// writing (except the closed bit), read without it.
    version: AtomicUsize,
    /// Live receivers.
    receivers: AtomicUsize,
    /// Live senders.
    senders: AtomicUsize,
    /// Receivers waiting in `changed`.
    rx_waiters: Lock<WaiterSet>,
    /// Senders waiting in `closed`, woken when the last receiver goes.
    tx_closed: Notify,
}

impl<T> Shared<T> {
    /// The current version without the closed bit.
    fn version(&self) -> usize {
        self.version.load(Acquire) & !CLOSED
    }

    /// Wakes every receiver waiting in `changed`. Call after bumping the
    /// version or setting the closed bit (see the module docs).
    fn wake_receivers(&self) {
        let mut waiters = self.rx_waiters.lock();
        if waiters.is_empty() {
            return;
        }
        let mut wakers = waiters.take_all();
        drop(waiters);
        waiter_set::wake_all(&mut wakers);
        self.rx_waiters.lock().recycle(wakers);
    }

    /// `Some` if a receiver that saw `version` has something to learn: a
    /// newer value (marking it seen) or, with nothing new, that every sender
    /// is gone.
    fn poll_version(&self, version: &mut usize) -> Option<Result<(), RecvError>> {
        let word = self.version.load(Acquire);
        let current = word & !CLOSED;
        if current != *version {
            *version = current;
            return Some(Ok(()));
        }
        if word & CLOSED != 0 {
            return Some(Err(RecvError(())));
        }
        None
    }
}

/// The sending half: replaces the value and tells the receivers.
///
/// Clone it for more senders; the channel closes (for
/// [`changed`](Receiver::changed)) when the last one is dropped.
///
/// ```
/// use minirt_core::sync::watch;
///
/// let (tx, rx) = watch::channel(0);
/// let tx2 = tx.clone();
/// tx2.send(5).unwrap();
/// drop((tx, tx2));
/// assert_eq!(*rx.borrow(), 5);
/// assert!(rx.has_changed().is_err(), "every sender is gone");
/// ```
pub struct Sender<T> {
    /// The shared channel.
    shared: Arc<Shared<T>>,
}

/// The receiving half: reads the latest value and waits for changes.
///
/// Clone it for more receivers; a clone has seen what the original has.
///
/// ```
/// use minirt_core::sync::watch;
///
/// let (tx, mut rx) = watch::channel(0);
/// tx.send(1).unwrap();
/// let rx2 = rx.clone();
/// assert_eq!(*rx.borrow_and_update(), 1);
/// assert!(!rx.has_changed().unwrap());
/// assert!(rx2.has_changed().unwrap(), "the clone has its own mark");
/// ```
pub struct Receiver<T> {
    /// The shared channel.
    shared: Arc<Shared<T>>,
    /// The version this receiver saw last (without the closed bit).
    version: usize,
}

/// A read of the value; holds the channel's read lock until dropped.
///
/// Senders wait for every `Ref` to be dropped before they can change the
/// value, so keep it briefly and never across an `.await`.
///
/// ```
/// use minirt_core::sync::watch;
///
/// let (tx, mut rx) = watch::channel(String::from("a"));
/// tx.send(String::from("b")).unwrap();
/// let value = rx.borrow_and_update();
/// assert_eq!(&*value, "b");
/// assert!(value.has_changed(), "it was new when we borrowed it");
/// ```
pub struct Ref<'a, T> {
    /// The read lock on the value.
    guard: ReadGuard<'a, T>,
    /// Whether the value was unseen by the borrowing receiver.
    has_changed: bool,
}

impl<T> Ref<'_, T> {
    /// Whether the value was new to the receiver when it was borrowed (for
    /// [`Receiver::borrow_and_update`], before it was marked seen). Always
    /// `false` for [`Sender::borrow`].
    ///
    /// ```
    /// use minirt_core::sync::watch;
    ///
    /// let (tx, rx) = watch::channel(1);
    /// assert!(!rx.borrow().has_changed());
    /// tx.send(2).unwrap();
    /// assert!(rx.borrow().has_changed());
    /// assert!(!tx.borrow().has_changed());
    /// ```
    pub fn has_changed(&self) -> bool {
        self.has_changed
    }
}

impl<T> Deref for Ref<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T: fmt::Debug> fmt::Debug for Ref<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

impl<T> Sender<T> {
    /// Creates a sender holding `init` with no receiver yet (use
    /// [`subscribe`](Self::subscribe)). Until one exists,
    /// [`send`](Self::send) fails; [`send_replace`](Self::send_replace) works.
    ///
    /// ```
    /// use minirt_core::sync::watch;
    ///
    /// let tx = watch::Sender::new(0);
    /// assert!(tx.send(1).is_err(), "no receiver");
    /// let rx = tx.subscribe();
    /// tx.send(2).unwrap();
    /// assert_eq!(*rx.borrow(), 2);
    /// ```
    pub fn new(init: T) -> Self {
        Sender {
            shared: Arc::new(Shared {
                value: ValueLock::new(init),
                version: AtomicUsize::new(0),
                receivers: AtomicUsize::new(0),
                senders: AtomicUsize::new(1),
                rx_waiters: Lock::new(WaiterSet::new()),
                tx_closed: Notify::new(),
            }),
        }
    }

    /// Replaces the value and marks it changed for every receiver — unless
    /// no receiver is left: then the value is *not* stored and comes back
    /// in the error (tokio's rule; [`send_replace`](Self::send_replace)
    /// stores it regardless).
    ///
    /// ```
    /// use minirt_core::sync::watch;
    ///
    /// let (tx, rx) = watch::channel(1);
    /// tx.send(2).unwrap();
    /// drop(rx);
    /// assert_eq!(tx.send(3).unwrap_err().0, 3);
    /// assert_eq!(*tx.borrow(), 2, "a failed send keeps the old value");
    /// ```
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        if self.receiver_count() == 0 {
            return Err(SendError(value));
        }
        drop(self.send_replace(value));
        Ok(())
    }

    /// Replaces the value, marks it changed for every receiver and returns
    /// the old one, whether or not any receiver exists.
    ///
    /// ```
    /// use minirt_core::sync::watch;
    ///
    /// let tx = watch::Sender::new(1);
    /// assert_eq!(tx.send_replace(2), 1);
    /// assert_eq!(*tx.borrow(), 2);
    /// ```
    pub fn send_replace(&self, value: T) -> T {
        let mut old = Some(value);
        self.send_if_modified(|current| {
            if let Some(value) = old.take() {
                old = Some(core::mem::replace(current, value));
            }
            true
        });
        old.expect("send_if_modified runs its closure exactly once")
    }

    /// Changes the value in place and marks it changed for every receiver,
    /// whether or not any receiver exists.
    ///
    /// `modify` runs with the write lock held: keep it short, and do not
    /// touch this channel from inside it (that would deadlock). If it
    /// panics, the receivers are not told, but what it changed stays.
    ///
    /// ```
    /// use minirt_core::sync::watch;
    ///
    /// let (tx, rx) = watch::channel(vec![1]);
    /// tx.send_modify(|v| v.push(2));
    /// assert_eq!(*rx.borrow(), [1, 2]);
    /// ```
    pub fn send_modify(&self, modify: impl FnOnce(&mut T)) {
        self.send_if_modified(|value| {
            modify(value);
            true
        });
    }

    /// Runs `modify` on the value; if it returns `true`, marks the value
    /// changed for every receiver and wakes them. Returns what `modify`
    /// returned. The same rules as for [`send_modify`](Self::send_modify)
    /// apply to `modify`.
    ///
    /// ```
    /// use minirt_core::sync::watch;
    ///
    /// let (tx, rx) = watch::channel(3);
    /// assert!(!tx.send_if_modified(|v| if *v > 5 { *v = 0; true } else { false }));
    /// assert!(!rx.has_changed().unwrap());
    /// assert!(tx.send_if_modified(|v| { *v += 1; true }));
    /// assert!(rx.has_changed().unwrap());
    /// ```
    pub fn send_if_modified(&self, modify: impl FnOnce(&mut T) -> bool) -> bool {
        let mut value = self.shared.value.write();
        if !modify(&mut value) {
            return false;
        }
        // Under the write lock: a reader gets a value and a version that
        // belong together. Release: a receiver that loads the new version
        // (acquire) and then reads sees this value.
        self.shared.version.fetch_add(STEP, Release);
        drop(value);
        self.shared.wake_receivers();
        true
    }

    /// Reads the current value. The [`Ref`] holds the read lock (other
    /// senders wait until it is dropped); its
    /// [`has_changed`](Ref::has_changed) is always `false`.
    ///
    /// ```
    /// use minirt_core::sync::watch;
    ///
    /// let (tx, _rx) = watch::channel(7);
    /// assert_eq!(*tx.borrow(), 7);
    /// ```
    pub fn borrow(&self) -> Ref<'_, T> {
        Ref {
            guard: self.shared.value.read(),
            has_changed: false,
        }
    }

    /// A new receiver that has seen the current value (its first
    /// [`changed`](Receiver::changed) waits for the next send). Works even
    /// after every receiver was dropped, which makes [`send`](Self::send)
    /// succeed again.
    ///
    /// ```
    /// use minirt_core::sync::watch;
    ///
    /// let (tx, rx) = watch::channel(1);
    /// drop(rx);
    /// let rx = tx.subscribe();
    /// assert!(!rx.has_changed().unwrap());
    /// tx.send(2).unwrap();
    /// assert!(rx.has_changed().unwrap());
    /// ```
    pub fn subscribe(&self) -> Receiver<T> {
        self.shared.receivers.fetch_add(1, Relaxed);
        Receiver {
            version: self.shared.version(),
            shared: Arc::clone(&self.shared),
        }
    }

    /// How many receivers exist now.
    ///
    /// ```
    /// use minirt_core::sync::watch;
    ///
    /// let (tx, rx) = watch::channel(());
    /// let rx2 = rx.clone();
    /// assert_eq!(tx.receiver_count(), 2);
    /// drop((rx, rx2));
    /// assert_eq!(tx.receiver_count(), 0);
    /// ```
    pub fn receiver_count(&self) -> usize {
        self.shared.receivers.load(Acquire)
    }

    /// How many senders exist now (this one included).
    ///
    /// ```
    /// use minirt_core::sync::watch;
    ///
    /// let (tx, _rx) = watch::channel(());
    /// let _tx2 = tx.clone();
    /// assert_eq!(tx.sender_count(), 2);
    /// ```
    pub fn sender_count(&self) -> usize {
        self.shared.senders.load(Relaxed)
    }

    /// Whether every receiver is gone (so [`send`](Self::send) would fail).
    ///
    /// ```
    /// use minirt_core::sync::watch;
    ///
    /// let (tx, rx) = watch::channel(());
    /// assert!(!tx.is_closed());
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.receiver_count() == 0
    }

    /// Waits until every receiver is gone — for a producer that should stop
    /// once nobody listens. Returns at once if none exists now.
    ///
    /// Cancel-safe: the future holds nothing but its place among the
    /// waiters; dropping it gives that up and changes nothing else.
    ///
    /// ```
    /// use minirt_core::executor::LocalExecutor;
    /// use minirt_core::sync::watch;
    ///
    /// let ex = LocalExecutor::new();
    /// let (tx, rx) = watch::channel(());
    /// let listener = ex.spawn(async move { drop(rx) });
    /// ex.block_on(tx.closed(), || {});
    /// assert!(listener.is_finished());
    /// ```
    pub async fn closed(&self) {
        loop {
            // Created (and so counted as waiting) before the check: a last
            // receiver dropped after the check wakes it.
            let notified = self.shared.tx_closed.notified();
            if self.is_closed() {
                return;
            }
            notified.await;
        }
    }

    /// Whether `other` is a handle of the same channel.
    ///
    /// ```
    /// use minirt_core::sync::watch;
    ///
    /// let (tx, _rx) = watch::channel(());
    /// let (other, _other_rx) = watch::channel(());
    /// assert!(tx.same_channel(&tx.clone()));
    /// assert!(!tx.same_channel(&other));
    /// ```
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl<T: Default> Default for Sender<T> {
    fn default() -> Self {
        Sender::new(T::default())
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
        if self.shared.senders.fetch_sub(1, AcqRel) == 1 {
            // Release: a receiver that sees the bit sees every value.
            self.shared.version.fetch_or(CLOSED, Release);
            self.shared.wake_receivers();
        }
    }
}

impl<T> Receiver<T> {
    /// Reads the current value without marking it seen. The [`Ref`] holds
    /// the read lock: senders wait until it is dropped.
    ///
    /// ```
    /// use minirt_core::sync::watch;
    ///
    /// let (tx, rx) = watch::channel(1);
    /// tx.send(2).unwrap();
    /// assert_eq!(*rx.borrow(), 2);
    /// assert!(rx.has_changed().unwrap(), "borrow does not mark it seen");
    /// ```
    pub fn borrow(&self) -> Ref<'_, T> {
        let guard = self.shared.value.read();
        let has_changed = self.shared.version() != self.version;
        Ref { guard, has_changed }
    }

    /// Reads the current value and marks it seen, so
    /// [`changed`](Self::changed) waits for the next one.
    ///
    /// ```
    /// use minirt_core::sync::watch;
    ///
    /// let (tx, mut rx) = watch::channel(1);
    /// tx.send(2).unwrap();
    /// assert_eq!(*rx.borrow_and_update(), 2);
    /// assert!(!rx.has_changed().unwrap());
    /// ```
    pub fn borrow_and_update(&mut self) -> Ref<'_, T> {
        let guard = self.shared.value.read();
        let current = self.shared.version();
        let has_changed = current != self.version;
        self.version = current;
        Ref { guard, has_changed }
    }

    /// Whether a value this receiver has not seen is there. Fails once
    /// every sender is gone (even if the last value is unseen: tokio's
    /// rule; [`changed`](Self::changed) still returns it first).
    ///
    /// ```
    /// use minirt_core::sync::watch;
    ///
    /// let (tx, rx) = watch::channel(1);
    /// assert_eq!(rx.has_changed(), Ok(false));
    /// tx.send(2).unwrap();
    /// assert_eq!(rx.has_changed(), Ok(true));
    /// drop(tx);
    /// assert!(rx.has_changed().is_err());
    /// ```
    pub fn has_changed(&self) -> Result<bool, RecvError> {
        let word = self.shared.version.load(Acquire);
        if word & CLOSED != 0 {
            return Err(RecvError(()));
        }
        Ok(word & !CLOSED != self.version)
    }

    /// Marks the current value unseen, so the next
    /// [`changed`](Self::changed) returns at once.
    ///
    /// ```
    /// use minirt_core::sync::watch;
    ///
    /// let (_tx, mut rx) = watch::channel(1);
    /// rx.mark_changed();
    /// assert!(rx.has_changed().unwrap());
    /// ```
    pub fn mark_changed(&mut self) {
        self.version = self.shared.version().wrapping_sub(STEP);
    }

    /// Marks the current value seen, without reading it.
    ///
    /// ```
    /// use minirt_core::sync::watch;
    ///
    /// let (tx, mut rx) = watch::channel(1);
    /// tx.send(2).unwrap();
    /// rx.mark_unchanged();
    /// assert!(!rx.has_changed().unwrap());
    /// ```
    pub fn mark_unchanged(&mut self) {
        self.version = self.shared.version();
    }

    /// Waits for a value this receiver has not seen, and marks it seen
    /// (read it with [`borrow`](Self::borrow) or
    /// [`borrow_and_update`](Self::borrow_and_update)). Returns at once if
    /// one is there already. Values sent meanwhile are not queued: the
    /// receiver sees the latest.
    ///
    /// Fails with [`RecvError`] once every sender is gone and the last
    /// value was seen.
    ///
    /// Cancel-safe: the only state is the receiver's "seen" mark, which
    /// moves only in the poll that returns `Ok`. A future dropped before
    /// that loses nothing: the next `changed` finds the same unseen value.
    ///
    /// Spends one unit of the task's [cooperative budget](crate::coop)
    /// when it completes; with the budget spent it yields first.
    ///
    /// ```
    /// use minirt_core::executor::LocalExecutor;
    /// use minirt_core::sync::watch;
    ///
    /// let ex = LocalExecutor::new();
    /// let (tx, mut rx) = watch::channel(0);
    /// let sum = ex.spawn(async move {
    ///     let mut last = 0;
    ///     while rx.changed().await.is_ok() {
    ///         last = *rx.borrow_and_update();
    ///     }
    ///     last
    /// });
    /// let sender = ex.spawn(async move {
    ///     for i in 1..=3 {
    ///         tx.send(i).unwrap();
    ///         minirt_core::future::yield_now().await;
    ///     }
    /// });
    /// assert_eq!(ex.block_on(sum, || {}).unwrap(), 3);
    /// assert!(sender.is_finished());
    /// ```
    pub fn changed(&mut self) -> impl Future<Output = Result<(), RecvError>> + '_ {
        Changed {
            shared: &self.shared,
            version: &mut self.version,
            registration: None,
        }
    }

    /// Waits until the value satisfies `f` and returns a [`Ref`] to it,
    /// marking it seen. Looks at the current value first (so it may return
    /// at once), then at each new one; values that change faster than the
    /// receiver looks may be skipped.
    ///
    /// Fails with [`RecvError`] if every sender is gone and no value seen
    /// after that satisfies `f`.
    ///
    /// Cancel-safe: like [`changed`](Self::changed), dropping the future
    /// loses no value; the receiver's mark may have moved to a value that
    /// `f` rejected, which is what a later call would reject too.
    ///
    /// ```
    /// use minirt_core::executor::LocalExecutor;
    /// use minirt_core::sync::watch;
    ///
    /// let ex = LocalExecutor::new();
    /// let (tx, mut rx) = watch::channel(0);
    /// let waiter = ex.spawn(async move { *rx.wait_for(|v| *v >= 2).await.unwrap() });
    /// let sender = ex.spawn(async move {
    ///     for i in 1..=3 {
    ///         tx.send_replace(i); // the waiter may be gone by 3
    ///         minirt_core::future::yield_now().await;
    ///     }
    /// });
    /// assert_eq!(ex.block_on(waiter, || {}).unwrap(), 2);
    /// # drop(sender);
    /// ```
    pub async fn wait_for(
        &mut self,
        mut f: impl FnMut(&T) -> bool,
    ) -> Result<Ref<'_, T>, RecvError> {
        let mut closed = false;
        loop {
            {
                let guard = self.shared.value.read();
                let current = self.shared.version();
                let has_changed = current != self.version;
                self.version = current;
                if (!closed || has_changed) && f(&guard) {
                    return Ok(Ref { guard, has_changed });
                }
            }
            if closed {
                return Err(RecvError(()));
            }
            closed = Changed {
                shared: &self.shared,
                version: &mut self.version,
                registration: None,
            }
            .await
            .is_err();
        }
    }

    /// Whether `other` is a handle of the same channel.
    ///
    /// ```
    /// use minirt_core::sync::watch;
    ///
    /// let (_tx, rx) = watch::channel(());
    /// assert!(rx.same_channel(&rx.clone()));
    /// ```
    pub fn same_channel(&self, other: &Receiver<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        self.shared.receivers.fetch_add(1, Relaxed);
        Receiver {
            shared: Arc::clone(&self.shared),
            version: self.version,
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        if self.shared.receivers.fetch_sub(1, AcqRel) == 1 {
            self.shared.tx_closed.notify_waiters();
        }
    }
}

/// The future of [`Receiver::changed`] (see the module docs for the wake
/// protocol).
struct Changed<'a, T> {
    /// The channel.
    shared: &'a Shared<T>,
    /// The receiver's "seen" mark.
    version: &'a mut usize,
    /// Our entry among the waiters, if we registered and may still be there.
    registration: Option<Registration>,
}

impl<T> Future for Changed<'_, T> {
    type Output = Result<(), RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        crate::sync::poll_waiting_in(cx, crate::task::WaitKind::Watch, |cx| {
            this.poll_unbudgeted(cx)
        })
    }
}

impl<T> Changed<'_, T> {
    /// `poll` without the budget.
    fn poll_unbudgeted(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), RecvError>> {
        if let Some(result) = self.shared.poll_version(self.version) {
            // Anything new was published after we registered (we registered
            // only after seeing nothing new under the waiter lock), so the
            // sender's removal of every waiter follows it: our entry is gone
            // or about to go.
            self.registration = None;
            return Poll::Ready(result);
        }
        let mut waiters = self.shared.rx_waiters.lock();
        // The look that counts: a sender bumps the version before taking
        // this lock, so either we see the bump or it sees our entry.
        if let Some(result) = self.shared.poll_version(self.version) {
            let stale = self.registration.take().and_then(|r| waiters.remove(r));
            drop(waiters);
            drop(stale);
            return Poll::Ready(result);
        }
        let stale = match self.registration {
            Some(registration) if waiters.contains(registration) => {
                waiters.update(registration, cx.waker())
            }
            _ => {
                self.registration = Some(waiters.register(cx.waker()));
                None
            }
        };
        drop(waiters);
        drop(stale); // outside the lock: dropping a waker runs code
        Poll::Pending
    }
}

impl<T> Drop for Changed<'_, T> {
    fn drop(&mut self) {
        if let Some(registration) = self.registration.take() {
            let stale = self.shared.rx_waiters.lock().remove(registration);
            drop(stale);
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("watch::Sender")
            .field("value", &*self.borrow())
            .finish_non_exhaustive()
    }
}

impl<T: fmt::Debug> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("watch::Receiver")
            .field("value", &*self.borrow())
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Sender<alloc::vec::Vec<u8>>>();
    assert_send_sync::<Receiver<alloc::vec::Vec<u8>>>();
};
