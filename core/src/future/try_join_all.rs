//! `try_join_all`: wait for every fallible future, or stop at the first error.
//!
//! Error selection in minirt is plain `Result`s: when any child fails, the
//! others' work is wasted, so they are dropped (cancelled) as soon as the
//! error is seen, and the error is returned. Like [`join_all`](super::join_all)
//! it polls only the children that were woken.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use super::maybe_done::MaybeDone;
use super::ready::ReadyIndices;

/// Runs every future of `futures` concurrently; resolves to `Ok` with all
/// the values in input order, or to the first `Err` a future returns.
///
/// "First" is in completion order. When a future returns `Err`, every
/// future that has not finished is dropped (cancelled) right there, before
/// the error is returned, and none of them is polled again.
///
/// ```
/// use minirt_core::executor::LocalExecutor;
/// use minirt_core::future::{try_join_all, yield_now};
///
/// let ex = LocalExecutor::new();
/// let ok: Result<Vec<u32>, String> = ex.block_on(
///     try_join_all((1..=3).map(|i| async move { Ok(i) })),
///     || {},
/// );
/// assert_eq!(ok, Ok(vec![1, 2, 3]));
///
/// let err = ex.block_on(
///     try_join_all((1..=3).map(|i| async move {
///         yield_now().await;
///         if i == 2 { Err(format!("item {i} failed")) } else { Ok(i) }
///     })),
///     || {},
/// );
/// assert_eq!(err, Err("item 2 failed".to_string()));
/// ```
pub fn try_join_all<I, T, E>(futures: I) -> TryJoinAll<I::Item>
where
    I: IntoIterator,
    I::Item: Future<Output = Result<T, E>>,
{
    let children: Box<[MaybeDone<I::Item>]> = futures.into_iter().map(MaybeDone::new).collect();
    TryJoinAll {
        ready: ReadyIndices::new(children.len()),
        running: children.len(),
        children,
        finished: false,
    }
}

/// The future returned by [`try_join_all`].
#[must_use = "futures do nothing unless awaited"]
pub struct TryJoinAll<F: Future> {
    /// Never reallocated or moved out of while a future is inside, so each
    /// child stays pinned although `TryJoinAll` itself is `Unpin`. Emptied
    /// (dropping every child) on the first error.
    children: Box<[MaybeDone<F>]>,
    /// Which children to poll next, and their wakers.
    ready: ReadyIndices,
    /// How many children have not completed.
    running: usize,
    /// Set once the result was handed out.
    finished: bool,
}

// The children are pinned on the heap, not inside `TryJoinAll`.
impl<F: Future> Unpin for TryJoinAll<F> {}

impl<F, T, E> Future for TryJoinAll<F>
where
    F: Future<Output = Result<T, E>>,
{
    type Output = Result<Vec<T>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        assert!(!this.finished, "`TryJoinAll` polled after completion");
        this.ready.start_round(cx.waker());
        while let Some(index) = this.ready.next() {
            // SAFETY: `children` is a boxed slice that is never reallocated,
            // and no child is moved out while it holds a future.
            let mut child = unsafe { Pin::new_unchecked(&mut this.children[index]) };
            if !child.is_running() {
                continue; // a late wake of a finished child
            }
            let mut child_cx = Context::from_waker(this.ready.waker(index));
            if !child.as_mut().poll_done(&mut child_cx) {
                continue;
            }
            this.running -= 1;
            if let Some(Err(_)) = child.as_mut().output_mut() {
                let Some(Err(error)) = child.take_output() else {
                    unreachable!("checked to be an error above")
                };
                this.finished = true;
                // Cancel the rest now, not when `TryJoinAll` is dropped.
                this.children = Box::default();
                return Poll::Ready(Err(error));
            }
        }
        if this.running > 0 {
            return Poll::Pending;
        }
        this.finished = true;
        let values = this
            .children
            .iter_mut()
            .map(|child| {
                // SAFETY: as above; taking the output moves no future.
                let child = unsafe { Pin::new_unchecked(child) };
                match child.take_output() {
                    Some(Ok(value)) => value,
                    _ => unreachable!("every child has completed with `Ok`"),
                }
            })
            .collect();
        Poll::Ready(Ok(values))
    }
}

impl<F: Future> core::fmt::Debug for TryJoinAll<F> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TryJoinAll")
            .field("len", &self.children.len())
            .field("running", &self.running)
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::executor::LocalExecutor;
    use crate::future::test_util::{yield_times, DropCounter, PollCounter};
    use alloc::vec;

    #[test]
    fn all_ok_keeps_input_order() {
        let out: Result<Vec<usize>, ()> = LocalExecutor::new().block_on(
            try_join_all((0..6).map(|i| async move {
                yield_times(6 - i).await;
                Ok(i)
            })),
            || {},
        );
        assert_eq!(out, Ok(vec![0, 1, 2, 3, 4, 5]));
    }

    #[test]
    fn first_error_drops_the_rest_and_polls_nothing_after() {
        let drops = DropCounter::new();
        let polls: Vec<PollCounter> = (0..5).map(|_| PollCounter::new()).collect();
        let futs = (0..5).map(|i| {
            let guard = drops.guard();
            polls[i].wrap(async move {
                let _guard = guard;
                // Child 1 fails on its second poll; the others would need
                // ten polls to finish.
                if i == 1 {
                    yield_times(1).await;
                    return Err(i);
                }
                yield_times(10).await;
                Ok(i)
            })
        });
        let drops_seen = drops.clone();
        let (result, drops_at_return) = LocalExecutor::new().block_on(
            async move {
                let result = try_join_all(futs).await;
                (result, drops_seen.get())
            },
            || {},
        );
        assert_eq!(result, Err(1));
        assert_eq!(
            drops_at_return, 5,
            "every child was dropped before the error came back"
        );
        // Round 1 polls all five; round 2 polls 0, then 1 fails: 2, 3 and 4
        // are never polled again.
        let counts: Vec<usize> = polls.iter().map(|p| p.get()).collect();
        assert_eq!(counts, vec![2, 2, 1, 1, 1]);
    }

    #[test]
    fn error_of_a_lone_future() {
        let out: Result<Vec<()>, &str> =
            LocalExecutor::new().block_on(try_join_all([async { Err("no") }]), || {});
        assert_eq!(out, Err("no"));
    }
}
