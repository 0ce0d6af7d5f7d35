//! `Clock`: where a runtime reads the time from — the real monotonic clock,
//! or a mock clock that only moves when told to (or when everything is idle).

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering::*};
use std::time::Duration;

/// The clock a runtime uses, chosen with [`Builder::clock`](crate::Builder::clock).
///
/// - [`Clock::real`] (the default) reads `std::time::Instant`.
/// - [`Clock::mock`] starts at a fixed instant and moves only by
///   [`advance`](crate::time::advance) or, with auto-advance on (the
///   default), by jumping to the next timer deadline whenever nothing is
///   running: every task idle, no `block_on` future being polled, no
///   blocking closure queued or running, no sync-scope closure running. A
///   test that sleeps a simulated hour finishes in milliseconds, and the same
///   program sees the same virtual times on every run.
///
/// **Real I/O and virtual time.** While the runtime has I/O sources (sockets,
/// listeners), a peer may still be about to send something, in real time.
/// So before jumping, the runtime waits for
/// [`autojump_threshold`](Clock::autojump_threshold) of real time (default
/// [`DEFAULT_AUTOJUMP_THRESHOLD`], 250 ms) with no I/O event and nothing
/// else happening: a 10 s virtual `timeout` around a loopback read whose
/// data arrives 100 ms later succeeds, and a read that never gets data still
/// times out after about 250 ms of real time. Without I/O sources the jump is
/// immediate.
///
/// ```
/// use std::time::Duration;
/// use minirt::time::{self, Clock, Instant};
///
/// let rt = minirt::Builder::current_thread().clock(Clock::mock()).build()?;
/// rt.block_on(async {
///     let start = Instant::now();
///     time::sleep(Duration::from_secs(3600)).await; // returns at once in real time
///     assert_eq!(start.elapsed(), Duration::from_secs(3600)); // exactly
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clock {
    pub(crate) kind: ClockKind,
    /// `None`: [`DEFAULT_AUTOJUMP_THRESHOLD`].
    autojump_threshold: Option<Duration>,
}

/// How long a mock clock's runtime must have been idle, in real time, before
/// virtual time jumps while I/O sources exist; see [`Clock`].
pub const DEFAULT_AUTOJUMP_THRESHOLD: Duration = Duration::from_millis(250);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ClockKind {
    Real,
    Mock { auto_advance: bool },
}

impl Clock {
    /// The operating system's monotonic clock.
    pub fn real() -> Clock {
        Clock {
            kind: ClockKind::Real,
            autojump_threshold: None,
        }
    }

    /// A virtual clock starting at a fixed instant, with auto-advance on.
    pub fn mock() -> Clock {
        Clock {
            kind: ClockKind::Mock { auto_advance: true },
            autojump_threshold: None,
        }
    }

    /// Turns auto-advance of a mock clock on or off. With it off, time moves
    /// only by [`advance`](crate::time::advance), for tests that want to
    /// step through time by hand.
    ///
    /// # Panics
    ///
    /// On a real clock, which cannot be told how to move.
    #[track_caller]
    pub fn auto_advance(self, on: bool) -> Clock {
        match self.kind {
            ClockKind::Mock { .. } => Clock {
                kind: ClockKind::Mock { auto_advance: on },
                ..self
            },
            ClockKind::Real => panic!("Clock::auto_advance only applies to Clock::mock()"),
        }
    }

    /// Sets how long the runtime must have been idle, in real time, before a
    /// mock clock auto-advances while I/O sources (sockets, listeners) are
    /// registered; see the [type docs](Clock). `Duration::ZERO` jumps at once,
    /// as tokio's paused clock does, even while a peer may still be sending.
    ///
    /// ```
    /// use std::time::Duration;
    /// use minirt::time::Clock;
    ///
    /// // Tests whose sockets only ever talk to each other inside the runtime.
    /// let clock = Clock::mock().autojump_threshold(Duration::from_millis(20));
    /// let rt = minirt::Builder::current_thread().clock(clock).build()?;
    /// # drop(rt);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # Panics
    ///
    /// On a real clock.
    #[track_caller]
    pub fn autojump_threshold(self, threshold: Duration) -> Clock {
        match self.kind {
            ClockKind::Mock { .. } => Clock {
                autojump_threshold: Some(threshold),
                ..self
            },
            ClockKind::Real => panic!("Clock::autojump_threshold only applies to Clock::mock()"),
        }
    }

    pub(crate) fn autojump_threshold_or_default(&self) -> Duration {
        self.autojump_threshold
            .unwrap_or(DEFAULT_AUTOJUMP_THRESHOLD)
    }

    /// Whether this is a mock clock.
    pub fn is_mock(&self) -> bool {
        matches!(self.kind, ClockKind::Mock { .. })
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::real()
    }
}

/// A runtime's running clock: an origin plus, for the mock clock, the
/// virtual time elapsed since it (nanoseconds).
pub(crate) struct RunningClock {
    kind: ClockKind,
    origin: std::time::Instant,
    mock_elapsed_ns: AtomicU64,
}

impl RunningClock {
    pub(crate) fn new(clock: &Clock) -> RunningClock {
        RunningClock {
            kind: clock.kind,
            origin: std::time::Instant::now(),
            mock_elapsed_ns: AtomicU64::new(0),
        }
    }

    pub(crate) fn is_mock(&self) -> bool {
        matches!(self.kind, ClockKind::Mock { .. })
    }

    pub(crate) fn auto_advance(&self) -> bool {
        matches!(self.kind, ClockKind::Mock { auto_advance: true })
    }

    /// Time since the origin.
    pub(crate) fn elapsed(&self) -> Duration {
        match self.kind {
            ClockKind::Real => self.origin.elapsed(),
            ClockKind::Mock { .. } => Duration::from_nanos(self.mock_elapsed_ns.load(Acquire)),
        }
    }

    /// The current instant of this clock.
    pub(crate) fn now(&self) -> std::time::Instant {
        match self.kind {
            ClockKind::Real => std::time::Instant::now(),
            ClockKind::Mock { .. } => self.origin + self.elapsed(),
        }
    }

    /// The current wheel tick: whole milliseconds since the origin, rounded
    /// down (so a deadline tick, rounded up, is never reached early).
    pub(crate) fn now_tick(&self) -> u64 {
        duration_to_ms_floor(self.elapsed())
    }

    /// The tick at which `deadline` has passed: rounded up.
    pub(crate) fn deadline_tick(&self, deadline: std::time::Instant) -> u64 {
        let since = deadline.saturating_duration_since(self.origin);
        let ms = duration_to_ms_floor(since);
        if since.subsec_nanos() % 1_000_000 != 0 {
            ms.saturating_add(1)
        } else {
            ms
        }
    }

    /// Real time until `tick`, for park timeouts (rounded up to the ms).
    pub(crate) fn until_tick(&self, tick: u64) -> Duration {
        let target = Duration::from_millis(tick);
        target.saturating_sub(self.elapsed())
    }

    /// Moves a mock clock forward by `by`. No-op on a real clock.
    pub(crate) fn advance(&self, by: Duration) {
        if self.is_mock() {
            let ns = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
            let _ = self
                .mock_elapsed_ns
                .fetch_update(AcqRel, Acquire, |cur| Some(cur.saturating_add(ns)));
        }
    }

    /// Moves a mock clock forward to `tick` if it is behind it.
    pub(crate) fn advance_to_tick(&self, tick: u64) {
        let ns = tick.saturating_mul(1_000_000);
        self.mock_elapsed_ns.fetch_max(ns, AcqRel);
    }
}

fn duration_to_ms_floor(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl fmt::Debug for RunningClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunningClock")
            .field("kind", &self.kind)
            .field("elapsed", &self.elapsed())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadline_ticks_round_up_and_now_rounds_down() {
        let clock = RunningClock::new(&Clock::mock());
        let o = clock.origin;
        assert_eq!(clock.deadline_tick(o + Duration::from_millis(5)), 5);
        assert_eq!(clock.deadline_tick(o + Duration::from_micros(5_001)), 6);
        clock.advance(Duration::from_micros(5_999));
        assert_eq!(clock.now_tick(), 5);
        clock.advance_to_tick(9);
        assert_eq!(clock.elapsed(), Duration::from_millis(9));
        clock.advance_to_tick(3); // never backwards
        assert_eq!(clock.elapsed(), Duration::from_millis(9));
    }
}
