//! Tasks: handles to spawned work, why a task produced no output, and the
//! cooperative budget that keeps a busy task from starving its thread.

mod coop;

pub use coop::{consume_budget, unconstrained, Unconstrained};
pub use minirt_core::task::{AbortHandle, JoinError, JoinHandle, PanicPayload};
