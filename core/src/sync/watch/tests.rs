use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use super::*;
use crate::sync::test_util::{block_on, poll_once, poll_with, CountingWaker};

#[test]
fn changed_waits_for_a_send_and_wakes_once() {
    let (tx, mut rx) = channel(0);
    let (count, waker) = CountingWaker::new();
    {
        let mut changed = core::pin::pin!(rx.changed());
        assert!(changed
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_pending());
        assert!(changed
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_pending());
        tx.send(1).unwrap();
        assert_eq!(count.wakes(), 1, "one registration, one wake");
        assert_eq!(
            changed.as_mut().poll(&mut Context::from_waker(&waker)),
            Poll::Ready(Ok(()))
        );
    }
    assert_eq!(*rx.borrow_and_update(), 1);
    assert!(
        rx.shared.rx_waiters.lock().is_empty(),
        "no entry left behind"
    );
}

#[test]
fn a_receiver_sees_only_the_latest_value() {
    let (tx, mut rx) = channel(0);
    for i in 1..=5 {
        tx.send(i).unwrap();
    }
    assert_eq!(block_on(rx.changed()), Ok(()));
    assert_eq!(*rx.borrow_and_update(), 5);
    let mut changed = Box::pin(rx.changed());
    assert!(poll_once(&mut changed).is_pending(), "5 was seen");
}

#[test]
fn closing_the_last_sender_fails_changed_after_the_last_value() {
    let (tx, mut rx) = channel(0);
    let tx2 = tx.clone();
    tx.send(1).unwrap();
    drop(tx);
    assert!(rx.has_changed().unwrap(), "one sender is left");
    drop(tx2);
    assert!(rx.has_changed().is_err());
    assert_eq!(block_on(rx.changed()), Ok(()), "the unseen value first");
    assert_eq!(block_on(rx.changed()), Err(RecvError(())));
    assert_eq!(*rx.borrow(), 1);
}

#[test]
fn a_waiting_receiver_is_woken_by_the_sender_drop() {
    let (tx, mut rx) = channel(());
    let (count, waker) = CountingWaker::new();
    let mut changed = Box::pin(rx.changed());
    assert!(poll_with(&mut changed, &waker).is_pending());
    drop(tx);
    assert_eq!(count.wakes(), 1);
    assert_eq!(
        poll_with(&mut changed, &waker),
        Poll::Ready(Err(RecvError(())))
    );
}

#[test]
fn send_fails_without_receivers_but_send_replace_stores() {
    let (tx, rx) = channel(1);
    drop(rx);
    assert!(tx.is_closed());
    assert_eq!(tx.send(2).unwrap_err().0, 2);
    assert_eq!(*tx.borrow(), 1);
    assert_eq!(tx.send_replace(3), 1);
    assert_eq!(*tx.borrow(), 3);
    let rx = tx.subscribe();
    assert!(!tx.is_closed());
    assert!(
        !rx.has_changed().unwrap(),
        "a subscriber has seen the value"
    );
}

#[test]
fn send_if_modified_wakes_only_on_true() {
    let (tx, mut rx) = channel(0);
    let (count, waker) = CountingWaker::new();
    let mut changed = Box::pin(rx.changed());
    assert!(poll_with(&mut changed, &waker).is_pending());
    assert!(!tx.send_if_modified(|_| false));
    assert_eq!(count.wakes(), 0);
    assert!(tx.send_if_modified(|v| {
        *v = 9;
        true
    }));
    assert_eq!(count.wakes(), 1);
    assert!(poll_with(&mut changed, &waker).is_ready());
}

#[test]
fn a_cancelled_changed_leaves_no_entry_and_loses_nothing() {
    let (tx, mut rx) = channel(0);
    {
        let mut changed = Box::pin(rx.changed());
        assert!(poll_once(&mut changed).is_pending());
        assert!(!rx_waiters_empty(&tx));
    }
    assert!(rx_waiters_empty(&tx), "dropping removed the entry");
    tx.send(1).unwrap();
    {
        let _changed = Box::pin(rx.changed()); // never polled
    }
    assert!(
        rx.has_changed().unwrap(),
        "the unseen value is still unseen"
    );
    assert_eq!(block_on(rx.changed()), Ok(()));
}

fn rx_waiters_empty<T>(tx: &Sender<T>) -> bool {
    tx.shared.rx_waiters.lock().is_empty()
}

#[test]
fn mark_changed_and_unchanged_move_the_mark() {
    let (tx, mut rx) = channel(0);
    rx.mark_changed();
    assert!(rx.has_changed().unwrap());
    assert!(rx.borrow().has_changed());
    rx.mark_unchanged();
    assert!(!rx.has_changed().unwrap());
    tx.send(1).unwrap();
    assert!(rx.borrow_and_update().has_changed());
    assert!(!rx.borrow().has_changed());
}

#[test]
fn wait_for_checks_the_current_value_then_each_change() {
    let (tx, mut rx) = channel(5);
    assert_eq!(*block_on(rx.wait_for(|v| *v == 5)).unwrap(), 5);
    let calls = AtomicUsize::new(0);
    {
        let mut waiting = Box::pin(rx.wait_for(|v| {
            calls.fetch_add(1, SeqCst);
            *v == 7
        }));
        assert!(poll_once(&mut waiting).is_pending());
        tx.send(6).unwrap();
        assert!(poll_once(&mut waiting).is_pending());
        tx.send(7).unwrap();
        let found = match poll_once(&mut waiting) {
            Poll::Ready(found) => found.unwrap(),
            Poll::Pending => panic!("7 satisfies the predicate"),
        };
        assert_eq!(*found, 7);
    }
    assert_eq!(calls.load(SeqCst), 3, "current value, then 6, then 7");
    drop(tx);
    assert!(block_on(rx.wait_for(|v| *v == 8)).is_err());
}

#[test]
fn wait_for_after_close_still_checks_an_unseen_value() {
    let (tx, mut rx) = channel(0);
    tx.send(3).unwrap();
    drop(tx);
    assert_eq!(*block_on(rx.wait_for(|v| *v == 3)).unwrap(), 3);
}

#[test]
fn closed_waits_for_the_last_receiver() {
    let (tx, rx) = channel(());
    let rx2 = rx.clone();
    assert_eq!(tx.receiver_count(), 2);
    let (count, waker) = CountingWaker::new();
    let mut closed = Box::pin(tx.closed());
    assert!(poll_with(&mut closed, &waker).is_pending());
    drop(rx);
    assert!(poll_with(&mut closed, &waker).is_pending());
    drop(rx2);
    assert!(count.wakes() >= 1);
    assert!(poll_with(&mut closed, &waker).is_ready());
}

#[test]
fn many_threads_each_see_the_final_value() {
    let rounds = if cfg!(miri) { 20 } else { 2_000 };
    let (tx, rx) = channel(0usize);
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let mut rx = rx.clone();
            std::thread::spawn(move || {
                let mut last = 0;
                while block_on(rx.changed()).is_ok() {
                    let now = *rx.borrow_and_update();
                    assert!(now >= last, "values only grow: {now} after {last}");
                    last = now;
                }
                last
            })
        })
        .collect();
    drop(rx);
    for i in 1..=rounds {
        tx.send(i).unwrap();
    }
    drop(tx);
    for reader in readers {
        assert_eq!(reader.join().unwrap(), rounds);
    }
}

#[test]
fn values_are_dropped_exactly_once() {
    struct Counted(Arc<AtomicUsize>);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, SeqCst);
        }
    }
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = channel(Counted(drops.clone()));
    drop(tx.send_replace(Counted(drops.clone())));
    assert_eq!(drops.load(SeqCst), 1);
    tx.send(Counted(drops.clone())).map_err(drop).unwrap();
    assert_eq!(drops.load(SeqCst), 2);
    drop(rx);
    drop(tx.send(Counted(drops.clone())));
    assert_eq!(
        drops.load(SeqCst),
        3,
        "the refused value came back and was dropped"
    );
    drop(tx);
    assert_eq!(drops.load(SeqCst), 4);
}

use alloc::boxed::Box;
