use super::*;
use alloc::rc::Rc;
use core::cell::{Cell, RefCell};
use core::task::Poll;
use std::vec;

/// A future that is pending until `flag` is set, registering its waker.
struct WaitFor {
    flag: Rc<Cell<bool>>,
    waker: Rc<RefCell<Option<Waker>>>,
}

impl Future for WaitFor {
    type Output = ();
    fn poll(self: core::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.flag.get() {
            Poll::Ready(())
        } else {
            *self.waker.borrow_mut() = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}

#[test]
fn spawned_tasks_run_and_join() {
    let ex = LocalExecutor::new();
    let handles: Vec<_> = (0..10).map(|i| ex.spawn(async move { i * 2 })).collect();
    let out = ex.block_on(
        async {
            let mut v = vec![];
            for h in handles {
                v.push(h.await.unwrap());
            }
            v
        },
        || {},
    );
    assert_eq!(out, (0..10).map(|i| i * 2).collect::<Vec<_>>());
    assert_eq!(ex.live_tasks(), 0);
}

#[test]
fn wake_requeues_exactly_once() {
    let ex = LocalExecutor::new();
    let flag = Rc::new(Cell::new(false));
    let waker = Rc::new(RefCell::new(None));
    let polls = Rc::new(Cell::new(0));
    let (f, w, p) = (flag.clone(), waker.clone(), polls.clone());
    let handle = ex.spawn(async move {
        p.set(p.get() + 1);
        WaitFor { flag: f, waker: w }.await;
    });
    assert_eq!(ex.run_until_idle(), 1);
    assert_eq!(ex.run_until_idle(), 0, "not polled again without a wake");
    let w = waker.borrow_mut().take().unwrap();
    w.wake_by_ref();
    w.wake_by_ref();
    assert_eq!(ex.run_until_idle(), 1, "two wakes, one poll");
    flag.set(true);
    w.wake();
    assert_eq!(ex.run_until_idle(), 1);
    assert!(handle.is_finished());
    assert_eq!(polls.get(), 1);
}

#[test]
fn abort_idle_task_drops_future_before_join_resolves() {
    let ex = LocalExecutor::new();
    let dropped = Rc::new(Cell::new(false));
    struct Guard(Rc<Cell<bool>>);
    impl Drop for Guard {
        fn drop(&mut self) {
            self.0.set(true);
        }
    }
    let d = dropped.clone();
    let handle = ex.spawn(async move {
        let _g = Guard(d);
        core::future::pending::<()>().await;
    });
    ex.run_until_idle();
    assert!(!dropped.get());
    handle.abort();
    assert!(
        !dropped.get(),
        "dropping happens on the executor, not in abort()"
    );
    let err = ex.block_on(handle, || {}).unwrap_err();
    assert!(err.is_cancelled());
    assert!(dropped.get());
}

#[test]
fn abort_before_first_poll_never_polls() {
    let ex = LocalExecutor::new();
    let polled = Rc::new(Cell::new(false));
    let p = polled.clone();
    let handle = ex.spawn(async move { p.set(true) });
    handle.abort();
    assert!(ex.block_on(handle, || {}).unwrap_err().is_cancelled());
    assert!(!polled.get());
}

#[test]
fn abort_after_completion_keeps_output() {
    let ex = LocalExecutor::new();
    let handle = ex.spawn(async { 5 });
    ex.run_until_idle();
    handle.abort();
    assert_eq!(ex.block_on(handle, || {}).unwrap(), 5);
}

#[test]
fn self_abort_during_poll_cancels_after_the_poll() {
    let ex = LocalExecutor::new();
    let slot: Rc<RefCell<Option<crate::task::AbortHandle>>> = Rc::new(RefCell::new(None));
    let s = slot.clone();
    let handle = ex.spawn(async move {
        s.borrow().as_ref().unwrap().abort();
        crate::future::yield_now().await;
        unreachable!("polled after abort");
    });
    *slot.borrow_mut() = Some(handle.abort_handle());
    assert!(ex.block_on(handle, || {}).unwrap_err().is_cancelled());
}

#[test]
fn detached_tasks_still_run_and_free_everything() {
    let ex = LocalExecutor::new();
    let ran = Rc::new(Cell::new(0));
    for _ in 0..5 {
        let r = ran.clone();
        drop(ex.spawn(async move { r.set(r.get() + 1) }));
    }
    ex.run_until_idle();
    assert_eq!(ran.get(), 5);
    assert_eq!(Arc::strong_count(&ex.shared), 1, "every task was freed");
}

#[test]
fn dropping_the_executor_cancels_pending_tasks() {
    let dropped = Rc::new(Cell::new(0));
    struct Guard(Rc<Cell<u32>>);
    impl Drop for Guard {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }
    let ex = LocalExecutor::new();
    let mut handles = vec![];
    for _ in 0..3 {
        let g = Guard(dropped.clone());
        handles.push(ex.spawn(async move {
            let _g = g;
            core::future::pending::<()>().await;
        }));
    }
    ex.run_until_idle();
    let shared = ex.shared.clone();
    drop(ex);
    assert_eq!(dropped.get(), 3);
    for h in &handles {
        assert!(h.is_finished());
    }
    drop(handles);
    assert_eq!(Arc::strong_count(&shared), 1);
}

#[test]
fn wakers_from_other_threads_are_queued() {
    let ex = LocalExecutor::new();
    let (tx, rx) = std::sync::mpsc::channel::<Waker>();
    let flag = Arc::new(AtomicBool::new(false));
    let f = flag.clone();
    let handle = ex.spawn(core::future::poll_fn(move |cx| {
        if f.load(Acquire) {
            Poll::Ready(7)
        } else {
            tx.send(cx.waker().clone()).unwrap();
            Poll::Pending
        }
    }));
    ex.run_until_idle();
    let waker = rx.recv().unwrap();
    let t = std::thread::spawn(move || {
        flag.store(true, Release);
        waker.wake();
    });
    let out = ex.block_on(handle, std::thread::yield_now);
    t.join().unwrap();
    assert_eq!(out.unwrap(), 7);
}

#[test]
fn a_task_looping_on_ready_futures_lets_its_sibling_run() {
    use crate::sync::{mpsc, Notify, Semaphore};
    let ex = LocalExecutor::new();
    let stop = Rc::new(Cell::new(false));
    let spins = Rc::new(Cell::new(0u64));
    let (s, n) = (stop.clone(), spins.clone());
    let looping = ex.spawn(async move {
        let sem = Semaphore::new(1);
        let notify = Notify::new();
        let (tx, mut rx) = mpsc::channel(4);
        while !s.get() {
            drop(sem.acquire().await.unwrap());
            notify.notify_one();
            notify.notified().await;
            tx.send(1u8).await.unwrap();
            rx.recv().await.unwrap();
            n.set(n.get() + 1);
        }
    });
    let s = stop.clone();
    let sibling = ex.spawn(async move { s.set(true) });
    // The main future waits on the looping task: before the budget, the
    // first poll of `looping` never returned.
    ex.block_on(async { looping.await.unwrap() }, || {});
    assert!(sibling.is_finished());
    assert!(spins.get() > 0);
}
