//! The unbounded multi-producer, single-consumer channel.
//!
//! Why: a producer that must never wait — a synchronous callback, a
//! `Drop`, a thread outside any runtime — needs a queue whose `send` is a
//! plain function. tokio's `mpsc::unbounded_channel`, with its names and
//! meanings. Memory grows with the backlog: prefer the bounded
//! [`channel`](super::channel) where a slow consumer should slow the
//! producers down.
//!
//! How: values live in a linked list of blocks of 32 slots (16 on 32-bit
//! targets); see `list.rs` for how senders find and grow blocks without a
//! lock and how the receiver reuses the blocks it has passed. A send is one
//! `fetch_add` to claim a position, a walk to its block (usually the first
//! one looked at), a write and a `fetch_or` of the slot's ready bit. It
//! takes no lock and allocates only when it opens a new block and no passed
//! block is waiting to be reused.
//!
//! Waking the receiver is the bounded channel's protocol:
//!
//! 1. The receiver, finding nothing, stores its waker (under a small lock
//!    only it and waking senders take), sets `rx_waiting`, issues a `SeqCst`
//!    fence and looks again. Only if there is still nothing is it `Pending`.
//! 2. A sender, after setting its ready bit, issues a `SeqCst` fence and
//!    reads `rx_waiting`; if set and it wins the swap back to `false`, it
//!    takes the waker and wakes it (after unlocking). The last sender to
//!    drop does the same after setting `senders_gone`.
//!
//! The two fences make a store-buffer handshake: the receiver's second look
//! sees the value, or the sender sees `rx_waiting`.
//!
//! Closing (by [`UnboundedReceiver::close`] or dropping the receiver) sets
//! the closed bit in the tail word, so every later claim fails and returns
//! its value. Values claimed before it are delivered; `recv` returns `None`
//! at the position where the channel closed, or once every sender is gone
//! and every value was received.
//!
//! ```
//! use core::future::Future;
//! use core::pin::pin;
//! use core::task::{Context, Poll, Waker};
//! use minirt_core::sync::mpsc;
//!
//! let (tx, mut rx) = mpsc::unbounded_channel();
//! for i in 0..100 {
//!     tx.send(i).unwrap(); // never waits
//! }
//! drop(tx);
//! let mut cx = Context::from_waker(Waker::noop());
//! for i in 0..100 {
//!     assert_eq!(pin!(rx.recv()).poll(&mut cx), Poll::Ready(Some(i)));
//! }
//! assert_eq!(pin!(rx.recv()).poll(&mut cx), Poll::Ready(None));
//! ```

mod block;
mod list;
#[cfg(all(test, not(loom)))]
mod tests;

use core::fmt;
use core::future::Future;
use core::task::{Context, Poll, Waker};

use self::block::STEP;
use self::list::{RxList, TxList};
use super::error::{SendError, TryRecvError};
use crate::loom::atomic::{fence, AtomicBool, AtomicUsize, Ordering::*};
use crate::loom::sync::Arc;
use crate::loom::UnsafeCell;
use crate::sync::cache_line::CacheLine;
use crate::sync::lock::Lock;
use crate::sync::Notify;

/// The "closed" bit of the tail word (positions advance by [`STEP`]).
const CLOSED: usize = 1;

/// Creates an unbounded channel: [`send`](UnboundedSender::send) never
/// waits, and the queue grows as needed.
///
/// ```
/// use minirt_core::sync::mpsc;
///
/// let (tx, mut rx) = mpsc::unbounded_channel::<&str>();
/// tx.send("hello").unwrap();
/// assert_eq!(rx.try_recv(), Ok("hello"));
/// ```
pub fn unbounded_channel<T>() -> (UnboundedSender<T>, UnboundedReceiver<T>) {
    channel_at(0)
}

/// [`unbounded_channel`] whose positions start at `start` (a block
/// boundary); tests start near `usize::MAX` to cross the wrap-around.
fn channel_at<T>(start: usize) -> (UnboundedSender<T>, UnboundedReceiver<T>) {
    let (tx_list, rx_list) = list::new(start);
    let chan = Arc::new(Chan {
        tx: CacheLine(TxSide {
            tail: AtomicUsize::new(start),
            list: tx_list,
        }),
        rx: UnsafeCell::new(rx_list),
        senders: AtomicUsize::new(1),
        senders_gone: AtomicBool::new(false),
        rx_waiting: AtomicBool::new(false),
        rx_waker: Lock::new(None),
        closed_notify: Notify::new(),
    });
    (
        UnboundedSender {
            chan: Arc::clone(&chan),
        },
        UnboundedReceiver {
            chan,
            closed_at: None,
        },
    )
}

/// The words every sender writes: one cache line.
struct TxSide<T> {
    /// `next position | CLOSED`.
    tail: AtomicUsize,
    /// Where senders start looking for their block.
    list: TxList<T>,
}

/// State shared by all handles.
struct Chan<T> {
    /// The senders' words.
    tx: CacheLine<TxSide<T>>,
    /// The receiver's cursor; only the receiver (and `Chan::drop`) touch it.
    rx: UnsafeCell<RxList<T>>,
    /// Live `UnboundedSender`s.
    senders: AtomicUsize,
    /// The last sender was dropped (release: every value is published).
    senders_gone: AtomicBool,
    /// The receiver stored its waker and may be about to sleep; whoever
    /// swaps it back to `false` wakes it (module docs).
    rx_waiting: AtomicBool,
    /// The waiting receiver's waker.
    rx_waker: Lock<Option<Waker>>,
    /// Senders waiting in `closed`.
    closed_notify: Notify,
}

// SAFETY: values are moved in by senders and out by the one receiver, never
// shared by reference, so `T: Send` suffices. Slots are handed over through
// their ready bits and blocks through the release protocol of `list.rs`;
// the receiver's cursor is touched only through `&mut UnboundedReceiver`
// and in `Drop` (`&mut self`).
unsafe impl<T: Send> Send for Chan<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Chan<T> {}

impl<T> Chan<T> {
    /// Step 2 of the wake protocol: wakes the receiver if it sleeps. Call
    /// after publishing what it waits for.
    fn wake_rx(&self) {
        fence(SeqCst);
        if self.rx_waiting.load(Relaxed) && self.rx_waiting.swap(false, AcqRel) {
            let waker = self.rx_waker.lock().take();
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }

    /// Whether the receiver closed the channel.
    fn is_closed(&self) -> bool {
        self.tx.tail.load(Acquire) & CLOSED != 0
    }
}

impl<T> Drop for Chan<T> {
    fn drop(&mut self) {
        // SAFETY: the last handle is gone: no sender or receiver is left,
        // and `drop` runs once.
        self.rx.with_mut(|rx| unsafe { (*rx).free_all() });
    }
}

/// The sending half; clone it for more producers. Sending never waits.
///
/// ```
/// use minirt_core::sync::mpsc;
///
/// let (tx, mut rx) = mpsc::unbounded_channel();
/// let tx2 = tx.clone();
/// tx.send(1).unwrap();
/// tx2.send(2).unwrap();
/// assert_eq!((rx.try_recv(), rx.try_recv()), (Ok(1), Ok(2)));
/// ```
pub struct UnboundedSender<T> {
    /// The shared channel.
    chan: Arc<Chan<T>>,
}

/// A sender that does not keep the channel open; [`upgrade`] it to send.
///
/// [`upgrade`]: WeakUnboundedSender::upgrade
///
/// ```
/// use minirt_core::sync::mpsc;
///
/// let (tx, _rx) = mpsc::unbounded_channel::<u8>();
/// let weak = tx.downgrade();
/// assert!(weak.upgrade().is_some());
/// drop(tx);
/// assert!(weak.upgrade().is_none(), "the last strong sender is gone");
/// ```
pub struct WeakUnboundedSender<T> {
    /// The shared channel.
    chan: Arc<Chan<T>>,
}

/// The receiving half.
///
/// Dropping it closes the channel and drops the values still queued.
///
/// ```
/// use minirt_core::sync::mpsc;
///
/// let (tx, rx) = mpsc::unbounded_channel::<u8>();
/// drop(rx);
/// assert!(tx.is_closed());
/// assert_eq!(tx.send(1).unwrap_err().0, 1);
/// ```
pub struct UnboundedReceiver<T> {
    /// The shared channel.
    chan: Arc<Chan<T>>,
    /// The position where the channel was closed: every position before it
    /// will be written, none after.
    closed_at: Option<usize>,
}

impl<T> UnboundedSender<T> {
    /// Queues `value` for the receiver, without waiting. Fails, returning
    /// the value, once the receiver is dropped or closed.
    ///
    /// Takes no lock, and allocates only when the value opens a new block
    /// that no reused block can provide.
    ///
    /// ```
    /// use minirt_core::sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::unbounded_channel();
    /// tx.send(5).unwrap();
    /// rx.close();
    /// assert_eq!(tx.send(6).unwrap_err().0, 6);
    /// assert_eq!(rx.try_recv(), Ok(5), "sent before the close");
    /// ```
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        let chan = &*self.chan;
        // SeqCst: step 1 of `list.rs` (the claim is ordered before our load
        // of the senders' block pointer).
        let word = chan.tx.tail.fetch_add(STEP, SeqCst);
        if word & CLOSED != 0 {
            return Err(SendError(value));
        }
        let block = chan.tx.list.find_block(word, &chan.tx.tail);
        // SAFETY: `word` (without the clear closed bit) is the position we
        // claimed alone, and `find_block` returned its block.
        unsafe { block.write(word, value) };
        chan.wake_rx();
        Ok(())
    }

    /// Whether the receiver has been dropped or closed (sends would fail).
    ///
    /// ```
    /// use minirt_core::sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::unbounded_channel::<u8>();
    /// assert!(!tx.is_closed());
    /// rx.close();
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }

    /// Waits until the receiver is dropped or closed — for a producer that
    /// should stop once nobody listens. Returns at once if it already is.
    ///
    /// Cancel-safe: the future holds only its place among the waiters;
    /// dropping it gives that up and changes nothing else.
    ///
    /// ```
    /// use minirt_core::executor::LocalExecutor;
    /// use minirt_core::sync::mpsc;
    ///
    /// let ex = LocalExecutor::new();
    /// let (tx, rx) = mpsc::unbounded_channel::<u8>();
    /// let consumer = ex.spawn(async move { drop(rx) });
    /// ex.block_on(tx.closed(), || {});
    /// assert!(consumer.is_finished());
    /// ```
    pub async fn closed(&self) {
        loop {
            // Counted as waiting from here, before the check.
            let notified = self.chan.closed_notify.notified();
            if self.is_closed() {
                return;
            }
            notified.await;
        }
    }

    /// Whether `other` sends into the same channel.
    ///
    /// ```
    /// use minirt_core::sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::unbounded_channel::<u8>();
    /// let (other, _other_rx) = mpsc::unbounded_channel::<u8>();
    /// assert!(tx.same_channel(&tx.clone()));
    /// assert!(!tx.same_channel(&other));
    /// ```
    pub fn same_channel(&self, other: &UnboundedSender<T>) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }

    /// A [`WeakUnboundedSender`]: it does not count as a sender, so it does
    /// not keep the receiver's `recv` from returning `None`.
    ///
    /// ```
    /// use minirt_core::sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::unbounded_channel::<u8>();
    /// let weak = tx.downgrade();
    /// drop(tx);
    /// assert_eq!(rx.try_recv(), Err(mpsc::TryRecvError::Disconnected));
    /// assert!(weak.upgrade().is_none());
    /// ```
    pub fn downgrade(&self) -> WeakUnboundedSender<T> {
        WeakUnboundedSender {
            chan: Arc::clone(&self.chan),
        }
    }
}

impl<T> Clone for UnboundedSender<T> {
    fn clone(&self) -> Self {
        self.chan.senders.fetch_add(1, Relaxed);
        UnboundedSender {
            chan: Arc::clone(&self.chan),
        }
    }
}

impl<T> Drop for UnboundedSender<T> {
    fn drop(&mut self) {
        if self.chan.senders.fetch_sub(1, AcqRel) != 1 {
            return;
        }
        // Release: a receiver that sees the flag (acquire) sees every value.
        self.chan.senders_gone.store(true, Release);
        self.chan.wake_rx();
    }
}

impl<T> WeakUnboundedSender<T> {
    /// An [`UnboundedSender`], if any strong sender still exists.
    ///
    /// ```
    /// use minirt_core::sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::unbounded_channel();
    /// let weak = tx.downgrade();
    /// weak.upgrade().unwrap().send(3).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(3));
    /// ```
    pub fn upgrade(&self) -> Option<UnboundedSender<T>> {
        let mut count = self.chan.senders.load(Relaxed);
        loop {
            if count == 0 {
                return None;
            }
            match self
                .chan
                .senders
                .compare_exchange_weak(count, count + 1, Relaxed, Relaxed)
            {
                Ok(_) => {
                    return Some(UnboundedSender {
                        chan: Arc::clone(&self.chan),
                    })
                }
                Err(actual) => count = actual,
            }
        }
    }
}

impl<T> Clone for WeakUnboundedSender<T> {
    fn clone(&self) -> Self {
        WeakUnboundedSender {
            chan: Arc::clone(&self.chan),
        }
    }
}

impl<T> UnboundedReceiver<T> {
    /// Receives the next value, waiting until one is sent.
    ///
    /// Returns `None` once every sender is gone (or the channel was closed)
    /// and every value was received.
    ///
    /// Cancel-safe: a value is taken out of the queue only by the poll that
    /// returns it, so a future dropped before completing loses nothing; the
    /// next `recv` returns the same value.
    ///
    /// ```
    /// use minirt_core::executor::LocalExecutor;
    /// use minirt_core::sync::mpsc;
    ///
    /// let ex = LocalExecutor::new();
    /// let (tx, mut rx) = mpsc::unbounded_channel();
    /// let consumer = ex.spawn(async move {
    ///     let mut sum = 0;
    ///     while let Some(v) = rx.recv().await {
    ///         sum += v;
    ///     }
    ///     sum
    /// });
    /// for i in 1..=4 {
    ///     tx.send(i).unwrap();
    /// }
    /// drop(tx);
    /// assert_eq!(ex.block_on(consumer, || {}).unwrap(), 10);
    /// ```
    pub fn recv(&mut self) -> impl Future<Output = Option<T>> + '_ {
        core::future::poll_fn(move |cx| self.poll_recv(cx))
    }

    /// Poll form of [`recv`](Self::recv), for hand-written futures and
    /// streams.
    ///
    /// Spends one unit of the task's [cooperative budget](crate::coop) when
    /// it returns `Ready`; with the budget spent it returns `Pending` (the
    /// task already woken) even if a value is queued.
    ///
    /// ```
    /// use core::task::{Context, Poll, Waker};
    /// use minirt_core::sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::unbounded_channel();
    /// let mut cx = Context::from_waker(Waker::noop());
    /// assert_eq!(rx.poll_recv(&mut cx), Poll::Pending);
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(Some(1)));
    /// ```
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        crate::sync::poll_waiting_in(cx, crate::task::WaitKind::MpscRecv, |cx| {
            self.poll_recv_unbudgeted(cx)
        })
    }

    /// [`poll_recv`](Self::poll_recv) without the budget.
    fn poll_recv_unbudgeted(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        match self.try_recv() {
            Ok(value) => return Poll::Ready(Some(value)),
            Err(TryRecvError::Disconnected) => return Poll::Ready(None),
            Err(TryRecvError::Empty) => {}
        }
        // Step 1 of the wake protocol: announce, then look again.
        self.register(cx.waker());
        // A swap rather than a store, as in the bounded channel: it keeps
        // the flag after any sender's clearing swap in loom's partial
        // modification order.
        self.chan.rx_waiting.swap(true, AcqRel);
        fence(SeqCst);
        match self.try_recv() {
            Err(TryRecvError::Empty) => Poll::Pending,
            found => {
                self.chan.rx_waiting.store(false, Relaxed);
                Poll::Ready(found.ok())
            }
        }
    }

    /// Stores `waker` as the one to wake, unless an equivalent one is there.
    fn register(&self, waker: &Waker) {
        let mut stored = self.chan.rx_waker.lock();
        let stale = match &*stored {
            Some(current) if current.will_wake(waker) => None,
            _ => stored.replace(waker.clone()),
        };
        drop(stored);
        drop(stale); // outside the lock: dropping a waker runs arbitrary code
    }

    /// The receiver's next position.
    fn index(&self) -> usize {
        // SAFETY: only the receiver changes the cursor, through `&mut self`
        // (and `Chan::drop`, after the receiver is gone), so no write is
        // concurrent with this read.
        self.chan.rx.with(|p| unsafe { (*p).index() })
    }

    /// Takes the next value if one is queued, without waiting.
    ///
    /// ```
    /// use minirt_core::sync::mpsc::{self, TryRecvError};
    ///
    /// let (tx, mut rx) = mpsc::unbounded_channel();
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.send(1).unwrap();
    /// drop(tx);
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        if let Some(value) = self.pop() {
            return Ok(value);
        }
        if self.closed_at == Some(self.index()) {
            return Err(TryRecvError::Disconnected);
        }
        if self.chan.senders_gone.load(Acquire) {
            // Every value was published before the flag: look once more.
            return self.pop().ok_or(TryRecvError::Disconnected);
        }
        Err(TryRecvError::Empty)
    }

    /// Takes the value at the cursor if it was written.
    fn pop(&mut self) -> Option<T> {
        let chan = &*self.chan;
        // SAFETY: only the receiver touches the cursor (and `Chan::drop`,
        // after the receiver is gone); `&mut self` makes this access unique.
        chan.rx.with_mut(|p| unsafe { (*p).pop(&chan.tx.list) })
    }

    /// Closes the channel: later sends fail and return their values. Values
    /// already sent can still be received, then `recv` returns `None`.
    ///
    /// ```
    /// use minirt_core::sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::unbounded_channel();
    /// tx.send(1).unwrap();
    /// rx.close();
    /// assert!(tx.send(2).is_err());
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert_eq!(rx.try_recv(), Err(mpsc::TryRecvError::Disconnected));
    /// ```
    pub fn close(&mut self) {
        if self.closed_at.is_none() {
            let word = self.chan.tx.tail.fetch_or(CLOSED, SeqCst);
            self.closed_at = Some(word & !CLOSED);
            self.chan.closed_notify.notify_waiters();
        }
    }

    /// Whether the channel is closed: by [`close`](Self::close), or because
    /// every sender is gone. Values may still be queued.
    ///
    /// ```
    /// use minirt_core::sync::mpsc;
    ///
    /// let (tx, rx) = mpsc::unbounded_channel::<u8>();
    /// assert!(!rx.is_closed());
    /// drop(tx);
    /// assert!(rx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.closed_at.is_some() || self.chan.senders_gone.load(Acquire)
    }

    /// How many values are queued (a send in progress counts).
    ///
    /// ```
    /// use minirt_core::sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::unbounded_channel();
    /// tx.send(1).unwrap();
    /// tx.send(2).unwrap();
    /// assert_eq!(rx.len(), 2);
    /// rx.try_recv().unwrap();
    /// assert_eq!(rx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        let tail = self.chan.tx.tail.load(Acquire) & !CLOSED;
        let end = self.closed_at.unwrap_or(tail);
        end.wrapping_sub(self.index()) / STEP
    }

    /// Whether no value is queued.
    ///
    /// ```
    /// use minirt_core::sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::unbounded_channel();
    /// assert!(rx.is_empty());
    /// tx.send(()).unwrap();
    /// assert!(!rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> Drop for UnboundedReceiver<T> {
    fn drop(&mut self) {
        self.close();
        // Values being written now are dropped with the channel.
        while let Some(value) = self.pop() {
            drop(value);
        }
    }
}

impl<T> fmt::Debug for UnboundedSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::UnboundedSender")
            .field("is_closed", &self.is_closed())
            .finish()
    }
}

impl<T> fmt::Debug for WeakUnboundedSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::WeakUnboundedSender")
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for UnboundedReceiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::UnboundedReceiver")
            .finish_non_exhaustive()
    }
}

const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<UnboundedSender<alloc::vec::Vec<u8>>>();
    assert_send_sync::<UnboundedReceiver<alloc::vec::Vec<u8>>>();
    assert_send_sync::<WeakUnboundedSender<alloc::vec::Vec<u8>>>();
};
