//! The sync-boundary scope on every runtime kind and both clocks, through
//! `Options::on` (`tests/scope_sync.rs` covers the process-wide default
//! runtime). A current-thread runtime that nobody else drives is run by the
//! scope's owner while it waits.
//!
//! These are also the sync-scope tests Miri runs: the default runtime's
//! workers outlive `main`, which Miri reports as threads still running at
//! exit, so `scope_sync` itself is not in its list.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use minirt::scope::{Options, StopReason, TryJoinError};
use minirt::sync::oneshot;
use minirt::time::{self, Instant};
use minirt_tests::{bounded, each_runtime_and_clock};

/// Counts its drops in a counter it borrows.
struct DropCounter<'a>(&'a AtomicUsize);
impl Drop for DropCounter<'_> {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

const LIMIT: Duration = Duration::from_secs(120);

#[test]
fn children_borrow_the_stack_and_results_come_in_spawn_order() {
    bounded(LIMIT, || {
        each_runtime_and_clock(|case| {
            let words = ["alpha", "beta", "gamma", "delta"];
            let lens = Options::new()
                .on(case.rt.handle())
                .scope(|s| {
                    for (i, w) in words.iter().enumerate() {
                        s.spawn(async move {
                            // Later children finish first.
                            time::sleep(Duration::from_millis(4 - i as u64)).await;
                            w.len()
                        });
                    }
                })
                .unwrap();
            assert_eq!(lens, [5, 4, 5, 5], "{}", case.label);
        });
    });
}

#[test]
fn a_child_panic_resumes_in_the_caller_after_its_siblings_are_dropped() {
    bounded(LIMIT, || {
        each_runtime_and_clock(|case| {
            let dropped = AtomicUsize::new(0);
            let caught = catch_unwind(AssertUnwindSafe(|| {
                Options::new().on(case.rt.handle()).scope(|s| {
                    let mut started = Vec::new();
                    for _ in 0..3 {
                        let guard = DropCounter(&dropped);
                        let (tx, rx) = oneshot::channel::<()>();
                        started.push(rx);
                        s.spawn(async move {
                            let _guard = guard;
                            let _ = tx.send(());
                            std::future::pending::<()>().await;
                        });
                    }
                    s.spawn(async move {
                        for rx in started {
                            rx.await.unwrap(); // every sibling is running
                        }
                        std::panic::panic_any("child failed");
                    });
                })
            }));
            let payload = caught.expect_err("the panic resumes in the caller");
            assert_eq!(
                *payload.downcast::<&str>().unwrap(),
                "child failed",
                "{}",
                case.label
            );
            assert_eq!(dropped.load(SeqCst), 3, "{}", case.label);
        });
    });
}

#[test]
fn a_panic_in_the_closure_waits_for_the_children_before_unwinding() {
    bounded(LIMIT, || {
        each_runtime_and_clock(|case| {
            let dropped = AtomicUsize::new(0);
            let caught = catch_unwind(AssertUnwindSafe(|| {
                Options::new().on(case.rt.handle()).scope::<(), _>(|s| {
                    for _ in 0..5 {
                        let guard = DropCounter(&dropped);
                        s.spawn(async move {
                            let _guard = guard;
                            std::future::pending::<()>().await;
                        });
                    }
                    panic!("closure failed");
                })
            }));
            assert!(caught.is_err(), "{}", case.label);
            assert_eq!(dropped.load(SeqCst), 5, "{}", case.label);
        });
    });
}

#[test]
fn max_concurrency_bounds_lazy_children() {
    bounded(LIMIT, || {
        each_runtime_and_clock(|case| {
            let running = AtomicUsize::new(0);
            let high = AtomicUsize::new(0);
            let built = AtomicUsize::new(0);
            let n = if cfg!(miri) { 12 } else { 100 };
            let out = Options::new()
                .on(case.rt.handle())
                .max_concurrency(3)
                .scope(|s| {
                    for i in 0..n {
                        let (running, high, built) = (&running, &high, &built);
                        s.spawn_with(move || {
                            built.fetch_add(1, SeqCst);
                            async move {
                                high.fetch_max(running.fetch_add(1, SeqCst) + 1, SeqCst);
                                time::sleep(Duration::from_millis(1)).await;
                                running.fetch_sub(1, SeqCst);
                                i
                            }
                        });
                    }
                })
                .unwrap();
            assert_eq!(out, (0..n).collect::<Vec<_>>(), "{}", case.label);
            assert_eq!(built.load(SeqCst), n, "{}", case.label);
            let high = high.load(SeqCst);
            assert!(
                (1..=3).contains(&high),
                "{}: high-water mark {high}",
                case.label
            );
        });
    });
}

#[test]
fn a_timeout_keeps_the_completed_results() {
    bounded(LIMIT, || {
        each_runtime_and_clock(|case| {
            // The timed-out children never complete. Under the real clock the
            // only timing assumption is that two trivial children run within
            // the timeout; under the mock clock the scope ends exactly at it
            // (the owner counts as busy while its closure runs, so the clock
            // cannot jump to the deadline while it is still spawning).
            let timeout = if case.is_mock() {
                Duration::from_secs(3600)
            } else {
                Duration::from_secs(2)
            };
            let start = case.rt.block_on(async { Instant::now() });
            let label = String::from("job");
            let stopped = Options::new()
                .on(case.rt.handle())
                .timeout(timeout)
                .scope(|s| {
                    for (i, finishes) in [true, false, true, false].into_iter().enumerate() {
                        let label = &label;
                        s.spawn(async move {
                            if !finishes {
                                std::future::pending::<()>().await;
                            }
                            time::sleep(Duration::from_millis(10)).await;
                            format!("{label}-{i}")
                        });
                    }
                })
                .unwrap_err();
            assert!(stopped.timed_out(), "{}", case.label);
            assert_eq!(
                stopped.results,
                [
                    Some("job-0".to_string()),
                    None,
                    Some("job-2".to_string()),
                    None
                ],
                "{}",
                case.label
            );
            if case.is_mock() {
                assert_eq!(
                    case.rt.block_on(async { Instant::now() }) - start,
                    timeout,
                    "{}: the scope ends at its deadline in virtual time",
                    case.label
                );
            }
        });
    });
}

#[test]
fn cancel_from_the_closure_drops_the_children() {
    bounded(LIMIT, || {
        each_runtime_and_clock(|case| {
            let dropped = AtomicUsize::new(0);
            let stopped = Options::new()
                .on(case.rt.handle())
                .scope::<(), _>(|s| {
                    let guard = DropCounter(&dropped);
                    s.spawn(async move {
                        let _guard = guard;
                        std::future::pending::<()>().await;
                    });
                    s.cancel();
                    assert!(s.is_cancelled());
                })
                .unwrap_err();
            assert_eq!(stopped.reason, StopReason::Cancelled, "{}", case.label);
            assert_eq!(dropped.load(SeqCst), 1, "{}", case.label);
        });
    });
}

#[test]
fn try_scope_and_supervisor_outcomes() {
    bounded(LIMIT, || {
        each_runtime_and_clock(|case| {
            let out = Options::new().on(case.rt.handle()).try_scope(|s| {
                s.spawn(async { Ok::<_, String>(1) });
                s.spawn(async { Err("connection refused".to_string()) });
            });
            match out {
                Err(TryJoinError::Failed(e)) => assert_eq!(e, "connection refused"),
                other => panic!("{}: unexpected {other:?}", case.label),
            }
            let report = Options::new()
                .on(case.rt.handle())
                .supervisor()
                .scope_outcomes(|s| {
                    s.spawn(async { 1 });
                    s.spawn(async { panic!("one bad child") });
                    s.spawn(async { 3 });
                });
            assert_eq!(report.stopped, None, "{}", case.label);
            assert!(report.outcomes[1].is_panicked(), "{}", case.label);
            let ok: Vec<_> = report
                .outcomes
                .into_iter()
                .filter_map(|o| o.completed())
                .collect();
            assert_eq!(ok, [1, 3], "{}", case.label);
        });
    });
}
