//! The smol side of the channel workloads (defined in `channels_minirt.rs`).
//!
//! - `mpsc_unbounded_mt`: `async_channel::unbounded`, smol's channel.
//! - `broadcast_fanout`: `async-broadcast`, the smol ecosystem's broadcast
//!   channel, with the same capacity; `broadcast` never waits here since
//!   the ring holds every value.
//! - `watch_fanout`: smol has no watch channel. The nearest published
//!   equivalent is `async-broadcast` with capacity 1 in overflow mode: a
//!   send overwrites the one kept value, and a receiver that missed values
//!   gets `Overflowed` and then the latest — "wait for a change, read the
//!   newest", which is what a watch receiver does. (A hand-rolled
//!   `event-listener` + mutex pair would measure our code, not smol's.)
//!
//! `recv_direct`/`broadcast_direct` are async-broadcast's unboxed futures
//! (`recv` boxes each one), so no side pays an allocation per operation.

use std::time::Duration;

use async_broadcast::RecvError;
use futures_lite::future::yield_now;

use crate::params::*;
use crate::rt_smol::{pool, timed_pool};

pub fn mpsc_unbounded_mt(iters: u64) -> Duration {
    let pool = pool();
    let executor = pool.executor();
    timed_pool(&pool, iters, || async move {
        let (sender, receiver) = async_channel::unbounded::<u64>();
        let consumer = executor.spawn(async move {
            let mut sum = 0;
            while let Ok(value) = receiver.recv().await {
                sum += value;
            }
            sum
        });
        let producers: Vec<_> = (0..MPSC_PRODUCERS)
            .map(|_| {
                let sender = sender.clone();
                executor.spawn(async move {
                    for value in 0..MPSC_MESSAGES_PER_PRODUCER {
                        sender.try_send(value).expect("consumer gone");
                    }
                })
            })
            .collect();
        drop(sender);
        for producer in producers {
            producer.await;
        }
        assert_eq!(consumer.await, mpsc_expected_sum(), "messages lost");
    })
}

pub fn watch_fanout(iters: u64) -> Duration {
    let pool = pool();
    let executor = pool.executor();
    timed_pool(&pool, iters, || async move {
        let (mut sender, receiver) = async_broadcast::broadcast::<u64>(1);
        sender.set_overflow(true);
        let receivers: Vec<_> = (0..FANOUT_RECEIVERS)
            .map(|_| {
                let mut receiver = receiver.clone();
                executor.spawn(async move {
                    loop {
                        match receiver.recv_direct().await {
                            Ok(value) if value == FANOUT_VALUES => return,
                            Ok(_) | Err(RecvError::Overflowed(_)) => {}
                            Err(RecvError::Closed) => panic!("sender gone early"),
                        }
                    }
                })
            })
            .collect();
        drop(receiver);
        let sender = executor.spawn(async move {
            for value in 1..=FANOUT_VALUES {
                sender.try_broadcast(value).expect("receivers gone");
                yield_now().await;
            }
        });
        sender.await;
        for receiver in receivers {
            receiver.await;
        }
    })
}

pub fn broadcast_fanout(iters: u64) -> Duration {
    let pool = pool();
    let executor = pool.executor();
    timed_pool(&pool, iters, || async move {
        let (sender, receiver) = async_broadcast::broadcast::<u64>(BROADCAST_CAPACITY);
        let receivers: Vec<_> = (0..FANOUT_RECEIVERS)
            .map(|_| {
                let mut receiver = receiver.clone();
                executor.spawn(async move {
                    let mut sum = 0;
                    for _ in 0..FANOUT_VALUES {
                        sum += receiver.recv_direct().await.expect("overflowed or closed");
                    }
                    sum
                })
            })
            .collect();
        drop(receiver);
        let sender = executor.spawn(async move {
            for value in 1..=FANOUT_VALUES {
                sender
                    .broadcast_direct(value)
                    .await
                    .expect("receivers gone");
                yield_now().await;
            }
        });
        sender.await;
        for receiver in receivers {
            let sum = receiver.await;
            assert_eq!(sum, FANOUT_VALUES * (FANOUT_VALUES + 1) / 2, "values lost");
        }
    })
}
