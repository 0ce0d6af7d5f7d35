//! # minirt
//!
//! A small async runtime you can read end to end: run a few things
//! concurrently from ordinary synchronous code, or build a whole service on
//! its work-stealing scheduler.
//!
//! ```
//! // From synchronous code: run async work on this thread.
//! let answer = minirt::block_on(async {
//!     let a = minirt::spawn(async { 20 });
//!     let b = minirt::spawn(async { 22 });
//!     a.await.unwrap() + b.await.unwrap()
//! });
//! assert_eq!(answer, 42);
//! ```
//!
//! The crate is a facade over `minirt-core` (the `no_std` task core, timer
//! wheel, sync primitives and combinators), `minirt-reactor` (I/O) and the
//! runtimes defined here; everything is reachable as `minirt::...`.
#![warn(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

pub mod blocking;
mod bridge;
mod driver;
mod entry;
#[cfg(fuzzing)]
pub mod fuzz;
mod loom;
pub mod main_scope;
pub mod runtime;
pub mod scope;
pub mod task;
pub mod time;

pub use bridge::{completed, completed_ordered, run, Completed, CompletedOrdered};
pub use entry::{block_on, spawn, spawn_blocking, spawn_local};
pub use main_scope::main_scope;
pub use minirt_core::future::yield_now;
pub use minirt_core::join;
pub use minirt_reactor::{io, net, signal};
pub use runtime::{Builder, Handle, Runtime, RuntimeMetrics};
pub use scope::{scope, shield};
pub use task::{AbortHandle, JoinError, JoinHandle};

/// Future combinators (re-exported from `minirt-core`).
pub mod future {
    pub use minirt_core::future::*;
}

/// Semaphores, channels and notification (re-exported from `minirt-core`).
///
/// They work on every minirt runtime, and without `std`.
pub mod sync {
    pub use minirt_core::sync::*;
}

/// The README's code examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
