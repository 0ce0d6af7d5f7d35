//! `spawn_blocking_burst`: [`BURST_JOBS`] blocking jobs started at once on a
//! pool that has no thread yet, for minirt, tokio and smol.
//!
//! Why: `spawn_blocking` measures a warm pool fed 16 jobs at a time. A burst
//! on a cold pool measures the growth rule instead — how many threads a
//! pool starts for a thousand tiny jobs, and how fast it gets them done.
//!
//! "From zero", honestly for each: minirt and tokio get a fresh runtime per
//! run (built, and dropped, outside the timed part), and no thread of an
//! earlier run's pool (found by name in `/proc/self/task`) may be alive when
//! a run starts. smol's pool is global (the `blocking` crate) and its idle
//! threads never exit below its limit of 500, so each smol run is a fresh
//! process: the binary runs itself with [`CHILD_ENV`] set, and the child
//! times one burst and prints it. Only binaries that call
//! [`serve_child_run`] first thing (`compare` does) have a smol number.
//! One run per sample: the workload's unit is
//! [`Unit::ColdTime`](crate::Unit::ColdTime).

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::params::*;
use crate::workloads::{Runner, Runtime};

/// The code for `spawn_blocking_burst` on `runtime`.
pub(crate) fn runner(runtime: Runtime, id: &str) -> Option<Runner> {
    if id != "spawn_blocking_burst" {
        return None;
    }
    let run: fn(u64) -> Duration = match runtime {
        #[cfg(feature = "minirt")]
        Runtime::Minirt => minirt_burst,
        #[cfg(not(feature = "minirt"))]
        Runtime::Minirt => return None,
        Runtime::Tokio => tokio_burst,
        Runtime::Smol if CAN_SERVE_CHILD.load(Ordering::Relaxed) => smol_burst,
        Runtime::Smol => return None,
    };
    Some(Runner::Time(run))
}

/// The name minirt's pool threads get (as `burst-blocking`).
const MINIRT_POOL: &str = "burst";
/// The name tokio's pool threads get.
const TOKIO_POOL: &str = "burst-blocking";

/// Set in the environment of a child process that is to time one smol burst.
pub const CHILD_ENV: &str = "MINIRT_BENCHES_SMOL_BURST_CHILD";

/// Whether this binary called [`serve_child_run`], so a child can be run.
static CAN_SERVE_CHILD: AtomicBool = AtomicBool::new(false);

/// Call first thing in `main`: if this process is a child started for one
/// smol burst, times it, prints the nanoseconds and exits; otherwise notes
/// that this binary can serve such children, and returns.
pub fn serve_child_run() {
    if std::env::var_os(CHILD_ENV).is_some() {
        println!("{}", smol_burst_here().as_nanos());
        std::process::exit(0);
    }
    CAN_SERVE_CHILD.store(true, Ordering::Relaxed);
}

/// How many threads of this process have a name starting with `prefix`
/// (Linux: `/proc/self/task/*/comm`), or `None` where that cannot be read.
pub fn threads_named(prefix: &str) -> Option<usize> {
    let tasks = std::fs::read_dir("/proc/self/task").ok()?;
    Some(
        tasks
            .flatten()
            .filter_map(|task| std::fs::read_to_string(task.path().join("comm")).ok())
            .filter(|name| name.starts_with(prefix))
            .count(),
    )
}

/// Waits until no thread named `prefix...` is alive (pool threads of an
/// earlier run exit on their own). Polls; gives up after 10 s.
fn wait_for_no_threads(prefix: &str) {
    let start = Instant::now();
    while threads_named(prefix).is_some_and(|n| n > 0) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "spawn_blocking_burst: {prefix}* threads did not exit within 10 s"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[cfg(feature = "minirt")]
fn minirt_burst(iters: u64) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        wait_for_no_threads(MINIRT_POOL);
        let rt = minirt::Builder::current_thread()
            .thread_name(MINIRT_POOL)
            .build()
            .expect("building a minirt current-thread runtime");
        total += rt.block_on(async {
            let start = Instant::now();
            let jobs: Vec<_> = (0..BURST_JOBS)
                .map(|_| minirt::spawn_blocking(|| black_box(0u64)))
                .collect();
            for job in jobs {
                black_box(job.await.expect("blocking job failed"));
            }
            start.elapsed()
        });
    }
    total
}

fn tokio_burst(iters: u64) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        wait_for_no_threads(TOKIO_POOL);
        let rt = tokio::runtime::Builder::new_current_thread()
            .thread_name(TOKIO_POOL)
            .enable_all()
            .build()
            .expect("building a tokio current-thread runtime");
        total += rt.block_on(async {
            let start = Instant::now();
            let jobs: Vec<_> = (0..BURST_JOBS)
                .map(|_| tokio::task::spawn_blocking(|| black_box(0u64)))
                .collect();
            for job in jobs {
                black_box(job.await.expect("blocking job failed"));
            }
            start.elapsed()
        });
    }
    total
}

/// One smol burst in a fresh child process per iteration.
fn smol_burst(iters: u64) -> Duration {
    let exe = std::env::current_exe().expect("finding this binary to re-run it");
    (0..iters)
        .map(|_| {
            let output = std::process::Command::new(&exe)
                .env(CHILD_ENV, "1")
                .stderr(std::process::Stdio::inherit())
                .output()
                .expect("running a spawn_blocking_burst child");
            let stdout = String::from_utf8_lossy(&output.stdout);
            let nanos: u64 = stdout.trim().parse().unwrap_or_else(|_| {
                panic!(
                    "spawn_blocking_burst child printed {stdout:?} ({})",
                    output.status
                )
            });
            Duration::from_nanos(nanos)
        })
        .sum()
}

/// One smol burst in this process, whose `blocking` pool must be unused.
fn smol_burst_here() -> Duration {
    let executor = async_executor::LocalExecutor::new();
    async_io::block_on(executor.run(async {
        let start = Instant::now();
        let jobs: Vec<_> = (0..BURST_JOBS)
            .map(|_| blocking::unblock(|| black_box(0u64)))
            .collect();
        for job in jobs {
            black_box(job.await);
        }
        start.elapsed()
    }))
}
