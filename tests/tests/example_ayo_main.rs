//! The `ayo_main` example as a real process: `minirt::main_scope` must turn
//! the first `SIGINT`/`SIGTERM` into a cancelled root scope — every worker's
//! destructor runs, the stop hooks run, the exit status is 128 + the signal
//! — and a second signal during a cleanup that hangs must exit at once.
//!
//! Nothing is ordered by sleeping: the example prints `ready` once its
//! signal handlers are installed and its workers spawned, and the test waits
//! for that line (and, for the second signal, for the cleanup lines).
//!
//! The example binary is not built by `cargo test`; build it first with
//! `cargo build --workspace --examples` (same profile as the tests). When it
//! is missing these tests print why and pass without checking anything.
#![cfg(unix)]

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::time::Duration;

use minirt_tests::bounded;

fn example_binary() -> Option<PathBuf> {
    minirt_tests::built_example("ayo_main")
}

/// The running example, killed if the test fails.
struct Example {
    child: Child,
    stdout: BufReader<ChildStdout>,
}

impl Example {
    fn start(binary: PathBuf, args: &[&str]) -> Example {
        let mut child = Command::new(binary)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start ayo_main");
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut example = Example { child, stdout };
        assert_eq!(example.line(), "starting");
        assert_eq!(example.line(), "ready");
        example
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        line.trim_end().to_string()
    }

    fn signal(&self, signum: libc::c_int) {
        // SAFETY: `kill` has no memory-safety preconditions; the child has not
        // been waited for, so its pid still names it.
        let rc = unsafe { libc::kill(self.child.id() as libc::pid_t, signum) };
        assert_eq!(rc, 0, "kill({signum}): {}", std::io::Error::last_os_error());
    }

    /// The lines printed until exit, and the exit status.
    fn finish(mut self) -> (Vec<String>, ExitStatus) {
        let mut rest = String::new();
        self.stdout.read_to_string(&mut rest).unwrap();
        let status = self.child.wait().unwrap();
        (rest.lines().map(str::to_string).collect(), status)
    }
}

impl Drop for Example {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The first `signum` cancels the root scope and the program exits cleanly.
fn first_signal_cancels_the_root_scope(signum: libc::c_int) {
    let Some(binary) = example_binary() else {
        return;
    };
    let example = Example::start(binary, &[]);
    example.signal(signum);
    let (mut lines, status) = example.finish();
    assert_eq!(status.code(), Some(128 + signum), "exit status {status}");
    // The two workers are dropped in parallel: either order.
    lines[1..3].sort();
    assert_eq!(
        lines,
        [
            "stopping",
            "worker 0 cleaned up",
            "worker 1 cleaned up",
            "exiting in 3",
            "exiting in 2",
            "exiting in 1",
        ]
    );
}

#[test]
fn sigint_cancels_the_root_scope_and_exits_130() {
    bounded(Duration::from_secs(60), || {
        first_signal_cancels_the_root_scope(libc::SIGINT)
    });
}

#[test]
fn sigterm_cancels_the_root_scope_and_exits_143() {
    bounded(Duration::from_secs(60), || {
        first_signal_cancels_the_root_scope(libc::SIGTERM)
    });
}

#[test]
fn a_second_signal_during_a_hung_cleanup_exits_at_once() {
    bounded(Duration::from_secs(60), || {
        let Some(binary) = example_binary() else {
            return;
        };
        let mut example = Example::start(binary, &["slow-cleanup"]);
        example.signal(libc::SIGINT);
        let mut cleanup = [example.line(), example.line(), example.line()];
        cleanup.sort();
        assert_eq!(
            cleanup,
            ["stopping", "worker 0 cleaned up", "worker 1 cleaned up"]
        );
        // The shielded task keeps the root scope open: only a second signal ends it.
        example.signal(libc::SIGINT);
        let (lines, status) = example.finish();
        assert_eq!(status.code(), Some(130), "exit status {status}");
        assert!(
            lines.is_empty(),
            "no countdown after a forced exit: {lines:?}"
        );
    });
}
