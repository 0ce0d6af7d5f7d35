//! Blocking closures as minirt tasks, so `spawn_blocking` returns the same
//! [`JoinHandle`] as `spawn`: awaitable, abortable before it starts, and
//! reporting panics as [`JoinError`](minirt_core::task::JoinError)s.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use minirt_core::task::{self, JoinHandle, Notified, PanicPayload, Schedule, Task};

use super::{Job, Pool};
use crate::driver::busy::BusyToken;
use crate::runtime::{context, Handle};

/// A queued blocking closure: the task's run-queue reference plus its owned
/// reference, so that dropping an unstarted job (pool shutdown) cancels the
/// task instead of leaving its `JoinHandle` waiting forever.
///
/// It also holds a unit of its runtime's busy count from submission until
/// the closure has returned (a field, so it is released after `Drop::drop`):
/// a mock clock does not jump while blocking work is queued or running, and
/// moves again as soon as it is done.
pub struct BlockingJob {
    notified: Option<Notified<BlockingSchedule>>,
    owned: Option<Task<BlockingSchedule>>,
    _busy: Option<BusyToken>,
}

impl Job for BlockingJob {
    fn run(mut self) {
        if let Some(notified) = self.notified.take() {
            notified.run();
        }
    }
}

impl Drop for BlockingJob {
    fn drop(&mut self) {
        let owned = self
            .owned
            .take()
            .expect("owned reference present until drop");
        if self.notified.take().is_some() {
            // Never started: cancel it (drops the closure, completes the
            // JoinHandle with `Cancelled`).
            owned.shutdown();
        }
    }
}

/// The scheduler of blocking tasks. A blocking task is polled exactly once
/// and never waits, so it is never rescheduled; `schedule` only exists to
/// satisfy the trait and runs the task inline if it ever is.
pub struct BlockingSchedule;

impl Schedule for BlockingSchedule {
    fn schedule(&self, task: Notified<Self>) {
        debug_assert!(false, "blocking tasks are never rescheduled");
        task.run();
    }

    fn release(&self, _task: &Task<Self>) -> Option<Task<Self>> {
        None
    }

    fn unwind<R>(&self, f: impl FnOnce() -> R) -> Result<R, PanicPayload> {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
    }
}

/// A future that runs a closure the first time it is polled.
///
/// With a runtime (`handle`), it is counted in that driver's blocking jobs
/// in flight (`driver::spin`) from creation until the closure has returned,
/// or until it is dropped unrun.
struct BlockingTask<F> {
    func: Option<F>,
    handle: Option<Handle>,
}

impl<F> Unpin for BlockingTask<F> {}

impl<F> BlockingTask<F> {
    fn new(func: F, handle: Option<Handle>) -> BlockingTask<F> {
        if let Some(handle) = &handle {
            handle.inner.driver.blocking.started();
        }
        BlockingTask {
            func: Some(func),
            handle,
        }
    }
}

impl<F> Drop for BlockingTask<F> {
    fn drop(&mut self) {
        // Still here: never run (cancelled, or the pool shut down).
        if let Some(handle) = &self.handle {
            handle.inner.driver.blocking.finished();
        }
    }
}

/// Marks the end of a blocking job's work when dropped, after its closure
/// returned or unwound: the driver stops counting it, and its pool thread
/// counts as on its way back to the queue while the result is handed over.
struct Finished<'a>(Option<&'a Handle>);

impl Drop for Finished<'_> {
    fn drop(&mut self) {
        if let Some(handle) = self.0 {
            handle.inner.driver.blocking.finished();
        }
        super::worker::job_work_done();
    }
}

impl<F: FnOnce() -> R, R> Future for BlockingTask<F> {
    type Output = R;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<R> {
        let func = self.func.take().expect("blocking task polled twice");
        // A `Handle::block_on` inside the closure adopts the job's busy unit
        // while it waits (see `driver::busy`).
        // (The job holds that unit until the closure has returned.)
        let handle = self.handle.take();
        let _finished = Finished(handle.as_ref());
        let _held = handle
            .as_ref()
            .and_then(|h| h.inner.driver.busy.mark_held_here());
        // Inside the closure, `minirt::spawn` and `Handle::current` reach the
        // runtime that spawned it.
        Poll::Ready(match &handle {
            Some(handle) => context::enter_handle(handle, func),
            None => func(),
        })
    }
}

/// Queues `func` on `pool` as a task; `handle` becomes the current runtime
/// inside it.
pub(crate) fn spawn_blocking_on<F, R>(
    pool: &Pool<BlockingJob>,
    handle: Option<Handle>,
    func: F,
) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let busy = handle
        .as_ref()
        .and_then(|h| BusyToken::new(&h.inner.driver));
    let future = BlockingTask::new(func, handle);
    let (owned, notified, join) = task::spawn(future, BlockingSchedule);
    let job = BlockingJob {
        notified: Some(notified),
        owned: Some(owned),
        _busy: busy,
    };
    // On `Err` the pool is shutting down: dropping the job cancels the task.
    let _ = pool.submit(job);
    join
}
