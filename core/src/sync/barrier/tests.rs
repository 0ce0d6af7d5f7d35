use alloc::format;
use alloc::vec::Vec;
use core::task::Poll;

use super::*;
use crate::sync::test_util::{poll_once, poll_with, CountingWaker};

#[test]
fn the_last_arrival_leads_and_releases_everyone() {
    let barrier = Barrier::new(3);
    let mut waiters: Vec<_> = (0..2)
        .map(|_| (barrier.wait(), CountingWaker::new()))
        .collect();
    for (fut, (_, waker)) in &mut waiters {
        assert!(poll_with(fut, waker).is_pending());
    }
    assert_eq!(format!("{barrier:?}"), "Barrier { n: 3, arrived: 2 }");
    let mut last = barrier.wait();
    assert_eq!(
        poll_once(&mut last),
        Poll::Ready(BarrierWaitResult { leader: true })
    );
    for (fut, (counter, waker)) in &mut waiters {
        assert_eq!(counter.wakes(), 1);
        let Poll::Ready(result) = poll_with(fut, waker) else {
            panic!("a waiter was woken but not released")
        };
        assert!(!result.is_leader());
    }
    assert_eq!(format!("{barrier:?}"), "Barrier { n: 3, arrived: 0 }");
}

#[test]
fn rounds_are_reusable_and_do_not_mix() {
    let barrier = Barrier::new(2);
    let mut first = barrier.wait();
    assert!(poll_once(&mut first).is_pending());
    let mut second = barrier.wait();
    assert!(poll_once(&mut second).is_ready());
    // `first` was released but has not looked yet; the next round starts.
    let mut third = barrier.wait();
    assert!(poll_once(&mut third).is_pending(), "a new round needs two");
    assert_eq!(
        poll_once(&mut first),
        Poll::Ready(BarrierWaitResult { leader: false })
    );
    assert!(poll_once(&mut third).is_pending());
    let mut fourth = barrier.wait();
    assert!(poll_once(&mut fourth).is_ready());
    assert!(poll_once(&mut third).is_ready());
}

#[test]
fn more_waiters_than_one_wake_batch_are_all_released() {
    let n = 40;
    let barrier = Barrier::new(n);
    let mut waiters: Vec<_> = (0..n - 1)
        .map(|_| (barrier.wait(), CountingWaker::new()))
        .collect();
    for (fut, (_, waker)) in &mut waiters {
        assert!(poll_with(fut, waker).is_pending());
    }
    assert!(poll_once(&mut barrier.wait()).is_ready());
    for (i, (fut, (counter, waker))) in waiters.iter_mut().enumerate() {
        assert_eq!(counter.wakes(), 1, "waiter {i}");
        assert!(poll_with(fut, waker).is_ready(), "waiter {i}");
    }
}

#[test]
fn a_dropped_wait_withdraws_its_arrival() {
    let barrier = Barrier::new(2);
    let mut gone = barrier.wait();
    assert!(poll_once(&mut gone).is_pending());
    drop(gone);
    let mut a = barrier.wait();
    assert!(
        poll_once(&mut a).is_pending(),
        "the dropped wait must not count"
    );
    let mut b = barrier.wait();
    assert!(poll_once(&mut b).is_ready());
    assert!(poll_once(&mut a).is_ready());
}

#[test]
fn a_released_wait_dropped_unpolled_changes_nothing() {
    let barrier = Barrier::new(2);
    let mut released = barrier.wait();
    assert!(poll_once(&mut released).is_pending());
    assert!(poll_once(&mut barrier.wait()).is_ready());
    drop(released);
    assert_eq!(format!("{barrier:?}"), "Barrier { n: 2, arrived: 0 }");
    let mut next = barrier.wait();
    assert!(poll_once(&mut next).is_pending());
}

#[test]
fn zero_behaves_as_one() {
    let barrier = Barrier::new(0);
    for _ in 0..3 {
        assert_eq!(
            poll_once(&mut barrier.wait()),
            Poll::Ready(BarrierWaitResult { leader: true })
        );
    }
}
