//! A bounded multi-producer, single-consumer channel (and, in
//! `unbounded/`, the [`unbounded_channel`]).
//!
//! Why: a bounded queue between tasks gives backpressure — a fast producer
//! waits instead of filling memory. Senders that wait for room are served in
//! FIFO order, and a cancelled `send` loses nothing: the value lives in the
//! send future until it is written, so dropping the future drops (or, on
//! failure, returns) the value, and never leaves a half-sent message.
//!
//! Why this design: while the channel has room, a send and a receive should
//! not write a common word. An earlier version took a permit from a
//! semaphore on every send and gave it back on every receive, so the
//! permit word's cache line moved between the producers' and the
//! consumer's cores on every message (half the samples in `mpsc_mt`). Here
//! the capacity is read off the ring positions instead: the senders write
//! only the tail, the receiver only its head, and each side merely reads
//! the other's word — and the senders only when their cached copy of the
//! head says "full".
//!
//! How: the values live in a ring of `capacity.next_power_of_two()` slots,
//! allocated in chunks of 32 as the ring is first walked. Positions are
//! counters that wrap around; position `p` uses slot `p % ring_len` (a power
//! of two, so the mapping survives the wrap), and each slot has a sequence
//! word saying which position's value, if any, it holds. (The tail word's
//! two low bits are flags, so in the code positions advance by 4.)
//!
//! 1. **Head.** The receiver alone moves the head. After moving a value out
//!    of its slot it publishes the new head with a plain release store.
//! 2. **Claim (fast path, no lock).** A sender reads a head (a copy cached
//!    next to the tail, refreshed from the receiver's when it looks full),
//!    then the tail word `p | QUEUED | CLOSED`. If the channel is open, no
//!    sender is queued and `p - head < capacity`, one compare-and-swap moves
//!    the tail from `p` to the next position: `p` is the sender's. The flags
//!    live in the tail word so the claim is atomic with their check: a claim
//!    can never land after a close (the value would never be received), nor
//!    jump ahead of a queued sender. `try_send` fails if no claim is possible
//!    (it answers "full" only if the tail did not move around its fresh read
//!    of the head: then the channel was full at that moment).
//! 3. **Write.** The sender writes its value into the slot, then stores
//!    "position `p` is full" into the slot's sequence word (release). The
//!    receiver takes the head slot once its sequence word says so (acquire).
//! 4. **Queue (slow path).** A `send` that cannot claim takes the waiter
//!    lock, sets `QUEUED` in the tail (and a copy of it on the receiver's
//!    cache line), issues a `SeqCst` fence, queues itself at the back and
//!    serves the queue: while the front waiter can be given room (same test
//!    as step 2, against the receiver's head), the lock holder claims the
//!    next position *on its behalf*, marks it granted and wakes it after
//!    unlocking. While `QUEUED` is set only lock holders move the tail, so
//!    positions go to waiters in arrival order. The flags are cleared, under
//!    the lock, when the queue empties.
//! 5. **Free.** The receiver, after publishing its head (step 1), issues a
//!    `SeqCst` fence and reads the queued flag; if it is set, it serves the
//!    queue as in step 4.
//!
//! **A claimed slot is always free.** Room is checked against a head `h`
//! the claimer read (acquire) from the receiver's release store, made after
//! the receiver had moved out every value before `h`. The claimed `p` has
//! `p - h < capacity <= ring_len`, so the slot's previous occupant,
//! `p - ring_len`, lies before `h`: it was moved out, and that read happens
//! before this sender's write. A head read through the senders' cached copy
//! is at most older, so the check is only more cautious. A granted waiter
//! learns its position under the waiter lock, after the granter read the
//! head, so the same order holds.
//!
//! **No grant is lost.** A queuing sender stores its flag, fences, and
//! reads the head; the receiver stores the head, fences, and reads the flag.
//! That is a store-buffer (Dekker) handshake: either the receiver sees the
//! flag (and serves the queue, taking the lock after the sender queued), or
//! the sender sees the freed slot (and serves itself). Any other change of
//! room happens under the lock, which serves the queue itself.
//!
//! **Cancelling.** A queued `send` that is dropped leaves the queue. One
//! that was already granted a position but never wrote passes the position
//! to the next waiter; if there is none, it marks the slot "skipped" and the
//! receiver steps over it (which frees it like a received value). So the
//! receiver never waits for a value that will not come, and no capacity is
//! lost.
//!
//! Waking the receiver takes no lock on the send path. A small lock guards
//! only the receiver's waker, and a flag says whether the receiver sleeps:
//!
//! 1. The receiver, finding nothing at the head, stores its waker under the
//!    lock, sets `rx_waiting`, issues a `SeqCst` fence and looks again (head
//!    slot, senders gone, closed). Only if there is still nothing does it
//!    return `Pending`.
//! 2. A sender, after publishing (a value or a skip), issues a `SeqCst`
//!    fence and reads `rx_waiting`; if it is set and the sender wins the swap
//!    back to `false`, it takes the waker out under the lock and wakes it
//!    after unlocking. The last sender to drop sets `senders_gone` and does
//!    the same.
//!
//! The two fences make this the same Dekker handshake: the receiver's second
//! look sees the new value, or the sender sees `rx_waiting` — never neither.
//! No lock is held across an `.await`, nor while a waker is woken or
//! dropped.
//!
//! Closing the receiver sets the closed bit (so no claim can follow), then
//! fails every queued sender under the waiter lock; later sends fail at
//! their claim. Values whose positions were claimed before the close —
//! granted waiters included — are still delivered; `recv` returns `None`
//! once the head reaches the position where the channel closed. Dropping
//! the receiver closes the channel and drops the values that are ready; a
//! value still being written is dropped with the channel when the last
//! handle goes.
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
#[cfg(all(any(test, fuzzing), not(loom)))]
mod fuzz;
#[cfg(all(test, not(loom)))]
mod tests;
mod unbounded;

use alloc::boxed::Box;
use core::fmt;
use core::future::Future;
use core::marker::PhantomData;
use core::mem::MaybeUninit;
use core::pin::Pin;
use core::ptr;
use core::task::{Context, Poll, Waker};

pub use error::{SendError, TryRecvError, TrySendError};
#[cfg(all(any(test, fuzzing), not(loom)))]
pub use fuzz::fuzz_mpsc;
pub use unbounded::{unbounded_channel, UnboundedReceiver, UnboundedSender, WeakUnboundedSender};

use super::cache_line::CacheLine;
use super::lock::Lock;
use super::wait_list::WaitList;
use super::wake_list::{self, WakeList};
use crate::coop;
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

/// The "senders are queued" bit of the tail word: while it is set, only the
/// holder of the waiter lock claims positions (step 3 of the module docs).
const QUEUED: usize = 2;

/// Both flag bits of the tail word.
const FLAGS: usize = CLOSED | QUEUED;

/// Positions advance by this much, leaving bits 0 and 1 of the tail word
/// for [`CLOSED`] and [`QUEUED`]. (Positions are multiples of 4; slot
/// `(p / STEP) % ring_len`.)
const STEP: usize = 4;

/// The sequence word of a slot that never held a value. It is odd, so it
/// never equals `p + STEP` (or `p + STEP + SKIPPED`) for a position `p`.
const NEVER_WRITTEN: usize = 1;

/// Added to `p + STEP` in the sequence word when position `p` was claimed
/// for a send that was cancelled: the receiver steps over it.
const SKIPPED: usize = 2;

/// Creates a channel that buffers up to `capacity` values.
///
/// # Panics
///
/// If `capacity` is 0 or exceeds [`MAX_CAPACITY`] (the ring needs one slot
/// per value of capacity; box large messages rather than queue many).
pub fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    channel_at(capacity, 0)
}

/// [`channel`] whose positions start at `start` (a multiple of [`STEP`]);
/// tests start near `usize::MAX` to exercise the wrap-around.
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
        tx: CacheLine(TxSide {
            tail: AtomicUsize::new(start),
            head_seen: AtomicUsize::new(start),
        }),
        rx: CacheLine(RxSide {
            head: AtomicUsize::new(start),
            senders_queued: AtomicBool::new(false),
        }),
        waiters: CacheLine(Lock::new(WaitList::new())),
        span: capacity * STEP,
        senders: AtomicUsize::new(1),
        senders_gone: AtomicBool::new(false),
        rx_waiting: AtomicBool::new(false),
        rx_waker: Lock::new(None),
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
    /// The position of the next value to receive (published in
    /// `chan.rx.head`).
    head: usize,
    /// Where the tail stood when [`close`](Self::close) ran: positions
    /// before it will still be filled (or skipped), none after it.
    closed_at: Option<usize>,
}

/// The words every sender writes: one cache line, owned by the senders.
struct TxSide {
    /// The next position to claim, `p | QUEUED | CLOSED`.
    tail: AtomicUsize,
    /// A head the receiver published, possibly stale (a lower bound): the
    /// fast path checks for room against it and reads the receiver's line
    /// only when it says "full".
    head_seen: AtomicUsize,
}

/// The words the receiver writes: one cache line, owned by the receiver.
struct RxSide {
    /// The receiver's head, stored (release) after each value is moved out.
    head: AtomicUsize,
    /// A copy of the tail's [`QUEUED`] bit that the receiver reads after
    /// every receive; it lives here so that reading it does not pull the
    /// senders' line over.
    senders_queued: AtomicBool,
}

/// A sender waiting for room.
struct Waiter {
    /// What happened to it.
    state: WaitState,
    /// Whom to wake when `state` changes; taken when it does.
    waker: Option<Waker>,
}

/// Where a waiting sender stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum WaitState {
    /// Queued, no position yet.
    Waiting,
    /// Detached: position `p` was claimed on its behalf.
    Granted(usize),
    /// Detached by `close`: its send fails.
    Closed,
}

/// State shared by all handles.
struct Chan<T> {
    /// Tail and the senders' view of the head.
    tx: CacheLine<TxSide>,
    /// The published head and the "senders queued" flag.
    rx: CacheLine<RxSide>,
    /// Senders waiting for room, in arrival order (queued nodes are all
    /// `Waiting`; granted and closed ones are detached until their future
    /// removes them).
    waiters: CacheLine<Lock<WaitList<Waiter>>>,
    /// `capacity * STEP`: a claim needs `tail - head < span`.
    span: usize,
    /// Live `Sender` handles.
    senders: AtomicUsize,
    /// The last sender was dropped.
    senders_gone: AtomicBool,
    /// The receiver stored its waker and may be about to sleep; whoever
    /// swaps it back to `false` wakes it. See the module docs.
    rx_waiting: AtomicBool,
    /// The receiver waiting for a value.
    rx_waker: Lock<Option<Waker>>,
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
// receiver through its sequence word and back through the published head
// (see the module docs); the rest of `Chan` is atomics and locks.
unsafe impl<T: Send> Send for Chan<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Chan<T> {}

/// One place in the ring.
struct Slot<T> {
    /// `p + STEP` once the value of position `p` was written (and until the
    /// slot is reused), `p + STEP + SKIPPED` if `p` will never be written;
    /// [`NEVER_WRITTEN`] before the first value.
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

/// What a lock-free claim found.
enum Claim {
    /// Position `p` is now the caller's to write.
    Claimed(usize),
    /// The receiver has closed.
    Closed,
    /// Full, or senders are queued: wait (or fail a `try_send`).
    MustWait,
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

    /// Step 2 of the module docs: claims the next position if the channel
    /// is open, nobody is queued and the ring has room. Lock-free.
    fn try_claim(&self) -> Claim {
        // The head is always read before the tail it is compared with: the
        // head was published after its position was claimed, so that tail
        // is not older and `pos - head` does not wrap.
        let mut head = self.tx.head_seen.load(Acquire);
        let mut tail = self.tx.tail.load(Relaxed);
        loop {
            if tail & CLOSED != 0 {
                return Claim::Closed;
            }
            if tail & QUEUED != 0 {
                return Claim::MustWait;
            }
            let pos = tail & !FLAGS;
            if pos.wrapping_sub(head) >= self.span {
                // Full by a possibly stale head: read the receiver's own.
                let fresh = self.rx.head.load(Acquire);
                self.tx.head_seen.store(fresh, Release);
                let now = self.tx.tail.load(Relaxed);
                if now == tail && pos.wrapping_sub(fresh) >= self.span {
                    // The tail did not move around the head read: the
                    // channel was full at that moment.
                    return Claim::MustWait;
                }
                (head, tail) = (fresh, now);
                continue;
            }
            match self.tx.tail.compare_exchange_weak(
                tail,
                tail.wrapping_add(STEP),
                Relaxed,
                Relaxed,
            ) {
                Ok(_) => return Claim::Claimed(pos),
                Err(actual) => tail = actual,
            }
        }
    }

    /// Step 3 of the module docs: writes `value` at the claimed position
    /// `pos` and wakes the receiver.
    fn write(&self, pos: usize, value: T) {
        let slot = self.slot_or_alloc(pos);
        // SAFETY: position `pos` is ours alone (claimed by `try_claim` or
        // granted under the waiter lock), and the slot's previous occupant
        // was received before the head we checked room against was
        // published, so no one else touches the value; the receiver reads it
        // only after the `seq` store below.
        slot.value
            .with_mut(|p| unsafe { p.write(MaybeUninit::new(value)) });
        slot.seq.store(pos.wrapping_add(STEP), Release);
        self.wake_rx();
    }

    /// Marks the claimed position `pos` as never to be written (its send was
    /// cancelled and nobody waited to take it over) and wakes the receiver.
    fn skip(&self, pos: usize) {
        let slot = self.slot_or_alloc(pos);
        slot.seq.store(pos.wrapping_add(STEP + SKIPPED), Release);
        self.wake_rx();
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

    /// Step 4 of the module docs: claims positions for the waiters at the
    /// head of the queue while there is room, moving their wakers to
    /// `wakes`, and clears the queued flags once the queue is empty. Stops
    /// early (returning `true`) when `wakes` is full, so the caller can wake
    /// that batch and call again. Needs the waiter lock (`waiters`).
    #[must_use]
    fn grant_waiters(&self, waiters: &mut WaitList<Waiter>, wakes: &mut WakeList) -> bool {
        while let Some(key) = waiters.front() {
            if !wakes.can_push() {
                return true;
            }
            // While `QUEUED` is set only the lock holder moves the tail; the
            // receiver may set `CLOSED` meanwhile, which fails the CAS.
            let mut tail = self.tx.tail.load(Relaxed);
            loop {
                if tail & CLOSED != 0 {
                    // `close` is detaching every waiter.
                    return false;
                }
                let pos = tail & !FLAGS;
                if pos.wrapping_sub(self.rx.head.load(Acquire)) >= self.span {
                    return false;
                }
                match self
                    .tx
                    .tail
                    .compare_exchange(tail, tail.wrapping_add(STEP), Relaxed, Relaxed)
                {
                    Ok(_) => break,
                    Err(actual) => tail = actual,
                }
            }
            let waiter = waiters.detach(key);
            waiter.state = WaitState::Granted(tail & !FLAGS);
            if let Some(waker) = waiter.waker.take() {
                wakes.push(waker);
            }
        }
        self.clear_queued();
        false
    }

    /// Clears both "senders queued" flags. Needs the waiter lock, with no
    /// sender queued.
    fn clear_queued(&self) {
        if self.rx.senders_queued.load(Relaxed) {
            self.tx.tail.fetch_and(!QUEUED, Relaxed);
            self.rx.senders_queued.store(false, Relaxed);
        }
    }

    /// Grants room to waiting senders (after the receiver freed a slot),
    /// waking each after unlocking.
    fn grant_and_wake(&self) {
        wake_list::in_batches(
            self.waiters.lock(),
            || self.waiters.lock(),
            |waiters, wakes| self.grant_waiters(waiters, wakes),
        );
    }
}

impl<T> Drop for Chan<T> {
    fn drop(&mut self) {
        // Every handle is gone, so every claimed position before the close
        // was written or skipped, and none after it: the values left are the
        // ready slots from the receiver's head on.
        let mut pos = self.rx.head.load(Relaxed);
        for _ in 0..=self.mask {
            let Some(slot) = self.slot(pos) else { break };
            let seq = slot.seq.load(Acquire);
            if seq == pos.wrapping_add(STEP + SKIPPED) {
                pos = pos.wrapping_add(STEP);
                continue;
            }
            if seq != pos.wrapping_add(STEP) {
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
    ///
    /// Spends one unit of the task's [cooperative budget](crate::coop);
    /// with the budget spent it yields first, even if there is room.
    pub async fn send(&self, value: T) -> Result<(), SendError<T>> {
        let restore = core::future::poll_fn(coop::poll_proceed).await;
        let claim = self.chan.try_claim();
        if !matches!(claim, Claim::MustWait) {
            restore.made_progress();
        }
        // Waiting for room is not progress: the unit goes back here, and
        // `WaitForRoom` spends one when it is served.
        drop(restore);
        let pos = match claim {
            Claim::Claimed(pos) => pos,
            Claim::Closed => return Err(SendError(value)),
            Claim::MustWait => match (WaitForRoom {
                chan: &self.chan,
                key: None,
            })
            .await
            {
                Some(pos) => pos,
                None => return Err(SendError(value)),
            },
        };
        self.chan.write(pos, value);
        Ok(())
    }

    /// Sends `value` if a slot is free and no other sender is waiting.
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        match self.chan.try_claim() {
            Claim::Claimed(pos) => {
                self.chan.write(pos, value);
                Ok(())
            }
            Claim::Closed => Err(TrySendError::Closed(value)),
            Claim::MustWait => Err(TrySendError::Full(value)),
        }
    }

    /// Whether the receiver has been dropped or closed (sends would fail).
    pub fn is_closed(&self) -> bool {
        self.chan.tx.tail.load(Acquire) & CLOSED != 0
    }

    /// Free slots right now (0 while senders wait for room).
    pub fn capacity(&self) -> usize {
        let head = self.chan.rx.head.load(Acquire);
        let tail = self.chan.tx.tail.load(Acquire);
        if tail & QUEUED != 0 {
            return 0;
        }
        let used = (tail & !FLAGS).wrapping_sub(head);
        (self.chan.span.saturating_sub(used)) / STEP
    }
}

/// The slow path of `send`: waits in the queue until a position is claimed
/// on its behalf (`Some(p)`) or the channel closes (`None`). Dropping it
/// gives up its place, handing a position already granted to the next
/// waiter, or marking it skipped.
struct WaitForRoom<'a, T> {
    /// The channel.
    chan: &'a Chan<T>,
    /// Our node in `chan.waiters`, once queued; `None` before and after.
    key: Option<usize>,
}

impl<T> WaitForRoom<'_, T> {
    /// First poll: join the queue, and serve it if there is room.
    fn enqueue(&mut self, cx: &mut Context<'_>) -> Poll<Option<usize>> {
        let chan = self.chan;
        let mut waiters = chan.waiters.lock();
        // Step 4 (module docs): announce, fence, then look for room. From
        // here on no claim can jump ahead, and a receiver that freed a slot
        // before the fence is seen by `grant_waiters` below; one after it
        // sees `senders_queued` and grants.
        chan.rx.senders_queued.store(true, Relaxed);
        let word = chan.tx.tail.fetch_or(QUEUED, Relaxed);
        fence(SeqCst);
        if word & CLOSED != 0 {
            if waiters.is_empty() {
                chan.clear_queued();
            }
            return Poll::Ready(None);
        }
        let key = waiters.push_back(Waiter {
            state: WaitState::Waiting,
            waker: None,
        });
        let mut wakes = WakeList::new();
        let more = chan.grant_waiters(&mut waiters, &mut wakes);
        let result = match waiters.get(key).state {
            WaitState::Granted(pos) => {
                waiters.remove(key);
                Poll::Ready(Some(pos))
            }
            _ => {
                waiters.get_mut(key).waker = Some(cx.waker().clone());
                self.key = Some(key);
                Poll::Pending
            }
        };
        drop(waiters);
        wakes.wake_all();
        if more {
            chan.grant_and_wake();
        }
        result
    }
}

impl<T> Future for WaitForRoom<'_, T> {
    type Output = Option<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<usize>> {
        let this = self.get_mut();
        crate::sync::poll_waiting_in(cx, crate::task::WaitKind::MpscSend, |cx| {
            this.poll_served(cx)
        })
    }
}

impl<T> WaitForRoom<'_, T> {
    /// `poll` without the budget: queue up, or look whether we were served.
    fn poll_served(&mut self, cx: &mut Context<'_>) -> Poll<Option<usize>> {
        let Some(key) = self.key else {
            return self.enqueue(cx);
        };
        let mut waiters = self.chan.waiters.lock();
        let waiter = waiters.get_mut(key);
        let result = match waiter.state {
            WaitState::Granted(pos) => Some(pos),
            WaitState::Closed => None,
            WaitState::Waiting => {
                let stale = match &waiter.waker {
                    Some(waker) if waker.will_wake(cx.waker()) => None,
                    _ => waiter.waker.replace(cx.waker().clone()),
                };
                drop(waiters);
                drop(stale); // outside the lock: dropping a waker runs code
                return Poll::Pending;
            }
        };
        let node = waiters.remove(key);
        drop(waiters);
        drop(node);
        self.key = None;
        Poll::Ready(result)
    }
}

impl<T> Drop for WaitForRoom<'_, T> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else { return };
        let chan = self.chan;
        let mut waiters = chan.waiters.lock();
        let node = waiters.remove(key);
        let mut wake = None;
        let mut skip = None;
        match node.state {
            WaitState::Waiting => {
                if waiters.is_empty() {
                    chan.clear_queued();
                }
            }
            WaitState::Closed => {}
            WaitState::Granted(pos) => {
                // Cancelled after a position was claimed for us: hand it to
                // the next waiter, or have the receiver step over it.
                if let Some(next) = waiters.detach_front() {
                    let next = waiters.get_mut(next);
                    next.state = WaitState::Granted(pos);
                    wake = next.waker.take();
                    if waiters.is_empty() {
                        chan.clear_queued();
                    }
                } else {
                    skip = Some(pos);
                }
            }
        }
        drop(waiters);
        drop(node);
        if let Some(pos) = skip {
            chan.skip(pos);
        }
        if let Some(waker) = wake {
            waker.wake();
        }
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
    ///
    /// Spends one unit of the task's [cooperative budget](crate::coop) when
    /// it returns `Ready`; with the budget spent it returns `Pending` (the
    /// task already woken) even if a value is buffered.
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

    /// Moves the value at the head out if it is ready (stepping over
    /// skipped positions), and frees its slot.
    fn pop(&mut self) -> Option<T> {
        loop {
            let slot = self.chan.slot(self.head)?;
            let seq = slot.seq.load(Acquire);
            if seq == self.head.wrapping_add(STEP + SKIPPED) {
                self.advance();
                continue;
            }
            if seq != self.head.wrapping_add(STEP) {
                return None;
            }
            // SAFETY: `seq` (acquire) says the value of `head` was written,
            // and only the receiver takes values out; its sender is done
            // with it, and no sender writes the slot again before the head
            // published by `advance` below passes it.
            let value = slot.value.with_mut(|p| unsafe { p.read().assume_init() });
            self.advance();
            return Some(value);
        }
    }

    /// Step 5 of the module docs: publishes the head past the slot just
    /// emptied, then hands the room to a queued sender if there is one.
    fn advance(&mut self) {
        self.head = self.head.wrapping_add(STEP);
        self.chan.rx.head.store(self.head, Release);
        fence(SeqCst);
        if self.chan.rx.senders_queued.load(Relaxed) {
            self.chan.grant_and_wake();
        }
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
            let tail = self.chan.tx.tail.fetch_or(CLOSED, Relaxed);
            self.closed_at = Some(tail & !FLAGS);
        }
        // Fail every queued sender, a batch of wakers at a time.
        let chan = &*self.chan;
        wake_list::in_batches(
            chan.waiters.lock(),
            || chan.waiters.lock(),
            |waiters, wakes| {
                while let Some(key) = waiters.front() {
                    if !wakes.can_push() {
                        return true;
                    }
                    let waiter = waiters.detach(key);
                    waiter.state = WaitState::Closed;
                    if let Some(waker) = waiter.waker.take() {
                        wakes.push(waker);
                    }
                }
                chan.clear_queued();
                false
            },
        );
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.close();
        // Drop the values that are ready; one still being written is dropped
        // by `Chan::drop`, which starts at the published head. `advance`
        // publishes the head before each value is dropped, so a panicking
        // destructor cannot cause a second drop of the same value there.
        while let Some(value) = self.pop() {
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
