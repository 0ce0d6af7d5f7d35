//! Runtime-level lifecycle hooks: async work run once when a runtime starts
//! ([`Builder::on_runtime_start`]) and once when it shuts down
//! ([`Builder::on_runtime_shutdown`]) — Python ayo's `on.starting` /
//! `on.stopped` for a whole runtime rather than one root scope.
//!
//! # Why
//!
//! [`on_thread_start`](Builder::on_thread_start) runs on every thread and
//! cannot await; a service also wants "once, before anything runs" (open a
//! connection pool, check a configuration) and "once, while tasks can still
//! be reached, before they are cancelled" (flush a buffer, deregister from a
//! load balancer). Those hooks are async and may fail.
//!
//! # When they run, and how a failure is reported
//!
//! * The **start** hooks run inside [`Builder::build`], one after another on
//!   the new runtime (`block_on`: they may spawn tasks and await). If one
//!   returns `Err`, the runtime is shut down again and `build` returns an
//!   `io::Error` (kind `Other`) saying which hook failed and why; a hook that
//!   panics makes `build` panic.
//! * The **shutdown** hooks run when the runtime is dropped (or consumed by
//!   [`Runtime::shutdown`] or [`Runtime::shutdown_timeout`]), before its
//!   tasks are cancelled, one after another. Every hook runs even if an
//!   earlier one failed. A failure is printed on stderr (`minirt: the
//!   on_runtime_shutdown hook failed: ...`) and, with
//!   [`Runtime::shutdown`], returned to the caller. A hook that panics is
//!   reported the same way and its panic resumes once the runtime has shut
//!   down (unless the thread is already panicking).
//!
//! Dropping a runtime from inside another runtime (where `block_on` is not
//! allowed) runs the shutdown hooks on a short-lived helper thread.

use std::future::Future;
use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;

use super::{Builder, Runtime};
/// What a failing hook returns (runtime hooks here, and
/// `minirt::main_scope`'s hooks on Unix).
pub type HookError = Box<dyn std::error::Error + Send + Sync + 'static>;

type HookFuture = Pin<Box<dyn Future<Output = Result<(), HookError>> + Send>>;

/// A runtime-level hook, as recorded by the builder.
pub(crate) type RuntimeHook = Box<dyn FnOnce() -> HookFuture + Send + Sync>;

impl Builder {
    /// Adds an async hook run once on the new runtime inside
    /// [`build`](Builder::build), before `build` returns; hooks run in the
    /// order they were added (Python ayo's `on.starting`, for a whole
    /// runtime: open a pool, check a configuration).
    ///
    /// A hook returning `Err` is reported, not swallowed: the runtime shuts
    /// down again (without running its shutdown hooks), the later start
    /// hooks do not run, and `build` returns an `io::Error` (kind `Other`)
    /// naming the hook and its error. A hook that panics makes `build`
    /// panic.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use std::sync::Arc;
    ///
    /// let ready = Arc::new(AtomicBool::new(false));
    /// let flag = ready.clone();
    /// let rt = minirt::Builder::current_thread()
    ///     .on_runtime_start(move || async move {
    ///         minirt::yield_now().await; // may await, spawn, do I/O
    ///         flag.store(true, Ordering::SeqCst);
    ///         Ok(())
    ///     })
    ///     .build()?;
    /// assert!(ready.load(Ordering::SeqCst));
    ///
    /// let err = minirt::Builder::current_thread()
    ///     .on_runtime_start(|| async { Err("no configuration file".into()) })
    ///     .build()
    ///     .unwrap_err();
    /// assert!(err.to_string().contains("no configuration file"));
    /// # drop(rt);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn on_runtime_start<H, F>(mut self, hook: H) -> Builder
    where
        H: FnOnce() -> F + Send + Sync + 'static,
        F: Future<Output = Result<(), HookError>> + Send + 'static,
    {
        self.on_runtime_start
            .push(Box::new(move || Box::pin(hook())));
        self
    }

    /// Adds an async hook run once when the runtime shuts down — dropped,
    /// or consumed by [`Runtime::shutdown`] or
    /// [`Runtime::shutdown_timeout`] — before its tasks are cancelled (they
    /// can still be reached: a hook may send them a last message and await
    /// the answer); hooks run in the order they were added.
    ///
    /// Every hook runs even if an earlier one failed. A failure is printed
    /// on stderr (`minirt: the on_runtime_shutdown hook failed: ...`) and
    /// returned by [`Runtime::shutdown`]; a panicking hook is reported the
    /// same way and its panic resumes once the runtime has shut down
    /// (unless the thread is already panicking). Dropping a runtime from
    /// inside another runtime, where `block_on` is refused, runs its
    /// shutdown hooks on a short-lived helper thread.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    ///
    /// let log = Arc::new(Mutex::new(Vec::new()));
    /// let l = log.clone();
    /// let rt = minirt::Builder::multi_thread()
    ///     .worker_threads(1)
    ///     .on_runtime_shutdown(move || async move {
    ///         l.lock().unwrap().push("flushed");
    ///         Ok(())
    ///     })
    ///     .build()?;
    /// rt.block_on(async { log.lock().unwrap().push("ran") });
    /// drop(rt);
    /// assert_eq!(*log.lock().unwrap(), ["ran", "flushed"]);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn on_runtime_shutdown<H, F>(mut self, hook: H) -> Builder
    where
        H: FnOnce() -> F + Send + Sync + 'static,
        F: Future<Output = Result<(), HookError>> + Send + 'static,
    {
        self.on_runtime_shutdown
            .push(Box::new(move || Box::pin(hook())));
        self
    }
}

impl Runtime {
    /// Runs the start hooks taken from the builder; `Err` names the failing one.
    pub(crate) fn run_start_hooks(&self, hooks: Vec<RuntimeHook>) -> io::Result<()> {
        let count = hooks.len();
        for (i, hook) in hooks.into_iter().enumerate() {
            if let Err(err) = self.block_on(hook()) {
                return Err(io::Error::other(format!(
                    "minirt::Builder: on_runtime_start hook {} of {count} failed: {err}",
                    i + 1
                )));
            }
        }
        Ok(())
    }

    /// Runs the shutdown hooks (all of them), reporting each failure on
    /// stderr. Returns the first error, and the first panic to resume.
    pub(crate) fn run_shutdown_hooks(&mut self) -> ShutdownHooksOutcome {
        let hooks = std::mem::take(&mut self.shutdown_hooks);
        let mut outcome = ShutdownHooksOutcome::default();
        if hooks.is_empty() {
            return outcome;
        }
        let run_all = || {
            let mut outcome = ShutdownHooksOutcome::default();
            for hook in hooks {
                match panic::catch_unwind(AssertUnwindSafe(|| self.block_on(hook()))) {
                    Ok(Ok(())) => {}
                    Ok(Err(err)) => {
                        eprintln!("minirt: the on_runtime_shutdown hook failed: {err}");
                        outcome.error.get_or_insert(err);
                    }
                    Err(payload) => {
                        eprintln!("minirt: the on_runtime_shutdown hook panicked");
                        outcome.panic.get_or_insert(payload);
                    }
                }
            }
            outcome
        };
        if super::context::is_entered() {
            // `block_on` is refused here; a fresh thread is outside.
            std::thread::scope(|s| match s.spawn(run_all).join() {
                Ok(ran) => outcome = ran,
                Err(payload) => outcome.panic = Some(payload),
            });
        } else {
            outcome = run_all();
        }
        outcome
    }
}

/// What the shutdown hooks left to report.
#[derive(Default)]
pub(crate) struct ShutdownHooksOutcome {
    pub(crate) error: Option<HookError>,
    pub(crate) panic: Option<Box<dyn std::any::Any + Send>>,
}
