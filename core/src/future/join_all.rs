//! `join_all`: wait for every future of a collection, keep input order.
//!
//! This is what `minirt::run` is built on. A collection can be large (one
//! future per request, per file, per row), so a wake-up of one child costs
//! O(1): each child is polled with its own waker, and a poll of `JoinAll`
//! polls only the children that were woken since the last poll (see
//! [`ReadyIndices`]). The children live in one boxed slice, allocated once;
//! nothing is allocated per poll.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use super::maybe_done::MaybeDone;
use super::ready::ReadyIndices;

/// Runs every future of `futures` concurrently and resolves to their outputs
/// in input order (not completion order).
///
/// All futures run inside the task that awaits the `JoinAll`: they are
/// interleaved, not run in parallel. Each is polled only after its own waker
/// was called (and once at the start), so a wake-up costs O(1) however many
/// futures there are.
///
/// Dropping the `JoinAll` drops (cancels) every future that has not
/// finished.
///
/// ```
/// use minirt_core::executor::LocalExecutor;
/// use minirt_core::future::{join_all, yield_now};
///
/// let outputs = LocalExecutor::new().block_on(
///     join_all((0..3).map(|i| async move {
///         // The first future finishes last, but keeps its place.
///         for _ in 0..(3 - i) {
///             yield_now().await;
///         }
///         i * 10
///     })),
///     || {},
/// );
/// assert_eq!(outputs, [0, 10, 20]);
/// ```
pub fn join_all<I>(futures: I) -> JoinAll<I::Item>
where
    I: IntoIterator,
    I::Item: Future,
{
    let children: Box<[MaybeDone<I::Item>]> = futures.into_iter().map(MaybeDone::new).collect();
    JoinAll {
        ready: ReadyIndices::new(children.len()),
        running: children.len(),
        children,
        finished: false,
    }
}

/// The future returned by [`join_all`].
#[must_use = "futures do nothing unless awaited"]
pub struct JoinAll<F: Future> {
    /// Never reallocated or moved out of while a future is inside, so each
    /// child stays pinned although `JoinAll` itself is `Unpin`.
    children: Box<[MaybeDone<F>]>,
    /// Which children to poll next, and their wakers.
    ready: ReadyIndices,
    /// How many children have not completed.
    running: usize,
    /// Set once the outputs were handed out.
    finished: bool,
}

// The children are pinned on the heap, not inside `JoinAll`.
impl<F: Future> Unpin for JoinAll<F> {}

impl<F: Future> JoinAll<F> {
    /// How many futures have not completed yet.
    pub fn len(&self) -> usize {
        self.running
    }

    /// `true` when every future has completed.
    pub fn is_empty(&self) -> bool {
        self.running == 0
    }
}

impl<F: Future> Future for JoinAll<F> {
    type Output = Vec<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        assert!(!this.finished, "`JoinAll` polled after completion");
        this.ready.start_round(cx.waker());
        while let Some(index) = this.ready.next() {
            // SAFETY: `children` is a boxed slice that is never reallocated,
            // and no child is moved out while it holds a future.
            let child = unsafe { Pin::new_unchecked(&mut this.children[index]) };
            if !child.is_running() {
                continue; // a late wake of a finished child
            }
            let mut child_cx = Context::from_waker(this.ready.waker(index));
            if child.poll_done(&mut child_cx) {
                this.running -= 1;
            }
        }
        if this.running > 0 {
            return Poll::Pending;
        }
        this.finished = true;
        let outputs = this
            .children
            .iter_mut()
            .map(|child| {
                // SAFETY: as above; taking the output moves no future.
                let child = unsafe { Pin::new_unchecked(child) };
                child.take_output().expect("every child has completed")
            })
            .collect();
        Poll::Ready(outputs)
    }
}

impl<F: Future> core::fmt::Debug for JoinAll<F> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("JoinAll")
            .field("len", &self.children.len())
            .field("running", &self.running)
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::executor::LocalExecutor;
    use crate::future::test_util::{yield_times, Gate, PollCounter};
    use alloc::vec;
    use core::cell::Cell;
    use core::pin::pin;
    use core::task::Waker;
    use std::rc::Rc;

    #[test]
    fn outputs_keep_input_order_when_finishing_out_of_order() {
        let finished = Rc::new(core::cell::RefCell::new(Vec::new()));
        let futs = (0..8usize).map(|i| {
            let finished = finished.clone();
            async move {
                yield_times((8 - i) * 2).await;
                finished.borrow_mut().push(i);
                i
            }
        });
        let out = LocalExecutor::new().block_on(join_all(futs), || {});
        assert_eq!(out, (0..8).collect::<Vec<_>>());
        assert_eq!(*finished.borrow(), (0..8).rev().collect::<Vec<_>>());
    }

    #[test]
    fn all_futures_start_before_any_finishes() {
        let started = Rc::new(Cell::new(0));
        let futs = (0..10).map(|_| {
            let started = started.clone();
            async move {
                started.set(started.get() + 1);
                yield_times(1).await;
                started.get()
            }
        });
        let out = LocalExecutor::new().block_on(join_all(futs), || {});
        assert_eq!(out, vec![10; 10]);
    }

    #[test]
    fn empty_input_is_ready_at_once() {
        let out: Vec<u8> =
            LocalExecutor::new().block_on(join_all(Vec::<core::future::Ready<u8>>::new()), || {});
        assert!(out.is_empty());
    }

    #[test]
    fn polls_only_woken_children() {
        let gates: Vec<Gate> = (0..100).map(|_| Gate::new()).collect();
        let polls = PollCounter::new();
        let mut all = pin!(join_all(
            gates
                .iter()
                .enumerate()
                .map(|(i, g)| polls.wrap(g.wait_then(i)))
        ));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(all.as_mut().poll(&mut cx).is_pending());
        assert_eq!(polls.get(), 100);
        assert!(all.as_mut().poll(&mut cx).is_pending());
        assert_eq!(polls.get(), 100, "nothing was woken");
        gates[37].open();
        gates[5].open();
        assert!(all.as_mut().poll(&mut cx).is_pending());
        assert_eq!(polls.get(), 102);
        assert_eq!(all.len(), 98);
        for g in &gates {
            g.open();
        }
        let out = match all.as_mut().poll(&mut cx) {
            Poll::Ready(out) => out,
            Poll::Pending => panic!("every gate is open"),
        };
        assert_eq!(out, (0..100).collect::<Vec<_>>());
        assert_eq!(polls.get(), 200);
    }

    #[test]
    fn dropping_cancels_unfinished_children() {
        let gates: Vec<Gate> = (0..3).map(|_| Gate::new()).collect();
        let mut all = Box::pin(join_all(gates.iter().map(|g| g.wait_then(()))));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(all.as_mut().poll(&mut cx).is_pending());
        assert!(gates.iter().all(|g| g.has_waiter()));
        drop(all);
        assert!(gates.iter().all(|g| !g.has_waiter()));
    }

    #[test]
    fn combinators_are_send_when_their_futures_are() {
        fn assert_send<T: Send>() {}
        type Fut = core::future::Ready<u8>;
        type TryFut = core::future::Ready<Result<u8, ()>>;
        assert_send::<JoinAll<Fut>>();
        assert_send::<crate::future::TryJoinAll<TryFut>>();
        assert_send::<crate::future::AsCompleted<Fut>>();
        assert_send::<crate::future::Select<Fut, Fut>>();
        assert_send::<crate::future::Race<Fut, Fut>>();
    }

    #[test]
    fn a_thousand_children_that_yield_once_cost_two_polls_each() {
        let polls = PollCounter::new();
        let mut all = pin!(join_all((0..1000).map(|i| polls.wrap(async move {
            yield_times(1).await;
            i
        }))));
        let mut cx = Context::from_waker(Waker::noop());
        // A child that yields is polled again in the next poll, not this one.
        assert!(all.as_mut().poll(&mut cx).is_pending());
        assert_eq!(polls.get(), 1000);
        let Poll::Ready(out) = all.as_mut().poll(&mut cx) else {
            panic!("every child has yielded once");
        };
        assert_eq!(polls.get(), 2000);
        assert_eq!(out, (0..1000).collect::<Vec<_>>());
    }
}
