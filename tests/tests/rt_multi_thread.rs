//! The work-stealing multi-thread runtime.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Barrier};

use minirt::{Builder, Runtime};
use minirt_tests::bounded;
use std::time::Duration;

fn rt(workers: usize) -> Runtime {
    Builder::multi_thread()
        .worker_threads(workers)
        .build()
        .unwrap()
}

#[test]
fn many_tasks_complete_on_two_and_four_workers() {
    bounded(Duration::from_secs(60), || {
        let n = if cfg!(miri) { 100 } else { 100_000 };
        for workers in [2, 4] {
            let rt = rt(workers);
            let count = Arc::new(AtomicUsize::new(0));
            let total: usize = rt.block_on(async {
                let handles: Vec<_> = (0..n)
                    .map(|i| {
                        let count = count.clone();
                        minirt::spawn(async move {
                            count.fetch_add(1, SeqCst);
                            i
                        })
                    })
                    .collect();
                let mut sum = 0;
                for h in handles {
                    sum += h.await.unwrap();
                }
                sum
            });
            assert_eq!(total, (0..n).sum::<usize>());
            assert_eq!(count.load(SeqCst), n);
            assert_eq!(rt.metrics().workers, workers);
        }
    });
}

#[test]
fn spawns_from_outside_and_inside() {
    bounded(Duration::from_secs(60), || {
        let rt = rt(2);
        let outside: Vec<_> = (0..100).map(|i| rt.spawn(async move { i })).collect();
        let inside = rt.block_on(async {
            let nested = minirt::spawn(async { minirt::spawn(async { 7 }).await.unwrap() });
            nested.await.unwrap()
        });
        assert_eq!(inside, 7);
        let sum: i32 = rt.block_on(async {
            let mut s = 0;
            for h in outside {
                s += h.await.unwrap();
            }
            s
        });
        assert_eq!(sum, (0..100).sum());
    });
}

#[test]
fn a_blocked_worker_does_not_stop_the_other() {
    bounded(Duration::from_secs(60), || {
        // One task blocks its worker on a std channel until a second task,
        // which must run on the other worker, releases it.
        let rt = rt(2);
        let (tx, rx) = mpsc::channel::<()>();
        let blocker = rt.spawn(async move {
            rx.recv().unwrap();
            "released"
        });
        let releaser = rt.spawn(async move {
            tx.send(()).unwrap();
        });
        rt.block_on(async {
            releaser.await.unwrap();
            assert_eq!(blocker.await.unwrap(), "released");
        });
    });
}

#[test]
fn wake_from_a_foreign_thread() {
    bounded(Duration::from_secs(60), || {
        let rt = rt(2);
        let (tx, rx) = mpsc::channel::<std::task::Waker>();
        let flag = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let f = flag.clone();
        let task = rt.spawn(std::future::poll_fn(move |cx| {
            if f.load(SeqCst) {
                std::task::Poll::Ready(1)
            } else {
                tx.send(cx.waker().clone()).unwrap();
                std::task::Poll::Pending
            }
        }));
        let waker = rx.recv().unwrap();
        let t = std::thread::spawn(move || {
            flag.store(true, SeqCst);
            waker.wake();
        });
        assert_eq!(rt.block_on(task).unwrap(), 1);
        t.join().unwrap();
    });
}

#[test]
fn panics_in_tasks_do_not_kill_workers() {
    bounded(Duration::from_secs(60), || {
        let rt = rt(2);
        rt.block_on(async {
            for _ in 0..10 {
                let err = minirt::spawn(async { panic!("boom") }).await.unwrap_err();
                assert!(err.is_panic());
            }
            assert_eq!(minirt::spawn(async { 3 }).await.unwrap(), 3);
        });
    });
}

#[test]
fn handle_current_inside_and_try_current_outside() {
    bounded(Duration::from_secs(60), || {
        assert!(minirt::Handle::try_current().is_none());
        let rt = rt(2);
        let h = rt.block_on(async { minirt::Handle::current() });
        assert_eq!(rt.block_on(h.spawn(async { 5 })).unwrap(), 5);
        let worker_sees_handle =
            rt.block_on(rt.spawn(async { minirt::Handle::try_current().is_some() }));
        assert!(worker_sees_handle.unwrap());
    });
}

#[test]
fn builder_hooks_and_names() {
    bounded(Duration::from_secs(60), || {
        let started = Arc::new(AtomicUsize::new(0));
        let stopped = Arc::new(AtomicUsize::new(0));
        let (s1, s2) = (started.clone(), stopped.clone());
        let rt = Builder::multi_thread()
            .worker_threads(3)
            .thread_name("hooked")
            .on_thread_start(move || {
                s1.fetch_add(1, SeqCst);
            })
            .on_thread_stop(move || {
                s2.fetch_add(1, SeqCst);
            })
            .build()
            .unwrap();
        let name = rt
            .block_on(rt.spawn(async { std::thread::current().name().unwrap().to_owned() }))
            .unwrap();
        assert!(name.starts_with("hooked-"), "{name}");
        drop(rt);
        assert_eq!(started.load(SeqCst), 3);
        assert_eq!(stopped.load(SeqCst), 3);
    });
}

#[test]
fn invalid_settings_are_named() {
    bounded(Duration::from_secs(60), || {
        for (builder, setting) in [
            (Builder::multi_thread().worker_threads(0), "worker_threads"),
            (
                Builder::multi_thread().max_blocking_threads(0),
                "max_blocking_threads",
            ),
            (Builder::current_thread().thread_name(""), "thread_name"),
            (
                Builder::multi_thread().thread_stack_size(10),
                "thread_stack_size",
            ),
        ] {
            let err = builder.build().unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
            assert!(err.to_string().contains(setting), "{err}");
        }
    });
}

#[test]
fn all_workers_run_tasks_at_once() {
    bounded(Duration::from_secs(60), || {
        // Two tasks that each wait for the other at a barrier can only finish
        // if two workers run them in parallel.
        let rt = rt(2);
        let barrier = Arc::new(Barrier::new(2));
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let b = barrier.clone();
                rt.spawn(async move {
                    b.wait();
                })
            })
            .collect();
        rt.block_on(async {
            for h in handles {
                h.await.unwrap();
            }
        });
    });
}

#[test]
fn idle_worker_steals_from_a_blocked_one() {
    bounded(Duration::from_secs(60), || {
        // A task spawns children (they land in its worker's LIFO slot and deque)
        // and then blocks that worker until nine of them have run: only the other
        // worker stealing them can make that happen. The last child sits in the
        // LIFO slot, which is not stealable, so we wait for nine, not ten.
        let rt = rt(2);
        let parent = rt.spawn(async {
            let (tx, rx) = mpsc::channel::<usize>();
            for i in 0..10 {
                let tx = tx.clone();
                drop(minirt::spawn(async move {
                    let _ = tx.send(i);
                }));
            }
            for _ in 0..9 {
                rx.recv().unwrap();
            }
        });
        rt.block_on(parent).unwrap();
        assert!(rt.metrics().steals >= 1, "{:?}", rt.metrics());
    });
}

/// Tasks that one worker wakes from inside the driver go to that worker's
/// own queue, and it must wake a sleeping worker to share them: here 32
/// readers wait on 32 socket pairs, the test thread writes to all of them
/// at once, and each woken reader then works (spins) for 2 ms. The burst is
/// 64 ms of work for one worker; the other worker, woken when the first
/// brings the burst out of the poller, must take part in it. It used not
/// to: nothing told it (no timer, no spawn, no overflow of the LIFO slot),
/// and it slept while one worker ran every reader (`tcp_echo_mt`: each
/// worker idle ~28% of the run).
#[cfg(unix)]
#[cfg_attr(miri, ignore = "sockets")]
#[test]
fn an_io_burst_woken_in_the_driver_runs_on_both_workers() {
    use minirt::io::AsyncReadExt;
    use std::collections::HashSet;
    use std::future::Future;
    use std::io::Write;
    use std::sync::Mutex;

    const READERS: usize = 32;
    bounded(Duration::from_secs(60), || {
        let rt = rt(2);
        for round in 0..5 {
            let threads = Arc::new(Mutex::new(HashSet::new()));
            let (waiting_tx, waiting_rx) = mpsc::channel();
            let mut writers = Vec::new();
            let readers: Vec<_> = (0..READERS)
                .map(|_| {
                    let (reader, writer) = std::os::unix::net::UnixStream::pair().unwrap();
                    writers.push(writer);
                    let (threads, waiting) = (threads.clone(), waiting_tx.clone());
                    rt.spawn(async move {
                        let mut socket = minirt::net::UnixStream::from_std(reader).unwrap();
                        let mut byte = [0u8; 1];
                        let mut read = std::pin::pin!(socket.read_exact(&mut byte));
                        // Poll once, so the read waits in the poller, and
                        // only then say so.
                        std::future::poll_fn(|cx| {
                            assert!(read.as_mut().poll(cx).is_pending(), "nothing sent yet");
                            std::task::Poll::Ready(())
                        })
                        .await;
                        waiting.send(()).unwrap();
                        read.await.unwrap();
                        let start = std::time::Instant::now();
                        while start.elapsed() < Duration::from_millis(2) {
                            std::hint::spin_loop();
                        }
                        threads.lock().unwrap().insert(std::thread::current().id());
                    })
                })
                .collect();
            for _ in 0..READERS {
                waiting_rx.recv_timeout(Duration::from_secs(30)).unwrap();
            }
            for writer in &mut writers {
                writer.write_all(b"x").unwrap();
            }
            for reader in readers {
                rt.block_on(reader).unwrap();
            }
            let threads = threads.lock().unwrap().len();
            assert_eq!(
                threads, 2,
                "round {round}: the burst ran on {threads} worker(s)"
            );
        }
    });
}
