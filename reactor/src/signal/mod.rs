//! Unix signals as `.await`-able events: [`ctrl_c`] and [`signal`].
//!
//! Why: a server wants to finish in-flight work when it receives `SIGTERM`
//! or Ctrl-C, and reload on `SIGHUP`, from ordinary async code. A signal
//! handler can do almost nothing safely, so the handler only records the
//! signal and writes one byte to a process-wide *self-pipe*; the reactor
//! watches the pipe like any socket and, when it becomes readable, wakes the
//! listening tasks.
//!
//! # Design
//!
//! - **One global pipe** (a non-blocking `socketpair`), created on first use.
//!   The handler is async-signal-safe: it sets an atomic "pending" flag for the
//!   signal, `write`s one byte, optionally chains (below) and restores `errno`.
//! - **The pipe's read end is registered with every driver** on which a
//!   [`Signal`] was created or polled. Whichever of those drivers is parked
//!   when the byte arrives drains the pipe and then, for every signal whose
//!   pending flag it clears, bumps that signal's global delivery counter and
//!   wakes all its listeners (wakers work across runtimes and threads). Draining
//!   before reading the flags means a signal that lands in between is seen on
//!   the next wake-up instead of being lost.
//! - **Every listener sees every delivery**: each [`Signal`] remembers the
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
//! listened for: [`signal`] returns `InvalidInput`.
//!
//! ```no_run
//! use minirt_reactor::signal::{self, SignalKind};
//!
//! async fn serve_until_terminated() -> std::io::Result<()> {
//!     let mut terminate = signal::signal(SignalKind::terminate())?;
//!     // ... start serving ...
//!     terminate.recv().await;
//!     // ... finish in-flight work, then return ...
//!     Ok(())
//! }
//! ```

mod handler;
mod kind;
mod registry;

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::task::{Context, Poll};

pub use kind::SignalKind;

use crate::driver::Handle;

pub(crate) use registry::pump_pipe;

/// A listener for one kind of signal, created by [`signal`].
///
/// Each listener sees every delivery made after it was created; dropping it
/// unsubscribes it (the process-wide handler stays installed).
pub struct Signal {
    /// Index of the signal in the global table.
    signum: usize,
    /// This listener's waker slot in the signal's listener list.
    listener: usize,
    /// The delivery counter value this listener has already reported.
    seen: u64,
}

/// Starts listening for `kind`, installing minirt's handler for it on first use.
///
/// # Errors
///
/// `InvalidInput` for a signal that cannot be handled (`SIGKILL`, `SIGSTOP`,
/// `SIGSEGV`, ...) or is out of range; the OS error if the self-pipe or
/// `sigaction` fails.
///
/// # Panics
///
/// Outside a minirt runtime (the self-pipe must be watched by a reactor).
pub fn signal(kind: SignalKind) -> io::Result<Signal> {
    let handle = Handle::current();
    let signum = registry::validate(kind.as_raw())?;
    let pipe_fd = registry::install(signum)?;
    handle.inner.register_signal_pipe(pipe_fd)?;
    let (listener, seen) = registry::subscribe(signum);
    Ok(Signal {
        signum,
        listener,
        seen,
    })
}

/// Completes at the next Ctrl-C (`SIGINT`).
///
/// The handler is installed when this future is first polled, so a Ctrl-C
/// before that still has its default effect (terminating the process). From
/// then on `SIGINT` no longer terminates the process by itself.
///
/// # Errors
///
/// As [`signal`].
///
/// ```no_run
/// async fn run() -> std::io::Result<()> {
///     minirt_reactor::signal::ctrl_c().await?;
///     println!("shutting down");
///     Ok(())
/// }
/// ```
pub async fn ctrl_c() -> io::Result<()> {
    let mut interrupt = signal(SignalKind::interrupt())?;
    interrupt.recv().await;
    Ok(())
}

impl Signal {
    /// Waits for the next delivery of the signal (one made after the last
    /// `recv` returned, or after this listener was created).
    ///
    /// Always resolves to `Some(())` today: signals can be delivered for the
    /// life of the process. `None` is reserved for a future "no more signals"
    /// state, as in tokio's API.
    pub async fn recv(&mut self) -> Option<()> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Poll version of [`recv`](Signal::recv).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
        // Whichever driver polls us must be able to read the pipe.
        if let Some(handle) = Handle::try_current() {
            if let Some(fd) = registry::pipe_read_fd() {
                // Registration can only fail if the driver is shutting down; then no wake-up
                // can come from it anyway and another driver's registration still applies.
                let _ = handle.inner.register_signal_pipe(fd);
            }
        }
        match registry::poll_delivery(self.signum, self.listener, self.seen, cx) {
            Some(now) => {
                self.seen = now;
                Poll::Ready(Some(()))
            }
            None => Poll::Pending,
        }
    }
}

impl Drop for Signal {
    fn drop(&mut self) {
        registry::unsubscribe(self.signum, self.listener);
    }
}

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signal")
            .field("signum", &self.signum)
            .field("seen", &self.seen)
            .finish()
    }
}
