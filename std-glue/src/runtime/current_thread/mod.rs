//! The current-thread scheduler: every task runs on the thread that calls
//! `block_on`. This is what `minirt::block_on` uses.
//!
//! # Queues
//!
//! - a **local queue** (`VecDeque`, no lock) for tasks woken on the runtime
//!   thread itself — the common case;
//! - a **remote queue** ([`NotifiedQueue`], lock-free) for tasks woken or
//!   spawned from other threads, which also unparks the runtime thread.
//!
//! Local (`!Send`) tasks live in a [`LocalSet`] per spawning thread and run
//! only there; see [`local_set`].
//!
//! # Who may touch `Local`
//!
//! `Local` (the local queue and the owned list of `Send` tasks spawned on
//! the runtime thread) is touched only by the thread that holds the *core*:
//! the one inside `block_on` (or dropping the runtime). Holding the core is
//! recorded in the thread-local `CORE_OF`; `core_taken` makes sure only one
//! thread can. The core holder waits through the runtime's
//! [`Driver`](crate::driver::Driver), which also runs its timers and moves a
//! mock clock.

mod dump;
mod local_set;

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::panic::Location;
use std::pin::pin;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::*};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use minirt_core::coop;
use minirt_core::task::{
    CellCache, CellCacheOwner, CellCacheRef, CellCaching, JoinHandle, LocalOwnedTasks, Notified,
    NotifiedQueue, OwnedTasks, PanicPayload, Schedule, Task,
};

use super::trace::{PollClock, Poller, Tracer};
use super::{PanicShutdown, Parts};
use crate::driver::{BlockOnThread, Driver, Sleeper};
use dump::DumpRequests;
use local_set::{LocalScheduler, LocalSet};

/// How many tasks run between two polls of the `block_on` future and two
/// looks at the remote queue, timers and I/O. Bounds how long a busy local
/// queue can delay remote wakes, timers and I/O (fairness) while keeping
/// per-task overhead low.
const EVENT_INTERVAL: u32 = 61;

/// Mixed into the seed of the `select!` generator, so that it does not walk
/// in step with the task-order generator.
const SELECT_SEED_SALT: u64 = 0x9E37_79B9_7F4A_7C15;

thread_local! {
    /// The scheduler whose core this thread holds, if any.
    static CORE_OF: Cell<*const Shared> = const { Cell::new(ptr::null()) };
}

/// State shared by the runtime, its handles and every task it spawned.
pub(crate) struct Shared {
    /// Names this runtime in each thread's registry of local sets. Unique
    /// for the life of the process: an address would not do, because a new
    /// runtime may be allocated where a dropped one was, and would then
    /// inherit that runtime's closed set (its local tasks cancelled at once).
    id: u64,
    /// Touched only by the core holder (see the module docs).
    local: RefCell<Local>,
    /// Tasks woken from other threads.
    remote: NotifiedQueue<Scheduler>,
    /// `Send` tasks spawned from other threads, until they complete.
    remote_owned: OwnedTasks<Scheduler>,
    /// The sets of local tasks, one per thread that spawned some; only
    /// closed at shutdown from here (see `local_set`).
    local_sets: Mutex<Vec<Arc<LocalSet>>>,
    /// Whether a thread holds the core.
    core_taken: AtomicBool,
    /// The waker of the `block_on` future of the core holder.
    main: Arc<MainWaker>,
    /// `main` as a `Waker`, made once: a `block_on` borrows it rather than
    /// cloning the `Arc` (two atomic read-modify-writes per call).
    main_waker: Waker,
    /// I/O, timers, the clock and the busy count.
    driver: Arc<Driver>,
    /// Set once shutdown began: spawns are cancelled at once.
    closed: AtomicBool,
    /// The `unhandled_panic` policy; when it fires the core holder cancels
    /// every task and `block_on` panics.
    on_panic: Arc<PanicShutdown>,
    /// Dumps' and the long-poll detector's state.
    tracer: Arc<Tracer>,
    /// The coarse clock of whichever thread holds the core.
    clock: PollClock,
    /// Dumps asked of the core holder by other threads.
    dumps: DumpRequests,
    /// Counters for `Runtime::metrics`.
    pub(crate) spawned: AtomicU64,
    pub(crate) polls: AtomicU64,
    pub(crate) parks: AtomicU64,
    /// The memory of finished tasks, for the next spawns; owned by the core
    /// holder (see `Scheduler::owned_cell_cache`).
    cells: CellCache,
}

// SAFETY: `local` is a RefCell (and holds a `!Sync` owned list), so not Sync
// by itself, but it is only accessed by the thread whose `CORE_OF` points at
// this `Shared`, and `core_taken` (Acquire on take, Release on give back)
// ensures one such thread at a time, with happens-before between successive
// holders. Everything in `Local` may move between core holders: it holds
// only `Send` tasks and, while a thread holds the core, entries of that
// thread's own local set, which `CoreGuard::drop` hands back to the set.
unsafe impl Sync for Shared {}
// SAFETY: as above; local (`!Send`) tasks are not in `Shared` but in their
// thread's `LocalSet`.
unsafe impl Send for Shared {}

/// The next task to run: a `Send` one, or a local one of the core holder's
/// thread. (Only ever on the stack: the queues hold plain `Notified`s, 8
/// bytes each.)
enum Runnable {
    Task(Notified<Scheduler>),
    Local(Notified<LocalScheduler>),
}

impl Runnable {
    fn run(self, poller: &Poller<'_>) {
        match self {
            Runnable::Task(task) => poller.run(task),
            Runnable::Local(task) => poller.run(task),
        }
    }
}

struct Local {
    queue: VecDeque<Notified<Scheduler>>,
    /// Runnable local tasks of the core holder's thread, taken from its
    /// set's queue; handed back to the set when the core is given back.
    local_queue: VecDeque<Notified<LocalScheduler>>,
    /// `Send` tasks spawned by the core holder.
    owned: LocalOwnedTasks<Scheduler>,
    /// The core holder's own local set on this runtime, if it has one.
    own_set: Option<Arc<LocalSet>>,
    tick: u32,
    /// Deterministic mode: xorshift state choosing which ready task runs
    /// next (`None`: FIFO).
    rng: Option<u64>,
    /// Deterministic mode: xorshift state choosing where each `select!`
    /// starts polling; apart from `rng`, so selects leave the task order
    /// as it would be without them.
    select_rng: Option<u64>,
}

impl Local {
    /// The next task: FIFO, taking turns between the two queues, or (seeded
    /// mode) a random one of either.
    fn pop(&mut self) -> Option<Runnable> {
        let (sendable, local) = (self.queue.len(), self.local_queue.len());
        if sendable + local == 0 {
            return None;
        }
        let take_local = match &mut self.rng {
            None => local > 0 && (sendable == 0 || self.tick % 2 == 1),
            Some(rng) => {
                *rng ^= *rng << 13;
                *rng ^= *rng >> 7;
                *rng ^= *rng << 17;
                let index = (*rng % (sendable + local) as u64) as usize;
                if index >= sendable {
                    return self
                        .local_queue
                        .swap_remove_front(index - sendable)
                        .map(Runnable::Local);
                }
                return self.queue.swap_remove_front(index).map(Runnable::Task);
            }
        };
        if take_local {
            self.local_queue.pop_front().map(Runnable::Local)
        } else {
            self.queue.pop_front().map(Runnable::Task)
        }
    }
}

/// Wakes the `block_on` future: a flag plus an unpark.
struct MainWaker {
    woken: AtomicBool,
    driver: Arc<Driver>,
}

impl Wake for MainWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        if !self.woken.swap(true, AcqRel) {
            self.driver.unpark();
        }
    }
}

/// The [`Schedule`] value stored in each `Send` task.
pub(crate) struct Scheduler(Arc<Shared>);

impl Schedule for Scheduler {
    /// One cache, owned by whichever thread holds the core: spawning on
    /// the runtime's thread reuses the cells of finished tasks.
    const CELL_CACHING: CellCaching = CellCaching::One;

    fn schedule(&self, task: Notified<Self>) {
        self.0.schedule(task);
    }

    #[inline]
    fn owned_cell_cache(&self) -> Option<(CellCacheOwner<'_>, u8)> {
        // SAFETY: one thread at a time holds the core (`core_taken`, taken
        // with acquire and given back with release ordering, so the lists
        // pass from one holder to the next), and only it sees its `CORE_OF`
        // pointing here.
        self.0
            .is_core_thread()
            .then(|| (unsafe { self.0.cells.owner() }, 0))
    }

    #[inline]
    fn cell_cache(&self, _tag: u8) -> Option<CellCacheRef<'_>> {
        Some(match self.owned_cell_cache() {
            Some((owner, _)) => CellCacheRef::Owner(owner),
            None => CellCacheRef::Remote(&self.0.cells),
        })
    }

    #[inline]
    fn task_id(&self) -> u64 {
        crate::runtime::trace::next_task_id()
    }

    fn release(&self, task: &Task<Self>) -> Option<Task<Self>> {
        // Tasks complete on the core holder; each list declines the keys of
        // the other.
        self.0
            .with_local(|local| local.owned.remove(task))
            .flatten()
            .or_else(|| self.0.remote_owned.remove(task))
    }

    fn unwind<R>(&self, f: impl FnOnce() -> R) -> Result<R, PanicPayload> {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
    }

    /// Tasks run on the core holder, which sees the flag as soon as this
    /// poll returns (`CoreGuard::block_on`); other `block_on` threads are
    /// woken by the policy's `Notify`.
    fn unhandled_panic(&self) {
        if self.0.on_panic.on_task_panic() {
            self.0.driver.unpark();
        }
    }
}

impl Shared {
    pub(crate) fn new(parts: Parts, seed: Option<u64>) -> Arc<Shared> {
        let driver = parts.driver;
        let on_panic = parts.on_panic;
        let tracer = parts.tracer;
        /// The next runtime's `id`; 2^64 runtimes outlast any process.
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        let main = Arc::new(MainWaker {
            woken: AtomicBool::new(false),
            driver: driver.clone(),
        });
        Arc::new(Shared {
            id: NEXT_ID.fetch_add(1, Relaxed),
            local: RefCell::new(Local {
                queue: VecDeque::with_capacity(64),
                local_queue: VecDeque::new(),
                owned: LocalOwnedTasks::new(),
                own_set: None,
                tick: 0,
                rng: seed.map(|s| s | 1),
                select_rng: seed.map(|s| crate::select::xorshift(s ^ SELECT_SEED_SALT | 1)),
            }),
            remote: NotifiedQueue::new(),
            remote_owned: OwnedTasks::with_one_shard(),
            local_sets: Mutex::new(Vec::new()),
            core_taken: AtomicBool::new(false),
            main: main.clone(),
            main_waker: Waker::from(main),
            driver,
            closed: AtomicBool::new(false),
            on_panic,
            tracer,
            clock: PollClock::new(),
            dumps: DumpRequests::default(),
            spawned: AtomicU64::new(0),
            polls: AtomicU64::new(0),
            parks: AtomicU64::new(0),
            cells: CellCache::new(),
        })
    }

    /// Runs `f` on `Local` if this thread holds the core.
    fn with_local<R>(&self, f: impl FnOnce(&mut Local) -> R) -> Option<R> {
        if self.is_core_thread() {
            Some(f(&mut self.local.borrow_mut()))
        } else {
            None
        }
    }

    /// The next number of the seeded `select!` generator, if the runtime is
    /// seeded and this thread drives it; `None` tells the caller to use its
    /// thread's generator.
    pub(crate) fn next_select_random(&self) -> Option<u64> {
        if !self.is_core_thread() {
            return None;
        }
        let mut local = self.local.try_borrow_mut().ok()?;
        let state = local.select_rng.as_mut()?;
        *state = crate::select::xorshift(*state);
        Some(*state)
    }

    /// Whether the calling thread holds this runtime's core.
    #[inline]
    pub(crate) fn is_core_thread(&self) -> bool {
        std::ptr::eq(CORE_OF.with(|c| c.get()), self)
    }

    fn schedule(&self, task: Notified<Scheduler>) {
        if let Some(task) = self.try_push_local(task) {
            // Not on the runtime thread (or the runtime is shutting down).
            self.remote.push(task);
            self.driver.unpark();
        }
    }

    fn try_push_local(&self, task: Notified<Scheduler>) -> Option<Notified<Scheduler>> {
        if !self.is_core_thread() {
            return Some(task);
        }
        // `try_borrow_mut` fails only during shutdown's queue drain, where
        // the remote queue is drained too.
        match self.local.try_borrow_mut() {
            Ok(mut local) => {
                local.queue.push_back(task);
                None
            }
            Err(_) => Some(task),
        }
    }

    /// Spawns a `Send` future, which may borrow non-`'static` data.
    ///
    /// # Safety
    ///
    /// As for `multi_thread::Shared::spawn_unchecked`.
    pub(crate) unsafe fn spawn_unchecked<F>(
        self: &Arc<Self>,
        future: F,
        at: &'static Location<'static>,
    ) -> JoinHandle<F::Output>
    where
        F: Future + Send,
        F::Output: Send,
    {
        self.spawned.fetch_add(1, Relaxed);
        let scheduler = Scheduler(self.clone());
        if self.is_core_thread() {
            let mut local = self.local.borrow_mut();
            // SAFETY: `F` and its output are `Send`, the lifetime obligation
            // is the caller's; the list is touched only by the core holder.
            let (notified, handle) =
                unsafe { local.owned.bind_unchecked_at(future, scheduler, at) };
            if let Some(notified) = notified {
                local.queue.push_back(notified);
            }
            return handle;
        }
        // SAFETY: as above; the remote list is shared and locked.
        let (notified, handle) = unsafe {
            self.remote_owned
                .bind_unchecked_at(future, scheduler, 0, at)
        };
        if let Some(notified) = notified {
            self.remote.push(notified);
            self.driver.unpark();
        }
        handle
    }

    /// Spawns a `!Send` future into the calling thread's local set.
    ///
    /// # Panics
    ///
    /// If the calling thread does not hold the core.
    #[track_caller]
    pub(crate) fn spawn_local<F>(
        self: &Arc<Self>,
        future: F,
        at: &'static Location<'static>,
    ) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        assert!(
            self.is_core_thread(),
            "minirt::spawn_local must be called from the thread running the current-thread \
             runtime (inside its block_on)"
        );
        self.spawned.fetch_add(1, Relaxed);
        let set = self.own_set();
        set.spawn(future, at)
    }

    /// The core holder's local set, created on first use.
    fn own_set(self: &Arc<Self>) -> Arc<LocalSet> {
        let existing = self.with_local(|l| l.own_set.clone()).flatten();
        if let Some(set) = existing {
            return set;
        }
        let set = LocalSet::create(self.id, self.driver.clone(), self.on_panic.clone());
        let mut sets = self.local_sets.lock().unwrap_or_else(|e| e.into_inner());
        if self.closed.load(Acquire) {
            set.close();
        }
        sets.push(set.clone());
        drop(sets);
        self.with_local(|l| l.own_set = Some(set.clone()));
        set
    }

    /// Drives `future` to completion on this thread, running tasks.
    pub(crate) fn block_on<F: Future>(self: &Arc<Self>, future: F) -> F::Output {
        self.drive(future, Panics::Unwind)
    }

    /// [`block_on`](Self::block_on) for a sync-boundary scope's owner waiting
    /// for its children: runs the tasks if no other thread does, but never
    /// unwinds for `unhandled_panic(ShutdownRuntime)` (the children borrow
    /// from the owner's stack, so it must not return before they are gone;
    /// the next `block_on` applies the policy).
    pub(crate) fn drive_scope_owner<F: Future>(self: &Arc<Self>, future: F) -> F::Output {
        self.drive(future, Panics::Defer)
    }

    fn drive<F: Future>(self: &Arc<Self>, future: F, panics: Panics) -> F::Output {
        let mut future = pin!(future);
        loop {
            if let Some(core) = CoreGuard::take(self) {
                return core.block_on(future, panics);
            }
            // Another thread drives the tasks; drive just our future, and
            // retry taking the core now and then in case it is released.
            // Virtual time is the core holder's to move (`has_work` = true).
            let thread = BlockOnThread::new(&self.driver);
            let mut cx = Context::from_waker(thread.waker());
            let watch = self.on_panic.watch();
            let mut watch = pin!(watch);
            loop {
                super::unhandled_panic::poll_watch(
                    &self.on_panic,
                    &mut watch.as_mut().as_pin_mut(),
                    &mut cx,
                );
                if let Poll::Ready(out) = coop::budget(|| future.as_mut().poll(&mut cx)) {
                    // A task that panicked on another thread may be what made
                    // the future ready (its `JoinHandle`): the policy is set
                    // before the task completes, so this check sees it.
                    if panics == Panics::Unwind {
                        self.on_panic.check();
                    }
                    return out;
                }
                if !self.core_taken.load(Acquire) {
                    break;
                }
                thread.park(
                    &self.driver.blocking,
                    Some(Duration::from_millis(1)),
                    &|| true,
                );
            }
        }
    }

    /// Cancels every task and empties the queues. Called once, by the
    /// runtime's `Drop`, from any thread.
    pub(crate) fn shutdown(self: &Arc<Self>) {
        // Step 1: no new local sets from now on (`own_set` checks this
        // flag); the owned lists close as they are drained below, and a
        // list that is closed cancels what is bound into it.
        self.closed.store(true, Release);
        // Dropping needs the `Runtime` by value, so no `block_on` can be
        // running on it; the core is free, or held for a moment by a dump
        // reading the list (`DumpCore`).
        let _core = loop {
            match CoreGuard::take(self) {
                Some(core) => break core,
                None => std::thread::yield_now(),
            }
        };
        self.cancel_all();
    }

    /// Steps 2–4 of shutdown: cancels every task and empties the queues.
    /// The calling thread holds the core and has set `closed`.
    fn cancel_all(self: &Arc<Self>) {
        debug_assert!(self.is_core_thread() && self.closed.load(Acquire));
        // Step 2: local sets. This thread's own set is cancelled here; the
        // sets of other threads cannot be (their futures must not be dropped
        // here): they are closed, and their own thread cancels them when it
        // exits (see `local_set`).
        let sets = std::mem::take(&mut *self.local_sets.lock().unwrap_or_else(|e| e.into_inner()));
        let own = self.with_local(|l| l.own_set.clone()).flatten();
        for set in &sets {
            set.close();
        }
        // Step 3: cancel every live `Send` task on this thread; their
        // destructors may wake or spawn others, which the loop absorbs.
        loop {
            if let Some(set) = &own {
                set.close_and_cancel_here();
            }
            let mut tasks: Vec<Task<Scheduler>> = self
                .with_local(|l| l.owned.close_and_drain())
                .unwrap_or_default();
            tasks.extend(self.remote_owned.close_all_and_drain());
            // Step 4: drop queued entries (they refer to completed tasks, or
            // will once step 3 finishes).
            let (queued, local_queued) = self
                .with_local(|l| {
                    (
                        std::mem::take(&mut l.queue),
                        std::mem::take(&mut l.local_queue),
                    )
                })
                .unwrap_or_default();
            let remote = self.remote.take_all();
            let idle = tasks.is_empty() && queued.is_empty() && local_queued.is_empty();
            for task in tasks {
                task.shutdown();
            }
            drop(queued);
            drop(local_queued);
            let remote_empty = remote.count() == 0;
            if idle && remote_empty {
                break;
            }
        }
    }
}

/// Whether a `block_on` applies `unhandled_panic(ShutdownRuntime)` by
/// unwinding (see [`Shared::drive_scope_owner`] for the one that defers).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Panics {
    Unwind,
    Defer,
}

/// Proof that this thread holds the core; gives it back on drop.
struct CoreGuard<'a> {
    shared: &'a Arc<Shared>,
    prev: *const Shared,
    /// Busy units adopted from the work running on this thread (a blocking
    /// job calling `Handle::block_on`; see `Busy::acquire_adopting`).
    adopted: usize,
}

impl<'a> CoreGuard<'a> {
    #[inline]
    fn take(shared: &'a Arc<Shared>) -> Option<CoreGuard<'a>> {
        if shared.core_taken.swap(true, Acquire) {
            return None;
        }
        let prev = CORE_OF.with(|c| c.replace(Arc::as_ptr(shared)));
        // The core holder is awake: it holds a unit of the busy count until
        // it parks or gives the core back.
        let adopted = shared.driver.busy.acquire_adopting();
        if let Some(set) = LocalSet::of_this_thread(shared.id) {
            shared.local.borrow_mut().own_set = Some(set);
        }
        Some(CoreGuard {
            shared,
            prev,
            adopted,
        })
    }

    fn block_on<F: Future>(&self, mut future: std::pin::Pin<&mut F>, panics: Panics) -> F::Output {
        let shared = self.shared;
        let mut cx = Context::from_waker(&shared.main_waker);
        // The first round polls the future without a wake-up; later rounds
        // only after one (a plain store here saves the swap's
        // read-modify-write on every `block_on` of a ready future).
        shared.main.woken.store(false, Relaxed);
        let mut woken = true;
        // The coarse clock is read before the first task this call polls
        // (not on entry: a `block_on` of a ready future polls no task, and
        // must not pay for a clock read).
        let mut ticked = false;
        loop {
            if panics == Panics::Unwind {
                self.stop_if_a_task_panicked();
            }
            if std::mem::take(&mut woken) || shared.main.woken.swap(false, AcqRel) {
                // Like a task poll: a fresh budget, so the `block_on` future
                // cannot starve the tasks by looping on ready futures.
                if let Poll::Ready(out) = coop::budget(|| future.as_mut().poll(&mut cx)) {
                    return out;
                }
            }
            let ran = self.run_tasks(&mut ticked);
            if shared.dumps.wanted.load(Relaxed) {
                shared.answer_dump();
            }
            if ran == 0 && !shared.main.woken.load(Acquire) {
                shared.parks.fetch_add(1, Relaxed);
                // Going idle: take in the cells other threads freed, so
                // they are not held beyond the cache's bound for long.
                // SAFETY: we hold the core (see `owned_cell_cache`).
                unsafe { shared.cells.owner() }.drain_remote();
                let sleeper = Sleeper {
                    id: 0,
                    parker: None,
                };
                let now = shared.driver.park(&sleeper, &|| self.has_work());
                shared.clock.set(now);
            } else if ran == EVENT_INTERVAL {
                // Busy: still look at timers and I/O (without sleeping).
                let now = shared.driver.maintain();
                shared.clock.set(now);
            }
        }
    }

    /// `unhandled_panic(ShutdownRuntime)` fired: shut down now (cancel every
    /// task, close the lists so later spawns are dropped at once), then
    /// panic out of `block_on`. Checked before each round, so the round
    /// after the panicking poll is the last.
    #[track_caller]
    #[inline]
    fn stop_if_a_task_panicked(&self) {
        if self.shared.on_panic.is_triggered() {
            self.stop_after_a_task_panic();
        }
    }

    /// The rare half of [`stop_if_a_task_panicked`](Self::stop_if_a_task_panicked),
    /// out of line so that the check on every round stays a load and a
    /// branch.
    #[track_caller]
    #[cold]
    #[inline(never)]
    fn stop_after_a_task_panic(&self) {
        let shared = self.shared;
        shared.closed.store(true, Release);
        shared.cancel_all();
        shared.on_panic.check();
    }

    /// Whether anything is ready to run: the driver asks before it lets a
    /// mock clock move.
    fn has_work(&self) -> bool {
        let shared = self.shared;
        !shared.remote.is_empty()
            || shared.main.woken.load(Acquire)
            || shared
                .with_local(|l| {
                    !l.queue.is_empty()
                        || !l.local_queue.is_empty()
                        || l.own_set.as_ref().is_some_and(|s| !s.queue.is_empty())
                })
                .unwrap_or(false)
    }

    /// Runs up to `EVENT_INTERVAL` tasks; returns how many ran. Refreshes
    /// the coarse clock before the first task unless `ticked`.
    fn run_tasks(&self, ticked: &mut bool) -> u32 {
        let shared = self.shared;
        let mut ran = 0;
        while ran < EVENT_INTERVAL {
            let next = shared.with_local(|local| {
                local.tick = local.tick.wrapping_add(1);
                if local.queue.is_empty() || local.tick % EVENT_INTERVAL == 0 {
                    local.queue.extend(shared.remote.take_all());
                    if let Some(set) = &local.own_set {
                        local.local_queue.extend(set.queue.take_all());
                    }
                }
                local.pop()
            });
            let Some(task) = next.flatten() else { break };
            if !*ticked {
                shared.clock.set(shared.driver.time.clock.now_tick());
                *ticked = true;
            }
            task.run(&shared.tracer.poller(0, shared.clock.get()));
            ran += 1;
        }
        shared.polls.fetch_add(u64::from(ran), Relaxed);
        ran
    }
}

impl Drop for CoreGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        let shared = self.shared;
        // Local tasks of this thread still queued go back to their set, so
        // the next core holder (maybe another thread) never sees them.
        if LocalSet::this_thread_owns_any() {
            if let Ok(mut local) = shared.local.try_borrow_mut() {
                if let Some(set) = local.own_set.take() {
                    for task in std::mem::take(&mut local.local_queue) {
                        set.queue.push(task);
                    }
                }
            }
        }
        CORE_OF.with(|c| c.set(self.prev));
        shared.driver.busy.release_adopted(self.adopted, true);
        shared.core_taken.store(false, Release);
    }
}
