//! Errors returned by the semaphore.

use core::fmt;

/// The semaphore was closed before permits could be handed out.
///
/// Returned by [`Semaphore::acquire`](super::Semaphore::acquire) and friends
/// once [`Semaphore::close`](super::Semaphore::close) has been called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcquireError(());

impl AcquireError {
    /// The only value.
    pub(super) const fn new() -> Self {
        Self(())
    }
}

impl fmt::Display for AcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "semaphore closed: no more permits will be handed out, the acquire was abandoned",
        )
    }
}

impl core::error::Error for AcquireError {}

/// Why [`Semaphore::try_acquire`](super::Semaphore::try_acquire) failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryAcquireError {
    /// The semaphore is closed.
    Closed,
    /// Not enough free permits, or other acquires are queued first.
    NoPermits,
}

impl fmt::Display for TryAcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TryAcquireError::Closed => "semaphore closed: no more permits will be handed out",
            TryAcquireError::NoPermits => {
                "no permits available right now (or other acquires are waiting first)"
            }
        })
    }
}

impl core::error::Error for TryAcquireError {}
