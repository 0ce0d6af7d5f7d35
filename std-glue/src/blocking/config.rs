//! Settings of a [`Pool`](super::Pool) and their defaults.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Default upper bound on the number of threads a pool may start.
///
/// Blocking jobs mostly *wait* (on files, DNS, locks, foreign libraries), so
/// the bound is far above the core count: it exists to stop a runaway program
/// from exhausting the process's thread limit, not to match the hardware.
pub const DEFAULT_MAX_THREADS: usize = 512;

/// Default time an idle thread waits for a new job before it exits.
///
/// Long enough that a steady trickle of blocking calls reuses the same
/// threads, short enough that a burst does not leave hundreds of threads
/// parked for the rest of the program.
pub const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(10);

/// Default thread name prefix; threads are named `{name}-{n}`.
pub const DEFAULT_NAME: &str = "minirt-blocking";

/// A hook run on each pool thread when it starts or before it stops.
pub type ThreadHook = Arc<dyn Fn() + Send + Sync + 'static>;

/// How a [`Pool`](super::Pool) grows, shrinks and names its threads.
///
/// # Example
///
/// ```
/// use minirt::blocking::PoolConfig;
/// use std::time::Duration;
///
/// let config = PoolConfig {
///     name: "files".to_string(),
///     max_threads: 8,
///     keep_alive: Duration::from_secs(1),
///     ..PoolConfig::default()
/// };
/// assert_eq!(config.stack_size, None);
/// ```
#[derive(Clone)]
pub struct PoolConfig {
    /// Thread name prefix: the pool's threads are named `{name}-{n}`, with `n`
    /// counting threads started by this pool from 0.
    pub name: String,
    /// Most threads alive at once. Must be at least 1 ([`Pool::new`](super::Pool::new) panics on 0).
    pub max_threads: usize,
    /// How long an idle thread waits for a job before it exits.
    pub keep_alive: Duration,
    /// Stack size of each thread in bytes; `None` uses the std default.
    pub stack_size: Option<usize>,
    /// Run on each new thread before it takes its first job.
    /// A panic in the hook is caught and the thread carries on.
    pub on_thread_start: Option<ThreadHook>,
    /// Run on each thread after it leaves the pool, before it exits.
    /// `shutdown` waits for this hook too. A panic in the hook is caught.
    pub on_thread_stop: Option<ThreadHook>,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            name: DEFAULT_NAME.to_string(),
            max_threads: DEFAULT_MAX_THREADS,
            keep_alive: DEFAULT_KEEP_ALIVE,
            stack_size: None,
            on_thread_start: None,
            on_thread_stop: None,
        }
    }
}

impl fmt::Debug for PoolConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PoolConfig")
            .field("name", &self.name)
            .field("max_threads", &self.max_threads)
            .field("keep_alive", &self.keep_alive)
            .field("stack_size", &self.stack_size)
            .field("on_thread_start", &self.on_thread_start.is_some())
            .field("on_thread_stop", &self.on_thread_stop.is_some())
            .finish()
    }
}
