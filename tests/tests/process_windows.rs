//! `minirt::process` on Windows, on both runtimes: exit codes, output,
//! piped stdin and stdout through the blocking pool, kills, `try_wait`,
//! `kill_on_drop`, and a `timeout` around `wait` on the mock clock. Run
//! under Wine in CI (`.ci/wine.sh`), so it uses only what Wine ships:
//! `cmd`'s built-ins and `find`.
#![cfg(windows)]

use std::time::Duration;

use minirt::io::{AsyncReadExt, AsyncWriteExt};
use minirt::process::{Command, Stdio};
use minirt::time::{sleep, timeout, Instant};
use minirt_tests::{bounded, mock_runtimes, on_each_runtime};

const LIMIT: Duration = Duration::from_secs(120);

/// A child that runs until it is killed: `cmd` waiting for a line on a
/// stdin nobody writes to. (Take the stdin out of the `Child` and keep it:
/// `wait` and a drop close it, and the child then exits by itself.)
fn waits_forever() -> Command {
    let mut cmd = Command::new("cmd");
    cmd.args(["/c", "set /p line="]).stdin(Stdio::piped());
    cmd
}

#[test]
fn status_and_output_report_what_the_child_did() {
    on_each_runtime(LIMIT, || async {
        let three = Command::new("cmd")
            .args(["/c", "exit 3"])
            .status()
            .await
            .unwrap();
        assert_eq!(three.code(), Some(3));
        assert!(!three.success());

        let out = Command::new("cmd")
            .args(["/c", "echo to-out& echo to-err 1>&2"])
            .output()
            .await
            .unwrap();
        assert!(out.status.success());
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "to-out");
        assert_eq!(String::from_utf8_lossy(&out.stderr).trim(), "to-err");
    });
}

#[test]
fn piped_stdin_and_stdout_carry_every_line() {
    on_each_runtime(LIMIT, || async {
        let mut child = Command::new("find")
            .arg("minirt")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let lines = 2_000;
        let writer = minirt::spawn(async move {
            for i in 0..lines {
                stdin
                    .write_all(format!("minirt {i}\nskipped\n").as_bytes())
                    .await?;
            }
            stdin.shutdown().await
        });
        let mut text = String::new();
        stdout.read_to_string(&mut text).await.unwrap();
        writer.await.unwrap().unwrap();
        assert!(child.wait().await.unwrap().success());
        let kept: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
        assert_eq!(kept.len(), lines, "{:?}", &kept[..kept.len().min(3)]);
        assert_eq!(kept[0], "minirt 0");
        assert_eq!(kept[lines - 1], format!("minirt {}", lines - 1));
    });
}

#[test]
fn kill_ends_a_running_child_and_try_wait_sees_it() {
    on_each_runtime(LIMIT, || async {
        let mut child = waits_forever().spawn().unwrap();
        let _open_stdin = child.stdin.take();
        assert!(child.id().is_some());
        assert!(child.try_wait().unwrap().is_none(), "exited on its own");
        child.kill().await.unwrap();
        let status = child.try_wait().unwrap().expect("killed and waited");
        assert!(!status.success());
        assert_eq!(child.id(), None);
        let err = child.start_kill().unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{err}");
    });
}

#[test]
fn a_missing_program_is_an_error_that_names_it() {
    on_each_runtime(LIMIT, || async {
        let err = Command::new("no-such-program-minirt").spawn().unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound, "{err}");
        assert!(err.to_string().contains("no-such-program-minirt"), "{err}");
    });
}

#[test]
fn kill_on_drop_kills_and_a_plain_drop_does_not() {
    on_each_runtime(LIMIT, || async {
        // Dropped with kill_on_drop: the wait on its stdout ends (the pipe
        // closes when the process dies).
        let mut child = waits_forever()
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let _open_stdin = child.stdin.take();
        let mut stdout = child.stdout.take().unwrap();
        drop(child);
        let mut rest = Vec::new();
        stdout.read_to_end(&mut rest).await.unwrap();

        // Dropped without it, the child lives on: its stdin still takes a
        // line, and then it exits by itself.
        let mut child = Command::new("cmd")
            .args(["/c", "set /p line=& echo got %line%"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let mut stdout = child.stdout.take().unwrap();
        drop(child);
        stdin.write_all(b"hello\r\n").await.unwrap();
        stdin.shutdown().await.unwrap();
        let mut text = String::new();
        stdout.read_to_string(&mut text).await.unwrap();
        assert_eq!(text.trim(), "got hello");
    });
}

#[test]
fn a_timeout_around_wait_fires_in_virtual_time() {
    bounded(LIMIT, || {
        for rt in mock_runtimes() {
            rt.block_on(async {
                let mut child = waits_forever().spawn().unwrap();
                let _open_stdin = child.stdin.take();
                let start = Instant::now();
                let waited = timeout(Duration::from_secs(3600), child.wait()).await;
                assert!(waited.is_err(), "the child cannot have exited");
                assert_eq!(start.elapsed(), Duration::from_secs(3600));
                child.kill().await.unwrap();
                // The clock still works after the child is gone.
                sleep(Duration::from_secs(1)).await;
            });
        }
    });
}
