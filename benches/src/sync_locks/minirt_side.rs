//! The lock workloads on minirt (see the parent module for what they do).

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use minirt::sync::{Mutex, RwLock};
use minirt::{yield_now, Builder, Runtime};

use super::{rwlock_expected_writes, rwlock_op_writes};
use crate::params::*;

fn multi_thread() -> Runtime {
    Builder::multi_thread()
        .worker_threads(WORKER_THREADS)
        .build()
        .expect("building a minirt multi-thread runtime")
}

/// Times `iters` runs of `work` inside one `block_on`.
async fn timed<Fut: std::future::Future<Output = ()>>(
    iters: u64,
    work: impl Fn() -> Fut,
) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        work().await;
    }
    start.elapsed()
}

/// `mutex_mt` on minirt.
pub fn mutex_mt(iters: u64) -> Duration {
    multi_thread().block_on(timed(iters, || async {
        let counter = Arc::new(Mutex::new(0u64));
        let handles: Vec<_> = (0..MUTEX_TASKS)
            .map(|_| {
                let counter = counter.clone();
                minirt::spawn(async move {
                    for _ in 0..MUTEX_ROUNDS {
                        let mut guard = counter.lock().await;
                        yield_now().await;
                        *guard += 1;
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.await.expect("mutex task failed");
        }
        assert_eq!(*counter.lock().await, (MUTEX_TASKS * MUTEX_ROUNDS) as u64);
    }))
}

/// `rwlock_read_mostly` on minirt.
pub fn rwlock_read_mostly(iters: u64) -> Duration {
    multi_thread().block_on(timed(iters, || async {
        let lock = Arc::new(RwLock::new(0u64));
        let handles: Vec<_> = (0..RWLOCK_TASKS)
            .map(|task| {
                let lock = lock.clone();
                minirt::spawn(async move {
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
        for handle in handles {
            handle.await.expect("rwlock task failed");
        }
        assert_eq!(*lock.read().await, rwlock_expected_writes());
    }))
}
