//! The sync-boundary scope `minirt::scope`: children borrow from the
//! caller's stack, and the call does not return — even by unwinding — until
//! every child is finished or dropped.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Barrier;
use std::time::Duration;

use minirt::scope::{Options, StopReason, TryJoinError};
use minirt::sync::oneshot;
use minirt::Builder;
use minirt_tests::bounded;

/// Counts its drops in a counter it borrows.
struct DropCounter<'a>(&'a AtomicUsize);
impl Drop for DropCounter<'_> {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

#[test]
fn children_borrow_the_callers_stack_and_run_in_parallel() {
    bounded(Duration::from_secs(60), || {
        let data: Vec<u64> = (1..=10_000).collect();
        // Two children that can only both finish if they run at the same time.
        let barrier = Barrier::new(2);
        let rt = Builder::multi_thread().worker_threads(2).build().unwrap();
        let sums = Options::new()
            .on(rt.handle())
            .scope(|s| {
                for half in data.chunks(5_000) {
                    let barrier = &barrier;
                    s.spawn(async move {
                        barrier.wait();
                        half.iter().sum::<u64>()
                    });
                }
            })
            .unwrap();
        assert_eq!(sums.len(), 2);
        assert_eq!(sums.iter().sum::<u64>(), 50_005_000);
    });
}

#[test]
fn default_runtime_results_in_spawn_order() {
    bounded(Duration::from_secs(60), || {
        let words = ["alpha", "beta", "gamma", "delta"];
        let lens = minirt::scope(|s| {
            for w in &words {
                s.spawn(async move {
                    minirt::yield_now().await;
                    w.len()
                });
            }
        })
        .unwrap();
        assert_eq!(lens, [5, 4, 5, 5]);
    });
}

#[test]
fn child_panic_resumes_in_caller_after_siblings_dropped() {
    bounded(Duration::from_secs(60), || {
        let dropped = AtomicUsize::new(0);
        let caught = catch_unwind(AssertUnwindSafe(|| {
            minirt::scope(|s| {
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
        assert_eq!(*payload.downcast::<&str>().unwrap(), "child failed");
        assert_eq!(dropped.load(SeqCst), 3);
    });
}

#[test]
fn panic_in_closure_waits_for_children_before_unwinding() {
    bounded(Duration::from_secs(60), || {
        let dropped = AtomicUsize::new(0);
        let caught = catch_unwind(AssertUnwindSafe(|| {
            minirt::scope::<(), _>(|s| {
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
        assert!(caught.is_err());
        // Every child borrowing `dropped` was dropped before `scope` unwound.
        assert_eq!(dropped.load(SeqCst), 5);
    });
}

#[test]
fn max_concurrency_with_lazy_children() {
    bounded(Duration::from_secs(60), || {
        let running = AtomicUsize::new(0);
        let high = AtomicUsize::new(0);
        let built = AtomicUsize::new(0);
        let out = Options::new()
            .max_concurrency(3)
            .scope(|s| {
                for i in 0..200usize {
                    let (running, high, built) = (&running, &high, &built);
                    s.spawn_with(move || {
                        built.fetch_add(1, SeqCst);
                        async move {
                            high.fetch_max(running.fetch_add(1, SeqCst) + 1, SeqCst);
                            minirt::yield_now().await;
                            running.fetch_sub(1, SeqCst);
                            i
                        }
                    });
                }
            })
            .unwrap();
        assert_eq!(out, (0..200).collect::<Vec<_>>());
        assert_eq!(built.load(SeqCst), 200);
        let high = high.load(SeqCst);
        assert!((1..=3).contains(&high), "high-water mark {high}");
    });
}

#[test]
fn timeout_keeps_completed_results() {
    bounded(Duration::from_secs(60), || {
        // Real clock: with a mock clock, the runtime could auto-advance to the
        // deadline while this thread is still spawning (it does not count as
        // runtime work). The timed-out children never complete, so the only
        // timing assumption is that two trivial children run within 2 s.
        let label = String::from("job");
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        let stopped = Options::new()
            .timeout(Duration::from_secs(2))
            .scope(|s| {
                for (i, finishes) in [true, false, true, false].into_iter().enumerate() {
                    let (label, done_tx) = (&label, done_tx.clone());
                    s.spawn(async move {
                        if !finishes {
                            std::future::pending::<()>().await;
                        }
                        let _ = done_tx.send(());
                        format!("{label}-{i}")
                    });
                }
            })
            .unwrap_err();
        assert!(stopped.timed_out());
        assert_eq!(done_rx.try_iter().count(), 2);
        assert_eq!(
            stopped.results,
            [
                Some("job-0".to_string()),
                None,
                Some("job-2".to_string()),
                None
            ]
        );
    });
}

#[test]
fn cancel_from_the_closure() {
    bounded(Duration::from_secs(60), || {
        let dropped = AtomicUsize::new(0);
        let stopped = minirt::scope::<(), _>(|s| {
            let guard = DropCounter(&dropped);
            s.spawn(async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            });
            s.cancel();
            assert!(s.is_cancelled());
        })
        .unwrap_err();
        assert_eq!(stopped.reason, StopReason::Cancelled);
        assert_eq!(dropped.load(SeqCst), 1);
    });
}

#[test]
fn try_scope_returns_selected_errors_as_values() {
    bounded(Duration::from_secs(60), || {
        let out = minirt::scope::try_scope(|s| {
            s.spawn(async { Ok::<_, String>(1) });
            s.spawn(async { Err("connection refused".to_string()) });
        });
        match out {
            Err(TryJoinError::Failed(e)) => assert_eq!(e, "connection refused"),
            other => panic!("unexpected {other:?}"),
        }
    });
}

#[test]
fn supervisor_outcomes_from_sync_code() {
    bounded(Duration::from_secs(60), || {
        let report = Options::new().supervisor().scope_outcomes(|s| {
            s.spawn(async { 1 });
            s.spawn(async { panic!("one bad child") });
            s.spawn(async { 3 });
        });
        assert_eq!(report.stopped, None);
        assert_eq!(report.outcomes.len(), 3);
        assert!(report.outcomes[1].is_panicked());
        let ok: Vec<_> = report
            .outcomes
            .into_iter()
            .filter_map(|o| o.completed())
            .collect();
        assert_eq!(ok, [1, 3]);
    });
}

#[test]
fn calling_scope_inside_a_runtime_panics_with_advice() {
    bounded(Duration::from_secs(60), || {
        let caught = catch_unwind(|| {
            minirt::block_on(async {
                let _ = minirt::scope::<(), _>(|_| {});
            })
        });
        let payload = caught.unwrap_err();
        let msg = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap();
        assert!(msg.contains("Scope"), "{msg}");
    });
}

#[test]
fn scope_from_spawn_blocking_uses_that_runtime() {
    bounded(Duration::from_secs(60), || {
        let rt = Builder::multi_thread().worker_threads(2).build().unwrap();
        let out = rt.block_on(async {
            minirt::spawn_blocking(|| {
                let v = [1, 2, 3];
                minirt::scope(|s| {
                    s.spawn(async { v.iter().sum::<i32>() });
                })
                .unwrap()
            })
            .await
            .unwrap()
        });
        assert_eq!(out, [6]);
    });
}
