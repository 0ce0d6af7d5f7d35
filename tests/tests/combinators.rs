//! `run`, `completed`, `completed_ordered`, `join!`, `join_all`,
//! `try_join_all`, through the public API.

use minirt_tests::bounded;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

type BoxFut<T> = Pin<Box<dyn Future<Output = T>>>;

/// A future that yields `n` times, then returns `value`. `started` counts
/// futures that were polled at least once, `finished` those that completed,
/// so tests can prove concurrency without sleeping.
fn yielding(
    n: usize,
    value: usize,
    started: Arc<AtomicUsize>,
    finished: Arc<AtomicUsize>,
) -> BoxFut<(usize, usize)> {
    Box::pin(async move {
        started.fetch_add(1, SeqCst);
        for _ in 0..n {
            minirt::yield_now().await;
        }
        // How many had started when this one finished.
        let seen = started.load(SeqCst);
        finished.fetch_add(1, SeqCst);
        (value, seen)
    })
}

fn counters() -> (Arc<AtomicUsize>, Arc<AtomicUsize>) {
    (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)))
}

#[test]
fn run_keeps_input_order_when_futures_finish_out_of_order() {
    bounded(Duration::from_secs(60), || {
        let (s, f) = counters();
        let futs: Vec<_> = [5, 1, 3, 2]
            .iter()
            .enumerate()
            .map(|(i, &n)| yielding(n, i, s.clone(), f.clone()))
            .collect();
        let out = minirt::run(futs);
        assert_eq!(
            out.iter().map(|(v, _)| *v).collect::<Vec<_>>(),
            [0, 1, 2, 3]
        );
        // Every future had started before any finished: they ran concurrently.
        assert!(out.iter().all(|(_, seen)| *seen == 4), "{out:?}");
    });
}

#[test]
fn completed_yields_in_finish_order() {
    bounded(Duration::from_secs(60), || {
        let (s, f) = counters();
        let futs: Vec<_> = [6, 0, 4, 2]
            .iter()
            .enumerate()
            .map(|(i, &n)| yielding(n, i, s.clone(), f.clone()))
            .collect();
        let order: Vec<usize> = minirt::completed(futs).map(|(v, _)| v).collect();
        assert_eq!(order, [1, 3, 2, 0]);
    });
}

#[test]
fn completed_ordered_yields_in_input_order_while_running_concurrently() {
    bounded(Duration::from_secs(60), || {
        let (s, f) = counters();
        let futs: Vec<_> = [4, 0, 2]
            .iter()
            .enumerate()
            .map(|(i, &n)| yielding(n, i, s.clone(), f.clone()))
            .collect();
        let mut it = minirt::completed_ordered(futs);
        let (first, seen) = it.next().unwrap();
        assert_eq!(first, 0);
        // When the slowest (first) future finished, the others had finished too:
        // they kept running while we waited for the first.
        assert_eq!(seen, 3);
        assert_eq!(f.load(SeqCst), 3);
        assert_eq!(it.map(|(v, _)| v).collect::<Vec<_>>(), [1, 2]);
    });
}

#[test]
fn run_returns_errors_as_values() {
    bounded(Duration::from_secs(60), || {
        let futs: Vec<BoxFut<Result<u8, String>>> = vec![
            Box::pin(async { Ok(1) }),
            Box::pin(async { Err("refused".to_owned()) }),
            Box::pin(async { Ok(3) }),
        ];
        let out = minirt::run(futs);
        assert_eq!(out, [Ok(1), Err("refused".to_owned()), Ok(3)]);
    });
}

#[test]
fn join_macro_and_try_join_all() {
    bounded(Duration::from_secs(60), || {
        minirt::block_on(async {
            let (a, b, c) = minirt::join!(async { 1 }, async { "two" }, async {
                minirt::yield_now().await;
                3.0
            });
            assert_eq!((a, b, c), (1, "two", 3.0));

            let dropped = Arc::new(AtomicUsize::new(0));
            struct Guard(Arc<AtomicUsize>);
            impl Drop for Guard {
                fn drop(&mut self) {
                    self.0.fetch_add(1, SeqCst);
                }
            }
            let futs: Vec<BoxFut<Result<(), &str>>> = (0..5)
                .map(|i| {
                    let g = Guard(dropped.clone());
                    Box::pin(async move {
                        let _g = g;
                        if i == 2 {
                            return Err("third failed");
                        }
                        std::future::pending::<()>().await;
                        Ok(())
                    }) as BoxFut<_>
                })
                .collect();
            let err = minirt::future::try_join_all(futs).await.unwrap_err();
            assert_eq!(err, "third failed");
            assert_eq!(dropped.load(SeqCst), 5, "the rest were dropped");
        });
    });
}

#[test]
fn runtime_run_on_a_multi_thread_runtime() {
    bounded(Duration::from_secs(60), || {
        let rt = minirt::Runtime::new().unwrap();
        let out = rt.run(
            (0..10).map(|i| async move { minirt::spawn(async move { i * i }).await.unwrap() }),
        );
        assert_eq!(out, (0..10).map(|i| i * i).collect::<Vec<_>>());
    });
}
