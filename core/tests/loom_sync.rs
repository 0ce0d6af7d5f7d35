//! Model checks of the sync primitives under loom.
//!
//! Run with:
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p minirt-core --release --test loom_sync`
//!
//! Each test races two or three threads over one primitive and asserts what
//! must hold in *every* interleaving: values are delivered or returned (never
//! both, never lost), dropped exactly once, permits are conserved, and no
//! wakeup is lost (a lost wakeup shows up as a loom deadlock in `block_on`).
#![cfg(loom)]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc as StdArc;
use std::task::{Context, Poll, Waker};

use loom::future::block_on;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;
use minirt_core::sync::{mpsc, oneshot, Notify, Semaphore};

/// Counts its own drops.
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Receives `n` times on another thread; joining gives what each `recv` got.
fn receive_in_thread(
    mut rx: mpsc::Receiver<i32>,
    n: usize,
) -> thread::JoinHandle<Vec<Option<i32>>> {
    thread::spawn(move || (0..n).map(|_| block_on(rx.recv())).collect())
}

/// Polls an `Unpin` future once with a no-op waker.
fn poll_once<F: Future + Unpin>(fut: &mut F) -> Poll<F::Output> {
    Pin::new(fut).poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn oneshot_send_vs_receiver_drop() {
    loom::model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = oneshot::channel();
        let value = Counted(Arc::clone(&drops));
        let sender = thread::spawn(move || tx.send(value).map_err(drop).is_ok());
        drop(rx);
        sender.join().unwrap();
        assert_eq!(
            drops.load(Ordering::SeqCst),
            1,
            "the value is dropped exactly once"
        );
    });
}

#[test]
fn oneshot_send_vs_close_then_try_recv() {
    // tokio #4225: after `close`, `try_recv` must never race a late `send`.
    loom::model(|| {
        let (tx, mut rx) = oneshot::channel();
        let sender = thread::spawn(move || tx.send(7).is_ok());
        rx.close();
        let received = rx.try_recv();
        let sent = sender.join().unwrap();
        match received {
            Ok(v) => assert!(sent && v == 7),
            Err(e) => {
                assert_eq!(e, oneshot::TryRecvError::Closed);
                assert!(
                    !sent,
                    "a send that succeeded must be receivable after close"
                );
            }
        }
    });
}

#[test]
fn oneshot_receiver_waits_for_send_or_drop() {
    loom::model(|| {
        let (tx, rx) = oneshot::channel();
        let sender = thread::spawn(move || tx.send(1).unwrap());
        assert_eq!(block_on(rx), Ok(1));
        sender.join().unwrap();
    });
    loom::model(|| {
        let (tx, rx) = oneshot::channel::<u8>();
        let sender = thread::spawn(move || drop(tx));
        assert!(block_on(rx).is_err());
        sender.join().unwrap();
    });
}

#[test]
fn oneshot_sender_closed_sees_receiver_drop() {
    loom::model(|| {
        let (mut tx, rx) = oneshot::channel::<u8>();
        let receiver = thread::spawn(move || drop(rx));
        block_on(tx.closed());
        assert!(tx.is_closed());
        receiver.join().unwrap();
    });
}

#[test]
fn semaphore_release_during_acquire() {
    loom::model(|| {
        let sem = StdArc::new(Semaphore::new(0));
        let releaser = {
            let sem = StdArc::clone(&sem);
            thread::spawn(move || sem.add_permits(1))
        };
        let permit = block_on(sem.acquire()).unwrap();
        drop(permit);
        releaser.join().unwrap();
        assert_eq!(sem.available_permits(), 1);
    });
}

#[test]
fn semaphore_concurrent_cancel_conserves_permits() {
    // A granted-but-unpolled acquire is cancelled while the permit holder
    // releases; a second waiter must end up with the permit.
    loom::model(|| {
        let sem = StdArc::new(Semaphore::new(1));
        let held = StdArc::clone(&sem).try_acquire_owned().unwrap();
        let mut first = sem.acquire();
        assert!(poll_once(&mut first).is_pending());
        let releaser = thread::spawn(move || drop(held));
        drop(first); // cancel, racing with the release
        let second = block_on(sem.acquire()).unwrap();
        assert_eq!(sem.available_permits(), 0);
        drop(second);
        releaser.join().unwrap();
        assert_eq!(sem.available_permits(), 1, "no permit lost or duplicated");
    });
}

#[test]
fn semaphore_cancel_of_blocking_head_wakes_next() {
    loom::model(|| {
        let sem = StdArc::new(Semaphore::new(1));
        let mut big = StdArc::clone(&sem).acquire_many_owned(2);
        assert!(poll_once(&mut big).is_pending());
        let canceller = thread::spawn(move || drop(big));
        let small = block_on(sem.acquire()).unwrap();
        drop(small);
        canceller.join().unwrap();
        assert_eq!(sem.available_permits(), 1);
    });
}

#[test]
fn semaphore_partial_hand_overs_add_up() {
    // Two releases of one permit each race to a waiter that needs two (one
    // from another thread, one from this one before it waits). A
    // release that finds the waiter queued hands its permit over under the
    // lock; one permit is not enough, so it must go back to the word where
    // the other release's hand-over (or the waiter) finds it.
    loom::model(|| {
        let sem = StdArc::new(Semaphore::new(0));
        let mut both = StdArc::clone(&sem).acquire_many_owned(2);
        assert!(poll_once(&mut both).is_pending());
        let releaser = {
            let sem = StdArc::clone(&sem);
            thread::spawn(move || sem.add_permits(1))
        };
        sem.add_permits(1);
        let permit = block_on(both).unwrap();
        assert_eq!(permit.num_permits(), 2);
        drop(permit);
        releaser.join().unwrap();
        assert_eq!(sem.available_permits(), 2, "no permit lost or duplicated");
    });
}

#[test]
fn semaphore_hand_over_races_close() {
    // A release aimed at a queued waiter races `close`: the waiter gets the
    // permit or an error, and in both cases the permit ends up free.
    loom::model(|| {
        let sem = StdArc::new(Semaphore::new(0));
        let mut waiter = StdArc::clone(&sem).acquire_owned();
        assert!(poll_once(&mut waiter).is_pending());
        let releaser = {
            let sem = StdArc::clone(&sem);
            thread::spawn(move || sem.add_permits(1))
        };
        sem.close();
        drop(block_on(waiter));
        releaser.join().unwrap();
        assert_eq!(
            sem.available_permits(),
            1,
            "the released permit is not lost"
        );
    });
}

#[test]
fn semaphore_close_during_acquire() {
    loom::model(|| {
        let sem = StdArc::new(Semaphore::new(0));
        let closer = {
            let sem = StdArc::clone(&sem);
            thread::spawn(move || sem.close())
        };
        assert!(block_on(sem.acquire()).is_err());
        closer.join().unwrap();
        assert!(sem.is_closed());
    });
}

#[test]
fn mpsc_recv_sees_send_and_last_sender_drop() {
    loom::model(|| {
        let (tx, mut rx) = mpsc::channel(1);
        let sender = thread::spawn(move || block_on(tx.send(3)).unwrap());
        assert_eq!(block_on(rx.recv()), Some(3));
        assert_eq!(block_on(rx.recv()), None);
        sender.join().unwrap();
    });
}

/// A `try_send` races the receiver's drop, with `buffered` values already in
/// the channel: every value is dropped exactly once — by the receiver, by the
/// channel, or (a failed send) by the sender.
fn send_vs_receiver_drop(buffered: usize) {
    loom::model(move || {
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = mpsc::channel(buffered + 1);
        for _ in 0..buffered {
            tx.try_send(Counted(Arc::clone(&drops)))
                .unwrap_or_else(|_| panic!("room for the buffered values"));
        }
        let value = Counted(Arc::clone(&drops));
        let sender = thread::spawn(move || {
            let _ = tx.try_send(value);
        });
        drop(rx);
        sender.join().unwrap();
        assert_eq!(
            drops.load(Ordering::SeqCst),
            buffered + 1,
            "each value is dropped exactly once"
        );
    });
}

#[test]
fn mpsc_send_vs_receiver_drop_loses_nothing() {
    send_vs_receiver_drop(0);
}

#[test]
fn notify_one_is_never_lost() {
    loom::model(|| {
        let notify = StdArc::new(Notify::new());
        let notifier = {
            let notify = StdArc::clone(&notify);
            thread::spawn(move || notify.notify_one())
        };
        block_on(notify.notified());
        notifier.join().unwrap();
    });
}

#[test]
fn semaphore_two_contenders_share_one_permit() {
    loom::model(|| {
        let sem = StdArc::new(Semaphore::new(1));
        let inside = Arc::new(AtomicUsize::new(0));
        let contender = |sem: StdArc<Semaphore>, inside: Arc<AtomicUsize>| {
            move || {
                let permit = block_on(sem.acquire()).unwrap();
                assert_eq!(
                    inside.fetch_add(1, Ordering::SeqCst),
                    0,
                    "two holders of one permit"
                );
                inside.fetch_sub(1, Ordering::SeqCst);
                drop(permit);
            }
        };
        let a = thread::spawn(contender(StdArc::clone(&sem), Arc::clone(&inside)));
        contender(StdArc::clone(&sem), inside)();
        a.join().unwrap();
        assert_eq!(sem.available_permits(), 1);
        // (Three contenders exceed loom's branch limit: the spin lock makes
        // every wait a long series of yields.)
    });
}

#[test]
fn mpsc_full_sender_is_woken_by_recv() {
    loom::model(|| {
        let (tx, mut rx) = mpsc::channel(1);
        tx.try_send(1).unwrap();
        let sender = thread::spawn(move || block_on(tx.send(2)).unwrap());
        assert_eq!(block_on(rx.recv()), Some(1));
        assert_eq!(block_on(rx.recv()), Some(2));
        assert_eq!(block_on(rx.recv()), None);
        sender.join().unwrap();
    });
}

#[test]
fn notify_waiters_reaches_a_notified_created_before_it() {
    loom::model(|| {
        let notify = StdArc::new(Notify::new());
        // Created before the call, so it completes whether the call lands
        // before or after its first poll (a lost wakeup would deadlock).
        let notified = notify.notified();
        let notifier = {
            let notify = StdArc::clone(&notify);
            thread::spawn(move || notify.notify_waiters())
        };
        block_on(notified);
        notifier.join().unwrap();
    });
}

#[test]
fn mpsc_two_producers_deliver_each_value_once() {
    // Two senders race for positions in a ring of two slots while the
    // receiver parks: nothing lost, nothing duplicated, no lost wake-up.
    loom::model(|| {
        let (tx, mut rx) = mpsc::channel(2);
        let tx2 = tx.clone();
        let a = thread::spawn(move || block_on(tx.send(1)).unwrap());
        let b = thread::spawn(move || block_on(tx2.send(2)).unwrap());
        let first = block_on(rx.recv()).unwrap();
        let second = block_on(rx.recv()).unwrap();
        assert_eq!(first + second, 3, "got {first} and {second}");
        assert_eq!(block_on(rx.recv()), None);
        a.join().unwrap();
        b.join().unwrap();
    });
}

#[test]
fn mpsc_last_sender_drop_wakes_parked_receiver() {
    // One sender sends and drops, the other only drops: the receiver must
    // get the value, then `None`, whichever drop comes last.
    loom::model(|| {
        let (tx, mut rx) = mpsc::channel::<u8>(1);
        let tx2 = tx.clone();
        let a = thread::spawn(move || {
            tx.try_send(7).unwrap();
        });
        let b = thread::spawn(move || drop(tx2));
        assert_eq!(block_on(rx.recv()), Some(7));
        assert_eq!(block_on(rx.recv()), None);
        a.join().unwrap();
        b.join().unwrap();
    });
}

#[test]
fn mpsc_receiver_drop_with_send_in_flight_drops_each_value_once() {
    // One value is buffered (the receiver drops it) while a second send is
    // in flight (the channel or the sender drops that one).
    send_vs_receiver_drop(1);
}

#[test]
fn mpsc_close_during_send_delivers_or_returns() {
    // A send racing `close` either fails (value back) or is received.
    loom::model(|| {
        let (tx, mut rx) = mpsc::channel(1);
        let sender = thread::spawn(move || tx.try_send(1).is_ok());
        rx.close();
        let received = block_on(rx.recv());
        let sent = sender.join().unwrap();
        assert_eq!(
            received.is_some(),
            sent,
            "sent {sent}, received {received:?}"
        );
    });
}

#[test]
fn mpsc_queued_sender_vs_receiver_freeing_a_slot() {
    // The sender is already queued when the receiver frees the slot: the
    // grant (or the sender's re-poll) must not be lost.
    loom::model(|| {
        let (tx, rx) = mpsc::channel(1);
        tx.try_send(1).unwrap();
        let mut waiting = Box::pin(tx.send(2));
        assert!(poll_once(&mut waiting).is_pending());
        let receiver = receive_in_thread(rx, 3);
        block_on(waiting).unwrap();
        drop(tx);
        assert_eq!(receiver.join().unwrap(), [Some(1), Some(2), None]);
    });
}

#[test]
fn mpsc_waiter_cancelled_while_being_granted_passes_its_slot_on() {
    // Two senders queue on a full channel; the first is cancelled while the
    // receiver frees a slot (and grants it to the first). The slot must
    // reach the second, and the receiver must not wait for the cancelled
    // value.
    loom::model(|| {
        let (tx, rx) = mpsc::channel(1);
        tx.try_send(1).unwrap();
        let mut first = Box::pin(tx.send(2));
        let mut second = Box::pin(tx.send(3));
        assert!(poll_once(&mut first).is_pending());
        assert!(poll_once(&mut second).is_pending());
        let receiver = receive_in_thread(rx, 3);
        drop(first);
        block_on(second).unwrap();
        drop(tx);
        assert_eq!(receiver.join().unwrap(), [Some(1), Some(3), None]);
    });
}

#[test]
fn mpsc_lone_waiter_cancelled_while_being_granted_is_skipped() {
    // As above with no second waiter: the granted position is skipped.
    loom::model(|| {
        let (tx, rx) = mpsc::channel(1);
        tx.try_send(1).unwrap();
        let mut first = Box::pin(tx.send(2));
        assert!(poll_once(&mut first).is_pending());
        let receiver = receive_in_thread(rx, 2);
        drop(first);
        tx.try_send(4).ok(); // may find room (after the skip) or not
        drop(tx);
        let [a, b] = receiver.join().unwrap()[..] else {
            unreachable!("two receives")
        };
        assert_eq!(a, Some(1));
        assert!(b.is_none() || b == Some(4), "got {b:?}");
    });
}

#[test]
fn mpsc_close_vs_queued_sender() {
    // A sender waits on a full channel while the receiver closes and
    // drains: its send fails with the value back, or it is received.
    loom::model(|| {
        let (tx, mut rx) = mpsc::channel(1);
        tx.try_send(1).unwrap();
        let sender = thread::spawn(move || block_on(tx.send(2)).map_err(|e| e.0));
        assert_eq!(rx.try_recv(), Ok(1));
        rx.close();
        let late = block_on(rx.recv());
        let sent = sender.join().unwrap();
        match sent {
            Ok(()) => assert_eq!(late, Some(2)),
            Err(value) => {
                assert_eq!(value, 2);
                assert_eq!(late, None);
            }
        }
    });
}

#[test]
fn mpsc_two_producers_on_one_slot() {
    // Capacity 1: one producer claims the slot on the fast path while the
    // other queues; the receiver's free must reach the queued one, and the
    // slot is reused only after its value was moved out (loom checks the
    // cell accesses).
    loom::model(|| {
        let (tx, mut rx) = mpsc::channel(1);
        let tx2 = tx.clone();
        let a = thread::spawn(move || block_on(tx.send(1)).unwrap());
        let b = thread::spawn(move || block_on(tx2.send(2)).unwrap());
        let first = block_on(rx.recv()).unwrap();
        let second = block_on(rx.recv()).unwrap();
        assert_eq!(first + second, 3, "got {first} and {second}");
        assert_eq!(block_on(rx.recv()), None);
        a.join().unwrap();
        b.join().unwrap();
    });
}
