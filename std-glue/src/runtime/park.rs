//! The driver a runtime thread parks in when it has nothing to run.
//!
//! Parking is where I/O (and timers) meet the scheduler: the thread that
//! parks waits in `mio` for the earliest of "a task was woken from another
//! thread", "the next timer deadline" and "an I/O event", so no separate
//! reactor or timer thread sits on the wake path.
//!
//! # Unparking without a syscall
//!
//! Waking `mio` costs a write to an eventfd. Most wake-ups happen while the
//! runtime thread is busy, when no write is needed, so [`DriverHandle`]
//! keeps a three-state flag:
//!
//! 1. the parker CASes `EMPTY -> PARKED` right before it waits in mio (or
//!    consumes a `NOTIFIED` and does not wait at all);
//! 2. an unparker swaps in `NOTIFIED` and writes the eventfd only if it
//!    replaced `PARKED`;
//! 3. after waking, the parker resets the flag to `EMPTY`.
//!
//! Both sides use `SeqCst`, so either the unparker sees `PARKED` (and wakes
//! mio), or the parker sees `NOTIFIED` before it waits: a notify is never
//! lost.

use std::io;
use std::sync::atomic::{AtomicU8, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Wake, Waker};
use std::time::Duration;

const EMPTY: u8 = 0;
const PARKED: u8 = 1;
const NOTIFIED: u8 = 2;

/// The parking side: owned by whichever thread drives the runtime's I/O.
pub(crate) struct Driver {
    io: minirt_reactor::Driver,
    handle: DriverHandle,
}

/// The waking side; cheap to clone, usable from any thread.
#[derive(Clone)]
pub(crate) struct DriverHandle {
    inner: Arc<HandleInner>,
}

struct HandleInner {
    state: AtomicU8,
    io: minirt_reactor::Handle,
}

impl Driver {
    pub(crate) fn new() -> io::Result<(Driver, DriverHandle)> {
        let io = minirt_reactor::Driver::new()?;
        let handle = DriverHandle {
            inner: Arc::new(HandleInner {
                state: AtomicU8::new(EMPTY),
                io: io.handle(),
            }),
        };
        Ok((
            Driver {
                io,
                handle: handle.clone(),
            },
            handle,
        ))
    }

    /// Waits until unparked, an I/O event arrives, or `timeout` elapses
    /// (`None`: no limit; zero: just poll I/O), waking the tasks whose I/O
    /// became ready.
    pub(crate) fn park(&mut self, timeout: Option<Duration>) {
        if timeout == Some(Duration::ZERO) {
            // Only a look at I/O: we never wait, so unparkers need not write
            // the eventfd on our account.
            if let Err(e) = self.io.park(timeout) {
                debug_assert!(false, "minirt: I/O driver failed to poll: {e}");
            }
            return;
        }
        let state = &self.handle.inner.state;
        let timeout = match state.compare_exchange(EMPTY, PARKED, SeqCst, SeqCst) {
            Ok(_) => timeout,
            Err(_) => {
                // NOTIFIED: someone already asked us not to sleep; still
                // look at I/O so a stream of notifies cannot starve it.
                state.store(EMPTY, SeqCst);
                Some(Duration::ZERO)
            }
        };
        if let Err(e) = self.io.park(timeout) {
            // mio only fails here if the OS refuses epoll_wait; there is no
            // caller to hand this to, and retrying at once would spin.
            debug_assert!(false, "minirt: I/O driver failed to poll: {e}");
        }
        state.store(EMPTY, SeqCst);
    }
}

impl DriverHandle {
    /// Wakes the parked driver, or makes its next park return at once.
    pub(crate) fn unpark(&self) {
        if self.inner.state.swap(NOTIFIED, SeqCst) == PARKED {
            self.inner.io.unpark();
        }
    }

    /// The reactor handle that sockets register with.
    pub(crate) fn io(&self) -> &minirt_reactor::Handle {
        &self.inner.io
    }
}

/// A waker that unparks a thread sleeping on a `parking::Parker`: what a
/// thread that is *not* the driver's (a `block_on` caller of a multi-thread
/// runtime, a sync-boundary scope) waits with.
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
