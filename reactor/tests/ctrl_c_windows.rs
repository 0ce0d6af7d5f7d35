//! Windows: `signal::ctrl_c` completes when the console delivers `CTRL_C_EVENT`.
//!
//! Ctrl-C goes to every process attached to a console, so sending it to the
//! test's own console would also interrupt `cargo`. The test therefore runs
//! itself again as a child with a console of its own (`CREATE_NEW_CONSOLE`);
//! the child listens with `ctrl_c`, sends Ctrl-C to its console with
//! `GenerateConsoleCtrlEvent` (the real `SetConsoleCtrlHandler` path, on the
//! thread Windows starts for it) and exits with status 0 once `ctrl_c`
//! completed. Without minirt's handler the default handler would end the
//! child with `STATUS_CONTROL_C_EXIT` instead, which is what the second test
//! expects once the child has stopped listening.
#![cfg(windows)]

mod common;

use std::future::Future;
use std::os::windows::process::CommandExt;
use std::pin::pin;
use std::process::Command;
use std::task::Poll;
use std::time::{Duration, Instant};

use common::Rt;
use minirt_reactor::signal;
use windows_sys::Win32::System::Console::{GenerateConsoleCtrlEvent, CTRL_C_EVENT};

/// Set in the child's environment to the scenario it runs.
const CHILD_ENV: &str = "MINIRT_CTRL_C_CHILD";

/// `CREATE_NEW_CONSOLE` from `Win32::System::Threading`.
const CREATE_NEW_CONSOLE: u32 = 0x0000_0010;

/// The exit code of a process ended by the default Ctrl-C handler.
const STATUS_CONTROL_C_EXIT: u32 = 0xC000_013A;

/// The exit code of a child that Ctrl-C did not end.
const SURVIVED: i32 = 3;

#[test]
fn ctrl_c_completes_when_the_console_sends_ctrl_c() {
    if std::env::var_os(CHILD_ENV).is_some_and(|role| role == "listen") {
        return child_listens();
    }
    let code = run_child("ctrl_c_completes_when_the_console_sends_ctrl_c", "listen");
    assert_eq!(code, 0, "the listening child failed (exit code {code:#x})");
}

#[test]
fn without_a_listener_ctrl_c_keeps_its_default_effect() {
    if std::env::var_os(CHILD_ENV).is_some_and(|role| role == "stop-listening") {
        return child_stops_listening();
    }
    let code = run_child(
        "without_a_listener_ctrl_c_keeps_its_default_effect",
        "stop-listening",
    );
    // Windows' default handler exits with STATUS_CONTROL_C_EXIT; Wine's
    // (`default_ctrl_handler`) exits with 0. The child itself never exits
    // with 0: it exits with SURVIVED, or 101 if an assertion fails.
    assert!(
        code == STATUS_CONTROL_C_EXIT || code == 0,
        "once no ctrl_c future exists, Ctrl-C must end the process as by default \
         (exit code {code:#x}; {SURVIVED} = it survived)"
    );
}

/// Runs this test binary again, only `test`, with `CHILD_ENV=role` and a
/// console of its own; returns its exit code.
fn run_child(test: &str, role: &str) -> u32 {
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(exe)
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, role)
        .creation_flags(CREATE_NEW_CONSOLE)
        .spawn()
        .expect("spawn the child test process");
    // A watchdog, not an ordering: the child ends by itself in well under a second.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code().expect("Windows always has an exit code") as u32;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the {role} child did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sends Ctrl-C to every process on this (the child's own) console.
fn send_ctrl_c_to_own_console() {
    // SAFETY: plain Win32 call with constant arguments.
    let sent = unsafe { GenerateConsoleCtrlEvent(CTRL_C_EVENT, 0) };
    assert_ne!(
        sent,
        0,
        "GenerateConsoleCtrlEvent: {}",
        std::io::Error::last_os_error()
    );
}

/// Child: listen, send Ctrl-C to our own console, and see it arrive.
fn child_listens() {
    let mut rt = Rt::new();
    rt.block_on(async {
        let mut ctrl_c = pin!(signal::ctrl_c());
        // The first poll registers the handler and subscribes this listener.
        let first = std::future::poll_fn(|cx| Poll::Ready(ctrl_c.as_mut().poll(cx))).await;
        assert!(first.is_pending(), "no Ctrl-C was sent yet");
        send_ctrl_c_to_own_console();
        ctrl_c.await.expect("ctrl_c");
    });
}

/// Child: listen once, stop listening, then send Ctrl-C: the default handler
/// must end the process (the parent checks the exit code).
fn child_stops_listening() {
    let mut rt = Rt::new();
    rt.block_on(async {
        let mut ctrl_c = Box::pin(signal::ctrl_c());
        let first = std::future::poll_fn(|cx| Poll::Ready(ctrl_c.as_mut().poll(cx))).await;
        assert!(first.is_pending(), "no Ctrl-C was sent yet");
        drop(ctrl_c);
    });
    send_ctrl_c_to_own_console();
    // The default handler runs on its own thread; wait for it to end us.
    std::thread::sleep(Duration::from_secs(30));
    eprintln!("Ctrl-C without a listener did not end the process");
    std::process::exit(SURVIVED);
}
