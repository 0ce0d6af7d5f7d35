//! Who is searching for work and who sleeps: the bookkeeping that keeps
//! wake-ups rare and never lost.
//!
//! # Rules
//!
//! - At most half of the workers *search* (steal from others) at once; more
//!   would mostly contend on the same queues.
//! - A producer wakes a sleeper only if **nobody is searching**: a searcher
//!   will find the new task anyway. The last searcher to stop searching
//!   (because it found work) wakes another, so work keeps spreading.
//!
//! # Why a wake-up cannot be lost
//!
//! 1. A producer first pushes its task to a queue, then calls
//!    [`Idle::worker_to_notify`], which reads `state` (SeqCst).
//! 2. A worker that runs out of work first calls
//!    [`Idle::transition_worker_to_parked`], which updates `state` (SeqCst)
//!    and records itself in `sleepers`, then checks every queue once more,
//!    and only then parks.
//! 3. SeqCst orders the producer's read of `state` and the worker's update
//!    of it: either the producer sees the worker counted as parked (and, if
//!    nobody searches, unparks it — `parking`'s token survives an unpark that
//!    comes before the park), or the worker's update came later, so its
//!    re-check in step 2 sees the task pushed in step 1.
//! 4. If the producer saw a searcher, that searcher either finds the task, or
//!    becomes the last searcher to park, and step 2's re-check (done by every
//!    parking worker that was searching) finds it.

use crate::loom::atomic::{AtomicUsize, Ordering::SeqCst};
use crate::loom::Mutex;

/// Low bits: searching workers; high bits: unparked workers.
const UNPARKED_SHIFT: usize = 16;
const SEARCHING_MASK: usize = (1 << UNPARKED_SHIFT) - 1;
const UNPARKED_ONE: usize = 1 << UNPARKED_SHIFT;

pub(super) struct Idle {
    /// Packed counters, see the constants above.
    state: AtomicUsize,
    /// Indices of parked workers.
    sleepers: Mutex<Vec<usize>>,
    num_workers: usize,
}

impl Idle {
    pub(super) fn new(num_workers: usize) -> Idle {
        assert!(num_workers < SEARCHING_MASK, "too many workers");
        Idle {
            state: AtomicUsize::new(num_workers * UNPARKED_ONE),
            sleepers: Mutex::new(Vec::with_capacity(num_workers)),
            num_workers,
        }
    }

    fn searching(state: usize) -> usize {
        state & SEARCHING_MASK
    }

    fn unparked(state: usize) -> usize {
        state >> UNPARKED_SHIFT
    }

    fn should_notify(&self) -> bool {
        let state = self.state.load(SeqCst);
        Self::searching(state) == 0 && Self::unparked(state) < self.num_workers
    }

    /// A task was queued: pick a sleeper to wake, if one should be. The
    /// chosen worker is counted as unparked and searching from now on.
    pub(super) fn worker_to_notify(&self) -> Option<usize> {
        if !self.should_notify() {
            return None;
        }
        let mut sleepers = self.sleepers.lock().unwrap_or_else(|e| e.into_inner());
        if !self.should_notify() {
            return None;
        }
        let worker = sleepers.pop()?;
        self.state.fetch_add(UNPARKED_ONE + 1, SeqCst);
        Some(worker)
    }

    /// Tries to become a searcher; fails if half the workers already are.
    pub(super) fn transition_worker_to_searching(&self) -> bool {
        let state = self.state.load(SeqCst);
        if 2 * Self::searching(state) >= self.num_workers {
            return false;
        }
        self.state.fetch_add(1, SeqCst);
        true
    }

    /// A searcher found work. Returns `true` if it was the last searcher,
    /// in which case the caller should wake another worker.
    pub(super) fn transition_worker_from_searching(&self) -> bool {
        let prev = self.state.fetch_sub(1, SeqCst);
        debug_assert!(Self::searching(prev) > 0, "searching count underflow");
        Self::searching(prev) == 1
    }

    /// The worker is about to park. Returns `true` if it was the last
    /// searcher (it must then re-check every queue before parking).
    pub(super) fn transition_worker_to_parked(&self, worker: usize, is_searching: bool) -> bool {
        let mut sleepers = self.sleepers.lock().unwrap_or_else(|e| e.into_inner());
        let dec = UNPARKED_ONE + usize::from(is_searching);
        let prev = self.state.fetch_sub(dec, SeqCst);
        sleepers.push(worker);
        is_searching && Self::searching(prev) == 1
    }

    /// The worker woke up. If it is still listed as a sleeper, nobody
    /// notified it (a spurious wake, shutdown, or a re-check found work):
    /// unlist it and count it as unparked again. Returns `true` if it was
    /// notified (and so is already counted as searching).
    pub(super) fn transition_worker_from_parked(&self, worker: usize) -> bool {
        let mut sleepers = self.sleepers.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(pos) = sleepers.iter().position(|&w| w == worker) {
            sleepers.swap_remove(pos);
            self.state.fetch_add(UNPARKED_ONE, SeqCst);
            false
        } else {
            true
        }
    }

    /// Whether `worker` is listed as parked.
    #[cfg(test)]
    pub(super) fn is_parked(&self, worker: usize) -> bool {
        let sleepers = self.sleepers.lock().unwrap_or_else(|e| e.into_inner());
        sleepers.contains(&worker)
    }

    /// Number of parked workers.
    #[cfg(test)]
    pub(super) fn parked(&self) -> usize {
        self.num_workers - Self::unparked(self.state.load(SeqCst))
    }
}

#[cfg(all(test, not(minirt_loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_sleeper_is_woken_only_when_nobody_searches() {
        let idle = Idle::new(2);
        assert!(!idle.transition_worker_to_parked(0, false));
        assert_eq!(idle.parked(), 1);
        assert!(idle.transition_worker_to_searching());
        assert_eq!(
            idle.worker_to_notify(),
            None,
            "a searcher will find the task"
        );
        assert!(idle.transition_worker_from_searching());
        assert_eq!(idle.worker_to_notify(), Some(0));
        assert_eq!(idle.parked(), 0);
        assert!(idle.transition_worker_from_parked(0), "it was notified");
    }

    #[test]
    fn at_most_half_search() {
        let idle = Idle::new(4);
        assert!(idle.transition_worker_to_searching());
        assert!(idle.transition_worker_to_searching());
        assert!(!idle.transition_worker_to_searching());
    }

    #[test]
    fn spurious_wake_relists_the_worker_as_unparked() {
        let idle = Idle::new(2);
        let _ = idle.transition_worker_to_parked(1, false);
        assert!(idle.is_parked(1));
        assert!(!idle.transition_worker_from_parked(1));
        assert!(!idle.is_parked(1));
        assert_eq!(idle.parked(), 0);
    }

    #[test]
    fn last_searcher_to_park_is_told_so() {
        let idle = Idle::new(2);
        assert!(idle.transition_worker_to_searching());
        assert!(idle.transition_worker_to_parked(0, true));
    }
}
