//! The bounded `mpsc` channel across real worker threads: several producers
//! on a multi-thread runtime (and the current-thread one), capacities that
//! are and are not powers of two, and a receiver that stops early. The unit
//! and loom tests in `minirt-core` cover the ring's interleavings; these
//! check that nothing is lost, duplicated, reordered per producer or leaked
//! when real tasks on real threads use it.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use minirt::sync::mpsc;
use minirt_tests::{bounded, named_runtimes, DropCounter};

const PRODUCERS: u64 = 4;
const MESSAGES: u64 = 5_000;

#[test]
fn many_producers_deliver_everything_in_order_per_producer() {
    for (name, rt) in named_runtimes() {
        for capacity in [1, 7, 64, 1000] {
            bounded(Duration::from_secs(60), || {
                rt.block_on(async {
                    let (tx, mut rx) = mpsc::channel::<(u64, u64)>(capacity);
                    let producers: Vec<_> = (0..PRODUCERS)
                        .map(|p| {
                            let tx = tx.clone();
                            minirt::spawn(async move {
                                for i in 0..MESSAGES {
                                    tx.send((p, i)).await.expect("receiver alive");
                                }
                            })
                        })
                        .collect();
                    drop(tx);
                    let mut next = [0u64; PRODUCERS as usize];
                    while let Some((p, i)) = rx.recv().await {
                        assert_eq!(
                            next[p as usize], i,
                            "{name}, capacity {capacity}: producer {p} out of order"
                        );
                        next[p as usize] += 1;
                    }
                    assert_eq!(
                        next, [MESSAGES; PRODUCERS as usize],
                        "{name}, capacity {capacity}"
                    );
                    for producer in producers {
                        producer.await.unwrap();
                    }
                });
            });
        }
    }
}

#[test]
fn a_receiver_that_stops_early_loses_and_leaks_nothing() {
    for (name, rt) in named_runtimes() {
        bounded(Duration::from_secs(60), || {
            let drops = Arc::new(AtomicUsize::new(0));
            let (sent, failed) = rt.block_on(async {
                let (tx, mut rx) = mpsc::channel::<DropCounter>(5);
                let producers: Vec<_> = (0..PRODUCERS)
                    .map(|_| {
                        let tx = tx.clone();
                        let drops = drops.clone();
                        minirt::spawn(async move {
                            let (mut sent, mut failed) = (0, 0);
                            for _ in 0..MESSAGES {
                                match tx.send(DropCounter(drops.clone())).await {
                                    Ok(()) => sent += 1,
                                    Err(_) => failed += 1,
                                }
                            }
                            (sent, failed)
                        })
                    })
                    .collect();
                drop(tx);
                for _ in 0..100 {
                    drop(rx.recv().await.expect("producers are still sending"));
                }
                // Close with values buffered and sends in flight, then drop.
                rx.close();
                drop(rx);
                let (mut sent, mut failed) = (0, 0);
                for producer in producers {
                    let (s, f) = producer.await.unwrap();
                    sent += s;
                    failed += f;
                }
                (sent, failed)
            });
            assert_eq!(sent + failed, PRODUCERS * MESSAGES, "{name}");
            assert!(sent >= 100, "{name}: {sent} sent");
            assert!(failed > 0, "{name}: the close stopped nobody");
            // Every value was dropped exactly once: received, dropped with
            // the receiver or the channel, or handed back to its sender.
            assert_eq!(drops.load(SeqCst) as u64, PRODUCERS * MESSAGES, "{name}");
        });
    }
}
