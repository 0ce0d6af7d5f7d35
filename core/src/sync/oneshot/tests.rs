use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering};
use core::task::Poll;
use std::sync::Barrier;

use super::*;
use crate::sync::test_util::{block_on, poll_once, poll_with, CountingWaker};

/// Counts drops, to prove values are dropped exactly once.
struct DropCounter(Arc<AtomicUsize>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn send_then_receive() {
    let (tx, mut rx) = channel();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    tx.send(5).unwrap();
    assert_eq!(rx.try_recv(), Ok(5));
    assert_eq!(
        rx.try_recv(),
        Err(TryRecvError::Closed),
        "the value is taken once"
    );
}

#[test]
fn send_wakes_a_pending_receiver() {
    let (tx, mut rx) = channel();
    let (count, waker) = CountingWaker::new();
    assert!(poll_with(&mut rx, &waker).is_pending());
    tx.send("hi").unwrap();
    assert_eq!(count.wakes(), 1);
    assert_eq!(poll_once(&mut rx), Poll::Ready(Ok("hi")));
}

#[test]
fn dropping_the_sender_fails_the_receiver() {
    let (tx, mut rx) = channel::<u8>();
    let (count, waker) = CountingWaker::new();
    assert!(poll_with(&mut rx, &waker).is_pending());
    drop(tx);
    assert_eq!(count.wakes(), 1);
    assert_eq!(poll_once(&mut rx), Poll::Ready(Err(RecvError::new())));
    assert!(alloc::format!("{}", RecvError::new()).contains("dropped without sending"));
}

#[test]
fn receiver_drop_and_close_are_seen_by_the_sender() {
    let (mut tx, rx) = channel::<u8>();
    let (count, waker) = CountingWaker::new();
    assert!(!tx.is_closed());
    assert!(poll_with(&mut tx.closed(), &waker).is_pending());
    drop(rx);
    assert_eq!(count.wakes(), 1);
    assert!(tx.is_closed());
    assert!(poll_once(&mut tx.closed()).is_ready());
    assert_eq!(tx.send(3), Err(3));

    let (tx, mut rx) = channel::<u8>();
    rx.close();
    assert!(tx.is_closed());
    assert_eq!(poll_once(&mut rx), Poll::Ready(Err(RecvError::new())));
}

#[test]
fn a_value_sent_before_close_is_still_received() {
    let (tx, mut rx) = channel();
    tx.send(9).unwrap();
    rx.close();
    assert_eq!(rx.try_recv(), Ok(9));
}

#[test]
fn unreceived_values_are_dropped_exactly_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = channel();
    tx.send(DropCounter(Arc::clone(&drops)))
        .unwrap_or_else(|_| panic!("receiver alive"));
    drop(rx);
    assert_eq!(drops.load(Ordering::SeqCst), 1);

    let (tx, rx) = channel();
    drop(rx);
    let back = tx.send(DropCounter(Arc::clone(&drops)));
    assert_eq!(
        drops.load(Ordering::SeqCst),
        1,
        "a refused value comes back, not dropped"
    );
    drop(back);
    assert_eq!(drops.load(Ordering::SeqCst), 2);
}

#[test]
fn send_races_receiver_close_across_threads() {
    let rounds = if cfg!(miri) { 20 } else { 2_000 };
    let drops = Arc::new(AtomicUsize::new(0));
    let mut delivered = 0;
    for round in 0..rounds {
        let (tx, mut rx) = channel();
        let barrier = Arc::new(Barrier::new(2));
        let sender = {
            let (barrier, drops) = (Arc::clone(&barrier), Arc::clone(&drops));
            std::thread::spawn(move || {
                barrier.wait();
                tx.send(DropCounter(drops)).is_ok()
            })
        };
        barrier.wait();
        if round % 2 == 0 {
            rx.close();
        }
        let sent = sender.join().unwrap();
        match rx.try_recv() {
            Ok(value) => {
                assert!(sent, "received a value whose send failed");
                delivered += 1;
                drop(value);
            }
            Err(TryRecvError::Closed) => assert!(!sent || round % 2 == 0),
            Err(TryRecvError::Empty) => panic!("sender finished, channel cannot be empty"),
        }
    }
    assert_eq!(
        drops.load(Ordering::SeqCst),
        rounds,
        "every value dropped exactly once"
    );
    assert!(delivered >= rounds / 2);
}

#[test]
fn blocked_receiver_thread_gets_the_value() {
    let rounds = if cfg!(miri) { 10 } else { 500 };
    let results: Vec<_> = (0..rounds)
        .map(|i| {
            let (tx, rx) = channel();
            let barrier = Arc::new(Barrier::new(2));
            let receiver = {
                let barrier = Arc::clone(&barrier);
                std::thread::spawn(move || {
                    barrier.wait();
                    block_on(rx)
                })
            };
            barrier.wait();
            tx.send(i).unwrap();
            receiver.join().unwrap().unwrap()
        })
        .collect();
    assert_eq!(results, (0..rounds).collect::<Vec<_>>());
}

#[test]
#[should_panic(expected = "polled after it completed")]
fn polling_after_completion_panics() {
    let (tx, mut rx) = channel();
    tx.send(1).unwrap();
    assert_eq!(poll_once(&mut rx), Poll::Ready(Ok(1)));
    let _ = poll_once(&mut rx);
}
