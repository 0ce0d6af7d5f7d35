//! Scopes nest like trio's cancel scopes: inner deadlines only shorten outer
//! ones, cancellation flows down, and shielded work survives it while still
//! holding every enclosing scope open. All timing is on the mock clock.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use minirt::scope::{current_deadline, Options, Scope, StopReason};
use minirt::sync::oneshot;
use minirt::time::{sleep, Instant};
use minirt::Builder;
use minirt_tests::bounded;
use minirt_tests::{mock_runtimes, DropCounter};

/// Runs `future` as a task, so that on the multi-thread runtime it counts
/// as work for the mock clock's auto-advance (a `block_on` future polled on
/// the caller's thread is not a worker's task).
fn run_task<F>(rt: &minirt::Runtime, future: F) -> F::Output
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    rt.block_on(rt.spawn(future)).unwrap()
}

#[test]
fn inner_deadline_can_shorten_but_not_extend() {
    bounded(Duration::from_secs(60), || {
        let rt = Builder::current_thread().mock_clock().build().unwrap();
        rt.block_on(async {
            let start = Instant::now();
            let outer = Options::new().timeout(Duration::from_secs(10)).build();
            assert_eq!(outer.deadline(), Some(start + Duration::from_secs(10)));
            outer.spawn(async move {
                assert_eq!(current_deadline(), Some(start + Duration::from_secs(10)));
                // A longer inner timeout keeps the outer deadline...
                let longer = Options::new().timeout(Duration::from_secs(20)).build();
                assert_eq!(longer.deadline(), Some(start + Duration::from_secs(10)));
                longer.spawn(async move {
                    assert_eq!(current_deadline(), Some(start + Duration::from_secs(10)));
                });
                longer.join().await.unwrap();
                // ...a shorter one wins, relative to the time it was created.
                sleep(Duration::from_secs(1)).await;
                let shorter = Options::new().timeout(Duration::from_secs(3)).build();
                assert_eq!(shorter.deadline(), Some(start + Duration::from_secs(4)));
                shorter.spawn(async move {
                    assert_eq!(current_deadline(), Some(start + Duration::from_secs(4)));
                    // Three levels: min of all.
                    let inner = Options::new().timeout(Duration::from_secs(1)).build::<()>();
                    assert_eq!(inner.deadline(), Some(start + Duration::from_secs(2)));
                    inner.join().await.unwrap();
                });
                shorter.join().await.unwrap();
            });
            outer.join().await.unwrap();
            assert_eq!(current_deadline(), None);
        });
    });
}

#[test]
fn outer_deadline_cancels_nested_scope_children() {
    bounded(Duration::from_secs(60), || {
        for rt in mock_runtimes() {
            let dropped = Arc::new(AtomicUsize::new(0));
            let d = dropped.clone();
            let (stopped, elapsed) = run_task(&rt, async move {
                let start = Instant::now();
                let outer = Options::new()
                    .timeout(Duration::from_secs(5))
                    .build::<u32>();
                let dc = d.clone();
                outer.spawn(async move {
                    let inner = Options::new()
                        .timeout(Duration::from_secs(100))
                        .build::<()>();
                    for _ in 0..3 {
                        let guard = DropCounter(dc.clone());
                        inner.spawn(async move {
                            let _guard = guard;
                            sleep(Duration::from_secs(50)).await;
                        });
                    }
                    // The inner scope's effective deadline is the outer one, so
                    // it may time out itself a moment before it is dropped.
                    let _ = inner.join().await;
                    std::future::pending::<u32>().await
                });
                let stopped = outer.join().await.unwrap_err();
                assert_eq!(
                    d.load(SeqCst),
                    3,
                    "grandchildren dropped before outer join returned"
                );
                (stopped, start.elapsed())
            });
            assert!(stopped.timed_out());
            assert_eq!(stopped.results, [None]);
            assert_eq!(elapsed, Duration::from_secs(5));
        }
    });
}

#[test]
fn cancelling_outer_scope_cancels_nested_scopes() {
    bounded(Duration::from_secs(60), || {
        for rt in mock_runtimes() {
            let dropped = Arc::new(AtomicUsize::new(0));
            let d = dropped.clone();
            run_task(&rt, async move {
                let outer = Scope::<()>::new();
                let (ready_tx, ready_rx) = oneshot::channel();
                let dc = d.clone();
                outer.spawn(async move {
                    let inner = Scope::<()>::new();
                    let (tx, rx) = oneshot::channel();
                    let guard = DropCounter(dc);
                    inner.spawn(async move {
                        let _guard = guard;
                        let _ = tx.send(());
                        std::future::pending::<()>().await;
                    });
                    rx.await.unwrap();
                    let _ = ready_tx.send(());
                    inner.join().await.unwrap();
                });
                ready_rx.await.unwrap();
                outer.cancel();
                let stopped = outer.join().await.unwrap_err();
                assert_eq!(stopped.reason, StopReason::Cancelled);
                // The abandoned inner scope held the outer one open until its
                // child was dropped.
                assert_eq!(d.load(SeqCst), 1);
            });
            assert_eq!(dropped.load(SeqCst), 1);
        }
    });
}

#[test]
fn shield_survives_cancellation_and_scope_waits_for_it() {
    bounded(Duration::from_secs(60), || {
        for rt in mock_runtimes() {
            let flushed = Arc::new(AtomicBool::new(false));
            let f = flushed.clone();
            let (stopped, elapsed) = run_task(&rt, async move {
                let start = Instant::now();
                let scope = Options::new().timeout(Duration::from_secs(1)).build::<()>();
                scope.spawn(async move {
                    minirt::shield(async move {
                        // Cleanup that takes longer than the scope's deadline.
                        sleep(Duration::from_secs(5)).await;
                        f.store(true, SeqCst);
                    })
                    .await;
                });
                let stopped = scope.join().await.unwrap_err();
                (stopped, start.elapsed())
            });
            assert!(stopped.timed_out());
            assert!(flushed.load(SeqCst), "shielded work ran to completion");
            assert_eq!(
                elapsed,
                Duration::from_secs(5),
                "join waited for the shield"
            );
        }
    });
}

#[test]
fn shield_output_is_returned_when_not_cancelled() {
    bounded(Duration::from_secs(60), || {
        let rt = Builder::current_thread().mock_clock().build().unwrap();
        let out = rt.block_on(async {
            minirt::shield(async {
                sleep(Duration::from_secs(2)).await;
                "flushed"
            })
            .await
        });
        assert_eq!(out, "flushed");
    });
}

#[test]
fn shield_keeps_running_when_the_awaiting_task_is_aborted() {
    bounded(Duration::from_secs(60), || {
        for rt in mock_runtimes() {
            let flushed = Arc::new(AtomicBool::new(false));
            let f = flushed.clone();
            run_task(&rt, async move {
                let (started_tx, started_rx) = oneshot::channel();
                let (done_tx, done_rx) = oneshot::channel();
                let task = minirt::spawn(async move {
                    let flush = minirt::shield(async move {
                        sleep(Duration::from_secs(3)).await;
                        f.store(true, SeqCst);
                        let _ = done_tx.send(());
                    });
                    let _ = started_tx.send(());
                    flush.await;
                });
                started_rx.await.unwrap();
                task.abort();
                assert!(task.await.unwrap_err().is_cancelled());
                // The shielded work still completes, detached.
                done_rx.await.unwrap();
            });
            assert!(flushed.load(SeqCst));
        }
    });
}
