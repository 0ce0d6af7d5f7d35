//! The lock workloads on smol with `async-lock` (see the parent module for
//! what they do), on a 2-worker `SmolPool`.

use std::future::Future;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_lock::{Mutex, RwLock};
use futures_lite::future::yield_now;

use super::{rwlock_expected_writes, rwlock_op_writes};
use crate::params::*;
use crate::smol_pool::SmolPool;

/// Times `iters` runs of `work`, awaited by the bench thread while the
/// pool's workers run the tasks.
fn timed_pool<Fut: Future<Output = ()>>(
    pool: &SmolPool,
    iters: u64,
    work: impl Fn() -> Fut,
) -> Duration {
    pool.block_on(async {
        let start = Instant::now();
        for _ in 0..iters {
            work().await;
        }
        start.elapsed()
    })
}

/// `mutex_mt` on smol.
pub fn mutex_mt(iters: u64) -> Duration {
    let pool = SmolPool::new(WORKER_THREADS);
    let executor = pool.executor();
    timed_pool(&pool, iters, || async move {
        let counter = Arc::new(Mutex::new(0u64));
        let tasks: Vec<_> = (0..MUTEX_TASKS)
            .map(|_| {
                let counter = counter.clone();
                executor.spawn(async move {
                    for _ in 0..MUTEX_ROUNDS {
                        let mut guard = counter.lock().await;
                        yield_now().await;
                        *guard += 1;
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await;
        }
        assert_eq!(*counter.lock().await, (MUTEX_TASKS * MUTEX_ROUNDS) as u64);
    })
}

/// `rwlock_read_mostly` on smol.
pub fn rwlock_read_mostly(iters: u64) -> Duration {
    let pool = SmolPool::new(WORKER_THREADS);
    let executor = pool.executor();
    timed_pool(&pool, iters, || async move {
        let lock = Arc::new(RwLock::new(0u64));
        let tasks: Vec<_> = (0..RWLOCK_TASKS)
            .map(|task| {
                let lock = lock.clone();
                executor.spawn(async move {
                    for op in 0..RWLOCK_OPS {
                        if rwlock_op_writes(task, op) {
                            let mut guard = lock.write().await;
                            yield_now().await;
                            *guard += 1;
                        } else {
                            let guard = lock.read().await;
                            yield_now().await;
                            black_box(*guard);
                        }
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await;
        }
        assert_eq!(*lock.read().await, rwlock_expected_writes());
    })
}
