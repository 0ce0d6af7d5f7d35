//! `RuntimeMetrics`: cheap counters summed on read.

use std::sync::atomic::Ordering::Relaxed;

use super::{Handle, SchedulerHandle};

/// A snapshot of a runtime's counters, from [`Runtime::metrics`](super::Runtime::metrics).
///
/// ```
/// let rt = minirt::Builder::current_thread().build()?;
/// rt.block_on(async { minirt::spawn(async {}).await.unwrap() });
/// let m = rt.metrics();
/// assert_eq!(m.tasks_spawned, 1);
/// assert!(m.polls >= 1);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RuntimeMetrics {
    /// Worker threads (1 for the current-thread runtime).
    pub workers: usize,
    /// Tasks spawned so far (not counting blocking closures).
    pub tasks_spawned: u64,
    /// Task polls so far (including polls that only cancelled a task).
    pub polls: u64,
    /// Tasks taken from another worker's queue.
    pub steals: u64,
    /// Times a runtime thread went to sleep for lack of work.
    pub parks: u64,
    /// Tasks run from a worker's LIFO slot.
    pub lifo_hits: u64,
    /// Tasks waiting in the shared injector queue right now.
    pub injector_depth: usize,
    /// Blocking-pool threads alive (busy or idle).
    pub blocking_threads: usize,
    /// Blocking-pool threads waiting for work.
    pub blocking_idle_threads: usize,
}

pub(super) fn collect(handle: &Handle) -> RuntimeMetrics {
    let blocking = handle.inner.blocking.metrics();
    let mut m = RuntimeMetrics {
        blocking_threads: blocking.live_threads,
        blocking_idle_threads: blocking.idle_threads,
        ..RuntimeMetrics::default()
    };
    match &handle.inner.scheduler {
        SchedulerHandle::CurrentThread(ct) => {
            m.workers = 1;
            m.tasks_spawned = ct.spawned.load(Relaxed);
            m.polls = ct.polls.load(Relaxed);
            m.parks = ct.parks.load(Relaxed);
        }
        SchedulerHandle::MultiThread(mt) => {
            m.workers = mt.num_workers();
            m.tasks_spawned = mt.remote_spawns.0.load(Relaxed);
            m.injector_depth = mt.injector_depth();
            for w in mt.worker_metrics.iter() {
                m.tasks_spawned += w.spawned.load(Relaxed);
                m.polls += w.polls.load(Relaxed);
                m.steals += w.steals.load(Relaxed);
                m.parks += w.parks.load(Relaxed);
                m.lifo_hits += w.lifo_hits.load(Relaxed);
            }
        }
    }
    m
}
