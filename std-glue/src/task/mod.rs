//! Tasks: handles to spawned work, why a task produced no output, the
//! cooperative budget that keeps a busy task from starving its thread, and
//! task-local storage ([`task_local!`](crate::task_local)).

mod coop;
mod task_local;

pub use coop::{consume_budget, unconstrained, Unconstrained};
pub use task_local::{AccessError, LocalKey, TaskLocalFuture};

/// Task-related futures (tokio's `task::futures`).
pub mod futures {
    pub use super::task_local::TaskLocalFuture;
}
pub use minirt_core::task::{AbortHandle, Id, JoinError, JoinHandle, PanicPayload};

/// The spawn functions and `yield_now` under tokio's paths as well
/// (`tokio::task::spawn`, `task::spawn_blocking`, `task::spawn_local`,
/// `task::yield_now`): the same items as [`minirt::spawn`](crate::spawn)
/// and the others at the crate root, so code ported from tokio keeps its
/// `task::` prefix.
///
/// ```
/// let rt = minirt::Runtime::new().unwrap();
/// let n = rt.block_on(async {
///     minirt::task::yield_now().await;
///     let a = minirt::task::spawn(async { 20 });
///     let b = minirt::task::spawn_blocking(|| 22);
///     a.await.unwrap() + b.await.unwrap()
/// });
/// assert_eq!(n, 42);
/// ```
pub use crate::entry::{spawn, spawn_blocking, spawn_local};
#[doc(inline)]
pub use minirt_core::future::yield_now;
