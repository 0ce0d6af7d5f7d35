//! [`Command`]: what to run and how, as in tokio (a thin layer over
//! `std::process::Command`, whose fork/exec and error reporting it reuses).

use std::ffi::OsStr;
use std::fmt;
use std::io;
use std::path::Path;
use std::process::{ExitStatus, Output, Stdio};

use super::child::{Child, Process};
use super::exit_watch::ExitWatch;
#[cfg(unix)]
use super::orphan;
use super::pipes::{ChildStderr, ChildStdin, ChildStdout};

/// A process builder: program, arguments, environment, working directory
/// and stdio, then [`spawn`](Command::spawn), [`status`](Command::status)
/// or [`output`](Command::output).
///
/// By default the child inherits this process's stdin, stdout and stderr
/// (`output` pipes stdout and stderr and closes stdin instead).
///
/// ```no_run
/// use minirt::process::Command;
///
/// # async fn demo() -> std::io::Result<()> {
/// let output = Command::new("sh").args(["-c", "echo $GREETING"]).env("GREETING", "hi").output().await?;
/// assert!(output.status.success());
/// assert_eq!(output.stdout, b"hi\n");
/// # Ok(()) }
/// ```
pub struct Command {
    std: std::process::Command,
    kill_on_drop: bool,
    /// Whether the user chose stdin (else `output` gives the child none).
    stdin_set: bool,
}

impl Command {
    /// Starts a builder for `program` (looked up in `PATH` unless it
    /// contains a `/`).
    ///
    /// ```
    /// let cmd = minirt::process::Command::new("ls");
    /// assert_eq!(cmd.as_std().get_program(), "ls");
    /// ```
    pub fn new<S: AsRef<OsStr>>(program: S) -> Command {
        Command::from(std::process::Command::new(program))
    }

    /// Adds one argument.
    ///
    /// ```
    /// let mut cmd = minirt::process::Command::new("ls");
    /// cmd.arg("-l");
    /// assert_eq!(cmd.as_std().get_args().collect::<Vec<_>>(), ["-l"]);
    /// ```
    pub fn arg<S: AsRef<OsStr>>(&mut self, arg: S) -> &mut Command {
        self.std.arg(arg);
        self
    }

    /// Adds several arguments.
    ///
    /// ```
    /// let mut cmd = minirt::process::Command::new("ls");
    /// cmd.args(["-l", "/tmp"]);
    /// assert_eq!(cmd.as_std().get_args().count(), 2);
    /// ```
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.std.args(args);
        self
    }

    /// Sets an environment variable for the child.
    ///
    /// ```
    /// let mut cmd = minirt::process::Command::new("env");
    /// cmd.env("LANG", "C");
    /// ```
    pub fn env<K: AsRef<OsStr>, V: AsRef<OsStr>>(&mut self, key: K, val: V) -> &mut Command {
        self.std.env(key, val);
        self
    }

    /// Sets several environment variables.
    ///
    /// ```
    /// let mut cmd = minirt::process::Command::new("env");
    /// cmd.envs([("A", "1"), ("B", "2")]);
    /// ```
    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Command
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.std.envs(vars);
        self
    }

    /// Removes an environment variable from the child's environment.
    ///
    /// ```
    /// let mut cmd = minirt::process::Command::new("env");
    /// cmd.env_remove("HOME");
    /// ```
    pub fn env_remove<K: AsRef<OsStr>>(&mut self, key: K) -> &mut Command {
        self.std.env_remove(key);
        self
    }

    /// Starts the child with an empty environment (plus what
    /// [`env`](Command::env) adds afterwards).
    ///
    /// ```
    /// let mut cmd = minirt::process::Command::new("/usr/bin/env");
    /// cmd.env_clear().env("ONLY", "this");
    /// ```
    pub fn env_clear(&mut self) -> &mut Command {
        self.std.env_clear();
        self
    }

    /// Sets the child's working directory.
    ///
    /// ```
    /// let mut cmd = minirt::process::Command::new("ls");
    /// cmd.current_dir("/tmp");
    /// ```
    pub fn current_dir<P: AsRef<Path>>(&mut self, dir: P) -> &mut Command {
        self.std.current_dir(dir);
        self
    }

    /// Sets the child's stdin: `Stdio::piped()` to write to it through
    /// [`Child::stdin`], `Stdio::null()`, or `Stdio::inherit()` (the default).
    ///
    /// ```
    /// use minirt::process::{Command, Stdio};
    /// let mut cmd = Command::new("cat");
    /// cmd.stdin(Stdio::piped());
    /// ```
    pub fn stdin<T: Into<Stdio>>(&mut self, cfg: T) -> &mut Command {
        self.std.stdin(cfg);
        self.stdin_set = true;
        self
    }

    /// Sets the child's stdout (see [`stdin`](Command::stdin)).
    ///
    /// ```
    /// use minirt::process::{Command, Stdio};
    /// let mut cmd = Command::new("ls");
    /// cmd.stdout(Stdio::piped());
    /// ```
    pub fn stdout<T: Into<Stdio>>(&mut self, cfg: T) -> &mut Command {
        self.std.stdout(cfg);
        self
    }

    /// Sets the child's stderr (see [`stdin`](Command::stdin)).
    ///
    /// ```
    /// use minirt::process::{Command, Stdio};
    /// let mut cmd = Command::new("ls");
    /// cmd.stderr(Stdio::null());
    /// ```
    pub fn stderr<T: Into<Stdio>>(&mut self, cfg: T) -> &mut Command {
        self.std.stderr(cfg);
        self
    }

    /// Whether dropping the [`Child`] (or a `status`/`output` future) before
    /// the process exited kills it (`SIGKILL`). Off by default: the process
    /// keeps running, and is reaped when it exits either way.
    ///
    /// ```
    /// let mut cmd = minirt::process::Command::new("sleep");
    /// cmd.arg("60").kill_on_drop(true);
    /// assert!(cmd.get_kill_on_drop());
    /// ```
    pub fn kill_on_drop(&mut self, kill_on_drop: bool) -> &mut Command {
        self.kill_on_drop = kill_on_drop;
        self
    }

    /// Whether [`kill_on_drop`](Command::kill_on_drop) is set.
    ///
    /// ```
    /// assert!(!minirt::process::Command::new("ls").get_kill_on_drop());
    /// ```
    pub fn get_kill_on_drop(&self) -> bool {
        self.kill_on_drop
    }

    /// The std builder inside, to read what is set.
    ///
    /// ```
    /// let cmd = minirt::process::Command::new("ls");
    /// assert_eq!(cmd.as_std().get_program(), "ls");
    /// ```
    pub fn as_std(&self) -> &std::process::Command {
        &self.std
    }

    /// The std builder inside, for options minirt does not wrap
    /// (`std::os::unix::process::CommandExt::groups`, ...).
    ///
    /// ```
    /// use std::os::unix::process::CommandExt;
    /// let mut cmd = minirt::process::Command::new("ls");
    /// cmd.as_std_mut().arg0("list");
    /// ```
    pub fn as_std_mut(&mut self) -> &mut std::process::Command {
        &mut self.std
    }

    /// Runs the child as user `id` (`setuid` before `exec`; Unix only).
    ///
    /// ```no_run
    /// let mut cmd = minirt::process::Command::new("id");
    /// cmd.uid(65534); // spawning fails with PermissionDenied unless allowed
    /// ```
    #[cfg(unix)]
    pub fn uid(&mut self, id: u32) -> &mut Command {
        std::os::unix::process::CommandExt::uid(&mut self.std, id);
        self
    }

    /// Runs the child with group `id` (`setgid` before `exec`; Unix only).
    ///
    /// ```no_run
    /// let mut cmd = minirt::process::Command::new("id");
    /// cmd.gid(65534);
    /// ```
    #[cfg(unix)]
    pub fn gid(&mut self, id: u32) -> &mut Command {
        std::os::unix::process::CommandExt::gid(&mut self.std, id);
        self
    }

    /// Puts the child in process group `pgroup` (`setpgid`; 0 makes a new
    /// group led by the child), so that a signal to that group reaches it
    /// and not this process. Unix only.
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// minirt::block_on(async {
    ///     let status = minirt::process::Command::new("true").process_group(0).status().await?;
    ///     assert!(status.success());
    ///     Ok(())
    /// })
    /// # }
    /// ```
    #[cfg(unix)]
    pub fn process_group(&mut self, pgroup: i32) -> &mut Command {
        std::os::unix::process::CommandExt::process_group(&mut self.std, pgroup);
        self
    }

    /// Sets the child's `argv[0]` (what it sees as its own name), keeping
    /// the program that is run. Unix only.
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// let out = minirt::block_on(async {
    ///     minirt::process::Command::new("sh")
    ///         .arg0("renamed")
    ///         .args(["-c", "echo $0"])
    ///         .output()
    ///         .await
    /// })?;
    /// assert_eq!(out.stdout, b"renamed\n");
    /// # Ok(()) }
    /// ```
    #[cfg(unix)]
    pub fn arg0<S: AsRef<OsStr>>(&mut self, arg: S) -> &mut Command {
        std::os::unix::process::CommandExt::arg0(&mut self.std, arg);
        self
    }

    /// Runs `f` in the child after `fork` and before `exec`
    /// (`std::os::unix::process::CommandExt::pre_exec`). Unix only.
    ///
    /// # Safety
    ///
    /// As std's: `f` runs in a forked copy of this process where only the
    /// calling thread exists, so it must be async-signal-safe (no
    /// allocation, no locks another thread may hold, no minirt calls).
    ///
    /// ```no_run
    /// let mut cmd = minirt::process::Command::new("true");
    /// // SAFETY: the closure only returns; it allocates nothing and takes
    /// // no lock.
    /// unsafe {
    ///     cmd.pre_exec(|| Ok(()));
    /// }
    /// ```
    #[cfg(unix)]
    pub unsafe fn pre_exec<F>(&mut self, f: F) -> &mut Command
    where
        F: FnMut() -> io::Result<()> + Send + Sync + 'static,
    {
        // SAFETY: the caller upholds `CommandExt::pre_exec`'s contract,
        // which this method's documentation repeats.
        unsafe { std::os::unix::process::CommandExt::pre_exec(&mut self.std, f) };
        self
    }

    /// Sets the process creation flags (`CREATE_NO_WINDOW`, ...; see
    /// `std::os::windows::process::CommandExt::creation_flags`). Windows
    /// only.
    ///
    /// ```no_run
    /// const CREATE_NO_WINDOW: u32 = 0x0800_0000;
    /// let mut cmd = minirt::process::Command::new("cmd");
    /// cmd.creation_flags(CREATE_NO_WINDOW);
    /// ```
    #[cfg(windows)]
    pub fn creation_flags(&mut self, flags: u32) -> &mut Command {
        std::os::windows::process::CommandExt::creation_flags(&mut self.std, flags);
        self
    }

    /// Appends `text` to the command line as is, without the quoting that
    /// [`arg`](Command::arg) applies (for programs such as `cmd /c` that
    /// parse their command line themselves). Windows only.
    ///
    /// ```no_run
    /// let mut cmd = minirt::process::Command::new("cmd");
    /// cmd.arg("/c").raw_arg("\"echo a b\"");
    /// ```
    #[cfg(windows)]
    pub fn raw_arg<S: AsRef<OsStr>>(&mut self, text: S) -> &mut Command {
        std::os::windows::process::CommandExt::raw_arg(&mut self.std, text);
        self
    }

    /// Starts the process. Its exit is watched by the current runtime's
    /// reactor (a pidfd on Linux, `SIGCHLD` on other Unixes, the system
    /// thread pool's wait on the process handle on Windows); piped stdio becomes
    /// [`ChildStdin`] / [`ChildStdout`] / [`ChildStderr`].
    ///
    /// # Errors
    ///
    /// An `io::Error` whose message names the program: `NotFound` for a
    /// program that does not exist, `PermissionDenied` for one that is not
    /// executable, and any other OS error of `fork`/`exec`. The error's kind
    /// is the OS error's; the OS code itself is only in the message.
    ///
    /// # Panics
    ///
    /// Outside a minirt runtime (checked before anything is started).
    ///
    /// ```no_run
    /// # async fn demo() -> std::io::Result<()> {
    /// let err = minirt::process::Command::new("no-such-program").spawn().unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    /// assert!(err.to_string().contains("no-such-program"));
    /// # Ok(()) }
    /// ```
    pub fn spawn(&mut self) -> io::Result<Child> {
        // Panics now, with the runtime's message, rather than after the
        // process has started.
        drop(minirt_reactor::Handle::current());
        #[cfg(unix)]
        orphan::reap_exited();
        let program = self.std.get_program().to_os_string();
        let mut std_child = self.std.spawn().map_err(|err| {
            io::Error::new(
                err.kind(),
                format!("failed to spawn `{}`: {err}", program.to_string_lossy()),
            )
        })?;
        // From here on an error must not leak the process: `Process`'s drop
        // (or the orphan queue) reaps it.
        let stdin = std_child.stdin.take();
        let stdout = std_child.stdout.take();
        let stderr = std_child.stderr.take();
        let watch = match ExitWatch::new(&std_child) {
            Ok(watch) => watch,
            Err(err) => {
                if self.kill_on_drop {
                    let _ = std_child.kill();
                }
                #[cfg(unix)]
                orphan::adopt(libc::pid_t::try_from(std_child.id()).expect("pid fits"));
                return Err(err);
            }
        };
        let process = Process::new(std_child, watch, program);
        let mut child = Child::new(process, (None, None, None), self.kill_on_drop);
        // On an error here `child` drops: killed if asked, reaped either way.
        child.stdin = stdin.map(ChildStdin::from_std).transpose()?;
        child.stdout = stdout.map(ChildStdout::from_std).transpose()?;
        child.stderr = stderr.map(ChildStderr::from_std).transpose()?;
        Ok(child)
    }

    /// Runs the process to completion and returns its exit status. Its stdio
    /// is as configured (inherited by default); pipes, if asked for, are
    /// closed at once.
    ///
    /// Cancellation: dropping the future drops the [`Child`]: it is killed
    /// if [`kill_on_drop`](Command::kill_on_drop) is set, and reaped either
    /// way.
    ///
    /// # Errors
    ///
    /// As [`spawn`](Command::spawn) and [`Child::wait`].
    ///
    /// ```no_run
    /// # async fn demo() -> std::io::Result<()> {
    /// let status = minirt::process::Command::new("sh").args(["-c", "exit 3"]).status().await?;
    /// assert_eq!(status.code(), Some(3));
    /// # Ok(()) }
    /// ```
    pub async fn status(&mut self) -> io::Result<ExitStatus> {
        let mut child = self.spawn()?;
        drop(child.stdin.take());
        drop(child.stdout.take());
        drop(child.stderr.take());
        child.wait().await
    }

    /// Runs the process to completion, collecting its stdout and stderr
    /// (both set to piped, as in tokio; stdin is null unless set).
    ///
    /// Cancellation: as [`status`](Command::status).
    ///
    /// # Errors
    ///
    /// As [`spawn`](Command::spawn) and [`Child::wait_with_output`]. A
    /// failing exit status is not an error: check `output.status`.
    ///
    /// ```no_run
    /// # async fn demo() -> std::io::Result<()> {
    /// let out = minirt::process::Command::new("echo").arg("hello").output().await?;
    /// assert_eq!(out.stdout, b"hello\n");
    /// # Ok(()) }
    /// ```
    pub async fn output(&mut self) -> io::Result<Output> {
        if !self.stdin_set {
            self.std.stdin(Stdio::null());
        }
        self.std.stdout(Stdio::piped());
        self.std.stderr(Stdio::piped());
        self.spawn()?.wait_with_output().await
    }
}

impl From<std::process::Command> for Command {
    /// Wraps a std builder (its stdin counts as unset for `output`).
    fn from(std: std::process::Command) -> Command {
        Command {
            std,
            kill_on_drop: false,
            stdin_set: false,
        }
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Command")
            .field("std", &self.std)
            .field("kill_on_drop", &self.kill_on_drop)
            .finish()
    }
}
