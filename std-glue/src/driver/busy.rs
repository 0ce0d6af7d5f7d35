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
//! The count is only kept for a mock clock with auto-advance; with any other
//! clock nobody reads it, so every operation here is a no-op (one branch on
//! a field that never changes).

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

/// The waker of a `block_on` future on a thread that does not sleep in the
/// I/O driver, when the busy count is tracked.
///
/// Between "the future was woken" and "the thread polls it" the thread is
/// not running, yet the clock must not move: the poll may register a timer
/// that belongs before the next jump. So the waker takes the busy unit on the
/// thread's behalf, and the thread keeps it when it wakes:
///
/// ```text
///            park_idle(): store IDLE, release unit
///   RUNNING ────────────────────────────────────────> IDLE
///      ^                                               │ wake(): CAS IDLE -> WOKEN,
///      │ resume(): swap RUNNING;                       │         acquire unit for it
///      │   was WOKEN: the unit is ours                 v
///      │   was IDLE (spurious): acquire one          WOKEN
///      └───────────────────────────────────────────────┘
/// ```
pub(crate) struct BlockOnWaker {
    state: AtomicU8,
    driver: Arc<super::Driver>,
    unparker: parking::Unparker,
}

impl BlockOnWaker {
    /// A parker and the waker for it; the calling thread holds a busy unit
    /// from now on.
    pub(crate) fn new(driver: &Arc<super::Driver>) -> (parking::Parker, Arc<BlockOnWaker>) {
        let (parker, unparker) = parking::pair();
        driver.busy.acquire();
        let waker = Arc::new(BlockOnWaker {
            state: AtomicU8::new(RUNNING),
            driver: driver.clone(),
            unparker,
        });
        (parker, waker)
    }

    /// The thread is about to park: give its unit back.
    pub(crate) fn park_idle(&self) {
        self.state.store(IDLE, SeqCst);
        self.driver.busy.release(true);
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

    /// The `block_on` call ends: give the unit back.
    pub(crate) fn finish(&self) {
        self.driver.busy.release(true);
    }
}

impl Wake for BlockOnWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self
            .state
            .compare_exchange(IDLE, WOKEN, SeqCst, SeqCst)
            .is_ok()
        {
            self.driver.busy.acquire();
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
