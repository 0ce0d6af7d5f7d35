//! `Interval`: ticks at a fixed period, with a policy for missed ticks.

use std::fmt;
use std::future::poll_fn;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::{sleep_until, Instant, Sleep};

/// What an [`Interval`] does when ticks were missed because the code
/// between `tick()`s ran longer than the period.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MissedTickBehavior {
    /// Fire the missed ticks back to back until caught up, keeping the
    /// original schedule (`start + k * period`). The default.
    #[default]
    Burst,
    /// Restart the schedule from now: the next tick is `period` after the
    /// late one fired.
    Delay,
    /// Fire the late tick once, drop the other missed ones, and continue on
    /// the original schedule with the next tick after now.
    Skip,
}

/// Ticks every `period`, the first tick completing immediately.
///
/// # Panics
///
/// If `period` is zero.
///
/// ```
/// use std::time::Duration;
/// use minirt::time::{interval, Clock};
///
/// let rt = minirt::Builder::current_thread().clock(Clock::mock()).build()?;
/// rt.block_on(async {
///     let mut every = interval(Duration::from_secs(10));
///     let first = every.tick().await;
///     let second = every.tick().await;
///     assert_eq!(second - first, Duration::from_secs(10));
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    interval_at(Instant::now(), period)
}

/// Ticks every `period`, the first tick at `start`.
///
/// # Panics
///
/// If `period` is zero.
#[track_caller]
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(
        !period.is_zero(),
        "minirt::time::interval: period must be greater than zero"
    );
    Interval {
        next: start,
        period,
        behavior: MissedTickBehavior::Burst,
        sleep: sleep_until(start),
    }
}

/// The timer returned by [`interval`] and [`interval_at`].
pub struct Interval {
    /// The scheduled instant of the next tick.
    next: Instant,
    period: Duration,
    behavior: MissedTickBehavior,
    sleep: Sleep,
}

impl Interval {
    /// Waits for the next tick and returns its scheduled instant.
    pub async fn tick(&mut self) -> Instant {
        poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Poll-based [`tick`](Self::tick).
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        if Pin::new(&mut self.sleep).poll(cx).is_pending() {
            return Poll::Pending;
        }
        let scheduled = self.next;
        let now = Instant::now();
        self.next = match self.behavior {
            MissedTickBehavior::Burst => scheduled.far_add(self.period),
            MissedTickBehavior::Delay => now.far_add(self.period),
            MissedTickBehavior::Skip => {
                let behind = now.duration_since(scheduled);
                let periods = behind.as_nanos() / self.period.as_nanos() + 1;
                let skip = self
                    .period
                    .saturating_mul(u32::try_from(periods).unwrap_or(u32::MAX));
                scheduled.far_add(skip)
            }
        };
        self.sleep.reset(self.next);
        Poll::Ready(scheduled)
    }

    /// Restarts the schedule: the next tick is one period from now.
    pub fn reset(&mut self) {
        self.next = Instant::now().far_add(self.period);
        self.sleep.reset(self.next);
    }

    /// The missed-tick policy (default [`MissedTickBehavior::Burst`]).
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.behavior
    }

    /// Sets the missed-tick policy.
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.behavior = behavior;
    }

    /// The period.
    pub fn period(&self) -> Duration {
        self.period
    }
}

impl fmt::Debug for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Interval")
            .field("next", &self.next)
            .field("period", &self.period)
            .field("behavior", &self.behavior)
            .finish()
    }
}
