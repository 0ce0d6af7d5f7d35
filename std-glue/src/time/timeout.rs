//! `timeout`: bound how long a future may take.

use std::error::Error;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use minirt_core::coop;

use super::{sleep_until, Instant, Sleep};

/// Runs `future` for at most `duration`.
///
/// Returns `Ok(output)` if it finished in time, or `Err(Elapsed)` if the
/// deadline passed first — in which case the inner future has been dropped
/// (cancelled, its destructors run) by the time `Err` is returned.
///
/// An elapsed deadline spends one unit of the task's cooperative budget
/// (see [`minirt::task::consume_budget`](crate::task::consume_budget)), as
/// an elapsed [`sleep`](super::sleep) does. The deadline is still noticed
/// when the inner future spends the whole budget on every poll: the timer
/// is then checked outside the budget.
///
/// ```
/// use std::time::Duration;
/// use minirt::time::timeout;
///
/// minirt::block_on(async {
///     assert_eq!(timeout(Duration::from_secs(1), async { 5 }).await, Ok(5));
///     let never = std::future::pending::<()>();
///     assert!(timeout(Duration::from_millis(1), never).await.is_err());
/// });
/// ```
pub fn timeout<F: IntoFuture>(duration: Duration, future: F) -> Timeout<F::IntoFuture> {
    timeout_at(Instant::now().far_add(duration), future)
}

/// Runs `future` until `deadline` at the latest; see [`timeout`].
pub fn timeout_at<F: IntoFuture>(deadline: Instant, future: F) -> Timeout<F::IntoFuture> {
    Timeout {
        future: Some(future.into_future()),
        sleep: sleep_until(deadline),
    }
}

/// The future returned by [`timeout`] and [`timeout_at`].
#[must_use = "futures do nothing unless awaited"]
pub struct Timeout<F> {
    /// `None` once it finished or was dropped at expiry.
    future: Option<F>,
    sleep: Sleep,
}

impl<F> Timeout<F> {
    /// The inner future, unless it already completed or timed out.
    pub fn get_ref(&self) -> Option<&F> {
        self.future.as_ref()
    }

    /// The deadline.
    pub fn deadline(&self) -> Instant {
        self.sleep.deadline()
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: structural pinning of `future`: it is never moved out of
        // `self` while pinned, only dropped in place (`Pin::set(None)`), and
        // `Timeout` has no `Unpin` impl that would break that. `sleep` is
        // `Unpin` and accessed by `&mut`.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: see above.
        let mut future = unsafe { Pin::new_unchecked(&mut this.future) };
        let Some(inner) = future.as_mut().as_pin_mut() else {
            panic!("Timeout polled after it completed");
        };
        let had_budget = coop::has_budget_remaining();
        if let Poll::Ready(out) = inner.poll(cx) {
            future.set(None);
            return Poll::Ready(Ok(out));
        }
        // The deadline spends from the cooperative budget like any elapsed
        // sleep, except when the inner future has just spent the last unit:
        // then the timer is looked at unconstrained, or an inner future that
        // always finds work ready would keep the deadline from ever firing.
        let sleep = Pin::new(&mut this.sleep);
        let fired = if had_budget && !coop::has_budget_remaining() {
            coop::with_unconstrained(|| sleep.poll(cx))
        } else {
            sleep.poll(cx)
        };
        match fired {
            Poll::Ready(()) => {
                // Cancel the inner future now, before reporting the timeout.
                future.set(None);
                Poll::Ready(Err(Elapsed(())))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<F> fmt::Debug for Timeout<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timeout")
            .field("deadline", &self.deadline())
            .finish_non_exhaustive()
    }
}

/// The error of a [`timeout`] whose deadline passed first.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Elapsed(());

impl fmt::Debug for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Elapsed")
    }
}

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl Error for Elapsed {}

impl From<Elapsed> for std::io::Error {
    fn from(e: Elapsed) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::TimedOut, e)
    }
}
