//! Stress: many tasks across many runtimes created and dropped, shutdown
//! while tasks are waking each other, and a cancellation storm against a
//! semaphore. Each test runs under a watchdog so a hang fails with a message
//! instead of stalling CI. Sizes shrink under Miri.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

use minirt::sync::Semaphore;
use minirt_tests::bounded;
use minirt_tests::{runtimes, DropCounter};

/// How long a stress test may run before it is declared hung.
const WATCHDOG: Duration = Duration::from_secs(60);

/// Runs `body` on its own thread; panics with `name` if it does not finish
/// within [`WATCHDOG`], and re-raises its panic if it panicked.
fn with_watchdog(name: &str, body: impl FnOnce() + Send + 'static) {
    let (done_tx, done_rx) = mpsc::channel();
    let worker = thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            body();
            let _ = done_tx.send(());
        })
        .unwrap();
    match done_rx.recv_timeout(WATCHDOG) {
        Ok(()) => worker.join().unwrap(),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            // The body panicked: surface its message.
            if let Err(payload) = worker.join() {
                std::panic::resume_unwind(payload);
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("watchdog: stress test `{name}` did not finish within {WATCHDOG:?} (hang?)")
        }
    }
}

const TASKS: usize = if cfg!(miri) { 20 } else { 1_000 };
const ROUNDS: usize = if cfg!(miri) { 2 } else { 8 };

#[test]
fn thousands_of_tasks_across_runtimes_created_and_dropped() {
    bounded(Duration::from_secs(60), || {
        with_watchdog("tasks_across_runtimes", || {
            for round in 0..ROUNDS {
                for rt in runtimes() {
                    let sum = Arc::new(AtomicUsize::new(0));
                    let handles: Vec<_> = (0..TASKS)
                        .map(|i| {
                            let sum = Arc::clone(&sum);
                            rt.spawn(async move {
                                minirt::yield_now().await;
                                sum.fetch_add(i, SeqCst);
                                i
                            })
                        })
                        .collect();
                    let total: usize = rt.block_on(async {
                        let mut total = 0;
                        for h in handles {
                            total += h.await.unwrap();
                        }
                        total
                    });
                    let expected = TASKS * (TASKS - 1) / 2;
                    assert_eq!(total, expected, "round {round}");
                    assert_eq!(sum.load(SeqCst), expected);
                    // Spawn more and drop the runtime with them pending.
                    for _ in 0..TASKS / 10 {
                        drop(rt.spawn(std::future::pending::<()>()));
                    }
                    drop(rt);
                }
            }
        });
    });
}

#[test]
fn shutdown_while_tasks_wake_each_other() {
    bounded(Duration::from_secs(60), || {
        with_watchdog("shutdown_while_waking", || {
            for _ in 0..ROUNDS {
                for rt in runtimes() {
                    let drops = Arc::new(AtomicUsize::new(0));
                    let (ready_tx, ready_rx) = mpsc::channel();
                    // A ring of tasks, each passing a token to the next forever
                    // through channels: they keep waking each other
                    // until the runtime is dropped.
                    let n = TASKS / 10;
                    let mut txs = Vec::new();
                    let mut rxs = Vec::new();
                    for _ in 0..n {
                        let (tx, rx) = minirt::sync::mpsc::channel::<u32>(1);
                        txs.push(tx);
                        rxs.push(rx);
                    }
                    for (i, mut rx) in rxs.into_iter().enumerate() {
                        let next = txs[(i + 1) % n].clone();
                        let guard = DropCounter(Arc::clone(&drops));
                        let ready = ready_tx.clone();
                        drop(rt.spawn(async move {
                            let _guard = guard;
                            let _ = ready.send(());
                            while let Some(token) = rx.recv().await {
                                if next.send(token + 1).await.is_err() {
                                    break;
                                }
                            }
                        }));
                    }
                    txs[0].try_send(0).unwrap();
                    drop(txs);
                    // Make sure every task ran at least once.
                    rt.block_on(async {
                        let mut seen = 0;
                        while seen < n {
                            match ready_rx.try_recv() {
                                Ok(()) => seen += 1,
                                Err(_) => minirt::yield_now().await,
                            }
                        }
                    });
                    drop(rt);
                    assert_eq!(drops.load(SeqCst), n, "every task dropped by shutdown");
                }
            }
        });
    });
}

#[test]
fn cancellation_storm_conserves_semaphore_permits() {
    bounded(Duration::from_secs(60), || {
        with_watchdog("semaphore_cancel_storm", || {
            const PERMITS: usize = 3;
            for rt in runtimes() {
                let sem = Arc::new(Semaphore::new(PERMITS));
                let acquired = Arc::new(AtomicUsize::new(0));
                let handles: Vec<_> = (0..TASKS)
                    .map(|i| {
                        let sem = Arc::clone(&sem);
                        let acquired = Arc::clone(&acquired);
                        rt.spawn(async move {
                            let n = (i % 2 + 1) as u32;
                            let _permit = sem.acquire_many(n).await.unwrap();
                            acquired.fetch_add(1, SeqCst);
                            minirt::yield_now().await;
                        })
                    })
                    .collect();
                // Abort every other task, wherever it is: waiting for permits,
                // holding them, or finished.
                for h in handles.iter().step_by(2) {
                    h.abort();
                }
                rt.block_on(async {
                    for h in handles {
                        if let Err(e) = h.await {
                            assert!(e.is_cancelled(), "{e}");
                        }
                    }
                });
                assert_eq!(sem.available_permits(), PERMITS, "permits conserved");
                assert!(
                    acquired.load(SeqCst) >= TASKS / 2,
                    "unaborted tasks all ran"
                );
            }
        });
    });
}

/// Many loopback connections doing small round trips on the multi-thread
/// runtime: exercises I/O wake-ups landing in a worker's LIFO slot while it
/// polls the driver between tasks (a lost wake-up there once hung the
/// `tcp_echo_mt` benchmark).
#[test]
fn tcp_echo_storm() {
    bounded(Duration::from_secs(60), || {
        with_watchdog("tcp_echo_storm", || {
            use minirt::io::{AsyncReadExt, AsyncWriteExt};
            use minirt::net::{TcpListener, TcpStream};
            let (connections, round_trips, rounds) =
                if cfg!(miri) { (2, 2, 1) } else { (32, 200, 10) };
            for _ in 0..rounds {
                let rt = minirt::Builder::multi_thread()
                    .worker_threads(2)
                    .build()
                    .unwrap();
                rt.block_on(async move {
                    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                    let addr = listener.local_addr().unwrap();
                    let server = minirt::spawn(async move {
                        for _ in 0..connections {
                            let (mut s, _) = listener.accept().await.unwrap();
                            drop(minirt::spawn(async move {
                                let mut buf = [0u8; 64];
                                while let Ok(n) = s.read(&mut buf).await {
                                    if n == 0 || s.write_all(&buf[..n]).await.is_err() {
                                        break;
                                    }
                                }
                            }));
                        }
                    });
                    let clients: Vec<_> = (0..connections)
                        .map(|c| {
                            minirt::spawn(async move {
                                let mut s = TcpStream::connect(addr).await.unwrap();
                                let mut buf = [0u8; 64];
                                for i in 0..round_trips {
                                    let msg = [(c + i) as u8; 64];
                                    s.write_all(&msg).await.unwrap();
                                    s.read_exact(&mut buf).await.unwrap();
                                    assert_eq!(buf, msg);
                                }
                            })
                        })
                        .collect();
                    for c in clients {
                        c.await.unwrap();
                    }
                    server.await.unwrap();
                });
            }
        });
    });
}
