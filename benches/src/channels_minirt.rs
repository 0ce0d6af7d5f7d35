//! The minirt side of the channel workloads: `mpsc_unbounded_mt`,
//! `watch_fanout` and `broadcast_fanout`.
//!
//! The workloads, the same on every runtime (counts in [`params`](crate::params)):
//!
//! - `mpsc_unbounded_mt`: as `mpsc_mt` (4 producers x 25 000 values, one
//!   consumer summing them), through an unbounded channel.
//! - `watch_fanout`: `FANOUT_RECEIVERS` tasks each subscribe, then wait for
//!   changes and read the latest value until they read `FANOUT_VALUES`; one
//!   sender task sets the value to `1..=FANOUT_VALUES`, yielding after each
//!   so that receivers run (and sleep and wake) in between. Receivers may
//!   skip values — that is what a watch channel is for — but each must see
//!   the last.
//! - `broadcast_fanout`: `FANOUT_RECEIVERS` tasks each receive all
//!   `FANOUT_VALUES` values from a channel of `BROADCAST_CAPACITY` (more
//!   than the values, so nobody lags) and check their sum; one sender task
//!   sends them, yielding after each.
//!
//! All on the 2-worker multi-thread runtime; the timed region ends when
//! every task has finished.

use std::time::Duration;

use minirt::sync::{broadcast, mpsc, watch};
use minirt::yield_now;

use crate::params::*;
use crate::rt_minirt::{multi_thread, timed};

pub fn mpsc_unbounded_mt(iters: u64) -> Duration {
    timed(&multi_thread(), iters, || async {
        let (sender, mut receiver) = mpsc::unbounded_channel::<u64>();
        let consumer = minirt::spawn(async move {
            let mut sum = 0;
            while let Some(value) = receiver.recv().await {
                sum += value;
            }
            sum
        });
        let producers: Vec<_> = (0..MPSC_PRODUCERS)
            .map(|_| {
                let sender = sender.clone();
                minirt::spawn(async move {
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
                minirt::spawn(async move {
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
        let sender = minirt::spawn(async move {
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
                minirt::spawn(async move {
                    let mut sum = 0;
                    for _ in 0..FANOUT_VALUES {
                        sum += receiver.recv().await.expect("lagged or closed");
                    }
                    sum
                })
            })
            .collect();
        drop(receiver);
        let sender = minirt::spawn(async move {
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
