//! Model checks of the locks' wake-up protocols under loom: `Mutex`,
//! `RwLock`, `Barrier` and `OnceCell`.
//!
//! Run with:
//! `RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom LOOM_MAX_PREEMPTIONS=2 cargo test -p minirt-core --release --test loom_sync_locks`
//!
//! Each model races two threads and asserts what must hold in *every*
//! interleaving: mutual exclusion (the `Mutex`'s value is a loom
//! `UnsafeCell`, so two unsynchronised accesses fail the model), a lock or
//! permit handed to a cancelled waiter reaches the next one, one leader per
//! barrier round, one initialiser per cell — and no wake-up is lost (a lost
//! wake-up shows up as a loom deadlock in `block_on`).
#![cfg(loom)]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use loom::future::block_on;
use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use loom::thread;
use minirt_core::sync::{Barrier, Mutex, OnceCell, RwLock};

/// Polls a future once with a no-op waker.
fn poll_once<F: Future + ?Sized>(fut: Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn mutex_excludes_and_hands_over() {
    loom::model(|| {
        let mutex = Arc::new(Mutex::new(0));
        let other = {
            let mutex = Arc::clone(&mutex);
            thread::spawn(move || *block_on(mutex.lock()) += 1)
        };
        *block_on(mutex.lock()) += 1;
        other.join().unwrap();
        assert_eq!(*mutex.try_lock().unwrap(), 2);
    });
}

#[test]
fn mutex_lock_granted_to_a_dropped_waiter_is_passed_on() {
    // The unlock hands the lock to `first` while `first` is being dropped;
    // either way the next `lock()` must get it.
    loom::model(|| {
        let mutex = Arc::new(Mutex::new(0));
        let held = Arc::clone(&mutex).try_lock_owned().unwrap();
        let mut first = Box::pin(mutex.lock());
        assert!(poll_once(first.as_mut()).is_pending());
        let unlocker = thread::spawn(move || drop(held));
        drop(first);
        *block_on(mutex.lock()) += 1;
        unlocker.join().unwrap();
        assert!(mutex.try_lock().is_ok(), "the lock is free again");
    });
}

#[test]
fn rwlock_writer_waits_for_the_reader() {
    loom::model(|| {
        let lock = Arc::new(RwLock::with_max_readers(0, 2));
        let writer = {
            let lock = Arc::clone(&lock);
            thread::spawn(move || *block_on(lock.write()) += 1)
        };
        let seen = *block_on(lock.read());
        assert!(seen == 0 || seen == 1, "a torn value: {seen}");
        writer.join().unwrap();
        assert_eq!(*lock.try_read().unwrap(), 1);
        assert!(lock.try_write().is_ok(), "every permit came back");
    });
}

#[test]
fn rwlock_readers_behind_a_dropped_writer_get_in() {
    // A queued writer holds back the reader behind it; the writer is
    // dropped while the early reader leaves: the late reader must get in.
    loom::model(|| {
        let lock = Arc::new(RwLock::with_max_readers((), 2));
        let early = Arc::clone(&lock).try_read_owned().unwrap();
        let mut writer = Box::pin(lock.write());
        assert!(poll_once(writer.as_mut()).is_pending());
        let late = {
            let lock = Arc::clone(&lock);
            thread::spawn(move || drop(block_on(lock.read())))
        };
        drop(early);
        drop(writer);
        late.join().unwrap();
        assert!(lock.try_write().is_ok(), "every permit came back");
    });
}

#[test]
fn barrier_rounds_have_one_leader_each() {
    loom::model(|| {
        let barrier = Arc::new(Barrier::new(2));
        let leaders = Arc::new(AtomicUsize::new(0));
        let other = {
            let (barrier, leaders) = (Arc::clone(&barrier), Arc::clone(&leaders));
            thread::spawn(move || {
                for _ in 0..2 {
                    if block_on(barrier.wait()).is_leader() {
                        leaders.fetch_add(1, SeqCst);
                    }
                }
            })
        };
        for _ in 0..2 {
            if block_on(barrier.wait()).is_leader() {
                leaders.fetch_add(1, SeqCst);
            }
        }
        other.join().unwrap();
        assert_eq!(leaders.load(SeqCst), 2, "one leader per round");
    });
}

#[test]
fn barrier_withdrawal_races_the_last_arrival() {
    // `first` arrives, then is dropped while the other thread arrives: the
    // other is either released with `first` (as leader) or withdrawn from
    // and still waiting — then a third arrival releases it.
    loom::model(|| {
        let barrier = Arc::new(Barrier::new(2));
        let mut first = Box::pin(barrier.wait());
        assert!(poll_once(first.as_mut()).is_pending());
        let other = {
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || block_on(barrier.wait()).is_leader())
        };
        drop(first);
        // If `other` led (released `first`), this waits for nobody we add
        // later; so arrive only while `other` still waits.
        let mut third = Box::pin(barrier.wait());
        let third_done = poll_once(third.as_mut()).is_ready();
        let other_led = other.join().unwrap();
        if other_led {
            assert!(!third_done, "a new round needs two arrivals");
        } else {
            // `other` was released by `third`, which led.
            assert!(third_done);
        }
    });
}

#[test]
fn once_cell_initialises_once() {
    loom::model(|| {
        let cell = Arc::new(OnceCell::new());
        let runs = Arc::new(AtomicUsize::new(0));
        let other = {
            let (cell, runs) = (Arc::clone(&cell), Arc::clone(&runs));
            thread::spawn(move || {
                *block_on(cell.get_or_init(|| async {
                    runs.fetch_add(1, SeqCst);
                    1
                }))
            })
        };
        let mine = *block_on(cell.get_or_init(|| async {
            runs.fetch_add(1, SeqCst);
            2
        }));
        let theirs = other.join().unwrap();
        assert_eq!(mine, theirs);
        assert_eq!(runs.load(SeqCst), 1);
    });
}

#[test]
fn once_cell_cancelled_initialiser_lets_the_waiter_run() {
    loom::model(|| {
        let cell = Arc::new(OnceCell::new());
        let mut stuck = Box::pin(cell.get_or_init(|| std::future::pending::<u32>()));
        assert!(poll_once(stuck.as_mut()).is_pending(), "initialising");
        let waiter = {
            let cell = Arc::clone(&cell);
            thread::spawn(move || *block_on(cell.get_or_init(|| async { 2 })))
        };
        drop(stuck);
        assert_eq!(waiter.join().unwrap(), 2);
        assert_eq!(cell.get(), Some(&2));
    });
}
