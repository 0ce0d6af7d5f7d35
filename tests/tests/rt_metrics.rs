//! `Runtime::metrics` and the `MINIRT_WORKER_THREADS` default. This file
//! is its own test binary (process), so setting the variable here cannot
//! disturb other tests.

use std::sync::{mpsc, Arc, Barrier};

use minirt::Builder;
use minirt_tests::bounded;
use std::time::Duration;

#[test]
fn counters_move_with_the_work() {
    bounded(Duration::from_secs(60), || {
        let rt = Builder::multi_thread().worker_threads(2).build().unwrap();
        let before = rt.metrics();
        assert_eq!(before.workers, 2);
        assert_eq!(before.tasks_spawned, 0);
        rt.block_on(async {
            let hs: Vec<_> = (0..1000).map(|i| minirt::spawn(async move { i })).collect();
            for h in hs {
                h.await.unwrap();
            }
        });
        // A worker adds its polls to the counters after the poll returns, which
        // can be just after the last handle resolved: read them once the
        // workers have stopped (dropping the runtime joins them).
        let handle = rt.handle().clone();
        drop(rt);
        let after = handle.metrics();
        assert_eq!(after.tasks_spawned, 1000);
        assert!(after.polls >= 1000, "{after:?}");
    });
}

#[test]
fn blocking_threads_are_counted() {
    bounded(Duration::from_secs(60), || {
        let rt = Builder::current_thread().build().unwrap();
        let barrier = Arc::new(Barrier::new(3));
        let (tx, rx) = mpsc::channel::<()>();
        let rx = Arc::new(std::sync::Mutex::new(rx));
        let hs: Vec<_> = (0..2)
            .map(|_| {
                let b = barrier.clone();
                let rx = rx.clone();
                rt.spawn_blocking(move || {
                    b.wait();
                    let _ = rx.lock().unwrap().recv();
                })
            })
            .collect();
        barrier.wait();
        let m = rt.metrics();
        assert_eq!(m.blocking_threads, 2);
        assert_eq!(m.blocking_idle_threads, 0);
        drop(tx);
        rt.block_on(async {
            for h in hs {
                h.await.unwrap();
            }
        });
    });
}

#[test]
fn current_thread_metrics() {
    bounded(Duration::from_secs(60), || {
        let rt = Builder::current_thread().build().unwrap();
        rt.block_on(async {
            minirt::spawn(async { minirt::yield_now().await })
                .await
                .unwrap();
        });
        let m = rt.metrics();
        assert_eq!(m.workers, 1);
        assert_eq!(m.tasks_spawned, 1);
        assert!(m.polls >= 2);
    });
}

#[test]
fn worker_threads_default_comes_from_the_environment() {
    bounded(Duration::from_secs(60), || {
        // SAFETY (of the test): this binary's other tests never read the
        // variable concurrently in a way that matters: they set worker_threads
        // explicitly or use the current-thread runtime.
        std::env::set_var(minirt::runtime::WORKER_THREADS_ENV, "3");
        let rt = Builder::multi_thread().build().unwrap();
        assert_eq!(rt.metrics().workers, 3);
        std::env::set_var(minirt::runtime::WORKER_THREADS_ENV, "lots");
        let err = Builder::multi_thread().build().unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("MINIRT_WORKER_THREADS"), "{err}");
        std::env::remove_var(minirt::runtime::WORKER_THREADS_ENV);
    });
}
