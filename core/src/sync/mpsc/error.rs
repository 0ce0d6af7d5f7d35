//! Errors returned by the mpsc channel. Each failed send gives its value back.

use core::fmt;

/// The receiver is gone or closed; the value was not sent and is returned.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SendError<T>(pub T);

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendError").finish_non_exhaustive()
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "mpsc channel closed: the receiver was dropped or closed; the value is returned",
        )
    }
}

impl<T> core::error::Error for SendError<T> {}

/// Why [`Sender::try_send`](super::Sender::try_send) failed; holds the value.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum TrySendError<T> {
    /// No free slot (or other senders are waiting first).
    Full(T),
    /// The receiver is gone or closed.
    Closed(T),
}

impl<T> TrySendError<T> {
    /// The value that was not sent.
    pub fn into_inner(self) -> T {
        match self {
            TrySendError::Full(value) | TrySendError::Closed(value) => value,
        }
    }
}

impl<T> fmt::Debug for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("Full(..)"),
            TrySendError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

impl<T> fmt::Display for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TrySendError::Full(_) => "mpsc channel full: no free slot right now",
            TrySendError::Closed(_) => "mpsc channel closed: the receiver was dropped or closed",
        })
    }
}

impl<T> core::error::Error for TrySendError<T> {}

/// Why [`Receiver::try_recv`](super::Receiver::try_recv) returned no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// Nothing buffered; senders may still send.
    Empty,
    /// Nothing buffered and nothing will come: all senders are gone or the
    /// channel was closed.
    Disconnected,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TryRecvError::Empty => "mpsc channel empty",
            TryRecvError::Disconnected => "mpsc channel empty and disconnected",
        })
    }
}

impl core::error::Error for TryRecvError {}
