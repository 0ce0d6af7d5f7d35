//! `Block`: a fixed run of value slots, one link of the unbounded channel's
//! list (see `list.rs` for how blocks are found, added and reused).
//!
//! Positions are counted in steps of [`STEP`] (bit 0 of the tail word is the
//! "closed" flag); a block holds the [`BLOCK_LEN`] positions from its
//! `start`, a multiple of [`BLOCK_SPAN`]. One word per block holds a
//! "ready" bit per slot (set by the sender after writing, read by the
//! receiver before taking) and the [`RELEASED`] bit (set once no sender will
//! look at the block again after the receiver has passed `observed_tail`).

use alloc::boxed::Box;
use core::mem::MaybeUninit;
use core::ptr;

use crate::loom::atomic::{AtomicPtr, AtomicUsize, Ordering::*};
use crate::loom::UnsafeCell;

/// Slots per block: the ready bits and [`RELEASED`] share one word, so 32
/// on 64-bit targets and 16 on 32-bit ones; 2 under loom, so that models
/// cross block boundaries with a few values.
#[cfg(not(loom))]
pub(super) const BLOCK_LEN: usize = if usize::BITS >= 64 { 32 } else { 16 };
#[cfg(loom)]
pub(super) const BLOCK_LEN: usize = 2;

/// Positions advance by this much (bit 0 of the tail word is the closed flag).
pub(super) const STEP: usize = 2;

/// The positions one block covers.
pub(super) const BLOCK_SPAN: usize = BLOCK_LEN * STEP;

/// All ready bits.
const READY_MASK: usize = (1 << BLOCK_LEN) - 1;

/// The block's `observed_tail` is set: once the receiver is there, no
/// sender can still be walking through the block.
const RELEASED: usize = 1 << BLOCK_LEN;

/// The start of the block holding `pos`.
pub(super) fn block_start(pos: usize) -> usize {
    pos & !(BLOCK_SPAN - 1)
}

/// The slot of `pos` within its block.
fn offset(pos: usize) -> usize {
    (pos / STEP) & (BLOCK_LEN - 1)
}

/// `BLOCK_LEN` slots and the words that say which hold a value.
pub(super) struct Block<T> {
    /// The first position of the block; set before the block is linked in
    /// (and so published by the release of that link).
    start: AtomicUsize,
    /// The next block, null until a sender (or the receiver, reusing a
    /// block) links one.
    next: AtomicPtr<Block<T>>,
    /// A ready bit per slot, plus [`RELEASED`].
    ready: AtomicUsize,
    /// The tail a sender read after moving the senders' block pointer past
    /// this block; meaningful once [`RELEASED`] is set.
    observed_tail: AtomicUsize,
    /// The values; slot `i` is initialized while its ready bit is set and the
    /// receiver has not taken it.
    slots: [UnsafeCell<MaybeUninit<T>>; BLOCK_LEN],
}

impl<T> Block<T> {
    /// A new empty block starting at `start`, on the heap.
    pub(super) fn alloc(start: usize) -> *mut Block<T> {
        Box::into_raw(Box::new(Block {
            start: AtomicUsize::new(start),
            next: AtomicPtr::new(ptr::null_mut()),
            ready: AtomicUsize::new(0),
            observed_tail: AtomicUsize::new(0),
            slots: core::array::from_fn(|_| UnsafeCell::new(MaybeUninit::uninit())),
        }))
    }

    /// Frees a block from [`alloc`](Self::alloc) without dropping any value.
    ///
    /// # Safety
    ///
    /// `block` came from `alloc`, is not freed yet and nobody uses it again.
    pub(super) unsafe fn free(block: *mut Block<T>) {
        // SAFETY: the caller passes back what `alloc` leaked; `MaybeUninit`
        // slots drop nothing.
        drop(unsafe { Box::from_raw(block) });
    }

    /// The block's first position.
    pub(super) fn start(&self) -> usize {
        self.start.load(Relaxed)
    }

    /// Whether `pos` lies in this block.
    pub(super) fn holds(&self, pos: usize) -> bool {
        self.start() == block_start(pos)
    }

    /// The next block (acquire: its fields are visible), or null.
    pub(super) fn next(&self) -> *mut Block<T> {
        self.next.load(Acquire)
    }

    /// Links `block` after this one if nothing is linked yet; on failure
    /// returns the block that is.
    pub(super) fn try_link(&self, block: *mut Block<T>) -> Result<(), *mut Block<T>> {
        self.next
            .compare_exchange(ptr::null_mut(), block, AcqRel, Acquire)
            .map(drop)
    }

    /// Whether every slot was written (so no send into it is in progress).
    pub(super) fn is_final(&self) -> bool {
        self.ready.load(Acquire) & READY_MASK == READY_MASK
    }

    /// Records that a sender moved the senders' block pointer past this
    /// block and then read `tail`: no sender whose position is at or after
    /// `tail` will look at this block.
    pub(super) fn release(&self, tail: usize) {
        self.observed_tail.store(tail, Relaxed);
        self.ready.fetch_or(RELEASED, Release);
    }

    /// `Some(observed_tail)` once [`release`](Self::release)d.
    pub(super) fn observed_tail(&self) -> Option<usize> {
        if self.ready.load(Acquire) & RELEASED == 0 {
            return None;
        }
        Some(self.observed_tail.load(Relaxed))
    }

    /// Writes `value` at `pos` and sets its ready bit (release).
    ///
    /// # Safety
    ///
    /// `pos` lies in this block and was claimed by the caller alone.
    pub(super) unsafe fn write(&self, pos: usize, value: T) {
        debug_assert!(
            self.holds(pos),
            "position {pos} is not in block {}",
            self.start()
        );
        let slot = offset(pos);
        // SAFETY: the claim makes this slot ours; the receiver reads it only
        // after the ready bit below, and the block is not reused before the
        // receiver has passed every position claimed before its release.
        self.slots[slot].with_mut(|p| unsafe { p.write(MaybeUninit::new(value)) });
        self.ready.fetch_or(1 << slot, Release);
    }

    /// Takes the value at `pos` if its ready bit is set.
    ///
    /// # Safety
    ///
    /// `pos` lies in this block, only the receiver calls this, and it does
    /// so at most once per position.
    pub(super) unsafe fn take(&self, pos: usize) -> Option<T> {
        let slot = offset(pos);
        if self.ready.load(Acquire) & (1 << slot) == 0 {
            return None;
        }
        // SAFETY: the ready bit (acquire) says the sender wrote the slot and
        // is done with it; the caller takes each position once.
        Some(self.slots[slot].with_mut(|p| unsafe { p.read().assume_init() }))
    }

    /// Makes a block the receiver has passed reusable at `start`.
    ///
    /// # Safety
    ///
    /// Nobody else can reach the block: it was released and the receiver
    /// has passed its observed tail (every value in it was taken).
    pub(super) unsafe fn reset(&self, start: usize) {
        self.start.store(start, Relaxed);
        self.next.store(ptr::null_mut(), Relaxed);
        self.ready.store(0, Relaxed);
    }
}
