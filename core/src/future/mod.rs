//! Future combinators: wait for several futures at once.
//!
//! Sync code hands minirt a batch of futures and wants all their results
//! (`minirt::run`), the results as they come (`minirt::completed`), or just
//! the first one; async code wants the same without spawning a task per
//! future. These combinators do it inside the one task that awaits them:
//!
//! | combinator | resolves to |
//! | --- | --- |
//! | [`join!`](crate::join)`(a, b, ..)` | a tuple of all outputs |
//! | [`join_all`] | `Vec` of all outputs, in input order |
//! | [`try_join_all`] | `Ok(Vec)`, or the first `Err` (the rest are cancelled) |
//! | [`as_completed`] | outputs one at a time, in completion order |
//! | [`race`] | the first output of two futures of one type |
//! | [`select`] | the first output of two futures, as an [`Either`] |
//!
//! They allocate once, when built (a slice for the children and, for the
//! collection combinators, one waker per child); polling allocates nothing.
//! The collection combinators give each child its own waker, so a poll only
//! polls the children that were woken: a wake-up costs O(1), not O(n).
//!
//! Cancellation is dropping: a combinator that no longer needs a child (the
//! loser of a race, the siblings of a failed `try_join_all`) drops it at
//! once, running its destructors, and never polls it again.
//!
//! ```
//! use minirt_core::executor::LocalExecutor;
//! use minirt_core::future::{join_all, yield_now};
//!
//! let ex = LocalExecutor::new();
//! let (a, all) = ex.block_on(
//!     async {
//!         minirt_core::join!(
//!             async { 1 },
//!             join_all((0..3).map(|i| async move {
//!                 yield_now().await;
//!                 i
//!             })),
//!         )
//!     },
//!     || {},
//! );
//! assert_eq!((a, all), (1, vec![0, 1, 2]));
//! ```

mod as_completed;
mod either;
mod join;
mod join_all;
mod maybe_done;
mod ready;
mod select;
#[cfg(all(test, not(loom)))]
mod test_util;
mod try_join_all;
mod yield_now;

pub use as_completed::{as_completed, AsCompleted, Next, NextIndexed};
pub use either::Either;
pub use join_all::{join_all, JoinAll};
pub use maybe_done::MaybeDone;
pub use select::{race, select, Race, Select};
pub use try_join_all::{try_join_all, TryJoinAll};
pub use yield_now::{yield_now, YieldNow};
