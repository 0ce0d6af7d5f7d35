use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use super::*;
use crate::sync::test_util::{block_on, poll_once, poll_with, CountingWaker};

/// Counts its drops (and clones share the counter).
#[derive(Clone)]
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

#[test]
#[should_panic(expected = "capacity cannot be zero")]
fn zero_capacity_panics() {
    let _ = channel::<u8>(0);
}

#[test]
fn every_receiver_sees_every_value_in_order() {
    let (tx, mut a) = channel(4);
    let mut b = tx.subscribe();
    for i in 0..3 {
        assert_eq!(tx.send(i).unwrap(), 2);
    }
    for rx in [&mut a, &mut b] {
        assert_eq!(
            (0..3).map(|_| rx.try_recv().unwrap()).collect::<Vec<_>>(),
            [0, 1, 2]
        );
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    }
}

#[test]
fn a_lagging_receiver_gets_lagged_once_then_the_oldest_kept() {
    // Capacity 3 rounds up to a ring of 4, as in tokio.
    let (tx, mut rx) = channel(3);
    for i in 0..10 {
        tx.send(i).unwrap();
    }
    assert_eq!(rx.len(), 10);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(6)));
    assert_eq!(
        (0..4).map(|_| rx.try_recv().unwrap()).collect::<Vec<_>>(),
        [6, 7, 8, 9]
    );
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    // Lag again, mid-stream.
    for i in 10..15 {
        tx.send(i).unwrap();
    }
    assert_eq!(block_on(rx.recv()), Err(RecvError::Lagged(1)));
    assert_eq!(block_on(rx.recv()), Ok(11));
}

#[test]
fn closed_after_the_last_value_and_recv_wakes_on_close() {
    let (tx, mut rx) = channel(2);
    let tx2 = tx.clone();
    tx.send(1).unwrap();
    drop(tx);
    assert!(!rx.is_closed());
    drop(tx2);
    assert!(rx.is_closed());
    assert_eq!(block_on(rx.recv()), Ok(1));
    assert_eq!(block_on(rx.recv()), Err(RecvError::Closed));

    let (tx, mut rx) = channel::<u8>(2);
    let (count, waker) = CountingWaker::new();
    let mut recv = Box::pin(rx.recv());
    assert!(poll_with(&mut recv, &waker).is_pending());
    drop(tx);
    assert_eq!(count.wakes(), 1);
    assert_eq!(
        poll_with(&mut recv, &waker),
        Poll::Ready(Err(RecvError::Closed))
    );
}

#[test]
fn send_fails_without_receivers() {
    let (tx, rx) = channel(2);
    drop(rx);
    assert_eq!(tx.send(5).unwrap_err().0, 5);
    let mut rx = tx.subscribe();
    tx.send(6).unwrap();
    assert_eq!(rx.try_recv(), Ok(6));
}

#[test]
fn a_waiting_recv_is_woken_once_and_leaves_no_entry() {
    let (tx, mut rx) = channel(2);
    let (count, waker) = CountingWaker::new();
    {
        let mut recv = Box::pin(rx.recv());
        assert!(poll_with(&mut recv, &waker).is_pending());
        assert!(poll_with(&mut recv, &waker).is_pending());
        tx.send(3).unwrap();
        assert_eq!(count.wakes(), 1);
        assert_eq!(poll_with(&mut recv, &waker), Poll::Ready(Ok(3)));
    }
    assert!(tx.shared.tail().waiters.is_empty());
    {
        let mut recv = Box::pin(rx.recv());
        assert!(poll_once(&mut recv).is_pending());
    }
    assert!(
        tx.shared.tail().waiters.is_empty(),
        "a cancelled recv removed its entry"
    );
    tx.send(4).unwrap();
    assert_eq!(rx.try_recv(), Ok(4), "the cancelled recv lost nothing");
}

#[test]
fn a_value_is_dropped_when_the_last_receiver_saw_it() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, mut a) = channel(4);
    let mut b = tx.subscribe();
    tx.send(Counted(drops.clone())).map_err(drop).unwrap();
    drop(a.try_recv().unwrap());
    assert_eq!(drops.load(SeqCst), 1, "a's clone");
    assert_eq!(tx.len(), 1, "b has not seen it");
    drop(b.try_recv().unwrap());
    assert_eq!(drops.load(SeqCst), 3, "b's clone and the kept value");
    assert_eq!(tx.len(), 0);
}

#[test]
fn dropping_a_receiver_gives_up_its_share() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, mut a) = channel(4);
    let b = tx.subscribe();
    for _ in 0..3 {
        tx.send(Counted(drops.clone())).map_err(drop).unwrap();
    }
    drop(b);
    assert_eq!(drops.load(SeqCst), 0, "a still has to see them");
    for _ in 0..3 {
        drop(a.try_recv().unwrap());
    }
    assert_eq!(drops.load(SeqCst), 6, "3 clones + 3 kept values");
    tx.send(Counted(drops.clone())).map_err(drop).unwrap();
    drop(a);
    assert_eq!(drops.load(SeqCst), 7, "the unread value went with a");
    drop(tx);
    assert_eq!(drops.load(SeqCst), 7);
}

#[test]
fn overwritten_values_are_dropped_once_and_the_rest_with_the_channel() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = channel(2);
    for _ in 0..5 {
        tx.send(Counted(drops.clone())).map_err(drop).unwrap();
    }
    assert_eq!(drops.load(SeqCst), 3, "three overwritten");
    drop(rx);
    assert_eq!(
        drops.load(SeqCst),
        5,
        "the receiver's share of the kept two"
    );
    drop(tx);
    assert_eq!(drops.load(SeqCst), 5, "nothing dropped twice");
}

#[test]
fn resubscribe_starts_at_the_tail_and_counts() {
    let (tx, mut rx) = channel(4);
    tx.send(1).unwrap();
    let mut fresh = rx.resubscribe();
    assert_eq!(tx.receiver_count(), 2);
    assert_eq!(fresh.try_recv(), Err(TryRecvError::Empty));
    tx.send(2).unwrap();
    assert_eq!(fresh.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Ok(2));
}

#[test]
fn closed_waits_for_every_receiver() {
    let (tx, rx) = channel::<u8>(1);
    let rx2 = rx.resubscribe();
    let mut closed = Box::pin(tx.closed());
    assert!(poll_once(&mut closed).is_pending());
    drop(rx);
    assert!(poll_once(&mut closed).is_pending());
    drop(rx2);
    assert!(poll_once(&mut closed).is_ready());
}

#[test]
fn threads_receive_everything_when_the_ring_is_big_enough() {
    let values: u64 = if cfg!(miri) { 30 } else { 3_000 };
    let (tx, rx) = channel(values as usize);
    let receivers: Vec<_> = (0..3)
        .map(|_| {
            let mut rx = rx.resubscribe();
            std::thread::spawn(move || {
                let mut expected = 0;
                loop {
                    match block_on(rx.recv()) {
                        Ok(v) => {
                            assert_eq!(v, expected);
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
    for v in 0..values {
        tx.send(v).unwrap();
    }
    drop(tx);
    for receiver in receivers {
        assert_eq!(receiver.join().unwrap(), values);
    }
}

#[test]
fn a_small_ring_under_threads_reports_lag_and_stays_in_order() {
    let values: u64 = if cfg!(miri) { 30 } else { 5_000 };
    let (tx, rx) = channel(4);
    let receivers: Vec<_> = (0..2)
        .map(|_| {
            let mut rx = rx.resubscribe();
            std::thread::spawn(move || {
                let (mut seen, mut missed, mut last) = (0u64, 0u64, None::<u64>);
                loop {
                    match block_on(rx.recv()) {
                        Ok(v) => {
                            if let Some(last) = last {
                                assert!(v > last, "{v} after {last}");
                            }
                            last = Some(v);
                            seen += 1;
                        }
                        Err(RecvError::Lagged(n)) => missed += n,
                        Err(RecvError::Closed) => return seen + missed,
                    }
                }
            })
        })
        .collect();
    drop(rx);
    for v in 0..values {
        tx.send(v).unwrap();
    }
    drop(tx);
    for receiver in receivers {
        assert_eq!(receiver.join().unwrap(), values, "seen + missed = sent");
    }
}

#[test]
fn the_tail_lock_shares_no_line_with_what_every_receive_reads() {
    // Measured (see `Shared::tail`): on one line, every send took the line
    // of `slots` and `mask` from the receivers on the other worker.
    let (tx, _rx) = channel::<u8>(4);
    let shared = &*tx.shared;
    let line = |addr: usize| addr / 64;
    let tail = line(core::ptr::from_ref(&shared.tail).addr());
    assert_ne!(tail, line(core::ptr::from_ref(&shared.mask).addr()));
    assert_ne!(tail, line(core::ptr::from_ref(&shared.slots).addr()));
}
