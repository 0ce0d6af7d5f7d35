//! Daemon children (`spawn_daemon`): they do not hold their scope open, are
//! cancelled and dropped once the other children are done, and work in
//! every scope flavour — fail-fast, try, supervisor, `max_concurrency`,
//! the sync boundary — and nested.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use minirt::scope::{Options, Scope, TryJoinError};
use minirt::sync::oneshot;
use minirt::time::{self, Instant};
use minirt_tests::{bounded, each_case, each_runtime_and_clock, DropCounter, CLOCKS, MULTI_THREAD};

/// A daemon that never ends on its own, counting its drop (also when it
/// is dropped unpolled).
fn forever(dropped: Arc<AtomicUsize>) -> impl std::future::Future<Output = ()> + Send {
    let guard = DropCounter(dropped);
    async move {
        let _guard = guard;
        std::future::pending::<()>().await;
    }
}

#[test]
fn daemons_are_dropped_when_the_other_children_are_done() {
    bounded(Duration::from_secs(60), || {
        each_runtime_and_clock(|case| {
            let dropped = Arc::new(AtomicUsize::new(0));
            let d = dropped.clone();
            let out = case.rt.block_on(async move {
                let scope = Scope::new();
                assert!(scope.spawn_daemon(forever(d.clone())));
                assert!(scope.spawn_daemon(forever(d.clone())));
                scope.spawn(async {
                    time::sleep(Duration::from_millis(20)).await;
                    1
                });
                scope.spawn(async { 2 });
                scope.join().await
            });
            assert_eq!(
                out.unwrap(),
                [1, 2],
                "{}: daemons have no result",
                case.label
            );
            assert_eq!(
                dropped.load(SeqCst),
                2,
                "{}: daemons dropped before join returned",
                case.label
            );
        });
    });
}

#[test]
fn a_scope_with_only_daemons_ends_when_joined() {
    bounded(Duration::from_secs(60), || {
        each_runtime_and_clock(|case| {
            let dropped = Arc::new(AtomicUsize::new(0));
            let d = dropped.clone();
            case.rt.block_on(async move {
                let scope = Scope::<u8>::new();
                let (started, running) = oneshot::channel();
                scope.spawn_daemon(async move {
                    let _guard = DropCounter(d);
                    let _ = started.send(());
                    std::future::pending::<()>().await;
                });
                running.await.unwrap(); // the daemon runs before join is called
                assert_eq!(scope.join().await.unwrap(), Vec::<u8>::new());
            });
            assert_eq!(dropped.load(SeqCst), 1, "{}", case.label);
        });
    });
}

#[test]
fn a_daemon_runs_until_the_work_is_done_on_the_mock_clock() {
    bounded(Duration::from_secs(60), || {
        each_case(
            &minirt_tests::FLAVORS,
            &[minirt_tests::ClockKind::Mock],
            |case| {
                let (ticks, end) = case.rt.block_on(async {
                    let start = Instant::now();
                    let beats = Arc::new(AtomicUsize::new(0));
                    let b = beats.clone();
                    let scope = Scope::new();
                    scope.spawn_daemon(async move {
                        loop {
                            time::sleep(Duration::from_secs(1)).await;
                            b.fetch_add(1, SeqCst);
                        }
                    });
                    scope.spawn(time::sleep(Duration::from_millis(4500)));
                    scope.join().await.unwrap();
                    (beats.load(SeqCst), start.elapsed())
                });
                assert_eq!(ticks, 4, "{}: beats at 1, 2, 3 and 4 s", case.label);
                assert_eq!(
                    end,
                    Duration::from_millis(4500),
                    "{}: the daemon did not extend the scope",
                    case.label
                );
            },
        );
    });
}

#[test]
fn daemons_take_no_concurrency_slot() {
    bounded(Duration::from_secs(60), || {
        each_runtime_and_clock(|case| {
            let dropped = Arc::new(AtomicUsize::new(0));
            let d = dropped.clone();
            let out = case.rt.block_on(async move {
                let scope = Options::new().max_concurrency(1).build();
                // Spawned first: if it took the only slot, nothing else would run.
                scope.spawn_daemon(forever(d.clone()));
                scope.spawn_daemon(forever(d));
                for i in 0..5u32 {
                    scope.spawn_with(move || async move {
                        minirt::yield_now().await;
                        i
                    });
                }
                scope.join().await
            });
            assert_eq!(out.unwrap(), [0, 1, 2, 3, 4], "{}", case.label);
            assert_eq!(dropped.load(SeqCst), 2, "{}", case.label);
        });
    });
}

#[test]
fn daemons_in_try_and_supervisor_scopes() {
    bounded(Duration::from_secs(60), || {
        each_runtime_and_clock(|case| {
            let dropped = Arc::new(AtomicUsize::new(0));
            let d = dropped.clone();
            case.rt.block_on(async move {
                let scope = Scope::<Result<u8, &str>>::new_try();
                scope.spawn_daemon(forever(d.clone()));
                scope.spawn(async { Ok(1) });
                assert_eq!(scope.try_join().await.unwrap(), [1]);

                let scope = Scope::<Result<u8, &str>>::new_try();
                scope.spawn_daemon(forever(d.clone()));
                scope.spawn(async { Err("bad") });
                assert!(matches!(
                    scope.try_join().await,
                    Err(TryJoinError::Failed("bad"))
                ));

                let scope = Scope::<u8>::supervisor();
                scope.spawn_daemon(forever(d));
                scope.spawn(async { 3 });
                let report = scope.outcomes().await;
                assert_eq!(report.outcomes.len(), 1);
                assert!(report.stopped.is_none());
            });
            assert_eq!(dropped.load(SeqCst), 3, "{}", case.label);
        });
    });
}

#[test]
fn cancelling_the_scope_cancels_its_daemons() {
    bounded(Duration::from_secs(60), || {
        each_runtime_and_clock(|case| {
            let dropped = Arc::new(AtomicUsize::new(0));
            let d = dropped.clone();
            case.rt.block_on(async move {
                let scope = Scope::<()>::new();
                scope.spawn_daemon(forever(d.clone()));
                scope.spawn(std::future::pending());
                scope.cancel();
                assert!(
                    !scope.spawn_daemon(forever(d)),
                    "a cancelled scope refuses daemons"
                );
                let stopped = scope.join().await.unwrap_err();
                assert_eq!(stopped.results.len(), 1);
            });
            // One daemon ran and was cancelled; the refused one was dropped unpolled.
            assert_eq!(dropped.load(SeqCst), 2, "{}", case.label);
        });
    });
}

#[test]
fn a_daemon_timeout_is_the_scopes() {
    bounded(Duration::from_secs(60), || {
        each_case(
            &minirt_tests::FLAVORS,
            &[minirt_tests::ClockKind::Mock],
            |case| {
                case.rt.block_on(async {
                    let start = Instant::now();
                    let scope = Options::new().timeout(Duration::from_secs(3)).build::<()>();
                    let seen = Arc::new(AtomicUsize::new(0));
                    let s = seen.clone();
                    scope.spawn_daemon(async move {
                        assert!(minirt::scope::current_deadline().is_some());
                        s.fetch_add(1, SeqCst);
                        std::future::pending::<()>().await;
                    });
                    scope.spawn(std::future::pending());
                    let stopped = scope.join().await.unwrap_err();
                    assert!(stopped.timed_out());
                    assert_eq!(start.elapsed(), Duration::from_secs(3));
                    assert_eq!(seen.load(SeqCst), 1);
                });
            },
        );
    });
}

#[test]
fn a_panicking_daemon_stops_a_fail_fast_scope_and_resumes_in_the_owner() {
    bounded(Duration::from_secs(60), || {
        each_runtime_and_clock(|case| {
            let dropped = Arc::new(AtomicUsize::new(0));
            let d = dropped.clone();
            let caught = catch_unwind(AssertUnwindSafe(|| {
                case.rt.block_on(async move {
                    let scope = Scope::<()>::new();
                    scope.spawn(forever(d)); // a regular child, cancelled by the failure
                    scope.spawn_daemon(async { std::panic::panic_any("daemon broke") });
                    let _ = scope.join().await;
                })
            }));
            let payload = caught.expect_err("the daemon's panic resumes");
            assert_eq!(
                payload.downcast_ref::<&str>(),
                Some(&"daemon broke"),
                "{}",
                case.label
            );
            assert_eq!(
                dropped.load(SeqCst),
                1,
                "{}: the sibling was cancelled",
                case.label
            );
        });
    });
}

#[test]
fn a_supervisor_keeps_going_past_a_panicking_daemon_then_resumes_it() {
    bounded(Duration::from_secs(60), || {
        each_runtime_and_clock(|case| {
            let caught = catch_unwind(AssertUnwindSafe(|| {
                case.rt.block_on(async move {
                    let scope = Scope::<u8>::supervisor();
                    let (tx, rx) = oneshot::channel::<()>();
                    scope.spawn_daemon(async move {
                        drop(tx);
                        std::panic::panic_any(7u8)
                    });
                    scope.spawn(async move {
                        let _ = rx.await; // the daemon has panicked by now
                        minirt::yield_now().await;
                        5
                    });
                    let _ = scope.outcomes().await;
                })
            }));
            assert_eq!(
                caught.unwrap_err().downcast_ref::<u8>(),
                Some(&7),
                "{}",
                case.label
            );
        });
    });
}

#[test]
fn nested_scopes_wait_for_their_daemons() {
    bounded(Duration::from_secs(60), || {
        each_runtime_and_clock(|case| {
            let dropped = Arc::new(AtomicUsize::new(0));
            let d = dropped.clone();
            let out = case.rt.block_on(async move {
                let outer = Scope::new();
                outer.spawn_daemon(forever(d.clone()));
                outer.spawn(async move {
                    let inner = Scope::new();
                    inner.spawn_daemon(forever(d.clone()));
                    // A daemon whose helper is itself a scope with a daemon.
                    let (started, innermost_running) = oneshot::channel();
                    inner.spawn_daemon(async move {
                        let innermost = Scope::<()>::new();
                        innermost.spawn_daemon(forever(d.clone()));
                        innermost.spawn(std::future::pending());
                        let _ = started.send(());
                        let _ = innermost.join().await;
                    });
                    inner.spawn(async move {
                        innermost_running.await.unwrap();
                        10
                    });
                    inner.join().await.unwrap()
                });
                outer.join().await
            });
            assert_eq!(out.unwrap(), [vec![10]], "{}", case.label);
            assert_eq!(
                dropped.load(SeqCst),
                3,
                "{}: every daemon dropped",
                case.label
            );
        });
    });
}

#[test]
fn sync_scope_daemons_borrow_from_the_caller() {
    bounded(Duration::from_secs(60), || {
        each_case(&MULTI_THREAD, &CLOCKS, |case| {
            let polls = AtomicUsize::new(0);
            let dropped = Arc::new(AtomicUsize::new(0));
            let out = minirt::scope::scope_on(case.rt.handle(), |s| {
                s.spawn_daemon(async {
                    let _guard = DropCounter(dropped.clone());
                    loop {
                        polls.fetch_add(1, SeqCst); // borrows the caller's counter
                        time::sleep(Duration::from_millis(5)).await;
                    }
                });
                s.spawn(async {
                    time::sleep(Duration::from_millis(30)).await;
                    "done"
                });
            });
            assert_eq!(out.unwrap(), ["done"], "{}", case.label);
            assert!(polls.load(SeqCst) >= 1, "{}", case.label);
            assert_eq!(dropped.load(SeqCst), 1, "{}", case.label);
        });
    });
}

#[test]
fn a_finished_scope_refuses_daemons() {
    bounded(Duration::from_secs(60), || {
        let rt = minirt::Builder::current_thread().build().unwrap();
        rt.block_on(async {
            let scope = Scope::<()>::new();
            let handle = scope.handle();
            scope.join().await.unwrap();
            let dropped = Arc::new(AtomicUsize::new(0));
            assert!(!handle.spawn_daemon(forever(dropped.clone())));
            assert_eq!(dropped.load(SeqCst), 1, "dropped unpolled");
        });
    });
}
