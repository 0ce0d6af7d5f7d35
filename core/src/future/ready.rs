//! `ReadyIndices`: which children of a combinator were woken.
//!
//! `join_all` over 10 000 futures must not poll all 10 000 each time one of
//! them wakes up. So every child gets its own waker (allocated once, when the
//! combinator is built), and that waker records the child's index in a
//! lock-free list shared with the combinator, then wakes the task that owns
//! the combinator. A poll of the combinator then polls exactly the children
//! on the list: the cost of a wake-up is O(1), not O(n).
//!
//! ## The list
//!
//! Each child index `i` owns a [`Link`]: a `queued` flag and a `next` index.
//! The shared `head` is an intrusive stack of indices (a Treiber stack with
//! `NIL` as the empty value):
//!
//! 1. **Wake** (any thread): set `queued[i]`; if it was already set, `i` is
//!    on a list already and there is nothing to do. Otherwise push `i` with a
//!    CAS loop on `head`. If the push found the list empty, wake the owning
//!    task; a non-empty list means an earlier push has woken it already and
//!    the task has not yet taken the list.
//! 2. **Take** (the combinator, at the start of each poll): swap `head`
//!    with `NIL`, taking the whole stack at once. The only pop is "take
//!    everything", so there is no ABA problem. The taken stack is reversed
//!    in place, so children are polled in the order they were woken, and
//!    appended to what an earlier poll left unpolled (`as_completed` returns
//!    as soon as one child completes).
//! 3. **Pop** (the combinator): read `next[i]`, *then* clear `queued[i]`,
//!    then poll child `i`. A wake from the child during or after that poll
//!    sees `queued == false` and pushes it again; since `next` was read
//!    first, that push cannot corrupt the list being walked.
//!
//! A poll takes the shared stack only once, at its start, so a child that
//! wakes itself while being polled (`yield_now`) is polled again in the
//! *next* poll of the combinator, after the task has yielded — not in a loop
//! inside this one.
//!
//! ## Waking the owner
//!
//! The owner's waker is registered *before* the list is taken, and a waking
//! child takes it out of its slot (rather than cloning it) so that no waker
//! code runs under the slot's spin lock. Either the push happened before the
//! take (the poll sees the index) or after it (the push finds the list empty
//! and wakes the waker registered at the start of that poll).

use alloc::boxed::Box;
use alloc::task::Wake;
use core::task::Waker;

use crate::loom::atomic::{AtomicBool, AtomicUsize, Ordering::*};
use crate::loom::sync::Arc;
use crate::sync::lock::Lock;

/// The empty list / end of list.
const NIL: usize = usize::MAX;

/// The combinator's side: the shared list, one waker per child, and the part
/// of a taken list that has not been popped yet.
pub(crate) struct ReadyIndices {
    /// Shared with every child waker.
    list: Arc<WakeList>,
    /// `wakers[i]` is the waker child `i` is polled with.
    wakers: Box<[Waker]>,
    /// Head of the taken (already reversed) list, or `NIL`; owned by the
    /// combinator. Every index on it still has `queued` set.
    taken: usize,
    /// Last index of the taken list (meaningless while it is empty).
    taken_tail: usize,
}

/// The part shared by the combinator and the child wakers.
struct WakeList {
    /// Top of the stack of woken indices, or `NIL`.
    head: AtomicUsize,
    /// One link per child.
    links: Box<[Link]>,
    /// The waker of the task that polls the combinator.
    owner: Lock<Option<Waker>>,
}

/// The list node of one child.
struct Link {
    /// Set while the index is on the shared stack or the taken list.
    queued: AtomicBool,
    /// The next index on whichever list this one is on.
    next: AtomicUsize,
}

/// The waker of child `index`: one allocation per child, made once.
///
/// It lives in `alloc`'s `Arc` because [`Wake`] requires that one; its
/// reference count is not part of the protocol, so loom need not see it.
/// The shared list it points to is in the loom-swappable `Arc`.
struct ChildWaker {
    /// The list this child's index is pushed onto.
    list: Arc<WakeList>,
    /// Which child this waker belongs to.
    index: usize,
}

impl ReadyIndices {
    /// Builds the list for `len` children, all of them initially ready (the
    /// first poll polls every child, in index order).
    pub(crate) fn new(len: usize) -> Self {
        assert!(len < NIL, "too many futures for one combinator");
        let links: Box<[Link]> = (0..len)
            .map(|i| Link {
                queued: AtomicBool::new(true),
                next: AtomicUsize::new(if i + 1 < len { i + 1 } else { NIL }),
            })
            .collect();
        let list = Arc::new(WakeList {
            head: AtomicUsize::new(NIL),
            links,
            owner: Lock::new(None),
        });
        let wakers: Box<[Waker]> = (0..len)
            .map(|index| {
                Waker::from(alloc::sync::Arc::new(ChildWaker {
                    list: list.clone(),
                    index,
                }))
            })
            .collect();
        ReadyIndices {
            list,
            wakers,
            taken: if len == 0 { NIL } else { 0 },
            taken_tail: len.wrapping_sub(1),
        }
    }

    /// The waker to poll child `index` with.
    pub(crate) fn waker(&self, index: usize) -> &Waker {
        &self.wakers[index]
    }

    /// Starts a poll of the combinator: remembers the waker of the task
    /// polling it, then takes the children woken since the last poll. Call
    /// [`next`](Self::next) afterwards until it returns `None`.
    pub(crate) fn start_round(&mut self, owner: &Waker) {
        // Register before taking: a wake after the take finds the list empty
        // and wakes this waker.
        self.register(owner);
        let Some((head, tail)) = self.take_shared() else {
            return;
        };
        if self.taken == NIL {
            self.taken = head;
        } else {
            // The old tail is still `queued`, so no waker touches its link.
            self.list.links[self.taken_tail].next.store(head, Relaxed);
        }
        self.taken_tail = tail;
    }

    /// The next child to poll in this round, or `None` when the round is
    /// over.
    pub(crate) fn next(&mut self) -> Option<usize> {
        let index = self.taken;
        if index == NIL {
            return None;
        }
        let link = &self.list.links[index];
        debug_assert!(
            link.queued.load(Relaxed),
            "index {index} is on the taken list but not marked queued"
        );
        self.taken = link.next.load(Relaxed);
        // Release: our read of `next` happens before a new push writes it.
        link.queued.store(false, Release);
        Some(index)
    }

    /// Remembers `waker` as the one to wake when a child wakes.
    fn register(&self, waker: &Waker) {
        {
            let owner = self.list.owner.lock();
            if matches!(&*owner, Some(w) if w.will_wake(waker)) {
                return;
            }
        }
        // Clone outside the lock: no waker code runs under it.
        let new = Some(waker.clone());
        let old = core::mem::replace(&mut *self.list.owner.lock(), new);
        drop(old);
    }

    /// Takes the shared stack and reverses it into wake order; returns its
    /// head and tail, or `None` if nothing was woken.
    fn take_shared(&self) -> Option<(usize, usize)> {
        // Acquire: see the `next` values the pushers wrote before their CAS.
        let mut rest = self.list.head.swap(NIL, AcqRel);
        if rest == NIL {
            return None;
        }
        // The top of the stack was woken last: it becomes the tail.
        let tail = rest;
        let mut reversed = NIL;
        while rest != NIL {
            let link = &self.list.links[rest];
            let next = link.next.load(Relaxed);
            // Still `queued`, so no waker touches this link.
            link.next.store(reversed, Relaxed);
            reversed = rest;
            rest = next;
        }
        Some((reversed, tail))
    }
}

impl WakeList {
    /// Step 1 of the protocol in the module docs.
    fn push(&self, index: usize) {
        let link = &self.links[index];
        // Acquire: the combinator's read of `next` happened before it
        // cleared `queued`, so our write of `next` below cannot race it.
        if link.queued.swap(true, Acquire) {
            return;
        }
        let mut head = self.head.load(Relaxed);
        loop {
            link.next.store(head, Relaxed);
            // AcqRel: publish `next` to the taker, and order our read of the
            // owner waker after a take that emptied the list.
            match self
                .head
                .compare_exchange_weak(head, index, AcqRel, Relaxed)
            {
                Ok(_) => break,
                Err(actual) => head = actual,
            }
        }
        if head == NIL {
            let owner = self.owner.lock().take();
            if let Some(owner) = owner {
                owner.wake();
            }
        }
    }
}

impl Wake for ChildWaker {
    fn wake(self: alloc::sync::Arc<Self>) {
        self.list.push(self.index);
    }

    fn wake_by_ref(self: &alloc::sync::Arc<Self>) {
        self.list.push(self.index);
    }
}

impl core::fmt::Debug for ReadyIndices {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ReadyIndices")
            .field("children", &self.wakers.len())
            .finish_non_exhaustive()
    }
}

/// Collects a round's indices; for tests.
#[cfg(all(test, not(loom)))]
fn drain_round(ready: &mut ReadyIndices) -> alloc::vec::Vec<usize> {
    drain_round_as(ready, Waker::noop())
}

/// Collects a round's indices, polled by the task of `owner`; for tests.
#[cfg(all(test, not(loom)))]
fn drain_round_as(ready: &mut ReadyIndices, owner: &Waker) -> alloc::vec::Vec<usize> {
    ready.start_round(owner);
    core::iter::from_fn(|| ready.next()).collect()
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;
    use std::sync::atomic::AtomicUsize as StdAtomicUsize;

    struct CountWakes(StdAtomicUsize);
    impl Wake for CountWakes {
        fn wake(self: alloc::sync::Arc<Self>) {
            self.0.fetch_add(1, SeqCst);
        }
    }

    #[test]
    fn first_round_yields_every_index_in_order() {
        let mut ready = ReadyIndices::new(5);
        assert_eq!(drain_round(&mut ready), vec![0, 1, 2, 3, 4]);
        assert_eq!(drain_round(&mut ready), Vec::<usize>::new());
    }

    #[test]
    fn empty_list_has_no_rounds() {
        let mut ready = ReadyIndices::new(0);
        assert_eq!(drain_round(&mut ready), Vec::<usize>::new());
    }

    #[test]
    fn wakes_come_back_in_wake_order_once_each() {
        let mut ready = ReadyIndices::new(6);
        drain_round(&mut ready);
        ready.waker(4).wake_by_ref();
        ready.waker(1).wake_by_ref();
        ready.waker(4).wake_by_ref();
        let by_value = ready.waker(3).clone();
        by_value.wake();
        assert_eq!(drain_round(&mut ready), vec![4, 1, 3]);
        assert_eq!(drain_round(&mut ready), Vec::<usize>::new());
    }

    #[test]
    fn owner_is_woken_once_per_taken_list() {
        let owner = alloc::sync::Arc::new(CountWakes(StdAtomicUsize::new(0)));
        let owner_waker = Waker::from(owner.clone());
        let mut ready = ReadyIndices::new(4);
        drain_round_as(&mut ready, &owner_waker);
        ready.waker(0).wake_by_ref();
        ready.waker(2).wake_by_ref();
        assert_eq!(owner.0.load(SeqCst), 1);
        assert_eq!(drain_round_as(&mut ready, &owner_waker), vec![0, 2]);
        ready.waker(1).wake_by_ref();
        assert_eq!(owner.0.load(SeqCst), 2);
    }

    #[test]
    fn a_wake_during_a_round_waits_for_the_next_round() {
        let mut ready = ReadyIndices::new(3);
        ready.start_round(Waker::noop());
        assert_eq!(ready.next(), Some(0));
        // Child 0 wakes itself while being polled.
        ready.waker(0).wake_by_ref();
        assert_eq!(ready.next(), Some(1));
        assert_eq!(ready.next(), Some(2));
        assert_eq!(ready.next(), None);
        assert_eq!(drain_round(&mut ready), vec![0]);
    }

    #[test]
    fn leftovers_of_a_round_come_before_newer_wakes() {
        let mut ready = ReadyIndices::new(5);
        drain_round(&mut ready);
        ready.waker(3).wake_by_ref();
        ready.waker(1).wake_by_ref();
        ready.waker(4).wake_by_ref();
        ready.start_round(Waker::noop());
        // The round ends early (as `as_completed` does after an output).
        assert_eq!(ready.next(), Some(3));
        ready.waker(0).wake_by_ref();
        ready.waker(3).wake_by_ref();
        assert_eq!(drain_round(&mut ready), vec![1, 4, 0, 3]);
    }

    #[test]
    fn wakes_from_other_threads_are_all_seen() {
        let threads = 4;
        let per_thread = if cfg!(miri) { 8 } else { 64 };
        let mut ready = ReadyIndices::new(threads * per_thread);
        drain_round(&mut ready);
        let wakers: Vec<Waker> = (0..threads * per_thread)
            .map(|i| ready.waker(i).clone())
            .collect();
        let wakers = alloc::sync::Arc::new(wakers);
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let wakers = wakers.clone();
                std::thread::spawn(move || {
                    for i in 0..per_thread {
                        wakers[t * per_thread + i].wake_by_ref();
                    }
                })
            })
            .collect();
        let mut seen = vec![false; threads * per_thread];
        let mut remaining = threads * per_thread;
        let mut joined = false;
        while remaining > 0 {
            for i in drain_round(&mut ready) {
                assert!(!seen[i], "index {i} seen twice");
                seen[i] = true;
                remaining -= 1;
            }
            if !joined && handles.iter().all(|h| h.is_finished()) {
                joined = true;
            } else if joined {
                assert_eq!(remaining, 0, "a wake was lost");
            }
        }
        for h in handles {
            h.join().unwrap();
        }
    }
}
