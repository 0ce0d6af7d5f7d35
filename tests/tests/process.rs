//! `minirt::process`: commands, exit statuses, pipes, kills and many
//! children at once, on both runtimes (and the mock clock where time
//! matters). Unix only, like the module.
//!
//! The whole file runs twice: once as is (pidfd exit observation on Linux)
//! and once more in a child copy of this test binary with `MINIRT_NO_PIDFD`
//! set (the `SIGCHLD` fallback), by `every_test_passes_on_the_sigchld_fallback`.
#![cfg(unix)]

use std::future::{poll_fn, Future};
use std::os::unix::process::ExitStatusExt;
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use minirt::io::{AsyncReadExt, AsyncWriteExt};
use minirt::process::{Command, Stdio};
use minirt::time::{sleep, timeout, Instant};
use minirt_tests::{bounded, mock_runtimes, on_each_runtime};

const LIMIT: Duration = Duration::from_secs(60);

#[test]
fn status_reports_exit_codes() {
    on_each_runtime(LIMIT, || async {
        let ok = Command::new("true").status().await.unwrap();
        assert!(ok.success());
        let seven = Command::new("sh")
            .args(["-c", "exit 7"])
            .status()
            .await
            .unwrap();
        assert_eq!(seven.code(), Some(7));
        assert!(!seven.success());
    });
}

#[test]
fn output_captures_stdout_and_stderr_separately() {
    on_each_runtime(LIMIT, || async {
        let out = Command::new("sh")
            .args(["-c", "echo to-out; echo to-err >&2; exit 3"])
            .output()
            .await
            .unwrap();
        assert_eq!(out.status.code(), Some(3));
        assert_eq!(out.stdout, b"to-out\n");
        assert_eq!(out.stderr, b"to-err\n");
    });
}

#[test]
fn output_passes_args_env_and_current_dir() {
    on_each_runtime(LIMIT, || async {
        let dir = std::env::temp_dir().canonicalize().unwrap();
        let out = Command::new("sh")
            .args([
                "-c",
                "printf '%s|%s|%s|%s' \"$1\" \"$KEEP\" \"${GONE-unset}\" \"$(pwd -P)\"",
                "sh",
                "first arg",
            ])
            .env("KEEP", "kept")
            .env("GONE", "x")
            .env_remove("GONE")
            .current_dir(&dir)
            .output()
            .await
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert_eq!(text, format!("first arg|kept|unset|{}", dir.display()));

        let empty = Command::new("/usr/bin/env")
            .env_clear()
            .env("ONLY", "this")
            .output()
            .await
            .unwrap();
        assert_eq!(empty.stdout, b"ONLY=this\n");
    });
}

#[test]
fn a_signal_shows_in_the_exit_status() {
    on_each_runtime(LIMIT, || async {
        let status = Command::new("sh")
            .args(["-c", "kill -TERM $$"])
            .status()
            .await
            .unwrap();
        assert_eq!(status.signal(), Some(libc::SIGTERM));
        assert_eq!(status.code(), None);
    });
}

#[test]
fn kill_ends_a_running_child_with_sigkill() {
    on_each_runtime(LIMIT, || async {
        let mut child = Command::new("sleep").arg("60").spawn().unwrap();
        assert!(child.try_wait().unwrap().is_none());
        child.kill().await.unwrap();
        let status = child.try_wait().unwrap().expect("reaped by kill");
        assert_eq!(status.signal(), Some(libc::SIGKILL));
        // The status is kept; the id is no longer ours to report.
        assert_eq!(child.wait().await.unwrap(), status);
        assert_eq!(child.id(), None);
    });
}

#[test]
fn start_kill_then_wait() {
    on_each_runtime(LIMIT, || async {
        let mut child = Command::new("sleep").arg("60").spawn().unwrap();
        child.start_kill().unwrap();
        let status = child.wait().await.unwrap();
        assert_eq!(status.signal(), Some(libc::SIGKILL));
    });
}

#[test]
fn one_mebibyte_through_cat_comes_back_intact() {
    on_each_runtime(LIMIT, || async {
        let payload: Vec<u8> = (0..1 << 20).map(|i: u32| (i * 7 % 251) as u8).collect();
        let mut child = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let expected = payload.clone();
        // Write and read at once: a 1 MiB write alone would fill both pipes
        // and stall, as it would with blocking I/O.
        let (written, read) = minirt::join!(
            async move {
                stdin.write_all(&payload).await?;
                stdin.shutdown().await
            },
            async move {
                let mut back = Vec::new();
                stdout.read_to_end(&mut back).await.map(|_| back)
            }
        );
        written.unwrap();
        let back = read.unwrap();
        assert_eq!(back.len(), expected.len());
        assert!(back == expected, "the payload came back changed");
        assert!(child.wait().await.unwrap().success());
    });
}

#[test]
fn try_wait_before_and_after_exit() {
    on_each_runtime(LIMIT, || async {
        let mut child = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        // `cat` waits for input until its stdin closes.
        assert!(child.try_wait().unwrap().is_none());
        assert!(child.id().is_some());
        let status = child.wait().await.unwrap(); // closes stdin first
        assert!(status.success());
        assert_eq!(child.try_wait().unwrap(), Some(status));
    });
}

#[test]
fn fifty_children_at_once() {
    on_each_runtime(LIMIT, || async {
        let tasks: Vec<_> = (0..50)
            .map(|i| {
                minirt::spawn(async move {
                    let out = Command::new("sh")
                        .args(["-c", &format!("echo {i}; exit {}", i % 7)])
                        .output()
                        .await
                        .unwrap();
                    (i, out)
                })
            })
            .collect();
        for task in tasks {
            let (i, out) = task.await.unwrap();
            assert_eq!(out.status.code(), Some(i % 7), "child {i}");
            assert_eq!(out.stdout, format!("{i}\n").as_bytes(), "child {i}");
        }
    });
}

#[test]
fn a_dropped_wait_future_loses_nothing() {
    on_each_runtime(LIMIT, || async {
        let mut child = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap(); // so `wait` cannot close it
        {
            let mut wait = pin!(child.wait());
            let pending = poll_fn(|cx| Poll::Ready(wait.as_mut().poll(cx).is_pending())).await;
            assert!(pending, "cat exited while its stdin was open");
        }
        drop(stdin);
        assert!(child.wait().await.unwrap().success());
    });
}

#[test]
fn wait_times_out_in_virtual_time_while_the_child_runs() {
    bounded(LIMIT, || {
        for rt in mock_runtimes() {
            rt.block_on(async {
                let start = Instant::now();
                // Virtual time must keep moving for other tasks while a
                // process wait is pending.
                let sleeper = minirt::spawn(async {
                    sleep(Duration::from_secs(3600)).await;
                });
                let mut child = Command::new("sleep")
                    .arg("600")
                    .kill_on_drop(true)
                    .spawn()
                    .unwrap();
                let waited = timeout(Duration::from_secs(10), child.wait()).await;
                assert!(waited.is_err(), "sleep 600 exited: {waited:?}");
                assert!(start.elapsed() >= Duration::from_secs(10));
                sleeper.await.unwrap();
                assert!(start.elapsed() >= Duration::from_secs(3600));
                child.kill().await.unwrap();

                // A child that exits well within its virtual timeout.
                let quick = timeout(Duration::from_secs(3600), Command::new("true").status()).await;
                assert!(quick.expect("`true` finished").unwrap().success());
            });
        }
    });
}

/// Whether this kernel has `pidfd_open` (Linux 5.3+, not refused by a sandbox).
#[cfg(target_os = "linux")]
fn kernel_has_pidfd() -> bool {
    // SAFETY: `pidfd_open` of our own pid; the descriptor is closed at once.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, libc::getpid(), 0) };
    if fd < 0 {
        return false;
    }
    // SAFETY: the descriptor was just returned to us.
    unsafe { libc::close(fd as libc::c_int) };
    true
}

/// Descriptors of this process that are pidfds.
#[cfg(target_os = "linux")]
fn open_pidfds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter(|target| target.to_string_lossy().contains("pidfd"))
        .count()
}

#[cfg(target_os = "linux")]
#[test]
fn exit_is_watched_through_a_pidfd_unless_turned_off() {
    if !kernel_has_pidfd() {
        eprintln!("SKIPPED: this kernel has no pidfd_open");
        return;
    }
    let fallback = std::env::var_os("MINIRT_NO_PIDFD").is_some();
    on_each_runtime(LIMIT, || async move {
        let mut child = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let pidfds = open_pidfds();
        if fallback {
            // No test in the fallback run opens a pidfd at all.
            assert_eq!(pidfds, 0, "MINIRT_NO_PIDFD is set but a pidfd is open");
        } else {
            assert!(pidfds >= 1, "no pidfd open for a running child");
        }
        assert!(child.wait().await.unwrap().success());
    });
}

/// Runs this whole test binary again with `MINIRT_NO_PIDFD=1`, so every test
/// above also passes with `SIGCHLD` exit observation.
#[test]
fn every_test_passes_on_the_sigchld_fallback() {
    if std::env::var_os("MINIRT_NO_PIDFD").is_some() {
        return; // This is the inner run.
    }
    bounded(Duration::from_secs(120), || {
        let exe = std::env::current_exe().unwrap();
        let out = std::process::Command::new(exe)
            .args(["--test-threads", "2"])
            .env("MINIRT_NO_PIDFD", "1")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "the SIGCHLD-fallback run failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("test result: ok"), "{stdout}");
    });
}

/// A shell pipeline from minirt children: each pipe end taken out of the
/// runtime (`Stdio::try_from`) is a blocking pipe again in the next child,
/// and the data goes through whole, both ways round.
#[test]
fn one_childs_pipe_feeds_another() {
    on_each_runtime(LIMIT, || async {
        // stdout -> stdin: `printf ... | tr a-z A-Z`, 64 KiB (more than a
        // pipe buffer, so both children really run at once).
        let text = "minirt pipes ".repeat(64 * 1024 / 13);
        let mut producer = Command::new("printf")
            .arg(&text)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let pipe: Stdio = producer.stdout.take().unwrap().try_into().unwrap();
        let upper = Command::new("tr")
            .args(["a-z", "A-Z"])
            .stdin(pipe)
            .output()
            .await
            .unwrap();
        assert!(upper.status.success());
        assert_eq!(upper.stdout, text.to_uppercase().as_bytes());
        assert!(producer.wait().await.unwrap().success());

        // stdin -> stdout: a second child writes into the first's stdin.
        let mut cat = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let pipe: Stdio = cat.stdin.take().unwrap().try_into().unwrap();
        let status = Command::new("echo").arg("fed").stdout(pipe).status().await;
        assert!(status.unwrap().success());
        let out = cat.wait_with_output().await.unwrap();
        assert_eq!(out.stdout, b"fed\n");

        // A stdin already shut down has no pipe to give.
        let mut cat = Command::new("cat").stdin(Stdio::piped()).spawn().unwrap();
        let mut stdin = cat.stdin.take().unwrap();
        stdin.shutdown().await.unwrap();
        let err = Stdio::try_from(stdin).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe, "{err}");
        assert!(cat.wait().await.unwrap().success());
    });
}

/// The Unix builder options tokio has: `process_group`, `arg0`, `uid`/`gid`
/// (to this process's own ids, which needs no privilege) and `pre_exec`.
#[test]
fn unix_builder_options_reach_the_child() {
    on_each_runtime(LIMIT, || async {
        // In a group of its own the child leads it: its group id is its pid.
        if cfg!(target_os = "linux") {
            for own_group in [true, false] {
                let mut cmd = Command::new("sh");
                cmd.args(["-c", "echo $$ $(cut -d' ' -f5 /proc/$$/stat)"]);
                if own_group {
                    cmd.process_group(0);
                }
                let out = cmd.output().await.unwrap();
                let text = String::from_utf8(out.stdout).unwrap();
                let ids: Vec<&str> = text.split_whitespace().collect();
                assert_eq!(ids.len(), 2, "{text:?}");
                assert_eq!(ids[0] == ids[1], own_group, "pid and group: {text:?}");
            }
        }

        let named = Command::new("sh")
            .arg0("renamed")
            .args(["-c", "echo $0"])
            .output()
            .await
            .unwrap();
        assert_eq!(named.stdout, b"renamed\n");

        // SAFETY: getuid/getgid only read this process's ids.
        let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
        let ids = Command::new("id")
            .args(["-u"])
            .uid(uid)
            .gid(gid)
            .output()
            .await
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&ids.stdout).trim(), uid.to_string());

        let mut cmd = Command::new("true");
        // SAFETY: the hook only returns an error value: no allocation, no
        // lock, nothing but async-signal-safe work in the forked child.
        unsafe {
            cmd.pre_exec(|| Err(std::io::Error::from_raw_os_error(libc::EDOM)));
        }
        let err = cmd.spawn().unwrap_err();
        let edom = std::io::Error::from_raw_os_error(libc::EDOM);
        assert_eq!(err.kind(), edom.kind(), "{err}");
        assert!(
            err.to_string().contains("`true`"),
            "names the program: {err}"
        );
        assert!(err.to_string().contains(&edom.to_string()), "{err}");
    });
}
