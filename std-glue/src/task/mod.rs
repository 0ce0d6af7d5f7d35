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
