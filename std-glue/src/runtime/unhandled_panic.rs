//! What a runtime does when a spawned task panics: tokio's
//! `UnhandledPanic` (unstable there, stable here).
//!
//! Why: a server whose request handlers must never panic may prefer to stop
//! at the first panic over running on in a state nobody planned for. By
//! default ([`UnhandledPanic::Ignore`]) a panic only reaches the task's
//! `JoinHandle`; with [`UnhandledPanic::ShutdownRuntime`] the runtime shuts
//! down at once and `block_on` panics.
//!
//! How: the task core calls `Schedule::unhandled_panic` after it caught the
//! panic of a poll; the scheduler asks [`PanicShutdown::on_task_panic`],
//! which records the first panic and wakes every `block_on` thread through a
//! [`Notify`]. Each scheduler then stops its tasks (see its `Schedule`
//! impl), and every `block_on` checks [`PanicShutdown::check`] after each
//! poll of its future.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering::*};
use std::task::Context;

use minirt_core::sync::{Notified, Notify};

/// How a runtime responds to a panic in a spawned task; passed to
/// [`Builder::unhandled_panic`](super::Builder::unhandled_panic).
///
/// A panic "in a task" is one that unwinds out of a poll of its future (or
/// out of the future's destructor right after it completed). Panics that
/// are not the task's own — a destructor that panics while the task is
/// cancelled, or while its unread output is dropped — never shut the
/// runtime down, as in tokio.
///
/// ```
/// use minirt::{Builder, UnhandledPanic};
///
/// let rt = Builder::current_thread()
///     .unhandled_panic(UnhandledPanic::Ignore) // the default
///     .build()?;
/// let panicked = rt.spawn(async { panic!("boom") });
/// let fine = rt.spawn(async { "done" });
/// rt.block_on(async {
///     assert!(panicked.await.unwrap_err().is_panic());
///     assert_eq!(fine.await.unwrap(), "done");
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum UnhandledPanic {
    /// The panic goes to the task's `JoinHandle` (as a
    /// [`JoinError`](crate::task::JoinError) for which `is_panic()` is
    /// true); every other task keeps running. The default.
    #[default]
    Ignore,
    /// The runtime shuts down as soon as a spawned task panics, even if the
    /// task's `JoinHandle` is still alive: every other task is cancelled
    /// (its future dropped), tasks spawned afterwards are dropped at once,
    /// and every `block_on` on the runtime — running or future — panics
    /// with "a spawned task panicked and the runtime is configured to shut
    /// down on unhandled panic".
    ///
    /// On the multi-thread runtime the task panics on a worker while the
    /// `block_on` future may be in the middle of a poll (and may even see
    /// the task's `JoinError`); `block_on` then panics as soon as that poll
    /// returns, whether the future is ready or not. The other tasks are
    /// cancelled by the workers, which stop right away; `Runtime::drop`
    /// joins them as usual.
    ///
    /// ```should_panic
    /// use minirt::{Builder, UnhandledPanic};
    ///
    /// let rt = Builder::multi_thread()
    ///     .unhandled_panic(UnhandledPanic::ShutdownRuntime)
    ///     .build()
    ///     .unwrap();
    /// rt.spawn(async { panic!("boom") });
    /// // Never finishes by itself: the task's panic makes it panic.
    /// rt.block_on(std::future::pending::<()>());
    /// ```
    ShutdownRuntime,
}

/// The message `block_on` panics with after a `ShutdownRuntime` panic
/// (tokio's words).
pub(crate) const SHUTDOWN_MESSAGE: &str =
    "a spawned task panicked and the runtime is configured to shut down on unhandled panic";

/// One runtime's policy and whether it has fired.
pub(crate) struct PanicShutdown {
    policy: UnhandledPanic,
    /// Set by the first task panic under `ShutdownRuntime`; never cleared.
    triggered: AtomicBool,
    /// Wakes the `block_on` threads when `triggered` is set.
    notify: Notify,
}

impl PanicShutdown {
    pub(crate) fn new(policy: UnhandledPanic) -> PanicShutdown {
        PanicShutdown {
            policy,
            triggered: AtomicBool::new(false),
            notify: Notify::new(),
        }
    }

    /// A spawned task panicked. Returns `true` exactly once, for the first
    /// panic under `ShutdownRuntime`: the caller then stops the tasks.
    pub(crate) fn on_task_panic(&self) -> bool {
        if self.policy != UnhandledPanic::ShutdownRuntime || self.triggered.swap(true, SeqCst) {
            return false;
        }
        self.notify.notify_waiters();
        true
    }

    /// Whether the runtime was shut down by a task panic.
    #[inline]
    pub(crate) fn is_triggered(&self) -> bool {
        self.triggered.load(SeqCst)
    }

    /// Panics (in `block_on`) if the runtime was shut down by a task panic.
    #[track_caller]
    pub(crate) fn check(&self) {
        if self.is_triggered() {
            panic!("{SHUTDOWN_MESSAGE}");
        }
    }

    /// A watcher for a `block_on` thread that cannot see the panic by
    /// itself (it does not run the tasks): ready once the policy fires.
    /// `None` under `Ignore`, so the default costs nothing per poll.
    pub(crate) fn watch(&self) -> Option<Notified<'_>> {
        (self.policy == UnhandledPanic::ShutdownRuntime).then(|| self.notify.notified())
    }
}

/// Polls a [`PanicShutdown::watch`] watcher (registering the `block_on`
/// waker with it); panics if the policy fired.
#[track_caller]
pub(crate) fn poll_watch(
    shutdown: &PanicShutdown,
    watch: &mut Option<Pin<&mut Notified<'_>>>,
    cx: &mut Context<'_>,
) {
    if let Some(watch) = watch {
        // Ready or not, the flag decides; polling registers the waker so a
        // later panic wakes this thread.
        let _ = watch.as_mut().poll(cx).is_ready();
    }
    shutdown.check();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fires_once_and_only_under_shutdown_runtime() {
        let ignore = PanicShutdown::new(UnhandledPanic::Ignore);
        assert!(!ignore.on_task_panic());
        assert!(!ignore.is_triggered());
        assert!(ignore.watch().is_none());

        let shutdown = PanicShutdown::new(UnhandledPanic::ShutdownRuntime);
        assert!(shutdown.on_task_panic());
        assert!(
            !shutdown.on_task_panic(),
            "only the first panic stops the tasks"
        );
        assert!(shutdown.is_triggered());
    }

    #[test]
    fn check_panics_with_tokios_message() {
        let shutdown = PanicShutdown::new(UnhandledPanic::ShutdownRuntime);
        shutdown.check();
        shutdown.on_task_panic();
        let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| shutdown.check()))
            .unwrap_err();
        assert_eq!(err.downcast_ref::<String>().unwrap(), SHUTDOWN_MESSAGE);
    }
}
