//! The list of an executor's live tasks: the one owned-task list every
//! minirt executor uses.
//!
//! Shutdown needs it: an idle task whose only references are wakers stored
//! inside other idle tasks would otherwise never be dropped. Each task's
//! *owner key* (its place in the list) lives in its header and is written
//! once, by [`OwnedTasks::bind`] / [`LocalOwnedTasks::bind`], before the task
//! is first queued; only these lists read it. That is why the key is not
//! public API: an executor cannot get it wrong.
//!
//! Two variants:
//!
//! - [`OwnedTasks`]: shared by threads, in shards each behind its own lock
//!   on its own cache lines, so that workers spawning and completing tasks
//!   rarely meet on one lock;
//! - [`LocalOwnedTasks`]: touched by one thread only (it is `!Sync`), with
//!   no lock at all: the current-thread runtime's tasks and local (`!Send`)
//!   tasks.
//!
//! A key carries a tag bit saying which variant wrote it, so an executor
//! with both (the current-thread runtime) can offer a task to each, and the
//! wrong one declines without touching anything.

use alloc::vec::Vec;
use core::cell::RefCell;
use core::future::Future;
use core::marker::PhantomData;
use core::panic::Location;

use super::task_slab::TaskSlab;
use super::{spawn_unchecked_at, JoinHandle, Notified, Schedule, Task, TaskInfo};
use crate::sync::cache_line::CacheLine;
use crate::sync::lock::Lock;

/// Set in keys written by [`LocalOwnedTasks`].
const LOCAL_TAG: usize = 1 << (u32::BITS - 1);
/// The key of a task that is in no list (never bound, or already removed).
pub(crate) const NO_KEY: u32 = u32::MAX;

/// A list key as the header stores it: 32 bits (sharing a word with the
/// last-poll time, see `trace.rs`). A list would need over two billion
/// live tasks (128 GiB of headers alone) to run out.
#[inline]
fn stored_key(key: usize) -> u32 {
    match u32::try_from(key) {
        Ok(k) if k != NO_KEY => k,
        _ => too_many_tasks(),
    }
}

#[cold]
#[inline(never)]
fn too_many_tasks() -> ! {
    panic!("minirt: more than 2^31 live tasks in one owned-task list")
}

/// The tasks of one shard.
struct Shard<S: 'static> {
    tasks: TaskSlab<S>,
    /// Set at shutdown; binding then cancels the new task at once.
    closed: bool,
}

impl<S: 'static> Shard<S> {
    const fn new() -> Shard<S> {
        Shard {
            tasks: TaskSlab::new(),
            closed: false,
        }
    }

    /// Lists `task` under a key made by `key_of(slot)`, unless closed.
    fn insert(
        &mut self,
        task: Task<S>,
        key_of: impl FnOnce(usize) -> usize,
    ) -> Result<(), Task<S>> {
        if self.closed {
            return Err(task);
        }
        // SAFETY: the list that owns the task writes its key once, before
        // the task is first queued (the caller queues it after we return),
        // under the exclusive access the `&mut Shard` proves.
        unsafe { task.set_owner_key(stored_key(key_of(self.tasks.next_key()))) };
        self.tasks.insert(task);
        Ok(())
    }

    fn remove_slot(&mut self, slot: usize, task: &Task<S>) -> Option<Task<S>> {
        self.tasks.remove_if(slot, task.addr())
    }

    fn close_and_drain(&mut self) -> Vec<Task<S>> {
        self.closed = true;
        self.tasks.drain()
    }
}

/// What `bind` hands back: the first `Notified` to queue if the task was
/// listed; if the list was closed, the task is cancelled on the spot (its
/// `JoinHandle` resolves to a cancelled error) and there is nothing to queue.
fn queue_or_cancel<S: 'static, T>(
    inserted: Result<(), Task<S>>,
    notified: Notified<S>,
    handle: JoinHandle<T>,
) -> (Option<Notified<S>>, JoinHandle<T>) {
    match inserted {
        Ok(()) => (Some(notified), handle),
        Err(task) => {
            drop(notified);
            task.shutdown();
            (None, handle)
        }
    }
}

/// Every live task of an executor whose threads share it.
///
/// Shutdown needs this list: an idle task whose only references are wakers
/// stored inside other idle tasks would otherwise never be dropped. The
/// list is sharded, each shard behind its own lock on its own cache lines,
/// so that workers spawning and completing tasks rarely meet on one lock.
/// Each task's place in it is kept in the task's header, written once by
/// [`bind`](Self::bind) before the task is first queued; only the list reads
/// it, which is why it is not public API.
///
/// ```
/// use std::sync::LazyLock;
/// use minirt_core::task::{Notified, OwnedTasks, Schedule, Task};
///
/// static LIST: LazyLock<OwnedTasks<Inline>> = LazyLock::new(OwnedTasks::with_one_shard);
///
/// struct Inline;
/// impl Schedule for Inline {
///     fn schedule(&self, task: Notified<Self>) { task.run() }
///     fn release(&self, task: &Task<Self>) -> Option<Task<Self>> { LIST.remove(task) }
/// }
///
/// let (notified, handle) = LIST.bind(async { 1 + 1 }, Inline, 0);
/// assert_eq!(LIST.len(), 1);
/// notified.unwrap().run();
/// assert!(handle.is_finished());
/// assert_eq!(LIST.len(), 0); // `release` took it out
/// ```
pub struct OwnedTasks<S: 'static> {
    shards: ShardTable<S>,
}

/// One shard inline (a `static` list), or many on the heap.
enum ShardTable<S: 'static> {
    One(CacheLine<Lock<Shard<S>>>),
    Many {
        shards: alloc::boxed::Box<[CacheLine<Lock<Shard<S>>>]>,
        /// `shards.len() - 1`; the length is a power of two.
        mask: usize,
    },
}

impl<S: Schedule> OwnedTasks<S> {
    /// A list with one shard (an executor whose tasks are spawned and
    /// completed on one thread at a time).
    pub fn with_one_shard() -> OwnedTasks<S> {
        OwnedTasks {
            shards: ShardTable::One(CacheLine(Lock::new(Shard::new()))),
        }
    }

    /// A list with at least `shards` shards (rounded up to a power of two).
    pub fn with_shards(shards: usize) -> OwnedTasks<S> {
        let n = shards.max(1).next_power_of_two();
        if n == 1 {
            return Self::with_one_shard();
        }
        OwnedTasks {
            shards: ShardTable::Many {
                shards: (0..n).map(|_| CacheLine(Lock::new(Shard::new()))).collect(),
                mask: n - 1,
            },
        }
    }

    /// Number of shards.
    pub fn num_shards(&self) -> usize {
        match &self.shards {
            ShardTable::One(_) => 1,
            ShardTable::Many { shards, .. } => shards.len(),
        }
    }

    fn shard(&self, index: usize) -> &Lock<Shard<S>> {
        match &self.shards {
            ShardTable::One(shard) => shard,
            ShardTable::Many { shards, mask, .. } => &shards[index & mask],
        }
    }

    /// Spawns a `Send + 'static` future as a task listed in shard `hint`
    /// (modulo the shard count). Returns the first [`Notified`] to queue —
    /// `None` if the list is closed, in which case the task was cancelled on
    /// the spot — and the [`JoinHandle`].
    #[track_caller]
    pub fn bind<F>(
        &self,
        future: F,
        scheduler: S,
        hint: usize,
    ) -> (Option<Notified<S>>, JoinHandle<F::Output>)
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
        S: Send + Sync,
    {
        // SAFETY: the future and its output are Send and 'static.
        unsafe { self.bind_unchecked(future, scheduler, hint) }
    }

    /// [`bind`](Self::bind) without the `Send` and `'static` checks.
    ///
    /// # Safety
    ///
    /// As for [`spawn_unchecked`](super::spawn_unchecked).
    #[track_caller]
    pub unsafe fn bind_unchecked<F>(
        &self,
        future: F,
        scheduler: S,
        hint: usize,
    ) -> (Option<Notified<S>>, JoinHandle<F::Output>)
    where
        F: Future,
    {
        // SAFETY: forwarded from the caller.
        unsafe { self.bind_unchecked_at(future, scheduler, hint, Location::caller()) }
    }

    /// [`bind_unchecked`](Self::bind_unchecked) with the spawn site given
    /// explicitly (see [`spawn_unchecked_at`]).
    ///
    /// # Safety
    ///
    /// As for [`spawn_unchecked`](super::spawn_unchecked).
    #[inline]
    pub unsafe fn bind_unchecked_at<F>(
        &self,
        future: F,
        scheduler: S,
        hint: usize,
        spawned_at: &'static Location<'static>,
    ) -> (Option<Notified<S>>, JoinHandle<F::Output>)
    where
        F: Future,
    {
        // SAFETY: forwarded from the caller.
        let (task, notified, handle) = unsafe { spawn_unchecked_at(future, scheduler, spawned_at) };
        let index = hint & (self.num_shards() - 1);
        let shift = self.num_shards().trailing_zeros();
        let inserted = self.shard(index).lock().insert(task, |slot| {
            let key = (slot << shift) | index;
            if key & LOCAL_TAG != 0 {
                panic!("minirt: more than 2^31 live tasks in one owned-task list");
            }
            key
        });
        queue_or_cancel(inserted, notified, handle)
    }

    /// Takes `task` out of the list if it is listed here (what
    /// [`Schedule::release`] does); `None` if it is not.
    pub fn remove(&self, task: &Task<S>) -> Option<Task<S>> {
        // SAFETY: the key was written by `bind` before the task's first
        // `Notified` was queued; the queue's release/acquire publishes it to
        // the thread that polls and completes the task. Nobody writes it
        // afterwards.
        let key = unsafe { task.owner_key() };
        if key == NO_KEY {
            return None;
        }
        let key = key as usize;
        if key & LOCAL_TAG != 0 {
            return None;
        }
        let shift = self.num_shards().trailing_zeros();
        self.shard(key).lock().remove_slot(key >> shift, task)
    }

    /// Closes shard `index` (later binds into it cancel at once) and takes
    /// every task in it.
    pub fn close_and_drain(&self, index: usize) -> Vec<Task<S>> {
        self.shard(index).lock().close_and_drain()
    }

    /// Closes every shard and takes every task.
    pub fn close_all_and_drain(&self) -> Vec<Task<S>> {
        let mut tasks = Vec::new();
        for index in 0..self.num_shards() {
            tasks.extend(self.close_and_drain(index));
        }
        tasks
    }

    /// Calls `f` with what a task dump shows of each listed task, one shard
    /// at a time under that shard's lock (so `f` must not spawn onto, or
    /// complete a task of, this list). Tasks spawned or completed meanwhile
    /// may or may not be seen.
    pub fn for_each_info(&self, mut f: impl FnMut(TaskInfo)) {
        for index in 0..self.num_shards() {
            let shard = self.shard(index).lock();
            shard.tasks.for_each(|task| f(task.info()));
        }
    }

    /// Number of live tasks (adds up every shard).
    pub fn len(&self) -> usize {
        (0..self.num_shards())
            .map(|i| self.shard(i).lock().tasks.len())
            .sum()
    }

    /// Whether no task is listed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Every live task of an executor that lists them from one thread only; no
/// lock (the current-thread runtime's tasks, and local `!Send` tasks).
///
/// Keys it writes carry a tag bit, so an executor with both kinds of list
/// can offer a task to each: [`remove`](Self::remove) on the wrong one
/// declines (`None`) without touching anything.
///
/// It is `!Sync` (and `!Send`), so every method runs on the thread that owns
/// it; executors whose list must stay put behind a shared structure keep it
/// where only one thread at a time can reach it (and say why).
///
/// ```
/// use std::rc::Rc;
/// use minirt_core::task::{LocalOwnedTasks, Notified, Schedule, Task};
///
/// thread_local!(static LIST: LocalOwnedTasks<Inline> = LocalOwnedTasks::new());
///
/// struct Inline;
/// impl Schedule for Inline {
///     fn schedule(&self, task: Notified<Self>) { task.run() }
///     fn release(&self, task: &Task<Self>) -> Option<Task<Self>> {
///         LIST.with(|list| list.remove(task))
///     }
/// }
///
/// let shared = Rc::new(5); // not Send
/// let (notified, handle) = LIST.with(|list| {
///     // SAFETY: the task is run (here, inline) on this thread only.
///     unsafe { list.bind_unchecked(async move { *shared * 2 }, Inline) }
/// });
/// notified.unwrap().run();
/// assert!(handle.is_finished());
/// ```
pub struct LocalOwnedTasks<S: 'static> {
    shard: RefCell<Shard<S>>,
    _not_send: PhantomData<*const ()>,
}

impl<S: Schedule> Default for LocalOwnedTasks<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: Schedule> LocalOwnedTasks<S> {
    /// An empty list.
    pub const fn new() -> LocalOwnedTasks<S> {
        LocalOwnedTasks {
            shard: RefCell::new(Shard::new()),
            _not_send: PhantomData,
        }
    }

    /// Spawns `future` as a listed task; see [`OwnedTasks::bind`].
    ///
    /// # Safety
    ///
    /// As for [`spawn_unchecked`](super::spawn_unchecked): if the future is
    /// `!Send`, the executor runs, cancels and drops the task and its
    /// `Notified`s only on this list's thread.
    #[track_caller]
    pub unsafe fn bind_unchecked<F>(
        &self,
        future: F,
        scheduler: S,
    ) -> (Option<Notified<S>>, JoinHandle<F::Output>)
    where
        F: Future,
    {
        // SAFETY: forwarded from the caller.
        unsafe { self.bind_unchecked_at(future, scheduler, Location::caller()) }
    }

    /// [`bind_unchecked`](Self::bind_unchecked) with the spawn site given
    /// explicitly (see [`spawn_unchecked_at`]).
    ///
    /// # Safety
    ///
    /// As for [`bind_unchecked`](Self::bind_unchecked).
    #[inline]
    pub unsafe fn bind_unchecked_at<F>(
        &self,
        future: F,
        scheduler: S,
        spawned_at: &'static Location<'static>,
    ) -> (Option<Notified<S>>, JoinHandle<F::Output>)
    where
        F: Future,
    {
        // SAFETY: forwarded from the caller.
        let (task, notified, handle) = unsafe { spawn_unchecked_at(future, scheduler, spawned_at) };
        let inserted = self
            .shard
            .borrow_mut()
            .insert(task, |slot| slot | LOCAL_TAG);
        queue_or_cancel(inserted, notified, handle)
    }

    /// Takes `task` out if it is listed here; `None` if not.
    pub fn remove(&self, task: &Task<S>) -> Option<Task<S>> {
        // SAFETY: as in `OwnedTasks::remove`; this list's thread wrote it.
        let key = unsafe { task.owner_key() };
        if key == NO_KEY {
            return None;
        }
        let key = key as usize;
        if key & LOCAL_TAG == 0 {
            return None;
        }
        self.shard.borrow_mut().remove_slot(key & !LOCAL_TAG, task)
    }

    /// Closes the list (later binds cancel at once) and takes every task.
    pub fn close_and_drain(&self) -> Vec<Task<S>> {
        self.shard.borrow_mut().close_and_drain()
    }

    /// Calls `f` with what a task dump shows of each listed task; `f` must
    /// not spawn onto, or complete a task of, this list.
    pub fn for_each_info(&self, mut f: impl FnMut(TaskInfo)) {
        self.shard.borrow().tasks.for_each(|task| f(task.info()));
    }

    /// Number of live tasks.
    pub fn len(&self) -> usize {
        self.shard.borrow().tasks.len()
    }

    /// Whether no task is listed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
