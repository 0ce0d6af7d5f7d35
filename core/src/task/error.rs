//! `JoinError`: why a task produced no output.

use alloc::boxed::Box;
use core::any::Any;
use core::fmt;

/// A panic payload, as `std::panic::catch_unwind` returns it.
pub type PanicPayload = Box<dyn Any + Send + 'static>;

/// The task behind a [`JoinHandle`](super::JoinHandle) did not produce a value.
///
/// Either it was cancelled (aborted, or its runtime or scope shut down) and its
/// future was dropped, or it panicked while being polled or dropped.
///
/// ```
/// # use minirt_core::task::JoinError;
/// fn describe(err: &JoinError) -> &'static str {
///     if err.is_cancelled() { "cancelled" } else { "panicked" }
/// }
/// ```
pub struct JoinError {
    repr: Repr,
}

enum Repr {
    Cancelled,
    Panic(SyncPayload),
}

/// A panic payload that may be shared between threads through `&JoinError`.
///
/// `Box<dyn Any + Send>` is not `Sync`, which would make `JoinError` unfit
/// for `Box<dyn Error + Send + Sync>` (and so for `?` into most error
/// types). Through a shared reference we only ever call `type_id` (a pure
/// vtable call) and read the payload as `&str` or `&String`, which are
/// `Sync`; the payload itself only leaves by value.
struct SyncPayload(PanicPayload);

// SAFETY: see the type's docs — no `&` access reaches anything but `Sync`
// data (`&'static str`, `String`) and the vtable.
unsafe impl Sync for SyncPayload {}

impl JoinError {
    /// The error for a task whose future was dropped before completing.
    pub fn cancelled() -> JoinError {
        JoinError {
            repr: Repr::Cancelled,
        }
    }

    /// The error for a task that panicked with `payload`.
    pub fn panic(payload: PanicPayload) -> JoinError {
        JoinError {
            repr: Repr::Panic(SyncPayload(payload)),
        }
    }

    /// Whether the task was cancelled.
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled)
    }

    /// Whether the task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic(_))
    }

    /// The panic payload, to inspect or to `std::panic::resume_unwind`.
    ///
    /// # Panics
    ///
    /// If the task was cancelled rather than panicking; use
    /// [`try_into_panic`](Self::try_into_panic) when unsure.
    #[track_caller]
    pub fn into_panic(self) -> PanicPayload {
        match self.try_into_panic() {
            Ok(payload) => payload,
            Err(_) => panic!("JoinError::into_panic called on a cancelled task's error"),
        }
    }

    /// The panic payload, or the error back if the task was cancelled.
    pub fn try_into_panic(self) -> Result<PanicPayload, JoinError> {
        match self.repr {
            Repr::Panic(SyncPayload(payload)) => Ok(payload),
            Repr::Cancelled => Err(self),
        }
    }

    fn panic_message(&self) -> Option<&str> {
        match &self.repr {
            Repr::Panic(SyncPayload(p)) => {
                p.downcast_ref::<&'static str>().copied().or_else(|| {
                    p.downcast_ref::<alloc::string::String>()
                        .map(|s| s.as_str())
                })
            }
            Repr::Cancelled => None,
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.repr, self.panic_message()) {
            (Repr::Cancelled, _) => f.write_str("task was cancelled"),
            (Repr::Panic(_), Some(msg)) => write!(f, "task panicked with message {msg:?}"),
            (Repr::Panic(_), None) => f.write_str("task panicked"),
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.repr, self.panic_message()) {
            (Repr::Cancelled, _) => f.write_str("JoinError::Cancelled"),
            (Repr::Panic(_), Some(msg)) => write!(f, "JoinError::Panic({msg:?})"),
            (Repr::Panic(_), None) => f.write_str("JoinError::Panic(..)"),
        }
    }
}

impl core::error::Error for JoinError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync + 'static>() {}

    #[test]
    fn join_error_fits_boxed_errors() {
        assert_send_sync::<JoinError>();
        let boxed: alloc::boxed::Box<dyn core::error::Error + Send + Sync> =
            alloc::boxed::Box::new(JoinError::panic(alloc::boxed::Box::new("boom")));
        assert_eq!(
            alloc::format!("{boxed}"),
            "task panicked with message \"boom\""
        );
    }
}
