//! `process_spawn_wait`: spawn `/bin/true` (or `true` from `PATH`) and wait
//! for its exit status, at most [`IN_FLIGHT`] children at once, on the
//! 2-worker runtime of each side: `minirt::process::Command`,
//! `tokio::process::Command` and smol's `async-process`.
//!
//! Why: "run a few commands in parallel from a synchronous program" is what
//! the Python helpers ask of minirt, and a child that does nothing makes the
//! runtime's share visible: `fork`/`exec` (std's `posix_spawn` on every side),
//! registering the exit watch, noticing the exit and reaping. On Linux all
//! three sides observe the exit through a pidfd registered with their
//! reactor (minirt and async-process always, tokio since 1.36); elsewhere
//! through `SIGCHLD`.
//!
//! One iteration is **one child**, so the tables show time per child: a run
//! of `iters` children goes in waves of [`WAVE`] (100), each wave run by
//! `IN_FLIGHT` worker tasks that take children from a shared counter until
//! the wave is done, then joined before the next wave starts. (A wave per
//! iteration would make `compare` and criterion, which size their samples
//! from one iteration, run for 100 times too long if the time were divided
//! per child.) `run_workload -- <runtime> process_spawn_wait 100` is one
//! wave. Every status must be success. Unix only, like `minirt::process`:
//! on other targets the row does not exist.

use std::future::Future;
use std::io;
use std::path::Path;
use std::process::ExitStatus;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::cpu::Stopwatch;

/// Children per wave: the "100 commands" of the workload.
pub const WAVE: usize = 100;
/// Children running at once (the worker tasks of a wave).
pub const IN_FLIGHT: usize = 8;

/// The program every child runs: `/bin/true` if it exists, else `true`
/// looked up in `PATH`.
pub fn program() -> &'static Path {
    static PROGRAM: OnceLock<&'static Path> = OnceLock::new();
    PROGRAM.get_or_init(|| {
        let bin_true = Path::new("/bin/true");
        if bin_true.is_file() {
            bin_true
        } else {
            Path::new("true")
        }
    })
}

/// The sizes of the waves `iters` children go in: full [`WAVE`]s, then
/// the rest.
///
/// ```
/// use minirt_benches::process::waves;
/// assert_eq!(waves(250).collect::<Vec<_>>(), [100, 100, 50]);
/// assert_eq!(waves(1).collect::<Vec<_>>(), [1]);
/// assert_eq!(waves(0).count(), 0);
/// ```
pub fn waves(iters: u64) -> impl Iterator<Item = usize> {
    let total = usize::try_from(iters).expect("child count fits in usize");
    (0..total)
        .step_by(WAVE)
        .map(move |first| WAVE.min(total - first))
}

/// Worker tasks for a wave of `wave` children: never more than the children.
fn workers(wave: usize) -> usize {
    IN_FLIGHT.min(wave)
}

/// One worker task of a wave: runs children from `next` until `wave` are
/// taken; returns how many it ran. `run_child` spawns one and waits for it.
async fn worker<Fut>(next: Arc<AtomicUsize>, wave: usize, run_child: impl Fn() -> Fut) -> usize
where
    Fut: Future<Output = io::Result<ExitStatus>>,
{
    let mut ran = 0;
    while next.fetch_add(1, Ordering::Relaxed) < wave {
        let status = run_child()
            .await
            .unwrap_or_else(|err| panic!("running {}: {err}", program().display()));
        assert!(
            status.success(),
            "{} exited with {status}",
            program().display()
        );
        ran += 1;
    }
    ran
}

/// How a run of children is measured: `Wall` for `process_spawn_wait`,
/// `ParentCpu` for `process_spawn_wait_parent_cpu` (the parent's user +
/// system time, children left out: the runtime's share of each child).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Measure {
    Wall,
    ParentCpu,
}

impl Measure {
    /// Children to run for `iters` iterations. A wall-time iteration is one
    /// child; a CPU iteration is a whole wave, because `compare` samples CPU
    /// rows one iteration at a time and one child is too short for
    /// `getrusage` to measure.
    fn children(self, iters: u64) -> u64 {
        match self {
            Measure::Wall => iters,
            Measure::ParentCpu => iters * WAVE as u64,
        }
    }

    /// A stopwatch whose reading is the time of `iters` iterations.
    fn start(self) -> Stopwatch {
        match self {
            Measure::Wall => Stopwatch::wall(),
            // Per child, so that the row reads like `process_spawn_wait`.
            Measure::ParentCpu => Stopwatch::process_cpu_per(WAVE as u32),
        }
    }
}

/// Times `iters` iterations of children in waves; `run_wave(size)` runs
/// one wave and returns how many children its workers ran.
async fn timed_waves<Fut>(iters: u64, measure: Measure, run_wave: impl Fn(usize) -> Fut) -> Duration
where
    Fut: Future<Output = usize>,
{
    let watch = measure.start();
    for wave in waves(measure.children(iters)) {
        assert_eq!(run_wave(wave).await, wave, "children lost in a wave");
    }
    watch.elapsed()
}

#[cfg(feature = "minirt")]
pub(crate) mod minirt_side {
    use super::*;

    /// `process_spawn_wait` on minirt.
    pub(crate) fn process_spawn_wait(iters: u64) -> Duration {
        spawn_wait(iters, Measure::Wall)
    }

    /// `process_spawn_wait_parent_cpu`.
    pub(crate) fn process_spawn_wait_parent_cpu(iters: u64) -> Duration {
        spawn_wait(iters, Measure::ParentCpu)
    }

    fn spawn_wait(iters: u64, measure: Measure) -> Duration {
        let rt = crate::rt_minirt::multi_thread();
        rt.block_on(timed_waves(iters, measure, |wave| async move {
            let next = Arc::new(AtomicUsize::new(0));
            let handles: Vec<_> = (0..workers(wave))
                .map(|_| {
                    minirt::spawn(worker(next.clone(), wave, || async {
                        minirt::process::Command::new(program()).status().await
                    }))
                })
                .collect();
            let mut ran = 0;
            for handle in handles {
                ran += handle.await.expect("process worker failed");
            }
            ran
        }))
    }
}

pub(crate) mod tokio_side {
    use super::*;

    /// `process_spawn_wait` on tokio.
    pub(crate) fn process_spawn_wait(iters: u64) -> Duration {
        spawn_wait(iters, Measure::Wall)
    }

    /// `process_spawn_wait_parent_cpu`.
    pub(crate) fn process_spawn_wait_parent_cpu(iters: u64) -> Duration {
        spawn_wait(iters, Measure::ParentCpu)
    }

    fn spawn_wait(iters: u64, measure: Measure) -> Duration {
        let rt = crate::rt_tokio::multi_thread();
        rt.block_on(timed_waves(iters, measure, |wave| async move {
            let next = Arc::new(AtomicUsize::new(0));
            let handles: Vec<_> = (0..workers(wave))
                .map(|_| {
                    tokio::spawn(worker(next.clone(), wave, || async {
                        tokio::process::Command::new(program()).status().await
                    }))
                })
                .collect();
            let mut ran = 0;
            for handle in handles {
                ran += handle.await.expect("process worker failed");
            }
            ran
        }))
    }
}

pub(crate) mod smol_side {
    use super::*;
    use crate::smol_pool::SmolPool;

    /// `process_spawn_wait` on smol (`async-process` on a 2-worker pool).
    pub(crate) fn process_spawn_wait(iters: u64) -> Duration {
        spawn_wait(iters, Measure::Wall)
    }

    /// `process_spawn_wait_parent_cpu`.
    pub(crate) fn process_spawn_wait_parent_cpu(iters: u64) -> Duration {
        spawn_wait(iters, Measure::ParentCpu)
    }

    fn spawn_wait(iters: u64, measure: Measure) -> Duration {
        let pool = SmolPool::new(crate::params::WORKER_THREADS);
        let executor = pool.executor();
        pool.block_on(timed_waves(iters, measure, |wave| async move {
            let next = Arc::new(AtomicUsize::new(0));
            let tasks: Vec<_> = (0..workers(wave))
                .map(|_| {
                    executor.spawn(worker(next.clone(), wave, || async {
                        async_process::Command::new(program()).status().await
                    }))
                })
                .collect();
            let mut ran = 0;
            for task in tasks {
                ran += task.await;
            }
            ran
        }))
    }
}
