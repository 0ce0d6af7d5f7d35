//! A bounded multi-producer, single-consumer channel.
//!
//! Why: a bounded queue between tasks gives backpressure — a fast producer
//! waits instead of filling memory. Senders that wait for room are served in
//! FIFO order, and a cancelled `send` loses nothing: the value lives in the
//! send future until a slot is secured, so dropping the future drops (or, on
//! failure, returns) the value, and never leaves a half-sent message.
//!
//! How: the values live in a ring of `capacity.next_power_of_two()` slots,
//! allocated in chunks of 32 as the ring is first walked. Positions are
//! counters that wrap around; position `p` uses slot `p % ring_len` (a power
//! of two, so the mapping survives the wrap), and each slot has a sequence
//! word saying which position's value, if any, it holds.
//!
//! 1. **Permit.** `send` acquires one permit of a fair [`Semaphore`] that
//!    starts with `capacity` permits (FIFO and cancel-safe, as the semaphore
//!    guarantees); `try_send` tries to take one without waiting.
//! 2. **Claim.** One `fetch_add` on the shared tail gives the sender its
//!    position. The tail word also carries the receiver's "closed" bit, so a
//!    claim either sees the channel closed (the send fails and gives the
//!    value back) or lands before the close: a value can never slip in after
//!    the receiver has decided that nothing more will come. (That bit is bit
//!    0, so in the code positions advance by 2.)
//! 3. **Publish.** The sender writes the value into its slot, then stores
//!    "position `p` is full" into the slot's sequence word (release).
//! 4. **Receive.** The receiver alone owns the head position. The head slot
//!    is ready when its sequence word says so (acquire); the receiver moves
//!    the value out, advances the head, and only then returns the value's
//!    permit to the semaphore.
//!
//! A sender never waits for its slot to be emptied: at most `capacity`
//! permits are out, a permit returns only after its value was received, and
//! values are received in position order. So when a sender holding a permit
//! claims position `p`, at most `capacity` positions up to `p` are not yet
//! received, and the slot's previous occupant `p - ring_len` was received —
//! and its permit returned, which (through the semaphore) orders the
//! receiver's read before this sender's write.
//!
//! Waking the receiver takes no lock on the send path. A small lock guards
//! only the receiver's waker, and a flag says whether the receiver sleeps:
//!
//! 1. The receiver, finding nothing at the head, stores its waker under the
//!    lock, sets `rx_waiting`, issues a `SeqCst` fence and looks again (head
//!    slot, senders gone, closed). Only if there is still nothing does it
//!    return `Pending`.
//! 2. A sender, after publishing, issues a `SeqCst` fence and reads
//!    `rx_waiting`; if it is set and the sender wins the swap back to
//!    `false`, it takes the waker out under the lock and wakes it after
//!    unlocking. The last sender to drop sets `senders_gone` and does the
//!    same.
//!
//! The two fences make this a store-buffer (Dekker) handshake: the
//! receiver's second look sees the new value, or the sender sees
//! `rx_waiting` — never neither, so no wake-up is lost. The lock is never
//! held across an `.await`, nor while a waker is woken or dropped.
//!
//! Closing the receiver sets the closed bit and closes the semaphore, which
//! fails every waiting and future `send`. Values whose positions were claimed
//! before the close are still delivered; `recv` returns `None` once the head
//! reaches the position where the channel closed. Dropping the receiver
//! closes the channel and drops the values that are ready; a value still
//! being written is dropped with the channel when the last handle goes.
//!
//! A channel holds at most [`MAX_CAPACITY`] values: the ring needs a slot
//! per value of capacity, allocated as the ring is first walked, so a huge
//! capacity would mean a huge ring. Box large messages.
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

use alloc::boxed::Box;
use core::fmt;
use core::future::Future;
use core::marker::PhantomData;
use core::mem::MaybeUninit;
use core::ptr;
use core::task::{Context, Poll, Waker};

pub use error::{SendError, TryRecvError, TrySendError};

use super::cache_line::CacheLine;
use super::lock::Lock;
use super::{Semaphore, TryAcquireError};
use crate::loom::atomic::{fence, AtomicBool, AtomicPtr, AtomicUsize, Ordering::*};
use crate::loom::sync::Arc;
use crate::loom::UnsafeCell;

/// The largest capacity [`channel`] accepts.
///
/// The ring needs one slot per value of capacity (rounded up to a power of
/// two), allocated as the ring is first walked, so a huge capacity means a
/// huge ring. To queue large messages, box them.
pub const MAX_CAPACITY: usize = 1 << 20;

/// Slots are allocated this many at a time (fewer for a smaller ring).
const CHUNK_LEN: usize = 32;

/// The "closed" bit of the tail word: set by [`Receiver::close`].
const CLOSED: usize = 1;

/// Positions advance by this much, leaving bit 0 of the tail word for
/// [`CLOSED`]. (Positions are even numbers; slot `(p / STEP) % ring_len`.)
const STEP: usize = 2;

/// The sequence word of a slot that never held a value. It is odd, so it
/// never equals `p + STEP` for a position `p`: such a slot is never ready.
const NEVER_WRITTEN: usize = 1;

/// Creates a channel that buffers up to `capacity` values.
///
/// # Panics
///
/// If `capacity` is 0 or exceeds [`MAX_CAPACITY`] (the ring needs one slot
/// per value of capacity; box large messages rather than queue many).
pub fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    channel_at(capacity, 0)
}

/// [`channel`] whose positions start at `start` (even); tests start near
/// `usize::MAX` to exercise the wrap-around.
fn channel_at<T>(capacity: usize, start: usize) -> (Sender<T>, Receiver<T>) {
    assert!(
        capacity > 0,
        "mpsc::channel: capacity must be at least 1 (a zero-capacity rendezvous channel is not \
         supported; use capacity 1, or a oneshot channel for a single hand-off)"
    );
    assert!(
        capacity <= MAX_CAPACITY,
        "mpsc::channel: capacity {capacity} exceeds mpsc::MAX_CAPACITY ({MAX_CAPACITY}): the \
         ring needs one slot per value of capacity; box large messages instead"
    );
    debug_assert_eq!(start % STEP, 0, "positions are multiples of STEP");
    let ring_len = capacity.next_power_of_two();
    let chunk_len = ring_len.min(CHUNK_LEN);
    let chunks = (0..ring_len / chunk_len)
        .map(|_| AtomicPtr::new(ptr::null_mut()))
        .collect();
    let chan = Arc::new(Chan {
        tail: CacheLine(AtomicUsize::new(start)),
        slots: Semaphore::new(capacity),
        senders: AtomicUsize::new(1),
        senders_gone: AtomicBool::new(false),
        rx_waiting: AtomicBool::new(false),
        rx_waker: Lock::new(None),
        rx_head: AtomicUsize::new(start),
        chunks,
        mask: ring_len - 1,
        chunk_shift: chunk_len.trailing_zeros(),
        _values: PhantomData,
    });
    (
        Sender {
            chan: Arc::clone(&chan),
        },
        Receiver {
            chan,
            head: start,
            closed_at: None,
        },
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
    /// The position of the next value to receive.
    head: usize,
    /// Where the tail stood when [`close`](Self::close) ran: positions
    /// before it will still be filled, none after it.
    closed_at: Option<usize>,
}

/// State shared by all handles.
struct Chan<T> {
    /// The next position to claim (`p | CLOSED`), on its own cache line: every
    /// send writes it.
    tail: CacheLine<AtomicUsize>,
    /// One permit per free slot; closed when the receiver closes.
    slots: Semaphore,
    /// Live `Sender` handles.
    senders: AtomicUsize,
    /// The last sender was dropped.
    senders_gone: AtomicBool,
    /// The receiver stored its waker and may be about to sleep; whoever
    /// swaps it back to `false` wakes it. See the module docs.
    rx_waiting: AtomicBool,
    /// The receiver waiting for a value.
    rx_waker: Lock<Option<Waker>>,
    /// The receiver's head, stored when it drops, for `Chan::drop`.
    rx_head: AtomicUsize,
    /// The ring, in chunks of `1 << chunk_shift` slots; null until first
    /// used, freed in `Chan::drop`.
    chunks: Box<[AtomicPtr<Slot<T>>]>,
    /// `ring_len - 1`.
    mask: usize,
    /// log2 of the number of slots per chunk.
    chunk_shift: u32,
    /// The channel owns values of type `T`.
    _values: PhantomData<T>,
}

// SAFETY: values of `T` are moved into the ring by senders and out of it by
// the one receiver, possibly on other threads, but never shared by reference:
// `T: Send` is all that needs. Each slot is handed from a sender to the
// receiver and back through the sequence word and the semaphore (see the
// module docs); the rest of `Chan` is atomics, a lock and a semaphore.
unsafe impl<T: Send> Send for Chan<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Chan<T> {}

/// One place in the ring.
struct Slot<T> {
    /// `p + STEP` once the value of position `p` was written (and until the
    /// slot is reused); [`NEVER_WRITTEN`] before the first value.
    seq: AtomicUsize,
    /// The value, initialized while `seq` says the slot is full and the
    /// receiver has not moved it out.
    value: UnsafeCell<MaybeUninit<T>>,
}

/// Allocates a chunk of `len` empty slots.
fn alloc_chunk<T>(len: usize) -> *mut Slot<T> {
    let chunk: Box<[Slot<T>]> = (0..len)
        .map(|_| Slot {
            seq: AtomicUsize::new(NEVER_WRITTEN),
            value: UnsafeCell::new(MaybeUninit::uninit()),
        })
        .collect();
    Box::into_raw(chunk).cast::<Slot<T>>()
}

/// Frees a chunk from [`alloc_chunk`] without dropping any value in it.
///
/// # Safety
///
/// `chunk` came from `alloc_chunk::<T>(len)`, was not freed yet, and is not
/// used afterwards.
unsafe fn free_chunk<T>(chunk: *mut Slot<T>, len: usize) {
    // SAFETY: the caller passes back exactly what `alloc_chunk` leaked;
    // dropping the box drops only the slots (`MaybeUninit` drops no value).
    drop(unsafe { Box::from_raw(ptr::slice_from_raw_parts_mut(chunk, len)) });
}

impl<T> Chan<T> {
    /// Slots per chunk.
    fn chunk_len(&self) -> usize {
        1 << self.chunk_shift
    }

    /// The chunk holding position `pos`, and the slot's offset in it.
    fn locate(&self, pos: usize) -> (&AtomicPtr<Slot<T>>, usize) {
        let index = (pos / STEP) & self.mask;
        (
            &self.chunks[index >> self.chunk_shift],
            index & (self.chunk_len() - 1),
        )
    }

    /// The slot of `pos` within `chunk`.
    ///
    /// # Safety
    ///
    /// `chunk` is a non-null pointer loaded from `self.chunks` and `offset`
    /// comes from [`locate`](Self::locate).
    unsafe fn slot_at(&self, chunk: *mut Slot<T>, offset: usize) -> &Slot<T> {
        // SAFETY: installed chunks are live allocations of `chunk_len()`
        // slots, freed only in `Chan::drop` (which has `&mut self`), and
        // `offset < chunk_len()`.
        unsafe { &*chunk.add(offset) }
    }

    /// The slot of `pos`, or `None` if its chunk was never allocated (then
    /// the slot holds nothing).
    fn slot(&self, pos: usize) -> Option<&Slot<T>> {
        let (chunk, offset) = self.locate(pos);
        let chunk = chunk.load(Acquire);
        if chunk.is_null() {
            return None;
        }
        // SAFETY: non-null, loaded from `self.chunks`; offset from `locate`.
        Some(unsafe { self.slot_at(chunk, offset) })
    }

    /// The slot of `pos`, allocating its chunk on first use.
    fn slot_or_alloc(&self, pos: usize) -> &Slot<T> {
        let (entry, offset) = self.locate(pos);
        let mut chunk = entry.load(Acquire);
        if chunk.is_null() {
            let fresh = alloc_chunk(self.chunk_len());
            chunk = match entry.compare_exchange(ptr::null_mut(), fresh, AcqRel, Acquire) {
                Ok(_) => fresh,
                Err(installed) => {
                    // SAFETY: `fresh` was never shared; another sender won.
                    unsafe { free_chunk(fresh, self.chunk_len()) };
                    installed
                }
            };
        }
        // SAFETY: non-null, loaded from (or installed into) `self.chunks`;
        // offset from `locate`.
        unsafe { self.slot_at(chunk, offset) }
    }

    /// Puts a value whose slot permit was already taken at the next position
    /// and wakes the receiver. Fails, returning the value, if the receiver
    /// has closed.
    fn push(&self, value: T) -> Result<(), T> {
        let pos = self.tail.fetch_add(STEP, Relaxed);
        if pos & CLOSED != 0 {
            return Err(value);
        }
        let slot = self.slot_or_alloc(pos);
        // SAFETY: position `pos` is ours alone (claimed by the `fetch_add`),
        // and the slot's previous occupant was received before our permit
        // was granted (see the module docs), so no one else touches the
        // value; the receiver reads it only after the `seq` store below.
        slot.value
            .with_mut(|p| unsafe { p.write(MaybeUninit::new(value)) });
        slot.seq.store(pos.wrapping_add(STEP), Release);
        self.wake_rx();
        Ok(())
    }

    /// Wakes the receiver if it sleeps (step 2 of the wake protocol in the
    /// module docs). Call after publishing what the receiver waits for.
    fn wake_rx(&self) {
        fence(SeqCst);
        if self.rx_waiting.load(Relaxed) && self.rx_waiting.swap(false, AcqRel) {
            let waker = self.rx_waker.lock().take();
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }
}

impl<T> Drop for Chan<T> {
    fn drop(&mut self) {
        // Every handle is gone, so every claimed position before the close
        // was written, and none after it: the values left are the ready
        // slots from the receiver's head on.
        let mut pos = self.rx_head.load(Relaxed);
        for _ in 0..=self.mask {
            let Some(slot) = self.slot(pos) else { break };
            if slot.seq.load(Acquire) != pos.wrapping_add(STEP) {
                break;
            }
            // SAFETY: the slot holds the value of `pos`, which was never
            // received (the receiver stopped before `pos`); nobody else is
            // left to touch it.
            let value = slot.value.with_mut(|p| unsafe { p.read().assume_init() });
            pos = pos.wrapping_add(STEP);
            drop(value);
        }
        let len = self.chunk_len();
        for chunk in self.chunks.iter() {
            let chunk = chunk.load(Acquire);
            if !chunk.is_null() {
                // SAFETY: installed by `slot_or_alloc`, freed only here, and
                // its values were moved out above or by the receiver.
                unsafe { free_chunk(chunk, len) };
            }
        }
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
        self.chan.senders.fetch_add(1, Relaxed);
        Self {
            chan: Arc::clone(&self.chan),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if self.chan.senders.fetch_sub(1, AcqRel) != 1 {
            return;
        }
        // Release: the receiver that sees the flag (acquire) sees every
        // value any sender published.
        self.chan.senders_gone.store(true, Release);
        self.chan.wake_rx();
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
        match self.try_recv() {
            Ok(value) => return Poll::Ready(Some(value)),
            Err(TryRecvError::Disconnected) => return Poll::Ready(None),
            Err(TryRecvError::Empty) => {}
        }
        // Step 1 of the wake protocol (module docs): announce, then look again.
        self.register(cx.waker());
        // Release: a sender that swaps the flag back finds the waker. A swap
        // rather than a store, so the flag is set after (in its modification
        // order) any sender's swap that already cleared it: loom keeps only a
        // partial modification order, in which a plain store here could be
        // read as older than such a swap — a lost wake-up that real hardware
        // cannot produce. This path is about to sleep anyway; it costs nothing
        // next to the fence.
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

    /// Takes a value if one is buffered, without waiting.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        if let Some(value) = self.pop() {
            return Ok(value);
        }
        if self.closed_at == Some(self.head) {
            // Closed, and every value claimed before the close was received.
            return Err(TryRecvError::Disconnected);
        }
        if self.chan.senders_gone.load(Acquire) {
            // Every value was published before the flag: look once more.
            return self.pop().ok_or(TryRecvError::Disconnected);
        }
        Err(TryRecvError::Empty)
    }

    /// Moves the value at the head out if it is ready, and frees its slot.
    fn pop(&mut self) -> Option<T> {
        let slot = self.chan.slot(self.head)?;
        if slot.seq.load(Acquire) != self.head.wrapping_add(STEP) {
            return None;
        }
        // SAFETY: `seq` (acquire) says the value of `head` was written, and
        // only the receiver takes values out; its sender is done with it,
        // and no other sender touches the slot before the permit returned
        // below is granted.
        let value = slot.value.with_mut(|p| unsafe { p.read().assume_init() });
        self.head = self.head.wrapping_add(STEP);
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
        if self.closed_at.is_none() {
            let tail = self.chan.tail.fetch_or(CLOSED, Relaxed);
            self.closed_at = Some(tail & !CLOSED);
        }
        self.chan.slots.close();
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.close();
        // Drop the values that are ready; one still being written is dropped
        // by `Chan::drop`, which starts at `rx_head`. The head is stored
        // before each drop, so a panicking destructor cannot cause a second
        // drop of the same value there.
        self.chan.rx_head.store(self.head, Relaxed);
        while let Some(value) = self.pop() {
            self.chan.rx_head.store(self.head, Relaxed);
            drop(value);
        }
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
