//! Future combinators.

mod yield_now;

pub use yield_now::{yield_now, YieldNow};
