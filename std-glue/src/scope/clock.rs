//! The one place scopes touch the clock: reading "now" on a runtime's clock
//! and sleeping until a deadline. Everything else in `scope` only compares
//! [`Instant`]s, so the clock (real or mock) is the runtime's business.

use crate::runtime::Handle;

pub(crate) use crate::time::Instant;

/// The current time on `handle`'s clock (the mock clock if it has one),
/// from any thread, inside a runtime or not.
pub(crate) fn now_on(handle: &Handle) -> Instant {
    Instant(handle.inner.driver.time.clock.now())
}

/// Completes at `deadline` on the clock of the runtime polling it.
pub(crate) async fn sleep_until(deadline: Instant) {
    crate::time::sleep_until(deadline).await
}
