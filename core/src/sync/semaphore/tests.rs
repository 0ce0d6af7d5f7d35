use alloc::sync::Arc;
use alloc::vec::Vec;
use core::task::Poll;

use super::*;
use crate::sync::test_util::{block_on, poll_once, poll_with, CountingWaker};

#[test]
fn acquire_and_release_counts_permits() {
    let sem = Semaphore::new(3);
    let a = block_on(sem.acquire()).unwrap();
    let b = block_on(sem.acquire_many(2)).unwrap();
    assert_eq!((a.num_permits(), b.num_permits()), (1, 2));
    assert_eq!(sem.available_permits(), 0);
    assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
    drop(b);
    assert_eq!(sem.available_permits(), 2);
    drop(a);
    assert_eq!(sem.available_permits(), 3);
}

#[test]
fn waiters_are_served_in_fifo_order() {
    let sem = Semaphore::new(0);
    let mut futs: Vec<_> = (0..5)
        .map(|_| (sem.acquire(), CountingWaker::new()))
        .collect();
    for (fut, (_, waker)) in &mut futs {
        assert!(poll_with(fut, waker).is_pending());
    }
    let mut held = Vec::new();
    for served in 0..5 {
        sem.add_permits(1);
        for (i, (_, (counter, _))) in futs.iter().enumerate() {
            assert_eq!(
                counter.wakes(),
                usize::from(i <= served),
                "waiter {i} after {served} releases"
            );
        }
        let (fut, (_, waker)) = &mut futs[served];
        let Poll::Ready(Ok(permit)) = poll_with(fut, waker) else {
            panic!("waiter {served}")
        };
        held.push(permit);
        for (fut, (_, waker)) in &mut futs[served + 1..] {
            assert!(poll_with(fut, waker).is_pending());
        }
    }
    assert_eq!(sem.available_permits(), 0);
    drop(held);
    assert_eq!(sem.available_permits(), 5);
}

#[test]
fn large_request_at_the_head_is_not_starved() {
    let sem = Semaphore::new(2);
    let held = sem.try_acquire().unwrap();
    let mut big = sem.acquire_many(3);
    assert!(poll_once(&mut big).is_pending());
    let mut small = sem.acquire();
    assert!(poll_once(&mut small).is_pending());
    sem.add_permits(1); // 2 free, big needs 3: small must still wait behind it
    assert!(poll_once(&mut small).is_pending());
    assert_eq!(
        sem.try_acquire().unwrap_err(),
        TryAcquireError::NoPermits,
        "no queue jumping"
    );
    drop(held); // 3 free: big goes first
    let Poll::Ready(Ok(big_permit)) = poll_once(&mut big) else {
        panic!("big not served")
    };
    assert!(poll_once(&mut small).is_pending());
    drop(big_permit);
    let Poll::Ready(Ok(small_permit)) = poll_once(&mut small) else {
        panic!("small not served")
    };
    assert_eq!(sem.available_permits(), 2);
    drop(small_permit);
    assert_eq!(sem.available_permits(), 3);
}

#[test]
fn cancelling_the_blocking_head_unblocks_the_next_waiter() {
    let sem = Semaphore::new(2);
    let mut big = sem.acquire_many(5);
    assert!(poll_once(&mut big).is_pending());
    let (counter, waker) = CountingWaker::new();
    let mut small = sem.acquire();
    assert!(poll_with(&mut small, &waker).is_pending());
    drop(big);
    assert_eq!(
        counter.wakes(),
        1,
        "the next waiter is woken when the head leaves"
    );
    let Poll::Ready(Ok(permit)) = poll_once(&mut small) else {
        panic!("small not served")
    };
    assert_eq!(sem.available_permits(), 1);
    drop(permit);
    assert_eq!(sem.available_permits(), 2);
}

#[test]
fn cancelling_a_granted_acquire_passes_its_permits_on() {
    let sem = Semaphore::new(0);
    let mut first = sem.acquire_many(2);
    let mut second = sem.acquire_many(2);
    assert!(poll_once(&mut first).is_pending());
    let (counter, waker) = CountingWaker::new();
    assert!(poll_with(&mut second, &waker).is_pending());
    sem.add_permits(2); // granted to `first`, which is never polled again
    assert_eq!(counter.wakes(), 0);
    drop(first);
    assert_eq!(counter.wakes(), 1);
    let Poll::Ready(Ok(permit)) = poll_once(&mut second) else {
        panic!("not passed on")
    };
    assert_eq!(permit.num_permits(), 2);
    drop(permit);
    assert_eq!(sem.available_permits(), 2, "no permit lost or duplicated");
}

#[test]
fn close_fails_pending_and_future_acquires() {
    let sem = Semaphore::new(0);
    let (counter, waker) = CountingWaker::new();
    let mut pending = sem.acquire();
    assert!(poll_with(&mut pending, &waker).is_pending());
    sem.close();
    assert_eq!(counter.wakes(), 1);
    assert_eq!(
        poll_once(&mut pending).map(|r| r.err()),
        Poll::Ready(Some(AcquireError::new()))
    );
    assert!(block_on(sem.acquire()).is_err());
    assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::Closed);
    sem.add_permits(1);
    assert_eq!(
        sem.available_permits(),
        1,
        "permits still count after close"
    );
    let msg = alloc::format!("{}", AcquireError::new());
    assert!(msg.contains("closed"), "{msg}");
}

#[test]
fn forget_shrinks_capacity() {
    let sem = Semaphore::new(2);
    sem.try_acquire().unwrap().forget();
    assert_eq!(sem.available_permits(), 1);
}

#[test]
fn owned_permits_move_across_threads() {
    let sem = Arc::new(Semaphore::new(1));
    let permit = block_on(Arc::clone(&sem).acquire_owned()).unwrap();
    let waiter = {
        let sem = Arc::clone(&sem);
        std::thread::spawn(move || block_on(sem.acquire_many_owned(1)).unwrap().num_permits())
    };
    std::thread::spawn(move || drop(permit)).join().unwrap();
    assert_eq!(waiter.join().unwrap(), 1);
    assert_eq!(sem.available_permits(), 1);
}

#[test]
fn many_threads_never_exceed_the_limit() {
    const THREADS: usize = 4;
    let rounds = if cfg!(miri) { 20 } else { 2_000 };
    let sem = Arc::new(Semaphore::new(2));
    let inside = Arc::new(core::sync::atomic::AtomicUsize::new(0));
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let (sem, inside) = (Arc::clone(&sem), Arc::clone(&inside));
            std::thread::spawn(move || {
                for _ in 0..rounds {
                    let _p = block_on(sem.acquire()).unwrap();
                    let now = inside.fetch_add(1, core::sync::atomic::Ordering::SeqCst);
                    assert!(now < 2, "{} holders of 2 permits", now + 1);
                    inside.fetch_sub(1, core::sync::atomic::Ordering::SeqCst);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(sem.available_permits(), 2);
}

#[test]
fn fuzz_model_with_pseudo_random_programs() {
    let mut seed = 0x9E37_79B9_7F4A_7C15_u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let programs = if cfg!(miri) { 20 } else { 2_000 };
    let mut bytes = 0;
    for _ in 0..programs {
        // The length gets a draw of its own: read off the state the last
        // program left, a length of 0 left that state as it was, and every
        // later program was empty too (the test used to run about 11 bytes
        // per program on average, almost all of them in the first few).
        let len = (next() >> 32) as usize % 200;
        let data: Vec<u8> = (0..len).map(|_| (next() >> 24) as u8).collect();
        bytes += data.len();
        fuzz_semaphore(&data);
    }
    assert!(
        bytes > programs * 50,
        "the programs are not empty: {bytes} bytes"
    );
}

#[test]
fn wakes_more_waiters_than_one_batch_holds() {
    // More waiters than a `WakeList` batch, so release and close must
    // unlock, wake, and re-lock part-way through.
    const WAITERS: usize = 40;
    let sem = Semaphore::new(0);
    let mut futs: Vec<_> = (0..WAITERS)
        .map(|_| (sem.acquire(), CountingWaker::new()))
        .collect();
    for (fut, (_, waker)) in &mut futs {
        assert!(poll_with(fut, waker).is_pending());
    }
    sem.add_permits(WAITERS / 2);
    let woken = futs.iter().filter(|(_, (c, _))| c.wakes() == 1).count();
    assert_eq!(woken, WAITERS / 2);
    sem.close();
    let mut granted = 0;
    for (i, (fut, (counter, waker))) in futs.iter_mut().enumerate() {
        assert_eq!(counter.wakes(), 1, "waiter {i} woken exactly once");
        match poll_with(fut, waker) {
            Poll::Ready(Ok(permit)) => {
                assert!(i < WAITERS / 2, "waiter {i} granted out of order");
                permit.forget();
                granted += 1;
            }
            Poll::Ready(Err(_)) => assert!(i >= WAITERS / 2),
            Poll::Pending => panic!("waiter {i} still pending after close"),
        }
    }
    assert_eq!(granted, WAITERS / 2);
}

#[test]
fn grant_tickets_work_across_the_wrap_of_the_counter() {
    // Start the ticket counter just below the wrap, as after 2^64 waits.
    let sem = Semaphore::new(0);
    let start = usize::MAX - 2;
    sem.lock().next_ticket = start;
    sem.queue.served.store(start, Release);
    let mut futs: Vec<_> = (0..6)
        .map(|_| (sem.acquire(), CountingWaker::new()))
        .collect();
    for (fut, (_, waker)) in &mut futs {
        assert!(poll_with(fut, waker).is_pending());
    }
    // Each release serves exactly the next waiter, before and after the
    // counter wraps; the ones behind it still wait.
    for served in 0..6 {
        sem.add_permits(1);
        let (fut, (_, waker)) = &mut futs[served];
        let Poll::Ready(Ok(permit)) = poll_with(fut, waker) else {
            panic!("waiter {served} not served")
        };
        permit.forget();
        for (fut, (_, waker)) in &mut futs[served + 1..] {
            assert!(poll_with(fut, waker).is_pending(), "served {served}");
        }
    }
    assert_eq!(sem.lock().next_ticket, start.wrapping_add(6));
}

#[test]
fn a_granted_waiter_whose_key_was_reused_still_gets_its_permits() {
    let sem = Semaphore::new(0);
    let (mut first, (_, first_waker)) = (sem.acquire(), CountingWaker::new());
    assert!(poll_with(&mut first, &first_waker).is_pending());
    // Granted: its node is freed.
    sem.add_permits(1);
    // A new waiter takes the freed slot (same key, newer ticket).
    let (mut second, (_, second_waker)) = (sem.acquire(), CountingWaker::new());
    assert!(poll_with(&mut second, &second_waker).is_pending());
    // Pretend the lock-free check missed the grant: the lock path must
    // still see that the key now holds someone else's ticket.
    sem.queue.served.store(0, Release);
    let Poll::Ready(Ok(permit)) = poll_with(&mut first, &first_waker) else {
        panic!("the first waiter lost its grant")
    };
    drop(permit); // goes to the second waiter
    sem.queue.served.store(2, Release);
    assert!(matches!(
        poll_with(&mut second, &second_waker),
        Poll::Ready(Ok(_))
    ));
}

/// A waker that adds a permit to a semaphore when woken.
struct ReleasingWaker(Arc<Semaphore>);

impl alloc::task::Wake for ReleasingWaker {
    fn wake(self: Arc<Self>) {
        self.0.add_permits(1);
    }
}

#[test]
fn nothing_is_granted_between_close_batches() {
    // More waiters than one wake batch: `close` detaches them in batches and
    // wakes each batch with the lock released. Here those wakes release
    // permits, so waiters of later batches, still queued then, would be
    // granted if a closed semaphore still granted.
    let sem = Arc::new(Semaphore::new(0));
    let waker = core::task::Waker::from(Arc::new(ReleasingWaker(Arc::clone(&sem))));
    let mut futs: Vec<_> = (0..100).map(|_| Arc::clone(&sem).acquire_owned()).collect();
    for fut in &mut futs {
        assert!(poll_with(fut, &waker).is_pending());
    }
    sem.close();
    for (i, fut) in futs.iter_mut().enumerate() {
        assert!(
            matches!(poll_with(fut, &waker), Poll::Ready(Err(_))),
            "waiter {i} was granted after close"
        );
    }
    assert_eq!(sem.available_permits(), 100);
}

#[test]
fn release_to_queued_waiters_hands_over_and_returns_the_rest() {
    // Released while a waiter is queued: the waiter is served from the
    // released permits, the surplus becomes free, a shortfall waits for
    // more, and a smaller request behind a blocked head does not jump it.
    let sem = Semaphore::new(0);
    let mut big = sem.acquire_many(3);
    let mut small = sem.acquire();
    assert!(poll_once(&mut big).is_pending());
    assert!(poll_once(&mut small).is_pending());

    sem.add_permits(1); // not enough for the head: kept free, nobody served
    assert_eq!(sem.available_permits(), 1);
    assert!(poll_once(&mut big).is_pending());
    assert!(
        poll_once(&mut small).is_pending(),
        "jumped the blocked head"
    );

    sem.add_permits(2); // 1 free + 2 in hand: the head is served
    let Poll::Ready(Ok(big)) = poll_once(&mut big) else {
        panic!("head not served")
    };
    assert_eq!(big.num_permits(), 3);
    assert_eq!(sem.available_permits(), 0);

    sem.add_permits(4); // one for `small`, three left free
    let Poll::Ready(Ok(small)) = poll_once(&mut small) else {
        panic!("second waiter not served")
    };
    assert_eq!(sem.available_permits(), 3);
    drop((big, small));
    assert_eq!(sem.available_permits(), 7);
}

/// The 64-byte line an address falls on.
fn line_of<T>(field: &T) -> usize {
    core::ptr::from_ref(field).addr() / 64
}

#[test]
fn the_hot_words_sit_on_separate_lines_without_growing_the_semaphore() {
    // The layout is a measured performance property (see the module docs):
    // the permit word, read by both workers while waiters queue, shares no
    // line with the lock or the grant counter, which every grant writes.
    let sem = Semaphore::new(1);
    assert_ne!(line_of(&sem.permits), line_of(&sem.queue.served));
    assert_ne!(line_of(&sem.permits), line_of(&sem.queue.state));
    // Every `Mutex` and `RwLock` embeds one: its size is part of theirs.
    assert_eq!(core::mem::size_of::<Semaphore>(), 256);
}
