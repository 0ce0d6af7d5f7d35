//! `MaybeDone`: a future that keeps its output until asked for it.
//!
//! Combinators that wait for *several* futures (`join!`, `join_all`) must
//! remember the output of a child that finished early while they keep
//! polling the others. `MaybeDone` is that memory: it starts as the future,
//! becomes its output when the future completes (dropping the future in
//! place), and becomes empty once the output has been taken.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

/// A future, its output, or nothing once the output was taken.
///
/// Only the future is pinned (structurally): once it completes it is
/// dropped in place and the output, which is never pinned, is stored
/// instead. [`join!`](crate::join) is built on it; it is public so that the
/// macro can name it from any crate.
///
/// ```
/// use core::pin::pin;
/// use core::task::{Context, Waker};
/// use minirt_core::future::MaybeDone;
///
/// let mut slot = pin!(MaybeDone::new(async { 7 }));
/// let mut cx = Context::from_waker(Waker::noop());
/// assert!(slot.as_mut().poll_done(&mut cx));
/// assert_eq!(slot.as_mut().take_output(), Some(7));
/// assert_eq!(slot.as_mut().take_output(), None);
/// ```
#[derive(Debug)]
pub enum MaybeDone<F: Future> {
    /// Still running.
    Future(F),
    /// Finished; holds the output until it is taken.
    Done(F::Output),
    /// The output was taken.
    Gone,
}

// The output is never pinned, so only the future decides whether moving is
// fine.
impl<F: Future + Unpin> Unpin for MaybeDone<F> {}

impl<F: Future> MaybeDone<F> {
    /// Wraps a future that has not run yet.
    pub fn new(future: F) -> Self {
        MaybeDone::Future(future)
    }

    /// `true` while the future has not completed.
    pub fn is_running(&self) -> bool {
        matches!(self, MaybeDone::Future(_))
    }

    /// Polls the future if it is still running; returns `true` once an
    /// output is stored (or was already taken).
    ///
    /// Polling a finished `MaybeDone` does nothing, so a combinator may call
    /// this on every child without tracking which ones finished.
    pub fn poll_done(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> bool {
        // SAFETY: we only project to the future inside `Future(_)` and never
        // move it; it is dropped in place below by `Pin::set`.
        let future = match unsafe { self.as_mut().get_unchecked_mut() } {
            // SAFETY: the `Future` variant is structurally pinned: `self` is
            // pinned and the future is never moved out, only dropped in place.
            MaybeDone::Future(f) => unsafe { Pin::new_unchecked(f) },
            MaybeDone::Done(_) | MaybeDone::Gone => return true,
        };
        match future.poll(cx) {
            Poll::Ready(output) => {
                self.set(MaybeDone::Done(output));
                true
            }
            Poll::Pending => false,
        }
    }

    /// The stored output, if the future finished and it was not taken.
    pub fn output_mut(self: Pin<&mut Self>) -> Option<&mut F::Output> {
        // SAFETY: the output is not structurally pinned; handing out
        // `&mut` to it cannot move the future.
        match unsafe { self.get_unchecked_mut() } {
            MaybeDone::Done(output) => Some(output),
            _ => None,
        }
    }

    /// Moves the output out, leaving [`MaybeDone::Gone`]; `None` if the
    /// future is still running or the output was already taken.
    pub fn take_output(mut self: Pin<&mut Self>) -> Option<F::Output> {
        if !matches!(*self, MaybeDone::Done(_)) {
            return None;
        }
        // SAFETY: we are in `Done`: no pinned future is inside, so
        // replacing the value moves only the (unpinned) output.
        let this = unsafe { self.as_mut().get_unchecked_mut() };
        match core::mem::replace(this, MaybeDone::Gone) {
            MaybeDone::Done(output) => Some(output),
            _ => unreachable!("checked to be `Done` above"),
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::future::yield_now;
    use core::pin::pin;
    use core::task::Waker;

    #[test]
    fn keeps_output_until_taken() {
        let mut slot = pin!(MaybeDone::new(async {
            yield_now().await;
            5
        }));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(!slot.as_mut().poll_done(&mut cx));
        assert!(slot.is_running());
        assert_eq!(slot.as_mut().take_output(), None);
        assert!(slot.as_mut().poll_done(&mut cx));
        assert!(!slot.is_running());
        assert_eq!(slot.as_mut().output_mut(), Some(&mut 5));
        assert_eq!(slot.as_mut().take_output(), Some(5));
        assert!(matches!(*slot, MaybeDone::Gone));
        assert!(slot.as_mut().poll_done(&mut cx));
    }
}
