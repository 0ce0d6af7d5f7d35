//! `minirt::process` under bad input: missing or non-executable programs,
//! a child that closes its pipes early, misuse, and children dropped
//! without waiting (no zombies). Both runtimes; Unix only.
#![cfg(unix)]

use std::io::ErrorKind;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use minirt::io::{AsyncReadExt, AsyncWriteExt};
use minirt::process::{Command, Stdio};
#[cfg(target_os = "linux")]
use minirt_tests::bounded;
use minirt_tests::on_each_runtime;

const LIMIT: Duration = Duration::from_secs(60);

#[test]
fn a_missing_program_is_not_found_and_named() {
    on_each_runtime(LIMIT, || async {
        let err = Command::new("minirt-no-such-program")
            .output()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert!(err.to_string().contains("minirt-no-such-program"), "{err}");
    });
}

#[test]
fn a_non_executable_program_is_permission_denied_and_named() {
    let path = std::env::temp_dir().join(format!("minirt-not-exec-{}", std::process::id()));
    std::fs::write(&path, "#!/bin/sh\necho hi\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let shown = path.display().to_string();
    on_each_runtime(LIMIT, || async {
        let err = Command::new(&path).status().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::PermissionDenied);
        assert!(err.to_string().contains(&shown), "{err}");
    });
    let _ = std::fs::remove_file(&path);
}

#[test]
fn a_child_that_closes_its_pipes_early_gives_eof_and_broken_pipe() {
    on_each_runtime(LIMIT, || async {
        // Closes stdin, then stdout, then keeps running.
        let mut child = Command::new("sh")
            .args(["-c", "exec <&- >&-; exec sleep 60"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut out = Vec::new();
        let n = child
            .stdout
            .as_mut()
            .unwrap()
            .read_to_end(&mut out)
            .await
            .unwrap();
        assert_eq!(n, 0, "end of file, nothing read");
        let big = vec![7u8; 1 << 20];
        let err = child
            .stdin
            .as_mut()
            .unwrap()
            .write_all(&big)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BrokenPipe);
        assert!(child.try_wait().unwrap().is_none(), "the child still runs");
        child.kill().await.unwrap();
    });
}

#[test]
fn writing_after_shutdown_is_broken_pipe() {
    on_each_runtime(LIMIT, || async {
        let mut child = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.as_mut().unwrap();
        stdin.shutdown().await.unwrap();
        let err = stdin.write_all(b"late").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BrokenPipe);
        assert!(child.wait().await.unwrap().success());
    });
}

#[test]
fn killing_an_exited_child_is_invalid_input_naming_it() {
    on_each_runtime(LIMIT, || async {
        let mut child = Command::new("true").spawn().unwrap();
        child.wait().await.unwrap();
        let err = child.start_kill().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.to_string().contains("true"), "{err}");
    });
}

#[test]
#[should_panic(expected = "runtime")]
fn spawning_outside_a_runtime_panics_before_starting_anything() {
    let _ = Command::new("true").spawn();
}

/// Whether `pid` is still a zombie (or live) child of this process.
#[cfg(target_os = "linux")]
fn is_our_child(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false; // reaped (or not Linux: see the callers)
    };
    // After the `(comm)` field: state, ppid.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let mut fields = rest.split(' ');
    let _state = fields.next();
    let ppid: u32 = fields.next().unwrap().parse().unwrap();
    ppid == std::process::id()
}

/// Waits (bounded by the test's watchdog) until none of `pids` is our child.
#[cfg(target_os = "linux")]
async fn until_reaped(pids: &[u32]) {
    while pids.iter().any(|&pid| is_our_child(pid)) {
        minirt::time::sleep(Duration::from_millis(5)).await;
    }
}

#[cfg(target_os = "linux")]
#[test]
fn dropped_children_leave_no_zombies() {
    on_each_runtime(LIMIT, || async {
        let mut pids = Vec::new();
        for _ in 0..5 {
            // Exits as soon as its stdin closes, i.e. when the Child drops.
            let child = Command::new("cat")
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .spawn()
                .unwrap();
            pids.push(child.id().unwrap());
            drop(child);
        }
        // `kill_on_drop`: `sleep 600` would outlive the watchdog otherwise.
        let sleeper = Command::new("sleep")
            .arg("600")
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        pids.push(sleeper.id().unwrap());
        drop(sleeper);
        until_reaped(&pids).await;
    });
}

#[cfg(target_os = "linux")]
#[test]
fn a_child_dropped_outside_any_runtime_is_reaped_by_a_later_spawn() {
    bounded(LIMIT, || {
        let rt = minirt::Runtime::new().unwrap();
        let child = rt.block_on(async {
            Command::new("cat")
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .spawn()
                .unwrap()
        });
        let pid = child.id().unwrap();
        drop(child); // no runtime here: orphan queue
        rt.block_on(async {
            while is_our_child(pid) {
                // Each spawn sweeps the orphan queue.
                Command::new("true").status().await.unwrap();
            }
        });
    });
}
