//! A channel for sending exactly one value between tasks.
//!
//! Why: the commonest hand-off in async code is "compute this and give me the
//! answer" — a request and its reply, a task and its result. A oneshot does
//! that with one allocation and no lock, which matters because it sits on the
//! hot path of request/response code (and of minirt's ping-pong benchmark).
//!
//! How: both ends share one allocation holding the value, a waker for each
//! side and an atomic state word. The `state` module documents which end may
//! touch which cell under which bit; every state change is a named
//! transition. Closing is race-free against sending: once the receiver has
//! closed, a concurrent `send` fails and gets its value back, and the receiver
//! only ever sees a value sent before it closed.
//!
//! ```
//! use core::future::Future;
//! use core::pin::pin;
//! use core::task::{Context, Poll, Waker};
//! use minirt_core::sync::oneshot;
//!
//! let (tx, rx) = oneshot::channel();
//! let mut rx = pin!(rx);
//! let mut cx = Context::from_waker(Waker::noop());
//! assert!(rx.as_mut().poll(&mut cx).is_pending());
//! tx.send(42).unwrap();
//! assert_eq!(rx.as_mut().poll(&mut cx), Poll::Ready(Ok(42)));
//! ```

mod error;
mod state;
#[cfg(all(test, not(loom)))]
mod tests;

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{ready, Context, Poll, Waker};

use crate::loom::sync::Arc;
use crate::loom::UnsafeCell;

pub use error::{RecvError, TryRecvError};
use state::{SendTransition, Snapshot, State};

/// Creates a connected sender and receiver.
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let inner = Arc::new(Inner {
        state: State::new(),
        value: UnsafeCell::new(None),
        rx_waker: UnsafeCell::new(None),
        tx_waker: UnsafeCell::new(None),
    });
    (
        Sender {
            inner: Some(Arc::clone(&inner)),
        },
        Receiver { inner: Some(inner) },
    )
}

/// The sending half; [`send`](Sender::send) consumes it.
///
/// Dropping it without sending makes the receiver fail with [`RecvError`].
pub struct Sender<T> {
    /// The shared channel; `None` only inside `send`.
    inner: Option<Arc<Inner<T>>>,
}

/// The receiving half: a future resolving to the sent value, or to
/// [`RecvError`] if the sender was dropped without sending.
///
/// Polling it again after it resolved panics.
pub struct Receiver<T> {
    /// The shared channel; `None` once the result has been taken.
    inner: Option<Arc<Inner<T>>>,
}

/// The allocation both halves share. See [`state`] for the ownership rules.
struct Inner<T> {
    /// Which side may touch which cell.
    state: State,
    /// The value, written by the sender before `VALUE_SENT`.
    value: UnsafeCell<Option<T>>,
    /// The receiver's waker, published with `RX_WAKER_SET`.
    rx_waker: UnsafeCell<Option<Waker>>,
    /// The sender's waker (for `closed()`), published with `TX_WAKER_SET`.
    tx_waker: UnsafeCell<Option<Waker>>,
}

// SAFETY: the cells are only accessed as the rules in `state` allow, which
// never gives both threads a mutable access at once; the value moves from the
// sending thread to the receiving one, so `T: Send` is required and enough.
unsafe impl<T: Send> Send for Inner<T> {}
// SAFETY: as above; no `&T` is ever shared between threads.
unsafe impl<T: Send> Sync for Inner<T> {}

/// Which end owns a waker cell.
#[derive(Clone, Copy, Debug)]
enum Side {
    /// `rx_waker`, bit `RX_WAKER_SET`; the other end is done once it sent or dropped.
    Receiver,
    /// `tx_waker`, bit `TX_WAKER_SET`; the other end is done once it closed.
    Sender,
}

impl Side {
    /// Whether this side's waker is published in `s`.
    fn is_waker_set(self, s: Snapshot) -> bool {
        match self {
            Side::Receiver => s.is_rx_waker_set(),
            Side::Sender => s.is_tx_waker_set(),
        }
    }

    /// Publishes this side's waker; returns the state before.
    fn set_waker(self, state: &State) -> Snapshot {
        match self {
            Side::Receiver => state.set_rx_waker(),
            Side::Sender => state.set_tx_waker(),
        }
    }

    /// Withdraws this side's waker; returns the state before.
    fn unset_waker(self, state: &State) -> Snapshot {
        match self {
            Side::Receiver => state.unset_rx_waker(),
            Side::Sender => state.unset_tx_waker(),
        }
    }
}

impl<T> Inner<T> {
    /// The waker cell owned by `side`.
    fn waker_cell(&self, side: Side) -> &UnsafeCell<Option<Waker>> {
        match side {
            Side::Receiver => &self.rx_waker,
            Side::Sender => &self.tx_waker,
        }
    }

    /// Whether the end opposite `side` is done (so `side` stops waiting).
    fn other_done(side: Side, s: Snapshot) -> bool {
        match side {
            Side::Receiver => s.is_tx_done(),
            Side::Sender => s.is_closed(),
        }
    }

    /// Registers `cx`'s waker for `side`. Returns `Ready(state)` as soon as
    /// the other end is done, `Pending` once the waker is published.
    fn register_waker(&self, side: Side, cx: &mut Context<'_>) -> Poll<Snapshot> {
        let cell = self.waker_cell(side);
        let s = self.state.load();
        if Self::other_done(side, s) {
            return Poll::Ready(s);
        }
        if side.is_waker_set(s) {
            // SAFETY: the waker is published, so both ends only read it
            // (ownership rules 2 and 3 in `state`).
            let same =
                cell.with(|p| unsafe { (*p).as_ref() }.is_some_and(|w| w.will_wake(cx.waker())));
            if same {
                return Poll::Pending;
            }
            let s = side.unset_waker(&self.state);
            if Self::other_done(side, s) {
                return Poll::Ready(s);
            }
        }
        // SAFETY: our bit is clear and the other end was not done when we
        // cleared it (or it was never set), so it will not read the cell
        // until we publish it again: we own it (rules 2 and 3).
        cell.with_mut(|p| unsafe { *p = Some(cx.waker().clone()) });
        let s = side.set_waker(&self.state);
        if Self::other_done(side, s) {
            return Poll::Ready(s);
        }
        Poll::Pending
    }

    /// Wakes `side`'s published waker, by reference.
    ///
    /// # Safety
    ///
    /// The caller has just made the other end done with a transition whose
    /// previous state had `side`'s waker bit set. The owner then never writes
    /// the cell again (it re-checks "done" after every unset), so reading is
    /// sound.
    unsafe fn wake(&self, side: Side) {
        // SAFETY: guaranteed by the caller, see above.
        self.waker_cell(side).with(|p| {
            // SAFETY: see above; this is a shared read.
            if let Some(waker) = unsafe { &*p } {
                waker.wake_by_ref();
            }
        });
    }

    /// Moves the value out.
    ///
    /// # Safety
    ///
    /// `VALUE_SENT` was observed (the value belongs to the receiver), and the
    /// caller is the receiver.
    unsafe fn take_value(&self) -> Option<T> {
        // SAFETY: by the caller's guarantee the sender no longer touches the
        // value (rule 1).
        self.value.with_mut(|p| unsafe { (*p).take() })
    }
}

impl<T> Sender<T> {
    /// Sends `value`, completing the channel. If the receiver is already
    /// gone or closed, the value is handed back as `Err(value)`.
    ///
    /// ```
    /// use minirt_core::sync::oneshot;
    ///
    /// let (tx, rx) = oneshot::channel();
    /// drop(rx);
    /// assert_eq!(tx.send("late"), Err("late"));
    /// ```
    pub fn send(mut self, value: T) -> Result<(), T> {
        let inner = self
            .inner
            .take()
            .expect("a live Sender always has its channel");
        // SAFETY: `VALUE_SENT` is not set (only this method sets it, and it
        // consumes the sender), so the value cell is the sender's (rule 1).
        inner.value.with_mut(|p| unsafe { *p = Some(value) });
        match inner.state.transition_to_sent() {
            SendTransition::Sent(prev) => {
                if prev.is_rx_waker_set() {
                    // SAFETY: we made the sender done; the previous state had
                    // the receiver's waker published.
                    unsafe { inner.wake(Side::Receiver) };
                }
                Ok(())
            }
            SendTransition::ReceiverClosed => {
                // SAFETY: `VALUE_SENT` was never set, so the value is still
                // the sender's (rule 1).
                let value = inner.value.with_mut(|p| unsafe { (*p).take() });
                Err(value.expect("the value was written above"))
            }
        }
    }

    /// Whether the receiver has been dropped or closed (a send would fail).
    pub fn is_closed(&self) -> bool {
        self.channel().state.load().is_closed()
    }

    /// Waits until the receiver is dropped or closed — e.g. to stop computing
    /// an answer nobody wants.
    ///
    /// ```
    /// use core::future::Future;
    /// use core::pin::pin;
    /// use core::task::{Context, Waker};
    /// use minirt_core::sync::oneshot;
    ///
    /// let (mut tx, rx) = oneshot::channel::<u8>();
    /// let mut cx = Context::from_waker(Waker::noop());
    /// assert!(pin!(tx.closed()).poll(&mut cx).is_pending());
    /// drop(rx);
    /// assert!(pin!(tx.closed()).poll(&mut cx).is_ready());
    /// ```
    pub fn closed(&mut self) -> impl Future<Output = ()> + '_ {
        core::future::poll_fn(move |cx| self.poll_closed(cx))
    }

    /// Poll form of [`closed`](Self::closed).
    pub fn poll_closed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        self.channel().register_waker(Side::Sender, cx).map(|_| ())
    }

    /// The shared channel.
    fn channel(&self) -> &Inner<T> {
        self.inner
            .as_ref()
            .expect("a live Sender always has its channel")
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let Some(inner) = self.inner.take() else {
            return;
        };
        let prev = inner.state.transition_to_tx_dropped();
        if prev.is_rx_waker_set() && !prev.is_closed() {
            // SAFETY: we made the sender done; the previous state had the
            // receiver's waker published.
            unsafe { inner.wake(Side::Receiver) };
        }
    }
}

impl<T> Receiver<T> {
    /// Takes the value if it has been sent, without waiting.
    ///
    /// Returns [`TryRecvError::Empty`] while the sender may still send, and
    /// [`TryRecvError::Closed`] if it was dropped, the channel was closed
    /// before a value arrived, or the value was already taken.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let Some(inner) = &self.inner else {
            return Err(TryRecvError::Closed);
        };
        let s = inner.state.load();
        if s.is_tx_done() || s.is_closed() {
            self.finish(s)
                .map_err(|RecvError { .. }| TryRecvError::Closed)
        } else {
            Err(TryRecvError::Empty)
        }
    }

    /// Closes the channel: a later `send` fails and returns its value. A
    /// value sent before the close can still be received.
    ///
    /// ```
    /// use minirt_core::sync::oneshot::{self, TryRecvError};
    ///
    /// let (tx, mut rx) = oneshot::channel();
    /// rx.close();
    /// assert!(tx.is_closed());
    /// assert_eq!(tx.send(1), Err(1));
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// ```
    pub fn close(&mut self) {
        if let Some(inner) = &self.inner {
            Self::close_channel(inner);
        }
    }

    /// Sets `CLOSED` and wakes a sender waiting in `closed()`; returns the
    /// state before.
    fn close_channel(inner: &Inner<T>) -> Snapshot {
        let prev = inner.state.transition_to_closed();
        if prev.is_tx_waker_set() && !prev.is_closed() && !prev.is_tx_done() {
            // SAFETY: we made the receiver done (closed); the previous state
            // had the sender's waker published.
            unsafe { inner.wake(Side::Sender) };
        }
        prev
    }

    /// Takes the outcome once the sender is done or the channel closed, and
    /// lets go of the channel.
    fn finish(&mut self, s: Snapshot) -> Result<T, RecvError> {
        let inner = self
            .inner
            .take()
            .expect("finish is only called with a channel");
        if s.is_value_sent() {
            // SAFETY: we observed `VALUE_SENT` and we are the receiver.
            let value = unsafe { inner.take_value() };
            Ok(value.expect("VALUE_SENT means the value is there"))
        } else {
            Err(RecvError::new())
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    /// One budgeted operation (see [`coop`](crate::coop)): with the task's
    /// budget spent it yields before looking, even if the value is there.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        crate::coop::poll_budgeted(cx, |cx| {
            let inner = this
                .inner
                .as_ref()
                .expect("oneshot::Receiver polled after it completed");
            let s = inner.state.load();
            let s = if s.is_closed() {
                s
            } else {
                let poll = inner.register_waker(Side::Receiver, cx);
                ready!(crate::sync::noting(
                    cx,
                    crate::task::WaitKind::Oneshot,
                    poll
                ))
            };
            Poll::Ready(this.finish(s))
        })
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let Some(inner) = self.inner.take() else {
            return;
        };
        let prev = Self::close_channel(&inner);
        if prev.is_value_sent() {
            // SAFETY: `VALUE_SENT` was set, and we are the receiver. The
            // value is dropped here rather than with the allocation so the
            // sender's side need not wait for it.
            drop(unsafe { inner.take_value() });
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("oneshot::Sender")
            .field("is_closed", &self.is_closed())
            .finish()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("oneshot::Receiver")
            .field("finished", &self.inner.is_none())
            .finish()
    }
}

const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Sender<alloc::vec::Vec<u8>>>();
    assert_send_sync::<Receiver<alloc::vec::Vec<u8>>>();
};
