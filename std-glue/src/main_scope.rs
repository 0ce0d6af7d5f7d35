//! A program's root scope, bound to Ctrl-C and `SIGTERM` (Python ayo's
//! `run_as_main`), with lifecycle hooks (ayo's `on.starting` / `started` /
//! `stopping` / `stopped`).
//!
//! # Why
//!
//! A command-line program or a service wants one thing on Ctrl-C: stop
//! everything it started, let destructors and cleanup run, and exit with a
//! status saying it was interrupted — and, if cleanup hangs, a second Ctrl-C
//! that exits at once. Wiring that by hand means a signal listener, a scope,
//! a race between them and exit codes; [`main_scope`] is that wiring.
//!
//! # What happens
//!
//! 1. A multi-thread runtime starts (or the one given to
//!    [`MainScope::runtime`]), and listeners for `SIGINT` and `SIGTERM` are
//!    installed — from then on those signals no longer kill the process.
//! 2. The [`on_starting`](MainScope::on_starting) hooks run, in order.
//! 3. The body runs as the first child of the **root scope** (an async
//!    [`Scope<()>`](crate::scope::Scope)); it gets a handle to spawn more
//!    children, daemons and scheduled calls into that scope. Then the
//!    [`on_started`](MainScope::on_started) hooks run, beside the body.
//! 4. The root scope ends when its children are done, or at the **first
//!    signal**: the [`on_stopping`](MainScope::on_stopping) hooks run while
//!    the children still do, then the scope is cancelled — every child
//!    unwinds at its `.await`, its destructors run — and `main_scope` waits
//!    until all are dropped. Without a signal, the `on_stopping` hooks run
//!    once the children are done.
//! 5. The [`on_stopped`](MainScope::on_stopped) hooks run (a countdown
//!    before exit, a final flush), the runtime shuts down, and
//!    [`MainExit`] says how it went: return it from `main`, and the exit
//!    status is 0, 128 + the signal's number (130 for `SIGINT`, 143 for
//!    `SIGTERM`, as shells report it), or 1 if a hook failed.
//!
//! A **second signal** while the first is being handled exits the process
//! at once (`std::process::exit` with 128 + its number): destructors of what
//! is still running do not run.
//!
//! A panic in a child is fail-fast, as in any scope: the siblings are
//! cancelled and the panic resumes from `main_scope` (exit status 101).
//!
//! An attribute form (`#[minirt::main]` with a root scope) can follow once
//! that attribute exists; this function is what it would expand to.

use std::fmt;
use std::future::Future;
use std::pin::{pin, Pin};
use std::process::{ExitCode, Termination};
use std::sync::{Arc, Mutex};

use minirt_core::future::{select, Either};
use minirt_core::sync::oneshot;
use minirt_reactor::signal::{self, SignalKind};

use crate::scope::{Scope, ScopeHandle};
use crate::Builder;

pub use crate::runtime::HookError;

type HookFuture = Pin<Box<dyn Future<Output = Result<(), HookError>> + Send>>;
type Hook = Box<dyn FnOnce() -> HookFuture + Send>;

/// Runs `body` in a root scope that the first `SIGINT` or `SIGTERM`
/// cancels; see the [module docs](self) for the whole sequence. Shorthand for
/// `MainScope::new().run(body)`.
///
/// ```no_run
/// use std::time::Duration;
/// use minirt::main_scope::MainExit;
///
/// fn main() -> MainExit {
///     minirt::main_scope(|scope| async move {
///         scope.spawn(async {
///             loop {
///                 println!("working");
///                 minirt::time::sleep(Duration::from_secs(1)).await;
///             }
///         });
///         println!("press Ctrl-C to stop");
///     })
/// }
/// ```
#[track_caller]
pub fn main_scope<B, F>(body: B) -> MainExit
where
    B: FnOnce(ScopeHandle<'static, ()>) -> F,
    F: Future<Output = ()> + Send + 'static,
{
    MainScope::new().run(body)
}

/// How [`main_scope`] ended; return it from `main` to exit with the matching
/// status.
///
/// ```
/// use minirt::main_scope::MainExit;
/// use minirt::signal::SignalKind;
///
/// assert_eq!(MainExit::Completed.code(), 0);
/// assert_eq!(MainExit::Interrupted(SignalKind::interrupt()).code(), 130);
/// assert_eq!(MainExit::Interrupted(SignalKind::terminate()).code(), 143);
/// assert_eq!(MainExit::HookFailed.code(), 1);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MainExit {
    /// The root scope's children all finished.
    Completed,
    /// This signal cancelled the root scope; cleanup finished.
    Interrupted(SignalKind),
    /// A lifecycle hook returned an error (reported on stderr).
    HookFailed,
}

impl MainExit {
    /// The process exit status this stands for: 0, 128 + the signal's
    /// number, or 1.
    pub fn code(self) -> u8 {
        match self {
            MainExit::Completed => 0,
            MainExit::Interrupted(kind) => signal_exit_code(kind),
            MainExit::HookFailed => 1,
        }
    }
}

impl Termination for MainExit {
    fn report(self) -> ExitCode {
        ExitCode::from(self.code())
    }
}

fn signal_exit_code(kind: SignalKind) -> u8 {
    u8::try_from(128 + kind.as_raw()).unwrap_or(u8::MAX)
}

fn signal_name(kind: SignalKind) -> String {
    if kind == SignalKind::interrupt() {
        "SIGINT".into()
    } else if kind == SignalKind::terminate() {
        "SIGTERM".into()
    } else {
        format!("signal {}", kind.as_raw())
    }
}

/// [`main_scope`] with lifecycle hooks and a choice of runtime.
///
/// Hooks are async closures returning `Result<(), HookError>`; each stage's
/// hooks run one after another in the order they were added. A hook that
/// returns `Err` is **reported** on stderr (`minirt::main_scope: the
/// on_starting hook failed: ...`) and makes `run` return
/// [`MainExit::HookFailed`]: a failing `on_starting` hook keeps the body
/// from running; a failure in a later stage stops the root scope (like a
/// signal would) and the remaining stages still run. A hook that panics
/// propagates its panic.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use minirt::main_scope::{MainExit, MainScope};
///
/// let log = Arc::new(Mutex::new(Vec::new()));
/// let (a, b, c, d, e) = (log.clone(), log.clone(), log.clone(), log.clone(), log.clone());
/// let exit = MainScope::new()
///     .on_starting(move || async move { a.lock().unwrap().push("starting"); Ok(()) })
///     .on_started(move || async move { b.lock().unwrap().push("started"); Ok(()) })
///     .on_stopping(move || async move { c.lock().unwrap().push("stopping"); Ok(()) })
///     .on_stopped(move || async move { d.lock().unwrap().push("stopped"); Ok(()) })
///     .run(move |_scope| async move {
///         e.lock().unwrap().push("body");
///     });
/// assert_eq!(exit, MainExit::Completed);
/// let log = log.lock().unwrap();
/// assert_eq!(log[0], "starting");
/// assert_eq!(log[3..], ["stopping", "stopped"]); // "body" and "started" run side by side
///
/// let exit = MainScope::new()
///     .on_starting(|| async { Err("no configuration file".into()) })
///     .run(|_scope| async { unreachable!("the body does not run") });
/// assert_eq!(exit, MainExit::HookFailed);
/// ```
#[derive(Default)]
pub struct MainScope {
    builder: Option<Builder>,
    starting: Vec<Hook>,
    started: Vec<Hook>,
    stopping: Vec<Hook>,
    stopped: Vec<Hook>,
}

macro_rules! hook_setter {
    ($(#[$doc:meta])* $name:ident, $field:ident) => {
        $(#[$doc])*
        pub fn $name<H, F>(mut self, hook: H) -> MainScope
        where
            H: FnOnce() -> F + Send + 'static,
            F: Future<Output = Result<(), HookError>> + Send + 'static,
        {
            self.$field.push(Box::new(move || Box::pin(hook())));
            self
        }
    };
}

impl MainScope {
    /// No hooks, the default multi-thread runtime.
    pub fn new() -> MainScope {
        MainScope::default()
    }

    /// Runs on a runtime built from `builder` (a current-thread one, a mock
    /// clock for tests...) instead of the default multi-thread runtime.
    pub fn runtime(mut self, builder: Builder) -> MainScope {
        self.builder = Some(builder);
        self
    }

    hook_setter!(
        /// Adds a hook run before the body starts.
        on_starting,
        starting
    );
    hook_setter!(
        /// Adds a hook run once the body has started, beside it.
        on_started,
        started
    );
    hook_setter!(
        /// Adds a hook run when the root scope stops: at the first signal,
        /// before the children are cancelled (they still run meanwhile), or
        /// once they are all done.
        on_stopping,
        stopping
    );
    hook_setter!(
        /// Adds a hook run after the root scope ended and every child was
        /// dropped (a countdown before exit, a final flush).
        on_stopped,
        stopped
    );

    /// Runs `body` in the root scope; see the [module docs](self).
    ///
    /// # Panics
    ///
    /// If the runtime cannot be built or the signal handlers cannot be
    /// installed; with the panic of a child (fail-fast), or of a hook.
    #[track_caller]
    pub fn run<B, F>(self, body: B) -> MainExit
    where
        B: FnOnce(ScopeHandle<'static, ()>) -> F,
        F: Future<Output = ()> + Send + 'static,
    {
        let MainScope {
            builder,
            starting,
            started,
            stopping,
            stopped,
        } = self;
        let rt = builder
            .unwrap_or_else(Builder::multi_thread)
            .build()
            .unwrap_or_else(|e| panic!("minirt::main_scope could not start its runtime: {e}"));
        rt.block_on(async move {
            let first_signal = listen_for_signals();
            let mut failed = run_hooks("on_starting", starting).await;
            if failed {
                return MainExit::HookFailed;
            }
            let scope = Scope::<()>::new();
            let root = scope.handle();
            scope.spawn(body(root.clone()));
            let mut join = pin!(scope.join());
            let mut first_signal = pin!(first_signal);
            let mut interrupted = None;
            let mut stop_hooks = Some(stopping);
            // Runs the stopping hooks (once), then cancels the root scope;
            // returns whether a hook failed.
            let mut stop = |root: &ScopeHandle<'static, ()>| {
                let hooks = stop_hooks.take();
                let root = root.clone();
                async move {
                    let failed = match hooks {
                        Some(hooks) => run_hooks("on_stopping", hooks).await,
                        None => false,
                    };
                    root.cancel();
                    failed
                }
            };
            if run_hooks("on_started", started).await {
                failed = true;
                stop(&root).await;
            }
            let ended = match select(join.as_mut(), first_signal.as_mut()).await {
                Either::Left(ended) => ended,
                Either::Right(kind) => {
                    interrupted = kind;
                    if let Some(kind) = kind {
                        eprintln!(
                            "minirt: {} received, cancelling the root scope (send it again to exit at once)",
                            signal_name(kind)
                        );
                    }
                    failed |= stop(&root).await;
                    join.await
                }
            };
            // Cancelled children are the point of a signal, not a failure.
            drop(ended);
            if let Some(hooks) = stop_hooks {
                failed |= run_hooks("on_stopping", hooks).await;
            }
            failed |= run_hooks("on_stopped", stopped).await;
            match (failed, interrupted) {
                (true, _) => MainExit::HookFailed,
                (false, Some(kind)) => MainExit::Interrupted(kind),
                (false, None) => MainExit::Completed,
            }
        })
    }
}

impl fmt::Debug for MainScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MainScope")
            .field("starting", &self.starting.len())
            .field("started", &self.started.len())
            .field("stopping", &self.stopping.len())
            .field("stopped", &self.stopped.len())
            .finish_non_exhaustive()
    }
}

/// Runs `hooks` in order; reports each failure on stderr and returns
/// whether any failed.
async fn run_hooks(stage: &str, hooks: Vec<Hook>) -> bool {
    let mut failed = false;
    for hook in hooks {
        if let Err(err) = hook().await {
            eprintln!("minirt::main_scope: the {stage} hook failed: {err}");
            failed = true;
        }
    }
    failed
}

/// Installs the `SIGINT` and `SIGTERM` listeners now, and returns a future
/// completing with the first of them to arrive (`None` if the listeners
/// went away, which only happens when the runtime shuts down). Every later
/// signal exits the process at once.
fn listen_for_signals() -> impl Future<Output = Option<SignalKind>> {
    let (tx, rx) = oneshot::channel();
    let first = Arc::new(Mutex::new(Some(tx)));
    for kind in [SignalKind::interrupt(), SignalKind::terminate()] {
        let mut listener = signal::signal(kind).unwrap_or_else(|e| {
            panic!(
                "minirt::main_scope could not listen for {}: {e}",
                signal_name(kind)
            )
        });
        let first = first.clone();
        crate::spawn(async move {
            while listener.recv().await.is_some() {
                let tx = first.lock().unwrap_or_else(|e| e.into_inner()).take();
                match tx {
                    Some(tx) => {
                        let _ = tx.send(kind);
                    }
                    None => {
                        eprintln!(
                            "minirt: second signal ({}) during cleanup, exiting now",
                            signal_name(kind)
                        );
                        std::process::exit(i32::from(signal_exit_code(kind)));
                    }
                }
            }
        });
    }
    async move { rx.await.ok() }
}
