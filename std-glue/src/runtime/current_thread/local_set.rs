//! Local (`!Send`) tasks: each one stays on the thread that spawned it.
//!
//! # Why a set per thread
//!
//! A current-thread [`Runtime`](crate::Runtime) is `Send + Sync`: safe code
//! may share it through an `Arc`, call `block_on` on it from another thread,
//! move it, drop it anywhere. Whichever thread calls `block_on` drives its
//! tasks (it holds the *core*). A `Send` task may run on any of them; a
//! local task must not. So every thread that spawns local tasks on a runtime
//! gets its own [`LocalSet`], and only that thread ever polls, cancels or
//! drops what is in it:
//!
//! - its tasks are queued in the set's own queue, which the core holder
//!   drains only when it *is* the set's thread; another thread driving the
//!   runtime leaves them queued until their thread drives it again;
//! - a wake-up or `abort` from anywhere only queues the task (the waker
//!   touches the state word and the queue, never the future);
//! - when the runtime is dropped on the set's own thread, its local tasks
//!   are cancelled there; dropped on **another** thread, they cannot be, so
//!   they stay undropped until their own thread exits, when a thread-local
//!   destructor cancels them there. A thread that never exits (the main
//!   thread) leaks them: their destructors never run, which is safe, and is
//!   what a value that cannot be dropped on the right thread must do.

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicBool, Ordering::*};
use std::sync::Arc;
use std::thread::{self, ThreadId};

use minirt_core::task::{LocalOwnedTasks, Notified, NotifiedQueue, PanicPayload, Schedule, Task};

use crate::driver::Driver;
use crate::runtime::PanicShutdown;

/// The local tasks one thread spawned on one current-thread runtime.
pub(crate) struct LocalSet {
    /// The only thread that may touch `owned` or run the tasks.
    owner: ThreadId,
    /// Identifies the runtime (its `Shared`'s address), for the owner
    /// thread's registry of sets.
    runtime: usize,
    /// Woken local tasks, pushed from any thread.
    pub(super) queue: NotifiedQueue<LocalScheduler>,
    /// Every live local task. Touched only on `owner` (checked).
    owned: LocalOwnedTasks<LocalScheduler>,
    /// Wakes the runtime's core holder when a local task is woken.
    driver: Arc<Driver>,
    /// The runtime's `unhandled_panic` policy.
    on_panic: Arc<PanicShutdown>,
    /// Set once the runtime is shut down: spawning into the set then
    /// cancels at once.
    closed: AtomicBool,
}

// SAFETY: `owned` (the only `!Sync` field) is touched only on `owner`:
// every method that reaches it asserts `thread::current().id() == owner`.
// The tasks it holds are `!Send` futures that are therefore polled, cancelled
// and dropped on `owner` only. The other fields are thread-safe.
unsafe impl Sync for LocalSet {}
// SAFETY: as above. A set can be dropped on another thread only once no task
// refers to it (each task's scheduler holds an `Arc`), so its list is empty
// and dropping it drops no task.
unsafe impl Send for LocalSet {}

/// The [`Schedule`] value of a local task.
pub(crate) struct LocalScheduler(Arc<LocalSet>);

impl Schedule for LocalScheduler {
    fn schedule(&self, task: Notified<Self>) {
        self.0.queue.push(task);
        self.0.driver.unpark();
    }

    fn release(&self, task: &Task<Self>) -> Option<Task<Self>> {
        // Local tasks complete where they are polled or cancelled: on the
        // owner thread.
        self.0.assert_owner();
        self.0.owned.remove(task)
    }

    fn unwind<R>(&self, f: impl FnOnce() -> R) -> Result<R, PanicPayload> {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
    }

    /// Local tasks run on the core holder, which sees the flag when the
    /// task's poll returns and shuts the runtime down (see `CoreGuard`).
    fn unhandled_panic(&self) {
        if self.0.on_panic.on_task_panic() {
            self.0.driver.unpark();
        }
    }
}

thread_local! {
    /// The sets this thread owns; cancels their tasks when the thread exits.
    static OWNED_SETS: RefCell<OwnedSets> = const { RefCell::new(OwnedSets(Vec::new())) };
    /// Whether `OWNED_SETS` is non-empty: one plain load on the `block_on`
    /// path of threads that never spawned a local task.
    static OWNS_SETS: Cell<bool> = const { Cell::new(false) };
}

struct OwnedSets(Vec<Arc<LocalSet>>);

impl Drop for OwnedSets {
    fn drop(&mut self) {
        // Thread exit: no task of these sets can ever run again, and this is
        // the one thread allowed to drop them.
        for set in self.0.drain(..) {
            set.close_and_cancel_here();
        }
    }
}

impl LocalSet {
    /// Whether the calling thread owns a set on any runtime.
    pub(super) fn this_thread_owns_any() -> bool {
        OWNS_SETS.try_with(Cell::get).unwrap_or(false)
    }

    /// The calling thread's set on runtime `runtime`, if it has one.
    pub(super) fn of_this_thread(runtime: usize) -> Option<Arc<LocalSet>> {
        if !Self::this_thread_owns_any() {
            return None;
        }
        OWNED_SETS
            .try_with(|sets| {
                let sets = sets.borrow();
                sets.0.iter().find(|s| s.runtime == runtime).cloned()
            })
            .ok()
            .flatten()
    }

    /// Makes the calling thread's set on `runtime` and registers it with
    /// this thread, whose exit cancels what is left in it.
    pub(super) fn create(
        runtime: usize,
        driver: Arc<Driver>,
        on_panic: Arc<PanicShutdown>,
    ) -> Arc<LocalSet> {
        let set = Arc::new(LocalSet {
            owner: thread::current().id(),
            runtime,
            queue: NotifiedQueue::new(),
            owned: LocalOwnedTasks::new(),
            driver,
            on_panic,
            closed: AtomicBool::new(false),
        });
        let registered = OWNED_SETS.try_with(|sets| sets.borrow_mut().0.push(set.clone()));
        let _ = OWNS_SETS.try_with(|owns| owns.set(true));
        assert!(
            registered.is_ok(),
            "minirt::spawn_local called while this thread is exiting"
        );
        set
    }

    #[track_caller]
    fn assert_owner(&self) {
        assert!(
            thread::current().id() == self.owner,
            "minirt: a local task was touched off the thread that spawned it"
        );
    }

    /// Spawns a `!Send` future into this set and queues it.
    pub(super) fn spawn<F>(self: &Arc<Self>, future: F) -> minirt_core::task::JoinHandle<F::Output>
    where
        F: std::future::Future + 'static,
        F::Output: 'static,
    {
        self.assert_owner();
        if self.closed.load(Acquire) {
            // The list stays open for the thread-exit sweep; a spawn after
            // shutdown is cancelled through a closed scratch list instead.
            let scratch = LocalOwnedTasks::new();
            scratch.close_and_drain();
            // SAFETY: the task is cancelled right here, on this thread.
            return unsafe { scratch.bind_unchecked(future, LocalScheduler(self.clone())) }.1;
        }
        // SAFETY: the set's tasks are run only by the core holder on
        // `owner` (see `Shared::next_task`), cancelled only on `owner`
        // (`close_and_cancel_here`), and their `Notified`s are queued in
        // `queue`, which only `owner` drains; wakers touch only the state
        // word and `queue`.
        let (notified, handle) = unsafe {
            self.owned
                .bind_unchecked(future, LocalScheduler(self.clone()))
        };
        if let Some(notified) = notified {
            self.queue.push(notified);
        }
        handle
    }

    /// The runtime shuts down: no more spawns.
    pub(super) fn close(&self) {
        self.closed.store(true, Release);
    }

    /// On the owner thread: cancels every task of the set (their futures
    /// are dropped here) and drops the queued entries.
    pub(super) fn close_and_cancel_here(&self) {
        self.assert_owner();
        self.close();
        loop {
            let tasks = self.owned.close_and_drain();
            let queued = self.queue.take_all();
            let idle = tasks.is_empty();
            for task in tasks {
                task.shutdown();
            }
            let none_queued = queued.count() == 0;
            if idle && none_queued {
                break;
            }
        }
    }
}
