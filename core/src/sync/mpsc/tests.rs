use alloc::sync::Arc;
use alloc::vec::Vec;
use core::pin::pin;
use core::sync::atomic::{AtomicUsize, Ordering};
use core::task::{Context, Poll};

use super::*;
use crate::sync::test_util::{block_on, CountingWaker};

/// Polls a (possibly `!Unpin`) future once with a no-op waker.
fn poll_pinned<F: Future>(fut: core::pin::Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
#[should_panic(expected = "capacity must be at least 1")]
fn zero_capacity_panics_with_a_clear_message() {
    let _ = channel::<u8>(0);
}

#[test]
fn values_arrive_in_order_and_none_after_senders_drop() {
    let (tx, mut rx) = channel(3);
    let tx2 = tx.clone();
    block_on(tx.send(1)).unwrap();
    block_on(tx2.send(2)).unwrap();
    tx.try_send(3).unwrap();
    assert_eq!(tx.try_send(4), Err(TrySendError::Full(4)));
    drop(tx);
    drop(tx2);
    assert_eq!(block_on(rx.recv()), Some(1));
    assert_eq!(block_on(rx.recv()), Some(2));
    assert_eq!(rx.try_recv(), Ok(3));
    assert_eq!(block_on(rx.recv()), None);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
fn waiting_senders_are_served_in_fifo_order() {
    let (tx, mut rx) = channel(1);
    tx.try_send(0).unwrap();
    let mut a = pin!(tx.send(1));
    let mut b = pin!(tx.send(2));
    assert!(poll_pinned(a.as_mut()).is_pending());
    assert!(poll_pinned(b.as_mut()).is_pending());
    assert_eq!(rx.try_recv(), Ok(0));
    assert!(
        poll_pinned(b.as_mut()).is_pending(),
        "b must not overtake a"
    );
    assert_eq!(
        tx.try_send(9),
        Err(TrySendError::Full(9)),
        "try_send must not overtake"
    );
    assert_eq!(poll_pinned(a.as_mut()), Poll::Ready(Ok(())));
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(poll_pinned(b.as_mut()), Poll::Ready(Ok(())));
    assert_eq!(rx.try_recv(), Ok(2));
}

#[test]
fn a_cancelled_send_drops_its_value_and_frees_its_place() {
    struct Counted(Arc<AtomicUsize>);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, mut rx) = channel(1);
    tx.try_send(Counted(Arc::clone(&drops)))
        .unwrap_or_else(|_| panic!());
    {
        let mut cancelled = pin!(tx.send(Counted(Arc::clone(&drops))));
        assert!(poll_pinned(cancelled.as_mut()).is_pending());
    }
    assert_eq!(
        drops.load(Ordering::SeqCst),
        1,
        "the cancelled value is dropped with its future"
    );
    drop(rx.try_recv().unwrap_or_else(|_| panic!()));
    assert_eq!(drops.load(Ordering::SeqCst), 2);
    assert_eq!(tx.capacity(), 1, "no slot was lost");
}

#[test]
fn receiver_close_fails_waiting_and_new_sends_but_keeps_buffered_values() {
    let (tx, mut rx) = channel(1);
    tx.try_send(1).unwrap();
    let mut waiting = pin!(tx.send(2));
    assert!(poll_pinned(waiting.as_mut()).is_pending());
    rx.close();
    assert!(tx.is_closed());
    match poll_pinned(waiting.as_mut()) {
        Poll::Ready(Err(SendError(2))) => {}
        other => panic!(
            "expected the value back, got {:?}",
            other.map(|r| r.is_ok())
        ),
    }
    assert_eq!(tx.try_send(3), Err(TrySendError::Closed(3)));
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(block_on(rx.recv()), None);
}

#[test]
fn dropping_the_receiver_is_seen_by_senders() {
    let (tx, rx) = channel::<u8>(2);
    drop(rx);
    assert!(tx.is_closed());
    assert_eq!(block_on(tx.send(7)).map_err(|e| e.0), Err(7));
}

#[test]
fn last_sender_drop_wakes_the_receiver() {
    let (tx, mut rx) = channel::<u8>(2);
    let (count, waker) = CountingWaker::new();
    let mut recv = pin!(rx.recv());
    assert!(recv
        .as_mut()
        .poll(&mut Context::from_waker(&waker))
        .is_pending());
    let tx2 = tx.clone();
    drop(tx);
    assert_eq!(count.wakes(), 0);
    drop(tx2);
    assert_eq!(count.wakes(), 1);
    assert_eq!(poll_pinned(recv.as_mut()), Poll::Ready(None));
}

#[test]
fn producers_on_threads_deliver_everything() {
    const PRODUCERS: usize = 3;
    let per = if cfg!(miri) { 20 } else { 2_000 };
    let (tx, mut rx) = channel(4);
    let handles: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for i in 0..per {
                    block_on(tx.send((p, i))).unwrap();
                }
            })
        })
        .collect();
    drop(tx);
    let mut next = [0; PRODUCERS];
    while let Some((p, i)) = block_on(rx.recv()) {
        assert_eq!(i, next[p], "per-producer order kept");
        next[p] += 1;
    }
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(next, [per; PRODUCERS]);
}
