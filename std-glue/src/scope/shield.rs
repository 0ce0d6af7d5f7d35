//! `shield`: work that must finish even if whoever awaits it is cancelled
//! (asyncio's `shield`, trio's shielded cancel scope).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use minirt_core::task::JoinHandle;

use super::node;

/// Runs `future` as its own task and waits for it; if the awaiting future is
/// dropped (its task cancelled, its scope timed out), the task keeps running
/// to completion, detached.
///
/// Every scope enclosing the caller waits for shielded work started inside
/// it before it finishes: a scope's `join` (and `minirt::scope`) returns only
/// after its children's shielded cleanup completed. The shielded task is
/// outside the scope's cancellation and deadline.
///
/// # Panics
///
/// Outside a runtime. Awaiting it resumes a panic of the shielded work.
///
/// ```
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use std::sync::Arc;
/// use minirt::scope::Scope;
///
/// let flushed = Arc::new(AtomicBool::new(false));
/// let seen = flushed.clone();
/// minirt::block_on(async move {
///     let (started, started_rx) = minirt::sync::oneshot::channel();
///     let scope = Scope::new();
///     scope.spawn(async move {
///         let flush = minirt::shield(async move { seen.store(true, Ordering::SeqCst) });
///         let _ = started.send(());
///         flush.await;
///         std::future::pending::<()>().await;
///     });
///     started_rx.await.unwrap();
///     scope.cancel(); // the child is dropped; the flush is not
///     let _ = scope.join().await; // waits for the shielded flush too
/// });
/// assert!(flushed.load(Ordering::SeqCst));
/// ```
#[track_caller]
pub fn shield<F>(future: F) -> Shield<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let hold = node::current().map(|n| n.hold());
    let join = crate::spawn(async move {
        let _hold = hold;
        future.await
    });
    Shield { join }
}

/// The future returned by [`shield`].
#[must_use = "the shielded work runs anyway; await this to get its output"]
pub struct Shield<T> {
    join: JoinHandle<T>,
}

impl<T> Future for Shield<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        match Pin::new(&mut self.join).poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(value)) => Poll::Ready(value),
            Poll::Ready(Err(err)) => match err.try_into_panic() {
                Ok(payload) => std::panic::resume_unwind(payload),
                Err(_) => panic!("shielded work was cancelled: its runtime shut down"),
            },
        }
    }
}

impl<T> fmt::Debug for Shield<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shield").finish_non_exhaustive()
    }
}
