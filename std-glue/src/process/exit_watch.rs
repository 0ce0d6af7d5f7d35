//! How a child's exit is noticed without a thread per child.
//!
//! - **pidfd** (Linux 5.3+): `pidfd_open` gives a descriptor that becomes
//!   readable when the process exits. It is registered with the reactor
//!   like a socket; when it fires, `waitpid(WNOHANG)` (through std's
//!   `try_wait`) collects the status. The pidfd refers to this very process,
//!   and the id cannot be reused before we reap it, so there is no PID-reuse
//!   race.
//! - **SIGCHLD** everywhere else (macOS, older kernels, sandboxes where the
//!   syscall is refused): a listener on minirt's signal self-pipe. Every
//!   `SIGCHLD` wakes every waiting child, which each try `waitpid(WNOHANG)`
//!   on its own id (the OS coalesces `SIGCHLD`s, so one signal may stand for
//!   several exits). The listener exists before the first `try_wait`, so an
//!   exit cannot fall between the two.
//!
//! Setting the environment variable `MINIRT_NO_PIDFD` (to anything) makes
//! children spawned from then on use the `SIGCHLD` path on Linux too; the
//! tests use it to run both paths.

use std::io;
use std::os::unix::net::UnixStream;
use std::process::ExitStatus;
use std::sync::OnceLock;
use std::task::{ready, Context, Poll};

use minirt_reactor::signal::{signal, Signal, SignalKind};

use super::orphan;

/// The environment variable that turns pidfd off (see the module docs).
#[cfg(target_os = "linux")]
const NO_PIDFD_VAR: &str = "MINIRT_NO_PIDFD";

/// What tells us that one child exited.
pub(super) enum ExitWatch {
    /// The child's pidfd, registered for readability.
    #[cfg(target_os = "linux")]
    Pidfd(minirt_reactor::io::unix::AsyncFd<std::os::fd::OwnedFd>),
    /// A `SIGCHLD` listener, and an [`IoAnchor`] so the mock clock treats
    /// the wait as pending I/O.
    Sigchld {
        /// Woken on every `SIGCHLD`.
        listener: Signal,
        /// Held only for its registration.
        _anchor: IoAnchor,
    },
}

impl ExitWatch {
    /// Starts watching `child` (not yet reaped) on the current runtime.
    pub(super) fn new(child: &std::process::Child) -> io::Result<ExitWatch> {
        let pid = child.id();
        #[cfg(target_os = "linux")]
        if std::env::var_os(NO_PIDFD_VAR).is_none() {
            if let Some(pidfd) = pidfd::open(pid) {
                return Ok(ExitWatch::Pidfd(pidfd?));
            }
        }
        let _ = pid;
        Ok(ExitWatch::Sigchld {
            listener: signal(SignalKind::child())?,
            _anchor: IoAnchor::new()?,
        })
    }

    /// Ready with the exit status once `child` has exited and is reaped.
    pub(super) fn poll_exit(
        &mut self,
        cx: &mut Context<'_>,
        child: &mut std::process::Child,
    ) -> Poll<io::Result<ExitStatus>> {
        let status = match self {
            #[cfg(target_os = "linux")]
            ExitWatch::Pidfd(pidfd) => {
                ready!(pidfd.poll_read_io(cx, |_| match child.try_wait()? {
                    Some(status) => Ok(status),
                    None => Err(io::ErrorKind::WouldBlock.into()),
                }))
            }
            ExitWatch::Sigchld { listener, .. } => loop {
                if let Some(status) = child.try_wait()? {
                    break Ok(status);
                }
                // Pending until the next `SIGCHLD` after the listener's
                // creation or its last report; `None` never comes.
                ready!(listener.poll_recv(cx));
                orphan::reap_exited();
            },
        };
        orphan::reap_exited();
        Poll::Ready(status)
    }
}

/// A registration with the reactor that never fires, held while a child is
/// watched through `SIGCHLD`.
///
/// Why: the auto-advancing mock clock jumps at once when no I/O source is
/// registered, and the signal self-pipe is not one (signals are not counted,
/// so that a program's `SIGTERM` listener does not slow every jump). A child
/// process is real, outside work, though: with a pidfd it is counted, and
/// this makes the fallback behave the same — virtual time waits the clock's
/// autojump threshold of real time before it jumps past a child's exit.
/// Costs one descriptor (a `dup` of a process-wide idle socket) per waiting
/// child, on the fallback path only.
pub(super) struct IoAnchor {
    _fd: minirt_reactor::io::unix::AsyncFd<UnixStream>,
}

impl IoAnchor {
    fn new() -> io::Result<IoAnchor> {
        static IDLE: OnceLock<io::Result<(UnixStream, UnixStream)>> = OnceLock::new();
        let (idle, _peer) = match IDLE.get_or_init(UnixStream::pair) {
            Ok(pair) => pair,
            Err(err) => return Err(io::Error::new(err.kind(), err.to_string())),
        };
        let fd = idle.try_clone()?;
        Ok(IoAnchor {
            _fd: minirt_reactor::io::unix::AsyncFd::with_interest(
                fd,
                minirt_reactor::io::unix::Interest::READABLE,
            )?,
        })
    }
}

#[cfg(target_os = "linux")]
mod pidfd {
    use std::io;
    use std::os::fd::{FromRawFd, OwnedFd};

    use minirt_reactor::io::unix::{AsyncFd, Interest};

    /// `pidfd_open(pid)` registered with the reactor; `None` if the kernel
    /// or a sandbox refuses the syscall (use `SIGCHLD` then).
    pub(super) fn open(pid: u32) -> Option<io::Result<AsyncFd<OwnedFd>>> {
        let pid = libc::pid_t::try_from(pid).ok()?;
        // SAFETY: `pidfd_open` takes a pid and flags and returns a new
        // descriptor (close-on-exec) or -1; it touches no memory of ours.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        if fd < 0 {
            // ENOSYS (before Linux 5.3), EPERM (seccomp), ...: fall back.
            return None;
        }
        let fd = libc::c_int::try_from(fd).ok()?;
        // SAFETY: the syscall just returned this descriptor, owned by nobody else.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Some(AsyncFd::with_interest(fd, Interest::READABLE))
    }
}
