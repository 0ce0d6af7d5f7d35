//! [`BlockingPool`]: a named pool of threads for blocking closures, with its
//! own limits, separate from the runtime's `spawn_blocking` pool.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use super::config::{PoolConfig, DEFAULT_NAME};
use super::task::{spawn_blocking_on, BlockingJob};
use super::{Pool, PoolMetrics};
use minirt_core::task::JoinHandle;

/// A named pool for blocking closures, with its own thread limit and
/// keep-alive (ayo's `aside_in("notifications")`).
///
/// Use one to keep a kind of blocking work from crowding out the rest: four
/// database threads at most, say, however many requests want one.
/// Threads are started on demand up to `max_threads` and exit after
/// `keep_alive` without work, exactly like the runtime's own blocking pool.
///
/// Cloning gives another handle to the same pool. When the last clone is
/// dropped the pool shuts down *without waiting*: closures not yet started
/// are dropped (their handles report a cancelled `JoinError`),
/// running ones finish on their own. Call [`shutdown`](BlockingPool::shutdown)
/// to wait.
///
/// # Example
///
/// ```
/// use minirt::blocking::BlockingPool;
/// use std::time::Duration;
///
/// let db = BlockingPool::builder()
///     .name("db")
///     .max_threads(4)
///     .keep_alive(Duration::from_secs(30))
///     .build()?;
///
/// let rows = db.spawn(|| {
///     // A synchronous database query would go here.
///     vec!["alice", "bob"]
/// });
/// assert_eq!(minirt::block_on(rows).unwrap(), ["alice", "bob"]);
/// assert!(db.live_threads() <= 4);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct BlockingPool {
    pool: Arc<Pool<BlockingJob>>,
}

impl BlockingPool {
    /// Starts configuring a pool; see [`BlockingPoolBuilder`].
    pub fn builder() -> BlockingPoolBuilder {
        BlockingPoolBuilder {
            config: PoolConfig::default(),
        }
    }

    /// Runs `f` on one of the pool's threads and returns a handle to its
    /// result.
    ///
    /// The returned [`JoinHandle`] can be awaited from async code, aborted
    /// (which prevents `f` from running if it has not started yet) or
    /// dropped to detach. A panic in `f` is reported on the handle. If the
    /// pool has shut down, `f` is dropped without running and the handle
    /// reports a cancelled [`JoinError`](minirt_core::task::JoinError).
    ///
    /// # Example
    ///
    /// ```
    /// use minirt::blocking::BlockingPool;
    ///
    /// let pool = BlockingPool::builder().name("hash").build()?;
    /// let handle = pool.spawn(|| (1..=10u64).product::<u64>());
    /// assert_eq!(minirt::block_on(handle).unwrap(), 3_628_800);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn spawn<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        spawn_blocking_on(&self.pool, crate::runtime::context::try_current(), f)
    }

    /// Shuts the pool down for every clone and waits for its threads, at
    /// most `timeout` (`None`: as long as it takes). Returns `true` if they
    /// all finished in time. Queued closures are dropped without running.
    ///
    /// See [`Pool::shutdown`] for the exact steps and what happens when called
    /// from one of the pool's own threads.
    pub fn shutdown(&self, timeout: Option<Duration>) -> bool {
        self.pool.shutdown(timeout)
    }

    /// The name given to [`BlockingPoolBuilder::name`].
    pub fn name(&self) -> &str {
        &self.pool.config().name
    }

    /// Threads running a closure or waiting idle for one.
    pub fn live_threads(&self) -> usize {
        self.pool.live_threads()
    }

    /// Threads waiting idle for a closure.
    pub fn idle_threads(&self) -> usize {
        self.pool.idle_threads()
    }

    /// Closures waiting for a thread (all `max_threads` are busy).
    pub fn queued(&self) -> usize {
        self.pool.queued()
    }

    /// Threads running a closure (or woken for one).
    pub fn busy_threads(&self) -> usize {
        self.pool.busy_threads()
    }

    /// All counters at one instant.
    pub fn metrics(&self) -> PoolMetrics {
        self.pool.metrics()
    }
}

/// Settings for a [`BlockingPool`]; created by [`BlockingPool::builder`].
///
/// Defaults: name `"minirt-blocking"`, 512 threads at most, 10 s keep-alive,
/// the std stack size, no hooks.
#[derive(Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct BlockingPoolBuilder {
    config: PoolConfig,
}

impl BlockingPoolBuilder {
    /// Names the pool; its threads are called `{name}-0`, `{name}-1`, ...
    /// Must not be empty.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.config.name = name.into();
        self
    }

    /// Most threads alive at once; further closures wait in a queue.
    /// Must be at least 1.
    pub fn max_threads(mut self, max_threads: usize) -> Self {
        self.config.max_threads = max_threads;
        self
    }

    /// How long an idle thread waits for a closure before it exits.
    /// `Duration::ZERO` makes each thread exit as soon as the queue is empty.
    pub fn keep_alive(mut self, keep_alive: Duration) -> Self {
        self.config.keep_alive = keep_alive;
        self
    }

    /// Stack size of each thread, in bytes.
    pub fn stack_size(mut self, bytes: usize) -> Self {
        self.config.stack_size = Some(bytes);
        self
    }

    /// Runs `hook` on each new thread before its first closure.
    pub fn on_thread_start(mut self, hook: impl Fn() + Send + Sync + 'static) -> Self {
        self.config.on_thread_start = Some(Arc::new(hook));
        self
    }

    /// Runs `hook` on each thread before it exits.
    pub fn on_thread_stop(mut self, hook: impl Fn() + Send + Sync + 'static) -> Self {
        self.config.on_thread_stop = Some(Arc::new(hook));
        self
    }

    /// Creates the pool (no thread is started until the first `spawn`).
    ///
    /// # Errors
    ///
    /// An [`io::Error`] of kind [`InvalidInput`](io::ErrorKind::InvalidInput)
    /// whose message names the setting, if `max_threads` is 0 or `name` is
    /// empty.
    ///
    /// ```
    /// use minirt::blocking::BlockingPool;
    ///
    /// let err = BlockingPool::builder().max_threads(0).build().unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    /// assert!(err.to_string().contains("max_threads"));
    /// ```
    pub fn build(self) -> io::Result<BlockingPool> {
        if self.config.max_threads == 0 {
            return Err(invalid_input(format!(
                "BlockingPool::builder().max_threads(0) for pool `{}`: a pool needs at least 1 thread",
                self.config.name
            )));
        }
        if self.config.name.is_empty() {
            return Err(invalid_input(format!(
                "BlockingPool::builder().name(\"\"): a pool needs a non-empty name, \
                 used to name its threads (the default is `{DEFAULT_NAME}`)"
            )));
        }
        Ok(BlockingPool {
            pool: Arc::new(Pool::new(self.config)),
        })
    }
}

fn invalid_input(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}
