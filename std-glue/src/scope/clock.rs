//! The one place scopes touch the clock: reading "now" on a runtime's clock
//! and sleeping until a deadline. Everything else in `scope` only compares
//! [`Instant`]s, so swapping the clock (real or mock) needs no change there.

use crate::runtime::{context, Handle};

pub use std::time::Instant;

/// The current time on `handle`'s clock (the mock clock if it has one).
pub(crate) fn now_on(handle: &Handle) -> Instant {
    let _current = context::set_current(handle.clone());
    Instant::now()
}

/// Completes at `deadline` on the clock of the runtime polling it.
pub(crate) async fn sleep_until(deadline: Instant) {
    // TEMPORARY until `minirt::time` lands: never fires.
    let _ = deadline;
    std::future::pending::<()>().await
}
