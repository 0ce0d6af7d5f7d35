//! Readiness bits and the direction an operation waits in.
//!
//! Why: a socket is read by one task and written by another at the same time,
//! so readiness is tracked per direction, each with its own waker slot. The
//! "closed" and "error" bits wake both the reader and the writer so that a dead
//! peer is noticed whichever side is waiting.

/// A set of readiness bits, as reported by mio for one registration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) struct Ready(pub(crate) usize);

impl Ready {
    /// No readiness.
    pub(crate) const EMPTY: Ready = Ready(0);
    /// The resource can be read (or accepted from) without blocking.
    pub(crate) const READABLE: Ready = Ready(1 << 0);
    /// The resource can be written without blocking.
    pub(crate) const WRITABLE: Ready = Ready(1 << 1);
    /// The peer closed its write side: reads will return end-of-file.
    pub(crate) const READ_CLOSED: Ready = Ready(1 << 2);
    /// The write side is closed: writes will fail.
    pub(crate) const WRITE_CLOSED: Ready = Ready(1 << 3);
    /// The resource has a pending error (`take_error` or the next operation reports it).
    pub(crate) const ERROR: Ready = Ready(1 << 4);

    /// All bits that describe I/O readiness.
    pub(crate) const ALL: Ready = Ready(0b1_1111);

    /// Bits that stay set once seen: a closed direction does not reopen.
    pub(crate) const CLOSED: Ready = Ready(Self::READ_CLOSED.0 | Self::WRITE_CLOSED.0);

    /// Converts a mio event into readiness bits.
    pub(crate) fn from_event(event: &mio::event::Event) -> Ready {
        let mut ready = Ready::EMPTY;
        if event.is_readable() {
            ready.0 |= Self::READABLE.0;
        }
        if event.is_writable() {
            ready.0 |= Self::WRITABLE.0;
        }
        if event.is_read_closed() {
            ready.0 |= Self::READ_CLOSED.0;
        }
        if event.is_write_closed() {
            ready.0 |= Self::WRITE_CLOSED.0;
        }
        if event.is_error() {
            ready.0 |= Self::ERROR.0;
        }
        ready
    }

    /// Whether no bit is set.
    pub(crate) fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether every bit of `other` is set in `self`.
    pub(crate) fn contains(self, other: Ready) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether the readable bit is set.
    #[cfg(test)]
    pub(crate) fn is_readable(self) -> bool {
        self.contains(Self::READABLE)
    }

    /// Whether the writable bit is set.
    #[cfg(test)]
    pub(crate) fn is_writable(self) -> bool {
        self.contains(Self::WRITABLE)
    }

    /// Whether the write-closed bit is set.
    pub(crate) fn is_write_closed(self) -> bool {
        self.contains(Self::WRITE_CLOSED)
    }

    /// Whether the error bit is set.
    #[cfg(test)]
    pub(crate) fn is_error(self) -> bool {
        self.contains(Self::ERROR)
    }

    pub(crate) fn intersection(self, other: Ready) -> Ready {
        Ready(self.0 & other.0)
    }

    #[cfg(test)]
    pub(crate) fn union(self, other: Ready) -> Ready {
        Ready(self.0 | other.0)
    }

    pub(crate) fn without(self, other: Ready) -> Ready {
        Ready(self.0 & !other.0)
    }
}

/// Which half of a resource an operation uses; each has its own waker slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Reading, receiving, accepting, peeking.
    Read,
    /// Writing, sending, connecting.
    Write,
}

impl Direction {
    /// The readiness bits that let an operation in this direction make progress
    /// (succeed, hit end-of-file, or report an error).
    pub(crate) fn mask(self) -> Ready {
        match self {
            Direction::Read => Ready(Ready::READABLE.0 | Ready::READ_CLOSED.0 | Ready::ERROR.0),
            Direction::Write => Ready(Ready::WRITABLE.0 | Ready::WRITE_CLOSED.0 | Ready::ERROR.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_split_directions_but_share_error() {
        assert!(Direction::Read.mask().is_readable());
        assert!(!Direction::Read.mask().is_writable());
        assert!(Direction::Write.mask().is_writable());
        assert!(!Direction::Write.mask().is_readable());
        assert!(Direction::Read.mask().is_error() && Direction::Write.mask().is_error());
    }

    #[test]
    fn set_operations() {
        let r = Ready::READABLE.union(Ready::READ_CLOSED);
        assert_eq!(r.without(Ready::CLOSED), Ready::READABLE);
        assert_eq!(r.intersection(Direction::Write.mask()), Ready::EMPTY);
        assert!(Ready::ALL.contains(r));
    }
}
