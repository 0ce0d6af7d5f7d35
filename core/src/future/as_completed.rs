//! `as_completed`: outputs of a collection of futures, fastest first.
//!
//! When results can be used one by one (printed, written, forwarded), there
//! is no reason to wait for the slowest. `AsCompleted` runs all futures
//! concurrently and hands out each output as soon as its future completes;
//! `minirt::completed` and `minirt::completed_ordered` are built on it. Like
//! [`join_all`](super::join_all) it polls only the children that were woken.

use alloc::boxed::Box;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use super::ready::ReadyIndices;

/// Runs every future of `futures` concurrently and yields their outputs in
/// completion order.
///
/// Pull outputs with [`next`](AsCompleted::next) (or
/// [`next_indexed`](AsCompleted::next_indexed) to also learn which input
/// each came from). Futures run only while `AsCompleted` is being polled;
/// dropping it drops (cancels) every future that has not completed.
///
/// ```
/// use minirt_core::executor::LocalExecutor;
/// use minirt_core::future::{as_completed, yield_now};
///
/// let order = LocalExecutor::new().block_on(
///     async {
///         let mut outputs = as_completed([3, 1, 2].map(|yields| async move {
///             for _ in 0..yields {
///                 yield_now().await;
///             }
///             yields
///         }));
///         let mut order = Vec::new();
///         while let Some(yields) = outputs.next().await {
///             order.push(yields);
///         }
///         order
///     },
///     || {},
/// );
/// assert_eq!(order, [1, 2, 3]);
/// ```
pub fn as_completed<I>(futures: I) -> AsCompleted<I::Item>
where
    I: IntoIterator,
    I::Item: Future,
{
    let children: Box<[Option<I::Item>]> = futures.into_iter().map(Some).collect();
    AsCompleted {
        ready: ReadyIndices::new(children.len()),
        running: children.len(),
        children,
    }
}

/// The stream of outputs returned by [`as_completed`].
#[must_use = "streams do nothing unless polled"]
pub struct AsCompleted<F> {
    /// `None` once the child completed (its future is dropped in place).
    /// Never reallocated, so each child stays pinned although
    /// `AsCompleted` itself is `Unpin`.
    children: Box<[Option<F>]>,
    /// Which children to poll next, and their wakers.
    ready: ReadyIndices,
    /// How many children have not completed.
    running: usize,
}

// The children are pinned on the heap, not inside `AsCompleted`.
impl<F> Unpin for AsCompleted<F> {}

impl<F: Future> AsCompleted<F> {
    /// The next output to complete, or `None` when all have been yielded.
    ///
    /// Cancel-safe: dropping the returned future loses no output.
    // An async stream's `next` (as in `StreamExt::next`), not an iterator's.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Next<'_, F> {
        Next { stream: self }
    }

    /// Like [`next`](Self::next), with the input position of the future
    /// that produced the output.
    ///
    /// ```
    /// use minirt_core::executor::LocalExecutor;
    /// use minirt_core::future::{as_completed, yield_now};
    ///
    /// let first = LocalExecutor::new().block_on(
    ///     async {
    ///         let mut outputs = as_completed(["slow", "fast"].map(|name| async move {
    ///             if name == "slow" {
    ///                 yield_now().await;
    ///             }
    ///             name
    ///         }));
    ///         outputs.next_indexed().await
    ///     },
    ///     || {},
    /// );
    /// assert_eq!(first, Some((1, "fast")));
    /// ```
    pub fn next_indexed(&mut self) -> NextIndexed<'_, F> {
        NextIndexed { stream: self }
    }

    /// Polls for the next output: `Ready(Some(_))` with an output,
    /// `Ready(None)` when every output has been yielded, `Pending` when no
    /// future has completed yet (the waker in `cx` is woken when one may
    /// have).
    pub fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<F::Output>> {
        self.poll_next_indexed(cx)
            .map(|next| next.map(|(_, output)| output))
    }

    /// Like [`poll_next`](Self::poll_next), with the input position of the
    /// future that produced the output.
    pub fn poll_next_indexed(&mut self, cx: &mut Context<'_>) -> Poll<Option<(usize, F::Output)>> {
        if self.running == 0 {
            return Poll::Ready(None);
        }
        self.ready.start_round(cx.waker());
        while let Some(index) = self.ready.next() {
            let slot = &mut self.children[index];
            let Some(future) = slot.as_mut() else {
                continue; // a late wake of a finished child
            };
            // SAFETY: `children` is a boxed slice that is never reallocated;
            // the future is never moved, only dropped in place below.
            let future = unsafe { Pin::new_unchecked(future) };
            let mut child_cx = Context::from_waker(self.ready.waker(index));
            if let Poll::Ready(output) = future.poll(&mut child_cx) {
                // Drops the finished future in place.
                *slot = None;
                self.running -= 1;
                return Poll::Ready(Some((index, output)));
            }
        }
        Poll::Pending
    }

    /// How many outputs are still to come.
    pub fn len(&self) -> usize {
        self.running
    }

    /// `true` when every output has been yielded.
    pub fn is_empty(&self) -> bool {
        self.running == 0
    }
}

impl<F> core::fmt::Debug for AsCompleted<F> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AsCompleted")
            .field("len", &self.children.len())
            .field("running", &self.running)
            .finish_non_exhaustive()
    }
}

/// The future returned by [`AsCompleted::next`].
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct Next<'a, F> {
    stream: &'a mut AsCompleted<F>,
}

impl<F: Future> Future for Next<'_, F> {
    type Output = Option<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.get_mut().stream.poll_next(cx)
    }
}

/// The future returned by [`AsCompleted::next_indexed`].
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct NextIndexed<'a, F> {
    stream: &'a mut AsCompleted<F>,
}

impl<F: Future> Future for NextIndexed<'_, F> {
    type Output = Option<(usize, F::Output)>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.get_mut().stream.poll_next_indexed(cx)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::executor::LocalExecutor;
    use crate::future::test_util::{yield_times, Gate, PollCounter};
    use alloc::vec;
    use alloc::vec::Vec;
    use core::pin::pin;
    use core::task::Waker;

    #[test]
    fn yields_in_finish_order_with_indices() {
        let got = LocalExecutor::new().block_on(
            async {
                let mut s = as_completed([4usize, 0, 3, 1, 2].map(|n| async move {
                    yield_times(n).await;
                    n * 100
                }));
                assert_eq!(s.len(), 5);
                let mut got = Vec::new();
                while let Some(item) = s.next_indexed().await {
                    got.push(item);
                }
                assert!(s.is_empty());
                got
            },
            || {},
        );
        assert_eq!(got, vec![(1, 0), (3, 100), (4, 200), (2, 300), (0, 400)]);
    }

    #[test]
    fn follows_the_order_gates_open() {
        let gates: Vec<Gate> = (0..4).map(|_| Gate::new()).collect();
        let polls = PollCounter::new();
        let mut s = as_completed(
            gates
                .iter()
                .enumerate()
                .map(|(i, g)| polls.wrap(g.wait_then(i))),
        );
        let mut cx = Context::from_waker(Waker::noop());
        assert!(s.poll_next(&mut cx).is_pending());
        assert_eq!(polls.get(), 4);
        gates[2].open();
        gates[0].open();
        assert_eq!(s.poll_next(&mut cx), Poll::Ready(Some(2)));
        // Child 0 was woken too; it is still on the taken list.
        assert_eq!(s.poll_next(&mut cx), Poll::Ready(Some(0)));
        assert!(s.poll_next(&mut cx).is_pending());
        assert_eq!(polls.get(), 6, "only woken children were polled");
        gates[3].open();
        gates[1].open();
        assert_eq!(s.poll_next(&mut cx), Poll::Ready(Some(3)));
        assert_eq!(s.poll_next(&mut cx), Poll::Ready(Some(1)));
        assert_eq!(s.poll_next(&mut cx), Poll::Ready(None));
        assert!(
            gates.iter().all(|g| !g.has_waiter()),
            "finished futures are dropped"
        );
    }

    #[test]
    fn next_future_can_be_dropped_without_losing_output() {
        let gate = Gate::new();
        let mut s = as_completed([gate.wait_then(7)]);
        let mut cx = Context::from_waker(Waker::noop());
        {
            let next = pin!(s.next());
            assert!(next.poll(&mut cx).is_pending());
        }
        gate.open();
        assert_eq!(s.poll_next(&mut cx), Poll::Ready(Some(7)));
    }

    #[test]
    fn empty_input_ends_at_once() {
        let mut s = as_completed(Vec::<core::future::Ready<()>>::new());
        let mut cx = Context::from_waker(Waker::noop());
        assert!(s.is_empty());
        assert_eq!(s.poll_next(&mut cx), Poll::Ready(None));
    }
}
