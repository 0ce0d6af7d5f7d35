use alloc::boxed::Box;
use alloc::format;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::future::Future;
use core::pin::Pin;
use core::task::Poll;

use super::*;
use crate::sync::test_util::{block_on, poll_once, poll_with, CountingWaker};

type Fut<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

fn read_fut<T>(lock: &RwLock<T>) -> Fut<'_, RwLockReadGuard<'_, T>> {
    Box::pin(lock.read())
}

fn write_fut<T>(lock: &RwLock<T>) -> Fut<'_, RwLockWriteGuard<'_, T>> {
    Box::pin(lock.write())
}

#[test]
fn readers_share_and_a_writer_excludes() {
    let lock = RwLock::new(1);
    let r1 = block_on(lock.read());
    let r2 = block_on(lock.read());
    assert_eq!(*r1 + *r2, 2);
    assert!(lock.try_write().is_err());
    let mut writer = write_fut(&lock);
    assert!(poll_once(&mut writer).is_pending());
    drop(r1);
    assert!(poll_once(&mut writer).is_pending(), "one reader still in");
    drop(r2);
    let Poll::Ready(mut w) = poll_once(&mut writer) else {
        panic!("the writer did not get in after the readers left")
    };
    *w = 5;
    assert!(lock.try_read().is_err());
    drop(w);
    assert_eq!(*lock.try_read().unwrap(), 5);
}

#[test]
fn a_queued_writer_holds_back_later_readers() {
    let lock = RwLock::new(0);
    let early = lock.try_read().unwrap();
    let (writer_counter, writer_waker) = CountingWaker::new();
    let mut writer = write_fut(&lock);
    assert!(poll_with(&mut writer, &writer_waker).is_pending());
    // Readers arriving after the writer wait, even though only a reader
    // holds the lock.
    assert!(
        lock.try_read().is_err(),
        "try_read must not pass the writer"
    );
    let mut late: Vec<_> = (0..3).map(|_| read_fut(&lock)).collect();
    for r in &mut late {
        assert!(poll_once(r).is_pending());
    }
    drop(early);
    assert_eq!(writer_counter.wakes(), 1);
    let Poll::Ready(w) = poll_with(&mut writer, &writer_waker) else {
        panic!("writer starved")
    };
    for r in &mut late {
        assert!(poll_once(r).is_pending(), "a reader got in with the writer");
    }
    drop(w);
    // All the late readers get in together.
    let guards: Vec<_> = late
        .iter_mut()
        .map(|r| match poll_once(r) {
            Poll::Ready(g) => g,
            Poll::Pending => panic!("a reader was not let in after the writer"),
        })
        .collect();
    assert_eq!(guards.len(), 3);
}

#[test]
fn a_dropped_queued_writer_lets_the_readers_behind_it_in() {
    let lock = RwLock::new(0);
    let early = lock.try_read().unwrap();
    let mut writer = write_fut(&lock);
    assert!(poll_once(&mut writer).is_pending());
    let (counter, waker) = CountingWaker::new();
    let mut reader = read_fut(&lock);
    assert!(poll_with(&mut reader, &waker).is_pending());
    drop(writer);
    assert_eq!(counter.wakes(), 1, "the reader behind the writer is woken");
    assert!(poll_with(&mut reader, &waker).is_ready());
    drop(early);
}

#[test]
fn a_write_lock_granted_to_a_dropped_future_is_passed_on() {
    let lock = RwLock::new(0);
    let held = lock.try_write().unwrap();
    let mut first = write_fut(&lock);
    assert!(poll_once(&mut first).is_pending());
    let (counter, waker) = CountingWaker::new();
    let mut second = read_fut(&lock);
    assert!(poll_with(&mut second, &waker).is_pending());
    drop(held); // all permits handed to `first`
    assert_eq!(counter.wakes(), 0);
    drop(first);
    assert_eq!(counter.wakes(), 1);
    assert!(poll_with(&mut second, &waker).is_ready());
    drop(second);
    assert!(lock.try_write().is_ok(), "no permit lost");
}

#[test]
fn downgrade_admits_queued_readers_but_not_writers() {
    let lock = RwLock::new(1);
    let w = lock.try_write().unwrap();
    let mut reader = read_fut(&lock);
    assert!(poll_once(&mut reader).is_pending());
    let mut writer = write_fut(&lock);
    assert!(poll_once(&mut writer).is_pending());
    let r = w.downgrade();
    let Poll::Ready(queued_reader) = poll_once(&mut reader) else {
        panic!("downgrade did not let the queued reader in")
    };
    assert!(poll_once(&mut writer).is_pending());
    drop(r);
    assert!(poll_once(&mut writer).is_pending(), "a reader is still in");
    drop(queued_reader);
    assert!(poll_once(&mut writer).is_ready());
}

#[test]
fn max_readers_bounds_concurrent_readers() {
    let lock = RwLock::with_max_readers(0, 2);
    let a = lock.try_read().unwrap();
    let _b = lock.try_read().unwrap();
    let mut third = read_fut(&lock);
    assert!(poll_once(&mut third).is_pending());
    drop(a);
    assert!(poll_once(&mut third).is_ready());
}

#[test]
#[should_panic(expected = "at least 1 reader")]
fn zero_max_readers_panics() {
    let _ = RwLock::with_max_readers((), 0);
}

#[test]
#[should_panic(expected = "at most u32::MAX >> 3 readers")]
fn too_many_max_readers_panics() {
    let _ = RwLock::with_max_readers((), u32::MAX);
}

#[test]
fn mapped_guards_hold_the_lock() {
    let lock = RwLock::new((1, 2));
    let second = RwLockReadGuard::map(lock.try_read().unwrap(), |p| &p.1);
    assert_eq!(*second, 2);
    assert!(lock.try_write().is_err());
    drop(second);
    let mut first = RwLockWriteGuard::map(lock.try_write().unwrap(), |p| &mut p.0);
    *first = 7;
    assert!(lock.try_read().is_err());
    drop(first);
    assert_eq!(*lock.try_read().unwrap(), (7, 2));
}

#[test]
fn owned_guards_lock_and_downgrade() {
    let lock = Arc::new(RwLock::new(1));
    let mut w = block_on(Arc::clone(&lock).write_owned());
    *w = 2;
    assert!(lock.try_read().is_err());
    let r = w.downgrade();
    assert_eq!(*lock.try_read().unwrap(), 2);
    assert!(lock.try_write().is_err());
    drop(r);
    let r = block_on(Arc::clone(&lock).read_owned());
    assert!(Arc::clone(&lock).try_write_owned().is_err());
    drop(r);
    assert!(Arc::clone(&lock).try_write_owned().is_ok());
}

#[test]
fn a_panic_while_writing_does_not_poison() {
    let lock = RwLock::new(0);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut w = lock.try_write().unwrap();
        *w = 3;
        panic!("boom");
    }));
    assert!(result.is_err());
    assert_eq!(*lock.try_read().unwrap(), 3);
}

#[test]
fn debug_shows_the_value_or_locked() {
    let lock = RwLock::with_max_readers(3, 4);
    assert_eq!(format!("{lock:?}"), "RwLock { data: 3, max_readers: 4 }");
    let w = lock.try_write().unwrap();
    assert_eq!(
        format!("{lock:?}"),
        "RwLock { data: <locked>, max_readers: 4 }"
    );
    assert_eq!(format!("{w:?} {w}"), "3 3");
}
