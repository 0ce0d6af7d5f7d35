//! `ScopeHandle`: what spawns into a scope. The sync-boundary scope passes
//! one to its closure; an async [`Scope`](super::Scope) hands out clones so
//! children can spawn siblings (nested fan-out into the same scope).

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use super::clock::Instant;
use super::state::{Body, State};

/// Spawns children into a scope; cheap to clone and `Send`, so a child can
/// take one along and spawn siblings (nested fan-out).
///
/// `'env` is how long the children may borrow: `'static` for an async
/// [`Scope`](super::Scope), the caller's stack frame for
/// [`minirt::scope`](crate::scope()).
///
/// ```
/// use minirt::scope::Scope;
///
/// minirt::block_on(async {
///     let scope = Scope::new();
///     let spawner = scope.handle();
///     scope.spawn(async move {
///         // A child spawning a grandchild into the same scope.
///         spawner.spawn(async { 2 });
///         1
///     });
///     let mut all = scope.join().await.unwrap();
///     all.sort();
///     assert_eq!(all, [1, 2]);
/// });
/// ```
pub struct ScopeHandle<'env, T: Send + 'env> {
    pub(crate) state: Arc<State<'env, T>>,
    /// Invariant in `'env`, like `std::thread::Scope`.
    _env: PhantomData<&'env mut &'env ()>,
}

impl<'env, T: Send + 'env> ScopeHandle<'env, T> {
    pub(crate) fn new(state: Arc<State<'env, T>>) -> Self {
        ScopeHandle {
            state,
            _env: PhantomData,
        }
    }

    /// Spawns a child. It starts at once if a concurrency slot is free, else
    /// it waits in the queue (already constructed; see
    /// [`spawn_with`](Self::spawn_with) to defer that).
    ///
    /// Returns the child's index in spawn order, or `None` if the scope has
    /// already finished (the future is then dropped without being polled).
    /// Spawning into a cancelled scope records the child as cancelled.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> Option<usize>
    where
        F: Future<Output = T> + Send + 'env,
    {
        self.state.spawn(
            Body::Ready(Box::pin(future)),
            std::panic::Location::caller(),
        )
    }

    /// Spawns a child whose future is made by `make` only when the child
    /// starts: with [`max_concurrency`](super::Options::max_concurrency), a
    /// queued child costs its closure, not its future.
    #[track_caller]
    pub fn spawn_with<M, F>(&self, make: M) -> Option<usize>
    where
        M: FnOnce() -> F + Send + 'env,
        F: Future<Output = T> + Send + 'env,
    {
        self.state.spawn(
            Body::Lazy(Box::new(move || Box::pin(make()))),
            std::panic::Location::caller(),
        )
    }

    /// Cancels the scope: running children are aborted (dropped after their
    /// current poll), queued ones are dropped unstarted, and later spawns
    /// are recorded as cancelled. Shielded work still runs to completion.
    pub fn cancel(&self) {
        self.state.node.cancel(super::StopReason::Cancelled);
    }

    /// Whether the scope was cancelled, timed out, or stopped by a failure.
    pub fn is_cancelled(&self) -> bool {
        self.state.node.is_cancelled()
    }

    /// The scope's effective deadline: the earliest of its own and those of
    /// every scope it is nested in.
    pub fn deadline(&self) -> Option<Instant> {
        self.state.node.effective_deadline()
    }
}

impl<'env, T: Send + 'env> Clone for ScopeHandle<'env, T> {
    fn clone(&self) -> Self {
        ScopeHandle::new(self.state.clone())
    }
}

impl<'env, T: Send + 'env> fmt::Debug for ScopeHandle<'env, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScopeHandle")
            .field("cancelled", &self.is_cancelled())
            .finish_non_exhaustive()
    }
}
