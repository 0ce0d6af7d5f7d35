//! Errors returned by the oneshot channel.

use core::fmt;

/// The sender was dropped without sending (or the receiver closed the
/// channel before a value arrived).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvError(());

impl RecvError {
    /// The only value.
    pub(super) const fn new() -> Self {
        Self(())
    }
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("oneshot channel closed: the sender was dropped without sending a value")
    }
}

impl core::error::Error for RecvError {}

/// Why [`Receiver::try_recv`](super::Receiver::try_recv) returned no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// Nothing sent yet; the sender may still send.
    Empty,
    /// No value will ever arrive (sender dropped, channel closed, or the
    /// value was already taken).
    Closed,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TryRecvError::Empty => "oneshot channel empty: no value sent yet",
            TryRecvError::Closed => "oneshot channel closed: no value will arrive",
        })
    }
}

impl core::error::Error for TryRecvError {}
