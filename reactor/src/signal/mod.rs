//! Signals as `.await`-able events: [`ctrl_c`] everywhere, and any Unix
//! signal with `signal(SignalKind)` on Unix.
//!
//! Why: a server wants to finish in-flight work when it receives `SIGTERM`
//! or Ctrl-C, and reload on `SIGHUP`, from ordinary async code. A signal
//! handler can do almost nothing safely, so the handler only records the
//! signal and writes one byte to a process-wide *self-pipe*; the reactor
//! watches the pipe like any socket and, when it becomes readable, wakes the
//! listening tasks.
//!
//! # Design (Unix)
//!
//! - **One global pipe** (a non-blocking `socketpair`), created on first use.
//!   The handler is async-signal-safe: it sets an atomic "pending" flag for the
//!   signal, `write`s one byte, optionally chains (below) and restores `errno`.
//! - **The pipe's read end is registered with every driver** on which a
//!   `Signal` was created or polled. Whichever of those drivers is parked
//!   when the byte arrives drains the pipe and then, for every signal whose
//!   pending flag it clears, bumps that signal's global delivery counter and
//!   wakes all its listeners (wakers work across runtimes and threads). Draining
//!   before reading the flags means a signal that lands in between is seen on
//!   the next wake-up instead of being lost.
//! - **Every listener sees every delivery**: each `Signal` remembers the
//!   delivery counter it last saw; `recv` completes when the counter has moved.
//!   Several deliveries between two `recv` calls are reported once (the OS
//!   coalesces pending signals in the same way).
//! - **Existing handlers**: when minirt installs its handler for a signal it
//!   keeps the previous disposition. If that was a real handler function, it is
//!   called after minirt's bookkeeping on every delivery (chained, with the
//!   same arguments). If it was `SIG_DFL` or `SIG_IGN`, it is not: listening
//!   for a signal replaces its default action, so after `ctrl_c()` Ctrl-C no
//!   longer kills the process — your program decides what to do.
//! - The handler stays installed for the life of the process, even when every
//!   listener is gone (restoring it could race with deliveries in flight, and
//!   a signal would then be lost). Deliveries with no listener are dropped.
//!
//! `SIGKILL`, `SIGSTOP`, `SIGILL`, `SIGFPE`, `SIGSEGV` and `SIGBUS` cannot be
//! listened for: `signal` returns `InvalidInput`.
//!
//! # Platforms
//!
//! - **Linux and macOS** use the same code: a `sigaction` handler and the
//!   self-pipe above, watched by the reactor (epoll on Linux, kqueue on
//!   macOS). minirt does not use kqueue's `EVFILT_SIGNAL`: that filter only
//!   observes signals and still needs a handler (or `SIG_IGN`) to stop the
//!   default action, so the self-pipe is the one mechanism on every Unix. The
//!   signal numbers differ between the two (`SIGUSR1` is 10 on Linux and 30 on
//!   macOS, for example): use the named `SignalKind` constructors, not
//!   numbers. Linux's real-time signals (`SIGRTMIN..=SIGRTMAX`) have no macOS
//!   counterpart.
//! - **Windows** has no Unix signals: `Signal`, `SignalKind` and `signal` exist
//!   on Unix only. [`ctrl_c`] listens for the console's `CTRL_C_EVENT`
//!   through a handler registered with `SetConsoleCtrlHandler`, which
//!   Windows runs on a thread of its own; that handler wakes the listeners
//!   directly, so no self-pipe is needed. Ctrl-Break (`CTRL_BREAK_EVENT`),
//!   closing the console window, log-off and shutdown are not reported and
//!   keep their default effect (tokio's `ctrl_c` makes the same choice).
//!
//! ```no_run
//! # #[cfg(unix)] mod unix {
//! use minirt_reactor::signal::{self, SignalKind};
//!
//! async fn serve_until_terminated() -> std::io::Result<()> {
//!     let mut terminate = signal::signal(SignalKind::terminate())?;
//!     // ... start serving ...
//!     terminate.recv().await;
//!     // ... finish in-flight work, then return ...
//!     Ok(())
//! }
//! # }
//! ```

#[cfg(windows)]
mod console;
#[cfg(unix)]
mod handler;
#[cfg(unix)]
mod kind;
mod listener;
#[cfg(unix)]
mod self_pipe;
mod table;
#[cfg(unix)]
mod unix_signal;

use std::io;

#[cfg(unix)]
pub use kind::SignalKind;
#[cfg(unix)]
pub use unix_signal::{signal, Signal};

#[cfg(unix)]
pub(crate) use self_pipe::pump_pipe;

/// Completes at the next Ctrl-C.
///
/// On Unix that is `SIGINT`. The handler is installed when this future is
/// first polled, so a Ctrl-C before that still has its default effect
/// (terminating the process). From then on `SIGINT` no longer terminates the
/// process by itself, even once nobody listens.
///
/// On Windows it is the console's `CTRL_C_EVENT` (not Ctrl-Break), seen
/// through `SetConsoleCtrlHandler`. While at least one `ctrl_c` future has
/// been polled and not dropped, Ctrl-C is reported to each of them and does
/// not end the process; when none exists, Windows' default handling (ending
/// the process) applies again, as with tokio.
///
/// Cancellation: the future subscribes when first polled and unsubscribes
/// when dropped, so a Ctrl-C that arrives between dropping one `ctrl_c`
/// future and first polling the next is not reported. To see every Ctrl-C on
/// Unix, keep one `signal(SignalKind::interrupt())` listener and call `recv`
/// in a loop.
///
/// # Errors
///
/// On Unix as `signal`: the OS error if the self-pipe or `sigaction` fails.
/// On Windows the OS error if `SetConsoleCtrlHandler` fails.
///
/// # Panics
///
/// Outside a minirt runtime, on every platform (on Unix the reactor must
/// watch the self-pipe; on Windows it panics too, so that a program behaves
/// the same everywhere).
///
/// ```no_run
/// async fn run() -> std::io::Result<()> {
///     minirt_reactor::signal::ctrl_c().await?;
///     println!("shutting down");
///     Ok(())
/// }
/// ```
pub async fn ctrl_c() -> io::Result<()> {
    #[cfg(unix)]
    {
        let mut interrupt = signal(SignalKind::interrupt())?;
        interrupt.recv().await;
    }
    #[cfg(windows)]
    {
        let _reactor = crate::driver::Handle::current();
        console::install()?;
        let mut listener = listener::Listener::subscribe(console::CTRL_C);
        std::future::poll_fn(|cx| listener.poll(cx)).await;
    }
    Ok(())
}
