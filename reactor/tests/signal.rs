//! Signals through the self-pipe. Each test uses its own signal number, since
//! signal dispositions are process-wide and tests run in parallel threads.
#![cfg(unix)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};

use common::{join, Rt};
use minirt_reactor::signal::{self, SignalKind};

fn raise(signum: libc::c_int) {
    // SAFETY: raising a signal for which a handler is installed (minirt's).
    assert_eq!(unsafe { libc::raise(signum) }, 0);
}

#[test]
fn two_listeners_both_see_each_delivery() {
    let mut rt = Rt::new();
    rt.block_on(async {
        let mut first = signal::signal(SignalKind::user_defined1()).unwrap();
        let mut second = signal::signal(SignalKind::user_defined1()).unwrap();
        for _ in 0..3 {
            raise(libc::SIGUSR1);
            let (a, b) = join(first.recv(), second.recv()).await;
            assert_eq!((a, b), (Some(()), Some(())));
        }
    });
}

#[test]
fn a_listener_waiting_before_the_signal_is_woken() {
    let mut rt = Rt::new();
    rt.block_on(async {
        let mut listener = signal::signal(SignalKind::user_defined2()).unwrap();
        let mut polled_once = false;
        let raiser = std::future::poll_fn(|cx| {
            if !polled_once {
                polled_once = true;
                cx.waker().wake_by_ref();
                std::task::Poll::Pending
            } else {
                raise(libc::SIGUSR2);
                std::task::Poll::Ready(())
            }
        });
        // The listener is polled (and pending) before the raise happens.
        let (got, ()) = join(listener.recv(), raiser).await;
        assert_eq!(got, Some(()));
    });
}

static PREVIOUS_HANDLER_CALLS: AtomicUsize = AtomicUsize::new(0);

extern "C" fn previous_handler(_signum: libc::c_int) {
    PREVIOUS_HANDLER_CALLS.fetch_add(1, Ordering::SeqCst);
}

#[test]
fn an_existing_handler_is_chained() {
    // SAFETY: installs a valid async-signal-safe handler (one atomic add) for SIGHUP.
    let old = unsafe {
        libc::signal(
            libc::SIGHUP,
            previous_handler as extern "C" fn(libc::c_int) as libc::sighandler_t,
        )
    };
    assert_ne!(old, libc::SIG_ERR);
    let mut rt = Rt::new();
    rt.block_on(async {
        let mut hangup = signal::signal(SignalKind::hangup()).unwrap();
        raise(libc::SIGHUP);
        assert_eq!(hangup.recv().await, Some(()));
    });
    assert_eq!(PREVIOUS_HANDLER_CALLS.load(Ordering::SeqCst), 1);
}

#[test]
fn ctrl_c_completes_on_sigint() {
    let mut rt = Rt::new();
    rt.block_on(async {
        let mut started = false;
        let raiser = std::future::poll_fn(|cx| {
            // ctrl_c() installs its handler on its first poll, which `join` does first.
            if !started {
                started = true;
                cx.waker().wake_by_ref();
                std::task::Poll::Pending
            } else {
                raise(libc::SIGINT);
                std::task::Poll::Ready(())
            }
        });
        let (result, ()) = join(signal::ctrl_c(), raiser).await;
        result.unwrap();
    });
}

#[test]
fn uncatchable_signals_are_invalid_input() {
    let mut rt = Rt::new();
    rt.block_on(async {
        for kind in [SignalKind::from_raw(libc::SIGKILL), SignalKind::from_raw(0)] {
            let err = signal::signal(kind).unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
        }
    });
}
