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
//!
//! # Under loom
//!
//! With `cfg(minirt_loom)` the flag protocol above is unchanged (loom
//! atomics), but the wait itself is not mio's: loom cannot see a thread
//! blocked in `epoll_wait`, and the eventfd write that ends it. The poller
//! then waits on a token ([`crate::loom::parking`]) that `unpark` hands
//! over, which is what mio's edge-triggered eventfd waker amounts to: one
//! pending wake, consumed by the next poll (a zero-timeout one included).
//! The reactor is still created, for its handle; it is never polled, so no
//! I/O event is modelled.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use crate::loom::atomic::{AtomicU8, Ordering::SeqCst};

const EMPTY: u8 = 0;
const PARKED: u8 = 1;
const NOTIFIED: u8 = 2;

/// The parking side: owned by whichever thread drives the runtime's I/O.
pub(crate) struct IoPoller {
    /// Under loom only kept alive for its handle (never polled).
    #[cfg_attr(minirt_loom, allow(dead_code))]
    io: minirt_reactor::Driver,
    handle: IoUnparker,
    /// Where the poll waits under loom (see the module docs).
    #[cfg(minirt_loom)]
    wait: crate::loom::parking::Parker,
}

/// The waking side; cheap to clone, usable from any thread.
#[derive(Clone)]
pub(crate) struct IoUnparker {
    inner: Arc<HandleInner>,
}

struct HandleInner {
    state: AtomicU8,
    io: minirt_reactor::Handle,
    /// Ends the poll's wait under loom (see the module docs).
    #[cfg(minirt_loom)]
    wake: crate::loom::parking::Unparker,
}

impl IoPoller {
    pub(crate) fn new() -> io::Result<(IoPoller, IoUnparker)> {
        let io = minirt_reactor::Driver::new()?;
        minirt_reactor::net::set_blocking_offload(lookup_on_blocking_pool);
        #[cfg(minirt_loom)]
        let (wait, wake) = crate::loom::parking::pair();
        let handle = IoUnparker {
            inner: Arc::new(HandleInner {
                state: AtomicU8::new(EMPTY),
                io: io.handle(),
                #[cfg(minirt_loom)]
                wake,
            }),
        };
        Ok((
            IoPoller {
                io,
                handle: handle.clone(),
                #[cfg(minirt_loom)]
                wait,
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
        let timeout = match self.state().compare_exchange(EMPTY, PARKED, SeqCst, SeqCst) {
            Ok(_) => timeout,
            Err(_) => {
                // NOTIFIED: someone already asked us not to sleep; still
                // look at I/O so a stream of notifies cannot starve it. (A
                // notify during that look is not lost although the flag is
                // cleared again below: we return without waiting, and the
                // caller looks for work after every return.)
                reset(self.state());
                Some(Duration::ZERO)
            }
        };
        let dispatched = self.poll_io(timeout);
        reset(self.state());
        dispatched
    }

    /// Spins (see `spin.rs`) until an unparker asks this thread not to
    /// sleep; returns whether one did, consuming that notify. Meanwhile the
    /// flag stays `EMPTY`, so unparkers write no eventfd.
    pub(crate) fn spin_for_notify(&self) -> bool {
        let state = self.state();
        super::spin::spin_until(|| state.load(SeqCst) == NOTIFIED)
            && state
                .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
                .is_ok()
    }

    /// The parked flag (re-borrowed around `poll_io`, which needs `&mut`).
    fn state(&self) -> &AtomicU8 {
        &self.handle.inner.state
    }

    fn poll_io(&mut self, timeout: Option<Duration>) -> bool {
        match self.wait(timeout) {
            Ok(dispatched) => dispatched,
            Err(e) => {
                // mio only fails here if the OS refuses epoll_wait; there is
                // no caller to hand this to, and retrying at once would spin.
                debug_assert!(false, "minirt: I/O driver failed to poll: {e}");
                false
            }
        }
    }

    /// Polls mio.
    #[cfg(not(minirt_loom))]
    fn wait(&mut self, timeout: Option<Duration>) -> io::Result<bool> {
        self.io.park(timeout)
    }

    /// Takes the wake token, waiting for it unless `timeout` is zero (see
    /// the module docs). No I/O event is ever dispatched.
    #[cfg(minirt_loom)]
    fn wait(&mut self, timeout: Option<Duration>) -> io::Result<bool> {
        match timeout {
            Some(t) => self.wait.park_timeout(t),
            None => {
                self.wait.park();
                true
            }
        };
        Ok(false)
    }
}

/// The parker's `-> EMPTY`. A swap rather than a store: the same
/// instruction on x86 (a `SeqCst` store is an `xchg`), and loom 0.7 lets a
/// plain store that races an unparker's `swap` land between that swap's
/// read and its write (tokio-rs/loom#254), which makes the models report
/// lost wake-ups that the memory model rules out.
fn reset(state: &AtomicU8) {
    state.swap(EMPTY, SeqCst);
}

impl IoUnparker {
    /// Wakes the parked driver, or makes its next park return at once.
    pub(crate) fn unpark(&self) {
        if self.inner.state.swap(NOTIFIED, SeqCst) == PARKED {
            self.wake_poller();
        }
    }

    /// Ends the poller's wait: writes mio's eventfd.
    #[cfg(not(minirt_loom))]
    fn wake_poller(&self) {
        self.inner.io.unpark();
    }

    /// Ends the poller's wait: hands it the token.
    #[cfg(minirt_loom)]
    fn wake_poller(&self) {
        self.inner.wake.unpark();
    }

    /// The reactor handle that sockets register with.
    pub(crate) fn io(&self) -> &minirt_reactor::Handle {
        &self.inner.io
    }
}

/// Where the reactor's host-name lookups run: the current runtime's blocking
/// pool, so a lookup never blocks a worker and counts as pending work for
/// the mock clock. Outside a runtime (a lookup future polled elsewhere), a
/// thread of its own.
fn lookup_on_blocking_pool(job: Box<dyn FnOnce() + Send>) {
    match crate::runtime::context::try_current() {
        Some(runtime) => drop(runtime.spawn_blocking(job)),
        None => {
            // If the thread cannot start, `job` (and the answer's sender) is
            // dropped and the lookup fails instead of hanging.
            let _ = std::thread::Builder::new()
                .name("minirt-lookup".into())
                .spawn(job);
        }
    }
}
