//! User CPU time of the whole process, for `tcp_echo_mt_user_cpu`.
//!
//! Why: `tcp_echo_mt` is bound by system calls, so its wall time hides how
//! much work the runtime itself does per round trip. The user CPU time of
//! the process (`getrusage(RUSAGE_SELF)`: every thread, kernel time left
//! out) around the same measured section shows it. A [`Stopwatch`] reads
//! either clock, so the workload code is shared by both rows.
//!
//! ```
//! use minirt_benches::cpu::{user_cpu, Stopwatch};
//!
//! let watch = Stopwatch::user_cpu_per(1);
//! let mut x = 0u64;
//! for i in 0..1_000_000u64 {
//!     x = std::hint::black_box(x.wrapping_add(i));
//! }
//! assert!(watch.elapsed() <= user_cpu());
//! ```

use std::time::{Duration, Instant};

/// User CPU time used so far by all threads of this process.
pub fn user_cpu() -> Duration {
    // SAFETY: `rusage` is plain old data; all-zero is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid, writable `rusage` for the call to fill.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    assert_eq!(rc, 0, "getrusage: {}", std::io::Error::last_os_error());
    Duration::from_secs(usage.ru_utime.tv_sec as u64)
        + Duration::from_micros(usage.ru_utime.tv_usec as u64)
}

/// Measures a section in wall time, or in user CPU time divided by a count.
#[derive(Debug, Clone, Copy)]
pub struct Stopwatch {
    /// When the section started (wall clock).
    wall: Instant,
    /// `Some((user CPU at the start, divisor))` to report user CPU instead.
    user: Option<(Duration, u32)>,
}

impl Stopwatch {
    /// Starts a wall-clock stopwatch.
    pub fn wall() -> Stopwatch {
        Stopwatch {
            wall: Instant::now(),
            user: None,
        }
    }

    /// Starts a stopwatch of user CPU time, reported divided by `per` (the
    /// number of operations the section does).
    pub fn user_cpu_per(per: u32) -> Stopwatch {
        Stopwatch {
            wall: Instant::now(),
            user: Some((user_cpu(), per.max(1))),
        }
    }

    /// The time since the start, in the stopwatch's clock.
    pub fn elapsed(&self) -> Duration {
        match self.user {
            None => self.wall.elapsed(),
            Some((start, per)) => user_cpu().saturating_sub(start) / per,
        }
    }
}

/// A user-CPU stopwatch for one iteration of `tcp_echo_mt`: divided by its
/// round trips (`TCP_CONNECTIONS` x `TCP_ROUND_TRIPS`).
pub fn per_echo_round_trip() -> Stopwatch {
    use crate::params::{TCP_CONNECTIONS, TCP_ROUND_TRIPS};
    Stopwatch::user_cpu_per((TCP_CONNECTIONS * TCP_ROUND_TRIPS) as u32)
}
