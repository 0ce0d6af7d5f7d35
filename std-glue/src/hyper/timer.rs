//! [`Timer`]: hyper's timeouts on minirt's clock.

use std::pin::Pin;
use std::time::{Duration, Instant};

use crate::time::{self, Sleep};

/// Implements `hyper::rt::Timer` with [`minirt::time::sleep`](crate::time::sleep):
/// `sleep`, `sleep_until`, `reset` and `now` all read the current runtime's
/// clock, so under a mock clock hyper's timeouts (e.g.
/// `header_read_timeout`) fire in virtual time.
///
/// ```
/// use std::time::Duration;
/// use hyper::rt::Timer as _;
/// let rt = minirt::Builder::current_thread().mock_clock().build().unwrap();
/// rt.block_on(async {
///     let timer = minirt::hyper::Timer::new();
///     let start = timer.now();
///     timer.sleep(Duration::from_secs(3600)).await;
///     assert!(timer.now() - start >= Duration::from_secs(3600));
/// });
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Timer;

impl Timer {
    /// A timer on the clock of whichever runtime its sleeps are polled in.
    ///
    /// ```
    /// let _timer = minirt::hyper::Timer::new();
    /// ```
    pub fn new() -> Timer {
        Timer
    }
}

impl hyper::rt::Sleep for Sleep {}

impl hyper::rt::Timer for Timer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(time::sleep(duration))
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(time::sleep_until(time::Instant::from_std(deadline)))
    }

    fn now(&self) -> Instant {
        time::Instant::now().into_std()
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn hyper::rt::Sleep>>, new_deadline: Instant) {
        match sleep.as_mut().downcast_mut_pin::<Sleep>() {
            Some(ours) => ours.get_mut().reset(time::Instant::from_std(new_deadline)),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}
