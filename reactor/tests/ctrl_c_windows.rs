//! Windows: `signal::ctrl_c` completes when the console delivers `CTRL_C_EVENT`.
//!
//! The event is sent with `GenerateConsoleCtrlEvent` to every process on
//! this console (process group 0), so it goes through the real
//! `SetConsoleCtrlHandler` path, on the thread Windows starts for it. The
//! only test in this binary: while it listens, minirt's handler reports the
//! event as handled, so the test process is not ended.
#![cfg(windows)]

mod common;

use std::future::Future;
use std::pin::pin;
use std::task::Poll;

use common::Rt;
use minirt_reactor::signal;
use windows_sys::Win32::System::Console::{GenerateConsoleCtrlEvent, CTRL_C_EVENT};

#[test]
fn ctrl_c_completes_when_the_console_sends_ctrl_c() {
    let mut rt = Rt::new();
    rt.block_on(async {
        let mut ctrl_c = pin!(signal::ctrl_c());
        // The first poll registers the handler and subscribes this listener.
        let first = std::future::poll_fn(|cx| Poll::Ready(ctrl_c.as_mut().poll(cx))).await;
        assert!(first.is_pending(), "no Ctrl-C was sent yet");
        // SAFETY: plain Win32 call with constant arguments.
        let sent = unsafe { GenerateConsoleCtrlEvent(CTRL_C_EVENT, 0) };
        assert_ne!(
            sent,
            0,
            "GenerateConsoleCtrlEvent: {}",
            std::io::Error::last_os_error()
        );
        ctrl_c.await.expect("ctrl_c");
    });
}
