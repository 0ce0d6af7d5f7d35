//! The driver a runtime thread parks in when it has nothing to run.
//!
//! Parking is where timers and I/O meet the scheduler: the thread that parks
//! waits for the earliest of "a task was woken from another thread", "the
//! next timer deadline" and "an I/O event", so no separate timer or reactor
//! thread sits on the wake path.

use std::time::Duration;

/// The parking side, owned by whichever thread drives the runtime.
pub(crate) struct Driver {
    parker: parking::Parker,
}

/// The waking side; cheap to clone, usable from any thread.
#[derive(Clone)]
pub(crate) struct Unparker {
    unparker: parking::Unparker,
}

impl Driver {
    pub(crate) fn new() -> (Driver, Unparker) {
        let (parker, unparker) = parking::pair();
        (Driver { parker }, Unparker { unparker })
    }

    /// Blocks until unparked or `timeout` elapses (`None`: no limit).
    pub(crate) fn park(&mut self, timeout: Option<Duration>) {
        match timeout {
            None => self.parker.park(),
            Some(d) if d.is_zero() => {}
            Some(d) => {
                self.parker.park_timeout(d);
            }
        }
    }
}

impl Unparker {
    /// Wakes the parked thread, or makes its next park return at once.
    pub(crate) fn unpark(&self) {
        self.unparker.unpark();
    }
}
