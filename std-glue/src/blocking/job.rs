//! The unit of work a [`Pool`](super::Pool) runs.

/// Work the pool can run, once, on one of its threads.
///
/// The runtime implements this for its blocking-task handles; every
/// `FnOnce() + Send + 'static` closure (including `Box<dyn FnOnce() + Send>`)
/// gets it through a blanket impl.
///
/// A job that is queued but never started (because the pool shut down first)
/// is *dropped* instead of run, so its destructor is where cancellation goes.
///
/// # Example
///
/// A job type of your own next to plain closures:
///
/// ```
/// use minirt::blocking::{Job, Pool, PoolConfig};
///
/// struct Print(&'static str);
///
/// impl Job for Print {
///     fn run(self) {
///         println!("{}", self.0);
///     }
/// }
///
/// let pool: Pool<Print> = Pool::new(PoolConfig::default());
/// assert!(pool.submit(Print("hello from the pool")).is_ok());
/// assert!(pool.shutdown(None));
/// ```
pub trait Job: Send + 'static {
    /// Runs the job to completion on the calling (pool) thread.
    ///
    /// A panic escaping `run` is caught by the pool, which keeps the thread.
    fn run(self);
}

impl<F: FnOnce() + Send + 'static> Job for F {
    fn run(self) {
        self()
    }
}
