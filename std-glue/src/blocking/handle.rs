//! [`BlockingHandle`]: the result of a closure run on a [`BlockingPool`](super::BlockingPool).
//!
//! A stand-in until the runtime's task `JoinHandle` exists: a one-slot channel
//! whose sender lives inside the job. If the job is dropped before it runs
//! (the pool shut down first), the sender is dropped with it and the handle
//! reports [`BlockingCancelled`].

use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc;
use std::thread;

/// Payload of the error [`BlockingHandle::join`] returns when the closure
/// never ran, because the pool shut down (or was dropped) before a thread
/// took it.
///
/// # Example
///
/// ```
/// use minirt::blocking::{BlockingCancelled, BlockingPool};
///
/// let pool = BlockingPool::builder().name("closed").build().unwrap();
/// assert!(pool.shutdown(None));
/// let err = pool.spawn(|| 1).join().unwrap_err();
/// assert!(err.is::<BlockingCancelled>());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockingCancelled;

impl fmt::Display for BlockingCancelled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the blocking pool shut down before the closure started")
    }
}

impl std::error::Error for BlockingCancelled {}

/// Owned permission to wait for a closure spawned on a
/// [`BlockingPool`](super::BlockingPool) and take its result.
///
/// Dropping the handle detaches the closure: it still runs.
#[must_use = "dropping a BlockingHandle detaches the closure; call `join` to get its result"]
pub struct BlockingHandle<R> {
    result: mpsc::Receiver<thread::Result<R>>,
}

impl<R> BlockingHandle<R> {
    /// Blocks the calling thread until the closure returns, and gives back
    /// its value.
    ///
    /// `Err(payload)` if the closure panicked (the panic payload, as with
    /// [`std::thread::JoinHandle::join`]) or never ran (payload
    /// [`BlockingCancelled`]).
    ///
    /// Do not call this from inside an async task: it blocks the thread.
    pub fn join(self) -> thread::Result<R> {
        self.result
            .recv()
            .unwrap_or_else(|_| Err(Box::new(BlockingCancelled)))
    }
}

impl<R> fmt::Debug for BlockingHandle<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockingHandle").finish_non_exhaustive()
    }
}

/// Wraps `f` into a pool job that sends its outcome (value or panic) to the
/// returned handle.
pub(super) fn job_with_handle<F, R>(f: F) -> (impl FnOnce() + Send + 'static, BlockingHandle<R>)
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let (sender, result) = mpsc::sync_channel(1);
    let job = move || {
        let outcome = panic::catch_unwind(AssertUnwindSafe(f));
        // The handle may have been dropped (detached); then nobody wants it.
        let _ = sender.send(outcome);
    };
    (job, BlockingHandle { result })
}
