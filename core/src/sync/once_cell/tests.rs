use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use core::future::Future;
use core::pin::Pin;
use core::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use core::task::Poll;

use super::*;
use crate::future::yield_now;
use crate::sync::test_util::{block_on, poll_once, poll_with, CountingWaker};

type Fut<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// An initialiser that yields once (so it can be caught mid-way), counting
/// its runs.
async fn slow_init(runs: &AtomicUsize, value: u32) -> u32 {
    runs.fetch_add(1, SeqCst);
    yield_now().await;
    value
}

#[test]
fn one_initialiser_runs_and_the_others_wait_for_it() {
    let cell = OnceCell::new();
    let runs = AtomicUsize::new(0);
    let mut first: Fut<'_, &u32> = Box::pin(cell.get_or_init(|| slow_init(&runs, 1)));
    assert!(poll_once(&mut first).is_pending(), "yielded mid-init");
    let (counter, waker) = CountingWaker::new();
    let mut second: Fut<'_, &u32> = Box::pin(cell.get_or_init(|| slow_init(&runs, 2)));
    assert!(poll_with(&mut second, &waker).is_pending());
    assert_eq!(cell.set(9), Err(SetError::InitializingError(9)));
    assert_eq!(poll_once(&mut first), Poll::Ready(&1));
    assert_eq!(
        counter.wakes(),
        1,
        "waiters are woken when the value is set"
    );
    assert_eq!(poll_with(&mut second, &waker), Poll::Ready(&1));
    assert_eq!(runs.load(SeqCst), 1, "only one initialiser ran");
    assert_eq!(cell.set(9), Err(SetError::AlreadyInitializedError(9)));
}

#[test]
fn a_cancelled_initialiser_lets_the_next_one_run() {
    let cell = OnceCell::new();
    let runs = AtomicUsize::new(0);
    let mut first: Fut<'_, &u32> = Box::pin(cell.get_or_init(|| slow_init(&runs, 1)));
    assert!(poll_once(&mut first).is_pending());
    let (counter, waker) = CountingWaker::new();
    let mut second: Fut<'_, &u32> = Box::pin(cell.get_or_init(|| slow_init(&runs, 2)));
    assert!(poll_with(&mut second, &waker).is_pending());
    drop(first);
    assert_eq!(counter.wakes(), 1);
    assert!(!cell.initialized());
    assert!(
        poll_with(&mut second, &waker).is_pending(),
        "runs its own init"
    );
    assert_eq!(poll_with(&mut second, &waker), Poll::Ready(&2));
    assert_eq!(runs.load(SeqCst), 2);
}

#[test]
fn a_failing_initialiser_lets_the_next_one_run() {
    let cell = OnceCell::new();
    let failed: Result<&u32, &str> = block_on(cell.get_or_try_init(|| async { Err("no") }));
    assert_eq!(failed, Err("no"));
    assert!(!cell.initialized());
    assert_eq!(
        block_on(cell.get_or_try_init(|| async { Ok::<_, ()>(3) })),
        Ok(&3)
    );
    assert_eq!(block_on(cell.get_or_try_init(|| async { Err(()) })), Ok(&3));
}

#[test]
fn a_panicking_initialiser_lets_the_next_one_run() {
    let cell = OnceCell::new();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        block_on(cell.get_or_init(|| async { panic!("init failed") }))
    }));
    assert!(result.is_err());
    assert_eq!(*block_on(cell.get_or_init(|| async { 4 })), 4);
}

#[test]
fn take_empties_the_cell_for_a_new_value() {
    let mut cell = OnceCell::new_with(Some(1));
    assert_eq!(cell.take(), Some(1));
    assert!(!cell.initialized());
    assert_eq!(*block_on(cell.get_or_init(|| async { 2 })), 2);
    assert_eq!(cell.into_inner(), Some(2));
}

#[test]
fn the_value_is_dropped_exactly_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    struct Counted(Arc<AtomicUsize>);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, SeqCst);
        }
    }
    let cell = OnceCell::new();
    assert!(cell.set(Counted(Arc::clone(&drops))).is_ok());
    let rejected = cell.set(Counted(Arc::clone(&drops)));
    drop(rejected);
    assert_eq!(drops.load(SeqCst), 1, "the rejected value came back");
    drop(cell);
    assert_eq!(drops.load(SeqCst), 2);
    drop(OnceCell::<Counted>::new());
}

#[test]
fn traits_behave() {
    let cell = OnceCell::from(5);
    assert_eq!(format!("{cell:?}"), "OnceCell { value: Some(5) }");
    assert_eq!(cell.clone(), cell);
    assert_ne!(OnceCell::default(), cell);
    let msg = format!("{}", SetError::InitializingError(()));
    assert!(msg.contains("initialising"), "{msg}");
}

#[test]
fn a_const_initialised_cell_behaves_as_a_set_one() {
    static CELL: OnceCell<u8> = OnceCell::const_new_with(1);
    assert_eq!(*block_on(CELL.get_or_init(|| async { 2 })), 1);
    assert_eq!(CELL.set(3), Err(SetError::AlreadyInitializedError(3)));
    let mut cell = OnceCell::const_new_with(String::from("a"));
    assert_eq!(cell.take().as_deref(), Some("a"));
    assert_eq!(cell.set(String::from("b")), Ok(()), "take reopens the cell");
    assert_eq!(cell.get().map(String::as_str), Some("b"));
}
