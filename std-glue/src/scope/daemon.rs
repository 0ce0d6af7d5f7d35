//! Daemon children (ayo's `dont_hold_exit`): helpers that run beside a
//! scope's work without keeping the scope open.

use std::future::Future;

use super::async_scope::Scope;
use super::handle::ScopeHandle;
use super::side::Kind;

impl<'env, T: Send + 'env> ScopeHandle<'env, T> {
    /// Spawns a *daemon* child: one that does not hold the scope open.
    ///
    /// Why: a scope often needs a helper that lives exactly as long as the
    /// real work — a progress reporter, a heartbeat, a cache refresher —
    /// and would otherwise have to be cancelled by hand before `join`, or
    /// the scope would never end. A daemon runs until the scope's other work
    /// is done: once the owner is waiting for the end (in `join`, or after
    /// the closure of [`minirt::scope`](crate::scope())) and no regular
    /// child is running or queued and no [scheduled call](Self::after) is
    /// pending, every daemon is cancelled — its future dropped at its
    /// `.await`, destructors run — and the scope ends.
    ///
    /// Otherwise a daemon is a child like the others: it runs in parallel,
    /// is cancelled with the scope (by `cancel`, a deadline or a failure),
    /// sees the scope's [`current_deadline`](super::current_deadline), and
    /// `join` returns only after its future was dropped. The differences:
    ///
    /// - it has no output and no slot in the results (its output is `()`
    ///   whatever the scope's `T`);
    /// - it does not take a [`max_concurrency`](super::Options::max_concurrency)
    ///   slot and never waits in the queue (a daemon that never ends would
    ///   otherwise hold a slot forever);
    /// - a daemon that panics stops a fail-fast scope (a supervisor keeps
    ///   going), and its panic resumes in the owner when the scope finishes
    ///   — from `join`, `try_join` and also `outcomes`, since there is no
    ///   outcome to keep it in.
    ///
    /// A daemon may spawn regular children into the scope (keep a handle);
    /// the scope then waits for those as usual.
    ///
    /// Returns `false` (dropping `future` unpolled) if the scope has
    /// finished, was cancelled, or has already stopped its daemons.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU32, Ordering};
    /// use std::time::Duration;
    /// use minirt::scope::Scope;
    /// use minirt::time::{self, Clock};
    ///
    /// let beats = AtomicU32::new(0);
    /// let rt = minirt::Builder::multi_thread().clock(Clock::mock()).build()?;
    /// let out = minirt::scope::scope_on(rt.handle(), |s| {
    ///     // A heartbeat that lives as long as the work, borrowing `beats`.
    ///     s.spawn_daemon(async {
    ///         loop {
    ///             time::sleep(Duration::from_secs(1)).await;
    ///             beats.fetch_add(1, Ordering::SeqCst);
    ///         }
    ///     });
    ///     s.spawn(async {
    ///         time::sleep(Duration::from_millis(3500)).await;
    ///         "work done"
    ///     });
    /// });
    /// assert_eq!(out.unwrap(), ["work done"]); // the daemon has no result
    /// assert_eq!(beats.load(Ordering::SeqCst), 3); // at 1 s, 2 s and 3 s
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn spawn_daemon<F>(&self, future: F) -> bool
    where
        F: Future<Output = ()> + Send + 'env,
    {
        self.state
            .spawn_side(
                Kind::Daemon,
                Box::pin(future),
                std::panic::Location::caller(),
            )
            .is_some()
    }
}

impl<T: Send + 'static> Scope<T> {
    /// See [`ScopeHandle::spawn_daemon`].
    ///
    /// ```
    /// use minirt::scope::Scope;
    ///
    /// minirt::block_on(async {
    ///     let scope = Scope::new();
    ///     scope.spawn_daemon(std::future::pending()); // would never end by itself
    ///     scope.spawn(async { 7 });
    ///     assert_eq!(scope.join().await.unwrap(), [7]); // the daemon was cancelled
    /// });
    /// ```
    #[track_caller]
    pub fn spawn_daemon<F>(&self, future: F) -> bool
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.handle().spawn_daemon(future)
    }
}
