//! `watch`, `broadcast` and the unbounded `mpsc` channel across real tasks
//! on both runtimes: lag with exact numbers, closed detection on both
//! sides, values dropped exactly once, and many producers keeping their
//! order. The unit and loom tests in `minirt-core` cover the interleavings;
//! these check the channels with real wakers on real worker threads.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use minirt::sync::broadcast::error::{RecvError, TryRecvError};
use minirt::sync::{broadcast, mpsc, watch};
use minirt_tests::{bounded, named_runtimes, DropCounter};

const LIMIT: Duration = Duration::from_secs(60);

/// A broadcast value that counts its drops through a shared counter.
#[derive(Clone)]
struct Shared(#[allow(dead_code)] Arc<DropCounter>);

#[test]
fn watch_receivers_on_many_tasks_all_reach_the_final_value() {
    for (name, rt) in named_runtimes() {
        bounded(LIMIT, || {
            rt.block_on(async {
                let (tx, rx) = watch::channel(0u32);
                let readers: Vec<_> = (0..16)
                    .map(|_| {
                        let mut rx = rx.clone();
                        minirt::spawn(async move {
                            let mut last = 0;
                            while rx.changed().await.is_ok() {
                                let now = *rx.borrow_and_update();
                                assert!(now > last, "{now} after {last}: values only grow");
                                last = now;
                            }
                            last
                        })
                    })
                    .collect();
                drop(rx);
                for i in 1..=500 {
                    tx.send(i).unwrap();
                    if i % 7 == 0 {
                        minirt::yield_now().await;
                    }
                }
                drop(tx);
                for reader in readers {
                    assert_eq!(reader.await.unwrap(), 500, "{name}");
                }
            });
        });
    }
}

#[test]
fn watch_closed_detection_on_both_sides() {
    for (name, rt) in named_runtimes() {
        bounded(LIMIT, || {
            rt.block_on(async {
                // Receiver side: changed() fails once the last sender goes.
                let (tx, mut rx) = watch::channel(1);
                let tx2 = tx.clone();
                let waiter = minirt::spawn(async move {
                    let first = rx.changed().await;
                    let second = rx.changed().await;
                    (first, second, *rx.borrow())
                });
                tx.send(2).unwrap();
                drop(tx);
                minirt::yield_now().await;
                drop(tx2);
                let (first, second, value) = waiter.await.unwrap();
                assert!(first.is_ok(), "{name}: the value 2 first");
                assert!(second.is_err(), "{name}: then closed");
                assert_eq!(value, 2);

                // Sender side: closed() returns when the last receiver goes,
                // and send then fails without storing.
                let (tx, rx) = watch::channel(1);
                let rx2 = rx.clone();
                let dropper = minirt::spawn(async move {
                    drop(rx);
                    minirt::yield_now().await;
                    drop(rx2);
                });
                tx.closed().await;
                assert_eq!(tx.receiver_count(), 0);
                assert_eq!(tx.send(3).unwrap_err().0, 3);
                assert_eq!(*tx.borrow(), 1, "{name}: a failed send stores nothing");
                assert_eq!(tx.send_replace(4), 1);
                dropper.await.unwrap();
            });
        });
    }
}

#[test]
fn watch_values_are_dropped_exactly_once() {
    for (name, rt) in named_runtimes() {
        bounded(LIMIT, || {
            let drops = Arc::new(AtomicUsize::new(0));
            rt.block_on(async {
                let (tx, mut rx) = watch::channel(DropCounter(drops.clone()));
                let reader = minirt::spawn(async move {
                    while rx.changed().await.is_ok() {
                        let _seen = rx.borrow_and_update();
                    }
                });
                for _ in 0..100 {
                    tx.send(DropCounter(drops.clone())).map_err(drop).unwrap();
                    minirt::yield_now().await;
                }
                drop(tx);
                reader.await.unwrap();
            });
            assert_eq!(drops.load(SeqCst), 101, "{name}: init + 100 sends");
        });
    }
}

#[test]
fn broadcast_lag_has_exact_numbers_on_both_runtimes() {
    for (name, rt) in named_runtimes() {
        bounded(LIMIT, || {
            rt.block_on(async {
                // Capacity 5 is a ring of 8.
                let (tx, mut slow) = broadcast::channel(5);
                let mut fast = tx.subscribe();
                for i in 0..20u32 {
                    tx.send(i).unwrap();
                    assert_eq!(fast.recv().await, Ok(i));
                }
                assert_eq!(slow.len(), 20);
                assert_eq!(slow.recv().await, Err(RecvError::Lagged(12)), "{name}");
                for i in 12..20 {
                    assert_eq!(slow.recv().await, Ok(i), "{name}: oldest kept first");
                }
                assert_eq!(slow.try_recv(), Err(TryRecvError::Empty));
                drop(tx);
                assert_eq!(slow.recv().await, Err(RecvError::Closed));
                assert_eq!(fast.try_recv(), Err(TryRecvError::Closed));
            });
        });
    }
}

#[test]
fn broadcast_many_receivers_get_everything_and_values_drop_once() {
    for (name, rt) in named_runtimes() {
        bounded(LIMIT, || {
            let drops = Arc::new(AtomicUsize::new(0));
            const VALUES: usize = 300;
            rt.block_on(async {
                // A ring larger than the stream: nobody lags.
                let (tx, rx) = broadcast::channel::<(usize, Shared)>(512);
                let receivers: Vec<_> = (0..8)
                    .map(|_| {
                        let mut rx = rx.resubscribe();
                        minirt::spawn(async move {
                            let mut expected = 0;
                            loop {
                                match rx.recv().await {
                                    Ok((i, _value)) => {
                                        assert_eq!(i, expected);
                                        expected += 1;
                                    }
                                    Err(RecvError::Closed) => return expected,
                                    Err(RecvError::Lagged(n)) => panic!("lagged by {n}"),
                                }
                            }
                        })
                    })
                    .collect();
                drop(rx);
                for i in 0..VALUES {
                    let value = Shared(Arc::new(DropCounter(drops.clone())));
                    assert_eq!(tx.send((i, value)).map_err(drop).unwrap(), 8);
                    if i % 16 == 0 {
                        minirt::yield_now().await;
                    }
                }
                drop(tx);
                for receiver in receivers {
                    assert_eq!(receiver.await.unwrap(), VALUES, "{name}");
                }
                assert_eq!(
                    drops.load(SeqCst),
                    VALUES,
                    "{name}: every value dropped once its last receiver saw it"
                );
            });
        });
    }
}

#[test]
fn broadcast_closed_detection_on_both_sides() {
    for (name, rt) in named_runtimes() {
        bounded(LIMIT, || {
            rt.block_on(async {
                let (tx, mut rx) = broadcast::channel::<u8>(4);
                let waiter = minirt::spawn(async move { rx.recv().await });
                minirt::yield_now().await;
                drop(tx);
                assert_eq!(waiter.await.unwrap(), Err(RecvError::Closed), "{name}");

                let (tx, rx) = broadcast::channel::<u8>(4);
                let rx2 = rx.resubscribe();
                let dropper = minirt::spawn(async move {
                    drop(rx);
                    minirt::yield_now().await;
                    drop(rx2);
                });
                tx.closed().await;
                assert_eq!(tx.receiver_count(), 0);
                assert_eq!(tx.send(1).unwrap_err().0, 1, "{name}");
                dropper.await.unwrap();
            });
        });
    }
}

#[test]
#[should_panic(expected = "capacity cannot be zero")]
fn broadcast_zero_capacity_panics_with_a_clear_message() {
    let _ = broadcast::channel::<u8>(0);
}

#[test]
fn unbounded_many_producers_keep_per_producer_fifo_order() {
    const PRODUCERS: usize = 4;
    const MESSAGES: usize = 10_000;
    for (name, rt) in named_runtimes() {
        bounded(LIMIT, || {
            rt.block_on(async {
                let (tx, mut rx) = mpsc::unbounded_channel::<(usize, usize)>();
                let producers: Vec<_> = (0..PRODUCERS)
                    .map(|p| {
                        let tx = tx.clone();
                        minirt::spawn(async move {
                            for i in 0..MESSAGES {
                                tx.send((p, i)).expect("receiver alive");
                                if i % 64 == 0 {
                                    minirt::yield_now().await;
                                }
                            }
                        })
                    })
                    .collect();
                // One producer on a plain thread: `send` needs no runtime.
                let thread_tx = tx.clone();
                let thread = std::thread::spawn(move || {
                    for i in 0..MESSAGES {
                        thread_tx.send((PRODUCERS, i)).unwrap();
                    }
                });
                drop(tx);
                let mut next = [0usize; PRODUCERS + 1];
                while let Some((p, i)) = rx.recv().await {
                    assert_eq!(next[p], i, "{name}: producer {p} out of order");
                    next[p] += 1;
                }
                assert_eq!(next, [MESSAGES; PRODUCERS + 1], "{name}");
                for producer in producers {
                    producer.await.unwrap();
                }
                thread.join().unwrap();
            });
        });
    }
}

#[test]
fn unbounded_closed_detection_and_drops_exactly_once() {
    for (name, rt) in named_runtimes() {
        bounded(LIMIT, || {
            let drops = Arc::new(AtomicUsize::new(0));
            rt.block_on(async {
                let (tx, mut rx) = mpsc::unbounded_channel();
                for _ in 0..100 {
                    tx.send(DropCounter(drops.clone())).map_err(drop).unwrap();
                }
                for _ in 0..40 {
                    drop(rx.recv().await.unwrap());
                }
                let watcher = {
                    let tx = tx.clone();
                    minirt::spawn(async move { tx.closed().await })
                };
                minirt::yield_now().await;
                drop(rx);
                watcher.await.unwrap();
                assert!(tx.is_closed());
                assert!(tx.send(DropCounter(drops.clone())).is_err(), "{name}");
            });
            assert_eq!(drops.load(SeqCst), 101, "{name}: 100 sent + 1 refused");

            // The receiver side: recv ends when the last sender goes.
            rt.block_on(async {
                let (tx, mut rx) = mpsc::unbounded_channel::<u8>();
                let waiter = minirt::spawn(async move { rx.recv().await });
                minirt::yield_now().await;
                drop(tx);
                assert_eq!(waiter.await.unwrap(), None, "{name}");
            });
        });
    }
}
