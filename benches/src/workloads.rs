//! The table of workloads and the lookup from (runtime, workload) to code.
//!
//! Each runtime module answers `runner(id)` for the workloads it can run;
//! `None` means the runtime lacks the feature (smol has no mock clock) or its
//! side is not compiled (minirt without the `minirt` feature), and the
//! tables print `n/a` rather than measuring something else.

use std::time::Duration;

/// One workload of BENCHMARKS.md.
#[derive(Debug, Clone, Copy)]
pub struct Workload {
    /// The id used in criterion group names, the table and the JSON.
    pub id: &'static str,
    /// What one iteration does.
    pub summary: &'static str,
    /// What the numbers measure.
    pub unit: Unit,
}

/// What a workload's numbers are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Wall time per iteration (lower is better).
    Time,
    /// Wall time of one run from a cold start (lower is better): sampled
    /// once per round, never in a loop, because getting back to "cold"
    /// takes longer than the run (see `blocking_burst.rs`).
    ColdTime,
    /// Heap bytes per task (lower is better).
    Bytes,
    /// CPU time of this process per operation (lower is better): every
    /// thread, children left out; user time only, or user + system, as the
    /// row's summary says. One run per sample like
    /// [`ColdTime`](Unit::ColdTime).
    Cpu,
}

/// How to run one workload on one runtime.
#[derive(Debug, Clone, Copy)]
pub enum Runner {
    /// Builds the runtime (untimed), runs the workload `iters` times and
    /// returns the time those runs took: criterion's `iter_custom` shape.
    Time(fn(iters: u64) -> Duration),
    /// Runs the workload once and returns heap bytes per task, or `None` if
    /// the counting allocator is not installed.
    Bytes(fn() -> Option<f64>),
}

/// The runtimes compared, in the order the `compare` binary interleaves them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    /// This project.
    Minirt,
    /// tokio 1.x.
    Tokio,
    /// smol's building blocks (async-executor, async-io, ...).
    Smol,
}

impl Runtime {
    /// Every runtime, in table order.
    pub const ALL: [Runtime; 3] = [Runtime::Minirt, Runtime::Tokio, Runtime::Smol];

    /// The runtime's column and criterion name.
    pub fn name(self) -> &'static str {
        match self {
            Runtime::Minirt => "minirt",
            Runtime::Tokio => "tokio",
            Runtime::Smol => "smol",
        }
    }
}

/// Every workload, in table order.
pub const WORKLOADS: &[Workload] = &[
    time(
        "block_on_ready",
        "block_on(async { 1 }) on an existing current-thread runtime",
    ),
    time(
        "spawn_local_ct",
        "inside block_on: spawn 10 000 empty tasks, await every handle",
    ),
    time(
        "spawn_local_mt",
        "inside a task: spawn 10 000 tasks counting down to a signal",
    ),
    time(
        "spawn_remote_mt",
        "from the bench thread: spawn 10 000 empty tasks, await all",
    ),
    time("yield_many_mt", "200 tasks x 1 000 yield_now()"),
    time(
        "ping_pong_mt",
        "1 000 task pairs exchanging a message each way over oneshots",
    ),
    time(
        "chained_spawn_mt",
        "a chain of 1 000 tasks, each spawning the next",
    ),
    time(
        "join_all_1000",
        "join_all of 1 000 futures that each yield once",
    ),
    time(
        "timer_fire_mock",
        "10 000 sleeps of 1..10 000 ms on a mock clock",
    ),
    time("timer_cancel", "100 000 x timeout(1 s, yield_now())"),
    time(
        "semaphore_mt",
        "100 tasks x 100 acquire/yield/release, 10 permits",
    ),
    time(
        "mpsc_mt",
        "4 producers x 25 000 messages, capacity 1 024, one consumer",
    ),
    time(
        "mpsc_unbounded_mt",
        "4 producers x 25 000 messages, unbounded channel, one consumer",
    ),
    time(
        "watch_fanout",
        "1 sender x 1 000 values, 64 receivers wait on changed() for the last",
    ),
    time(
        "broadcast_fanout",
        "1 sender x 1 000 values, capacity 1 024, 64 receivers get each",
    ),
    time(
        "spawn_blocking",
        "10 000 spawn_blocking calls awaited in batches of 16",
    ),
    time(
        "tcp_echo_mt",
        "32 loopback connections x 1 000 round trips of 64 bytes",
    ),
    Workload {
        id: "tcp_echo_mt_user_cpu",
        summary: "tcp_echo_mt's user CPU (getrusage, all threads) per round trip",
        unit: Unit::Cpu,
    },
    time(
        "scope_fanout",
        "10 000 children, at most 64 running at once",
    ),
    time(
        "mutex_mt",
        "100 tasks x 100 lock/yield/increment/unlock of one Mutex",
    ),
    time(
        "rwlock_read_mostly",
        "100 tasks x 100 RwLock ops (1 in 20 a write), yield while held",
    ),
    time(
        "timers_same_deadline_cancel",
        "100 000 sleeps due in 1 h at one instant, the wheel advanced 1 ms, all dropped",
    ),
    time(
        "timers_mt",
        "2 tasks (one per worker) x 100 000 sleep(1 s) registered and cancelled",
    ),
    Workload {
        id: "spawn_blocking_burst",
        summary: "1 000 spawn_blocking jobs at once on a pool with no thread yet",
        unit: Unit::ColdTime,
    },
    time(
        "fs_small_reads",
        "1 000 fs::read of 1 KiB files, one after another",
    ),
    time(
        "fs_seq_read_256m",
        "read a 256 MiB file (32 MiB quick) through File in 8 KiB reads",
    ),
    time(
        "fs_seq_write_256m",
        "write 256 MiB (32 MiB quick) through File in 8 KiB writes, flush",
    ),
    // Unix only, like `minirt::process`: elsewhere the row does not exist.
    #[cfg(unix)]
    time(
        "process_spawn_wait",
        "one child of /bin/true spawned and waited for, 8 in flight, in waves of 100",
    ),
    #[cfg(unix)]
    Workload {
        id: "process_spawn_wait_parent_cpu",
        summary: "process_spawn_wait's parent CPU (user + system, children left out) per child",
        unit: Unit::Cpu,
    },
    time(
        "c10k_idle",
        "connect 10 000 idle loopback clients; until the server holds all",
    ),
    Workload {
        id: "c10k_idle_memory",
        summary: "heap bytes per connection the c10k_idle server holds",
        unit: Unit::Bytes,
    },
    Workload {
        id: "memory_per_task",
        summary: "heap bytes per task with 100 000 tasks waiting on one event",
        unit: Unit::Bytes,
    },
];

/// A time workload entry.
const fn time(id: &'static str, summary: &'static str) -> Workload {
    Workload {
        id,
        summary,
        unit: Unit::Time,
    }
}

/// The code running workload `id` on `runtime`, or `None` for `n/a`.
pub fn runner(runtime: Runtime, id: &str) -> Option<Runner> {
    let core = match runtime {
        Runtime::Minirt => minirt_runner(id),
        Runtime::Tokio => crate::rt_tokio::runner(id),
        Runtime::Smol => crate::rt_smol::runner(id),
    };
    // Workloads at scale live in files of their own.
    core.or_else(|| crate::timers::runner(runtime, id))
        .or_else(|| crate::blocking_burst::runner(runtime, id))
        .or_else(|| crate::c10k::runner(runtime, id))
        .or_else(|| crate::fs::runner(runtime, id))
}

#[cfg(feature = "minirt")]
fn minirt_runner(id: &str) -> Option<Runner> {
    crate::rt_minirt::runner(id)
}

#[cfg(not(feature = "minirt"))]
fn minirt_runner(_id: &str) -> Option<Runner> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokio_runs_every_workload_with_the_right_unit() {
        for workload in WORKLOADS {
            match (workload.unit, runner(Runtime::Tokio, workload.id)) {
                (Unit::Time | Unit::ColdTime | Unit::Cpu, Some(Runner::Time(_)))
                | (Unit::Bytes, Some(Runner::Bytes(_))) => {}
                (unit, other) => panic!("{}: unit {unit:?} but runner {other:?}", workload.id),
            }
        }
    }

    #[test]
    fn smol_lacks_only_what_it_cannot_do() {
        let missing: Vec<_> = WORKLOADS
            .iter()
            .filter(|w| runner(Runtime::Smol, w.id).is_none())
            .map(|w| w.id)
            .collect();
        assert_eq!(
            missing,
            ["timer_fire_mock", "spawn_blocking_burst"],
            "smol has no mock clock, and a cold smol pool needs a fresh process \
             (only in binaries that call blocking_burst::serve_child_run); all else runs"
        );
    }

    #[test]
    fn unknown_workloads_have_no_runner() {
        for runtime in Runtime::ALL {
            assert!(runner(runtime, "no_such_workload").is_none());
        }
    }
}
