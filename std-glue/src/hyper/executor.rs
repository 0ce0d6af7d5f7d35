//! [`Executor`]: hyper's background tasks as minirt tasks.

use std::future::Future;

/// Implements `hyper::rt::Executor` by [`spawn`](crate::spawn)ing each
/// future on the current minirt runtime (HTTP/2 needs one for its
/// connection tasks). The task is detached; it ends with the runtime.
///
/// # Panics
///
/// `execute` panics outside a minirt runtime, as `minirt::spawn` does.
///
/// ```
/// use hyper::rt::Executor as _;
/// minirt::block_on(async {
///     let (tx, rx) = minirt::sync::oneshot::channel();
///     minirt::hyper::Executor::new().execute(async move { tx.send(5).unwrap() });
///     assert_eq!(rx.await.unwrap(), 5);
/// });
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Executor;

impl Executor {
    /// The executor of whichever minirt runtime `execute` is called in.
    ///
    /// ```
    /// let _executor = minirt::hyper::Executor::new();
    /// ```
    pub fn new() -> Executor {
        Executor
    }
}

impl<F> hyper::rt::Executor<F> for Executor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, future: F) {
        drop(crate::spawn(future));
    }
}
