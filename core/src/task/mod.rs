//! Raw tasks: one allocation per spawned future, shared by its wakers, its
//! [`JoinHandle`] and its executor.
//!
//! # Layout
//!
//! A task is one heap allocation holding a `repr(C)` cell with, in order: the
//! header (atomic state word, vtable pointer, intrusive queue link, owner key,
//! join waker), the executor's [`Schedule`] value, and a *stage* that holds
//! the future, then its output, then nothing. The future and its output share
//! the stage, so an empty `async {}` task costs the header plus a small enum.
//!
//! How the cell sits in its allocation depends on the executor
//! (`placement.rs`). By default the allocation is just the cell, with the
//! cell's own layout, as a `Box` would make it. An executor that sets
//! [`Schedule::ISOLATE_TASKS`] (it polls on several threads) gets cells that
//! start on a cache line, so no line holds bytes of two tasks: the cell is
//! carved out of a larger allocation (the cell, `64 - align` bytes of slack
//! and one byte, at the cell's own alignment), starting at the first line
//! boundary in it, and the byte right after the cell records how far that is
//! from the allocation's start, so it can be freed. A cell whose type is
//! already line-aligned is allocated as it is.
//!
//! Where the memory comes from depends on the executor too: the global
//! allocator by default, or, with [`Schedule::CELL_CACHING`], a
//! [`CellCache`] owned by the spawning thread, to which the memory goes
//! back when the task is freed, whichever thread frees it. minirt's
//! runtimes do this (one cache per worker, one per current-thread
//! runtime): it took a burst of spawns from ~1 730 to ~1 170 instructions
//! per task, and keeps a task finished on another worker from taking the
//! spawning thread's malloc arena lock.
//!
//! # References
//!
//! Every pointer to a task is a counted reference: the executor's owned
//! [`Task`], a queued [`Notified`], the [`JoinHandle`], any [`AbortHandle`],
//! and every `Waker`. The last one to go frees the allocation.
//!
//! # Ownership: who may touch what, when
//!
//! 1. **The stage** (future or output) is touched only by whoever holds the
//!    `RUNNING` bit — the executor thread polling the task, or the thread
//!    cancelling it — until the task is `COMPLETE`.
//! 2. Once `COMPLETE`, the output belongs to the `JoinHandle` if
//!    `JOIN_INTEREST` was set at that moment (it takes it or drops it), and to
//!    the task side otherwise (it drops it right away).
//! 3. **The join waker slot** belongs to the `JoinHandle` while `JOIN_WAKER`
//!    is clear; it may write it, then set the bit to lend it to the task side,
//!    which only reads it (to wake on completion). The handle takes it back
//!    by clearing the bit, which fails once the task is complete; after
//!    completing, the task side clears the bit itself, and if the handle was
//!    dropped meanwhile it empties the slot.
//! 4. **`queue_next`** belongs to whichever holder of the task's `Notified`
//!    pushes it into an intrusive queue; `NOTIFIED` guarantees there is at
//!    most one such queue entry.
//! 5. **`owner_key`** belongs to the executor's owned-task list: written
//!    once, before the task is first queued (so the queue's release/acquire
//!    publishes it), and only read afterwards.
//! 6. The **state word** is shared by all and changes only through the named
//!    transitions in `state.rs`.
//!
//! # Cancellation
//!
//! `abort()` sets `CANCELLED` and queues the task; the executor that pops it
//! drops the future instead of polling it (destructors run as if a panic
//! unwound through the suspended `.await`), stores `JoinError::Cancelled`
//! and only then wakes the `JoinHandle`.
//!
//! ```
//! use minirt_core::executor::LocalExecutor;
//!
//! struct Guard<'a>(&'a core::cell::Cell<bool>);
//! impl Drop for Guard<'_> {
//!     fn drop(&mut self) { self.0.set(true); }
//! }
//!
//! static DROPPED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
//! let ex = LocalExecutor::new();
//! let handle = ex.spawn(async {
//!     struct G;
//!     impl Drop for G { fn drop(&mut self) { DROPPED.store(true, std::sync::atomic::Ordering::SeqCst); } }
//!     let _g = G;
//!     core::future::pending::<()>().await;
//! });
//! ex.run_until_idle();           // the task is now parked at `.await`
//! handle.abort();
//! let err = ex.block_on(handle, || {}).unwrap_err();
//! assert!(err.is_cancelled() && DROPPED.load(std::sync::atomic::Ordering::SeqCst));
//! ```

mod cell_cache;
mod error;
mod harness;
mod header;
mod join;
mod owned;
mod placement;
mod queue;
mod schedule;
pub(crate) mod state;
mod task_slab;
mod trace;
mod waker;

use core::future::Future;
use core::marker::PhantomData;
use core::mem;
use core::panic::Location;
use core::ptr::NonNull;

pub use cell_cache::{CellCache, CellCacheOwner, MAX_BLOCK, OWNED_BYTES};
pub use error::{JoinError, PanicPayload};
pub use join::{AbortHandle, JoinHandle};
pub use owned::{LocalOwnedTasks, OwnedTasks};
pub use queue::NotifiedQueue;
pub use schedule::{CellCacheRef, CellCaching, Schedule};
pub use trace::{Id, TaskInfo, TaskState, WaitKind};

use harness::Cell;
use header::Header;

/// The executor's owning reference to a task, kept in its list of live
/// tasks so shutdown can cancel everything it spawned.
pub struct Task<S: 'static> {
    raw: NonNull<Header>,
    _scheduler: PhantomData<S>,
}

// SAFETY: `Task` only reaches the task through the atomic state word and the
// vtable; whether the *future* may move between threads is the spawner's
// promise (see `spawn_unchecked`), enforced by executors.
unsafe impl<S> Send for Task<S> {}
// SAFETY: as above.
unsafe impl<S> Sync for Task<S> {}

/// A task that was woken and must be run: the run-queue reference.
///
/// Executors get these from [`Schedule::schedule`] and at spawn time, and
/// call [`run`](Notified::run) on them. Dropping one without running it just
/// releases the reference (what a runtime does with its queues at shutdown).
pub struct Notified<S: 'static>(Task<S>);

impl<S: 'static> Task<S> {
    /// # Safety
    ///
    /// `raw` is a task with scheduler type `S`, and the caller transfers one
    /// reference to the new value.
    pub(crate) unsafe fn from_raw(raw: NonNull<Header>) -> Self {
        Task {
            raw,
            _scheduler: PhantomData,
        }
    }

    fn header(&self) -> &Header {
        // SAFETY: we hold a reference.
        unsafe { self.raw.as_ref() }
    }

    /// An address that identifies the task while it is alive.
    pub fn addr(&self) -> usize {
        self.raw.as_ptr() as usize
    }

    /// The key this task has in its owned-task list (see `owned.rs`).
    ///
    /// # Safety
    ///
    /// Only the list that owns the task may call this, after its
    /// `set_owner_key` happened-before (for example because the task was
    /// queued after the key was set).
    pub(crate) unsafe fn owner_key(&self) -> u32 {
        // SAFETY: the caller guarantees exclusive access to the field.
        self.header().owner_key.with(|p| unsafe { *p })
    }

    /// Records this task's key in its owned-task list.
    ///
    /// # Safety
    ///
    /// Only the list that owns the task may call this, once, before the
    /// task is first queued.
    pub(crate) unsafe fn set_owner_key(&self, key: u32) {
        // SAFETY: the caller guarantees exclusive access to the field.
        self.header().owner_key.with_mut(|p| unsafe { *p = key });
    }

    /// What a task dump shows of this task right now.
    pub fn info(&self) -> TaskInfo {
        TaskInfo::read(self.header())
    }

    /// Cancels the task at runtime shutdown: if nobody is polling it, its
    /// future is dropped right here, on the calling thread; if it is being
    /// polled, it is dropped when that poll ends. Consumes this reference.
    ///
    /// The executor must have removed the task from its owned list first
    /// (its [`Schedule::release`] then returns `None`).
    pub fn shutdown(self) {
        let raw = self.raw;
        mem::forget(self);
        // SAFETY: we give up our reference, as `shutdown` expects.
        unsafe { (raw.as_ref().vtable.shutdown)(raw) }
    }
}

impl<S: 'static> Drop for Task<S> {
    fn drop(&mut self) {
        if self.header().state.ref_dec() {
            // SAFETY: that was the last reference.
            unsafe { (self.header().vtable.dealloc)(self.raw) }
        }
    }
}

impl<S: 'static> Notified<S> {
    /// # Safety
    ///
    /// As for `Task::from_raw`, and the reference is a queue reference.
    pub(crate) unsafe fn from_raw(raw: NonNull<Header>) -> Self {
        // SAFETY: forwarded from the caller.
        Notified(unsafe { Task::from_raw(raw) })
    }

    pub(crate) fn into_raw(self) -> NonNull<Header> {
        let raw = self.0.raw;
        mem::forget(self);
        raw
    }

    /// Polls the task once (or drops its future if it was aborted).
    pub fn run(self) {
        let raw = self.into_raw();
        // SAFETY: we hand our queue reference to `poll`, which consumes it.
        unsafe { (raw.as_ref().vtable.poll)(raw) }
    }

    /// An address that identifies the task while it is alive.
    pub fn addr(&self) -> usize {
        self.0.addr()
    }

    /// Counts the poll the caller is about to make (with [`run`](Self::run))
    /// and records `now`, the executor's coarse clock, as its time, for
    /// task dumps ([`TaskInfo`]). Executors that keep no such statistics
    /// just do not call it.
    #[inline]
    pub fn record_poll(&self, now: u32) {
        trace::record_poll(self.0.header(), now);
    }

    /// What a task dump shows of this task right now.
    pub fn info(&self) -> TaskInfo {
        self.0.info()
    }
}

/// The id of the task `waker` wakes, if it is the waker of a task (of any
/// minirt executor); `None` for any other waker. Task dumps use it to find
/// which task waits in a timer or on a socket.
pub fn id_of_waker(waker: &core::task::Waker) -> Option<Id> {
    waker::task_id(waker)
}

/// Notes that the task `waker` wakes waits in `kind`, for task dumps: a
/// primitive calls it where its future returns `Pending` with `waker`
/// registered. The note lasts until the task's next poll starts, and the
/// first note of a poll wins (in a `select!`, the first branch polled that
/// waits). Wakers that are not a minirt task's (a
/// combinator's own, a `block_on` future's) are ignored, so the note is a
/// hint: a task awaiting a primitive through a combinator that polls it
/// with another waker (`join_all`) shows no note.
///
/// It costs a load of the task's state word and, for the first note of a
/// poll, one atomic `fetch_or` on it.
///
/// ```
/// use core::task::{Context, Poll};
/// use minirt_core::task::{note_wait, WaitKind};
///
/// fn poll_my_primitive(cx: &mut Context<'_>) -> Poll<()> {
///     // ... register cx.waker() to be woken ...
///     note_wait(cx.waker(), WaitKind::Notify);
///     Poll::Pending
/// }
/// # let mut cx = Context::from_waker(core::task::Waker::noop());
/// # assert!(poll_my_primitive(&mut cx).is_pending());
/// ```
#[inline]
pub fn note_wait(waker: &core::task::Waker, kind: WaitKind) {
    waker::note_wait(waker, kind)
}

/// Creates a task for a `Send + 'static` future.
///
/// Returns the executor's owned [`Task`] (to keep in its list of live tasks,
/// or drop if it keeps none), the first [`Notified`] (to queue) and the
/// [`JoinHandle`] (for the spawner). This is the one allocation of the task.
///
/// ```
/// # use minirt_core::task::{self, Notified, Schedule, Task};
/// # struct Inline;
/// # impl Schedule for Inline {
/// #     fn schedule(&self, task: Notified<Self>) { task.run() }
/// #     fn release(&self, _: &Task<Self>) -> Option<Task<Self>> { None }
/// # }
/// let (owned, notified, handle) = task::spawn(async { "done" }, Inline);
/// drop(owned);
/// notified.run();
/// assert!(handle.is_finished());
/// ```
#[track_caller]
pub fn spawn<F, S>(future: F, scheduler: S) -> (Task<S>, Notified<S>, JoinHandle<F::Output>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule + Send + Sync,
{
    // SAFETY: the future and its output are Send and 'static, which is all
    // `spawn_unchecked` asks beyond what the types already guarantee.
    unsafe { spawn_unchecked(future, scheduler) }
}

/// Creates a task without checking `Send` or `'static`.
///
/// This is how `spawn_local` (non-`Send` futures) and scopes (futures that
/// borrow from a blocked stack frame) are built.
///
/// # Safety
///
/// - If `F` or `F::Output` is not `Send`, the executor must run, cancel and
///   shut down the task only on the thread that created it, and the task's
///   `Notified` and owned `Task` must stay on that thread (wakers may still
///   be used anywhere: they only touch the state word and `schedule`).
/// - If `F` is not `'static`, the task must be completed or shut down, and
///   its output taken or dropped, before anything it borrows is invalidated.
#[track_caller]
pub unsafe fn spawn_unchecked<F, S>(
    future: F,
    scheduler: S,
) -> (Task<S>, Notified<S>, JoinHandle<F::Output>)
where
    F: Future,
    S: Schedule,
{
    // SAFETY: forwarded from the caller.
    unsafe { spawn_unchecked_at(future, scheduler, Location::caller()) }
}

/// [`spawn_unchecked`] with the spawn site a task dump shows given
/// explicitly: for executors whose spawn path goes through a closure, which
/// `#[track_caller]` cannot see through.
///
/// # Safety
///
/// As for [`spawn_unchecked`].
#[inline]
pub unsafe fn spawn_unchecked_at<F, S>(
    future: F,
    scheduler: S,
    spawned_at: &'static Location<'static>,
) -> (Task<S>, Notified<S>, JoinHandle<F::Output>)
where
    F: Future,
    S: Schedule,
{
    let raw = Cell::allocate(future, scheduler, spawned_at);
    // SAFETY: the allocation starts with three references, one for each.
    unsafe {
        (
            Task::from_raw(raw),
            Notified::from_raw(raw),
            JoinHandle::from_raw(raw),
        )
    }
}

#[cfg(all(test, not(loom)))]
mod tests;
