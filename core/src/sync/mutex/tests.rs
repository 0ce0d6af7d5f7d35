use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::future::Future;
use core::pin::Pin;
use core::task::Poll;

use super::*;
use crate::sync::test_util::{block_on, poll_once, poll_with, CountingWaker};

type LockFuture<'a, T> = Pin<Box<dyn Future<Output = MutexGuard<'a, T>> + 'a>>;

fn lock_fut<T>(mutex: &Mutex<T>) -> LockFuture<'_, T> {
    Box::pin(mutex.lock())
}

#[test]
fn lock_gives_exclusive_access_and_unlocks_on_drop() {
    let mutex = Mutex::new(1);
    let mut guard = block_on(mutex.lock());
    *guard += 1;
    assert!(mutex.try_lock().is_err());
    let mut waiting = lock_fut(&mutex);
    assert!(poll_once(&mut waiting).is_pending());
    drop(guard);
    let Poll::Ready(guard) = poll_once(&mut waiting) else {
        panic!("the waiter got no lock")
    };
    assert_eq!(*guard, 2);
}

#[test]
fn waiters_get_the_lock_in_fifo_order() {
    let mutex = Mutex::new(Vec::new());
    let held = mutex.try_lock().unwrap();
    let mut waiters: Vec<_> = (0..4)
        .map(|_| (lock_fut(&mutex), CountingWaker::new()))
        .collect();
    for (fut, (_, waker)) in &mut waiters {
        assert!(poll_with(fut, waker).is_pending());
    }
    drop(held);
    for i in 0..4 {
        for (j, (_, (counter, _))) in waiters.iter().enumerate() {
            assert_eq!(
                counter.wakes(),
                usize::from(j <= i),
                "waiter {j} after {i} unlocks"
            );
        }
        let (fut, (_, waker)) = &mut waiters[i];
        let Poll::Ready(mut guard) = poll_with(fut, waker) else {
            panic!("waiter {i} was woken but has no lock")
        };
        guard.push(i);
        for (fut, (_, waker)) in &mut waiters[i + 1..] {
            assert!(poll_with(fut, waker).is_pending());
        }
        // Woken waiters must be polled again later; leave the others.
        drop(guard);
    }
    assert_eq!(*mutex.try_lock().unwrap(), [0, 1, 2, 3]);
}

#[test]
fn try_lock_does_not_jump_the_queue() {
    let mutex = Mutex::new(());
    let held = mutex.try_lock().unwrap();
    let mut waiting = lock_fut(&mutex);
    assert!(poll_once(&mut waiting).is_pending());
    drop(held); // handed to `waiting`, which has not looked yet
    assert_eq!(mutex.try_lock().unwrap_err(), TryLockError::new());
    assert!(poll_once(&mut waiting).is_ready());
}

#[test]
fn a_dropped_waiter_passes_the_lock_on() {
    let mutex = Mutex::new(0);
    let held = mutex.try_lock().unwrap();
    let mut first = lock_fut(&mutex);
    assert!(poll_once(&mut first).is_pending());
    let (counter, waker) = CountingWaker::new();
    let mut second = lock_fut(&mutex);
    assert!(poll_with(&mut second, &waker).is_pending());
    drop(held); // handed to `first` ...
    assert_eq!(counter.wakes(), 0);
    drop(first); // ... which gives up: `second` gets it
    assert_eq!(counter.wakes(), 1);
    assert!(poll_with(&mut second, &waker).is_ready());
}

#[test]
fn a_dropped_queued_waiter_leaves_the_queue() {
    let mutex = Mutex::new(0);
    let held = mutex.try_lock().unwrap();
    let mut first = lock_fut(&mutex);
    let mut second = lock_fut(&mutex);
    assert!(poll_once(&mut first).is_pending());
    assert!(poll_once(&mut second).is_pending());
    drop(first);
    drop(held);
    assert!(poll_once(&mut second).is_ready());
}

#[test]
fn mapped_guards_keep_the_mutex_locked() {
    let mutex = Mutex::new((1, String::from("x")));
    let mut name = MutexGuard::map(mutex.try_lock().unwrap(), |pair| &mut pair.1);
    name.push('y');
    assert!(mutex.try_lock().is_err());
    let mut waiting = lock_fut(&mutex);
    assert!(poll_once(&mut waiting).is_pending());
    drop(name);
    let Poll::Ready(guard) = poll_once(&mut waiting) else {
        panic!("mapped guard did not unlock")
    };
    assert_eq!(guard.1, "xy");
    let declined = MutexGuard::try_map(guard, |_| None::<&mut u8>);
    assert!(declined.is_err(), "a declined map keeps the guard");
    drop(declined);
    assert!(mutex.try_lock().is_ok());
}

#[test]
fn a_panic_while_locked_does_not_poison() {
    let mutex = Arc::new(Mutex::new(0));
    let m = Arc::clone(&mutex);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let mut guard = m.try_lock().unwrap();
        *guard = 7;
        panic!("boom");
    }));
    assert!(result.is_err());
    assert_eq!(*block_on(mutex.lock()), 7, "unlocked, value kept");
}

#[test]
fn a_panicking_map_unlocks() {
    let mutex = Mutex::new(0);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        MutexGuard::map(mutex.try_lock().unwrap(), |_| -> &mut u8 {
            panic!("in map")
        })
    }));
    assert!(result.is_err());
    assert!(
        mutex.try_lock().is_ok(),
        "the guard was dropped by the unwind"
    );
}

#[test]
fn owned_guards_lock_and_unlock() {
    let mutex = Arc::new(Mutex::new(5));
    let guard = block_on(Arc::clone(&mutex).lock_owned());
    assert_eq!(*guard, 5);
    assert!(Arc::clone(&mutex).try_lock_owned().is_err());
    drop(guard);
    let mut guard = Arc::clone(&mutex).try_lock_owned().unwrap();
    *guard = 6;
    drop(guard);
    assert_eq!(Arc::try_unwrap(mutex).unwrap().into_inner(), 6);
}

#[test]
fn debug_shows_the_value_or_locked() {
    let mutex = Mutex::new(3);
    assert_eq!(format!("{mutex:?}"), "Mutex { data: 3 }");
    let guard = mutex.try_lock().unwrap();
    assert_eq!(format!("{mutex:?}"), "Mutex { data: <locked> }");
    assert_eq!(format!("{guard:?} {guard}"), "3 3");
}

#[test]
fn unsized_values_work() {
    let mutex: Box<Mutex<[u8]>> = Box::new(Mutex::new([1, 2, 3]));
    let mut guard = mutex.try_lock().unwrap();
    guard[0] = 9;
    assert_eq!(&*guard, [9, 2, 3]);
}
