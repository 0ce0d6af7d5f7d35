//! `Options`: the settings shared by both kinds of scope — concurrency
//! limit, deadline, fail-fast or supervisor, and (for the sync boundary)
//! which runtime runs the children.

use std::fmt;
use std::time::Duration;

use super::clock::{self, Instant};
use super::state::Config;
use crate::runtime::Handle;

/// Settings for a scope; build an async [`Scope`](super::Scope) with
/// [`build`](Self::build) or run a sync-boundary scope with
/// [`scope`](Self::scope).
///
/// ```
/// use std::time::Duration;
/// use minirt::scope::Options;
///
/// minirt::block_on(async {
///     let scope = Options::new()
///         .max_concurrency(2)
///         .timeout(Duration::from_secs(60))
///         .build();
///     for i in 0..10u32 {
///         scope.spawn_with(move || async move { i * i });
///     }
///     let squares = scope.join().await.unwrap();
///     assert_eq!(squares[9], 81);
/// });
/// ```
#[derive(Clone, Default)]
pub struct Options {
    pub(crate) max_concurrency: Option<usize>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) deadline: Option<Instant>,
    pub(crate) supervise: bool,
    pub(crate) handle: Option<Handle>,
}

impl Options {
    /// Fail-fast, no limit, no deadline.
    pub fn new() -> Options {
        Options::default()
    }

    /// At most `n` children run at once; the others wait in spawn order.
    ///
    /// # Panics
    ///
    /// If `n` is zero (no child could ever run).
    #[track_caller]
    pub fn max_concurrency(mut self, n: usize) -> Options {
        assert!(n > 0, "scope max_concurrency must be at least 1, got 0");
        self.max_concurrency = Some(n);
        self
    }

    /// Cancels the remaining children `timeout` after the scope is created
    /// (measured on the runtime's clock, real or mock). An enclosing scope's
    /// earlier deadline still wins.
    pub fn timeout(mut self, timeout: Duration) -> Options {
        self.timeout = Some(timeout);
        self
    }

    /// Like [`timeout`](Self::timeout) with an absolute deadline.
    pub fn deadline(mut self, deadline: Instant) -> Options {
        self.deadline = Some(deadline);
        self
    }

    /// Supervisor mode: a failing child does not cancel its siblings; read
    /// every child's outcome with `outcomes()`.
    pub fn supervisor(mut self) -> Options {
        self.supervise = true;
        self
    }

    /// Runs the children on this runtime (the sync-boundary scope's default
    /// is described in [`minirt::scope`](crate::scope())).
    pub fn on(mut self, handle: &Handle) -> Options {
        self.handle = Some(handle.clone());
        self
    }

    /// The internal settings, with the deadline resolved on `handle`'s clock.
    pub(crate) fn config<T>(&self, handle: &Handle, fail_on: Option<fn(&T) -> bool>) -> Config<T> {
        let relative = self.timeout.map(|t| clock::now_on(handle) + t);
        let deadline = match (relative, self.deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Config {
            max_concurrency: self.max_concurrency.unwrap_or(usize::MAX),
            supervise: self.supervise,
            fail_on,
            deadline,
        }
    }
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("max_concurrency", &self.max_concurrency)
            .field("timeout", &self.timeout)
            .field("supervisor", &self.supervise)
            .finish_non_exhaustive()
    }
}
