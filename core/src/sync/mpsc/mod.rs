//! A bounded multi-producer, single-consumer channel.
//!
//! Why: a bounded queue between tasks gives backpressure — a fast producer
//! waits instead of filling memory. Senders that wait for room are served in
//! FIFO order, and a cancelled `send` loses nothing: the value lives in the
//! send future until a slot is secured, so dropping the future drops (or, on
//! failure, returns) the value, and never leaves a half-sent message.
//!
//! How: free slots are counted by a fair [`Semaphore`]. `send` first acquires
//! one slot permit (FIFO, cancel-safe, as the semaphore guarantees), then
//! pushes the value into a `VecDeque` behind a spin lock and wakes the
//! receiver; `recv` pops a value and returns its permit to the semaphore.
//! Closing the receiver closes the semaphore, which fails every waiting and
//! future `send`. The lock is held only to push or pop — never across an
//! `.await` and never while a waker is woken or dropped.
//!
//! ```
//! use core::future::Future;
//! use core::pin::pin;
//! use core::task::{Context, Poll, Waker};
//! use minirt_core::sync::mpsc;
//!
//! let (tx, mut rx) = mpsc::channel(1);
//! let mut cx = Context::from_waker(Waker::noop());
//! tx.try_send(1).unwrap();
//! {
//!     let mut second = pin!(tx.send(2));
//!     assert!(second.as_mut().poll(&mut cx).is_pending()); // full
//!     assert_eq!(rx.try_recv(), Ok(1));
//!     assert_eq!(second.as_mut().poll(&mut cx), Poll::Ready(Ok(())));
//! }
//! drop(tx);
//! assert_eq!(pin!(rx.recv()).poll(&mut cx), Poll::Ready(Some(2)));
//! assert_eq!(pin!(rx.recv()).poll(&mut cx), Poll::Ready(None));
//! ```

mod error;
#[cfg(all(test, not(loom)))]
mod tests;

use alloc::collections::VecDeque;
use core::fmt;
use core::future::Future;
use core::task::{Context, Poll, Waker};

pub use error::{SendError, TryRecvError, TrySendError};

use super::lock::{Lock, LockGuard};
use super::{Semaphore, TryAcquireError};
use crate::loom::atomic::{AtomicUsize, Ordering};
use crate::loom::sync::Arc;

/// Buffer slots allocated up front; a larger capacity grows the buffer on
/// demand (it never shrinks, so a busy channel stops allocating).
const PREALLOCATED_SLOTS: usize = 32;

/// Creates a channel that buffers up to `capacity` values.
///
/// # Panics
///
/// If `capacity` is 0 or exceeds [`Semaphore::MAX_PERMITS`].
pub fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(
        capacity > 0,
        "mpsc::channel: capacity must be at least 1 (a zero-capacity rendezvous channel is not \
         supported; use capacity 1, or a oneshot channel for a single hand-off)"
    );
    assert!(
        capacity <= Semaphore::MAX_PERMITS,
        "mpsc::channel: capacity {capacity} is too large"
    );
    let chan = Arc::new(Chan {
        slots: Semaphore::new(capacity),
        buffer: Lock::new(Buffer {
            values: VecDeque::with_capacity(capacity.min(PREALLOCATED_SLOTS)),
            rx_waker: None,
            senders_gone: false,
            rx_closed: false,
        }),
        senders: AtomicUsize::new(1),
    });
    (
        Sender {
            chan: Arc::clone(&chan),
        },
        Receiver { chan, taken: VecDeque::new() },
    )
}

/// The sending half; clone it for more producers.
pub struct Sender<T> {
    /// The shared channel.
    chan: Arc<Chan<T>>,
}

/// The receiving half.
///
/// Dropping it closes the channel and drops the values still buffered.
pub struct Receiver<T> {
    /// The shared channel.
    chan: Arc<Chan<T>>,
    /// Values moved out of the shared buffer in one batch, oldest first, so
    /// that most receives touch only the slot semaphore and not the buffer
    /// lock. Their slot permits are still held: each is released when its
    /// value is received, so the channel never holds more than `capacity`.
    taken: VecDeque<T>,
}

/// State shared by all handles.
struct Chan<T> {
    /// One permit per free buffer slot; closed when the receiver closes.
    slots: Semaphore,
    /// The queued values and the receiver's bookkeeping.
    buffer: Lock<Buffer<T>>,
    /// Live `Sender` handles.
    senders: AtomicUsize,
}

/// Everything the buffer lock protects.
struct Buffer<T> {
    /// Values sent and not yet received, oldest first.
    values: VecDeque<T>,
    /// The receiver waiting for a value.
    rx_waker: Option<Waker>,
    /// The last sender was dropped.
    senders_gone: bool,
    /// The receiver closed or was dropped; pushes fail.
    rx_closed: bool,
}

impl<T> Chan<T> {
    /// Locks the buffer.
    fn lock(&self) -> LockGuard<'_, Buffer<T>> {
        self.buffer.lock()
    }

    /// Pushes a value whose slot permit was already taken, and wakes the
    /// receiver. Fails (returning the value) if the receiver has closed.
    fn push(&self, value: T) -> Result<(), T> {
        let mut buffer = self.lock();
        if buffer.rx_closed {
            drop(buffer);
            return Err(value);
        }
        buffer.values.push_back(value);
        let waker = buffer.rx_waker.take();
        drop(buffer);
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }
}

impl<T> Sender<T> {
    /// Sends `value`, waiting for a free slot if the buffer is full.
    ///
    /// Senders waiting for room are served in FIFO order. Fails, giving the
    /// value back, once the receiver is dropped or closed. Cancel-safe:
    /// dropping the future before it completes drops the value and frees
    /// its place in the queue; nothing is half-sent.
    pub async fn send(&self, value: T) -> Result<(), SendError<T>> {
        match self.chan.slots.acquire().await {
            Ok(permit) => permit.forget(), // the slot now belongs to the value
            Err(_) => return Err(SendError(value)),
        }
        self.chan.push(value).map_err(SendError)
    }

    /// Sends `value` if a slot is free and no other sender is waiting.
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        match self.chan.slots.try_acquire() {
            Ok(permit) => permit.forget(),
            Err(TryAcquireError::NoPermits) => return Err(TrySendError::Full(value)),
            Err(TryAcquireError::Closed) => return Err(TrySendError::Closed(value)),
        }
        self.chan.push(value).map_err(TrySendError::Closed)
    }

    /// Whether the receiver has been dropped or closed (sends would fail).
    pub fn is_closed(&self) -> bool {
        self.chan.slots.is_closed()
    }

    /// Free slots right now.
    pub fn capacity(&self) -> usize {
        self.chan.slots.available_permits()
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.chan.senders.fetch_add(1, Ordering::Relaxed);
        Self {
            chan: Arc::clone(&self.chan),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if self.chan.senders.fetch_sub(1, Ordering::AcqRel) != 1 {
            return;
        }
        let mut buffer = self.chan.lock();
        buffer.senders_gone = true;
        let waker = buffer.rx_waker.take();
        drop(buffer);
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> Receiver<T> {
    /// Receives the next value, waiting if the buffer is empty.
    ///
    /// Returns `None` once every sender is gone (or the channel was closed)
    /// and the buffer is empty. Cancel-safe: a value is only taken out of the
    /// buffer by the poll that returns it.
    pub fn recv(&mut self) -> impl Future<Output = Option<T>> + '_ {
        core::future::poll_fn(move |cx| self.poll_recv(cx))
    }

    /// Poll form of [`recv`](Self::recv).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        if let Some(value) = self.take_one() {
            return Poll::Ready(Some(value));
        }
        let mut buffer = self.chan.lock();
        if !buffer.values.is_empty() {
            // Take the whole batch; swapping keeps both allocations alive.
            core::mem::swap(&mut buffer.values, &mut self.taken);
            drop(buffer);
            return Poll::Ready(self.take_one());
        }
        if buffer.senders_gone || buffer.rx_closed {
            return Poll::Ready(None);
        }
        let stale = match &buffer.rx_waker {
            Some(waker) if waker.will_wake(cx.waker()) => None,
            _ => buffer.rx_waker.replace(cx.waker().clone()),
        };
        drop(buffer);
        drop(stale);
        Poll::Pending
    }

    /// Takes a value if one is buffered, without waiting.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        if let Some(value) = self.take_one() {
            return Ok(value);
        }
        let mut buffer = self.chan.lock();
        if !buffer.values.is_empty() {
            core::mem::swap(&mut buffer.values, &mut self.taken);
            drop(buffer);
            Ok(self.take_one().expect("the batch is not empty"))
        } else if buffer.senders_gone || buffer.rx_closed {
            Err(TryRecvError::Disconnected)
        } else {
            Err(TryRecvError::Empty)
        }
    }

    /// Hands out the oldest value of the taken batch, freeing its slot.
    fn take_one(&mut self) -> Option<T> {
        let value = self.taken.pop_front()?;
        self.chan.slots.add_permits(1);
        Some(value)
    }

    /// Closes the channel: waiting and future sends fail and return their
    /// values. Values already buffered can still be received.
    ///
    /// ```
    /// use minirt_core::sync::mpsc::{self, TrySendError};
    ///
    /// let (tx, mut rx) = mpsc::channel(4);
    /// tx.try_send(1).unwrap();
    /// rx.close();
    /// assert!(tx.is_closed());
    /// assert_eq!(tx.try_send(2), Err(TrySendError::Closed(2)));
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn close(&mut self) {
        self.chan.slots.close();
        self.chan.lock().rx_closed = true;
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.close();
        // Drop the buffered values outside the lock: their destructors are
        // arbitrary code.
        let values = core::mem::take(&mut self.chan.lock().values);
        drop(values);
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::Sender")
            .field("is_closed", &self.is_closed())
            .finish()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::Receiver").finish_non_exhaustive()
    }
}

const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Sender<alloc::vec::Vec<u8>>>();
    assert_send_sync::<Receiver<alloc::vec::Vec<u8>>>();
};
