//! Errors of the [`watch`](super) channel (tokio's names and meanings).

use core::fmt;

/// Every receiver is gone, so [`Sender::send`](super::Sender::send) did not
/// store the value; it is returned here.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SendError<T>(pub T);

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendError").finish_non_exhaustive()
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("watch channel closed: every receiver was dropped; the value is returned")
    }
}

impl<T> core::error::Error for SendError<T> {}

/// Every sender is gone: the value will not change again.
///
/// Returned by [`Receiver::changed`](super::Receiver::changed),
/// [`Receiver::wait_for`](super::Receiver::wait_for) and
/// [`Receiver::has_changed`](super::Receiver::has_changed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvError(pub(super) ());

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("watch channel closed: every sender was dropped")
    }
}

impl core::error::Error for RecvError {}
