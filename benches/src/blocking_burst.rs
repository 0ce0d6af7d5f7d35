//! `spawn_blocking_burst`: [`BURST_JOBS`] blocking jobs started at once on a
//! pool that has no thread yet, for minirt, tokio and smol.
//!
//! Why: `spawn_blocking` measures a warm pool fed 16 jobs at a time. A burst
//! on a cold pool measures the growth rule instead — how many threads a
//! pool starts for a thousand tiny jobs, and how fast it gets them done.
//!
//! "From zero", honestly for each: minirt and tokio get a fresh runtime per
//! run (built, and dropped, outside the timed part); smol's pool is global
//! (the `blocking` crate), so before each run we wait, untimed, until its
//! idle threads have exited (500 ms after their last job). For all three,
//! the process's thread count must be back where it was before a run
//! starts. One run per sample: the workload's unit is
//! [`Unit::ColdTime`](crate::Unit::ColdTime).

use std::hint::black_box;
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
        Runtime::Smol => smol_burst,
    };
    Some(Runner::Time(run))
}

/// The number of threads of this process (Linux: `/proc/self/status`), or
/// `None` where that cannot be read.
pub fn thread_count() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
}

/// Waits until the process has at most `threads` threads (pool threads of
/// an earlier run exit on their own). Polls; gives up after 10 s.
fn wait_for_threads(threads: Option<usize>) {
    let Some(threads) = threads else { return };
    let start = Instant::now();
    while thread_count().is_some_and(|now| now > threads) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "spawn_blocking_burst: pool threads did not exit within 10 s"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[cfg(feature = "minirt")]
fn minirt_burst(iters: u64) -> Duration {
    let idle = thread_count();
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        wait_for_threads(idle);
        let rt = minirt::Builder::current_thread()
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
    let idle = thread_count();
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        wait_for_threads(idle);
        let rt = tokio::runtime::Builder::new_current_thread()
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

fn smol_burst(iters: u64) -> Duration {
    let executor = async_executor::LocalExecutor::new();
    // The async-io reactor thread is started on first use and stays; start
    // it before counting the threads a cold pool has.
    async_io::block_on(executor.run(async_io::Timer::after(Duration::ZERO)));
    let idle = thread_count();
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        wait_for_threads(idle);
        total += async_io::block_on(executor.run(async {
            let start = Instant::now();
            let jobs: Vec<_> = (0..BURST_JOBS)
                .map(|_| blocking::unblock(|| black_box(0u64)))
                .collect();
            for job in jobs {
                black_box(job.await);
            }
            start.elapsed()
        }));
    }
    total
}
