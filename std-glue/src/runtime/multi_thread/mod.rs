//! The work-stealing multi-thread scheduler.
//!
//! # Queues
//!
//! Each worker owns a `crossbeam_deque::Worker` (FIFO) and a **LIFO slot**;
//! the others can steal from its deque (never from its slot). Spawns and
//! wakes from outside the runtime go to a shared `Injector`.
//!
//! - **LIFO slot.** A task woken (or spawned) by the running task goes into
//!   the slot, and runs right after the current poll — the message-passing
//!   case, where the receiver should run while the message is hot in cache.
//!   The task it displaces goes to the back of the deque. **Bound:** a
//!   worker runs at most [`MAX_LIFO_POLLS`] tasks in a row from the slot;
//!   the next one is moved to the deque, so two tasks ping-ponging cannot
//!   starve the rest of the queue.
//! - **Fairness.** Every [`INJECTOR_INTERVAL`]-th task is taken from the
//!   injector first even when the local deque has work, so remote spawns and
//!   wakes are not starved by a busy worker.
//! - **Stealing.** An idle worker becomes a *searcher* (at most half of the
//!   workers search at once), starts at a random victim, and steals half of
//!   its deque in one batch (`steal_batch_and_pop`); then the injector.
//! - **Parking.** See [`idle`] for the protocol and why no wake-up is lost.
//!
//! # Shutdown protocol
//!
//! 1. `Runtime::drop` sets `closed` and unparks every worker.
//! 2. A worker that sees `closed` leaves its run loop; it then closes and
//!    drains its share of the owned-task shards (shard `i` for every
//!    `i % workers == index`) and calls `Task::shutdown` on each task: idle
//!    tasks are dropped right there, on a worker thread; a task being polled
//!    by another worker is dropped by that worker when its poll returns.
//! 3. It drops its LIFO slot and deque entries, and repeats 2–3 until both
//!    are empty (destructors may wake or spawn tasks; spawns into a closed
//!    shard are cancelled on the spot).
//! 4. `Runtime::drop` joins the workers (unless it runs on one of them — it
//!    then only signals, since a thread cannot join itself), and drops what
//!    is left in the injector: by then every entry refers to a completed
//!    task.
//! 5. Finally the blocking pool waits for running closures (bounded by
//!    `shutdown_timeout`).

mod idle;
mod queue;
mod worker;
#[cfg(all(test, minirt_loom))]
mod worker_loom;

use std::future::Future;
use std::panic::Location;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering::*};
use std::sync::Arc;
use std::task::{Context, Poll};

use minirt_core::coop;
use minirt_core::task::{
    CellCache, CellCacheOwner, CellCacheRef, CellCaching, JoinHandle, Notified, OwnedTasks,
    PanicPayload, Schedule, Task,
};

use super::builder::Builder;
use super::trace::{DumpBuilder, Tracer};
use super::Handle;
use super::{Dump, TaskKind};
use super::{PanicShutdown, Parts};
use crate::driver::{BlockOnThread, Driver};
// The counters stay std atomics: written by one thread, never used to
// synchronize, so loom versions would only multiply its interleavings.
use crate::loom::atomic::AtomicBool;
use crate::loom::{parking, thread};
use idle::Idle;
use queue::{Injector, Stealer, Worker};

/// At most this many tasks run in a row from a worker's LIFO slot.
pub(crate) const MAX_LIFO_POLLS: u32 = 3;

/// Every this-many ticks a worker takes from the injector first. Prime, so
/// it does not fall into step with other periodic work.
pub(crate) const INJECTOR_INTERVAL: u32 = 61;

/// State shared by the workers, the runtime, handles and tasks.
pub(crate) struct Shared {
    injector: Injector<Notified<Scheduler>>,
    stealers: Box<[Stealer<Notified<Scheduler>>]>,
    unparkers: Box<[parking::Unparker]>,
    idle: Idle,
    /// Every live task, sharded (see `minirt_core::task::OwnedTasks`).
    owned: OwnedTasks<Scheduler>,
    /// Set at shutdown (step 1), or when `on_panic` fires.
    closed: AtomicBool,
    /// The `unhandled_panic` policy.
    on_panic: Arc<PanicShutdown>,
    /// Per-worker counters, written only by their worker.
    pub(crate) worker_metrics: Box<[WorkerMetrics]>,
    /// Tasks spawned from outside the workers; also rotates those spawns
    /// over the owned-task shards.
    pub(crate) remote_spawns: RemoteSpawns,
    /// I/O, timers, the clock and the busy count: every idle worker and
    /// `block_on` thread waits through it.
    driver: Arc<Driver>,
    /// Dumps' and the long-poll detector's state.
    pub(crate) tracer: Arc<Tracer>,
    /// Each worker's cache of task memory, for its next spawns (see
    /// `Scheduler::owned_cell_cache`).
    cells: Box<[WorkerCells]>,
}

/// One worker's cell cache, on cache lines of its own: other workers push
/// the cells they free onto its stack, while its owner pops from its lists.
#[repr(align(128))]
struct WorkerCells(CellCache);

/// Counters of one worker. Only that worker writes them (load + store, no
/// read-modify-write), so they cost a plain store on the hot path — as long
/// as no other worker's counters share the cache line, hence the alignment
/// (128 bytes: adjacent-line prefetching pairs 64-byte lines on x86).
/// Without it, two workers bumping their own counters made `yield_many_mt`
/// bimodal (9 ms or 14 ms per run, depending on where the allocation fell).
#[derive(Default)]
#[repr(align(128))]
pub(crate) struct WorkerMetrics {
    pub(crate) spawned: AtomicU64,
    pub(crate) polls: AtomicU64,
    pub(crate) steals: AtomicU64,
    pub(crate) parks: AtomicU64,
    pub(crate) lifo_hits: AtomicU64,
}

/// The count of spawns from outside the workers, on a cache line of its
/// own: a thread spawning in a loop writes it on every spawn, while the
/// workers read `Shared`'s other fields (stealers, unparkers, the owned
/// list, the driver) on every poll.
#[repr(align(128))]
pub(crate) struct RemoteSpawns(pub(crate) AtomicU64);

/// Adds `by` to a counter only its worker writes; returns the old value.
fn bump(counter: &AtomicU64, by: u64) -> u64 {
    let old = counter.load(Relaxed);
    counter.store(old.wrapping_add(by), Relaxed);
    old
}

/// Why a task is queued again; decides where it goes on its worker.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reschedule {
    /// Woken (or spawned): the LIFO slot.
    Woken,
    /// It yielded: the back of the deque, and maybe wake a sleeper to help.
    Yielded,
    /// Its cooperative budget ran out: the back of the deque, waking nobody
    /// (this worker is awake and runs it after the others).
    BudgetSpent,
}

/// The [`Schedule`] value stored in each task.
pub(crate) struct Scheduler(Arc<Shared>);

impl Schedule for Scheduler {
    /// Workers poll neighbouring tasks on different threads.
    const ISOLATE_TASKS: bool = true;

    /// One cache per worker: a task stolen and finished by another worker
    /// goes back to the one that spawned it, which reuses the memory
    /// (rather than glibc's `free` taking that worker's arena lock).
    const CELL_CACHING: CellCaching = CellCaching::PerThread;

    #[inline]
    fn owned_cell_cache(&self) -> Option<(CellCacheOwner<'_>, u8)> {
        let index = worker::current_index(&self.0)?;
        let tag = u8::try_from(index).ok().filter(|&tag| tag != u8::MAX)?;
        // SAFETY: worker `index` is one thread for the runtime's whole
        // life (spawned once in `Runtime::new`), and only that thread sees
        // its `WORKER` context with this index and runtime.
        Some((unsafe { self.0.cells[index].0.owner() }, tag))
    }

    #[inline]
    fn cell_cache(&self, tag: u8) -> Option<CellCacheRef<'_>> {
        let cache = &self.0.cells.get(usize::from(tag))?.0;
        Some(
            if worker::current_index(&self.0) == Some(usize::from(tag)) {
                // SAFETY: as in `owned_cell_cache`: we are worker `tag`.
                CellCacheRef::Owner(unsafe { cache.owner() })
            } else {
                CellCacheRef::Remote(cache)
            },
        )
    }

    fn schedule(&self, task: Notified<Self>) {
        self.0.schedule(task, Reschedule::Woken);
    }

    fn yield_now(&self, task: Notified<Self>) {
        self.0.schedule(task, Reschedule::Yielded);
    }

    fn yield_spent(&self, task: Notified<Self>) {
        self.0.schedule(task, Reschedule::BudgetSpent);
    }

    fn release(&self, task: &Task<Self>) -> Option<Task<Self>> {
        self.0.owned.remove(task)
    }

    #[inline]
    fn task_id(&self) -> u64 {
        crate::runtime::trace::next_task_id()
    }

    fn unwind<R>(&self, f: impl FnOnce() -> R) -> Result<R, PanicPayload> {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
    }

    /// Under `ShutdownRuntime`, the first panic starts step 1 of the
    /// shutdown protocol right here: the workers leave their loops and
    /// cancel every task (steps 2–3); the `block_on` threads, woken by the
    /// policy's `Notify`, panic. `Runtime::drop` later does step 4.
    fn unhandled_panic(&self) {
        if self.0.on_panic.on_task_panic() {
            self.0.close_and_unpark_workers();
        }
    }
}

/// The threads of a running multi-thread runtime.
pub(crate) struct Workers {
    threads: Vec<thread::JoinHandle<()>>,
}

impl Shared {
    /// Starts the workers. `make_handle` builds the handle each worker makes
    /// current (it refers back to the returned `Shared`).
    pub(crate) fn start(
        builder: &Builder,
        parts: Parts,
        make_handle: impl FnOnce(Arc<Shared>) -> Handle,
    ) -> std::io::Result<(Handle, Arc<Shared>, Workers)> {
        let n = builder.worker_threads.expect("validated by Builder");
        let locals: Vec<Worker<Notified<Scheduler>>> = (0..n).map(|_| Worker::new_fifo()).collect();
        let parkers: Vec<(parking::Parker, parking::Unparker)> =
            (0..n).map(|_| parking::pair()).collect();
        let shared = Arc::new(Shared {
            injector: Injector::new(),
            stealers: locals.iter().map(Worker::stealer).collect(),
            unparkers: parkers.iter().map(|(_, u)| u.clone()).collect(),
            idle: Idle::new(n),
            owned: OwnedTasks::with_shards(n * 4),
            closed: AtomicBool::new(false),
            on_panic: parts.on_panic,
            worker_metrics: (0..n).map(|_| WorkerMetrics::default()).collect(),
            remote_spawns: RemoteSpawns(AtomicU64::new(0)),
            cells: (0..n).map(|_| WorkerCells(CellCache::new())).collect(),
            driver: parts.driver,
            tracer: parts.tracer,
        });
        let handle = make_handle(shared.clone());
        let mut threads = Vec::with_capacity(n);
        for (index, (local, (parker, _))) in locals.into_iter().zip(parkers).enumerate() {
            let mut thread =
                thread::Builder::new().name(format!("{}-{index}", builder.thread_name));
            if let Some(size) = builder.thread_stack_size {
                thread = thread.stack_size(size);
            }
            let handle = handle.clone();
            let start = builder.on_thread_start.clone();
            let stop = builder.on_thread_stop.clone();
            let spawned = thread.spawn(move || {
                // A panicking hook is caught (and reported by the panic
                // hook): the worker still runs, and still exits cleanly.
                crate::blocking::worker::run_hook(start.as_ref());
                worker::run(handle, index, local, parker);
                crate::blocking::worker::run_hook(stop.as_ref());
            });
            match spawned {
                Ok(t) => threads.push(t),
                Err(e) => {
                    // Stop the workers already started before failing.
                    Workers { threads }.shutdown(&shared);
                    return Err(e);
                }
            }
        }
        Ok((handle, shared, Workers { threads }))
    }

    pub(crate) fn num_workers(&self) -> usize {
        self.stealers.len()
    }

    pub(crate) fn injector_depth(&self) -> usize {
        self.injector.len()
    }

    /// Spawns a `Send` future, which may borrow non-`'static` data.
    ///
    /// # Safety
    ///
    /// The task must be completed or shut down, and its output taken or
    /// dropped, before anything the future borrows is invalidated (see
    /// `minirt_core::task::spawn_unchecked`). Scopes guarantee this.
    pub(crate) unsafe fn spawn_unchecked<F>(
        self: &Arc<Self>,
        future: F,
        at: &'static Location<'static>,
    ) -> JoinHandle<F::Output>
    where
        F: Future + Send,
        F::Output: Send,
    {
        let hint = self.shard_hint();
        // SAFETY: `F` and its output are `Send`; the lifetime obligation is
        // the caller's.
        let (notified, handle) = unsafe {
            self.owned
                .bind_unchecked_at(future, Scheduler(self.clone()), hint, at)
        };
        // `None`: shutting down, the task was cancelled at once.
        if let Some(notified) = notified {
            self.schedule(notified, Reschedule::Woken);
        }
        handle
    }

    /// A snapshot of every live task: the owned-task shards are locked (one
    /// at a time), so this works from any thread and sees every task.
    pub(crate) fn dump(&self) -> Dump {
        let mut dump = DumpBuilder::new(&self.tracer, &self.driver, "multi_thread");
        self.owned
            .for_each_info(|info| dump.push(info, TaskKind::Send));
        dump.finish(&self.driver)
    }

    /// Which owned-task shard a new task goes to (counting the spawn).
    fn shard_hint(&self) -> usize {
        let worker = worker::current_index(self);
        match worker {
            Some(index) => {
                // Consecutive spawns of one worker go to different shards:
                // the tasks often complete on another worker (stolen), and
                // one shard for all of them had the spawner's inserts and
                // the other worker's removes fight over one lock.
                let n = bump(&self.worker_metrics[index].spawned, 1);
                (n as usize).wrapping_mul(self.num_workers()) + index
            }
            None => self.remote_spawns.0.fetch_add(1, Relaxed) as usize,
        }
    }

    /// Queues a woken task: into the current worker's LIFO slot (or deque,
    /// for a yield) when called on one of our workers, else the injector.
    fn schedule(&self, task: Notified<Scheduler>, why: Reschedule) {
        let task = match worker::try_schedule_local(self, task, why) {
            Ok(()) => return,
            Err(task) => task,
        };
        self.injector.push(task);
        self.notify_parked();
    }

    /// Wakes a sleeping worker if one should search for the new work.
    pub(crate) fn notify_parked(&self) {
        if let Some(index) = self.idle.worker_to_notify() {
            self.unpark_worker(index);
        }
    }

    /// Wakes worker `index` wherever it sleeps: on its parker, or in the
    /// driver's poller.
    fn unpark_worker(&self, index: usize) {
        self.driver.unpark_sleeper(index, &self.unparkers[index]);
    }

    /// Whether any queue other workers can take from has work.
    fn has_stealable_work(&self) -> bool {
        !self.injector.is_empty() || self.stealers.iter().any(|s| !s.is_empty())
    }

    /// Runs `future` on the calling (non-worker) thread; tasks run on the
    /// workers meanwhile. The thread waits through the driver, which may
    /// move a mock clock when it and every worker are idle.
    pub(crate) fn block_on<F: Future>(&self, future: F) -> F::Output {
        let thread = BlockOnThread::new(&self.driver);
        let mut cx = Context::from_waker(thread.waker());
        let mut future = pin!(future);
        let watch = self.on_panic.watch();
        let mut watch = pin!(watch);
        loop {
            super::unhandled_panic::poll_watch(
                &self.on_panic,
                &mut watch.as_mut().as_pin_mut(),
                &mut cx,
            );
            // Like a task poll: a fresh budget, so a loop over always-ready
            // futures inside `block_on` yields now and then.
            if let Poll::Ready(out) = coop::budget(|| future.as_mut().poll(&mut cx)) {
                // A task that panicked on another thread may be what made
                // the future ready (its `JoinHandle`): the policy is set
                // before the task completes, so this check sees it.
                self.on_panic.check();
                return out;
            }
            thread.park(&self.driver.blocking, None, &|| self.has_stealable_work());
        }
    }

    /// Step 1 of the shutdown protocol.
    fn close_and_unpark_workers(&self) {
        self.closed.store(true, SeqCst);
        for index in 0..self.unparkers.len() {
            self.unpark_worker(index);
        }
    }
}

impl Workers {
    /// Steps 1 and 4 of the shutdown protocol (see the module docs).
    pub(crate) fn shutdown(self, shared: &Arc<Shared>) {
        shared.close_and_unpark_workers();
        let me = thread::current().id();
        for t in self.threads {
            if t.thread().id() == me {
                // Dropped from inside one of its own workers: that worker
                // finishes its shutdown steps when the current task returns.
                continue;
            }
            let _ = t.join();
        }
        // Every task is complete now; the entries left refer to nothing live.
        while !shared.injector.is_empty() {
            let _ = shared.injector.steal();
        }
        debug_assert!(
            worker::current_index(shared).is_some() || shared.owned.is_empty(),
            "tasks survived shutdown"
        );
    }
}
