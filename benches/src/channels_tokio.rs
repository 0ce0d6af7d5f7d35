//! The tokio side of the channel workloads: `mpsc_unbounded_mt`,
//! `watch_fanout` and `broadcast_fanout`.
//!
//! The workloads are defined in `channels_minirt.rs`; this is the same
//! code against tokio's `sync::{mpsc, watch, broadcast}`.

use std::time::Duration;

use tokio::sync::{broadcast, mpsc, watch};
use tokio::task::yield_now;

use crate::params::*;
use crate::rt_tokio::{multi_thread, timed};

pub fn mpsc_unbounded_mt(iters: u64) -> Duration {
    timed(&multi_thread(), iters, || async {
        let (sender, mut receiver) = mpsc::unbounded_channel::<u64>();
        let consumer = tokio::spawn(async move {
            let mut sum = 0;
            while let Some(value) = receiver.recv().await {
                sum += value;
            }
            sum
        });
        let producers: Vec<_> = (0..MPSC_PRODUCERS)
            .map(|_| {
                let sender = sender.clone();
                tokio::spawn(async move {
                    for value in 0..MPSC_MESSAGES_PER_PRODUCER {
                        sender.send(value).expect("consumer gone");
                    }
                })
            })
            .collect();
        drop(sender);
        for producer in producers {
            producer.await.expect("producer failed");
        }
        let sum = consumer.await.expect("consumer failed");
        assert_eq!(sum, mpsc_expected_sum(), "messages lost");
    })
}

pub fn watch_fanout(iters: u64) -> Duration {
    timed(&multi_thread(), iters, || async {
        let (sender, receiver) = watch::channel(0u64);
        let receivers: Vec<_> = (0..FANOUT_RECEIVERS)
            .map(|_| {
                let mut receiver = receiver.clone();
                tokio::spawn(async move {
                    loop {
                        receiver.changed().await.expect("sender gone early");
                        if *receiver.borrow_and_update() == FANOUT_VALUES {
                            return;
                        }
                    }
                })
            })
            .collect();
        drop(receiver);
        let sender = tokio::spawn(async move {
            for value in 1..=FANOUT_VALUES {
                sender.send(value).expect("receivers gone");
                yield_now().await;
            }
        });
        sender.await.expect("sender failed");
        for receiver in receivers {
            receiver.await.expect("receiver failed");
        }
    })
}

pub fn broadcast_fanout(iters: u64) -> Duration {
    timed(&multi_thread(), iters, || async {
        let (sender, receiver) = broadcast::channel::<u64>(BROADCAST_CAPACITY);
        let receivers: Vec<_> = (0..FANOUT_RECEIVERS)
            .map(|_| {
                let mut receiver = receiver.resubscribe();
                tokio::spawn(async move {
                    let mut sum = 0;
                    for _ in 0..FANOUT_VALUES {
                        sum += receiver.recv().await.expect("lagged or closed");
                    }
                    sum
                })
            })
            .collect();
        drop(receiver);
        let sender = tokio::spawn(async move {
            for value in 1..=FANOUT_VALUES {
                sender.send(value).expect("receivers gone");
                yield_now().await;
            }
        });
        sender.await.expect("sender failed");
        for receiver in receivers {
            let sum = receiver.await.expect("receiver failed");
            assert_eq!(sum, FANOUT_VALUES * (FANOUT_VALUES + 1) / 2, "values lost");
        }
    })
}
