//! The `Schedule` trait: what the task core asks of an executor.

use super::cell_cache::{CellCache, CellCacheOwner};
use super::error::PanicPayload;
use super::{Notified, Task};

/// How an executor recycles the memory of its tasks
/// ([`Schedule::CELL_CACHING`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CellCaching {
    /// Every task is allocated and freed with the global allocator.
    Off,
    /// The executor has one [`CellCache`] (tag 0 in both hooks): a
    /// current-thread runtime, whose core holder owns it.
    One,
    /// The executor has several caches, one per owning thread (a worker
    /// each), told apart by a tag below 255 that the task core keeps in
    /// one byte of each task's allocation, so a task freed on another
    /// thread goes back to the cache of the thread that allocated it.
    PerThread,
}

/// Where a freed task's memory goes ([`Schedule::cell_cache`]).
#[derive(Debug)]
pub enum CellCacheRef<'a> {
    /// The calling thread owns the cache: the memory goes to its lists.
    Owner(CellCacheOwner<'a>),
    /// Another thread owns it: the memory goes to its lock-free stack.
    Remote(&'a CellCache),
}

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

    /// Whether tasks' memory is recycled through [`CellCache`]s (see there
    /// for why) instead of going back to the global allocator each time.
    /// With anything but [`CellCaching::Off`], the task core calls
    /// [`owned_cell_cache`](Schedule::owned_cell_cache) when it allocates
    /// a task and [`cell_cache`](Schedule::cell_cache) when it frees one,
    /// and rounds cell sizes up to a whole number of pointers so they fit
    /// the cache's size classes.
    ///
    /// ```
    /// use minirt_core::task::{self, CellCache, CellCacheOwner, CellCacheRef, CellCaching};
    /// use minirt_core::task::{Notified, Schedule, Task};
    ///
    /// // One cache for a toy executor that runs everything on this thread.
    /// static CACHE: CellCache = CellCache::new();
    ///
    /// struct Recycling;
    /// impl Schedule for Recycling {
    ///     const CELL_CACHING: CellCaching = CellCaching::One;
    ///     fn schedule(&self, task: Notified<Self>) { task.run() }
    ///     fn release(&self, _task: &Task<Self>) -> Option<Task<Self>> { None }
    ///     fn owned_cell_cache(&self) -> Option<(CellCacheOwner<'_>, u8)> {
    ///         // SAFETY: this example only ever uses the cache from one thread.
    ///         Some((unsafe { CACHE.owner() }, 0))
    ///     }
    ///     fn cell_cache(&self, _tag: u8) -> Option<CellCacheRef<'_>> {
    ///         // SAFETY: as above.
    ///         Some(CellCacheRef::Owner(unsafe { CACHE.owner() }))
    ///     }
    /// }
    ///
    /// let (owned, notified, handle) = task::spawn(async { 1 }, Recycling);
    /// drop(owned);
    /// notified.run();
    /// drop(handle); // the task's memory is now in CACHE
    /// // SAFETY: as above.
    /// assert!(unsafe { CACHE.owner() }.owned_bytes() > 0);
    /// ```
    const CELL_CACHING: CellCaching = CellCaching::Off;

    /// The cache the calling thread owns, if it owns one of this
    /// executor's, and its tag (below 255; ignored with
    /// [`CellCaching::One`]). A task allocated on a thread that owns none
    /// comes from the global allocator and, with
    /// [`CellCaching::PerThread`], goes back to it when freed.
    ///
    /// Called on the spawning thread, once per task, so it should be
    /// cheap (a thread-local read).
    fn owned_cell_cache(&self) -> Option<(CellCacheOwner<'_>, u8)> {
        None
    }

    /// Where the memory of a freed task allocated by the owner of cache
    /// `tag` goes, seen from the calling thread: the owner's lists if the
    /// calling thread owns the cache, its lock-free stack if not; `None`
    /// frees it with the global allocator. Called on whichever thread
    /// drops a task's last reference.
    fn cell_cache(&self, tag: u8) -> Option<CellCacheRef<'_>> {
        let _ = tag;
        None
    }
}
