//! `spawn_blocking` and named blocking pools, through the public API.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use minirt::blocking::BlockingPool;
use minirt::Builder;
use minirt_tests::bounded;

#[test]
fn spawn_blocking_runs_off_the_runtime_thread() {
    bounded(Duration::from_secs(60), || {
        let me = std::thread::current().id();
        let other = minirt::block_on(async {
            minirt::spawn_blocking(|| std::thread::current().id()).await
        })
        .unwrap();
        assert_ne!(me, other);
    });
}

#[test]
fn abort_before_start_prevents_the_closure() {
    bounded(Duration::from_secs(60), || {
        let rt = Builder::current_thread()
            .max_blocking_threads(1)
            .build()
            .unwrap();
        let gate = Arc::new(Barrier::new(2));
        let g = gate.clone();
        let ran = Arc::new(AtomicUsize::new(0));
        let r = ran.clone();
        rt.block_on(async move {
            let first = minirt::spawn_blocking(move || {
                g.wait();
            });
            // The pool has one thread, busy with `first`: this one is queued.
            let second = minirt::spawn_blocking(move || {
                r.fetch_add(1, SeqCst);
            });
            second.abort();
            gate.wait();
            first.await.unwrap();
            assert!(second.await.unwrap_err().is_cancelled());
        });
        assert_eq!(ran.load(SeqCst), 0);
    });
}

#[test]
fn pool_grows_to_its_limit_only() {
    bounded(Duration::from_secs(60), || {
        let rt = Builder::multi_thread()
            .worker_threads(1)
            .max_blocking_threads(3)
            .build()
            .unwrap();
        let barrier = Arc::new(Barrier::new(4));
        let hs: Vec<_> = (0..3)
            .map(|_| {
                let b = barrier.clone();
                rt.spawn_blocking(move || {
                    b.wait();
                })
            })
            .collect();
        // The three closures can only all reach the barrier if three threads run.
        barrier.wait();
        rt.block_on(async {
            for h in hs {
                h.await.unwrap();
            }
        });
        assert!(rt.metrics().blocking_threads <= 3);
    });
}

#[test]
fn blocking_threads_exit_after_keep_alive() {
    bounded(Duration::from_secs(60), || {
        let rt = Builder::current_thread()
            .blocking_keep_alive(Duration::from_millis(20))
            .build()
            .unwrap();
        rt.block_on(async { minirt::spawn_blocking(|| ()).await })
            .unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while rt.metrics().blocking_threads != 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "idle blocking thread never exited"
            );
            std::thread::sleep(Duration::from_millis(5)); // waiting for a condition, not ordering
        }
    });
}

#[test]
fn named_pool_limits_and_join_handles() {
    bounded(Duration::from_secs(60), || {
        let pool = BlockingPool::builder()
            .name("db")
            .max_threads(2)
            .build()
            .unwrap();
        let handles: Vec<_> = (0..8).map(|i| pool.spawn(move || i * 10)).collect();
        let out: Vec<i32> = minirt::block_on(async {
            let mut v = vec![];
            for h in handles {
                v.push(h.await.unwrap());
            }
            v
        });
        assert_eq!(out, (0..8).map(|i| i * 10).collect::<Vec<_>>());
        assert!(pool.live_threads() <= 2);
        let err = BlockingPool::builder().max_threads(0).build().unwrap_err();
        assert!(err.to_string().contains("max_threads"));
    });
}

#[test]
fn spawn_inside_a_blocking_closure_reaches_the_runtime() {
    bounded(Duration::from_secs(60), || {
        let rt = minirt::Runtime::new().unwrap();
        let h = rt
            .block_on(async { minirt::spawn_blocking(|| minirt::spawn(async { 4 })).await })
            .unwrap();
        assert_eq!(rt.block_on(h).unwrap(), 4);
    });
}

#[test]
#[should_panic(expected = "there is no minirt runtime")]
fn spawn_blocking_outside_a_runtime_panics() {
    bounded(Duration::from_secs(60), || {
        drop(minirt::spawn_blocking(|| ()));
    });
}

/// A task that awaits one blocking job after another (a loop of small
/// `fs::read`s) is served by one pool thread: the thread that handed over
/// a result counts as on its way back, so the next job waits for it instead
/// of waking a second thread. On both runtimes and both clocks, with a
/// timer and another task's work running beside it.
#[test]
fn one_job_at_a_time_is_served_by_one_pool_thread() {
    bounded(Duration::from_secs(120), || {
        // Miri's isolation has no file system, and is slow: there the
        // "read" is a closure and the loop is short.
        let rounds = if cfg!(miri) { 12 } else { 300 };
        let path = std::env::temp_dir().join(format!("minirt-one-thread-{}", std::process::id()));
        if !cfg!(miri) {
            std::fs::write(&path, b"0123456789").unwrap();
        }
        let cases = minirt_tests::named_runtimes().into_iter().chain(
            minirt_tests::mock_runtimes()
                .into_iter()
                .map(|rt| ("mock", rt)),
        );
        for (name, rt) in cases {
            let path = path.clone();
            let (sum, ticks) = rt.block_on(async move {
                let ticker = minirt::spawn(async {
                    let mut ticks = 0u32;
                    for _ in 0..5 {
                        minirt::time::sleep(Duration::from_millis(1)).await;
                        ticks += 1;
                    }
                    ticks
                });
                let reader = minirt::spawn(async move {
                    let mut sum = 0usize;
                    for i in 0..rounds {
                        sum += minirt::spawn_blocking(move || i).await.unwrap();
                        sum += if cfg!(miri) {
                            minirt::spawn_blocking(|| vec![0u8; 10])
                                .await
                                .unwrap()
                                .len()
                        } else {
                            minirt::fs::read(&path).await.unwrap().len()
                        };
                    }
                    sum
                });
                (reader.await.unwrap(), ticker.await.unwrap())
            });
            assert_eq!(sum, (rounds - 1) * rounds / 2 + rounds * 10, "{name}");
            assert_eq!(ticks, 5, "{name}");
            assert_eq!(rt.metrics().blocking_threads, 1, "{name}");
        }
        if !cfg!(miri) {
            std::fs::remove_file(&path).unwrap();
        }
    });
}
