//! The error of the non-waiting lock attempts.

use core::fmt;

/// The lock could not be taken without waiting.
///
/// Returned by [`Mutex::try_lock`](super::Mutex::try_lock),
/// [`RwLock::try_read`](super::RwLock::try_read),
/// [`RwLock::try_write`](super::RwLock::try_write) and their owned versions
/// when the lock is held in a conflicting way **or other tasks are queued for
/// it** (a `try_*` call never jumps the queue).
///
/// ```
/// use minirt_core::sync::{Mutex, TryLockError};
///
/// let mutex = Mutex::new(1);
/// let _held = mutex.try_lock().unwrap();
/// let err: TryLockError = mutex.try_lock().unwrap_err();
/// assert_eq!(err.to_string(), "operation would block");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TryLockError(());

impl TryLockError {
    /// The only value.
    pub(super) const fn new() -> Self {
        Self(())
    }
}

impl fmt::Display for TryLockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("operation would block")
    }
}

impl core::error::Error for TryLockError {}
