use alloc::boxed::Box;
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
        let (tx, mut rx) = channel_at(capacity, (usize::MAX & !(STEP - 1)) - 2 * STEP);
        fill_and_drain(&tx, &mut rx, capacity, 12);
        drop(tx);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    }
}

#[test]
fn values_buffered_across_the_wrap_are_dropped_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, mut rx) = channel_at(4, (usize::MAX & !(STEP - 1)) - 2 * STEP);
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

/// Claims the next position as `send` does, without writing it yet: a send
/// caught between its claim and its write.
fn claim<T>(tx: &Sender<T>) -> usize {
    match tx.chan.try_claim() {
        Claim::Claimed(pos) => pos,
        _ => panic!("no room to claim"),
    }
}

/// Completes a send begun with [`claim`].
fn publish<T>(tx: &Sender<T>, pos: usize, value: T) {
    tx.chan.write(pos, value);
}

#[test]
fn the_channel_drops_values_still_in_flight_when_the_receiver_left() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = channel(4);
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

/// Polls a pinned future once with `waker`.
fn poll_waking<F: Future>(fut: core::pin::Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(waker))
}

#[test]
fn a_full_channel_grants_freed_slots_to_waiters_in_fifo_order() {
    let (tx, mut rx) = channel(2);
    tx.try_send(0).unwrap();
    tx.try_send(1).unwrap();
    let (a_wakes, a_waker) = CountingWaker::new();
    let (b_wakes, b_waker) = CountingWaker::new();
    let (c_wakes, c_waker) = CountingWaker::new();
    let mut a = pin!(tx.send(10));
    let mut b = pin!(tx.send(11));
    let mut c = pin!(tx.send(12));
    assert!(poll_waking(a.as_mut(), &a_waker).is_pending());
    assert!(poll_waking(b.as_mut(), &b_waker).is_pending());
    assert!(poll_waking(c.as_mut(), &c_waker).is_pending());
    assert_eq!(tx.capacity(), 0);
    // Each freed slot goes to the oldest waiter, which is woken.
    assert_eq!(rx.try_recv(), Ok(0));
    assert_eq!(
        (a_wakes.wakes(), b_wakes.wakes(), c_wakes.wakes()),
        (1, 0, 0)
    );
    assert!(
        poll_waking(c.as_mut(), &c_waker).is_pending(),
        "c must not overtake"
    );
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(
        (a_wakes.wakes(), b_wakes.wakes(), c_wakes.wakes()),
        (1, 1, 0)
    );
    // Granted positions are in queue order, whoever writes first.
    assert_eq!(poll_pinned(b.as_mut()), Poll::Ready(Ok(())));
    assert_eq!(
        rx.try_recv(),
        Err(TryRecvError::Empty),
        "a's value comes first"
    );
    assert_eq!(poll_pinned(a.as_mut()), Poll::Ready(Ok(())));
    assert_eq!(rx.try_recv(), Ok(10));
    assert_eq!(c_wakes.wakes(), 1);
    assert_eq!(poll_pinned(c.as_mut()), Poll::Ready(Ok(())));
    assert_eq!(rx.try_recv(), Ok(11));
    assert_eq!(rx.try_recv(), Ok(12));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(tx.capacity(), 2, "the queue emptied: the fast path is back");
    tx.try_send(13).unwrap();
    assert_eq!(rx.try_recv(), Ok(13));
}

#[test]
fn try_send_fails_while_senders_queue_and_capacity_stays_exact() {
    let (tx, mut rx) = channel(2);
    tx.try_send(0).unwrap();
    tx.try_send(1).unwrap();
    let mut waiting = pin!(tx.send(2));
    assert!(poll_pinned(waiting.as_mut()).is_pending());
    assert_eq!(tx.try_send(9), Err(TrySendError::Full(9)));
    // The freed slot is granted to the waiter even before it runs again:
    // two values are buffered or being written, so there is still no room.
    assert_eq!(rx.try_recv(), Ok(0));
    assert_eq!(tx.try_send(9), Err(TrySendError::Full(9)));
    assert_eq!(poll_pinned(waiting.as_mut()), Poll::Ready(Ok(())));
    assert_eq!(tx.try_send(9), Err(TrySendError::Full(9)));
    assert_eq!(rx.try_recv(), Ok(1));
    tx.try_send(3).unwrap();
    assert_eq!(tx.try_send(9), Err(TrySendError::Full(9)));
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Ok(3));
}

#[test]
fn a_cancelled_granted_waiter_passes_its_position_to_the_next() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, mut rx) = channel(1);
    tx.try_send(Counted(Arc::clone(&drops)))
        .unwrap_or_else(|_| panic!());
    let (b_wakes, b_waker) = CountingWaker::new();
    let mut b = pin!(tx.send(Counted(Arc::clone(&drops))));
    {
        let mut a = pin!(tx.send(Counted(Arc::clone(&drops))));
        assert!(poll_pinned(a.as_mut()).is_pending());
        assert!(poll_waking(b.as_mut(), &b_waker).is_pending());
        drop(rx.try_recv().unwrap_or_else(|_| panic!())); // granted to `a`
        assert_eq!(b_wakes.wakes(), 0);
    } // `a` is cancelled with a position: `b` takes it over.
    assert_eq!(drops.load(Ordering::SeqCst), 2);
    assert_eq!(b_wakes.wakes(), 1);
    assert!(matches!(poll_pinned(b.as_mut()), Poll::Ready(Ok(()))));
    drop(rx.try_recv().unwrap_or_else(|_| panic!()));
    assert_eq!(drops.load(Ordering::SeqCst), 3);
    assert_eq!(rx.try_recv().err(), Some(TryRecvError::Empty));
    assert_eq!(tx.capacity(), 1, "no slot was lost");
}

#[test]
fn a_cancelled_granted_waiter_with_nobody_behind_is_skipped() {
    let (tx, mut rx) = channel(2);
    tx.try_send(0).unwrap();
    tx.try_send(1).unwrap();
    {
        let mut a = pin!(tx.send(2));
        assert!(poll_pinned(a.as_mut()).is_pending());
        assert_eq!(rx.try_recv(), Ok(0)); // granted to `a`
    } // cancelled: its position is marked skipped
    tx.try_send(3).unwrap_err(); // the skipped position still counts...
    let (wakes, waker) = CountingWaker::new();
    assert_eq!(rx.try_recv(), Ok(1));
    // ...until the receiver steps over it.
    {
        let mut recv = pin!(rx.recv());
        assert!(poll_waking(recv.as_mut(), &waker).is_pending());
        assert_eq!(tx.capacity(), 2);
        tx.try_send(4).unwrap();
        assert_eq!(wakes.wakes(), 1);
        assert_eq!(poll_pinned(recv.as_mut()), Poll::Ready(Some(4)));
    }
    // Across the ring several times, with skips in it.
    for i in 0..10 {
        tx.try_send(i).unwrap();
        tx.try_send(i + 100).unwrap();
        {
            let mut late = pin!(tx.send(999));
            assert!(poll_pinned(late.as_mut()).is_pending());
            assert_eq!(rx.try_recv(), Ok(i));
        }
        assert_eq!(rx.try_recv(), Ok(i + 100));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    }
    drop(tx);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
fn a_cancelled_waiting_sender_leaves_the_queue_in_place() {
    let (tx, mut rx) = channel(1);
    tx.try_send(0).unwrap();
    let mut a = pin!(tx.send(1));
    assert!(poll_pinned(a.as_mut()).is_pending());
    {
        let mut b = pin!(tx.send(2));
        assert!(poll_pinned(b.as_mut()).is_pending());
    }
    let mut c = pin!(tx.send(3));
    assert!(poll_pinned(c.as_mut()).is_pending());
    assert_eq!(rx.try_recv(), Ok(0));
    assert_eq!(poll_pinned(a.as_mut()), Poll::Ready(Ok(())));
    assert!(poll_pinned(c.as_mut()).is_pending());
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(poll_pinned(c.as_mut()), Poll::Ready(Ok(())));
    assert_eq!(rx.try_recv(), Ok(3));
    // The last waiter left by cancelling: the queued flag is cleared too.
    tx.try_send(4).unwrap();
    {
        let mut d = pin!(tx.send(5));
        assert!(poll_pinned(d.as_mut()).is_pending());
    }
    assert_eq!(rx.try_recv(), Ok(4));
    tx.try_send(6).unwrap();
    assert_eq!(rx.try_recv(), Ok(6));
}

#[test]
fn close_fails_queued_senders_but_delivers_granted_ones() {
    const WAITERS: usize = 20; // more than one batch of wakers
    let (tx, mut rx) = channel(1);
    tx.try_send(0).unwrap();
    let mut granted = pin!(tx.send(1));
    assert!(poll_pinned(granted.as_mut()).is_pending());
    let counters: Vec<_> = (0..WAITERS).map(|_| CountingWaker::new()).collect();
    let mut waiting: Vec<_> = (0..WAITERS).map(|i| Box::pin(tx.send(100 + i))).collect();
    for (fut, (_, waker)) in waiting.iter_mut().zip(&counters) {
        assert!(poll_waking(fut.as_mut(), waker).is_pending());
    }
    assert_eq!(rx.try_recv(), Ok(0)); // position granted to `granted`
    rx.close();
    for (i, (fut, (count, _))) in waiting.iter_mut().zip(&counters).enumerate() {
        assert_eq!(count.wakes(), 1, "waiter {i} woken by close");
        match poll_pinned(fut.as_mut()) {
            Poll::Ready(Err(SendError(v))) => assert_eq!(v, 100 + i),
            _ => panic!("waiter {i} must fail with its value"),
        }
    }
    assert_eq!(
        rx.try_recv(),
        Err(TryRecvError::Empty),
        "granted value coming"
    );
    assert_eq!(poll_pinned(granted.as_mut()), Poll::Ready(Ok(())));
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    assert_eq!(block_on(tx.send(7)).map_err(|e| e.0), Err(7));
}

#[test]
fn a_granted_sender_cancelled_after_close_is_skipped() {
    let (tx, mut rx) = channel(1);
    tx.try_send(0).unwrap();
    {
        let mut granted = pin!(tx.send(1));
        assert!(poll_pinned(granted.as_mut()).is_pending());
        assert_eq!(rx.try_recv(), Ok(0));
        rx.close();
    }
    assert_eq!(block_on(rx.recv()), None);
}

#[test]
fn fuzz_model_with_pseudo_random_programs() {
    let mut seed = 0x2545_F491_4F6C_DD1D_u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let programs = if cfg!(miri) { 20 } else { 5_000 };
    for _ in 0..programs {
        // The length gets a draw of its own. Read off the state the last
        // program left, a length of 0 would leave that state as it is, and
        // every later program would be empty too.
        let len = (next() >> 32) as usize % 400;
        let data: Vec<u8> = (0..len).map(|_| (next() >> 24) as u8).collect();
        fuzz_mpsc(&data);
    }
}
