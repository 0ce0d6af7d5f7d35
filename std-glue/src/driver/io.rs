//! The I/O half of the driver: the `mio` poller an idle thread sleeps in,
//! and the handle that wakes it.
//!
//! The thread that sleeps here waits for the earliest of "a task was woken
//! from another thread", "the next timer deadline" (its timeout) and "an I/O
//! event", so no separate reactor or timer thread sits on the wake path.
//!
//! # Unparking without a syscall
//!
//! Waking `mio` costs a write to an eventfd. Most wake-ups happen while the
//! runtime thread is busy, when no write is needed, so [`IoUnparker`]
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
use std::time::Duration;

const EMPTY: u8 = 0;
const PARKED: u8 = 1;
const NOTIFIED: u8 = 2;

/// The parking side: owned by whichever thread drives the runtime's I/O.
pub(crate) struct IoPoller {
    io: minirt_reactor::Driver,
    handle: IoUnparker,
}

/// The waking side; cheap to clone, usable from any thread.
#[derive(Clone)]
pub(crate) struct IoUnparker {
    inner: Arc<HandleInner>,
}

struct HandleInner {
    state: AtomicU8,
    io: minirt_reactor::Handle,
}

impl IoPoller {
    pub(crate) fn new() -> io::Result<(IoPoller, IoUnparker)> {
        let io = minirt_reactor::Driver::new()?;
        let handle = IoUnparker {
            inner: Arc::new(HandleInner {
                state: AtomicU8::new(EMPTY),
                io: io.handle(),
            }),
        };
        Ok((
            IoPoller {
                io,
                handle: handle.clone(),
            },
            handle,
        ))
    }

    /// Waits until unparked, an I/O event arrives, or `timeout` elapses
    /// (`None`: no limit; zero: just poll I/O), waking the tasks whose I/O
    /// became ready. Returns whether any I/O source (or a signal) became
    /// ready.
    pub(crate) fn park(&mut self, timeout: Option<Duration>) -> bool {
        if timeout == Some(Duration::ZERO) {
            // Only a look at I/O: we never wait, so unparkers need not write
            // the eventfd on our account.
            return self.poll_io(timeout);
        }
        let handle = self.handle.clone();
        let state = &handle.inner.state;
        let timeout = match state.compare_exchange(EMPTY, PARKED, SeqCst, SeqCst) {
            Ok(_) => timeout,
            Err(_) => {
                // NOTIFIED: someone already asked us not to sleep; still
                // look at I/O so a stream of notifies cannot starve it.
                state.store(EMPTY, SeqCst);
                Some(Duration::ZERO)
            }
        };
        let dispatched = self.poll_io(timeout);
        state.store(EMPTY, SeqCst);
        dispatched
    }

    fn poll_io(&mut self, timeout: Option<Duration>) -> bool {
        match self.io.park(timeout) {
            Ok(dispatched) => dispatched,
            Err(e) => {
                // mio only fails here if the OS refuses epoll_wait; there is
                // no caller to hand this to, and retrying at once would spin.
                debug_assert!(false, "minirt: I/O driver failed to poll: {e}");
                false
            }
        }
    }
}

impl IoUnparker {
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
