//! Threads for blocking work: the pool behind `spawn_blocking`, and named
//! pools of your own.
//!
//! # Why
//!
//! An async task must not block: while it sits in `std::fs::read`, a DNS
//! lookup, a synchronous database driver or a long computation, the worker
//! thread it runs on cannot poll anything else. Such work goes to a separate
//! set of threads that are *allowed* to block. How many are needed is unknown
//! in advance — ten files read at once need ten threads, then none for an
//! hour — so the pool is elastic: it starts threads when work arrives and
//! retires them when they have been idle for a while.
//!
//! # How
//!
//! One mutex guards a FIFO queue of jobs and a few counters; idle threads
//! wait on a condition variable. The growth rule (in
//! `State::dispatch`, which [`Pool::submit`] applies):
//!
//! 0. if a thread woken or started earlier has not reached the queue yet (or
//!    a thread is spinning for its next job, or is handing over the result
//!    of a job whose work is done), nothing more is done: that thread takes
//!    the next job and, seeing more queued, applies the rule again for the
//!    rest (a chain of wake-ups);
//! 1. otherwise, if a thread is idle, the job is handed to it and exactly that
//!    one thread is woken — no thread is started, the other idle threads
//!    sleep on;
//! 2. otherwise, if fewer than `max_threads` threads are alive, a new thread
//!    is started for the job;
//! 3. otherwise the job waits in the queue for the first thread to finish its
//!    current job.
//!
//! A job never waits for a busy thread while the pool can still grow, because
//! blocking jobs can take arbitrarily long and may wait for one another; it
//! may wait for a thread that is waking up, which is what lets a burst of
//! short jobs run on one or two threads instead of waking one per job. An
//! idle thread exits after `keep_alive` (default 10 s) without a job, so a
//! burst leaves no lasting cost. A panic in a job is caught and the thread
//! carries on.
//!
//! Shutdown stops accepting jobs, **drops** jobs that have not started (their
//! destructors cancel them: a blocking closure that has started cannot be
//! cancelled, one that has not is simply never run), lets running jobs
//! finish, and waits for the threads for at most a given time.
//!
//! # Example
//!
//! A named pool that runs at most two closures at a time:
//!
//! ```
//! use minirt::blocking::BlockingPool;
//!
//! let pool = BlockingPool::builder().name("resize").max_threads(2).build()?;
//! let handles: Vec<_> = (1..=4u32).map(|n| pool.spawn(move || n * n)).collect();
//! let squares: Vec<u32> = minirt::block_on(async {
//!     let mut out = Vec::new();
//!     for h in handles {
//!         out.push(h.await.unwrap());
//!     }
//!     out
//! });
//! assert_eq!(squares, [1, 4, 9, 16]);
//! assert!(pool.live_threads() <= 2);
//! # Ok::<(), std::io::Error>(())
//! ```

mod blocking_pool;
mod config;
mod job;
mod pool;
mod state;
pub(crate) mod task;
pub(crate) mod worker;

#[cfg(test)]
mod tests;

pub use blocking_pool::{BlockingPool, BlockingPoolBuilder};
pub use config::{PoolConfig, ThreadHook, DEFAULT_KEEP_ALIVE, DEFAULT_MAX_THREADS, DEFAULT_NAME};
pub use job::Job;
pub use pool::{Pool, PoolMetrics};
