//! `LocalExecutor`: run futures on one thread without `std`.
//!
//! This is what makes `minirt-core` useful on its own: a microcontroller
//! program can spawn tasks and `block_on` a future, sleeping in its idle hook
//! (for example `cortex_m::asm::wfi`) whenever nothing is ready.
//!
//! Wakers may be called from any thread or interrupt handler: waking pushes
//! the task onto a lock-free [`NotifiedQueue`] and never blocks. The idle
//! hook is called only when no task is queued and the main future has not
//! been woken; it may return early (spuriously) — the executor just checks
//! again. With `wfi` that is exactly right: an interrupt that wakes a task
//! also ends the `wfi`.
//!
//! ```
//! use minirt_core::executor::LocalExecutor;
//!
//! let ex = LocalExecutor::new();
//! let a = ex.spawn(async { 1 });
//! let b = ex.spawn(async { 2 });
//! let sum = ex.block_on(async { a.await.unwrap() + b.await.unwrap() }, || {
//!     // nothing to do: a real target would wait for an interrupt here
//! });
//! assert_eq!(sum, 3);
//! ```

use alloc::sync::Arc;
use alloc::task::Wake;
use alloc::vec::Vec;
use core::future::Future;
use core::marker::PhantomData;
use core::pin::pin;
use core::task::{Context, Poll, Waker};

use crate::loom::atomic::{AtomicBool, Ordering::*};
use crate::task::{JoinHandle, Notified, NotifiedQueue, OwnedTasks, Schedule, Task};

/// A single-threaded executor for `no_std` targets; see the
/// [module docs](self).
///
/// Dropping it cancels every task it spawned that has not finished: their
/// futures are dropped on the dropping thread, and their `JoinHandle`s
/// resolve to a cancelled [`JoinError`](crate::task::JoinError).
pub struct LocalExecutor {
    shared: Arc<Shared>,
    /// Tasks may be `!Send`, so the executor must stay on its thread.
    _not_send: PhantomData<*const ()>,
}

/// The part of the executor that tasks and wakers point to.
struct Shared {
    /// Woken tasks, pushed by wakers from anywhere.
    queue: NotifiedQueue<LocalScheduler>,
    /// Every live task, so that dropping the executor can cancel them. A
    /// one-shard shared list rather than a `LocalOwnedTasks`: the last
    /// waker of a task may drop `Shared` on another thread.
    owned: OwnedTasks<LocalScheduler>,
    /// Set by the main future's waker in `block_on`.
    main_woken: AtomicBool,
}

/// The [`Schedule`] implementation stored in each task.
struct LocalScheduler(Arc<Shared>);

impl Schedule for LocalScheduler {
    fn schedule(&self, task: Notified<Self>) {
        self.0.queue.push(task);
    }

    fn release(&self, task: &Task<Self>) -> Option<Task<Self>> {
        self.0.owned.remove(task)
    }
}

impl Wake for Shared {
    fn wake(self: Arc<Self>) {
        self.main_woken.store(true, Release);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.main_woken.store(true, Release);
    }
}

impl Default for LocalExecutor {
    fn default() -> Self {
        Self::new()
    }
}

impl LocalExecutor {
    /// Creates an executor with no tasks.
    pub fn new() -> LocalExecutor {
        LocalExecutor {
            shared: Arc::new(Shared {
                queue: NotifiedQueue::new(),
                owned: OwnedTasks::with_one_shard(),
                main_woken: AtomicBool::new(false),
            }),
            _not_send: PhantomData,
        }
    }

    /// Spawns `future` onto this executor; it first runs at the next
    /// [`tick`](Self::tick) or inside [`block_on`](Self::block_on).
    ///
    /// The future need not be `Send`: it is only ever polled and dropped on
    /// the executor's thread.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let scheduler = LocalScheduler(self.shared.clone());
        // SAFETY: the executor is `!Send`, so the task is polled and shut
        // down only on this thread; its owned `Task` lives in `owned`, which
        // only this thread drains, and `Notified`s are run or dropped only
        // by this executor.
        let (notified, handle) = unsafe { self.shared.owned.bind_unchecked(future, scheduler, 0) };
        if let Some(notified) = notified {
            self.shared.queue.push(notified);
        }
        handle
    }

    /// Runs every task that is queued right now, once. Tasks woken while
    /// this runs wait for the next call. Returns how many were run.
    pub fn tick(&self) -> usize {
        let mut ran = 0;
        for task in self.shared.queue.take_all() {
            task.run();
            ran += 1;
        }
        ran
    }

    /// Runs tasks until none is queued; returns how many polls that took.
    pub fn run_until_idle(&self) -> usize {
        let mut total = 0;
        loop {
            let ran = self.tick();
            if ran == 0 {
                return total;
            }
            total += ran;
        }
    }

    /// Number of spawned tasks that have not finished.
    pub fn live_tasks(&self) -> usize {
        self.shared.owned.len()
    }

    /// Drives `future` to completion on this thread, running spawned tasks
    /// in between, and calling `idle` whenever there is nothing to do.
    ///
    /// `idle` should wait until an interrupt or another thread may have
    /// woken something (a `wfi` instruction, a condition variable, ...). It
    /// may also return immediately; the executor then simply spins.
    pub fn block_on<F: Future>(&self, future: F, mut idle: impl FnMut()) -> F::Output {
        let waker = Waker::from(self.shared.clone());
        let mut cx = Context::from_waker(&waker);
        let mut future = pin!(future);
        self.shared.main_woken.store(true, Relaxed);
        loop {
            if self.shared.main_woken.swap(false, Acquire) {
                // The main future gets a budget per poll too, so looping on
                // always-ready work in it cannot starve the tasks.
                if let Poll::Ready(output) = crate::coop::budget(|| future.as_mut().poll(&mut cx)) {
                    return output;
                }
            }
            let ran = self.tick();
            if ran == 0 && !self.shared.main_woken.load(Acquire) && self.shared.queue.is_empty() {
                idle();
            }
        }
    }
}

impl Drop for LocalExecutor {
    fn drop(&mut self) {
        // 1. Close the owned list so nothing new can be added.
        let tasks: Vec<Task<LocalScheduler>> = self.shared.owned.close_all_and_drain();
        // 2. Cancel every live task here, on the executor's thread.
        for task in tasks {
            task.shutdown();
        }
        // 3. Release queue entries, including ones pushed by destructors
        //    that ran in step 2. They all refer to completed tasks now.
        while !self.shared.queue.is_empty() {
            drop(self.shared.queue.take_all());
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests;
