//! Timer workloads at scale, for minirt, tokio and smol:
//! `timers_same_deadline_cancel` and `timers_mt`.
//!
//! Why these two: `timer_cancel` registers and cancels one timer at a time,
//! so every wheel slot it touches holds one entry. Real servers hold many
//! timers at once — the idle timeouts of connections accepted in the same
//! millisecond share one deadline — and register them from every worker at
//! once (tokio #6504 is about the lock they meet on).
//!
//! - `timers_same_deadline_cancel`: one task registers
//!   [`SAME_DEADLINE_TIMERS`] sleeps that all end at the same instant an hour
//!   away, lets the runtime's timer wheel advance (a 1 ms sleep), then drops
//!   them all in registration order. minirt used to pay O(n²) here: each
//!   cancel of an earliest timer made the next park walk the whole slot.
//! - `timers_mt`: on the 2-worker runtime, two tasks (one per worker) each
//!   register and cancel [`MT_TIMERS_PER_TASK`] sleeps, starting together.
//!
//! The bodies are written once, generic over "make a sleep" and "yield", so
//! every runtime does exactly the same work; only the runtime differs.

use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_lite::future::poll_once;

use crate::params::*;
use crate::workloads::{Runner, Runtime};

/// The code for timer workload `id` on `runtime`, if it is one of this file's.
pub(crate) fn runner(runtime: Runtime, id: &str) -> Option<Runner> {
    let run: fn(u64) -> Duration = match (runtime, id) {
        #[cfg(feature = "minirt")]
        (Runtime::Minirt, "timers_same_deadline_cancel") => minirt_side::same_deadline_cancel,
        #[cfg(feature = "minirt")]
        (Runtime::Minirt, "timers_mt") => minirt_side::timers_mt,
        (Runtime::Tokio, "timers_same_deadline_cancel") => tokio_side::same_deadline_cancel,
        (Runtime::Tokio, "timers_mt") => tokio_side::timers_mt,
        (Runtime::Smol, "timers_same_deadline_cancel") => smol_side::same_deadline_cancel,
        (Runtime::Smol, "timers_mt") => smol_side::timers_mt,
        _ => return None,
    };
    Some(Runner::Time(run))
}

/// Registers `count` sleeps from `make` (all due at one instant), waits for
/// `advance` (which lets the timer wheel move on), then cancels them all by
/// dropping them in registration order.
pub async fn same_deadline_cancel_body<S, A>(count: usize, make: impl Fn() -> S, advance: A)
where
    S: Future<Output = ()>,
    A: Future<Output = ()>,
{
    let mut sleeps: Vec<Pin<Box<S>>> = (0..count).map(|_| Box::pin(make())).collect();
    for sleep in &mut sleeps {
        assert!(
            poll_once(sleep.as_mut()).await.is_none(),
            "an hour-long sleep finished at once"
        );
    }
    advance.await;
    drop(sleeps);
}

/// One of `timers_mt`'s two tasks: waits (yielding) until both have
/// started, then registers and at once cancels [`MT_TIMERS_PER_TASK`] sleeps.
async fn register_and_cancel<S, Y>(
    started: Arc<AtomicUsize>,
    make: impl Fn() -> S,
    yield_now: impl Fn() -> Y,
) where
    S: Future<Output = ()>,
    Y: Future<Output = ()>,
{
    started.fetch_add(1, Ordering::AcqRel);
    while started.load(Ordering::Acquire) < MT_TASKS {
        yield_now().await;
    }
    for _ in 0..MT_TIMERS_PER_TASK {
        let sleep = pin!(make());
        assert!(
            poll_once(sleep).await.is_none(),
            "a one-second sleep finished at once"
        );
    }
}

/// The wheel-advancing pause of `timers_same_deadline_cancel`.
const ADVANCE: Duration = Duration::from_millis(1);

#[cfg(feature = "minirt")]
pub mod minirt_side {
    //! minirt: current-thread for the single-task workload, 2 workers for `timers_mt`.
    use super::*;
    use minirt::time::{sleep, sleep_until};

    fn current_thread() -> minirt::Runtime {
        minirt::Builder::current_thread()
            .build()
            .expect("building a minirt current-thread runtime")
    }

    /// `timers_same_deadline_cancel` with `count` timers on `rt` (also used
    /// by the `wheel_cancel_scaling` example at other sizes).
    pub fn same_deadline_cancel_on(rt: &minirt::Runtime, count: usize, iters: u64) -> Duration {
        rt.block_on(async {
            let start = Instant::now();
            for _ in 0..iters {
                let deadline = minirt::time::Instant::now() + SAME_DEADLINE;
                same_deadline_cancel_body(count, || sleep_until(deadline), sleep(ADVANCE)).await;
            }
            start.elapsed()
        })
    }

    pub(super) fn same_deadline_cancel(iters: u64) -> Duration {
        same_deadline_cancel_on(&current_thread(), SAME_DEADLINE_TIMERS, iters)
    }

    pub(super) fn timers_mt(iters: u64) -> Duration {
        let rt = minirt::Builder::multi_thread()
            .worker_threads(WORKER_THREADS)
            .build()
            .expect("building a minirt multi-thread runtime");
        rt.block_on(async {
            let start = Instant::now();
            for _ in 0..iters {
                let started = Arc::new(AtomicUsize::new(0));
                let tasks: Vec<_> = (0..MT_TASKS)
                    .map(|_| {
                        let body = register_and_cancel(
                            started.clone(),
                            || sleep(MT_TIMER),
                            minirt::yield_now,
                        );
                        minirt::spawn(body)
                    })
                    .collect();
                for task in tasks {
                    task.await.expect("timer task failed");
                }
            }
            start.elapsed()
        })
    }
}

mod tokio_side {
    //! tokio: current-thread for the single-task workload, 2 workers for `timers_mt`.
    use super::*;
    use tokio::time::{sleep, sleep_until};

    pub(super) fn same_deadline_cancel(iters: u64) -> Duration {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("building a tokio current-thread runtime");
        rt.block_on(async {
            let start = Instant::now();
            for _ in 0..iters {
                let deadline = tokio::time::Instant::now() + SAME_DEADLINE;
                let count = SAME_DEADLINE_TIMERS;
                same_deadline_cancel_body(count, || sleep_until(deadline), sleep(ADVANCE)).await;
            }
            start.elapsed()
        })
    }

    pub(super) fn timers_mt(iters: u64) -> Duration {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(WORKER_THREADS)
            .enable_all()
            .build()
            .expect("building a tokio multi-thread runtime");
        rt.block_on(async {
            let start = Instant::now();
            for _ in 0..iters {
                let started = Arc::new(AtomicUsize::new(0));
                let tasks: Vec<_> = (0..MT_TASKS)
                    .map(|_| {
                        let body = register_and_cancel(
                            started.clone(),
                            || sleep(MT_TIMER),
                            tokio::task::yield_now,
                        );
                        tokio::spawn(body)
                    })
                    .collect();
                for task in tasks {
                    task.await.expect("timer task failed");
                }
            }
            start.elapsed()
        })
    }
}

mod smol_side {
    //! smol: a `LocalExecutor` for the single-task workload, the 2-worker
    //! [`SmolPool`](crate::smol_pool::SmolPool) for `timers_mt`.
    use super::*;
    use async_io::Timer;
    use futures_lite::future::yield_now;

    /// smol's sleep: a timer future that ends with `()`.
    async fn sleep_until(deadline: Instant) {
        Timer::at(deadline).await;
    }

    async fn sleep(duration: Duration) {
        Timer::after(duration).await;
    }

    pub(super) fn same_deadline_cancel(iters: u64) -> Duration {
        let executor = async_executor::LocalExecutor::new();
        async_io::block_on(executor.run(async {
            let start = Instant::now();
            for _ in 0..iters {
                let deadline = Instant::now() + SAME_DEADLINE;
                let count = SAME_DEADLINE_TIMERS;
                same_deadline_cancel_body(count, || sleep_until(deadline), sleep(ADVANCE)).await;
            }
            start.elapsed()
        }))
    }

    pub(super) fn timers_mt(iters: u64) -> Duration {
        let pool = crate::smol_pool::SmolPool::new(WORKER_THREADS);
        pool.block_on(async {
            let start = Instant::now();
            for _ in 0..iters {
                let started = Arc::new(AtomicUsize::new(0));
                let tasks: Vec<_> = (0..MT_TASKS)
                    .map(|_| {
                        let body =
                            register_and_cancel(started.clone(), || sleep(MT_TIMER), yield_now);
                        pool.executor().spawn(body)
                    })
                    .collect();
                for task in tasks {
                    task.await;
                }
            }
            start.elapsed()
        })
    }
}
