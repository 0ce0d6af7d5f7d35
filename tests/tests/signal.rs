//! Unix signals through the public API: a signal raised on the process
//! reaches every listener, in one runtime or in several, on both runtime
//! flavours, and only listeners for that signal.
//!
//! Signals are process-wide, so the tests in this file take [`SERIAL`] to
//! keep one test's deliveries from reaching another's listeners.
#![cfg(unix)]

use std::future::Future;
use std::io::ErrorKind;
use std::pin::pin;
use std::sync::mpsc;
use std::sync::{Mutex, MutexGuard};
use std::task::{Context, Waker};
use std::time::Duration;

use minirt::signal::{signal, SignalKind};
use minirt::Builder;
use minirt_tests::{bounded, named_runtimes as runtimes};

/// Serialises the tests of this file (see the module docs).
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    // A failed test poisons the lock; the next test is still meaningful.
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Sends `signum` to the calling thread, which runs minirt's handler before returning.
fn raise(signum: libc::c_int) {
    // SAFETY: `raise` has no memory-safety preconditions; a handler is
    // installed for `signum` (a listener exists), so the process survives.
    let rc = unsafe { libc::raise(signum) };
    assert_eq!(rc, 0, "raise({signum}) failed");
}

/// Whether `future` is still pending after one poll (with a waker that does nothing).
fn is_pending<F: Future>(future: F) -> bool {
    let future = pin!(future);
    future
        .poll(&mut Context::from_waker(Waker::noop()))
        .is_pending()
}

#[test]
fn two_listeners_in_one_runtime_both_see_one_raise() {
    let _serial = serial();
    for (name, rt) in runtimes() {
        bounded(Duration::from_secs(20), || {
            rt.block_on(async {
                let mut first = signal(SignalKind::user_defined1()).unwrap();
                let mut second = signal(SignalKind::user_defined1()).unwrap();
                let mut other = signal(SignalKind::user_defined2()).unwrap();
                // Both listeners wait in their own task before the signal arrives.
                let waiting: Vec<_> = [
                    minirt::spawn(async move { first.recv().await.map(|()| first) }),
                    minirt::spawn(async move { second.recv().await.map(|()| second) }),
                ]
                .into();
                minirt::yield_now().await;
                raise(libc::SIGUSR1);
                let mut listeners = Vec::new();
                for task in waiting {
                    let listener = task.await.unwrap();
                    listeners.push(listener.expect("recv returns Some while signals can arrive"));
                }
                // One raise is one delivery: seen once per listener, not twice.
                for listener in &mut listeners {
                    assert!(
                        is_pending(listener.recv()),
                        "{name}: delivery reported twice"
                    );
                }
                // And it is not a SIGUSR2.
                assert!(
                    is_pending(other.recv()),
                    "{name}: SIGUSR2 listener woken by SIGUSR1"
                );
            });
        });
    }
}

#[test]
fn listeners_in_two_runtimes_on_two_threads_both_see_one_raise() {
    let _serial = serial();
    bounded(Duration::from_secs(20), || {
        let (listening, ready) = mpsc::channel::<&'static str>();
        let threads: Vec<_> = runtimes()
            .into_iter()
            .map(|(name, rt)| {
                let listening = listening.clone();
                std::thread::spawn(move || {
                    rt.block_on(async {
                        let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
                        listening.send(name).unwrap();
                        usr1.recv().await
                    })
                })
            })
            .collect();
        // Raise only once both listeners exist, so both must see this delivery.
        for _ in 0..threads.len() {
            ready.recv().unwrap();
        }
        raise(libc::SIGUSR1);
        for thread in threads {
            assert_eq!(thread.join().unwrap(), Some(()));
        }
    });
}

#[test]
fn a_listener_sees_each_new_delivery() {
    let _serial = serial();
    for (name, rt) in runtimes() {
        bounded(Duration::from_secs(20), || {
            rt.block_on(async {
                let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
                for round in 0..5 {
                    assert!(
                        is_pending(usr1.recv()),
                        "{name}: round {round} before the raise"
                    );
                    raise(libc::SIGUSR1);
                    assert_eq!(usr1.recv().await, Some(()), "{name}: round {round}");
                }
            });
        });
    }
}

#[test]
fn signals_that_cannot_be_handled_are_invalid_input() {
    bounded(Duration::from_secs(60), || {
        let _serial = serial();
        Builder::current_thread().build().unwrap().block_on(async {
            for kind in [
                SignalKind::from_raw(libc::SIGKILL),
                SignalKind::from_raw(libc::SIGSTOP),
            ] {
                let err = signal(kind).unwrap_err();
                assert_eq!(err.kind(), ErrorKind::InvalidInput, "{kind:?}: {err}");
            }
        });
    });
}
