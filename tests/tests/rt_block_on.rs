//! `minirt::block_on` and the current-thread runtime.
#![allow(clippy::async_yields_async)] // tests hand JoinHandles out of block_on on purpose

use minirt_tests::bounded;
use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

#[test]
fn block_on_returns_the_output() {
    bounded(Duration::from_secs(60), || {
        assert_eq!(minirt::block_on(async { 1 + 1 }), 2);
    });
}

#[test]
fn the_thread_runtime_is_reused_between_calls() {
    bounded(Duration::from_secs(60), || {
        // A task spawned in one call keeps existing and finishes in the next.
        let (tx, rx) = std::sync::mpsc::channel();
        let handle = minirt::block_on(async move {
            minirt::spawn(async move {
                minirt::yield_now().await;
                tx.send(5).unwrap();
                5
            })
        });
        assert_eq!(minirt::block_on(handle).unwrap(), 5);
        assert_eq!(rx.recv().unwrap(), 5);
    });
}

#[test]
fn spawned_tasks_run_on_the_calling_thread() {
    bounded(Duration::from_secs(60), || {
        let me = std::thread::current().id();
        let ids = minirt::block_on(async {
            let hs: Vec<_> = (0..4)
                .map(|_| minirt::spawn(async { std::thread::current().id() }))
                .collect();
            let mut ids = vec![];
            for h in hs {
                ids.push(h.await.unwrap());
            }
            ids
        });
        assert!(ids.iter().all(|id| *id == me));
    });
}

#[test]
fn spawn_local_accepts_non_send_futures() {
    bounded(Duration::from_secs(60), || {
        let counter = Rc::new(Cell::new(0));
        let c = counter.clone();
        minirt::block_on(async move {
            let hs: Vec<_> = (0..3)
                .map(|_| {
                    let c = c.clone();
                    minirt::spawn_local(async move { c.set(c.get() + 1) })
                })
                .collect();
            for h in hs {
                h.await.unwrap();
            }
        });
        assert_eq!(counter.get(), 3);
    });
}

#[test]
#[should_panic(expected = "was called from inside a minirt runtime")]
fn nested_block_on_panics_with_advice() {
    bounded(Duration::from_secs(60), || {
        minirt::block_on(async {
            minirt::block_on(async {});
        });
    });
}

#[test]
fn nested_block_on_message_says_what_to_do() {
    bounded(Duration::from_secs(60), || {
        let err =
            std::panic::catch_unwind(|| minirt::block_on(async { minirt::block_on(async {}) }))
                .unwrap_err();
        let msg = err.downcast_ref::<String>().unwrap();
        assert!(msg.contains("minirt::block_on"), "{msg}");
        assert!(
            msg.contains(".await") && msg.contains("spawn_blocking"),
            "{msg}"
        );
        // The thread's runtime still works after the misuse.
        assert_eq!(minirt::block_on(async { 3 }), 3);
    });
}

#[test]
fn block_on_inside_a_task_of_a_multi_thread_runtime_panics() {
    bounded(Duration::from_secs(60), || {
        let rt = minirt::Runtime::new().unwrap();
        let err = rt
            .block_on(rt.spawn(async { minirt::block_on(async {}) }))
            .unwrap_err();
        assert!(err.is_panic());
    });
}

#[test]
#[should_panic(expected = "there is no minirt runtime on this thread")]
fn spawn_outside_a_runtime_panics() {
    bounded(Duration::from_secs(60), || {
        drop(minirt::spawn(async {}));
    });
}

#[test]
#[should_panic(expected = "spawn_local needs a current-thread runtime")]
fn spawn_local_on_a_multi_thread_runtime_panics() {
    bounded(Duration::from_secs(60), || {
        let rt = minirt::Runtime::new().unwrap();
        rt.block_on(async {
            drop(minirt::spawn_local(async {}));
        });
    });
}

#[test]
fn current_thread_runtime_object_spawns_from_other_threads() {
    bounded(Duration::from_secs(60), || {
        let rt = minirt::Builder::current_thread().build().unwrap();
        let handle = rt.handle().clone();
        let join = std::thread::spawn(move || handle.spawn(async { 9 }))
            .join()
            .unwrap();
        assert_eq!(rt.block_on(join).unwrap(), 9);
    });
}

#[test]
fn block_on_wakes_from_another_thread() {
    bounded(Duration::from_secs(60), || {
        let (tx, rx) = std::sync::mpsc::channel::<std::task::Waker>();
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let d = done.clone();
        let t = std::thread::spawn(move || {
            let w = rx.recv().unwrap();
            d.store(true, std::sync::atomic::Ordering::SeqCst);
            w.wake();
        });
        let mut sent = Some(tx);
        minirt::block_on(std::future::poll_fn(|cx| {
            if done.load(std::sync::atomic::Ordering::SeqCst) {
                return std::task::Poll::Ready(());
            }
            if let Some(tx) = sent.take() {
                tx.send(cx.waker().clone()).unwrap();
            }
            std::task::Poll::Pending
        }));
        t.join().unwrap();
    });
}
