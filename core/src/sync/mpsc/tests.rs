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

/// Counts its own drops.
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Sends `rounds` batches of `capacity` values (checking that one more does
/// not fit) and receives each batch in order.
fn fill_and_drain(tx: &Sender<usize>, rx: &mut Receiver<usize>, capacity: usize, rounds: usize) {
    let mut next = 0;
    for round in 0..rounds {
        // Vary the fill level so the head and tail cross the ring at
        // different offsets.
        let batch = if round % 2 == 0 { capacity } else { 1 };
        for i in 0..batch {
            tx.try_send(next + i).unwrap();
        }
        if batch == capacity {
            assert_eq!(tx.try_send(usize::MAX), Err(TrySendError::Full(usize::MAX)));
        }
        assert_eq!(tx.capacity(), capacity - batch);
        for i in 0..batch {
            assert_eq!(rx.try_recv(), Ok(next + i));
        }
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
        next += batch;
    }
}

#[test]
fn capacity_one_is_fifo() {
    let (tx, mut rx) = channel(1);
    fill_and_drain(&tx, &mut rx, 1, 50);
}

#[test]
fn non_power_of_two_capacity_is_fifo_and_bounded() {
    let (tx, mut rx) = channel(3);
    fill_and_drain(&tx, &mut rx, 3, 50);
}

#[test]
fn a_ring_of_several_chunks_is_fifo() {
    // 100 rounds up to a ring of 128 slots: four chunks.
    let (tx, mut rx) = channel(100);
    fill_and_drain(&tx, &mut rx, 100, 9);
}

#[test]
fn positions_wrap_around_usize_max() {
    for capacity in [1, 3, 4, 40] {
        // A few sends before the position counter wraps to 0.
        let (tx, mut rx) = channel_at(capacity, usize::MAX - 1 - 2 * STEP);
        fill_and_drain(&tx, &mut rx, capacity, 12);
        drop(tx);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    }
}

#[test]
fn values_buffered_across_the_wrap_are_dropped_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, mut rx) = channel_at(4, usize::MAX - 1 - 2 * STEP);
    for _ in 0..3 {
        tx.try_send(Counted(Arc::clone(&drops)))
            .unwrap_or_else(|_| panic!());
    }
    drop(rx.try_recv().unwrap_or_else(|_| panic!()));
    for _ in 0..2 {
        tx.try_send(Counted(Arc::clone(&drops)))
            .unwrap_or_else(|_| panic!());
    }
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    drop(rx);
    assert_eq!(drops.load(Ordering::SeqCst), 5);
    drop(tx);
    assert_eq!(drops.load(Ordering::SeqCst), 5);
}

#[test]
fn receiver_drop_drops_buffered_values_exactly_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, mut rx) = channel(5);
    for _ in 0..4 {
        tx.try_send(Counted(Arc::clone(&drops)))
            .unwrap_or_else(|_| panic!());
    }
    drop(rx.try_recv().unwrap_or_else(|_| panic!()));
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    drop(rx);
    assert_eq!(
        drops.load(Ordering::SeqCst),
        4,
        "the receiver drops the rest"
    );
    match tx.try_send(Counted(Arc::clone(&drops))) {
        Err(TrySendError::Closed(value)) => drop(value),
        _ => panic!("sent into a dropped receiver"),
    }
    assert_eq!(drops.load(Ordering::SeqCst), 5);
    drop(tx);
    assert_eq!(drops.load(Ordering::SeqCst), 5, "nothing dropped twice");
}

/// Claims the next position as `push` does, without publishing it yet: a
/// send caught between its claim and its write.
fn claim<T>(tx: &Sender<T>) -> usize {
    let pos = tx.chan.tail.fetch_add(STEP, Ordering::Relaxed);
    assert_eq!(pos & CLOSED, 0);
    pos
}

/// Completes a send begun with [`claim`].
fn publish<T>(tx: &Sender<T>, pos: usize, value: T) {
    let slot = tx.chan.slot_or_alloc(pos);
    // SAFETY: `pos` was claimed by `claim` and not written yet.
    slot.value
        .with_mut(|p| unsafe { p.write(MaybeUninit::new(value)) });
    slot.seq.store(pos.wrapping_add(STEP), Ordering::Release);
    tx.chan.wake_rx();
}

#[test]
fn the_channel_drops_values_still_in_flight_when_the_receiver_left() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = channel(4);
    tx.slots_taken(1);
    let first = claim(&tx);
    tx.try_send(Counted(Arc::clone(&drops)))
        .unwrap_or_else(|_| panic!());
    // The head is not ready, so the receiver can drop nothing.
    drop(rx);
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    publish(&tx, first, Counted(Arc::clone(&drops)));
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    drop(tx);
    assert_eq!(
        drops.load(Ordering::SeqCst),
        2,
        "both dropped with the channel"
    );
}

#[test]
fn a_send_claimed_before_close_is_still_delivered() {
    let (tx, mut rx) = channel(2);
    tx.slots_taken(1);
    let pos = claim(&tx);
    rx.close();
    assert_eq!(tx.try_send(5), Err(TrySendError::Closed(5)));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty), "a value is coming");
    {
        let (count, waker) = CountingWaker::new();
        let mut recv = pin!(rx.recv());
        assert!(recv
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_pending());
        publish(&tx, pos, 4);
        assert_eq!(count.wakes(), 1);
        assert_eq!(poll_pinned(recv.as_mut()), Poll::Ready(Some(4)));
    }
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
fn a_value_published_just_before_the_last_sender_left_is_received() {
    let (tx, mut rx) = channel(2);
    tx.try_send(1).unwrap();
    drop(tx);
    assert_eq!(block_on(rx.recv()), Some(1));
    assert_eq!(block_on(rx.recv()), None);
}

#[test]
#[should_panic(expected = "exceeds mpsc::MAX_CAPACITY")]
fn capacity_above_the_maximum_panics_with_a_clear_message() {
    let _ = channel::<u8>(MAX_CAPACITY + 1);
}

#[test]
fn the_maximum_capacity_works() {
    let (tx, mut rx) = channel(MAX_CAPACITY);
    tx.try_send(1u8).unwrap();
    assert_eq!(tx.capacity(), MAX_CAPACITY - 1);
    assert_eq!(rx.try_recv(), Ok(1));
}

impl<T> Sender<T> {
    /// Takes `n` slot permits, as `n` sends about to claim would.
    fn slots_taken(&self, n: u32) {
        self.chan.slots.try_acquire_many(n).unwrap().forget();
    }
}
