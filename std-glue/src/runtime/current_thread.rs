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
//! # Who may touch `Local`
//!
//! `Local` (the local queue, the owned-task list and the parking driver) is
//! touched only by the thread that holds the *core*: the one inside
//! `block_on` (or dropping the runtime). Holding the core is recorded in the
//! thread-local `CORE_OF`; `core_taken` makes sure only one thread can.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::pin;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::*};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use minirt_core::task::{self, JoinHandle, Notified, NotifiedQueue, PanicPayload, Schedule, Task};
use slab::Slab;

use super::park::{Driver, DriverHandle, ThreadWaker};
use super::Parts;
use crate::blocking::task::BlockingJob;
use crate::blocking::Pool;
use crate::time::driver::TimeDriver;

/// How many tasks run between two polls of the `block_on` future and two
/// looks at the remote queue. Bounds how long a busy local queue can delay
/// remote wakes (fairness) while keeping per-task overhead low.
const EVENT_INTERVAL: u32 = 61;

/// Owner-key tag for tasks kept in the remote owned list.
const REMOTE_KEY: usize = 1 << (usize::BITS - 1);

thread_local! {
    /// The scheduler whose core this thread holds, if any.
    static CORE_OF: Cell<*const Shared> = const { Cell::new(ptr::null()) };
}

/// State shared by the runtime, its handles and every task it spawned.
pub(crate) struct Shared {
    /// Touched only by the core holder (see the module docs).
    local: RefCell<Local>,
    /// Tasks woken from other threads.
    remote: NotifiedQueue<Scheduler>,
    /// Tasks spawned from other threads, until they complete.
    remote_owned: Mutex<Slab<Task<Scheduler>>>,
    /// Whether a thread holds the core.
    core_taken: AtomicBool,
    /// Wakes the core holder's driver.
    unparker: DriverHandle,
    /// The waker of the `block_on` future of the core holder.
    main: Arc<MainWaker>,
    /// Timers and the clock.
    time: Arc<TimeDriver>,
    /// The blocking pool, to know whether the mock clock may auto-advance.
    blocking: Arc<Pool<BlockingJob>>,
    /// Set once shutdown began: spawns are cancelled at once.
    closed: AtomicBool,
    /// Counters for `Runtime::metrics`.
    pub(crate) spawned: AtomicU64,
    pub(crate) polls: AtomicU64,
    pub(crate) parks: AtomicU64,
}

// SAFETY: `local` is a RefCell and so not Sync by itself, but it is only
// accessed by the thread whose `CORE_OF` points at this `Shared`, and
// `core_taken` (Acquire on take, Release on give back) ensures one such
// thread at a time, with happens-before between successive holders.
unsafe impl Sync for Shared {}
// SAFETY: as above; nothing in `Local` is tied to a thread except local
// (`!Send`) tasks, which `spawn_local` only creates from the core holder and
// which shutdown handles (see `Shared::shutdown`).
unsafe impl Send for Shared {}

struct Local {
    queue: VecDeque<Notified<Scheduler>>,
    owned: Slab<Task<Scheduler>>,
    driver: Option<Driver>,
    tick: u32,
    /// Deterministic mode: xorshift state choosing which ready task runs
    /// next (`None`: FIFO).
    rng: Option<u64>,
}

/// Wakes the `block_on` future: a flag plus an unpark.
struct MainWaker {
    woken: AtomicBool,
    unparker: DriverHandle,
}

impl Wake for MainWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        if !self.woken.swap(true, AcqRel) {
            self.unparker.unpark();
        }
    }
}

/// The [`Schedule`] value stored in each task.
pub(crate) struct Scheduler(Arc<Shared>);

impl Schedule for Scheduler {
    fn schedule(&self, task: Notified<Self>) {
        self.0.schedule(task);
    }

    fn release(&self, task: &Task<Self>) -> Option<Task<Self>> {
        // SAFETY: owner keys are written before the task is first queued and
        // read here by the core holder, the only thread that completes tasks.
        let key = unsafe { task.owner_key() };
        if key == usize::MAX {
            return None;
        }
        if key & REMOTE_KEY != 0 {
            let mut owned = self
                .0
                .remote_owned
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            return take_if_same(&mut owned, key & !REMOTE_KEY, task);
        }
        self.0
            .with_local(|local| take_if_same(&mut local.owned, key, task))
            .flatten()
    }

    fn unwind<R>(&self, f: impl FnOnce() -> R) -> Result<R, PanicPayload> {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
    }
}

fn take_if_same(
    owned: &mut Slab<Task<Scheduler>>,
    key: usize,
    task: &Task<Scheduler>,
) -> Option<Task<Scheduler>> {
    match owned.get(key) {
        Some(t) if t.addr() == task.addr() => Some(owned.remove(key)),
        _ => None,
    }
}

impl Shared {
    pub(crate) fn new(parts: Parts, seed: Option<u64>) -> Arc<Shared> {
        let unparker = parts.driver_handle;
        Arc::new(Shared {
            local: RefCell::new(Local {
                queue: VecDeque::with_capacity(64),
                owned: Slab::new(),
                driver: Some(parts.driver),
                tick: 0,
                rng: seed.map(|s| s | 1),
            }),
            remote: NotifiedQueue::new(),
            remote_owned: Mutex::new(Slab::new()),
            core_taken: AtomicBool::new(false),
            main: Arc::new(MainWaker {
                woken: AtomicBool::new(false),
                unparker: unparker.clone(),
            }),
            unparker,
            time: parts.time,
            blocking: parts.blocking,
            closed: AtomicBool::new(false),
            spawned: AtomicU64::new(0),
            polls: AtomicU64::new(0),
            parks: AtomicU64::new(0),
        })
    }

    /// Runs `f` on `Local` if this thread holds the core.
    fn with_local<R>(&self, f: impl FnOnce(&mut Local) -> R) -> Option<R> {
        if std::ptr::eq(CORE_OF.with(|c| c.get()), self) {
            Some(f(&mut self.local.borrow_mut()))
        } else {
            None
        }
    }

    /// Whether the calling thread holds this runtime's core.
    pub(crate) fn is_core_thread(&self) -> bool {
        std::ptr::eq(CORE_OF.with(|c| c.get()), self)
    }

    fn schedule(&self, task: Notified<Scheduler>) {
        if let Some(task) = self.try_push_local(task) {
            // Not on the runtime thread (or the runtime is shutting down).
            self.remote.push(task);
            self.unparker.unpark();
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
    pub(crate) unsafe fn spawn_unchecked<F>(self: &Arc<Self>, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send,
        F::Output: Send,
    {
        // SAFETY: `F` and its output are `Send`; the lifetime obligation is
        // the caller's.
        let (task, notified, handle) =
            unsafe { task::spawn_unchecked(future, Scheduler(self.clone())) };
        self.bind(task, notified);
        handle
    }

    /// Spawns a `!Send` future.
    ///
    /// # Panics
    ///
    /// If the calling thread does not hold the core.
    #[track_caller]
    pub(crate) fn spawn_local<F>(self: &Arc<Self>, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        assert!(
            self.is_core_thread(),
            "minirt::spawn_local must be called from the thread running the current-thread \
             runtime (inside its block_on)"
        );
        // SAFETY: we are on the core thread; the task is queued only in the
        // local queue or, when woken elsewhere, in the remote queue, both
        // drained only by the core holder; its owned entry lives in `Local`.
        // Shutdown cancels it from the core holder (see `shutdown`).
        let (task, notified, handle) =
            unsafe { task::spawn_unchecked(future, Scheduler(self.clone())) };
        self.bind(task, notified);
        handle
    }

    /// Records a new task in an owned list and queues it.
    fn bind(&self, task: Task<Scheduler>, notified: Notified<Scheduler>) {
        self.spawned.fetch_add(1, Relaxed);
        if self.closed.load(Acquire) {
            drop(notified);
            task.shutdown();
            return;
        }
        if self.is_core_thread() {
            let mut local = self.local.borrow_mut();
            let entry = local.owned.vacant_entry();
            // SAFETY: we hold the core, which guards local owner keys.
            unsafe { task.set_owner_key(entry.key()) };
            entry.insert(task);
            local.queue.push_back(notified);
            return;
        }
        let mut owned = self.remote_owned.lock().unwrap_or_else(|e| e.into_inner());
        if self.closed.load(Acquire) {
            // Shutdown drained the list already.
            drop(owned);
            drop(notified);
            task.shutdown();
            return;
        }
        let entry = owned.vacant_entry();
        // SAFETY: the remote list's keys are guarded by its mutex, which
        // `release` also takes.
        unsafe { task.set_owner_key(entry.key() | REMOTE_KEY) };
        entry.insert(task);
        drop(owned);
        self.remote.push(notified);
        self.unparker.unpark();
    }

    /// Drives `future` to completion on this thread, running tasks.
    pub(crate) fn block_on<F: Future>(self: &Arc<Self>, future: F) -> F::Output {
        let mut future = pin!(future);
        loop {
            if let Some(core) = CoreGuard::take(self) {
                return core.block_on(future);
            }
            // Another thread drives the tasks; drive just our future, and
            // retry taking the core now and then in case it is released.
            let (parker, waker) = ThreadWaker::pair();
            let mut cx = Context::from_waker(&waker);
            loop {
                if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
                    return out;
                }
                if !self.core_taken.load(Acquire) {
                    break;
                }
                parker.park_timeout(Duration::from_millis(1));
            }
        }
    }

    /// Cancels every task and empties the queues. Called once, by the
    /// runtime's `Drop`, from any thread.
    pub(crate) fn shutdown(self: &Arc<Self>) {
        // Step 1: no new tasks from now on (`bind` checks this flag).
        self.closed.store(true, Release);
        // Dropping needs the `Runtime` by value, so no `block_on` can be
        // running on it; the core is free.
        let Some(_core) = CoreGuard::take(self) else {
            debug_assert!(false, "runtime dropped while its core was taken");
            return;
        };
        // Step 2: cancel every live task on this thread; their destructors
        // may wake or spawn others, which the loop below absorbs.
        loop {
            let mut tasks: Vec<Task<Scheduler>> = self
                .with_local(|l| l.owned.drain().collect())
                .unwrap_or_default();
            tasks.extend(
                self.remote_owned
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .drain(),
            );
            // Step 3: drop queued entries (they refer to completed tasks, or
            // will once step 2 finishes).
            let queued = self
                .with_local(|l| std::mem::take(&mut l.queue))
                .unwrap_or_default();
            let remote = self.remote.take_all();
            let idle = tasks.is_empty() && queued.is_empty();
            for task in tasks {
                task.shutdown();
            }
            drop(queued);
            let remote_empty = remote.count() == 0;
            if idle && remote_empty {
                break;
            }
        }
    }
}

/// Proof that this thread holds the core; gives it back on drop.
struct CoreGuard<'a> {
    shared: &'a Arc<Shared>,
    prev: *const Shared,
}

impl<'a> CoreGuard<'a> {
    fn take(shared: &'a Arc<Shared>) -> Option<CoreGuard<'a>> {
        if shared.core_taken.swap(true, Acquire) {
            return None;
        }
        let prev = CORE_OF.with(|c| c.replace(Arc::as_ptr(shared)));
        Some(CoreGuard { shared, prev })
    }

    fn block_on<F: Future>(&self, mut future: std::pin::Pin<&mut F>) -> F::Output {
        let shared = self.shared;
        let waker = Waker::from(shared.main.clone());
        let mut cx = Context::from_waker(&waker);
        shared.main.woken.store(true, Relaxed);
        loop {
            if shared.main.woken.swap(false, AcqRel) {
                if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
                    return out;
                }
            }
            let ran = self.run_tasks();
            if ran == 0 && !shared.main.woken.load(Acquire) {
                self.park(None);
            } else if ran == EVENT_INTERVAL {
                // Busy: still look at I/O (without sleeping) now and then.
                self.park(Some(Duration::ZERO));
            }
        }
    }

    /// Runs up to `EVENT_INTERVAL` tasks; returns how many ran.
    fn run_tasks(&self) -> u32 {
        let shared = self.shared;
        let mut ran = 0;
        while ran < EVENT_INTERVAL {
            let next = shared.with_local(|local| {
                local.tick = local.tick.wrapping_add(1);
                if local.queue.is_empty() || local.tick % EVENT_INTERVAL == 0 {
                    local.queue.extend(shared.remote.take_all());
                }
                match &mut local.rng {
                    None => local.queue.pop_front(),
                    Some(rng) if !local.queue.is_empty() => {
                        *rng ^= *rng << 13;
                        *rng ^= *rng >> 7;
                        *rng ^= *rng << 17;
                        let index = (*rng % local.queue.len() as u64) as usize;
                        local.queue.swap_remove_front(index)
                    }
                    Some(_) => None,
                }
            });
            let Some(task) = next.flatten() else { break };
            task.run();
            ran += 1;
        }
        shared.polls.fetch_add(u64::from(ran), Relaxed);
        ran
    }

    /// Waits in the driver until woken, an I/O event, or the next timer.
    /// `Some(ZERO)` only polls I/O and fires due timers.
    fn park(&self, timeout: Option<Duration>) {
        let shared = self.shared;
        let time = &shared.time;
        let mut driver = shared
            .with_local(|l| l.driver.take())
            .flatten()
            .expect("driver present");
        if timeout == Some(Duration::ZERO) {
            driver.park(timeout);
            time.process();
        } else if shared.remote.is_empty() && time.process() == 0 {
            let idle = || {
                shared.remote.is_empty()
                    && !shared.main.woken.load(Acquire)
                    && shared.with_local(|l| l.queue.is_empty()).unwrap_or(true)
            };
            if time.clock.auto_advance() && !super::blocking_busy(&shared.blocking) {
                // Mock clock: if nothing is ready, not even I/O, jump to the
                // next deadline instead of sleeping.
                driver.park(Some(Duration::ZERO));
                if idle() && time.auto_advance() == 0 {
                    shared.parks.fetch_add(1, Relaxed);
                    driver.park(None);
                }
            } else {
                shared.parks.fetch_add(1, Relaxed);
                driver.park(time.park_timeout());
            }
            time.process();
        }
        shared.with_local(|l| l.driver = Some(driver));
    }
}

impl Drop for CoreGuard<'_> {
    fn drop(&mut self) {
        CORE_OF.with(|c| c.set(self.prev));
        self.shared.core_taken.store(false, Release);
    }
}
