//! The async `Scope`: fail-fast panics, try scopes, supervisors, limits,
//! lazily-created children, cancellation from inside, outside and by
//! dropping the owner, and results in spawn or completion order.

use std::any::Any;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use minirt::scope::{Options, Outcome, Scope, StopReason, TryJoinError};
use minirt::sync::oneshot;
use minirt::Builder;
use minirt_tests::bounded;
use minirt_tests::{runtimes, DropCounter};

/// Catches a panic raised while polling the inner future.
struct CatchUnwind<F>(Pin<Box<F>>);
impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Box<dyn Any + Send>>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.0.as_mut();
        match catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Err(p) => Poll::Ready(Err(p)),
        }
    }
}

#[test]
fn panic_resumes_in_owner_with_payload_after_siblings_dropped() {
    bounded(Duration::from_secs(60), || {
        for rt in runtimes() {
            let dropped = Arc::new(AtomicUsize::new(0));
            let d = dropped.clone();
            rt.block_on(async move {
                let scope = Scope::<()>::new();
                let mut started = Vec::new();
                for _ in 0..4 {
                    let (tx, rx) = oneshot::channel();
                    started.push(rx);
                    let guard = DropCounter(d.clone());
                    scope.spawn(async move {
                        let _guard = guard;
                        let _ = tx.send(());
                        std::future::pending::<()>().await;
                    });
                }
                scope.spawn(async move {
                    for rx in started {
                        rx.await.unwrap(); // every sibling is parked at its .await
                    }
                    std::panic::panic_any(42u32);
                });
                let caught = CatchUnwind(Box::pin(scope.join())).await;
                let payload = caught.expect_err("the child's panic resumes in the owner");
                assert_eq!(*payload.downcast::<u32>().unwrap(), 42);
                // By the time the panic reached us, every sibling was dropped.
                assert_eq!(d.load(SeqCst), 4);
            });
            assert_eq!(dropped.load(SeqCst), 4);
        }
    });
}

#[test]
fn try_join_returns_first_err_and_cancels_siblings() {
    bounded(Duration::from_secs(60), || {
        for rt in runtimes() {
            let dropped = Arc::new(AtomicUsize::new(0));
            let d = dropped.clone();
            let out = rt.block_on(async move {
                let scope = Scope::<Result<u32, String>>::new_try();
                let guard = DropCounter(d.clone());
                scope.spawn(async move {
                    let _guard = guard;
                    std::future::pending().await
                });
                scope.spawn(async { Ok(1) });
                scope.spawn(async { Err("bad input".to_string()) });
                scope.try_join().await
            });
            match out {
                Err(TryJoinError::Failed(e)) => assert_eq!(e, "bad input"),
                other => panic!("expected Failed, got {other:?}"),
            }
            assert_eq!(dropped.load(SeqCst), 1);
        }
    });
}

#[test]
fn supervisor_collects_outcomes_while_siblings_keep_running() {
    bounded(Duration::from_secs(60), || {
        for rt in runtimes() {
            let report = rt.block_on(async {
                let scope = Scope::supervisor();
                let (tx, rx) = oneshot::channel::<()>();
                // Child 0 fails first; child 1 finishes only after that.
                scope.spawn(async move {
                    let _tx = tx; // dropped by the panic: wakes child 1
                    panic!("child 0 fails");
                });
                scope.spawn(async move {
                    let _ = rx.await;
                    "still served"
                });
                scope.spawn(async { "also fine" });
                scope.outcomes().await
            });
            assert_eq!(report.stopped, None);
            assert!(report.outcomes[0].is_panicked());
            let rest: Vec<_> = report
                .outcomes
                .into_iter()
                .skip(1)
                .map(Outcome::completed)
                .collect();
            assert_eq!(rest, [Some("still served"), Some("also fine")]);
        }
    });
}

#[test]
fn results_are_in_spawn_order() {
    bounded(Duration::from_secs(60), || {
        for rt in runtimes() {
            let out = rt.block_on(async {
                let scope = Scope::new();
                for i in 0..100u32 {
                    scope.spawn(async move {
                        for _ in 0..(i % 3) {
                            minirt::yield_now().await;
                        }
                        i
                    });
                }
                scope.join().await.unwrap()
            });
            assert_eq!(out, (0..100).collect::<Vec<_>>());
        }
    });
}

#[test]
fn concurrency_never_exceeds_the_limit() {
    bounded(Duration::from_secs(60), || {
        for rt in runtimes() {
            let running = Arc::new(AtomicUsize::new(0));
            let high = Arc::new(AtomicUsize::new(0));
            let (r, h) = (running.clone(), high.clone());
            let out = rt.block_on(async move {
                let scope = Options::new().max_concurrency(3).build();
                for i in 0..60usize {
                    let (r, h) = (r.clone(), h.clone());
                    scope.spawn(async move {
                        let now = r.fetch_add(1, SeqCst) + 1;
                        h.fetch_max(now, SeqCst);
                        for _ in 0..3 {
                            minirt::yield_now().await;
                        }
                        r.fetch_sub(1, SeqCst);
                        i
                    });
                }
                scope.join().await.unwrap()
            });
            assert_eq!(out.len(), 60);
            let high = high.load(SeqCst);
            assert!((1..=3).contains(&high), "high-water mark {high}");
        }
    });
}

#[test]
fn lazily_created_children_are_built_only_when_a_slot_frees() {
    bounded(Duration::from_secs(60), || {
        const CHILDREN: usize = if cfg!(miri) { 100 } else { 100_000 };
        let rt = Builder::current_thread().build().unwrap();
        let built = Arc::new(AtomicUsize::new(0));
        let finished = Arc::new(AtomicUsize::new(0));
        let high = Arc::new(AtomicUsize::new(0));
        let (b, f, h) = (built.clone(), finished.clone(), high.clone());
        rt.block_on(async move {
            let scope = Options::new().max_concurrency(2).build();
            for _ in 0..CHILDREN {
                let (b, f, h) = (b.clone(), f.clone(), h.clone());
                scope.spawn_with(move || {
                    // Futures alive right now, counting this one.
                    let live = b.fetch_add(1, SeqCst) + 1 - f.load(SeqCst);
                    h.fetch_max(live, SeqCst);
                    let guard = DropCounter(f);
                    async move {
                        minirt::yield_now().await;
                        drop(guard);
                    }
                });
            }
            // Nothing ran yet: no future exists for any queued child.
            assert_eq!(b.load(SeqCst), 0);
            let done = scope.join().await.unwrap();
            assert_eq!(done.len(), CHILDREN);
        });
        assert_eq!(built.load(SeqCst), CHILDREN);
        assert_eq!(finished.load(SeqCst), CHILDREN);
        let high = high.load(SeqCst);
        assert!((1..=2).contains(&high), "high-water mark {high}");
    });
}

#[test]
fn live_futures_never_exceed_the_limit() {
    bounded(Duration::from_secs(60), || {
        let rt = Builder::multi_thread().worker_threads(2).build().unwrap();
        let live = Arc::new(AtomicUsize::new(0));
        let high = Arc::new(AtomicUsize::new(0));
        let (l, h) = (live.clone(), high.clone());
        rt.block_on(async move {
            let scope = Options::new().max_concurrency(4).build();
            for _ in 0..2000 {
                let (l, h) = (l.clone(), h.clone());
                scope.spawn_with(move || {
                    h.fetch_max(l.fetch_add(1, SeqCst) + 1, SeqCst);
                    struct Live(Arc<AtomicUsize>);
                    impl Drop for Live {
                        fn drop(&mut self) {
                            self.0.fetch_sub(1, SeqCst);
                        }
                    }
                    let live = Live(l);
                    async move {
                        minirt::yield_now().await;
                        drop(live);
                    }
                });
            }
            scope.join().await.unwrap();
        });
        assert_eq!(live.load(SeqCst), 0);
        let high = high.load(SeqCst);
        assert!((1..=4).contains(&high), "high-water mark {high}");
    });
}

#[test]
fn cancel_from_outside_drops_children_and_keeps_completed_results() {
    bounded(Duration::from_secs(60), || {
        for rt in runtimes() {
            let dropped = Arc::new(AtomicUsize::new(0));
            let d = dropped.clone();
            let stopped = rt.block_on(async move {
                let scope = Scope::new();
                let (done_tx, done_rx) = oneshot::channel();
                scope.spawn(async move {
                    let _ = done_tx.send(());
                    7
                });
                for _ in 0..3 {
                    let guard = DropCounter(d.clone());
                    scope.spawn(async move {
                        let _guard = guard;
                        std::future::pending().await
                    });
                }
                // Child 0 completes in the poll that sent this.
                done_rx.await.unwrap();
                scope.cancel();
                let stopped = scope.join().await.unwrap_err();
                assert_eq!(d.load(SeqCst), 3, "destructors ran before join returned");
                stopped
            });
            assert_eq!(stopped.reason, StopReason::Cancelled);
            assert_eq!(stopped.results.len(), 4);
            assert_eq!(stopped.results[0], Some(7));
            assert!(stopped.results[1..].iter().all(Option::is_none));
            assert_eq!(dropped.load(SeqCst), 3);
        }
    });
}

#[test]
fn cancel_from_inside_a_child() {
    bounded(Duration::from_secs(60), || {
        for rt in runtimes() {
            let dropped = Arc::new(AtomicUsize::new(0));
            let d = dropped.clone();
            let stopped = rt.block_on(async move {
                let scope = Scope::<u8>::new();
                let handle = scope.handle();
                let (tx, rx) = oneshot::channel();
                let guard = DropCounter(d.clone());
                scope.spawn(async move {
                    let _guard = guard;
                    let _ = tx.send(());
                    std::future::pending().await
                });
                scope.spawn(async move {
                    rx.await.unwrap();
                    handle.cancel();
                    std::future::pending().await
                });
                scope.join().await.unwrap_err()
            });
            assert_eq!(stopped.reason, StopReason::Cancelled);
            assert_eq!(dropped.load(SeqCst), 1);
        }
    });
}

#[test]
fn cancelling_the_awaiting_task_cancels_children() {
    bounded(Duration::from_secs(60), || {
        for rt in runtimes() {
            let dropped = Arc::new(AtomicUsize::new(0));
            let d = dropped.clone();
            rt.block_on(async move {
                let mut drops = Vec::new();
                let mut starts = Vec::new();
                let mut guards = Vec::new();
                for _ in 0..3 {
                    let (drop_tx, drop_rx) = oneshot::channel::<()>();
                    let (start_tx, start_rx) = oneshot::channel::<()>();
                    drops.push(drop_rx);
                    starts.push(start_rx);
                    guards.push((drop_tx, start_tx, DropCounter(d.clone())));
                }
                let owner = minirt::spawn(async move {
                    let scope = Scope::<()>::new();
                    for (drop_tx, start_tx, counter) in guards {
                        scope.spawn(async move {
                            // Dropped in order: count, then close the channel.
                            let _on_drop = (counter, drop_tx);
                            let _ = start_tx.send(());
                            std::future::pending::<()>().await;
                        });
                    }
                    scope.join().await.unwrap();
                });
                for s in starts {
                    s.await.unwrap();
                }
                owner.abort();
                assert!(owner.await.unwrap_err().is_cancelled());
                // Each receiver resolves (with an error) once its child was dropped.
                for rx in drops {
                    assert!(rx.await.is_err());
                }
                assert_eq!(d.load(SeqCst), 3);
            });
        }
    });
}

#[test]
fn children_spawn_grandchildren_into_the_same_scope() {
    bounded(Duration::from_secs(60), || {
        for rt in runtimes() {
            let mut out = rt.block_on(async {
                let scope = Scope::new();
                let handle = scope.handle();
                for i in 0..5u32 {
                    let handle = handle.clone();
                    scope.spawn(async move {
                        for j in 0..3 {
                            let handle2 = handle.clone();
                            handle.spawn(async move {
                                handle2.spawn(async move { 1000 + i * 10 + j });
                                100 + i * 10 + j
                            });
                        }
                        i
                    });
                }
                drop(handle);
                scope.join().await.unwrap()
            });
            assert_eq!(out.len(), 5 + 15 + 15);
            out.sort();
            assert_eq!(&out[..5], &[0, 1, 2, 3, 4]);
        }
    });
}

#[test]
fn next_completed_yields_in_completion_order() {
    bounded(Duration::from_secs(60), || {
        let rt = Builder::current_thread().build().unwrap();
        rt.block_on(async {
            let mut scope = Scope::new();
            let (tx, rx) = oneshot::channel::<()>();
            scope.spawn(async move {
                let _ = rx.await;
                "slow"
            });
            scope.spawn(async move {
                let _ = tx.send(());
                "fast"
            });
            let (i, first) = scope.next_completed().await.unwrap();
            assert_eq!((i, first.completed()), (1, Some("fast")));
            let (i, second) = scope.next_completed().await.unwrap();
            assert_eq!((i, second.completed()), (0, Some("slow")));
            assert!(scope.next_completed().await.is_none());
            // Taken outcomes are not returned again.
            assert!(scope.join().await.unwrap().is_empty());
        });
    });
}

#[test]
fn spawning_after_join_is_refused() {
    bounded(Duration::from_secs(60), || {
        let rt = Builder::current_thread().build().unwrap();
        rt.block_on(async {
            let scope = Scope::new();
            let handle = scope.handle();
            scope.spawn(async { 1 });
            assert_eq!(scope.join().await.unwrap(), [1]);
            assert_eq!(handle.spawn(async { 2 }), None);
        });
    });
}

#[test]
fn timeout_reports_partial_results_under_mock_clock() {
    bounded(Duration::from_secs(60), || {
        let rt = Builder::current_thread().mock_clock().build().unwrap();
        let (stopped, elapsed) = rt.block_on(async {
            let start = minirt::time::Instant::now();
            let scope = Options::new().timeout(Duration::from_millis(3500)).build();
            for secs in 1..=5u64 {
                scope.spawn(async move {
                    minirt::time::sleep(Duration::from_secs(secs)).await;
                    secs
                });
            }
            let stopped = scope.join().await.unwrap_err();
            (stopped, start.elapsed())
        });
        assert!(stopped.timed_out());
        assert_eq!(stopped.results, [Some(1), Some(2), Some(3), None, None]);
        assert_eq!(elapsed, Duration::from_millis(3500));
    });
}

#[test]
fn scope_finishing_before_its_deadline_is_not_stopped() {
    bounded(Duration::from_secs(60), || {
        let rt = Builder::current_thread().mock_clock().build().unwrap();
        let out = rt.block_on(async {
            let scope = Options::new().timeout(Duration::from_secs(10)).build();
            scope.spawn(async {
                minirt::time::sleep(Duration::from_secs(1)).await;
                1
            });
            scope.join().await
        });
        assert_eq!(out.unwrap(), [1]);
    });
}

#[test]
fn children_run_in_parallel_on_a_multi_thread_runtime() {
    bounded(Duration::from_secs(60), || {
        let rt = Builder::multi_thread().worker_threads(2).build().unwrap();
        let barrier = Arc::new(std::sync::Barrier::new(2));
        let out = rt.block_on(async move {
            let scope = Scope::new();
            for i in 0..2 {
                let barrier = barrier.clone();
                // Both children must be inside `wait` at once to get past it.
                scope.spawn(async move {
                    barrier.wait();
                    i
                });
            }
            scope.join().await.unwrap()
        });
        assert_eq!(out, [0, 1]);
    });
}

#[test]
fn join_reports_the_stop_after_next_completed_took_the_cancelled_children() {
    // Regression: once `next_completed` had handed out every `Cancelled`
    // outcome, `join` returned `Ok` as if the scope had not been cut short.
    bounded(Duration::from_secs(60), || {
        let rt = Builder::current_thread().mock_clock().build().unwrap();
        rt.block_on(async {
            let mut scope = Options::new().timeout(Duration::from_millis(10)).build();
            scope.spawn(std::future::pending());
            scope.spawn(async { 7u32 });
            let mut seen = Vec::new();
            while let Some((i, outcome)) = scope.next_completed().await {
                seen.push((i, outcome.is_cancelled()));
            }
            assert_eq!(seen, [(1, false), (0, true)]);
            let stopped = scope.join().await.unwrap_err();
            assert_eq!(stopped.reason, StopReason::TimedOut);
            assert!(stopped.results.is_empty(), "taken outcomes are left out");

            // The same for `outcomes()` and for a plain `cancel()`.
            let mut scope = Scope::<u32>::new();
            scope.spawn(std::future::pending());
            scope.cancel();
            let (i, outcome) = scope.next_completed().await.unwrap();
            assert!(i == 0 && outcome.is_cancelled());
            let report = scope.outcomes().await;
            assert_eq!(report.stopped, Some(StopReason::Cancelled));
            assert!(report.outcomes.is_empty());
        });
    });
}

#[test]
fn supervisor_join_resumes_the_first_panic_in_spawn_order() {
    // As documented on `join` and `TryJoinError::Failed`: beyond the failure
    // that stops a fail-fast scope, "first" is in spawn order.
    bounded(Duration::from_secs(60), || {
        for rt in runtimes() {
            let payload = catch_unwind(AssertUnwindSafe(|| {
                rt.block_on(async {
                    let scope = Scope::<()>::supervisor();
                    let (tx, rx) = oneshot::channel::<()>();
                    // Child 0 panics only after child 1 did.
                    scope.spawn(async move {
                        let _ = rx.await;
                        std::panic::panic_any(0u32);
                    });
                    scope.spawn(async move {
                        let _tx = tx; // dropped by the panic: wakes child 0
                        std::panic::panic_any(1u32);
                    });
                    scope.join().await.unwrap();
                })
            }))
            .expect_err("a supervisor's join resumes a child's panic");
            assert_eq!(*payload.downcast::<u32>().unwrap(), 0);

            let failed = rt.block_on(async {
                let scope = Options::new().supervisor().build_try::<(), u32>();
                let (tx, rx) = oneshot::channel::<()>();
                scope.spawn(async move {
                    let _ = rx.await;
                    Err(0)
                });
                scope.spawn(async move {
                    drop(tx);
                    Err(1)
                });
                scope.try_join().await
            });
            assert!(matches!(failed, Err(TryJoinError::Failed(0))), "{failed:?}");
        }
    });
}
