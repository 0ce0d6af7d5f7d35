//! The driver: one `mio::Poll`, parked by one thread at a time.
//!
//! Why: a runtime thread with nothing to run must sleep until a socket becomes
//! ready, a timer is due, or another thread hands it work. [`Driver::park`] is
//! that sleep: it waits in mio with the runtime's timeout, then marks every
//! registration that became ready and wakes the tasks waiting on it.
//! [`Handle::unpark`] ends the sleep early from any thread.
//!
//! How the pieces fit:
//! - [`Handle`] (shared, `Arc`) holds mio's `Registry`, the `mio::Waker`, and a
//!   slab of readiness entries. Each entry's mio token packs its slab key with a
//!   generation ([`token`]), so a stale event never reaches a slot's new owner.
//! - `ScheduledIo` ([`scheduled_io`]) is one entry: per-direction readiness
//!   stamped with the park *tick*, and one waker slot per direction.
//! - `Registration` / `PollEvented` (in `crate::registration`) are what sockets
//!   wrap; they deregister on drop, always.

mod context;
mod handle;
pub(crate) mod ready;
pub(crate) mod scheduled_io;
pub(crate) mod token;

#[cfg(test)]
mod tests;

use std::cell::Cell;
use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use mio::{Events, Poll, Waker};

pub use handle::Handle;
pub(crate) use handle::Inner;

use ready::Ready;
#[cfg(unix)]
use token::SIGNAL_TOKEN;
use token::WAKER_TOKEN;

/// How many mio events one `park` can collect; more simply wait for the next park.
const EVENTS_CAPACITY: usize = 1024;

/// minirt's I/O driver: owns the `mio::Poll` and its event buffer.
///
/// A runtime creates one driver, enters its [`Handle`] on every thread that polls
/// tasks, and calls [`park`](Driver::park) when it has nothing to run.
///
/// The driver is `Send` but not `Sync`: one thread parks at a time. Dropping it
/// fails every I/O object still registered (their operations return an error
/// instead of hanging).
///
/// ```
/// use std::time::Duration;
/// use minirt_reactor::Driver;
///
/// let mut driver = Driver::new()?;
/// let handle = driver.handle();
/// handle.unpark(); // e.g. from another thread that queued a task
/// // Returns at once: the unpark is pending. No I/O event was dispatched.
/// assert_eq!(driver.park(None)?, false);
/// // Nothing registered, nothing pending: just checks and returns.
/// assert_eq!(driver.park(Some(Duration::ZERO))?, false);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Driver {
    /// The OS poller (epoll / kqueue).
    poll: Poll,
    /// Reused buffer of events for one `park`.
    events: Events,
    /// Shared with every handle and registration.
    inner: Arc<Inner>,
    /// Incremented on every park that returns events; stamped into readiness.
    tick: u16,
    /// `!Sync`: only the thread holding `&mut Driver` may park.
    _not_sync: PhantomData<Cell<()>>,
}

impl Driver {
    /// Creates a driver with its own `mio::Poll` and unpark waker.
    ///
    /// # Errors
    ///
    /// The OS refused to create the poller or the waker (for example, too many
    /// open files).
    pub fn new() -> io::Result<Driver> {
        let poll = Poll::new()?;
        let waker = Waker::new(poll.registry(), WAKER_TOKEN)?;
        let registry = poll.registry().try_clone()?;
        Ok(Driver {
            poll,
            events: Events::with_capacity(EVENTS_CAPACITY),
            inner: Arc::new(Inner::new(registry, waker)),
            tick: 0,
            _not_sync: PhantomData,
        })
    }

    /// A handle to this driver, for registering sockets and for [`Handle::unpark`].
    pub fn handle(&self) -> Handle {
        Handle {
            inner: self.inner.clone(),
        }
    }

    /// Polls mio once, waiting at most `timeout` (`None` = until something
    /// happens, `Some(Duration::ZERO)` = just check), and wakes every task whose
    /// resource became ready.
    ///
    /// Returns whether any I/O event (not counting the unpark waker) was
    /// dispatched; signal-pipe events count, since they wake signal listeners.
    /// A wait interrupted by a signal (`EINTR`) returns `Ok(false)`.
    ///
    /// # Errors
    ///
    /// Whatever the OS poller returns other than `EINTR`.
    pub fn park(&mut self, timeout: Option<Duration>) -> io::Result<bool> {
        match self.poll.poll(&mut self.events, timeout) {
            Ok(()) => {}
            Err(err) if err.kind() == io::ErrorKind::Interrupted => return Ok(false),
            Err(err) => return Err(err),
        }
        if self.events.is_empty() {
            return Ok(false);
        }
        self.tick = self.tick.wrapping_add(1);
        let mut dispatched = false;
        for event in self.events.iter() {
            match event.token() {
                WAKER_TOKEN => {}
                #[cfg(unix)]
                SIGNAL_TOKEN => {
                    crate::signal::pump_pipe();
                    dispatched = true;
                }
                token => {
                    dispatched |= self
                        .inner
                        .dispatch(token, Ready::from_event(event), self.tick);
                }
            }
        }
        Ok(dispatched)
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.inner.shutdown();
    }
}

impl fmt::Debug for Driver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Driver")
            .field("tick", &self.tick)
            .field("registrations", &self.handle().registrations())
            .finish()
    }
}
