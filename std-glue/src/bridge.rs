//! Sync ↔ async bridges: run a batch of futures from synchronous code and
//! get their outputs all at once ([`run`]), fastest first ([`completed`]) or
//! in input order as soon as each is available ([`completed_ordered`]).

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;

use minirt_core::future::{as_completed, join_all, AsCompleted};

/// Runs all `futures` concurrently on this thread and returns their outputs
/// in input order (`block_on(join_all(futures))`).
///
/// Errors are ordinary values: if the futures return `Result`, you get every
/// `Result` back and choose which errors matter.
///
/// ```
/// let outputs = minirt::run([
///     Box::pin(async { minirt::yield_now().await; 1 }) as std::pin::Pin<Box<dyn std::future::Future<Output = i32>>>,
///     Box::pin(async { 2 }),
/// ]);
/// assert_eq!(outputs, [1, 2]);
/// ```
#[track_caller]
pub fn run<I>(futures: I) -> Vec<<I::Item as Future>::Output>
where
    I: IntoIterator,
    I::Item: Future,
{
    crate::block_on(join_all(futures))
}

/// A plain `Iterator` over the outputs of `futures`, fastest first.
///
/// All futures run concurrently while the iterator is being advanced: each
/// `next()` drives the thread's runtime (as [`block_on`](crate::block_on)
/// does) until one more future has finished. Between two `next()` calls the
/// futures do not make progress (tasks they spawned onto a multi-thread
/// runtime do).
///
/// ```
/// let order: Vec<&str> = minirt::completed(vec![
///     Box::pin(async {
///         for _ in 0..3 { minirt::yield_now().await; }
///         "slow"
///     }) as std::pin::Pin<Box<dyn std::future::Future<Output = &str>>>,
///     Box::pin(async { "fast" }),
/// ])
/// .collect();
/// assert_eq!(order, ["fast", "slow"]);
/// ```
pub fn completed<I>(futures: I) -> Completed<I::Item>
where
    I: IntoIterator,
    I::Item: Future,
{
    Completed {
        inner: as_completed(futures),
    }
}

/// Iterator returned by [`completed`].
pub struct Completed<F> {
    inner: AsCompleted<F>,
}

impl<F: Future> Iterator for Completed<F> {
    type Item = F::Output;

    fn next(&mut self) -> Option<F::Output> {
        if self.inner.is_empty() {
            return None;
        }
        crate::block_on(self.inner.next())
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.inner.len(), Some(self.inner.len()))
    }
}

impl<F> fmt::Debug for Completed<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Completed").finish_non_exhaustive()
    }
}

/// Like [`completed`], but yields outputs in input order, each as soon as it
/// and all before it are done, while all futures still run concurrently.
///
/// ```
/// let out: Vec<i32> = minirt::completed_ordered(vec![
///     Box::pin(async { minirt::yield_now().await; 1 }) as std::pin::Pin<Box<dyn std::future::Future<Output = i32>>>,
///     Box::pin(async { 2 }),
/// ])
/// .collect();
/// assert_eq!(out, [1, 2]);
/// ```
pub fn completed_ordered<I>(futures: I) -> CompletedOrdered<I::Item>
where
    I: IntoIterator,
    I::Item: Future,
{
    CompletedOrdered {
        inner: as_completed(futures),
        ready: BTreeMap::new(),
        next: 0,
    }
}

/// Iterator returned by [`completed_ordered`].
pub struct CompletedOrdered<F: Future> {
    inner: AsCompleted<F>,
    /// Outputs that finished before their turn, by input index.
    ready: BTreeMap<usize, F::Output>,
    /// Input index of the next output to yield.
    next: usize,
}

impl<F: Future> Iterator for CompletedOrdered<F> {
    type Item = F::Output;

    fn next(&mut self) -> Option<F::Output> {
        loop {
            if let Some(out) = self.ready.remove(&self.next) {
                self.next += 1;
                return Some(out);
            }
            if self.inner.is_empty() {
                return None;
            }
            let (index, out) = crate::block_on(self.inner.next_indexed())?;
            self.ready.insert(index, out);
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.inner.len() + self.ready.len();
        (n, Some(n))
    }
}

impl<F: Future> fmt::Debug for CompletedOrdered<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompletedOrdered")
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}
