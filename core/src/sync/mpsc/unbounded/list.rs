//! The unbounded channel's storage: a singly linked list of [`Block`]s that
//! senders append to and the receiver consumes, reusing passed blocks.
//!
//! 1. **Claim.** A sender claims position `p` with one `fetch_add` on the
//!    tail word (no lock, no loop).
//! 2. **Find.** It loads the senders' block pointer `tail_block` and walks
//!    `next` links until the block holding `p`, linking a fresh block where
//!    the list ends (one allocation per [`BLOCK_LEN`] values, and none once
//!    the receiver's passed blocks are being reused).
//! 3. **Move the pointer.** While walking, a sender whose blocks so far are
//!    all *final* (every slot written) moves `tail_block` past them with a
//!    compare-and-swap, then reads the tail word and records it in the
//!    block it passed as `observed_tail` ([`Block::release`]).
//! 4. **Reuse.** The receiver, once past a block, reuses (or frees) it only
//!    if it is released and the receiver has taken every position before
//!    its `observed_tail`.
//!
//! **Why step 4 is safe.** `tail_block` only moves forward, and only past a
//! final block, so it never passes the block of a claimed but unwritten
//! position: a sender always finds its block ahead of the pointer it loads.
//! The senders that can touch a block `b` are those that loaded
//! `tail_block` while it pointed at `b` or an earlier block — before the
//! swap that moved it past `b`. Each claimed its position before that load,
//! so (all four steps use `SeqCst`, one total order) before the tail read
//! that followed the swap: its position is below `b.observed_tail`. The
//! receiver passing `observed_tail` has taken those positions, so those
//! senders have written their values, and a sender's last touch of any
//! block is setting the ready bit of the value it wrote.
//!
//! The receiver keeps three fields only it touches: its block, its next
//! position, and the oldest block not yet reused (`free_head`; the blocks
//! from there to its block are passed but maybe still walked by a sender).

use core::ptr;

use super::block::{block_start, Block, BLOCK_LEN, BLOCK_SPAN, STEP};
use crate::loom::atomic::{AtomicPtr, AtomicUsize, Ordering::*};

/// How often the receiver tries to link a passed block at the end of the
/// list before freeing it instead (the end moves while senders grow it).
const REUSE_ATTEMPTS: usize = 3;

/// The senders' half of the list.
pub(super) struct TxList<T> {
    /// A block at or before the block of every claimed, unwritten position.
    tail_block: AtomicPtr<Block<T>>,
}

/// The receiver's half of the list (touched only by the receiver, and by
/// the channel's destructor).
pub(super) struct RxList<T> {
    /// The block holding (or just before) `index`.
    head: *mut Block<T>,
    /// The position of the next value to take.
    index: usize,
    /// The oldest block not yet reused or freed.
    free_head: *mut Block<T>,
}

/// A new list starting at position `start`: its one block, for both halves.
pub(super) fn new<T>(start: usize) -> (TxList<T>, RxList<T>) {
    debug_assert_eq!(start % BLOCK_SPAN, 0, "lists start at a block boundary");
    let first = Block::alloc(start);
    (
        TxList {
            tail_block: AtomicPtr::new(first),
        },
        RxList {
            head: first,
            index: start,
            free_head: first,
        },
    )
}

impl<T> TxList<T> {
    /// Steps 2 and 3 of the module docs: the block holding the claimed
    /// position `pos`.
    ///
    /// `tail` is the tail word, read after moving `tail_block` (step 3).
    pub(super) fn find_block(&self, pos: usize, tail: &AtomicUsize) -> &Block<T> {
        let mut current = self.tail_block.load(SeqCst);
        let mut may_move = true;
        loop {
            // SAFETY: blocks reachable from `tail_block` are not reused or
            // freed while a sender that loaded it may walk them (module
            // docs, "why step 4 is safe").
            let block = unsafe { &*current };
            if block.holds(pos) {
                return block;
            }
            let mut next = block.next();
            if next.is_null() {
                next = Self::grow(block);
            }
            may_move &= block.is_final();
            if may_move {
                match self
                    .tail_block
                    .compare_exchange(current, next, SeqCst, SeqCst)
                {
                    Ok(_) => {
                        let observed = tail.fetch_add(0, SeqCst) & !1;
                        block.release(observed);
                    }
                    Err(_) => may_move = false,
                }
            }
            current = next;
        }
    }

    /// Links a fresh block after `last` (or, if another sender won, frees
    /// ours) and returns the block now after it.
    fn grow(last: &Block<T>) -> *mut Block<T> {
        let fresh = Block::alloc(last.start().wrapping_add(BLOCK_SPAN));
        match last.try_link(fresh) {
            Ok(()) => fresh,
            Err(winner) => {
                // SAFETY: `fresh` was never shared.
                unsafe { Block::free(fresh) };
                winner
            }
        }
    }
}

impl<T> RxList<T> {
    /// The position of the next value to take.
    pub(super) fn index(&self) -> usize {
        self.index
    }

    /// The oldest block not yet reused (tests count the list from it).
    #[cfg(test)]
    pub(super) fn free_head_for_test(&self) -> *mut Block<T> {
        self.free_head
    }

    /// Takes the value at `index` if it was written, reusing blocks passed
    /// on the way (step 4).
    pub(super) fn pop(&mut self, tx: &TxList<T>) -> Option<T> {
        if !self.reach_block() {
            return None;
        }
        self.reuse_passed(tx);
        // SAFETY: `head` holds `index` (checked by `reach_block`) and is
        // live: the receiver has not passed it; only the receiver takes
        // values, once per position.
        let value = unsafe { (*self.head).take(self.index) }?;
        self.index = self.index.wrapping_add(STEP);
        Some(value)
    }

    /// Moves `head` to the block holding `index`; `false` if it is not
    /// linked yet (then nothing was written there).
    fn reach_block(&mut self) -> bool {
        let start = block_start(self.index);
        loop {
            // SAFETY: `head` is live (module docs: the receiver reuses only
            // blocks before it).
            let block = unsafe { &*self.head };
            if block.start() == start {
                return true;
            }
            let next = block.next();
            if next.is_null() {
                return false;
            }
            self.head = next;
        }
    }

    /// Step 4: reuses every block before `head` that no sender can still
    /// touch.
    fn reuse_passed(&mut self, tx: &TxList<T>) {
        while self.free_head != self.head {
            let block = self.free_head;
            // SAFETY: between `free_head` and `head`, so live.
            let passed = unsafe { &*block };
            let Some(observed) = passed.observed_tail() else {
                return;
            };
            if (self.index.wrapping_sub(observed) as isize) < 0 {
                return; // a sender may still walk through it
            }
            self.free_head = passed.next();
            // SAFETY: released and the receiver passed its observed tail:
            // nobody else can reach it (module docs).
            unsafe { Self::reuse(block, tx) };
        }
    }

    /// Links a passed block at the end of the list for senders to fill
    /// again, or frees it if the end keeps moving.
    ///
    /// # Safety
    ///
    /// Nobody else can reach `block` (see `reuse_passed`).
    unsafe fn reuse(block: *mut Block<T>, tx: &TxList<T>) {
        let mut last = tx.tail_block.load(SeqCst);
        for _ in 0..REUSE_ATTEMPTS {
            // SAFETY: `tail_block` and the blocks after it are live: only
            // released blocks are reused, and `tail_block` has moved past
            // every released block.
            let end = unsafe { &*last };
            let next = end.next();
            if !next.is_null() {
                last = next;
                continue;
            }
            // SAFETY: unreachable by anyone but us (the caller's contract).
            unsafe { (*block).reset(end.start().wrapping_add(BLOCK_SPAN)) };
            match end.try_link(block) {
                Ok(()) => return,
                Err(winner) => last = winner,
            }
        }
        // SAFETY: unreachable by anyone but us, and not linked.
        unsafe { Block::free(block) };
    }

    /// Drops every written value not yet taken and frees every block; for
    /// the channel's destructor.
    ///
    /// # Safety
    ///
    /// No sender or receiver is left, and this is called once.
    pub(super) unsafe fn free_all(&mut self) {
        let mut block = self.head;
        while !block.is_null() {
            // SAFETY: live; no one else is left.
            let b = unsafe { &*block };
            for slot in 0..BLOCK_LEN {
                let pos = b.start().wrapping_add(slot * STEP);
                if (pos.wrapping_sub(self.index) as isize) >= 0 {
                    // SAFETY: in this block, at or after `index`, so never
                    // taken; `take` checks the ready bit.
                    drop(unsafe { b.take(pos) });
                }
            }
            block = b.next();
        }
        let mut block = core::mem::replace(&mut self.free_head, ptr::null_mut());
        while !block.is_null() {
            // SAFETY: every block is reachable once from `free_head`; we
            // read its link before freeing it.
            let next = unsafe { (*block).next() };
            // SAFETY: as above; nobody is left to use it.
            unsafe { Block::free(block) };
            block = next;
        }
        self.head = ptr::null_mut();
    }
}
