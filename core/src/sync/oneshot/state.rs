//! The oneshot channel's atomic state word and its named transitions.
//!
//! # Ownership rules
//!
//! The channel has three cells besides this word: the value, the receiver's
//! waker (`rx_waker`) and the sender's waker (`tx_waker`). Who may touch them:
//!
//! 1. **value** — only the sender writes it, and only before `VALUE_SENT` is
//!    set. Once `VALUE_SENT` is set the value belongs to the receiver, which
//!    reads it only after observing `VALUE_SENT`. The sender sets `VALUE_SENT`
//!    with a compare-exchange that fails if `CLOSED` is set; in that case the
//!    value never changed hands and the sender takes it back. This is what
//!    makes `Receiver::close` followed by `try_recv` race-free against a
//!    concurrent `send` (the bug class of tokio #4225): a closed receiver can
//!    only ever see a value that was sent *before* the close.
//! 2. **rx_waker** — while `RX_WAKER_SET` is clear and the sender is not
//!    done (`VALUE_SENT | TX_DROPPED`), the receiver owns it and may write. It
//!    publishes a waker by setting `RX_WAKER_SET`; from then on both sides
//!    may only read it (`will_wake`, `wake_by_ref`). To replace it, the
//!    receiver clears `RX_WAKER_SET` first and writes only if the sender was
//!    not done at that moment (a done sender may be reading it right now).
//! 3. **tx_waker** — the mirror image, with `TX_WAKER_SET` and `CLOSED`.
//!
//! Wakers left in the cells are dropped with the shared allocation, when
//! the last handle is gone.
//!
//! # State changes
//!
//! ```text
//!  sender:   send ──▶ transition_to_sent (VALUE_SENT, unless CLOSED)
//!            drop ──▶ transition_to_tx_dropped (TX_DROPPED)
//!  receiver: close / drop ──▶ transition_to_closed (CLOSED)
//!  either:   set_/unset_ its own waker bit
//! ```
//!
//! All read-modify-writes are `AcqRel` and loads `Acquire`: each side's
//! writes to a cell happen-before the other side's reads through the bit
//! that hands the cell over.

use crate::loom::atomic::{AtomicUsize, Ordering};

/// The receiver's waker is published in `rx_waker`.
const RX_WAKER_SET: usize = 0b00001;
/// A value is in the value cell and belongs to the receiver.
const VALUE_SENT: usize = 0b00010;
/// The sender was dropped without sending.
const TX_DROPPED: usize = 0b00100;
/// The receiver closed the channel or was dropped.
const CLOSED: usize = 0b01000;
/// The sender's waker is published in `tx_waker`.
const TX_WAKER_SET: usize = 0b10000;

/// The atomic state word.
pub(super) struct State(AtomicUsize);

/// A copy of the state word at some moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Snapshot(usize);

/// Result of [`State::transition_to_sent`].
#[must_use]
pub(super) enum SendTransition {
    /// `VALUE_SENT` is set; the state *before* is given.
    Sent(Snapshot),
    /// The receiver had closed; nothing changed and the value is still ours.
    ReceiverClosed,
}

impl State {
    /// Nothing sent, nobody waiting, both ends open.
    pub(super) fn new() -> Self {
        Self(AtomicUsize::new(0))
    }

    /// The current state.
    pub(super) fn load(&self) -> Snapshot {
        Snapshot(self.0.load(Ordering::Acquire))
    }

    /// Hands the (already written) value to the receiver, unless it closed.
    pub(super) fn transition_to_sent(&self) -> SendTransition {
        let mut current = self.0.load(Ordering::Acquire);
        loop {
            debug_assert_eq!(
                current & (VALUE_SENT | TX_DROPPED),
                0,
                "sent twice: {current:#b}"
            );
            if current & CLOSED != 0 {
                return SendTransition::ReceiverClosed;
            }
            match self.0.compare_exchange_weak(
                current,
                current | VALUE_SENT,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(prev) => return SendTransition::Sent(Snapshot(prev)),
                Err(actual) => current = actual,
            }
        }
    }

    /// Records that the sender is gone without a value; returns the state before.
    pub(super) fn transition_to_tx_dropped(&self) -> Snapshot {
        Snapshot(self.0.fetch_or(TX_DROPPED, Ordering::AcqRel))
    }

    /// Records that the receiver closed or dropped; returns the state before.
    pub(super) fn transition_to_closed(&self) -> Snapshot {
        Snapshot(self.0.fetch_or(CLOSED, Ordering::AcqRel))
    }

    /// Publishes the receiver's waker; returns the state before.
    pub(super) fn set_rx_waker(&self) -> Snapshot {
        Snapshot(self.0.fetch_or(RX_WAKER_SET, Ordering::AcqRel))
    }

    /// Withdraws the receiver's waker; returns the state before.
    pub(super) fn unset_rx_waker(&self) -> Snapshot {
        Snapshot(self.0.fetch_and(!RX_WAKER_SET, Ordering::AcqRel))
    }

    /// Publishes the sender's waker; returns the state before.
    pub(super) fn set_tx_waker(&self) -> Snapshot {
        Snapshot(self.0.fetch_or(TX_WAKER_SET, Ordering::AcqRel))
    }

    /// Withdraws the sender's waker; returns the state before.
    pub(super) fn unset_tx_waker(&self) -> Snapshot {
        Snapshot(self.0.fetch_and(!TX_WAKER_SET, Ordering::AcqRel))
    }
}

impl Snapshot {
    /// A value was sent (and now belongs to the receiver).
    pub(super) fn is_value_sent(self) -> bool {
        self.0 & VALUE_SENT != 0
    }

    /// The sender is done: it sent a value or was dropped.
    pub(super) fn is_tx_done(self) -> bool {
        self.0 & (VALUE_SENT | TX_DROPPED) != 0
    }

    /// The receiver closed the channel or was dropped.
    pub(super) fn is_closed(self) -> bool {
        self.0 & CLOSED != 0
    }

    /// The receiver's waker is published.
    pub(super) fn is_rx_waker_set(self) -> bool {
        self.0 & RX_WAKER_SET != 0
    }

    /// The sender's waker is published.
    pub(super) fn is_tx_waker_set(self) -> bool {
        self.0 & TX_WAKER_SET != 0
    }
}
