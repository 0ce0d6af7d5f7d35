//! smol's multi-thread "runtime": one `async_executor::Executor` run by a
//! fixed number of threads.
//!
//! smol has no runtime object with a worker count, so the benches build one
//! the way smol itself runs its global executor: each worker thread drives
//! `executor.run(..)` inside `async_io::block_on`, which also lets an idle
//! worker drive the I/O reactor (as in `smol::block_on`). The bench thread
//! only spawns and awaits.

use std::future::Future;
use std::sync::Arc;
use std::thread;

use async_executor::Executor;

/// An executor run by worker threads until the pool is dropped.
pub struct SmolPool {
    /// The shared executor every worker runs.
    executor: Arc<Executor<'static>>,
    /// Dropped to tell the workers to stop.
    stop: Option<async_channel::Sender<()>>,
    /// The worker threads, joined on drop.
    workers: Vec<thread::JoinHandle<()>>,
}

impl SmolPool {
    /// Starts `threads` workers.
    pub fn new(threads: usize) -> SmolPool {
        let executor = Arc::new(Executor::new());
        let (stop, stopped) = async_channel::bounded::<()>(1);
        let workers = (0..threads)
            .map(|index| {
                let executor = executor.clone();
                let stopped = stopped.clone();
                thread::Builder::new()
                    .name(format!("smol-worker-{index}"))
                    .spawn(move || {
                        // `recv` fails once the pool drops the sender.
                        async_io::block_on(executor.run(async { stopped.recv().await.ok() }));
                    })
                    .expect("spawning a smol worker thread")
            })
            .collect();
        SmolPool {
            executor,
            stop: Some(stop),
            workers,
        }
    }

    /// The executor, to spawn on (clone it into tasks that spawn).
    pub fn executor(&self) -> &Arc<Executor<'static>> {
        &self.executor
    }

    /// Blocks the bench thread on `future`; the workers run the tasks.
    pub fn block_on<T>(&self, future: impl Future<Output = T>) -> T {
        futures_lite::future::block_on(future)
    }
}

impl Drop for SmolPool {
    fn drop(&mut self) {
        drop(self.stop.take());
        for worker in self.workers.drain(..) {
            worker.join().expect("a smol worker panicked");
        }
    }
}
