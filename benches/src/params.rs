//! The sizes of every workload, shared by all three runtimes.
//!
//! "Same work in every runtime" is the first rule of BENCHMARKS.md; keeping
//! the counts in one place makes it impossible for one side to drift.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Worker threads of every multi-thread runtime (the machines have 2 cores).
pub const WORKER_THREADS: usize = 2;

/// Tasks spawned by `spawn_local_ct`, `spawn_local_mt` and `spawn_remote_mt`.
pub const SPAWN_TASKS: usize = 10_000;

/// Tasks in `yield_many_mt`.
pub const YIELD_TASKS: usize = 200;
/// `yield_now()` calls per task in `yield_many_mt`.
pub const YIELDS_PER_TASK: usize = 1_000;

/// Task pairs in `ping_pong_mt`.
pub const PING_PONG_PAIRS: usize = 1_000;

/// Tasks in the `chained_spawn_mt` chain.
pub const CHAIN_LENGTH: usize = 1_000;

/// Futures joined by `join_all_1000`.
pub const JOIN_ALL_FUTURES: usize = 1_000;

/// Sleeping tasks in `timer_fire_mock`.
pub const TIMER_TASKS: usize = 10_000;
/// Longest sleep in `timer_fire_mock`, in milliseconds (the shortest is 1).
pub const TIMER_MAX_MS: u64 = 10_000;
/// Seed of the `timer_fire_mock` sleep durations.
pub const TIMER_SEED: u64 = 0x5EED_7131;

/// `timeout` calls in `timer_cancel`.
pub const TIMEOUTS: usize = 100_000;
/// The deadline of each `timer_cancel` timeout; never reached.
pub const TIMEOUT: Duration = Duration::from_secs(1);

/// Tasks contending in `semaphore_mt`.
pub const SEMAPHORE_TASKS: usize = 100;
/// Acquire/yield/release rounds per task in `semaphore_mt`.
pub const SEMAPHORE_ROUNDS: usize = 100;
/// Permits of the `semaphore_mt` semaphore.
pub const SEMAPHORE_PERMITS: usize = 10;

/// Producers in `mpsc_mt`.
pub const MPSC_PRODUCERS: usize = 4;
/// Messages sent by each `mpsc_mt` producer.
pub const MPSC_MESSAGES_PER_PRODUCER: u64 = 25_000;
/// Capacity of the bounded `mpsc_mt` channel.
pub const MPSC_CAPACITY: usize = 1_024;

/// Receiver tasks in `watch_fanout` and `broadcast_fanout`.
pub const FANOUT_RECEIVERS: usize = 64;
/// Values the one sender of `watch_fanout` and `broadcast_fanout` sends
/// (`1..=FANOUT_VALUES`), yielding after each.
pub const FANOUT_VALUES: u64 = 1_000;
/// Capacity of the `broadcast_fanout` channel: more than `FANOUT_VALUES`,
/// so no receiver lags and every receiver sees every value.
pub const BROADCAST_CAPACITY: usize = 1_024;

/// `spawn_blocking` calls in the `spawn_blocking` workload.
pub const BLOCKING_CALLS: usize = 10_000;
/// How many blocking calls are in flight before they are awaited.
pub const BLOCKING_BATCH: usize = 16;

/// Loopback connections in `tcp_echo_mt`.
pub const TCP_CONNECTIONS: usize = 32;
/// Round trips per connection in `tcp_echo_mt`.
pub const TCP_ROUND_TRIPS: usize = 1_000;
/// Bytes per message in `tcp_echo_mt`.
pub const TCP_MESSAGE_BYTES: usize = 64;

/// Children spawned by `scope_fanout`.
pub const SCOPE_CHILDREN: usize = 10_000;
/// Children of `scope_fanout` allowed to run at once.
pub const SCOPE_MAX_RUNNING: usize = 64;

/// Tasks kept waiting by `memory_per_task`.
pub const MEMORY_TASKS: usize = 100_000;

/// Tasks contending for the one mutex in `mutex_mt`.
pub const MUTEX_TASKS: usize = 100;
/// Lock/yield/increment/unlock rounds per task in `mutex_mt`.
pub const MUTEX_ROUNDS: usize = 100;

/// Tasks sharing the one lock in `rwlock_read_mostly`.
pub const RWLOCK_TASKS: usize = 100;
/// Operations (reads and writes) per task in `rwlock_read_mostly`.
pub const RWLOCK_OPS: usize = 100;
/// One operation in this many is a write in `rwlock_read_mostly`.
pub const RWLOCK_WRITE_EVERY: usize = 20;

/// Sleeps sharing one deadline in `timers_same_deadline_cancel`.
pub const SAME_DEADLINE_TIMERS: usize = 100_000;
/// How far away that one deadline is; never reached.
pub const SAME_DEADLINE: Duration = Duration::from_secs(3_600);

/// Tasks of `timers_mt`, one per worker.
pub const MT_TASKS: usize = WORKER_THREADS;
/// Sleeps each `timers_mt` task registers and cancels.
pub const MT_TIMERS_PER_TASK: usize = 100_000;
/// The duration of each `timers_mt` sleep; never reached.
pub const MT_TIMER: Duration = Duration::from_secs(1);

/// Blocking jobs started at once by `spawn_blocking_burst`.
pub const BURST_JOBS: usize = 1_000;

/// Idle connections held by the `c10k_idle` server (a tenth in quick mode;
/// fewer if the file-descriptor limit is too low, see `c10k::connections`).
pub const C10K_CONNECTIONS: usize = 10_000;
/// How far the `c10k_idle` clients may run ahead of the server's accepts.
pub const C10K_MAX_PENDING: usize = 64;

/// Whether `compare --quick` is running (see [`set_quick`]).
static QUICK: AtomicBool = AtomicBool::new(false);

/// Tells the workloads whose single run takes long (`c10k_idle`) to shrink
/// for a quick run, as `compare --quick` does.
///
/// ```
/// use minirt_benches::params::{quick, set_quick};
/// assert!(!quick());
/// set_quick(true);
/// assert!(quick());
/// ```
pub fn set_quick(on: bool) {
    QUICK.store(on, Ordering::Relaxed);
}

/// Whether [`set_quick`] asked for short runs.
pub fn quick() -> bool {
    QUICK.load(Ordering::Relaxed)
}

/// The sum the `mpsc_mt` consumer must see: every producer sends
/// `0..MPSC_MESSAGES_PER_PRODUCER`.
///
/// ```
/// use minirt_benches::params::*;
/// let per_producer = MPSC_MESSAGES_PER_PRODUCER * (MPSC_MESSAGES_PER_PRODUCER - 1) / 2;
/// assert_eq!(mpsc_expected_sum(), MPSC_PRODUCERS as u64 * per_producer);
/// ```
pub fn mpsc_expected_sum() -> u64 {
    let n = MPSC_MESSAGES_PER_PRODUCER;
    MPSC_PRODUCERS as u64 * (n * (n - 1) / 2)
}

/// The `TIMER_TASKS` sleep durations of `timer_fire_mock`, drawn uniformly
/// from `1..=TIMER_MAX_MS` milliseconds with the fixed [`TIMER_SEED`], so
/// every runtime sleeps the same schedule.
pub fn sleep_durations() -> Vec<Duration> {
    let mut state = TIMER_SEED;
    (0..TIMER_TASKS)
        .map(|_| Duration::from_millis(1 + splitmix64(&mut state) % TIMER_MAX_MS))
        .collect()
}

/// One step of the SplitMix64 generator: small, seedable, good enough to
/// scatter deadlines over the timer wheel's levels.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sleep_durations_are_fixed_and_in_range() {
        let first = sleep_durations();
        assert_eq!(
            first,
            sleep_durations(),
            "the schedule must not change between runs"
        );
        assert_eq!(first.len(), TIMER_TASKS);
        let min = first.iter().min().unwrap();
        let max = first.iter().max().unwrap();
        assert!(*min >= Duration::from_millis(1), "min {min:?}");
        assert!(*max <= Duration::from_millis(TIMER_MAX_MS), "max {max:?}");
        // Spread over the whole range, not clumped: both ends are reached closely.
        assert!(*min < Duration::from_millis(20), "min {min:?}");
        assert!(
            *max > Duration::from_millis(TIMER_MAX_MS - 20),
            "max {max:?}"
        );
    }
}
