//! One worker thread: its run loop, stealing, parking and its part of
//! shutdown.

use std::cell::{Cell, RefCell};
use std::ptr;
use std::sync::atomic::Ordering::*;
use std::sync::Arc;

use minirt_core::task::Notified;

use super::queue::{Steal, Worker};
use super::{bump, Reschedule, Scheduler, Shared, INJECTOR_INTERVAL, MAX_LIFO_POLLS};
use crate::driver::Sleeper;
use crate::loom::parking;
use crate::runtime::trace::PollClock;
use crate::runtime::{context, Handle, SchedulerHandle};

crate::loom::thread_local! {
    /// The worker running on this thread, if any.
    static WORKER: Cell<*const WorkerContext> = const { Cell::new(ptr::null()) };
}

/// What a worker thread keeps for itself. It lives on the worker's stack;
/// `WORKER` points at it while the run loop is active.
struct WorkerContext {
    shared: Arc<Shared>,
    index: usize,
    core: RefCell<Core>,
    /// This worker's coarse clock, stamped on the tasks it polls.
    clock: PollClock,
    /// Outside `core` so that tasks woken while we sleep in the driver can
    /// still be pushed into `core`.
    parker: parking::Parker,
}

/// The worker's queues and bookkeeping. Borrowed only briefly, never while
/// a task is polled, because polling may wake tasks into it.
struct Core {
    local: Worker<Notified<Scheduler>>,
    lifo: Option<Notified<Scheduler>>,
    tick: u32,
    rng: u32,
    is_searching: bool,
    /// Set while the worker waits in `Driver::park`, where it holds no busy
    /// unit: a task woken there (an I/O event dispatched by the poller)
    /// goes to the deque, where other threads' `has_stealable_work` sees
    /// it, not to the LIFO slot, which nobody else looks at — a mock clock
    /// could otherwise jump before the woken task runs.
    in_driver: bool,
}

/// The index of the calling thread if it is one of `shared`'s workers.
#[inline]
pub(super) fn current_index(shared: &Shared) -> Option<usize> {
    // Only the pointer is read inside `with`, so that it inlines.
    let ctx = WORKER.with(Cell::get);
    // SAFETY: a non-null pointer refers to the WorkerContext on this
    // thread's stack, alive for as long as it is set.
    (!ctx.is_null() && ptr::eq(Arc::as_ptr(unsafe { &(*ctx).shared }), shared))
        .then(|| unsafe { (*ctx).index })
}

/// Pushes `task` into this worker's LIFO slot (or deque for a yield) if the
/// calling thread is one of `shared`'s workers; else hands it back.
#[inline]
pub(super) fn try_schedule_local(
    shared: &Shared,
    task: Notified<Scheduler>,
    why: Reschedule,
) -> Result<(), Notified<Scheduler>> {
    // Only the pointer is read inside `with`: a bigger closure stopped
    // being inlined (a call per wake-up on the hottest path).
    let ctx = WORKER.with(Cell::get);
    if ctx.is_null() {
        return Err(task);
    }
    // SAFETY: as in `current_index`.
    let ctx = unsafe { &*ctx };
    if !ptr::eq(Arc::as_ptr(&ctx.shared), shared) {
        return Err(task);
    }
    let Ok(mut core) = ctx.core.try_borrow_mut() else {
        return Err(task);
    };
    // (No notification for a task woken in the driver: this worker is
    // about to look for work itself.)
    let pushed_to_deque = if why != Reschedule::Woken || core.in_driver {
        core.local.push(task);
        why == Reschedule::Yielded
    } else if let Some(prev) = core.lifo.replace(task) {
        core.local.push(prev);
        true
    } else {
        false
    };
    drop(core);
    if pushed_to_deque {
        // There is stealable work now: maybe wake a sleeper.
        shared.notify_parked();
    }
    Ok(())
}

/// The worker thread's body.
pub(super) fn run(
    handle: Handle,
    index: usize,
    local: Worker<Notified<Scheduler>>,
    parker: parking::Parker,
) {
    let SchedulerHandle::MultiThread(shared) = &handle.inner.scheduler else {
        unreachable!("a multi-thread worker got another runtime's handle")
    };
    let ctx = WorkerContext {
        shared: shared.clone(),
        index,
        core: RefCell::new(Core {
            local,
            lifo: None,
            tick: 0,
            rng: 0x9E37_79B9 ^ (index as u32 + 1).wrapping_mul(0x85EB_CA6B),
            is_searching: false,
            in_driver: false,
        }),
        clock: PollClock::new(),
        parker,
    };
    let _entered = context::enter_runtime("a minirt worker thread");
    // This worker's sleeps register in its own timer wheel.
    crate::time::driver::set_shard_hint(index);
    context::enter_handle(&handle, || {
        WORKER.with(|w| w.set(&ctx));
        // An awake worker holds a unit of the driver's busy count; it gives
        // it back only while it sleeps in `Driver::park`.
        ctx.shared.driver.busy.acquire();
        ctx.run_loop();
        ctx.shutdown();
        ctx.shared.driver.busy.release(true);
        WORKER.with(|w| w.set(ptr::null()));
    });
}

impl WorkerContext {
    fn run_loop(&self) {
        while !self.shared.closed.load(Acquire) {
            if let Some(task) = self.next_task() {
                self.run_task(task);
                continue;
            }
            if let Some(task) = self.search() {
                self.run_task(task);
                continue;
            }
            self.park();
        }
    }

    /// The next task from this worker's own queues (and, periodically or
    /// when they are empty, the injector).
    fn next_task(&self) -> Option<Notified<Scheduler>> {
        let mut core = self.core.borrow_mut();
        if let Some(task) = core.lifo.take() {
            return Some(task);
        }
        core.tick = core.tick.wrapping_add(1);
        if core.tick % INJECTOR_INTERVAL == 0 {
            drop(core);
            // Once per interval: timers, I/O, and the injector first.
            let now = self.shared.driver.maintain();
            self.clock.set(now);
            if let Some(task) = steal_one(|| self.shared.injector.steal()) {
                return Some(task);
            }
            core = self.core.borrow_mut();
            // I/O polled by `maintenance` may have woken tasks into the slot.
            if let Some(task) = core.lifo.take() {
                return Some(task);
            }
        }
        core.local
            .pop()
            .or_else(|| steal_one(|| self.shared.injector.steal_batch_and_pop(&core.local)))
    }

    /// Steals from other workers, then the injector, as a searcher.
    fn search(&self) -> Option<Notified<Scheduler>> {
        let mut core = self.core.borrow_mut();
        if !core.is_searching {
            if !self.shared.idle.transition_worker_to_searching() {
                return None;
            }
            core.is_searching = true;
        }
        let n = self.shared.stealers.len();
        // xorshift32: a cheap random starting victim.
        core.rng ^= core.rng << 13;
        core.rng ^= core.rng >> 17;
        core.rng ^= core.rng << 5;
        let start = core.rng as usize % n;
        for attempt in 0..2 {
            let mut retry = false;
            for i in 0..n {
                let victim = (start + i) % n;
                if victim == self.index {
                    continue;
                }
                match self.shared.stealers[victim].steal_batch_and_pop(&core.local) {
                    Steal::Success(task) => {
                        bump(&self.shared.worker_metrics[self.index].steals, 1);
                        return Some(task);
                    }
                    Steal::Retry => retry = true,
                    Steal::Empty => {}
                }
            }
            if let Some(task) = steal_one(|| self.shared.injector.steal_batch_and_pop(&core.local))
            {
                return Some(task);
            }
            if !retry || attempt == 1 {
                break;
            }
        }
        None
    }

    /// Polls `task`, then up to `MAX_LIFO_POLLS` tasks it woke into the LIFO
    /// slot.
    fn run_task(&self, task: Notified<Scheduler>) {
        self.stop_searching();
        let metrics = &self.shared.worker_metrics[self.index];
        // The clock moves only in `next_task` and `park`: one reading and
        // one look at the tracer serve the whole batch.
        let poller = self.shared.tracer.poller(self.index, self.clock.get());
        poller.run(task);
        let mut polls = 1;
        let mut lifo_polls = 0;
        loop {
            let mut core = self.core.borrow_mut();
            let Some(next) = core.lifo.take() else { break };
            if lifo_polls >= MAX_LIFO_POLLS {
                // Let the queue behind it run first.
                core.local.push(next);
                drop(core);
                self.shared.notify_parked();
                break;
            }
            drop(core);
            lifo_polls += 1;
            poller.run(next);
            polls += 1;
        }
        bump(&metrics.polls, polls);
        bump(&metrics.lifo_hits, u64::from(lifo_polls));
    }

    /// A searcher found work: stop searching, and if it was the last
    /// searcher, wake another worker so that remaining work keeps spreading.
    fn stop_searching(&self) {
        let mut core = self.core.borrow_mut();
        if core.is_searching {
            core.is_searching = false;
            drop(core);
            if self.shared.idle.transition_worker_from_searching() {
                self.shared.notify_parked();
            }
        }
    }

    /// Sleeps until notified; see `idle.rs` for the protocol.
    fn park(&self) {
        let was_searching = std::mem::replace(&mut self.core.borrow_mut().is_searching, false);
        let idle = &self.shared.idle;
        let _last_searcher = idle.transition_worker_to_parked(self.index, was_searching);
        // Step 2 of the protocol: look once more after announcing (our own
        // LIFO slot included: it is not stealable, so nobody else would run it).
        if self.shared.has_stealable_work()
            || self.core.borrow().lifo.is_some()
            || self.shared.closed.load(SeqCst)
        {
            if idle.transition_worker_from_parked(self.index) {
                self.core.borrow_mut().is_searching = true;
            }
            return;
        }
        // Step 3: wait through the driver (which may also move a mock clock
        // if every thread is idle and no queue has work).
        bump(&self.shared.worker_metrics[self.index].parks, 1);
        // Going idle: take in the cells other workers freed, so they are
        // not held beyond the cache's bound for long.
        // SAFETY: this thread is worker `self.index`, the cache's one owner
        // (see `Scheduler::owned_cell_cache`).
        unsafe { self.shared.cells[self.index].0.owner() }.drain_remote();
        let sleeper = Sleeper {
            id: self.index,
            parker: Some(&self.parker),
        };
        self.core.borrow_mut().in_driver = true;
        let now = self
            .shared
            .driver
            .park(&sleeper, &|| self.shared.has_stealable_work());
        self.clock.set(now);
        self.core.borrow_mut().in_driver = false;
        if idle.transition_worker_from_parked(self.index) {
            // Notified: it searches now, and as the last searcher to find
            // work it wakes another worker (`stop_searching`).
            self.core.borrow_mut().is_searching = true;
        } else if cfg!(not(minirt_loom)) && self.core.borrow().local.len() > 1 {
            // Woken by the poller or a timer, with the tasks that I/O or the
            // timers woke pushed to our own queue and nobody told (see
            // `try_schedule_local`: no notification from inside the driver).
            // More than we take next is work for a sleeping worker; without
            // this, the other worker slept while this one ran every task of
            // an I/O burst (`tcp_echo_mt`: each worker idle ~28% of the run,
            // its futex waits 1.4 ms on average). Left out of the loom
            // models (the deque stand-in's `len` is a lock, one more
            // branching point in every park): it only adds a wake-up, and
            // an extra wake-up cannot lose one.
            self.shared.notify_parked();
        }
    }

    /// Steps 2 and 3 of the shutdown protocol (see the module docs).
    fn shutdown(&self) {
        let workers = self.shared.num_workers();
        let shards = self.shared.owned.num_shards();
        loop {
            let mut found = false;
            for shard in (self.index..shards).step_by(workers) {
                for task in self.shared.owned.close_and_drain(shard) {
                    found = true;
                    task.shutdown();
                }
            }
            let lifo = self.core.borrow_mut().lifo.take();
            found |= lifo.is_some();
            drop(lifo);
            loop {
                let task = self.core.borrow_mut().local.pop();
                match task {
                    Some(task) => {
                        found = true;
                        drop(task);
                    }
                    None => break,
                }
            }
            if !found {
                break;
            }
        }
        if self.core.borrow().is_searching {
            self.stop_searching();
        }
    }
}

/// Retries a steal until it gives a definite answer.
fn steal_one(mut steal: impl FnMut() -> Steal<Notified<Scheduler>>) -> Option<Notified<Scheduler>> {
    loop {
        match steal() {
            Steal::Success(task) => return Some(task),
            Steal::Empty => return None,
            Steal::Retry => std::hint::spin_loop(),
        }
    }
}
