use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use super::block::{BLOCK_LEN, BLOCK_SPAN};
use super::*;
use crate::sync::test_util::{block_on, poll_once, poll_with, CountingWaker};

/// Counts its drops.
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

#[test]
fn delivers_in_order_across_many_blocks() {
    let (tx, mut rx) = unbounded_channel();
    let n = BLOCK_LEN * 5 + 3;
    for i in 0..n {
        tx.send(i).unwrap();
    }
    assert_eq!(rx.len(), n);
    for i in 0..n {
        assert_eq!(rx.try_recv(), Ok(i));
    }
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert!(rx.is_empty());
}

#[test]
fn passed_blocks_are_reused_not_reallocated() {
    let (tx, mut rx) = unbounded_channel();
    // Warm up: a few blocks in flight.
    for round in 0..50 {
        for i in 0..BLOCK_LEN * 2 {
            tx.send(round * 1000 + i).unwrap();
        }
        for i in 0..BLOCK_LEN * 2 {
            assert_eq!(rx.try_recv(), Ok(round * 1000 + i));
        }
    }
    // Count the blocks linked from the oldest kept one: reuse keeps the
    // list short however many values went through.
    let mut blocks = 0;
    // SAFETY: the test owns the receiver; no one else touches the cursor.
    let mut block = rx.chan.rx.with(|p| unsafe { (*p).free_head_for_test() });
    while !block.is_null() {
        blocks += 1;
        // SAFETY: blocks linked from `free_head` are live while the channel is.
        block = unsafe { (*block).next() };
    }
    assert!(blocks <= 5, "{blocks} blocks for a backlog of 2");
}

#[test]
fn positions_wrap_around_usize() {
    let start = block::block_start(usize::MAX - 3 * BLOCK_SPAN);
    let (tx, mut rx) = channel_at(start);
    let total = BLOCK_LEN * 6;
    let mut received = Vec::new();
    for i in 0..total {
        tx.send(i).unwrap();
        if i % 3 == 0 {
            received.push(rx.try_recv().unwrap());
        }
    }
    while let Ok(v) = rx.try_recv() {
        received.push(v);
    }
    assert_eq!(received, (0..total).collect::<Vec<_>>());
}

#[test]
fn recv_waits_and_is_woken_once_per_send() {
    let (tx, mut rx) = unbounded_channel();
    let (count, waker) = CountingWaker::new();
    let mut recv = Box::pin(rx.recv());
    assert!(poll_with(&mut recv, &waker).is_pending());
    tx.send(1).unwrap();
    assert_eq!(count.wakes(), 1);
    tx.send(2).unwrap();
    assert_eq!(count.wakes(), 1, "the receiver did not sleep again yet");
    assert_eq!(poll_with(&mut recv, &waker), Poll::Ready(Some(1)));
}

#[test]
fn the_last_sender_drop_ends_recv_after_the_values() {
    let (tx, mut rx) = unbounded_channel();
    let tx2 = tx.clone();
    tx.send(1).unwrap();
    drop(tx);
    assert!(!rx.is_closed());
    tx2.send(2).unwrap();
    let (count, waker) = CountingWaker::new();
    assert_eq!(block_on(rx.recv()), Some(1));
    assert_eq!(block_on(rx.recv()), Some(2));
    let mut recv = Box::pin(rx.recv());
    assert!(poll_with(&mut recv, &waker).is_pending());
    drop(tx2);
    assert_eq!(count.wakes(), 1);
    assert_eq!(poll_with(&mut recv, &waker), Poll::Ready(None));
}

#[test]
fn close_refuses_later_sends_but_delivers_earlier_ones() {
    let (tx, mut rx) = unbounded_channel();
    tx.send(1).unwrap();
    let mut closed = Box::pin(tx.closed());
    assert!(poll_once(&mut closed).is_pending());
    rx.close();
    assert!(poll_once(&mut closed).is_ready());
    assert!(tx.is_closed() && rx.is_closed());
    assert_eq!(tx.send(2).unwrap_err().0, 2);
    assert_eq!(rx.len(), 1);
    assert_eq!(block_on(rx.recv()), Some(1));
    assert_eq!(block_on(rx.recv()), None);
}

#[test]
fn every_value_is_dropped_exactly_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, mut rx) = unbounded_channel();
    for _ in 0..BLOCK_LEN * 3 {
        tx.send(Counted(drops.clone())).map_err(drop).unwrap();
    }
    for _ in 0..BLOCK_LEN + 1 {
        drop(rx.try_recv().unwrap());
    }
    assert_eq!(drops.load(SeqCst), BLOCK_LEN + 1);
    drop(rx);
    assert_eq!(
        drops.load(SeqCst),
        BLOCK_LEN * 3,
        "the rest went with the receiver"
    );
    assert!(tx.send(Counted(drops.clone())).is_err());
    assert_eq!(
        drops.load(SeqCst),
        BLOCK_LEN * 3 + 1,
        "the refused value too"
    );
    drop(tx);
    assert_eq!(drops.load(SeqCst), BLOCK_LEN * 3 + 1);
}

#[test]
fn values_left_when_both_halves_go_are_dropped_with_the_channel() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = unbounded_channel();
    let weak = tx.downgrade();
    for _ in 0..BLOCK_LEN + 2 {
        tx.send(Counted(drops.clone())).map_err(drop).unwrap();
    }
    drop(tx);
    assert!(weak.upgrade().is_none());
    drop(weak);
    drop(rx);
    assert_eq!(drops.load(SeqCst), BLOCK_LEN + 2);
}

#[test]
fn many_threads_keep_per_producer_order() {
    let per_producer = if cfg!(miri) { 50 } else { 20_000 };
    let producers = 4;
    let (tx, mut rx) = unbounded_channel::<(usize, usize)>();
    let handles: Vec<_> = (0..producers)
        .map(|p| {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for i in 0..per_producer {
                    tx.send((p, i)).unwrap();
                }
            })
        })
        .collect();
    drop(tx);
    let mut next = alloc::vec![0; producers];
    while let Some((p, i)) = block_on(rx.recv()) {
        assert_eq!(next[p], i, "producer {p} out of order");
        next[p] += 1;
    }
    assert_eq!(next, alloc::vec![per_producer; producers]);
    for handle in handles {
        handle.join().unwrap();
    }
}
