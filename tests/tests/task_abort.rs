//! Cancellation is unwinding: abort drops the future at its `.await`,
//! destructors run innermost first, and the JoinHandle resolves after.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Mutex};

use minirt::Builder;
use minirt_tests::bounded;
use minirt_tests::runtimes;
use std::time::Duration;

/// Records its name in a shared log when dropped.
struct Guard(&'static str, Arc<Mutex<Vec<&'static str>>>);
impl Drop for Guard {
    fn drop(&mut self) {
        self.1.lock().unwrap().push(self.0);
    }
}

#[test]
fn abort_drops_locals_innermost_first_before_join_returns() {
    bounded(Duration::from_secs(60), || {
        for rt in runtimes() {
            let log = Arc::new(Mutex::new(Vec::new()));
            let l = log.clone();
            let (started_tx, started_rx) = mpsc::channel();
            let handle = rt.spawn(async move {
                let _outer = Guard("outer", l.clone());
                async {
                    let _inner = Guard("inner", l.clone());
                    started_tx.send(()).unwrap();
                    std::future::pending::<()>().await;
                }
                .await;
            });
            rt.block_on(async {
                // Wait until the task is parked at its `.await`.
                while started_rx.try_recv().is_err() {
                    minirt::yield_now().await;
                }
                handle.abort();
                let err = handle.await.unwrap_err();
                assert!(err.is_cancelled());
                // By the time the handle resolved, both destructors had run.
                assert_eq!(*log.lock().unwrap(), ["inner", "outer"]);
            });
        }
    });
}

#[test]
fn abort_before_first_poll_never_runs_the_body() {
    bounded(Duration::from_secs(60), || {
        // On the current-thread runtime nothing runs until we yield, so the
        // abort always wins.
        let rt = Builder::current_thread().build().unwrap();
        let ran = Arc::new(AtomicBool::new(false));
        let r = ran.clone();
        rt.block_on(async move {
            let h = minirt::spawn(async move { r.store(true, SeqCst) });
            h.abort();
            assert!(h.await.unwrap_err().is_cancelled());
        });
        assert!(!ran.load(SeqCst));

        // On worker threads it races the first poll: whichever wins, the
        // outcome matches whether the body ran.
        let rt = Builder::multi_thread().worker_threads(2).build().unwrap();
        for _ in 0..if cfg!(miri) { 5 } else { 100 } {
            let ran = Arc::new(AtomicBool::new(false));
            let r = ran.clone();
            let h = rt.spawn(async move { r.store(true, SeqCst) });
            h.abort();
            match rt.block_on(h) {
                Ok(()) => assert!(ran.load(SeqCst)),
                Err(e) => assert!(e.is_cancelled() && !ran.load(SeqCst)),
            }
        }
    });
}

#[test]
fn abort_of_a_completed_task_keeps_its_output() {
    bounded(Duration::from_secs(60), || {
        for rt in runtimes() {
            rt.block_on(async {
                let h = minirt::spawn(async { 11 });
                while !h.is_finished() {
                    minirt::yield_now().await;
                }
                h.abort();
                assert_eq!(h.await.unwrap(), 11);
            });
        }
    });
}

#[test]
fn abort_of_a_running_task_takes_effect_after_its_poll() {
    bounded(Duration::from_secs(60), || {
        // The task aborts itself (it is running), then yields: it must not be
        // polled again.
        for rt in runtimes() {
            let polls = Arc::new(AtomicUsize::new(0));
            let p = polls.clone();
            let slot: Arc<Mutex<Option<minirt::AbortHandle>>> = Arc::new(Mutex::new(None));
            let s = slot.clone();
            let (go_tx, go_rx) = mpsc::channel::<()>();
            let h = rt.spawn(async move {
                go_rx.recv().unwrap();
                p.fetch_add(1, SeqCst);
                s.lock().unwrap().as_ref().unwrap().abort();
                minirt::yield_now().await;
                p.fetch_add(1, SeqCst);
            });
            *slot.lock().unwrap() = Some(h.abort_handle());
            go_tx.send(()).unwrap();
            assert!(rt.block_on(h).unwrap_err().is_cancelled());
            assert_eq!(polls.load(SeqCst), 1);
        }
    });
}

#[test]
fn abort_from_another_thread() {
    bounded(Duration::from_secs(60), || {
        for rt in runtimes() {
            let h = rt.spawn(std::future::pending::<()>());
            let abort = h.abort_handle();
            std::thread::spawn(move || abort.abort()).join().unwrap();
            assert!(rt.block_on(h).unwrap_err().is_cancelled());
        }
    });
}

#[test]
fn abort_racing_completion_gives_output_or_cancelled() {
    bounded(Duration::from_secs(60), || {
        // Whichever wins, the handle resolves exactly once, and the body ran
        // either fully or not past its await.
        for rt in runtimes() {
            for _ in 0..200 {
                let h = rt.spawn(async {
                    minirt::yield_now().await;
                    1
                });
                let a = h.abort_handle();
                let t = std::thread::spawn(move || a.abort());
                match rt.block_on(h) {
                    Ok(v) => assert_eq!(v, 1),
                    Err(e) => assert!(e.is_cancelled()),
                }
                t.join().unwrap();
            }
        }
    });
}

#[test]
fn dropping_the_handle_detaches_and_the_task_still_runs() {
    bounded(Duration::from_secs(60), || {
        for rt in runtimes() {
            let (tx, rx) = mpsc::channel();
            rt.block_on(async move {
                drop(minirt::spawn(async move {
                    minirt::yield_now().await;
                    tx.send("ran").unwrap();
                }));
            });
            // The current-thread runtime runs it on the next block_on.
            rt.block_on(async {
                loop {
                    if let Ok(msg) = rx.try_recv() {
                        assert_eq!(msg, "ran");
                        break;
                    }
                    minirt::yield_now().await;
                }
            });
        }
    });
}

#[test]
fn panic_in_a_destructor_during_cancellation_is_reported() {
    bounded(Duration::from_secs(60), || {
        struct PanicOnDrop;
        impl Drop for PanicOnDrop {
            fn drop(&mut self) {
                panic!("destructor panicked");
            }
        }
        for rt in runtimes() {
            rt.block_on(async {
                let (tx, rx) = mpsc::channel();
                let h = minirt::spawn(async move {
                    let _p = PanicOnDrop;
                    tx.send(()).unwrap();
                    std::future::pending::<()>().await;
                });
                while rx.try_recv().is_err() {
                    minirt::yield_now().await;
                }
                h.abort();
                let err = h.await.unwrap_err();
                assert!(err.is_panic());
                let payload = err.into_panic();
                assert_eq!(
                    *payload.downcast_ref::<&str>().unwrap(),
                    "destructor panicked"
                );
            });
        }
    });
}
