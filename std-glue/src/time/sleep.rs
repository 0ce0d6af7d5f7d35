//! `Sleep`: a future that completes at a deadline.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use super::driver::{TimeDriver, TimerId};
use super::Instant;
use crate::runtime::{context, NO_RUNTIME};

/// Waits until `duration` has elapsed on the runtime's clock.
///
/// Never completes early; at 1 ms resolution it completes within about a
/// millisecond after the deadline on an idle machine. Registration is lazy
/// (on the first poll) and O(1); dropping the `Sleep` cancels it in O(1).
///
/// # Panics
///
/// When first polled outside a minirt runtime.
///
/// ```
/// use std::time::Duration;
/// minirt::block_on(async {
///     minirt::time::sleep(Duration::from_millis(1)).await;
/// });
/// ```
pub fn sleep(duration: Duration) -> Sleep {
    Sleep::new(Instant::now().far_add(duration))
}

/// Waits until `deadline` on the runtime's clock.
///
/// A deadline that has passed completes the sleep without waiting, never
/// early: at the first poll when the runtime's timers have moved past it
/// already (or on a mock clock), otherwise at the timers' next turn, which
/// the registration brings forward. This is tokio's rule; it spares the
/// first poll a clock read.
///
/// ```
/// use std::time::Duration;
/// use minirt::time::{sleep_until, Instant};
/// minirt::block_on(async {
///     let deadline = Instant::now() + Duration::from_millis(1);
///     sleep_until(deadline).await;
///     assert!(Instant::now() >= deadline);
/// });
/// ```
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep::new(deadline)
}

/// The future returned by [`sleep`] and [`sleep_until`].
#[must_use = "futures do nothing unless awaited"]
pub struct Sleep {
    deadline: Instant,
    /// Bound on first poll.
    driver: Option<Arc<TimeDriver>>,
    /// The live registration, if any.
    registered: Option<Registration>,
}

struct Registration {
    key: TimerId,
    tick: u64,
    /// Which waker the wheel holds, to skip the lock when it is unchanged.
    waker: WakerId,
}

/// A waker's identity as [`Waker::will_wake`] sees it (its data and vtable
/// addresses), kept instead of a clone: a clone is two reference-count
/// updates a sleep (an eighth of a register-and-cancel). Only ever compared.
/// While the registration is live the wheel holds a clone of that waker, so
/// what it points at stays allocated and no other waker can take on its
/// identity; once the timer fires, a re-poll finds the deadline passed
/// before it compares.
#[derive(Clone, Copy, PartialEq, Eq)]
struct WakerId {
    data: usize,
    vtable: usize,
}

impl WakerId {
    fn of(waker: &Waker) -> WakerId {
        WakerId {
            data: waker.data().addr(),
            vtable: std::ptr::from_ref(waker.vtable()).addr(),
        }
    }
}

impl Sleep {
    fn new(deadline: Instant) -> Sleep {
        Sleep {
            deadline,
            driver: None,
            registered: None,
        }
    }

    /// The instant this sleep completes at.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Whether the deadline has passed.
    pub fn is_elapsed(&self) -> bool {
        Instant::now() >= self.deadline
    }

    /// Moves the deadline, reusing the timer entry (no reallocation). The
    /// new deadline takes effect at the next poll.
    ///
    /// ```
    /// use std::time::Duration;
    /// use minirt::time::{sleep, Instant};
    /// minirt::block_on(async {
    ///     let mut s = sleep(Duration::from_secs(3600));
    ///     s.reset(Instant::now() + Duration::from_millis(1));
    ///     s.await;
    /// });
    /// ```
    pub fn reset(&mut self, deadline: Instant) {
        self.deadline = deadline;
    }

    fn poll_sleep(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let driver = match &self.driver {
            Some(d) => d,
            None => {
                let d = context::with_current(|h| h.map(|h| h.inner.driver.time.clone()))
                    .unwrap_or_else(|| panic!("minirt::time::sleep: {NO_RUNTIME}"));
                self.driver.insert(d)
            }
        };
        let tick = driver.clock.deadline_tick(self.deadline.0);
        if self.registered.is_none() && !driver.clock.is_mock() {
            // First poll on the real clock: the wheel decides whether the
            // deadline has passed, under the lock the registration takes
            // anyway, which saves a clock read per sleep (a quarter of a
            // register-and-cancel; see `TimeDriver::register_new`). A mock
            // clock keeps the exact check below: reading it is one atomic
            // load, and a test that moves it expects a sleep whose deadline
            // it passed to be done at once.
            return match driver.register_new(tick, cx.waker()) {
                None => Poll::Ready(()),
                Some(key) => {
                    self.registered = Some(Registration {
                        key,
                        tick,
                        waker: WakerId::of(cx.waker()),
                    });
                    Poll::Pending
                }
            };
        }
        if driver.clock.now_tick() >= tick {
            if let Some(reg) = self.registered.take() {
                driver.cancel(reg.key);
            }
            return Poll::Ready(());
        }
        match &self.registered {
            Some(reg) if reg.tick == tick && reg.waker == WakerId::of(cx.waker()) => {}
            _ => {
                let key =
                    driver.register(self.registered.as_ref().map(|r| r.key), tick, cx.waker());
                self.registered = Some(Registration {
                    key,
                    tick,
                    waker: WakerId::of(cx.waker()),
                });
            }
        }
        Poll::Pending
    }
}

impl Future for Sleep {
    type Output = ();

    /// One budgeted operation (see `minirt_core::coop`): with the task's
    /// budget spent it yields (woken) even if the deadline has passed, so a
    /// loop over elapsed sleeps lets other tasks run.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        minirt_core::coop::poll_budgeted(cx, |cx| this.poll_sleep(cx))
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let (Some(driver), Some(reg)) = (&self.driver, self.registered.take()) {
            driver.cancel(reg.key);
        }
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .field("registered", &self.registered.is_some())
            .finish()
    }
}
