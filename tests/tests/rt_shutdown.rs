//! Dropping a runtime cancels its tasks (destructors run), waits for
//! blocking work, and neither leaks nor deadlocks when tasks wake each other.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Barrier};
use std::time::Duration;

use minirt::{Builder, Runtime};
use minirt_tests::bounded;
use minirt_tests::DropCounter;

fn runtimes() -> Vec<Runtime> {
    vec![
        Builder::current_thread().build().unwrap(),
        Builder::multi_thread().worker_threads(2).build().unwrap(),
        Builder::multi_thread().worker_threads(4).build().unwrap(),
    ]
}

#[test]
fn drop_cancels_idle_tasks_and_runs_destructors() {
    bounded(Duration::from_secs(60), || {
        for rt in runtimes() {
            let dropped = Arc::new(AtomicUsize::new(0));
            let handles: Vec<_> = (0..100)
                .map(|_| {
                    let g = DropCounter(dropped.clone());
                    rt.spawn(async move {
                        let _g = g;
                        std::future::pending::<()>().await;
                    })
                })
                .collect();
            // Let them start (current-thread runs them inside block_on).
            rt.block_on(async {
                for _ in 0..10 {
                    minirt::yield_now().await;
                }
            });
            drop(rt);
            assert_eq!(dropped.load(SeqCst), 100);
            for h in handles {
                assert!(h.is_finished());
                assert!(minirt::block_on(h).unwrap_err().is_cancelled());
            }
        }
    });
}

#[test]
fn tasks_waking_each_other_during_shutdown_neither_leak_nor_deadlock() {
    bounded(Duration::from_secs(60), || {
        // Each task holds the waker of the next in a ring; their destructors
        // wake it. Shutdown must absorb those wakes.
        for rt in runtimes() {
            let dropped = Arc::new(AtomicUsize::new(0));
            let n = 64;
            let (tx, rx) = mpsc::channel::<std::task::Waker>();
            let wakers = Arc::new(std::sync::Mutex::new(Vec::<std::task::Waker>::new()));
            for i in 0..n {
                let g = DropCounter(dropped.clone());
                let tx = tx.clone();
                let wakers = wakers.clone();
                drop(rt.spawn(async move {
                    struct WakeOnDrop(Arc<std::sync::Mutex<Vec<std::task::Waker>>>, usize);
                    impl Drop for WakeOnDrop {
                        fn drop(&mut self) {
                            let w = self.0.lock().unwrap();
                            if !w.is_empty() {
                                w[(self.1 + 1) % w.len()].wake_by_ref();
                            }
                        }
                    }
                    let _g = g;
                    let _w = WakeOnDrop(wakers, i);
                    let mut sent = false;
                    std::future::poll_fn(move |cx| {
                        if !sent {
                            tx.send(cx.waker().clone()).unwrap();
                            sent = true;
                        }
                        std::task::Poll::<()>::Pending
                    })
                    .await;
                }));
            }
            drop(tx);
            rt.block_on(async {
                while wakers.lock().unwrap().len() < n {
                    match rx.try_recv() {
                        Ok(w) => wakers.lock().unwrap().push(w),
                        Err(_) => minirt::yield_now().await,
                    }
                }
            });
            drop(rt);
            assert_eq!(dropped.load(SeqCst), n);
            // Every task is freed once the wakers we hold are gone.
            wakers.lock().unwrap().clear();
        }
    });
}

#[test]
fn spawn_during_shutdown_is_cancelled_not_leaked() {
    bounded(Duration::from_secs(60), || {
        for rt in runtimes() {
            let dropped = Arc::new(AtomicUsize::new(0));
            let d = dropped.clone();
            struct SpawnOnDrop(Arc<AtomicUsize>);
            impl Drop for SpawnOnDrop {
                fn drop(&mut self) {
                    let g = DropCounter(self.0.clone());
                    // The runtime is closed: this task is cancelled on the spot.
                    let h = minirt::spawn(async move {
                        let _g = g;
                    });
                    assert!(h.is_finished());
                }
            }
            let s = SpawnOnDrop(d);
            drop(rt.spawn(async move {
                let _s = s;
                std::future::pending::<()>().await;
            }));
            rt.block_on(minirt::yield_now());
            drop(rt);
            assert_eq!(dropped.load(SeqCst), 1);
        }
    });
}

#[test]
fn shutdown_waits_for_running_blocking_work() {
    bounded(Duration::from_secs(60), || {
        for rt in runtimes() {
            let done = Arc::new(AtomicUsize::new(0));
            let d = done.clone();
            let started = Arc::new(Barrier::new(2));
            let s = started.clone();
            drop(rt.spawn_blocking(move || {
                s.wait();
                std::thread::sleep(Duration::from_millis(50)); // the work itself, not ordering
                d.fetch_add(1, SeqCst);
            }));
            started.wait();
            drop(rt);
            assert_eq!(done.load(SeqCst), 1);
        }
    });
}

#[test]
fn shutdown_timeout_bounds_the_wait_for_blocking_work() {
    bounded(Duration::from_secs(60), || {
        let rt = Builder::multi_thread().worker_threads(2).build().unwrap();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let started = Arc::new(Barrier::new(2));
        let s = started.clone();
        drop(rt.spawn_blocking(move || {
            s.wait();
            let _ = release_rx.recv();
        }));
        started.wait();
        // Returns although the closure is still blocked.
        rt.shutdown_timeout(Duration::from_millis(20));
        release_tx.send(()).unwrap();
    });
}

#[test]
fn dropping_a_runtime_inside_another_runtimes_blocking_pool() {
    bounded(Duration::from_secs(60), || {
        let outer = Runtime::new().unwrap();
        let out = outer.spawn_blocking(|| {
            let inner = Builder::multi_thread().worker_threads(2).build().unwrap();
            let v = inner.block_on(inner.spawn(async { 3 })).unwrap();
            drop(inner);
            v
        });
        assert_eq!(outer.block_on(out).unwrap(), 3);
    });
}

#[test]
fn many_runtimes_created_and_dropped() {
    bounded(Duration::from_secs(60), || {
        let rounds = if cfg!(miri) { 2 } else { 50 };
        for _ in 0..rounds {
            for rt in runtimes() {
                let sum: usize = rt.block_on(async {
                    let hs: Vec<_> = (0..100).map(|i| minirt::spawn(async move { i })).collect();
                    let mut s = 0;
                    for h in hs {
                        s += h.await.unwrap();
                    }
                    s
                });
                assert_eq!(sum, 4950);
            }
        }
    });
}
