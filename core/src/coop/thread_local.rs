//! The budget in a thread-local `Cell` (the crate's `std` feature, and its
//! unit tests).

use core::cell::Cell;

use super::Budget;

std::thread_local! {
    /// The budget of the task being polled on this thread; unconstrained
    /// outside any [`budget`](super::budget) call. `const`-initialized and
    /// without a destructor, so each access is a plain TLS address.
    static CURRENT: Cell<Budget> = const { Cell::new(Budget::unconstrained()) };
}

/// Runs `f` on this thread's budget; `None` only while the thread's
/// thread-locals are being destroyed.
#[inline(always)]
pub(super) fn with<R>(f: impl FnOnce(&Cell<Budget>) -> R) -> Option<R> {
    CURRENT.try_with(f).ok()
}
