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
//!   are cancelled there and the set leaves the thread's registry; dropped
//!   on **another** thread, they cannot be, so they stay undropped until
//!   their own thread next calls `spawn_local` (on any runtime) or exits,
//!   when it cancels them there. A thread that does neither (the main
//!   thread, idle) leaks them: their destructors never run, which is safe,
//!   and is what a value that cannot be dropped on the right thread must do.
//!
//! Each thread finds its sets by the runtime's id, never its address: a
//! runtime made where a dropped one was must not inherit the dropped one's
//! closed set (seen under Wine, whose heap reuses addresses at once: a test's
//! second runtime had its local tasks cancelled as they were spawned).

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
    /// The runtime's id (`Shared::id`), for the owner thread's registry of
    /// sets.
    runtime: u64,
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

    #[inline]
    fn task_id(&self) -> u64 {
        crate::runtime::trace::next_task_id()
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
    #[inline]
    pub(super) fn this_thread_owns_any() -> bool {
        OWNS_SETS.try_with(Cell::get).unwrap_or(false)
    }

    /// The calling thread's set on runtime `runtime`, if it has one.
    #[inline]
    pub(super) fn of_this_thread(runtime: u64) -> Option<Arc<LocalSet>> {
        if !Self::this_thread_owns_any() {
            return None;
        }
        Self::find_of_this_thread(runtime)
    }

    /// The search half of [`of_this_thread`](Self::of_this_thread), out of
    /// line: most threads own no set, and every `block_on` asks.
    #[inline(never)]
    fn find_of_this_thread(runtime: u64) -> Option<Arc<LocalSet>> {
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
        runtime: u64,
        driver: Arc<Driver>,
        on_panic: Arc<PanicShutdown>,
    ) -> Arc<LocalSet> {
        Self::cancel_closed_sets_here();
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
    pub(super) fn spawn<F>(
        self: &Arc<Self>,
        future: F,
        at: &'static std::panic::Location<'static>,
    ) -> minirt_core::task::JoinHandle<F::Output>
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
            return unsafe { scratch.bind_unchecked_at(future, LocalScheduler(self.clone()), at) }
                .1;
        }
        // SAFETY: the set's tasks are run only by the core holder on
        // `owner` (see `Shared::next_task`), cancelled only on `owner`
        // (`close_and_cancel_here`), and their `Notified`s are queued in
        // `queue`, which only `owner` drains; wakers touch only the state
        // word and `queue`.
        let (notified, handle) = unsafe {
            self.owned
                .bind_unchecked_at(future, LocalScheduler(self.clone()), at)
        };
        if let Some(notified) = notified {
            self.queue.push(notified);
        }
        handle
    }

    /// The runtime shuts down: no more spawns.
    /// What a dump shows of each task of the set; `None` unless called on
    /// the set's own thread (nobody else may read its list).
    pub(super) fn for_each_info(&self, f: impl FnMut(minirt_core::task::TaskInfo)) -> Option<()> {
        if thread::current().id() != self.owner {
            return None;
        }
        self.owned.for_each_info(f);
        Some(())
    }

    pub(super) fn close(&self) {
        self.closed.store(true, Release);
    }

    /// On the owner thread: cancels every task of the set (their futures
    /// are dropped here), drops the queued entries, and takes the set out of
    /// the thread's registry (its runtime is gone; keeping it would keep the
    /// runtime's driver, and its file descriptors, alive until thread exit).
    pub(super) fn close_and_cancel_here(self: &Arc<Self>) {
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
        // Fails only while the thread exits (the registry is being dropped,
        // and drops this set next) or inside `cancel_closed_sets_here`
        // (which took the set out already).
        let _ = OWNED_SETS.try_with(|sets| {
            if let Ok(mut sets) = sets.try_borrow_mut() {
                sets.0.retain(|s| !Arc::ptr_eq(s, self));
                let _ = OWNS_SETS.try_with(|owns| owns.set(!sets.0.is_empty()));
            }
        });
    }

    /// Cancels, here on their thread, the tasks of this thread's sets whose
    /// runtime was shut down on another thread, and forgets those sets.
    ///
    /// Sound to call from inside a poll: a closed set's tasks are not being
    /// polled anywhere. Its runtime was dropped, so no thread is inside its
    /// `block_on`, and only its core holder ever polls its local tasks.
    fn cancel_closed_sets_here() {
        if !Self::this_thread_owns_any() {
            return;
        }
        // Taken out before any future is dropped: a destructor may spawn.
        let closed: Vec<Arc<LocalSet>> = OWNED_SETS
            .try_with(|sets| {
                let mut sets = sets.borrow_mut();
                let (closed, open) = sets.0.drain(..).partition(|s| s.closed.load(Acquire));
                sets.0 = open;
                closed
            })
            .unwrap_or_default();
        for set in closed {
            set.close_and_cancel_here();
        }
    }
}

#[cfg(all(test, not(minirt_loom)))]
mod tests {
    use super::*;
    use crate::Builder;
    use std::rc::Rc;

    /// How many sets the calling thread's registry holds.
    fn registered_here() -> usize {
        OWNED_SETS.with(|sets| sets.borrow().0.len())
    }

    fn run_a_local_task(rt: &crate::Runtime) {
        let not_send = Rc::new(5);
        let got = rt.block_on(async move { crate::spawn_local(async move { *not_send }).await });
        assert_eq!(got.unwrap(), 5);
    }

    #[test]
    fn a_runtime_dropped_on_its_own_thread_leaves_no_set_behind() {
        thread::spawn(|| {
            for _ in 0..3 {
                let rt = Builder::current_thread().build().unwrap();
                run_a_local_task(&rt);
                assert_eq!(registered_here(), 1);
                drop(rt);
                assert_eq!(registered_here(), 0, "the dropped runtime's set stayed");
                assert!(!LocalSet::this_thread_owns_any());
            }
        })
        .join()
        .unwrap();
    }

    #[test]
    #[allow(clippy::async_yields_async)] // the handle is awaited after the runtime is gone
    fn a_runtime_dropped_elsewhere_is_swept_at_the_next_spawn_local() {
        thread::spawn(|| {
            let rt = Builder::current_thread().build().unwrap();
            let pending = rt.block_on(async {
                let not_send = Rc::new(());
                let handle = crate::spawn_local(async move {
                    let _keep = not_send;
                    std::future::pending::<()>().await
                });
                crate::yield_now().await;
                handle
            });
            thread::spawn(move || drop(rt)).join().unwrap();
            // The set is closed but its task is still here, undropped.
            assert_eq!(registered_here(), 1);
            let other = Builder::current_thread().build().unwrap();
            run_a_local_task(&other);
            assert_eq!(registered_here(), 1, "only the live runtime's set is left");
            let err = crate::block_on(pending).unwrap_err();
            assert!(err.is_cancelled());
        })
        .join()
        .unwrap();
    }
}
