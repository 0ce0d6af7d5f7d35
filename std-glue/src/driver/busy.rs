//! The busy count: how many pieces of work are running right now.
//!
//! A mock clock with auto-advance may only jump when nothing could still
//! register a timer that belongs before the jump. Every kind of work holds
//! one unit while it runs:
//!
//! | work | holds a unit from | to |
//! | --- | --- | --- |
//! | a multi-thread worker | it wakes | it parks (`Driver::park`) |
//! | the current-thread core | it takes the core / wakes | it parks |
//! | a `block_on` thread | it starts or is woken ([`BlockOnWaker`]) | it parks |
//! | a blocking job | it is submitted (queued counts) | the closure returns |
//! | a sync-boundary scope's closure | it starts | it returns |
//!
//! "Runnable but not yet running" is not in the count: the schedulers report
//! it through the `has_work` check that `Driver::park` makes under the
//! advance lock.
//!
//! # A blocking job that blocks on the runtime
//!
//! A blocking job or sync-scope closure that calls `Handle::block_on` waits
//! for the runtime like any `block_on` thread, and must count as idle while
//! it waits, or a mock clock would never move for it (it would hold its
//! unit through the whole wait). So the work marks its unit as *held here*
//! ([`Busy::mark_held_here`]; a sync scope inside a blocking job holds two),
//! and the `block_on` on that thread (a [`BlockOnWaker`], or the
//! current-thread core it takes) *adopts* those units instead of taking one
//! more ([`Busy::acquire_adopting`]): one becomes the `block_on`'s unit,
//! given back when it parks; the rest are released meanwhile. When the
//! `block_on` ends they are taken again and handed back to the work
//! ([`Busy::release_adopted`]). The thread holds a unit at every step of
//! the hand-over, so no jump can slip in between.
//!
//! The count is only kept for a mock clock with auto-advance; with any other
//! clock nobody reads it, so every operation here is a no-op (one branch on
//! a field that never changes).

use std::cell::Cell;
use std::sync::Arc;
use std::task::{Wake, Waker};

use super::io::IoUnparker;
use crate::loom::atomic::{AtomicU8, AtomicUsize, Ordering::*};
use crate::loom::parking;

/// The count itself; lives in the [`Driver`](super::Driver).
pub(crate) struct Busy {
    /// `false` for every clock but a mock one with auto-advance.
    tracked: bool,
    count: AtomicUsize,
    /// Woken when a unit held by a thread that cannot drive the clock itself
    /// (a blocking job, a scope closure, a `block_on` thread) is the last to
    /// go: somebody parked in I/O must look again whether time may move.
    unparker: IoUnparker,
}

impl Busy {
    pub(crate) fn new(tracked: bool, unparker: IoUnparker) -> Busy {
        Busy {
            tracked,
            count: AtomicUsize::new(0),
            unparker,
        }
    }

    /// Whether the count is kept (a mock clock with auto-advance).
    pub(crate) fn is_tracked(&self) -> bool {
        self.tracked
    }

    /// Units held right now (0 when untracked).
    pub(crate) fn count(&self) -> usize {
        self.count.load(SeqCst)
    }

    pub(crate) fn acquire(&self) {
        if self.tracked {
            self.count.fetch_add(1, SeqCst);
        }
    }

    /// Gives a unit back; `wake` asks the thread parked in I/O to re-check
    /// the clock if this was the last unit.
    pub(crate) fn release(&self, wake: bool) {
        if self.tracked {
            let prev = self.count.fetch_sub(1, SeqCst);
            debug_assert!(prev > 0, "minirt: busy count released more than acquired");
            if prev == 1 && wake {
                self.unparker.unpark();
            }
        }
    }
}

std::thread_local! {
    /// The busy count whose units the work running on this thread holds and
    /// lends to a `block_on` (see the module docs), and how many: a sync
    /// scope inside a blocking job holds two. Null and 0 if none.
    static HELD_HERE: Cell<(*const Busy, usize)> = const { Cell::new((std::ptr::null(), 0)) };
}

impl Busy {
    /// Marks, until the guard drops, that the work running on the calling
    /// thread holds a unit of this count (a blocking job, a sync-scope
    /// closure), so that a `Handle::block_on` there adopts it. `None` when
    /// the count is not tracked.
    pub(crate) fn mark_held_here(&self) -> Option<HeldHere> {
        if !self.tracked {
            return None;
        }
        let me: *const Busy = self;
        let prev = HELD_HERE
            .try_with(|h| {
                let prev = h.get();
                let units = if std::ptr::eq(prev.0, me) { prev.1 } else { 0 };
                h.set((me, units + 1));
                prev
            })
            .unwrap_or((std::ptr::null(), 0));
        Some(HeldHere { prev })
    }

    /// Takes a unit for a thread that starts driving or waiting on the
    /// runtime, adopting the units the work on this thread holds, if any:
    /// one becomes the caller's, the others are given back for the time
    /// being (the count does not reach zero on the way, the caller holds
    /// one). Returns how many were adopted; pass it to
    /// [`release_adopted`](Self::release_adopted).
    #[inline]
    pub(crate) fn acquire_adopting(&self) -> usize {
        if !self.tracked {
            return 0;
        }
        self.acquire_adopting_tracked()
    }

    /// [`acquire_adopting`](Self::acquire_adopting) for a tracked count
    /// (a mock clock's), out of line: every `block_on` calls the untracked
    /// check.
    #[inline(never)]
    fn acquire_adopting_tracked(&self) -> usize {
        let me: *const Busy = self;
        let held = HELD_HERE
            .try_with(|h| {
                let (busy, units) = h.get();
                if std::ptr::eq(busy, me) && units > 0 {
                    h.set((me, 0));
                    units
                } else {
                    0
                }
            })
            .unwrap_or(0);
        if held == 0 {
            self.acquire();
            return 0;
        }
        for _ in 1..held {
            self.release(false);
        }
        held
    }

    /// Gives back a unit taken by [`acquire_adopting`](Self::acquire_adopting):
    /// adopted units go back to the work on this thread (the caller's unit
    /// is still held, so taking the others again leaves no gap).
    #[inline]
    pub(crate) fn release_adopted(&self, adopted: usize, wake: bool) {
        // Untracked, nothing was taken (`acquire_adopting` returned 0).
        if self.tracked {
            self.release_adopted_tracked(adopted, wake);
        }
    }

    /// [`release_adopted`](Self::release_adopted) for a tracked count.
    #[inline(never)]
    fn release_adopted_tracked(&self, adopted: usize, wake: bool) {
        if adopted == 0 {
            self.release(wake);
            return;
        }
        for _ in 1..adopted {
            self.acquire();
        }
        let me: *const Busy = self;
        let _ = HELD_HERE.try_with(|h| h.set((me, adopted)));
    }
}

/// Marks, until dropped, that the work running on this thread holds a unit
/// that a `block_on` here may adopt.
pub(crate) struct HeldHere {
    prev: (*const Busy, usize),
}

impl Drop for HeldHere {
    fn drop(&mut self) {
        let _ = HELD_HERE.try_with(|h| h.set(self.prev));
    }
}

/// One unit of the busy count held by work that is not a scheduler thread
/// (a blocking job, a sync-scope closure); gives it back on drop and wakes
/// the driver if it was the last.
pub(crate) struct BusyToken {
    driver: Arc<super::Driver>,
}

impl BusyToken {
    /// Takes a unit; `None` (nothing to give back, no `Arc` clone) when the
    /// count is not tracked.
    pub(crate) fn new(driver: &Arc<super::Driver>) -> Option<BusyToken> {
        if !driver.busy.is_tracked() {
            return None;
        }
        driver.busy.acquire();
        Some(BusyToken {
            driver: driver.clone(),
        })
    }
}

impl Drop for BusyToken {
    fn drop(&mut self) {
        self.driver.busy.release(true);
    }
}

const RUNNING: u8 = 0;
const IDLE: u8 = 1;
const WOKEN: u8 = 2;
const RUNNING_WOKEN: u8 = 3;

/// The waker of a `block_on` future on a thread that does not sleep in the
/// I/O driver, when the busy count is tracked.
///
/// Between "the future was woken" and "the thread polls it" the thread is
/// not running, yet the clock must not move: the poll may register a timer
/// that belongs before the next jump. So the waker takes the busy unit on the
/// thread's behalf, and the thread keeps it when it wakes. A wake that comes
/// while the thread still runs (it polled, got `Pending`, and has not parked
/// yet) is remembered in the state, and the thread then does not give its
/// unit back at all: left to the parker's token, the thread would hold no
/// unit between `park_idle` and `resume`, and on a loaded machine a runtime
/// whose workers only wait for timers would jump time again and again in
/// that gap (seen: a daemon heartbeat beating 281 times instead of 3 before
/// a sync scope's owner got to see that its last child had finished).
///
/// ```text
///                  wake(): RUNNING -> RUNNING_WOKEN (the thread holds its unit)
///   RUNNING ───────────────────────────────────────> RUNNING_WOKEN
///    │  ^  ^                                            │ park_idle(): swap RUNNING,
///    │  │  └────────────────────────────────────────────┘   no park, unit kept
///    │  │
///    │  │ resume(): swap RUNNING;
///    │  │   was WOKEN: the unit is ours; was IDLE (spurious): acquire one
///    │  │
///    │ park_idle(): CAS RUNNING -> IDLE, release unit
///    v  │
///   IDLE ──── wake(): CAS IDLE -> WOKEN, acquire unit for it ────> WOKEN
/// ```
pub(crate) struct BlockOnWaker {
    state: AtomicU8,
    driver: Arc<super::Driver>,
    unparker: parking::Unparker,
    /// Units adopted from the work running on the thread (see
    /// [`Busy::acquire_adopting`]).
    adopted: usize,
}

impl BlockOnWaker {
    /// A parker and the waker for it; the calling thread holds a busy unit
    /// from now on.
    pub(crate) fn new(driver: &Arc<super::Driver>) -> (parking::Parker, Arc<BlockOnWaker>) {
        let (parker, unparker) = parking::pair();
        let adopted = driver.busy.acquire_adopting();
        let waker = Arc::new(BlockOnWaker {
            state: AtomicU8::new(RUNNING),
            driver: driver.clone(),
            unparker,
            adopted,
        });
        (parker, waker)
    }

    /// The thread is about to park: give its unit back. Returns `false`
    /// (keeping the unit, not to park) if the future was woken since its
    /// last poll.
    pub(crate) fn park_idle(&self) -> bool {
        match self.state.compare_exchange(RUNNING, IDLE, SeqCst, SeqCst) {
            Ok(_) => {
                self.driver.busy.release(true);
                true
            }
            Err(_) => {
                // RUNNING_WOKEN: only `wake` changes the state meanwhile, and
                // it leaves RUNNING_WOKEN as it is.
                self.state.store(RUNNING, SeqCst);
                false
            }
        }
    }

    /// The thread woke (or did not sleep after all): make sure it holds
    /// exactly one unit again.
    pub(crate) fn resume(&self) {
        if self.state.swap(RUNNING, SeqCst) != WOKEN {
            self.driver.busy.acquire();
        }
    }

    /// The thread already holds a unit again (an auto-advance took it for
    /// it): a unit the waker took meanwhile is one too many.
    pub(crate) fn resume_with_unit(&self) {
        if self.state.swap(RUNNING, SeqCst) == WOKEN {
            self.driver.busy.release(false);
        }
    }

    /// The `block_on` call ends: give the unit back (to the work on this
    /// thread, if it was adopted from it).
    pub(crate) fn finish(&self) {
        self.driver.busy.release_adopted(self.adopted, true);
    }
}

impl Wake for BlockOnWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let mut state = self.state.load(SeqCst);
        loop {
            let (next, take_unit) = match state {
                RUNNING => (RUNNING_WOKEN, false),
                IDLE => (WOKEN, true),
                // Already woken: the unit (or the note) is there.
                _ => break,
            };
            match self.state.compare_exchange(state, next, SeqCst, SeqCst) {
                Ok(_) => {
                    if take_unit {
                        self.driver.busy.acquire();
                    }
                    break;
                }
                Err(now) => state = now,
            }
        }
        self.unparker.unpark();
    }
}

/// A waker that unparks a thread sleeping on a `parking::Parker`: what a
/// thread that is *not* the driver's waits with when no busy unit needs
/// handing over (a real clock, or a sync scope waiting for its children).
pub(crate) struct ThreadWaker(parking::Unparker);

impl ThreadWaker {
    /// A parker and the waker that unparks it.
    pub(crate) fn pair() -> (parking::Parker, Waker) {
        let (parker, unparker) = parking::pair();
        (parker, Waker::from(Arc::new(ThreadWaker(unparker))))
    }
}

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}
