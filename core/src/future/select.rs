//! `select` and `race`: the first of two futures wins, the other is dropped.
//!
//! Timeouts, shutdown signals and "whichever replica answers first" all need
//! the first of two results and none of the other's remaining work. The
//! loser is dropped (cancelled) the moment the winner completes, before
//! `select`/`race` returns, so its destructors have run by the time the
//! caller sees the result.
//!
//! Both poll the first future first on every poll. This bias is
//! deliberate: it is deterministic (tests and the mock clock replay
//! exactly) and lets callers give one side priority, such as a shutdown
//! signal over more work.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use super::either::Either;

/// Waits for the first of `a` and `b` to complete and returns its output as
/// [`Either::Left`] (for `a`) or [`Either::Right`] (for `b`).
///
/// The other future is dropped (cancelled) at once, before `select`
/// returns. `a` is polled first, so if both are ready, `a` wins.
///
/// ```
/// use minirt_core::executor::LocalExecutor;
/// use minirt_core::future::{select, yield_now, Either};
///
/// let won = LocalExecutor::new().block_on(
///     select(
///         async {
///             yield_now().await;
///             "slow"
///         },
///         async { 42 },
///     ),
///     || {},
/// );
/// assert_eq!(won, Either::Right(42));
/// ```
pub fn select<A: Future, B: Future>(a: A, b: B) -> Select<A, B> {
    Select {
        a: Some(a),
        b: Some(b),
    }
}

/// The future returned by [`select`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Select<A, B> {
    /// Structurally pinned; `None` after completion.
    a: Option<A>,
    /// Structurally pinned; `None` after completion.
    b: Option<B>,
}

impl<A: Unpin, B: Unpin> Unpin for Select<A, B> {}

impl<A: Future, B: Future> Future for Select<A, B> {
    type Output = Either<A::Output, B::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: `a` and `b` are structurally pinned: they are never moved
        // out, only dropped in place by assigning `None`, and `Select` has
        // no `Drop` impl that could move them.
        let this = unsafe { self.get_unchecked_mut() };
        let won = if let Some(a) = this.a.as_mut() {
            // SAFETY: see above; `a` stays where it is until dropped.
            let a = unsafe { Pin::new_unchecked(a) };
            match a.poll(cx) {
                Poll::Ready(out) => Some(Either::Left(out)),
                Poll::Pending => None,
            }
        } else {
            panic!("`Select` polled after completion")
        };
        let won = won.or_else(|| {
            let b = this.b.as_mut().expect("both futures live until one wins");
            // SAFETY: see above; `b` stays where it is until dropped.
            let b = unsafe { Pin::new_unchecked(b) };
            match b.poll(cx) {
                Poll::Ready(out) => Some(Either::Right(out)),
                Poll::Pending => None,
            }
        });
        match won {
            Some(output) => {
                // Drop (cancel) the loser now, in place.
                this.a = None;
                this.b = None;
                Poll::Ready(output)
            }
            None => Poll::Pending,
        }
    }
}

/// Waits for the first of two futures with the same output type and returns
/// that output.
///
/// The other future is dropped (cancelled) at once, before `race` returns.
/// `a` is polled first, so if both are ready, `a` wins. Use [`select`] when
/// the outputs differ or you need to know which one won.
///
/// ```
/// use minirt_core::executor::LocalExecutor;
/// use minirt_core::future::{race, yield_now};
///
/// let reply = LocalExecutor::new().block_on(
///     race(
///         async {
///             yield_now().await;
///             "replica a"
///         },
///         async { "replica b" },
///     ),
///     || {},
/// );
/// assert_eq!(reply, "replica b");
/// ```
pub fn race<T, A, B>(a: A, b: B) -> Race<A, B>
where
    A: Future<Output = T>,
    B: Future<Output = T>,
{
    Race {
        select: select(a, b),
    }
}

/// The future returned by [`race`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Race<A, B> {
    select: Select<A, B>,
}

impl<A: Unpin, B: Unpin> Unpin for Race<A, B> {}

impl<T, A, B> Future for Race<A, B>
where
    A: Future<Output = T>,
    B: Future<Output = T>,
{
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        // SAFETY: `select` is structurally pinned: never moved out of
        // `Race`, which has no `Drop` impl.
        let select = unsafe { self.map_unchecked_mut(|race| &mut race.select) };
        select.poll(cx).map(Either::into_inner)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::executor::LocalExecutor;
    use crate::future::test_util::{yield_times, DropCounter, Gate};
    use core::pin::pin;
    use core::task::Waker;

    #[test]
    fn select_drops_the_loser_before_returning() {
        let drops = DropCounter::new();
        let guard = drops.guard();
        let gate = Gate::new();
        let mut sel = pin!(select(
            async move {
                let _guard = guard;
                core::future::pending::<()>().await;
            },
            gate.wait_then(5),
        ));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(sel.as_mut().poll(&mut cx).is_pending());
        assert_eq!(drops.get(), 0);
        gate.open();
        assert_eq!(sel.as_mut().poll(&mut cx), Poll::Ready(Either::Right(5)));
        // `sel` is still alive, yet the loser is gone.
        assert_eq!(drops.get(), 1);
        assert!(!gate.has_waiter(), "the winner is dropped too");
    }

    #[test]
    fn select_prefers_the_first_when_both_are_ready() {
        let won = LocalExecutor::new().block_on(select(async { 1 }, async { "b" }), || {});
        assert_eq!(won, Either::Left(1));
    }

    #[test]
    fn race_returns_the_faster_and_drops_the_slower() {
        let drops = DropCounter::new();
        let guard = drops.guard();
        let drops_seen = drops.clone();
        let (out, dropped_at_return) = LocalExecutor::new().block_on(
            async move {
                let out = race(
                    async move {
                        let _guard = guard;
                        yield_times(3).await;
                        "slow"
                    },
                    async {
                        yield_times(1).await;
                        "fast"
                    },
                )
                .await;
                (out, drops_seen.get())
            },
            || {},
        );
        assert_eq!(out, "fast");
        assert_eq!(dropped_at_return, 1);
    }
}
