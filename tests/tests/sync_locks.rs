//! `Mutex`, `RwLock`, `Barrier` and `OnceCell` across real tasks on both
//! runtimes: FIFO hand-over, a writer that a stream of readers cannot
//! starve, rounds of a barrier that do not mix, one initialiser of a
//! `OnceCell` (and the next one after a cancelled initialiser), and no
//! poisoning after a panic. The unit and loom tests in `minirt-core` cover
//! the interleavings; these check the primitives under real schedulers.

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex as StdMutex};
use std::task::Poll;
use std::time::Duration;

use minirt::sync::{oneshot, Barrier, Mutex, OnceCell, RwLock};
use minirt::yield_now;
use minirt_tests::{bounded, named_runtimes};

const LIMIT: Duration = Duration::from_secs(60);

/// Polls `fut` once from the current task; it must be pending (queued).
async fn queue<F: Future + Unpin>(fut: &mut F, what: &str) {
    poll_fn(|cx| {
        assert!(
            Pin::new(&mut *fut).poll(cx).is_pending(),
            "{what} did not queue"
        );
        Poll::Ready(())
    })
    .await;
}

#[test]
fn mutex_waiters_get_the_lock_in_fifo_order() {
    for (name, rt) in named_runtimes() {
        bounded(LIMIT, || {
            rt.block_on(async {
                const WAITERS: usize = 20;
                let mutex = Arc::new(Mutex::new(()));
                let order = Arc::new(StdMutex::new(Vec::new()));
                let held = mutex.lock().await;
                // Queue the waiters in a known order from this task, then
                // let them finish on whichever worker picks them up.
                let mut handles = Vec::new();
                for i in 0..WAITERS {
                    let mut fut = Box::pin(Arc::clone(&mutex).lock_owned());
                    queue(&mut fut, "lock_owned").await;
                    let order = Arc::clone(&order);
                    handles.push(minirt::spawn(async move {
                        let guard = fut.await;
                        order.lock().unwrap().push(i);
                        yield_now().await; // still held: the next must wait
                        drop(guard);
                    }));
                }
                drop(held);
                for handle in handles {
                    handle.await.unwrap();
                }
                let order = order.lock().unwrap().clone();
                assert_eq!(order, (0..WAITERS).collect::<Vec<_>>(), "{name}");
            });
        });
    }
}

#[test]
fn mutex_counts_every_increment_under_contention() {
    for (name, rt) in named_runtimes() {
        bounded(LIMIT, || {
            rt.block_on(async {
                let counter = Arc::new(Mutex::new(0u64));
                let inside = Arc::new(AtomicUsize::new(0));
                let handles: Vec<_> = (0..50)
                    .map(|_| {
                        let (counter, inside) = (Arc::clone(&counter), Arc::clone(&inside));
                        minirt::spawn(async move {
                            for _ in 0..50 {
                                let mut guard = counter.lock().await;
                                assert_eq!(inside.fetch_add(1, SeqCst), 0, "two holders");
                                yield_now().await;
                                *guard += 1;
                                inside.fetch_sub(1, SeqCst);
                            }
                        })
                    })
                    .collect();
                for handle in handles {
                    handle.await.unwrap();
                }
                assert_eq!(*counter.lock().await, 2500, "{name}");
            });
        });
    }
}

#[test]
fn a_panic_while_holding_the_mutex_does_not_poison_it() {
    for (name, rt) in named_runtimes() {
        bounded(LIMIT, || {
            rt.block_on(async {
                let mutex = Arc::new(Mutex::new(0));
                let m = Arc::clone(&mutex);
                let (locked_tx, locked_rx) = oneshot::channel();
                let (go_tx, go_rx) = oneshot::channel::<()>();
                let panicker = minirt::spawn(async move {
                    let mut guard = m.lock().await;
                    *guard = 1;
                    locked_tx.send(()).unwrap();
                    go_rx.await.unwrap();
                    panic!("panicking while holding the lock");
                });
                locked_rx.await.unwrap();
                let waiter = minirt::spawn({
                    let mutex = Arc::clone(&mutex);
                    async move { *mutex.lock().await }
                });
                go_tx.send(()).unwrap();
                assert!(panicker.await.unwrap_err().is_panic(), "{name}");
                assert_eq!(waiter.await.unwrap(), 1, "{name}: the waiter got the lock");
                *mutex.lock().await += 1;
                assert_eq!(*mutex.lock().await, 2, "{name}");
            });
        });
    }
}

#[test]
fn rwlock_writer_is_not_starved_by_a_stream_of_readers() {
    for (name, rt) in named_runtimes() {
        bounded(LIMIT, || {
            rt.block_on(async {
                const READERS: usize = 8;
                let lock = Arc::new(RwLock::new(0u64));
                let stop = Arc::new(AtomicBool::new(false));
                let reads = Arc::new(AtomicUsize::new(0));
                let readers: Vec<_> = (0..READERS)
                    .map(|_| {
                        let (lock, stop, reads) =
                            (Arc::clone(&lock), Arc::clone(&stop), Arc::clone(&reads));
                        minirt::spawn(async move {
                            // Overlapping read guards: with a reader-preferring
                            // lock some reader would always be inside.
                            while !stop.load(SeqCst) {
                                let guard = lock.read().await;
                                reads.fetch_add(1, SeqCst);
                                yield_now().await;
                                drop(guard);
                            }
                        })
                    })
                    .collect();
                while reads.load(SeqCst) < 100 {
                    yield_now().await;
                }
                let writer = minirt::spawn({
                    let (lock, stop) = (Arc::clone(&lock), Arc::clone(&stop));
                    async move {
                        let mut guard = lock.write().await;
                        *guard += 1;
                        stop.store(true, SeqCst);
                    }
                });
                writer.await.unwrap();
                for reader in readers {
                    reader.await.unwrap();
                }
                assert_eq!(*lock.read().await, 1, "{name}");
            });
        });
    }
}

#[test]
fn rwlock_readers_share_and_writers_exclude() {
    for (name, rt) in named_runtimes() {
        bounded(LIMIT, || {
            rt.block_on(async {
                let lock = Arc::new(RwLock::new(0u64));
                // `readers` counts readers inside, `writing` a writer inside.
                let readers = Arc::new(AtomicUsize::new(0));
                let writing = Arc::new(AtomicBool::new(false));
                let handles: Vec<_> = (0..40)
                    .map(|t| {
                        let (lock, readers, writing) = (
                            Arc::clone(&lock),
                            Arc::clone(&readers),
                            Arc::clone(&writing),
                        );
                        minirt::spawn(async move {
                            for op in 0..40 {
                                if (op + t) % 5 == 0 {
                                    let mut guard = lock.write().await;
                                    assert!(!writing.swap(true, SeqCst), "two writers");
                                    assert_eq!(readers.load(SeqCst), 0, "a reader beside a writer");
                                    yield_now().await;
                                    *guard += 1;
                                    writing.store(false, SeqCst);
                                } else {
                                    let guard = lock.read().await;
                                    readers.fetch_add(1, SeqCst);
                                    assert!(!writing.load(SeqCst), "a writer beside a reader");
                                    yield_now().await;
                                    readers.fetch_sub(1, SeqCst);
                                    drop(guard);
                                }
                            }
                        })
                    })
                    .collect();
                for handle in handles {
                    handle.await.unwrap();
                }
                assert_eq!(*lock.read().await, 40 * 40 / 5, "{name}");
            });
        });
    }
}

#[test]
fn barrier_rounds_release_together_with_one_leader_each() {
    for (name, rt) in named_runtimes() {
        bounded(LIMIT, || {
            rt.block_on(async {
                const TASKS: usize = 24; // more than one wake batch
                const ROUNDS: usize = 20;
                let barrier = Arc::new(Barrier::new(TASKS));
                let arrived: Arc<Vec<AtomicUsize>> =
                    Arc::new((0..ROUNDS).map(|_| AtomicUsize::new(0)).collect());
                let leaders: Arc<Vec<AtomicUsize>> =
                    Arc::new((0..ROUNDS).map(|_| AtomicUsize::new(0)).collect());
                let handles: Vec<_> = (0..TASKS)
                    .map(|_| {
                        let (barrier, arrived, leaders) = (
                            Arc::clone(&barrier),
                            Arc::clone(&arrived),
                            Arc::clone(&leaders),
                        );
                        minirt::spawn(async move {
                            for round in 0..ROUNDS {
                                arrived[round].fetch_add(1, SeqCst);
                                let result = barrier.wait().await;
                                assert_eq!(
                                    arrived[round].load(SeqCst),
                                    TASKS,
                                    "released before everyone arrived in round {round}"
                                );
                                if result.is_leader() {
                                    leaders[round].fetch_add(1, SeqCst);
                                }
                            }
                        })
                    })
                    .collect();
                for handle in handles {
                    handle.await.unwrap();
                }
                for round in 0..ROUNDS {
                    assert_eq!(leaders[round].load(SeqCst), 1, "{name}: round {round}");
                }
            });
        });
    }
}

#[test]
fn once_cell_runs_one_initialiser_for_many_callers() {
    for (name, rt) in named_runtimes() {
        bounded(LIMIT, || {
            rt.block_on(async {
                let cell = Arc::new(OnceCell::new());
                let runs = Arc::new(AtomicUsize::new(0));
                let handles: Vec<_> = (0..32)
                    .map(|i| {
                        let (cell, runs) = (Arc::clone(&cell), Arc::clone(&runs));
                        minirt::spawn(async move {
                            *cell
                                .get_or_init(|| async {
                                    runs.fetch_add(1, SeqCst);
                                    yield_now().await;
                                    i
                                })
                                .await
                        })
                    })
                    .collect();
                let mut values = Vec::new();
                for handle in handles {
                    values.push(handle.await.unwrap());
                }
                assert_eq!(runs.load(SeqCst), 1, "{name}");
                assert!(values.iter().all(|&v| v == values[0]), "{name}: {values:?}");
            });
        });
    }
}

#[test]
fn once_cell_a_cancelled_initialiser_lets_the_next_one_run() {
    for (name, rt) in named_runtimes() {
        bounded(LIMIT, || {
            rt.block_on(async {
                let cell = Arc::new(OnceCell::<u32>::new());
                let (started_tx, started_rx) = oneshot::channel();
                let stuck = minirt::spawn({
                    let cell = Arc::clone(&cell);
                    async move {
                        *cell
                            .get_or_init(|| async move {
                                started_tx.send(()).unwrap();
                                std::future::pending::<u32>().await
                            })
                            .await
                    }
                });
                started_rx.await.unwrap();
                // Queue a second initialiser behind the stuck one.
                let cell2 = Arc::clone(&cell);
                let mut next = Box::pin(async move { *cell2.get_or_init(|| async { 2 }).await });
                queue(&mut next, "get_or_init").await;
                let next = minirt::spawn(next);
                stuck.abort();
                assert!(stuck.await.unwrap_err().is_cancelled(), "{name}");
                assert_eq!(next.await.unwrap(), 2, "{name}");
                assert_eq!(cell.get(), Some(&2), "{name}");
            });
        });
    }
}
