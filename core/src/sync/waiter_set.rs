//! `WaiterSet`: tasks waiting for "the next change", all woken by it.
//!
//! Why not [`WaitList`](super::wait_list::WaitList): a `watch` send or a
//! `broadcast` send wakes *every* waiting receiver, so order does not
//! matter, and a woken receiver usually sees the change before it looks at
//! its registration. Here a sender removes every waiter in one critical
//! section (into a vector that is reused, so this does not allocate once
//! warmed up), which lets a woken future forget its registration without
//! taking the lock again: if it sees the change it waited for, the change
//! was published before the removal that follows it in the same critical
//! section of the sender, so its entry is gone or about to go.
//!
//! A future that finds nothing new (a spurious wake) must ask whether it is
//! still registered: slab keys are reused, so each registration also
//! carries a ticket, a counter that is never reused while the set lives
//! (64 bits; a `u64` inside the lock needs no 64-bit atomics).

use alloc::vec::Vec;
use core::task::Waker;

use slab::Slab;

/// Where a future is registered: its slab key and the ticket of that entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Registration {
    /// The entry's slab key.
    key: usize,
    /// The entry's ticket (keys are reused, tickets are not).
    ticket: u64,
}

/// One waiting future.
struct Waiter {
    /// Whom to wake.
    waker: Waker,
    /// Tells this entry from a later one with the same key.
    ticket: u64,
}

/// The set of waiting futures; lives inside the primitive's lock.
pub(crate) struct WaiterSet {
    /// Waiting futures.
    waiters: Slab<Waiter>,
    /// The next ticket to hand out.
    next_ticket: u64,
    /// The vector `take_all` fills, kept for reuse (see [`WaiterSet::recycle`]).
    spare: Vec<Waker>,
}

impl WaiterSet {
    /// An empty set; allocates nothing until the first registration.
    pub(crate) const fn new() -> Self {
        Self {
            waiters: Slab::new(),
            next_ticket: 0,
            spare: Vec::new(),
        }
    }

    /// Whether nobody waits.
    pub(crate) fn is_empty(&self) -> bool {
        self.waiters.is_empty()
    }

    /// Adds a waiter that `waker` wakes.
    pub(crate) fn register(&mut self, waker: &Waker) -> Registration {
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        let key = self.waiters.insert(Waiter {
            waker: waker.clone(),
            ticket,
        });
        Registration { key, ticket }
    }

    /// Whether `registration` is still in the set.
    pub(crate) fn contains(&self, registration: Registration) -> bool {
        self.waiters
            .get(registration.key)
            .is_some_and(|w| w.ticket == registration.ticket)
    }

    /// Replaces the waker of `registration` (which must be in the set) by
    /// `waker` unless they wake the same task; returns the old one, to be
    /// dropped after unlocking.
    #[must_use]
    pub(crate) fn update(&mut self, registration: Registration, waker: &Waker) -> Option<Waker> {
        let waiter = &mut self.waiters[registration.key];
        debug_assert_eq!(waiter.ticket, registration.ticket, "stale registration");
        if waiter.waker.will_wake(waker) {
            None
        } else {
            Some(core::mem::replace(&mut waiter.waker, waker.clone()))
        }
    }

    /// Removes `registration` if it is still in the set; returns its waker,
    /// to be dropped after unlocking.
    #[must_use]
    pub(crate) fn remove(&mut self, registration: Registration) -> Option<Waker> {
        if self.contains(registration) {
            Some(self.waiters.remove(registration.key).waker)
        } else {
            None
        }
    }

    /// Removes every waiter and returns their wakers, to be woken after
    /// unlocking; hand the vector back with [`recycle`](Self::recycle).
    #[must_use]
    pub(crate) fn take_all(&mut self) -> Vec<Waker> {
        let mut wakers = core::mem::take(&mut self.spare);
        wakers.extend(self.waiters.drain().map(|w| w.waker));
        wakers
    }

    /// Keeps the (emptied) vector of a [`take_all`](Self::take_all) for the
    /// next one, unless the set already has a larger one.
    pub(crate) fn recycle(&mut self, wakers: Vec<Waker>) {
        debug_assert!(wakers.is_empty(), "recycle the vector after waking");
        if wakers.capacity() > self.spare.capacity() {
            self.spare = wakers;
        }
    }
}

/// Wakes every waker in `wakers` (leaving it empty). Call with no lock held.
pub(crate) fn wake_all(wakers: &mut Vec<Waker>) {
    for waker in wakers.drain(..) {
        waker.wake();
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::sync::test_util::CountingWaker;

    #[test]
    fn take_all_empties_the_set_and_tickets_tell_reused_keys_apart() {
        let mut set = WaiterSet::new();
        let (count, waker) = CountingWaker::new();
        let first = set.register(&waker);
        let second = set.register(&waker);
        let mut wakers = set.take_all();
        assert_eq!(wakers.len(), 2);
        assert!(set.is_empty());
        wake_all(&mut wakers);
        assert_eq!(count.wakes(), 2);
        set.recycle(wakers);
        let third = set.register(&waker);
        assert!(!set.contains(first) && !set.contains(second));
        assert!(set.contains(third));
        assert!(set.remove(first).is_none(), "a stale key removes nothing");
        assert!(set.remove(third).is_some());
        assert!(set.is_empty());
    }

    #[test]
    fn update_keeps_an_equivalent_waker() {
        let mut set = WaiterSet::new();
        let (_count, waker) = CountingWaker::new();
        let (_other_count, other) = CountingWaker::new();
        let reg = set.register(&waker);
        // `will_wake` is best-effort: under Miri each use of a vtable may
        // get its own address, so equal wakers can compare unequal there.
        if !cfg!(miri) {
            assert!(set.update(reg, &waker).is_none());
        }
        assert!(set.update(reg, &other).is_some());
        assert!(set.contains(reg), "updating keeps the registration");
    }
}
