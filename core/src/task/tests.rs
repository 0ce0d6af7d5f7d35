//! Tests of the raw task through a minimal scheduler.
use super::*;
use alloc::sync::Arc;
use alloc::vec::Vec;
use std::sync::Mutex;

/// A scheduler whose queue is a shared vector, so tests run tasks by hand.
#[derive(Clone, Default)]
struct Manual(Arc<Mutex<Vec<Notified<Manual>>>>);

impl Schedule for Manual {
    fn schedule(&self, task: Notified<Self>) {
        self.0.lock().unwrap().push(task);
    }
    fn release(&self, _task: &Task<Self>) -> Option<Task<Self>> {
        None
    }
}

impl Manual {
    fn run_all(&self) -> usize {
        let tasks: Vec<_> = core::mem::take(&mut *self.0.lock().unwrap());
        let n = tasks.len();
        for t in tasks {
            t.run();
        }
        n
    }
}

#[test]
#[cfg(target_pointer_width = "64")]
fn the_header_is_one_cache_line_with_the_dump_fields() {
    // 48 bytes of scheduling state plus 16 for dumps (`trace.rs`).
    assert_eq!(core::mem::size_of::<header::Header>(), 64);
}

#[test]
fn a_task_records_its_spawn_site_id_and_polls() {
    struct Numbered;
    impl Schedule for Numbered {
        fn schedule(&self, _task: Notified<Self>) {}
        fn release(&self, _task: &Task<Self>) -> Option<Task<Self>> {
            None
        }
        fn task_id(&self) -> u64 {
            7
        }
    }
    let line = line!() + 1;
    let (owned, notified, handle) = super::spawn(core::future::pending::<()>(), Numbered);
    let info = owned.info();
    assert_eq!((info.id.as_u64(), info.polls, info.last_poll), (7, 0, 0));
    assert_eq!(handle.id(), info.id);
    assert_eq!(info.state, TaskState::Scheduled);
    assert_eq!(info.spawned_at.file(), file!());
    assert_eq!(info.spawned_at.line(), line);
    notified.record_poll(42);
    notified.run();
    let info = owned.info();
    assert_eq!((info.polls, info.last_poll), (1, 42));
    assert_eq!(info.state, TaskState::Idle);
    assert!(!info.cancelled);
    handle.abort();
    assert!(owned.info().cancelled);
    drop(handle);
    owned.shutdown();
}

#[test]
fn empty_task_allocation_is_small() {
    // Header + scheduler (one pointer) + stage of an empty future.
    let size = core::mem::size_of::<harness::Cell<core::future::Ready<()>, Manual>>();
    assert!(size <= 96, "task cell grew to {size} bytes");
}

/// Like [`Manual`], but its tasks ask for cache lines of their own.
#[derive(Clone, Default)]
struct Isolated(Arc<Mutex<Vec<Notified<Isolated>>>>);

impl Schedule for Isolated {
    const ISOLATE_TASKS: bool = true;
    fn schedule(&self, task: Notified<Self>) {
        self.0.lock().unwrap().push(task);
    }
    fn release(&self, _task: &Task<Self>) -> Option<Task<Self>> {
        None
    }
}

#[test]
fn isolated_tasks_start_on_a_cache_line_and_live_a_whole_life() {
    // Through every path that frees a cell: completed and joined, woken
    // after completion, and shut down before its first poll (under Miri
    // this also checks the pointer arithmetic and that nothing leaks).
    let s = Isolated::default();
    let out = Arc::new(());
    let o = out.clone();
    let (owned, notified, handle) = spawn(async move { o }, s.clone());
    assert_eq!(owned.addr() % 64, 0, "line-aligned");
    let waker = futures_noop();
    let mut cx = core::task::Context::from_waker(&waker);
    let mut handle = handle;
    assert!(core::pin::Pin::new(&mut handle).poll(&mut cx).is_pending());
    drop(owned);
    notified.run();
    match core::pin::Pin::new(&mut handle).poll(&mut cx) {
        core::task::Poll::Ready(Ok(value)) => assert!(Arc::ptr_eq(&value, &out)),
        _ => panic!("expected the output"),
    }
    drop(handle);
    assert_eq!(Arc::strong_count(&out), 1, "task and output freed");

    let (owned, notified, handle) = spawn(async { 2 }, s.clone());
    owned.shutdown();
    drop(notified);
    drop(handle);
    assert_eq!(s.0.lock().unwrap().len(), 0);
}

#[test]
fn join_handle_dropped_before_completion_lets_task_drop_output() {
    let s = Manual::default();
    let out = Arc::new(());
    let o = out.clone();
    let (owned, notified, handle) = spawn(async move { o }, s.clone());
    drop(owned);
    drop(handle);
    notified.run();
    assert_eq!(
        Arc::strong_count(&out),
        1,
        "the output was dropped by the task"
    );
}

#[test]
fn join_handle_dropped_after_completion_drops_output() {
    let s = Manual::default();
    let out = Arc::new(());
    let o = out.clone();
    let (owned, notified, handle) = spawn(async move { o }, s.clone());
    drop(owned);
    notified.run();
    assert_eq!(Arc::strong_count(&out), 2);
    drop(handle);
    assert_eq!(Arc::strong_count(&out), 1);
}

#[test]
fn shutdown_of_a_queued_task_cancels_it_and_the_stale_entry_is_harmless() {
    let s = Manual::default();
    let (owned, notified, handle) = spawn(async { 1 }, s.clone());
    owned.shutdown();
    assert!(handle.is_finished());
    notified.run(); // must not poll
    let waker = futures_noop();
    let mut cx = core::task::Context::from_waker(&waker);
    let mut handle = handle;
    match core::pin::Pin::new(&mut handle).poll(&mut cx) {
        core::task::Poll::Ready(Err(e)) => assert!(e.is_cancelled()),
        _ => panic!("expected a cancelled task"),
    }
    assert_eq!(s.run_all(), 0);
}

#[test]
fn join_waker_is_woken_on_completion_and_replaced_when_it_changes() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    struct Count(AtomicUsize);
    impl alloc::task::Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let s = Manual::default();
    let (owned, notified, mut handle) = spawn(
        core::future::poll_fn(|_| core::task::Poll::Ready(3)),
        s.clone(),
    );
    drop(owned);
    let first = Arc::new(Count(AtomicUsize::new(0)));
    let second = Arc::new(Count(AtomicUsize::new(0)));
    let w1 = core::task::Waker::from(first.clone());
    let w2 = core::task::Waker::from(second.clone());
    let pending = core::pin::Pin::new(&mut handle).poll(&mut core::task::Context::from_waker(&w1));
    assert!(pending.is_pending());
    let pending = core::pin::Pin::new(&mut handle).poll(&mut core::task::Context::from_waker(&w2));
    assert!(pending.is_pending());
    notified.run();
    assert_eq!(first.0.load(Ordering::SeqCst), 0);
    assert_eq!(second.0.load(Ordering::SeqCst), 1);
    let ready = core::pin::Pin::new(&mut handle).poll(&mut core::task::Context::from_waker(&w2));
    assert!(matches!(ready, core::task::Poll::Ready(Ok(3))));
}

fn futures_noop() -> core::task::Waker {
    core::task::Waker::noop().clone()
}

/// Like [`Manual`], but records which door a task came back through.
#[derive(Clone, Default)]
struct Doors {
    queue: Arc<Mutex<Vec<Notified<Doors>>>>,
    schedules: Arc<core::sync::atomic::AtomicUsize>,
    yields: Arc<core::sync::atomic::AtomicUsize>,
}

impl Schedule for Doors {
    fn schedule(&self, task: Notified<Self>) {
        self.schedules
            .fetch_add(1, core::sync::atomic::Ordering::SeqCst);
        self.queue.lock().unwrap().push(task);
    }
    fn yield_now(&self, task: Notified<Self>) {
        self.yields
            .fetch_add(1, core::sync::atomic::Ordering::SeqCst);
        self.queue.lock().unwrap().push(task);
    }
    fn release(&self, _task: &Task<Self>) -> Option<Task<Self>> {
        None
    }
}

#[test]
fn each_poll_gets_a_fresh_budget_and_spending_it_is_a_yield() {
    use core::sync::atomic::Ordering::SeqCst;
    let s = Doors::default();
    let polls = Arc::new(core::sync::atomic::AtomicUsize::new(0));
    let p = polls.clone();
    let total = 3 * usize::from(crate::coop::INITIAL) + 1;
    let (owned, notified, handle) = spawn(
        async move {
            let mut done = 0;
            core::future::poll_fn(|cx| {
                p.fetch_add(1, SeqCst);
                while done < total {
                    let restore = core::task::ready!(crate::coop::poll_proceed(cx));
                    restore.made_progress();
                    done += 1;
                }
                core::task::Poll::Ready(done)
            })
            .await
        },
        s.clone(),
    );
    drop(owned);
    notified.run();
    while !s.queue.lock().unwrap().is_empty() {
        let tasks: Vec<_> = core::mem::take(&mut *s.queue.lock().unwrap());
        for t in tasks {
            t.run();
        }
    }
    assert!(handle.is_finished());
    // 128 operations per poll: three full polls, then one that finishes.
    assert_eq!(polls.load(SeqCst), 4);
    assert_eq!(
        s.yields.load(SeqCst),
        3,
        "an exhausted budget must requeue as a yield"
    );
    assert_eq!(s.schedules.load(SeqCst), 0);
    drop(handle);
}
