//! A panic in every kind of user code the runtime calls, on both runtimes.
//! The expected outcome of each, in one line:
//!
//! | user code that panics | outcome |
//! | --- | --- |
//! | `on_thread_start` / `on_thread_stop` hook | caught; the thread runs (and exits) as usual |
//! | a blocking job | its `JoinHandle` returns a panic `JoinError`; the pool keeps serving |
//! | a waker woken by a primitive (oneshot, mpsc, `Notify`) on a plain thread | the panic unwinds out of the call that woke it (`send`, `notify_one`), as with any waker; the value is delivered all the same |
//! | a waker woken by the runtime's timer driver | caught in the driver; the runtime keeps running its other timers and tasks |
//! | `Drop` of a task's output nobody reads | caught and ignored; the runtime keeps working |
//! | `Drop` of a task's future on abort | the task's `JoinHandle` reports the panic |
//! | `Drop` of a task's future at runtime shutdown | caught; the other tasks are still dropped; `drop(rt)` returns |

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Barrier};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use minirt::{Builder, Runtime};
use minirt_tests::{bounded, named_runtimes};

const LIMIT: Duration = Duration::from_secs(60);

fn builders() -> Vec<(&'static str, Builder)> {
    vec![
        ("current_thread", Builder::current_thread()),
        ("multi_thread", Builder::multi_thread().worker_threads(2)),
    ]
}

/// A waker whose `wake` panics (after counting the call).
struct PanickingWaker(AtomicUsize);
impl Wake for PanickingWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
        panic!("a waker that panics");
    }
}

fn panicking_waker() -> (Arc<PanickingWaker>, Waker) {
    let inner = Arc::new(PanickingWaker(AtomicUsize::new(0)));
    (inner.clone(), Waker::from(inner))
}

/// Counts its drops, panicking in each.
struct PanicOnDrop(Arc<AtomicUsize>);
impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
        panic!("a destructor that panics");
    }
}

/// Counts its drops.
struct CountDrop(Arc<AtomicUsize>);
impl Drop for CountDrop {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

fn works(name: &str, rt: &Runtime) {
    let spawned = rt.block_on(async { minirt::spawn(async { 1 }).await.unwrap() });
    let blocking = rt.block_on(async { minirt::spawn_blocking(|| 2).await.unwrap() });
    assert_eq!(
        (spawned, blocking),
        (1, 2),
        "{name}: runtime stopped working"
    );
}

#[test]
fn a_panicking_thread_start_hook_does_not_stop_the_thread() {
    bounded(LIMIT, || {
        for (name, builder) in builders() {
            let calls = Arc::new(AtomicUsize::new(0));
            let c = calls.clone();
            let rt = builder
                .on_thread_start(move || {
                    c.fetch_add(1, SeqCst);
                    panic!("start hook");
                })
                .build()
                .unwrap();
            works(name, &rt);
            // Both workers serve: two tasks that wait for each other at a
            // barrier complete only if both run at once.
            if name == "multi_thread" {
                let barrier = Arc::new(Barrier::new(2));
                let handles: Vec<_> = (0..2)
                    .map(|_| {
                        let barrier = barrier.clone();
                        rt.spawn(async move {
                            barrier.wait();
                        })
                    })
                    .collect();
                rt.block_on(async {
                    for h in handles {
                        h.await.unwrap();
                    }
                });
            }
            // Every worker (none for current_thread) and the blocking thread
            // ran the hook. Counted only now: a worker runs its hook when its
            // thread starts, which `build` does not wait for, and the
            // barrier above is what proves both workers have started.
            let expected = if name == "multi_thread" { 3 } else { 1 };
            assert!(calls.load(SeqCst) >= expected, "{name}");
        }
    });
}

#[test]
fn a_panicking_thread_stop_hook_does_not_stop_shutdown() {
    bounded(LIMIT, || {
        for (name, builder) in builders() {
            let calls = Arc::new(AtomicUsize::new(0));
            let c = calls.clone();
            let rt = builder
                .on_thread_stop(move || {
                    c.fetch_add(1, SeqCst);
                    panic!("stop hook");
                })
                .build()
                .unwrap();
            works(name, &rt);
            drop(rt);
            let expected = if name == "multi_thread" { 2 } else { 0 };
            assert!(calls.load(SeqCst) >= expected, "{name}: {calls:?}");
        }
    });
}

#[test]
fn a_panicking_blocking_job_is_reported_on_its_handle() {
    bounded(LIMIT, || {
        for (name, rt) in named_runtimes() {
            rt.block_on(async {
                let err = minirt::spawn_blocking(|| panic!("blocking job"))
                    .await
                    .unwrap_err();
                assert!(err.is_panic(), "{name}");
                // The same pool thread (or a new one) serves the next job.
                for i in 0..4 {
                    assert_eq!(minirt::spawn_blocking(move || i).await.unwrap(), i);
                }
            });
        }
    });
}

/// Polls `future` once with `waker`; returns whether it was pending.
fn poll_once_with<F: Future>(future: std::pin::Pin<&mut F>, waker: &Waker) -> bool {
    future.poll(&mut Context::from_waker(waker)).is_pending()
}

#[test]
fn a_panicking_waker_woken_by_a_oneshot_send_on_a_plain_thread() {
    bounded(LIMIT, || {
        let (tx, rx) = minirt::sync::oneshot::channel::<u32>();
        let mut rx = pin!(rx);
        let (count, waker) = panicking_waker();
        assert!(poll_once_with(rx.as_mut(), &waker));
        let sender = std::thread::spawn(move || {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| tx.send(5))).is_err()
        });
        assert!(
            sender.join().unwrap(),
            "the waker's panic unwinds out of send"
        );
        assert_eq!(count.0.load(SeqCst), 1);
        // The value was stored before the wake: the receiver gets it.
        let out = rx.as_mut().poll(&mut Context::from_waker(Waker::noop()));
        assert!(matches!(out, Poll::Ready(Ok(5))), "{out:?}");
    });
}

#[test]
fn a_panicking_waker_woken_by_mpsc_and_notify_on_a_plain_thread() {
    bounded(LIMIT, || {
        // mpsc: the message is queued before the wake.
        let (tx, mut rx) = minirt::sync::mpsc::channel::<u32>(4);
        let (count, waker) = panicking_waker();
        {
            let recv = pin!(rx.recv());
            assert!(poll_once_with(recv, &waker));
        }
        let sender = std::thread::spawn(move || {
            let mut send = pin!(tx.send(9));
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                send.as_mut()
                    .poll(&mut Context::from_waker(Waker::noop()))
                    .is_ready()
            }))
        });
        let outcome = sender.join().unwrap();
        assert!(outcome.is_err(), "the waker's panic unwinds out of send");
        assert_eq!(count.0.load(SeqCst), 1);
        let recv = pin!(rx.recv());
        let got = recv.poll(&mut Context::from_waker(Waker::noop()));
        assert!(matches!(got, Poll::Ready(Some(9))), "{got:?}");

        // Notify: a later waiter still gets notified.
        let notify = Arc::new(minirt::sync::Notify::new());
        let (_count, waker) = panicking_waker();
        let mut first = pin!(notify.notified());
        assert!(poll_once_with(first.as_mut(), &waker));
        let n = notify.clone();
        let woke = std::thread::spawn(move || {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| n.notify_one())).is_err()
        })
        .join()
        .unwrap();
        assert!(woke, "the waker's panic unwinds out of notify_one");
        assert!(first
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
            .is_ready());
        let mut second = pin!(notify.notified());
        assert!(poll_once_with(second.as_mut(), Waker::noop()));
        notify.notify_one();
        assert!(second
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
            .is_ready());
    });
}

#[test]
fn a_panicking_waker_woken_by_the_timer_driver() {
    bounded(LIMIT, || {
        for (name, builder) in builders() {
            let rt = builder.mock_clock().build().unwrap();
            let count = rt.block_on(async {
                // A sleep registered with a waker that panics when the
                // driver fires it.
                let (count, waker) = panicking_waker();
                let mut bad = Box::pin(minirt::time::sleep(Duration::from_millis(5)));
                assert!(poll_once_with(bad.as_mut(), &waker));
                // Other timers and tasks keep working past it.
                minirt::time::sleep(Duration::from_millis(10)).await;
                let h = minirt::spawn(async {
                    minirt::time::sleep(Duration::from_millis(10)).await;
                    4
                });
                assert_eq!(h.await.unwrap(), 4, "{name}");
                drop(bad);
                count
            });
            assert_eq!(count.0.load(SeqCst), 1, "{name}: the bad waker fired once");
            works(name, &rt);
        }
    });
}

#[test]
fn a_panicking_drop_of_an_unread_output() {
    bounded(LIMIT, || {
        for (name, rt) in named_runtimes() {
            let drops = Arc::new(AtomicUsize::new(0));
            rt.block_on(async {
                // Output dropped by the task because its handle was dropped
                // first.
                let (go_tx, go_rx) = minirt::sync::oneshot::channel::<()>();
                let d = drops.clone();
                let task = minirt::spawn(async move {
                    go_rx.await.unwrap();
                    PanicOnDrop(d)
                });
                drop(task);
                let (done_tx, done_rx) = minirt::sync::oneshot::channel::<()>();
                go_tx.send(()).unwrap();
                // A second task after it in the same queue still runs.
                minirt::spawn(async move {
                    minirt::yield_now().await;
                    let _ = done_tx.send(());
                });
                done_rx.await.unwrap();

                // Output dropped by a JoinHandle dropped after completion.
                let d = drops.clone();
                let task = minirt::spawn(async move { PanicOnDrop(d) });
                while !task.is_finished() {
                    minirt::yield_now().await;
                }
                drop(task); // must not panic here
            });
            // The first output's drop happens on a worker: wait for it.
            while drops.load(SeqCst) < 2 {
                rt.block_on(minirt::yield_now());
            }
            assert_eq!(drops.load(SeqCst), 2, "{name}");
            works(name, &rt);
        }
    });
}

#[test]
fn a_panicking_drop_of_a_future_on_abort_is_reported() {
    bounded(LIMIT, || {
        for (name, rt) in named_runtimes() {
            let drops = Arc::new(AtomicUsize::new(0));
            rt.block_on(async {
                let (started_tx, started_rx) = minirt::sync::oneshot::channel();
                let d = drops.clone();
                let task = minirt::spawn(async move {
                    let _bomb = PanicOnDrop(d);
                    let _ = started_tx.send(());
                    std::future::pending::<()>().await;
                });
                started_rx.await.unwrap();
                task.abort();
                let err = task.await.unwrap_err();
                assert!(err.is_panic(), "{name}: {err:?}");
            });
            assert_eq!(drops.load(SeqCst), 1, "{name}");
            works(name, &rt);
        }
    });
}

#[test]
fn a_panicking_drop_of_a_future_at_shutdown() {
    bounded(LIMIT, || {
        for (name, rt) in named_runtimes() {
            let bombs = Arc::new(AtomicUsize::new(0));
            let others = Arc::new(AtomicUsize::new(0));
            rt.block_on(async {
                let mut started = Vec::new();
                for i in 0..8 {
                    let (tx, rx) = minirt::sync::oneshot::channel();
                    started.push(rx);
                    let (b, o) = (bombs.clone(), others.clone());
                    minirt::spawn(async move {
                        let _guard = if i % 2 == 0 {
                            (Some(PanicOnDrop(b)), None)
                        } else {
                            (None, Some(CountDrop(o)))
                        };
                        let _ = tx.send(());
                        std::future::pending::<()>().await;
                    });
                }
                for rx in started {
                    rx.await.unwrap();
                }
            });
            drop(rt); // must return, and must not panic
            assert_eq!(bombs.load(SeqCst), 4, "{name}");
            assert_eq!(
                others.load(SeqCst),
                4,
                "{name}: tasks after a panicking drop"
            );
        }
    });
}

#[cfg(unix)]
#[test]
fn a_panicking_waker_woken_by_the_io_driver() {
    use minirt::net::UnixDatagram;
    bounded(LIMIT, || {
        for (name, rt) in named_runtimes() {
            let count = rt.block_on(async {
                let (bad_tx, bad_rx) = UnixDatagram::pair().unwrap();
                let (good_tx, good_rx) = UnixDatagram::pair().unwrap();
                let (count, waker) = panicking_waker();
                let mut buf = [0u8; 8];
                let pending = bad_rx
                    .poll_recv(&mut Context::from_waker(&waker), &mut buf)
                    .is_pending();
                assert!(pending, "{name}");
                let reader = minirt::spawn(async move {
                    let mut buf = [0u8; 8];
                    good_rx.recv(&mut buf).await.unwrap()
                });
                minirt::yield_now().await;
                // Both sockets become readable, likely in one event batch:
                // the bad waker's panic must not lose the good one's wake.
                bad_tx.send(b"bad").await.unwrap();
                good_tx.send(b"good").await.unwrap();
                assert_eq!(reader.await.unwrap(), 4, "{name}");
                // The bad socket's datagram is still there to read.
                let mut buf = [0u8; 8];
                assert_eq!(bad_rx.recv(&mut buf).await.unwrap(), 3, "{name}");
                count
            });
            assert_eq!(count.0.load(SeqCst), 1, "{name}: the bad waker fired once");
            works(name, &rt);
        }
    });
}
