//! CPU time of the whole process, for `tcp_echo_mt_user_cpu` and
//! `process_spawn_wait_parent_cpu`.
//!
//! Why: `tcp_echo_mt` is bound by system calls, so its wall time hides how
//! much work the runtime itself does per round trip. The user CPU time of
//! the process (`getrusage(RUSAGE_SELF)`: every thread, kernel time left
//! out) around the same measured section shows it. `process_spawn_wait` is
//! bound by the children (`exec`, the dynamic loader, `exit`), which run on
//! the same two cores; the parent's user + system time
//! ([`process_cpu`]: children left out, they are `RUSAGE_CHILDREN`) is the
//! runtime's share of each child. A [`Stopwatch`] reads any of the clocks,
//! so the workload code is shared by the wall-time and CPU rows.
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
    let usage = self_usage();
    duration(usage.ru_utime)
}

/// User + system CPU time used so far by all threads of this process
/// (its children's time is not included).
pub fn process_cpu() -> Duration {
    let usage = self_usage();
    duration(usage.ru_utime) + duration(usage.ru_stime)
}

/// `getrusage(RUSAGE_SELF)`.
fn self_usage() -> libc::rusage {
    // SAFETY: `rusage` is plain old data; all-zero is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid, writable `rusage` for the call to fill.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    assert_eq!(rc, 0, "getrusage: {}", std::io::Error::last_os_error());
    usage
}

fn duration(time: libc::timeval) -> Duration {
    Duration::from_secs(time.tv_sec as u64) + Duration::from_micros(time.tv_usec as u64)
}

/// Measures a section in wall time, or in CPU time divided by a count.
#[derive(Debug, Clone, Copy)]
pub struct Stopwatch {
    /// When the section started (wall clock).
    wall: Instant,
    /// Set to report CPU time instead.
    cpu: Option<CpuStart>,
}

/// A CPU stopwatch's clock, its reading at the start, and the divisor.
#[derive(Debug, Clone, Copy)]
struct CpuStart {
    clock: fn() -> Duration,
    at: Duration,
    per: u32,
}

impl Stopwatch {
    /// Starts a wall-clock stopwatch.
    pub fn wall() -> Stopwatch {
        Stopwatch {
            wall: Instant::now(),
            cpu: None,
        }
    }

    /// Starts a stopwatch of user CPU time ([`user_cpu`]), reported divided
    /// by `per` (the number of operations the section does).
    pub fn user_cpu_per(per: u32) -> Stopwatch {
        Stopwatch::cpu_per(user_cpu, per)
    }

    /// Starts a stopwatch of user + system CPU time ([`process_cpu`]),
    /// reported divided by `per`.
    pub fn process_cpu_per(per: u32) -> Stopwatch {
        Stopwatch::cpu_per(process_cpu, per)
    }

    fn cpu_per(clock: fn() -> Duration, per: u32) -> Stopwatch {
        Stopwatch {
            wall: Instant::now(),
            cpu: Some(CpuStart {
                clock,
                at: clock(),
                per: per.max(1),
            }),
        }
    }

    /// The time since the start, in the stopwatch's clock.
    pub fn elapsed(&self) -> Duration {
        match self.cpu {
            None => self.wall.elapsed(),
            Some(CpuStart { clock, at, per }) => clock().saturating_sub(at) / per,
        }
    }
}

/// A user-CPU stopwatch for one iteration of `tcp_echo_mt`: divided by its
/// round trips (`TCP_CONNECTIONS` x `TCP_ROUND_TRIPS`).
pub fn per_echo_round_trip() -> Stopwatch {
    use crate::params::{TCP_CONNECTIONS, TCP_ROUND_TRIPS};
    Stopwatch::user_cpu_per((TCP_CONNECTIONS * TCP_ROUND_TRIPS) as u32)
}
