//! A sync-boundary scope (`scope_on`) on each runtime kind and clock: the
//! seams between a thread that is not the runtime's, the mock clock's
//! auto-advance and daemon children.

use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::Duration;

use minirt::time::{self, Clock};
use minirt::Builder;
use minirt_tests::bounded;

fn heartbeat_beside_work(rt: &minirt::Runtime) -> (Vec<&'static str>, u32) {
    let beats = AtomicU32::new(0);
    let out = minirt::scope::scope_on(rt.handle(), |s| {
        s.spawn_daemon(async {
            loop {
                time::sleep(Duration::from_secs(1)).await;
                beats.fetch_add(1, SeqCst);
            }
        });
        s.spawn(async {
            time::sleep(Duration::from_millis(3500)).await;
            "work done"
        });
    });
    (out.unwrap(), beats.load(SeqCst))
}

#[test]
fn daemon_heartbeat_counts_exactly_on_multi_thread_mock_clock() {
    bounded(Duration::from_secs(120), || {
        for round in 0..3000 {
            let rt = Builder::multi_thread()
                .worker_threads(2)
                .clock(Clock::mock())
                .build()
                .unwrap();
            let (out, beats) = heartbeat_beside_work(&rt);
            assert_eq!(out, ["work done"]);
            assert_eq!(beats, 3, "round {round}: beats at 1 s, 2 s and 3 s only");
        }
    });
}

#[test]
fn daemon_heartbeat_counts_exactly_on_current_thread_mock_clock() {
    // Nobody drives the current-thread runtime but the scope's owner, which
    // waits in `scope_on`: it must run the children itself.
    bounded(Duration::from_secs(60), || {
        for round in 0..50 {
            let rt = Builder::current_thread()
                .clock(Clock::mock())
                .build()
                .unwrap();
            let (out, beats) = heartbeat_beside_work(&rt);
            assert_eq!(out, ["work done"]);
            assert_eq!(beats, 3, "round {round}: beats at 1 s, 2 s and 3 s only");
        }
    });
}

#[test]
fn scope_on_a_current_thread_runtime_nobody_drives_runs_its_children() {
    bounded(Duration::from_secs(60), || {
        let rt = Builder::current_thread().build().unwrap();
        let name = String::from("minirt");
        let out = minirt::scope::scope_on(rt.handle(), |s| {
            s.spawn(async {
                time::sleep(Duration::from_millis(1)).await;
                name.len()
            });
            s.spawn(async { minirt::spawn_blocking(|| 2).await.unwrap() });
        });
        assert_eq!(out.unwrap(), [6, 2]);
    });
}

#[test]
fn scope_on_a_current_thread_runtime_driven_elsewhere_waits_for_that_driver() {
    // Another thread sits in `block_on` and owns the core: the scope's
    // owner waits for the children it runs.
    bounded(Duration::from_secs(60), || {
        let rt = Builder::current_thread()
            .clock(Clock::mock())
            .build()
            .unwrap();
        let (stop_tx, stop_rx) = minirt::sync::oneshot::channel::<()>();
        std::thread::scope(|t| {
            let handle = rt.handle().clone();
            let driver = t.spawn(move || handle.block_on(async { stop_rx.await.ok() }));
            let out = minirt::scope::scope_on(rt.handle(), |s| {
                s.spawn(async {
                    time::sleep(Duration::from_secs(30)).await;
                    "slept"
                });
            });
            assert_eq!(out.unwrap(), ["slept"]);
            stop_tx.send(()).unwrap();
            assert_eq!(driver.join().unwrap(), Some(()));
        });
    });
}
