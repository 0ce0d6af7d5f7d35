//! Structured concurrency: groups of tasks that are all finished, or
//! cancelled and dropped, before the code after them continues.
//!
//! # Why
//!
//! A bare `spawn` lets work outlive the code that started it: an error
//! leaves siblings running, a timeout leaks tasks, and nothing may borrow
//! from the caller. A scope (trio's nursery, anyio's task group, ayo's
//! execution scope) closes that gap: it does not end until every child has
//! ended, so children can be cancelled as a group, their failures surface in
//! the owner, and — at the sync boundary — they can borrow.
//!
//! # Two entry points
//!
//! - [`Scope`] for async code: children are `Send + 'static`, run in
//!   parallel on the current runtime, and the owner awaits
//!   [`join`](Scope::join) (or [`outcomes`](Scope::outcomes),
//!   [`try_join`](Scope::try_join), [`next_completed`](Scope::next_completed)).
//! - [`minirt::scope`](crate::scope()) for synchronous code: it blocks the
//!   calling thread like `std::thread::scope`, and children may **borrow**
//!   from the caller's stack while running on a work-stealing pool.
//!
//! Both take the same [`Options`]: `max_concurrency(n)` (with
//! [`spawn_with`](ScopeHandle::spawn_with) for children constructed only
//! when a slot frees), `timeout`/`deadline`, and `supervisor()`. Both give
//! results in spawn order; a timed-out or cancelled scope reports
//! [`Stopped`], which keeps the outputs that did complete.
//!
//! ```
//! use std::time::Duration;
//! use minirt::scope::Options;
//!
//! minirt::block_on(async {
//!     let scope = Options::new().max_concurrency(4).build();
//!     let spawner = scope.handle();
//!     for i in 0..3u32 {
//!         let spawner = spawner.clone();
//!         // Children may spawn more children into the same scope.
//!         scope.spawn(async move {
//!             spawner.spawn(async move { i + 100 });
//!             i
//!         });
//!     }
//!     let mut all = scope.join().await.unwrap();
//!     all.sort();
//!     assert_eq!(all, [0, 1, 2, 100, 101, 102]);
//! });
//! ```
//!
//! # Failure, cancellation and nesting
//!
//! - **Fail-fast** (default): the first child to panic — or to return `Err`
//!   in a `try` scope — cancels its siblings; once they are dropped the panic
//!   resumes in the owner (`resume_unwind`, with the child's payload) or the
//!   error is returned.
//! - **Supervisor**: failures are recorded per child and siblings keep going.
//! - **Cancellation** is unwinding: a cancelled child's future is dropped,
//!   running its destructors at the suspended `.await`. `join` returns only
//!   after that happened for every child.
//! - **Nesting** (trio's cancel scopes): a scope created inside a child of
//!   another scope is nested in it. Its effective deadline is the earlier of
//!   its own and its parent's, so an inner timeout can shorten but never
//!   extend an outer one; [`current_deadline`] reports it to the code running
//!   inside. Cancelling a scope aborts its children, which drops the scopes
//!   they own, which cancel theirs — all the way down. A nested scope holds
//!   its parent open until its own children are gone, so an outer `join`
//!   returns only after every descendant was dropped.
//! - [`shield`](crate::shield) runs work that survives the cancellation of
//!   whoever awaits it; every enclosing scope still waits for it (a shielded
//!   task holds the scopes around it open, like a nested scope does).
//!
//! # What a scope costs
//!
//! Each child is one boxed future plus one task; a child queued by
//! `max_concurrency` is one boxed closure (none if it captures nothing) and
//! one slot in the results. Children run as ordinary tasks: a scope never
//! polls them itself, so they run in parallel on a multi-thread runtime.
//!
//! # Why borrowing at the sync boundary is sound
//!
//! A future can be leaked (`mem::forget`), so an async scope cannot let
//! children borrow from the future that owns it: nothing would stop the
//! borrowed data from being freed while the children run. A blocked stack
//! frame cannot be leaked. [`minirt::scope`](crate::scope()) does not return
//! — not normally, not by a panic in its closure, not by a child's panic —
//! until every child is finished or cancelled **and its future dropped**:
//!
//! 1. a child is counted as alive before its task exists, and uncounted only
//!    after its future was dropped (in the task's poll on completion, or in
//!    the task's destructor on cancellation) — see `state.rs`;
//! 2. children waiting for a concurrency slot are only closures; they are
//!    dropped by the scope (or by a finishing sibling still counted alive)
//!    before the count can reach zero;
//! 3. a panic in the closure is caught, the scope is cancelled, and the
//!    thread waits for the count to reach zero before resuming the panic;
//! 4. a [`ScopeHandle`] that escapes the closure can only spawn while its
//!    `'env` is alive, and after the scope finished it drops what it is given
//!    without running it.
//!
//! So everything a child borrows outlives the child, which is what
//! `task::spawn_unchecked`'s contract asks for. The price is a blocked
//! thread, which is why the sync-boundary scope refuses to run on a runtime
//! worker.

mod async_scope;
mod child;
mod clock;
mod daemon;
mod handle;
mod node;
mod options;
mod outcome;
mod schedule;
mod shield;
mod side;
mod state;
mod sync_scope;

pub use async_scope::Scope;
pub use handle::ScopeHandle;
pub(crate) use node::CancelNode;
pub use options::Options;
pub use outcome::{Outcome, Report, StopReason, Stopped, TryJoinError};
pub use schedule::{Overrun, ScheduledCall};
pub use shield::{shield, Shield};
pub use sync_scope::{scope, scope_on, try_scope};

/// The effective deadline of the code running right now: the earliest
/// deadline of the scope whose child is being polled on this thread and of
/// every scope around it. `None` outside scopes or when none has a deadline.
///
/// "Inside a scope" means inside the poll of one of its children; a task
/// started with plain `minirt::spawn` from a child is not part of the scope
/// and sees no deadline.
///
/// ```
/// use std::time::Duration;
/// use minirt::scope::{current_deadline, Options};
///
/// minirt::block_on(async {
///     assert_eq!(current_deadline(), None);
///     let scope = Options::new().timeout(Duration::from_secs(5)).build();
///     let expected = scope.deadline();
///     scope.spawn(async move { assert_eq!(current_deadline(), expected) });
///     scope.join().await.unwrap();
/// });
/// ```
pub fn current_deadline() -> Option<crate::time::Instant> {
    node::current().and_then(|n| n.effective_deadline())
}
