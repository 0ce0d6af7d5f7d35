//! Child processes with `.await`: [`Command`], [`Child`] and piped stdio,
//! with tokio's names and meanings.
//!
//! Why: running a few commands at once from a synchronous program is one of
//! the things minirt exists for. std's `Child::wait` and its pipes block a
//! thread per child; here a child's exit and its pipes are events in the
//! reactor, so fifty children cost fifty small registrations, not fifty
//! threads.
//!
//! ```
//! use minirt::process::Command;
//!
//! // Two commands at once, from plain synchronous code.
//! let (mut one, mut two) = (Command::new("echo"), Command::new("echo"));
//! one.arg("one");
//! two.arg("two");
//! let (one, two) = minirt::block_on(async { minirt::join!(one.output(), two.output()) });
//! assert_eq!(one?.stdout, b"one\n");
//! assert_eq!(two?.stdout, b"two\n");
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # How an exit is observed
//!
//! On Linux each child gets a **pidfd** (`pidfd_open`), registered with the
//! reactor; it becomes readable when the process exits, and then the status
//! is collected with a non-blocking `waitpid`. Where pidfds are missing
//! (macOS, Linux before 5.3, a sandbox that refuses the syscall) or the
//! environment variable `MINIRT_NO_PIDFD` is set, minirt listens for
//! `SIGCHLD` through its signal self-pipe instead
//! ([`signal`](crate::signal)) and, on every `SIGCHLD`, tries a
//! non-blocking `waitpid` for each waiting child. (Note that this installs
//! minirt's `SIGCHLD` handler for the rest of the process.)
//!
//! # No zombies
//!
//! (Unix; Windows has no zombies.) A [`Child`] dropped before its process exited is still reaped: it
//! leaves a small reaper task on the current runtime, which waits for the
//! exit. If that runtime shuts down first, or there was none, the id goes
//! to an orphan queue that every later spawn, `SIGCHLD` and completed wait
//! sweeps. [`Command::kill_on_drop`] kills the process first.
//!
//! # Mock clock
//!
//! A child's pidfd (or the signal pipe) counts as registered I/O, so under
//! an auto-advancing mock clock virtual time moves only after the runtime
//! has been idle for the clock's autojump threshold of real time, and a
//! [`timeout`](crate::time::timeout) around [`Child::wait`] fires in
//! virtual time while the real process keeps running.
//!
//! # Platforms
//!
//! Unix (Linux and macOS) and Windows. On Unix,
//! `ExitStatusExt::signal` (`std::os::unix::process::ExitStatusExt`)
//! tells which signal ended a child. On Windows an exit is observed with
//! `RegisterWaitForSingleObject` (the system thread pool waits on the
//! process handle; no thread per child), there are no zombies to reap,
//! "kill" is `TerminateProcess`, and piped stdio runs on the blocking pool,
//! since std's anonymous pipes cannot do overlapped I/O (the module docs
//! of each pipe type say more). The Unix builder options (`uid`,
//! `process_group`, `pre_exec`, ...) are Unix only, and Windows has
//! `creation_flags` and `raw_arg` instead.

mod child;
mod command;
#[cfg(unix)]
mod exit_watch;
#[cfg(windows)]
#[path = "exit_watch_windows.rs"]
mod exit_watch;
#[cfg(unix)]
mod orphan;
#[cfg(unix)]
mod pipes;
#[cfg(windows)]
#[path = "pipes_windows.rs"]
mod pipes;

pub use child::Child;
pub use command::Command;
pub use pipes::{ChildStderr, ChildStdin, ChildStdout};
pub use std::process::{ExitStatus, Output, Stdio};
