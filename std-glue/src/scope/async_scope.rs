//! `Scope`: a task group for async code whose children (`Send + 'static`)
//! run in parallel on the current runtime.

use std::fmt;
use std::future::{poll_fn, Future};

use minirt_core::coop;

use super::handle::ScopeHandle;
use super::options::Options;
use super::outcome::{Outcome, Report, Stopped, TryJoinError};
use super::state::State;
use crate::runtime::Handle;

/// A group of child tasks that are all finished, or cancelled and dropped,
/// before [`join`](Scope::join) returns.
///
/// Children run in parallel on the runtime the scope was created on. By
/// default the scope is *fail-fast*: the first child to panic cancels its
/// siblings, and once they are dropped the panic resumes in the task that
/// awaits `join`. See [`Options`] for a concurrency limit, a deadline and
/// supervisor mode.
///
/// # Dropping a scope
///
/// Dropping a `Scope` (or the future of `join`, for instance because the
/// task awaiting it was aborted) before it finished cancels it: every child
/// is aborted and queued children are dropped right away. A destructor
/// cannot wait, so what is guaranteed when the drop returns is that no child
/// will be **polled** again and none will start; a child's future is dropped
/// by its runtime soon after — at once if it is idle and the runtime picks it
/// up, or right after its current poll if it is running on another worker.
/// Shielded work keeps running. Await `join` (after [`cancel`](Self::cancel))
/// when you need the destructors to have run. If this scope is nested in
/// another (it was created inside one of that scope's children), the outer
/// scope's `join` does wait: a dropped scope holds its parent open until its
/// last child was dropped.
///
/// ```
/// use minirt::scope::Scope;
///
/// minirt::block_on(async {
///     let scope = Scope::new();
///     for i in 0..4u64 {
///         scope.spawn(async move { i * 10 });
///     }
///     assert_eq!(scope.join().await.unwrap(), [0, 10, 20, 30]);
/// });
/// ```
pub struct Scope<T: Send + 'static> {
    handle: ScopeHandle<'static, T>,
}

impl<T: Send + 'static> Scope<T> {
    /// A fail-fast scope on the current runtime.
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    #[track_caller]
    pub fn new() -> Scope<T> {
        Options::new().build()
    }

    /// A supervisor scope: failures do not cancel siblings.
    #[track_caller]
    pub fn supervisor() -> Scope<T> {
        Options::new().supervisor().build()
    }

    #[track_caller]
    pub(crate) fn with_options(options: &Options, fail_on: Option<fn(&T) -> bool>) -> Scope<T> {
        let handle = match &options.handle {
            Some(h) => h.clone(),
            None => Handle::current(),
        };
        let config = options.config(&handle, fail_on);
        Scope {
            handle: ScopeHandle::new(State::new(handle, config)),
        }
    }

    /// A handle to spawn into this scope from elsewhere (a child, another
    /// task), or to cancel it.
    pub fn handle(&self) -> ScopeHandle<'static, T> {
        self.handle.clone()
    }

    /// See [`ScopeHandle::spawn`].
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> Option<usize>
    where
        F: Future<Output = T> + Send + 'static,
    {
        self.handle.spawn(future)
    }

    /// See [`ScopeHandle::spawn_with`].
    #[track_caller]
    pub fn spawn_with<M, F>(&self, make: M) -> Option<usize>
    where
        M: FnOnce() -> F + Send + 'static,
        F: Future<Output = T> + Send + 'static,
    {
        self.handle.spawn_with(make)
    }

    /// See [`ScopeHandle::cancel`].
    pub fn cancel(&self) {
        self.handle.cancel();
    }

    /// Whether the scope was cancelled, timed out or stopped by a failure.
    pub fn is_cancelled(&self) -> bool {
        self.handle.is_cancelled()
    }

    /// See [`ScopeHandle::deadline`].
    pub fn deadline(&self) -> Option<crate::time::Instant> {
        self.handle.deadline()
    }

    /// The next child to finish, with its spawn index, fastest first; `None`
    /// when no child is running or queued. Outcomes taken here are left out
    /// of what `join` returns.
    ///
    /// ```
    /// use minirt::scope::{Outcome, Scope};
    ///
    /// minirt::block_on(async {
    ///     let mut scope = Scope::new();
    ///     scope.spawn(async { "a" });
    ///     scope.spawn(async { "b" });
    ///     let mut seen = Vec::new();
    ///     while let Some((index, outcome)) = scope.next_completed().await {
    ///         seen.push((index, outcome.completed().unwrap()));
    ///     }
    ///     seen.sort();
    ///     assert_eq!(seen, [(0, "a"), (1, "b")]);
    /// });
    /// ```
    pub async fn next_completed(&mut self) -> Option<(usize, Outcome<T>)> {
        poll_fn(|cx| coop::poll_budgeted(cx, |cx| self.handle.state.poll_next_completed(cx))).await
    }

    /// Waits for every child (and any shielded work started inside).
    ///
    /// Returns every output in spawn order, or [`Stopped`] with the outputs
    /// that did complete if the scope timed out or was cancelled.
    ///
    /// # Panics
    ///
    /// Resumes a child's panic: in fail-fast mode that of the child whose
    /// panic stopped the scope, after its siblings were cancelled and
    /// dropped; in supervisor mode, after every child finished, that of the
    /// first child **in spawn order** that panicked (not necessarily the
    /// first to panic; use [`outcomes`](Self::outcomes) to keep panics as
    /// values).
    pub async fn join(self) -> Result<Vec<T>, Stopped<T>> {
        let state = self.handle.state.clone();
        let finished = poll_fn(|cx| coop::poll_budgeted(cx, |cx| state.poll_finish(cx))).await;
        drop(self);
        finished.into_result()
    }

    /// Waits for every child and returns each one's [`Outcome`] in spawn
    /// order; never resumes a panic. The natural ending of a supervisor.
    pub async fn outcomes(self) -> Report<T> {
        let state = self.handle.state.clone();
        let finished = poll_fn(|cx| coop::poll_budgeted(cx, |cx| state.poll_finish(cx))).await;
        drop(self);
        finished.into_report()
    }
}

impl<V: Send + 'static, E: Send + 'static> Scope<Result<V, E>> {
    /// A fail-fast scope whose children return `Result`: the first `Err`
    /// cancels the siblings and is returned by [`try_join`](Self::try_join).
    #[track_caller]
    pub fn new_try() -> Scope<Result<V, E>> {
        Options::new().build_try()
    }

    /// Waits for every child; returns the `Ok` values in spawn order, the
    /// first `Err` (see [`TryJoinError::Failed`]), or
    /// [`TryJoinError::Stopped`] on timeout or cancellation. Panics resume
    /// as in [`join`](Self::join); in a supervisor, the first child in spawn
    /// order that panicked or returned `Err` decides which.
    ///
    /// ```
    /// use minirt::scope::{Scope, TryJoinError};
    ///
    /// minirt::block_on(async {
    ///     let scope = Scope::new_try();
    ///     scope.spawn(async { Ok(1) });
    ///     scope.spawn(async { Err("boom") });
    ///     scope.spawn(std::future::pending()); // cancelled by the failure
    ///     assert!(matches!(scope.try_join().await, Err(TryJoinError::Failed("boom"))));
    /// });
    /// ```
    pub async fn try_join(self) -> Result<Vec<V>, TryJoinError<V, E>> {
        let state = self.handle.state.clone();
        let finished = poll_fn(|cx| coop::poll_budgeted(cx, |cx| state.poll_finish(cx))).await;
        drop(self);
        finished.into_try_result()
    }
}

impl Options {
    /// An async [`Scope`] with these settings on the current runtime (or the
    /// one given to [`on`](Options::on)).
    ///
    /// # Panics
    ///
    /// Outside a runtime, when no runtime was given.
    #[track_caller]
    pub fn build<T: Send + 'static>(&self) -> Scope<T> {
        Scope::with_options(self, None)
    }

    /// Like [`build`](Options::build) for children returning `Result`: an
    /// `Err` counts as a failure (see [`Scope::try_join`]).
    #[track_caller]
    pub fn build_try<V: Send + 'static, E: Send + 'static>(&self) -> Scope<Result<V, E>> {
        Scope::with_options(self, Some(Result::is_err))
    }
}

impl<T: Send + 'static> Default for Scope<T> {
    fn default() -> Self {
        Scope::new()
    }
}

impl<T: Send + 'static> Drop for Scope<T> {
    fn drop(&mut self) {
        self.handle.state.abandon();
    }
}

impl<T: Send + 'static> fmt::Debug for Scope<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scope")
            .field("cancelled", &self.is_cancelled())
            .finish_non_exhaustive()
    }
}
