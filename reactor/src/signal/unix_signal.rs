//! Unix: [`Signal`], a listener for any catchable signal, and [`signal`].

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::task::{Context, Poll};

use super::listener::Listener;
use super::{self_pipe, SignalKind};
use crate::driver::Handle;

/// A listener for one kind of signal, created by [`signal`].
///
/// Each listener sees every delivery made after it was created; dropping it
/// unsubscribes it (the process-wide handler stays installed).
///
/// Unix only: on Windows, use [`ctrl_c`](super::ctrl_c).
pub struct Signal {
    /// The subscription in the process-wide delivery table.
    listener: Listener,
}

/// Starts listening for `kind`, installing minirt's handler for it on first use.
///
/// Unix only: on Windows, use [`ctrl_c`](super::ctrl_c).
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
///
/// ```no_run
/// use minirt_reactor::signal::{signal, SignalKind};
///
/// async fn reload_on_hangup() -> std::io::Result<()> {
///     let mut hangup = signal(SignalKind::hangup())?;
///     while hangup.recv().await.is_some() {
///         println!("reloading configuration");
///     }
///     Ok(())
/// }
/// ```
pub fn signal(kind: SignalKind) -> io::Result<Signal> {
    let handle = Handle::current();
    let signum = self_pipe::validate(kind.as_raw())?;
    let pipe_fd = self_pipe::install(signum)?;
    handle.inner.register_signal_pipe(pipe_fd)?;
    Ok(Signal {
        listener: Listener::subscribe(signum),
    })
}

impl Signal {
    /// Waits for the next delivery of the signal (one made after the last
    /// `recv` returned, or after this listener was created).
    ///
    /// Always resolves to `Some(())` today: signals can be delivered for the
    /// life of the process. `None` is reserved for a future "no more signals"
    /// state, as in tokio's API.
    ///
    /// Cancellation safe: dropping the future loses no delivery; the next
    /// `recv` reports it.
    pub async fn recv(&mut self) -> Option<()> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Poll version of [`recv`](Signal::recv).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
        // Whichever driver polls us must be able to read the pipe.
        if let Some(handle) = Handle::try_current() {
            if let Some(fd) = self_pipe::pipe_read_fd() {
                // Registration can only fail if the driver is shutting down; then no wake-up
                // can come from it anyway and another driver's registration still applies.
                let _ = handle.inner.register_signal_pipe(fd);
            }
        }
        self.listener.poll(cx).map(Some)
    }
}

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signal")
            .field("signum", &self.listener.signum())
            .field("seen", &self.listener.seen())
            .finish()
    }
}
