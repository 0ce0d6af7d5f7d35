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
    let mut sleep = Sleep::new(Instant::now().far_add(duration));
    sleep.just_read_clock = true;
    sleep
}

/// Waits until `deadline` on the runtime's clock; completes at once if it
/// has passed.
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
    /// Made by [`sleep`], which read the clock to compute the deadline, and
    /// not yet polled or reset: the first poll may trust that the deadline
    /// is still ahead (see `poll_sleep`).
    just_read_clock: bool,
}

struct Registration {
    key: TimerId,
    tick: u64,
    /// Which waker the wheel holds, to skip the lock when it is unchanged.
    waker: WakerId,
}

impl Registration {
    fn new(key: TimerId, tick: u64, waker: &Waker) -> Registration {
        Registration {
            key,
            tick,
            waker: WakerId::of(waker),
        }
    }
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
            just_read_clock: false,
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
        self.just_read_clock = false;
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
        if std::mem::take(&mut self.just_read_clock)
            && self.registered.is_none()
            && !driver.clock.is_mock()
        {
            // First poll of a `sleep(duration)` on the real clock: the clock
            // was read a moment ago to compute this deadline, so it is all
            // but certainly ahead. Reading it again would be a quarter of a
            // register-and-cancel (`timers_mt`); instead the wheel decides,
            // under the lock the registration takes anyway
            // (`TimeDriver::register_new`): done at once if the wheel has
            // passed the deadline, otherwise registered, and if the clock
            // has passed it meanwhile (a tiny duration, or a sleep polled
            // long after it was made) it fires at the wheel's next advance,
            // never early. `sleep_until`, a reset and the mock clock keep
            // the exact check below (a passed deadline is done at once).
            let Some(key) = driver.register_new(tick, cx.waker()) else {
                return Poll::Ready(());
            };
            self.registered = Some(Registration::new(key, tick, cx.waker()));
            return Poll::Pending;
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
                self.registered = Some(Registration::new(key, tick, cx.waker()));
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
