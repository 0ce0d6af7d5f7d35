//! [`Child`]: a spawned process, its pipes, and how it is waited for and
//! reaped.
//!
//! # The child's states
//!
//! ```text
//!  spawn ──▶ running ──(exit observed: wait / try_wait)──▶ reaped (status kept)
//!               │
//!               └──(Child dropped)──▶ kill if kill_on_drop ──▶ reaper task
//!                                        (on the runtime) ──exit──▶ reaped
//!                                     (no runtime / runtime gone) ──▶ orphan queue
//! ```
//!
//! A status, once observed, is kept: `wait` and `try_wait` return it again,
//! and no second `waitpid` is made on an id that may belong to someone else
//! by then.

use std::ffi::OsString;
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::process::{ExitStatus, Output};
use std::task::{Context, Poll};

use super::exit_watch::ExitWatch;
#[cfg(unix)]
use super::orphan;
use super::pipes::{ChildStderr, ChildStdin, ChildStdout};
use crate::io::AsyncReadExt;

/// A child process spawned by [`Command::spawn`](super::Command::spawn), as
/// in tokio.
///
/// Dropping a `Child` neither waits for nor kills the process (unless
/// [`kill_on_drop`](super::Command::kill_on_drop) was set), but it is still
/// reaped when it exits: no zombie is left behind.
///
/// ```no_run
/// use minirt::process::Command;
///
/// # async fn demo() -> std::io::Result<()> {
/// let mut child = Command::new("sleep").arg("1").spawn()?;
/// println!("started {:?}", child.id());
/// let status = child.wait().await?;
/// assert!(status.success());
/// # Ok(()) }
/// ```
pub struct Child {
    /// The child's stdin, if it was spawned with `stdin(Stdio::piped())`.
    pub stdin: Option<ChildStdin>,
    /// The child's stdout, if it was spawned with `stdout(Stdio::piped())`.
    pub stdout: Option<ChildStdout>,
    /// The child's stderr, if it was spawned with `stderr(Stdio::piped())`.
    pub stderr: Option<ChildStderr>,
    /// `None` only while being dropped.
    process: Option<Process>,
    /// Kill the process if the `Child` is dropped before it exited.
    kill_on_drop: bool,
}

/// The process itself: std's handle, what tells us it exited, and the status
/// once known.
pub(super) struct Process {
    /// Declared (so dropped) before `std`: on Windows it holds a wait on
    /// the process handle, which must end first.
    watch: ExitWatch,
    std: std::process::Child,
    status: Option<ExitStatus>,
    /// For error messages.
    program: OsString,
}

impl Process {
    pub(super) fn new(std: std::process::Child, watch: ExitWatch, program: OsString) -> Process {
        Process {
            std,
            watch,
            status: None,
            program,
        }
    }

    fn poll_wait(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<ExitStatus>> {
        if let Some(status) = self.status {
            return Poll::Ready(Ok(status));
        }
        let status = std::task::ready!(self.watch.poll_exit(cx, &mut self.std))?;
        self.status = Some(status);
        Poll::Ready(Ok(status))
    }

    fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        if self.status.is_none() {
            self.status = self.std.try_wait()?;
        }
        Ok(self.status)
    }

    fn start_kill(&mut self) -> io::Result<()> {
        if self.try_wait()?.is_some() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "cannot kill `{}`: the process has already exited",
                    self.program.to_string_lossy()
                ),
            ));
        }
        // Not reaped yet, so the id is still this process's (a zombie at worst).
        self.std.kill()
    }
}

#[cfg(unix)]
impl Drop for Process {
    /// A process dropped before its exit was observed goes to the orphan
    /// queue, to be reaped later.
    fn drop(&mut self) {
        if !matches!(self.try_wait(), Ok(Some(_))) {
            let pid = libc::pid_t::try_from(self.std.id()).expect("pids fit in pid_t");
            orphan::adopt(pid);
        }
    }
}

impl Child {
    pub(super) fn new(
        process: Process,
        stdio: (Option<ChildStdin>, Option<ChildStdout>, Option<ChildStderr>),
        kill_on_drop: bool,
    ) -> Child {
        Child {
            stdin: stdio.0,
            stdout: stdio.1,
            stderr: stdio.2,
            process: Some(process),
            kill_on_drop,
        }
    }

    fn process(&mut self) -> &mut Process {
        self.process
            .as_mut()
            .expect("Child has its process until dropped")
    }

    /// The OS process id, or `None` once the exit was observed (the id may
    /// belong to another process by then).
    ///
    /// ```no_run
    /// # async fn demo() -> std::io::Result<()> {
    /// let mut child = minirt::process::Command::new("true").spawn()?;
    /// assert!(child.id().is_some());
    /// child.wait().await?;
    /// assert_eq!(child.id(), None);
    /// # Ok(()) }
    /// ```
    pub fn id(&self) -> Option<u32> {
        let process = self.process.as_ref()?;
        match process.status {
            Some(_) => None,
            None => Some(process.std.id()),
        }
    }

    /// Waits for the process to exit and returns its status. Closes the
    /// child's stdin first (if piped and still held here), so a child that
    /// reads its input to the end cannot deadlock the wait.
    ///
    /// Cancellation safe: dropping the future loses nothing, and a later
    /// `wait` (or `try_wait`) still sees the exit. Once observed, the status
    /// is kept and returned again by every later call.
    ///
    /// # Errors
    ///
    /// The OS error of `waitpid` or of the reactor (rare).
    ///
    /// ```no_run
    /// # async fn demo() -> std::io::Result<()> {
    /// let status = minirt::process::Command::new("false").spawn()?.wait().await?;
    /// assert_eq!(status.code(), Some(1));
    /// # Ok(()) }
    /// ```
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        drop(self.stdin.take());
        let process = self.process();
        poll_fn(|cx| process.poll_wait(cx)).await
    }

    /// The exit status if the process has exited, else `Ok(None)`; never
    /// waits.
    ///
    /// # Errors
    ///
    /// The OS error of `waitpid`.
    ///
    /// ```no_run
    /// # async fn demo() -> std::io::Result<()> {
    /// let mut child = minirt::process::Command::new("sleep").arg("5").spawn()?;
    /// assert!(child.try_wait()?.is_none());
    /// child.kill().await?;
    /// assert!(child.try_wait()?.is_some());
    /// # Ok(()) }
    /// ```
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        self.process().try_wait()
    }

    /// Sends `SIGKILL` (on Windows, `TerminateProcess`) without waiting for
    /// the exit; follow with
    /// [`wait`](Child::wait) to reap the process (or drop the `Child`: it is
    /// reaped anyway).
    ///
    /// # Errors
    ///
    /// `InvalidInput` naming the program if its exit was already observed;
    /// the OS error of `kill` otherwise.
    ///
    /// ```no_run
    /// # async fn demo() -> std::io::Result<()> {
    /// let mut child = minirt::process::Command::new("sleep").arg("60").spawn()?;
    /// child.start_kill()?;
    /// let status = child.wait().await?;
    /// assert!(!status.success());
    /// # Ok(()) }
    /// ```
    pub fn start_kill(&mut self) -> io::Result<()> {
        self.process().start_kill()
    }

    /// Sends `SIGKILL` (on Windows, `TerminateProcess`) and waits for the
    /// process to exit.
    ///
    /// Cancellation safe in the sense of [`wait`](Child::wait): if dropped
    /// after the signal was sent, the process still dies and is reaped by a
    /// later `wait` or after the `Child` is dropped.
    ///
    /// # Errors
    ///
    /// As [`start_kill`](Child::start_kill) and [`wait`](Child::wait).
    ///
    /// ```no_run
    /// # async fn demo() -> std::io::Result<()> {
    /// let mut child = minirt::process::Command::new("sleep").arg("60").spawn()?;
    /// child.kill().await?;
    /// # Ok(()) }
    /// ```
    pub async fn kill(&mut self) -> io::Result<()> {
        self.start_kill()?;
        self.wait().await?;
        Ok(())
    }

    /// Waits for the exit while reading all of stdout and stderr (those
    /// that are piped; the others come back empty), as
    /// [`Command::output`](super::Command::output) does. Closes stdin first.
    ///
    /// Cancellation: dropping the future drops the child (see the type's
    /// docs) and whatever output was read so far.
    ///
    /// # Errors
    ///
    /// The first error of the wait or of either read; a child that closes
    /// its stdout early is not an error (the output simply ends there).
    ///
    /// ```no_run
    /// use minirt::process::{Command, Stdio};
    ///
    /// # async fn demo() -> std::io::Result<()> {
    /// let child = Command::new("echo").arg("hi").stdout(Stdio::piped()).spawn()?;
    /// let output = child.wait_with_output().await?;
    /// assert_eq!(output.stdout, b"hi\n");
    /// # Ok(()) }
    /// ```
    pub async fn wait_with_output(mut self) -> io::Result<Output> {
        drop(self.stdin.take());
        let stdout = self.stdout.take();
        let stderr = self.stderr.take();
        let (status, stdout, stderr) =
            crate::join!(self.wait(), read_all(stdout), read_all(stderr));
        Ok(Output {
            status: status?,
            stdout: stdout?,
            stderr: stderr?,
        })
    }
}

/// Everything `pipe` yields until end of file (nothing if there is no pipe).
async fn read_all<R: crate::io::AsyncRead + Unpin>(pipe: Option<R>) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    if let Some(mut pipe) = pipe {
        pipe.read_to_end(&mut bytes).await?;
    }
    Ok(bytes)
}

impl Drop for Child {
    /// Kills the process if `kill_on_drop` was set; then, on Unix, if it
    /// has not exited yet, leaves a reaper task on the current runtime (or,
    /// without one, queues it as an orphan) so it is reaped when it exits.
    fn drop(&mut self) {
        let Some(mut process) = self.process.take() else {
            return;
        };
        if matches!(process.try_wait(), Ok(Some(_))) {
            return;
        }
        if self.kill_on_drop {
            let _ = process.start_kill();
        }
        // Windows has no zombies: closing the handles is all there is to do.
        #[cfg(windows)]
        drop(process);
        #[cfg(unix)]
        match crate::runtime::Handle::try_current() {
            Some(handle) => {
                // If the runtime drops the task before the exit (shutdown),
                // `Process`'s own `Drop` queues it as an orphan.
                drop(handle.spawn(async move {
                    let _ = poll_fn(|cx| process.poll_wait(cx)).await;
                }));
            }
            None => drop(process),
        }
    }
}

impl fmt::Debug for Child {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let process = self.process.as_ref();
        f.debug_struct("Child")
            .field("program", &process.map(|p| &p.program))
            .field("id", &self.id())
            .field("status", &process.and_then(|p| p.status))
            .field("stdin", &self.stdin)
            .field("stdout", &self.stdout)
            .field("stderr", &self.stderr)
            .field("kill_on_drop", &self.kill_on_drop)
            .finish()
    }
}
