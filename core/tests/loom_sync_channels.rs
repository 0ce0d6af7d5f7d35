//! Model checks of the wake-up protocols of `watch`, `broadcast` and the
//! unbounded `mpsc` channel under loom.
//!
//! Run with:
//! `RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom LOOM_MAX_PREEMPTIONS=2 cargo test -p minirt-core --release --test loom_sync_channels`
//!
//! A lost wake-up shows up as a loom deadlock in `block_on`; a value lost,
//! duplicated or dropped twice fails an assertion. Under loom the unbounded
//! channel's blocks hold 2 values, so three sends cross a block boundary
//! and exercise growing, releasing and reusing blocks.
#![cfg(loom)]

use loom::future::block_on;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;
use minirt_core::sync::{broadcast, mpsc, watch};

/// Counts its own drops.
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn watch_changed_sees_a_send_from_another_thread() {
    loom::model(|| {
        let (tx, mut rx) = watch::channel(0);
        let sender = thread::spawn(move || {
            tx.send(1).unwrap();
            tx
        });
        block_on(rx.changed()).unwrap();
        assert_eq!(*rx.borrow_and_update(), 1);
        drop(sender.join().unwrap());
    });
}

#[test]
fn watch_changed_sees_the_sender_drop() {
    loom::model(|| {
        let (tx, mut rx) = watch::channel(0);
        let sender = thread::spawn(move || drop(tx));
        assert!(block_on(rx.changed()).is_err());
        sender.join().unwrap();
    });
}

#[test]
fn watch_two_receivers_both_see_the_latest() {
    loom::model(|| {
        let (tx, mut rx) = watch::channel(0);
        let mut rx2 = rx.clone();
        let other = thread::spawn(move || {
            block_on(rx2.changed()).unwrap();
            *rx2.borrow_and_update()
        });
        tx.send(1).unwrap();
        block_on(rx.changed()).unwrap();
        assert_eq!(*rx.borrow(), 1);
        assert_eq!(other.join().unwrap(), 1);
    });
}

#[test]
fn watch_closed_sees_the_last_receiver_drop() {
    loom::model(|| {
        let (tx, rx) = watch::channel(());
        let receiver = thread::spawn(move || drop(rx));
        block_on(tx.closed());
        assert!(tx.send(()).is_err());
        receiver.join().unwrap();
    });
}

#[test]
fn broadcast_recv_sees_a_send_then_the_close() {
    loom::model(|| {
        let (tx, mut rx) = broadcast::channel(1);
        let sender = thread::spawn(move || {
            tx.send(7).unwrap();
        });
        assert_eq!(block_on(rx.recv()), Ok(7));
        assert_eq!(
            block_on(rx.recv()),
            Err(broadcast::error::RecvError::Closed)
        );
        sender.join().unwrap();
    });
}

#[test]
fn broadcast_lag_and_drops_under_a_racing_receiver() {
    // Capacity 1: the second send overwrites the first unless the receiver
    // got it in between. Either way each value is dropped exactly once and
    // the receiver accounts for both (seen + missed = 2).
    loom::model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, mut rx) = broadcast::channel::<Arc<Counted>>(1);
        let counter = drops.clone();
        let sender = thread::spawn(move || {
            for _ in 0..2 {
                tx.send(Arc::new(Counted(counter.clone())))
                    .map_err(drop)
                    .unwrap();
            }
        });
        let mut accounted = 0;
        loop {
            match block_on(rx.recv()) {
                Ok(value) => {
                    drop(value);
                    accounted += 1;
                }
                Err(broadcast::error::RecvError::Lagged(n)) => accounted += n,
                Err(broadcast::error::RecvError::Closed) => break,
            }
        }
        sender.join().unwrap();
        assert_eq!(accounted, 2);
        drop(rx);
        assert_eq!(drops.load(Ordering::SeqCst), 2, "each value dropped once");
    });
}

#[test]
fn broadcast_receiver_drop_races_a_send() {
    loom::model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = broadcast::channel::<Arc<Counted>>(2);
        let keep = tx.subscribe();
        let receiver = thread::spawn(move || drop(rx));
        tx.send(Arc::new(Counted(drops.clone())))
            .map_err(drop)
            .unwrap();
        receiver.join().unwrap();
        assert_eq!(drops.load(Ordering::SeqCst), 0, "`keep` has not seen it");
        drop(keep);
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        drop(tx);
    });
}

#[test]
fn unbounded_recv_sees_sends_across_a_block_and_the_last_drop() {
    loom::model(|| {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let sender = thread::spawn(move || {
            for i in 0..3 {
                tx.send(i).unwrap();
            }
        });
        for i in 0..3 {
            assert_eq!(block_on(rx.recv()), Some(i));
        }
        assert_eq!(block_on(rx.recv()), None);
        sender.join().unwrap();
    });
}

#[test]
fn unbounded_two_senders_cross_a_block_and_keep_their_order() {
    // Three values over blocks of two: whichever sender claims last opens
    // the second block, racing the other's walk and the receiver.
    loom::model(|| {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let tx2 = tx.clone();
        let second = thread::spawn(move || tx2.send((1, 0)).unwrap());
        tx.send((0, 0)).unwrap();
        tx.send((0, 1)).unwrap();
        drop(tx);
        second.join().unwrap();
        let mut next = [0, 0];
        while let Some((p, i)) = block_on(rx.recv()) {
            assert_eq!(next[p], i);
            next[p] += 1;
        }
        assert_eq!(next, [2, 1]);
    });
}

#[test]
fn unbounded_reuses_blocks_while_a_sender_walks() {
    // The receiver passes blocks (and reuses them) while the sender is
    // still claiming: no value is lost or read from a reused block.
    loom::model(|| {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let sender = thread::spawn(move || {
            for i in 0..4 {
                tx.send(i).unwrap();
            }
        });
        for i in 0..4 {
            assert_eq!(block_on(rx.recv()), Some(i));
        }
        sender.join().unwrap();
    });
}

#[test]
fn unbounded_close_races_a_send_and_drops_once() {
    loom::model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, mut rx) = mpsc::unbounded_channel();
        let counter = drops.clone();
        let sender = thread::spawn(move || {
            let sent = tx.send(Counted(counter.clone())).is_ok();
            (sent, tx)
        });
        rx.close();
        let received = rx.try_recv().is_ok();
        let (sent, tx) = sender.join().unwrap();
        let received = received || rx.try_recv().is_ok();
        assert_eq!(sent, received, "a value sent before the close is received");
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        drop((tx, rx));
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    });
}

#[test]
fn unbounded_closed_sees_the_receiver_drop() {
    loom::model(|| {
        let (tx, rx) = mpsc::unbounded_channel::<u8>();
        let receiver = thread::spawn(move || drop(rx));
        block_on(tx.closed());
        assert!(tx.send(1).is_err());
        receiver.join().unwrap();
    });
}
