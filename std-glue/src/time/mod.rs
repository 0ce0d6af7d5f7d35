//! Time: sleeps, timeouts, intervals, and real or mock clocks.
//!
//! Every runtime has a hierarchical timer wheel (from `minirt-core`) at 1 ms
//! resolution. Timers never fire early. They fire from the thread that
//! parks in the runtime's driver — the park timeout is the next deadline
//! (or, for a far one, the wheel slot start where it moves closer) —
//! so there is no timer thread, and busy threads fire due timers every 61
//! scheduler ticks. See `driver.rs` here for how registration avoids
//! serializing workers, and the runtime's driver (`src/driver/`) for when a
//! mock clock moves.
//!
//! With a [mock clock](Clock::mock) time is virtual: it moves by
//! [`advance`] or jumps to the next deadline when nothing is running — no
//! task, `block_on` future, blocking job or sync-scope closure — and no task
//! is runnable (and, while sockets exist, after a short real-time
//! [autojump threshold](Clock::autojump_threshold)), so tests of timeouts and
//! retries run in milliseconds and deterministically.
//!
//! # Scheduled calls
//!
//! "Run this after 5 s", "at this instant", "every minute" (Python's ayo
//! offers `after`, `at`, `every`) are a sleep or an interval in a task. On
//! a scope, [`ScopeHandle::after`](crate::scope::ScopeHandle::after), `at`,
//! `at_system_time` and `every` (with an [overrun
//! policy](crate::scope::Overrun)) do it for you, cancel with the scope and
//! return a handle to unschedule. By hand:
//!
//! ```
//! use std::time::Duration;
//! use minirt::time::{self, Clock, Instant, MissedTickBehavior};
//!
//! let rt = minirt::Builder::current_thread().clock(Clock::mock()).build()?;
//! rt.block_on(async {
//!     let start = Instant::now();
//!     // after
//!     let after = minirt::spawn(async { time::sleep(Duration::from_secs(5)).await; "after" });
//!     // at
//!     let at = minirt::spawn(async move { time::sleep_until(start + Duration::from_secs(7)).await; "at" });
//!     // every, three times
//!     let every = minirt::spawn(async move {
//!         let mut tick = time::interval(Duration::from_secs(2));
//!         tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
//!         let mut at = vec![];
//!         for _ in 0..3 {
//!             at.push(tick.tick().await - start);
//!         }
//!         at
//!     });
//!     assert_eq!(after.await.unwrap(), "after");
//!     assert_eq!(at.await.unwrap(), "at");
//!     assert_eq!(every.await.unwrap(), [Duration::ZERO, Duration::from_secs(2), Duration::from_secs(4)]);
//!     assert_eq!(start.elapsed(), Duration::from_secs(7));
//! });
//! # Ok::<(), std::io::Error>(())
//! ```

mod clock;
pub(crate) mod driver;
mod instant;
mod interval;
mod sleep;
mod timeout;

use std::time::Duration;

pub use clock::{Clock, DEFAULT_AUTOJUMP_THRESHOLD};
pub use instant::Instant;
pub use interval::{interval, interval_at, Interval, MissedTickBehavior};
pub use sleep::{sleep, sleep_until, Sleep};
pub use timeout::{timeout, timeout_at, Elapsed, Timeout};

use crate::runtime::{context, NO_RUNTIME};

/// Moves the current runtime's mock clock forward by `duration`, fires the
/// timers that became due, and yields so the tasks they woke can run.
///
/// # Panics
///
/// Outside a runtime, or if the runtime's clock is not a mock clock.
///
/// ```
/// use std::time::Duration;
/// use minirt::time::{self, Clock, Instant};
///
/// let rt = minirt::Builder::current_thread()
///     .clock(Clock::mock().auto_advance(false))
///     .build()?;
/// rt.block_on(async {
///     let start = Instant::now();
///     let sleeper = minirt::spawn(time::sleep(Duration::from_secs(10)));
///     time::advance(Duration::from_secs(4)).await;
///     assert!(!sleeper.is_finished());
///     time::advance(Duration::from_secs(6)).await;
///     sleeper.await.unwrap();
///     assert_eq!(start.elapsed(), Duration::from_secs(10));
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn advance(duration: Duration) {
    let driver = context::with_current(|h| h.map(|h| h.inner.driver.clone()))
        .unwrap_or_else(|| panic!("minirt::time::advance: {NO_RUNTIME}"));
    assert!(
        driver.time.clock.is_mock(),
        "minirt::time::advance needs a runtime built with Builder::clock(Clock::mock())"
    );
    driver.advance(duration);
    crate::yield_now().await;
}
