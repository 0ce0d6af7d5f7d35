//! The `Schedule` trait: what the task core asks of an executor.

use super::error::PanicPayload;
use super::{Notified, Task};

/// Implemented by executors; stored in every task they spawn.
///
/// The task core knows nothing about threads. When a task is woken it calls
/// [`schedule`](Schedule::schedule) with a [`Notified`] the executor must
/// eventually [`run`](Notified::run) (or drop, at shutdown); when a task
/// completes it calls [`release`](Schedule::release) so the executor can
/// forget it. A waker may be called on any thread, so `schedule` must be
/// callable from any thread too.
///
/// # Example
///
/// A toy executor whose queue is a global list:
///
/// ```
/// use std::sync::Mutex;
/// use minirt_core::task::{self, Notified, Schedule, Task};
///
/// static QUEUE: Mutex<Vec<Notified<Global>>> = Mutex::new(Vec::new());
///
/// struct Global;
/// impl Schedule for Global {
///     fn schedule(&self, task: Notified<Self>) {
///         QUEUE.lock().unwrap().push(task);
///     }
///     fn release(&self, _task: &Task<Self>) -> Option<Task<Self>> {
///         None // this toy keeps no list of live tasks
///     }
/// }
///
/// let (owned, notified, handle) = task::spawn(async { 7 }, Global);
/// drop(owned);
/// notified.run();
/// assert!(handle.is_finished());
/// ```
pub trait Schedule: Sized + 'static {
    /// Whether each task gets cache lines of its own.
    ///
    /// Set it in executors that poll tasks on more than one thread. Tasks
    /// spawned one after another are neighbours on the heap; polled on two
    /// threads, each one's state changes would evict the other from its
    /// core's cache (false sharing — it made `yield_many_mt` ~1.75x
    /// slower). An isolated task starts on a 64-byte line, so no line
    /// holds bytes of two tasks; that costs 57 bytes of slack per task.
    /// Single-threaded executors leave it `false` and get the packed
    /// layout.
    ///
    /// ```
    /// use minirt_core::task::{Notified, Schedule, Task};
    ///
    /// struct ManyThreads;
    /// impl Schedule for ManyThreads {
    ///     const ISOLATE_TASKS: bool = true;
    ///     fn schedule(&self, task: Notified<Self>) { /* push to a shared queue */ }
    ///     fn release(&self, _task: &Task<Self>) -> Option<Task<Self>> { None }
    /// }
    /// ```
    const ISOLATE_TASKS: bool = false;

    /// Queues a woken task. Called from any thread a waker is used on.
    fn schedule(&self, task: Notified<Self>);

    /// The task completed: remove it from the executor's list of live tasks
    /// and return the [`Task`] reference that list held, if it held one.
    fn release(&self, task: &Task<Self>) -> Option<Task<Self>>;

    /// A task asked to be polled again right away (it woke itself during its
    /// poll, as `yield_now` does). Defaults to [`schedule`](Schedule::schedule).
    fn yield_now(&self, task: Notified<Self>) {
        self.schedule(task);
    }

    /// A task spent its cooperative budget (see [`coop`](crate::coop)) and
    /// woke itself to be polled again after the others. Defaults to
    /// [`yield_now`](Schedule::yield_now).
    ///
    /// It differs from an explicit yield in one way an executor may use:
    /// the task did not ask for other threads' help, it was only made to
    /// take turns, so a work-stealing executor can queue it behind the
    /// others without waking an idle thread for it (minirt's multi-thread
    /// runtime does; waking one every 128 channel operations made a
    /// producer/consumer benchmark 30% slower).
    fn yield_spent(&self, task: Notified<Self>) {
        self.yield_now(task);
    }

    /// A task's future panicked while it was polled (or its destructor
    /// panicked right after it returned `Ready`). Called on the thread that
    /// polled it, after the panic was caught and before the task completes
    /// with a [`JoinError`](super::JoinError). Defaults to doing nothing:
    /// the panic only reaches the task's `JoinHandle`.
    ///
    /// Not called for a destructor that panics when a task is cancelled
    /// (abort, shutdown) or when its output is dropped: those panics are
    /// caught and ignored (the output's) or reported to the `JoinHandle`
    /// (the cancelled future's), as in tokio.
    ///
    /// minirt's runtimes use it for `Builder::unhandled_panic`.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use minirt_core::task::{self, Notified, PanicPayload, Schedule, Task};
    ///
    /// static PANICS: AtomicUsize = AtomicUsize::new(0);
    /// struct Counting;
    /// impl Schedule for Counting {
    ///     fn schedule(&self, task: Notified<Self>) { task.run() }
    ///     fn release(&self, _task: &Task<Self>) -> Option<Task<Self>> { None }
    ///     fn unwind<R>(&self, f: impl FnOnce() -> R) -> Result<R, PanicPayload> {
    ///         std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
    ///     }
    ///     fn unhandled_panic(&self) {
    ///         PANICS.fetch_add(1, Ordering::SeqCst);
    ///     }
    /// }
    ///
    /// let (owned, notified, handle) = task::spawn(async { panic!("boom") }, Counting);
    /// drop(owned);
    /// notified.run();
    /// assert!(handle.is_finished());
    /// assert_eq!(PANICS.load(Ordering::SeqCst), 1);
    /// ```
    fn unhandled_panic(&self) {}

    /// The id of a task about to be allocated with this scheduler, as task
    /// dumps show it ([`TaskInfo::id`](super::TaskInfo::id)); called once
    /// per spawn. The default, 0, means "not numbered".
    ///
    /// minirt's runtimes hand out ids from a per-thread block of a
    /// process-wide counter, so numbering costs no shared atomic per spawn.
    fn task_id(&self) -> u64 {
        0
    }

    /// Runs `f`, catching a panic if the platform can unwind.
    ///
    /// The default, for `no_std` targets where a panic aborts, just calls
    /// `f`. The `minirt` runtimes use `std::panic::catch_unwind`, which is
    /// how a panicking task becomes a [`JoinError`](super::JoinError)
    /// instead of killing a worker.
    fn unwind<R>(&self, f: impl FnOnce() -> R) -> Result<R, PanicPayload> {
        Ok(f())
    }
}
