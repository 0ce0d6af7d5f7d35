//! A loom model of the notify/park protocol in `idle.rs`.
//!
//! Run with:
//! `RUSTFLAGS="--cfg minirt_loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p minirt --release --lib idle_loom`
//!
//! The workers' deques are replaced by one `Mutex<VecDeque>` and each
//! worker's `parking::Parker` by a token behind a loom `Condvar`; the worker
//! loop follows `worker.rs` step by step (pop, search, announce parking,
//! re-check, sleep, unlist). A lost wakeup — a task left in the queue while
//! every worker sleeps — shows up as a loom deadlock: the producer waits for
//! every task to be run and nobody is awake to run it.

use std::collections::VecDeque;

use loom::sync::atomic::{AtomicBool, Ordering::SeqCst};
use loom::sync::{Arc, Condvar, Mutex};
use loom::thread;

use super::Idle;

/// A `parking::Parker` stand-in: an unpark before the park is not lost.
struct Parker {
    token: Mutex<bool>,
    cond: Condvar,
}

impl Parker {
    fn new() -> Parker {
        Parker {
            token: Mutex::new(false),
            cond: Condvar::new(),
        }
    }

    fn park(&self) {
        let mut token = self.token.lock().unwrap();
        while !*token {
            token = self.cond.wait(token).unwrap();
        }
        *token = false;
    }

    fn unpark(&self) {
        *self.token.lock().unwrap() = true;
        self.cond.notify_one();
    }
}

/// What the workers and the producer share.
struct Shared {
    idle: Idle,
    queue: Mutex<VecDeque<u32>>,
    parkers: Vec<Parker>,
    closed: AtomicBool,
    /// Tasks run so far, and the producer's wait for all of them.
    done: Mutex<usize>,
    all_done: Condvar,
}

impl Shared {
    /// `Shared::notify_parked` in `multi_thread/mod.rs`.
    fn notify_parked(&self) {
        if let Some(index) = self.idle.worker_to_notify() {
            self.parkers[index].unpark();
        }
    }

    /// A producer: push, then notify (step 1 of the protocol).
    fn push(&self, task: u32) {
        self.queue.lock().unwrap().push_back(task);
        self.notify_parked();
    }

    fn pop(&self) -> Option<u32> {
        self.queue.lock().unwrap().pop_front()
    }

    fn run(&self, _task: u32) {
        *self.done.lock().unwrap() += 1;
        self.all_done.notify_all();
    }
}

/// One worker thread, following `WorkerContext::run_loop`.
fn worker(shared: &Shared, index: usize) {
    let mut is_searching = false;
    let stop_searching = |is_searching: &mut bool| {
        if std::mem::take(is_searching) && shared.idle.transition_worker_from_searching() {
            shared.notify_parked();
        }
    };
    while !shared.closed.load(SeqCst) {
        // next_task(): own queues, no searching needed.
        if let Some(task) = shared.pop() {
            stop_searching(&mut is_searching);
            shared.run(task);
            continue;
        }
        // search(): only as a searcher.
        if !is_searching && shared.idle.transition_worker_to_searching() {
            is_searching = true;
        }
        if is_searching {
            if let Some(task) = shared.pop() {
                stop_searching(&mut is_searching);
                shared.run(task);
                continue;
            }
        }
        // park(): announce, re-check, sleep, unlist.
        let was_searching = std::mem::take(&mut is_searching);
        let _last = shared
            .idle
            .transition_worker_to_parked(index, was_searching);
        if !shared.queue.lock().unwrap().is_empty() || shared.closed.load(SeqCst) {
            is_searching = shared.idle.transition_worker_from_parked(index);
            continue;
        }
        shared.parkers[index].park();
        is_searching = shared.idle.transition_worker_from_parked(index);
    }
}

/// Runs the model with `workers` workers and `tasks` tasks pushed by the
/// model's main thread; every task must be run.
fn check(workers: usize, tasks: u32) {
    loom::model(move || {
        let shared = Arc::new(Shared {
            idle: Idle::new(workers),
            queue: Mutex::new(VecDeque::new()),
            parkers: (0..workers).map(|_| Parker::new()).collect(),
            closed: AtomicBool::new(false),
            done: Mutex::new(0),
            all_done: Condvar::new(),
        });
        let threads: Vec<_> = (0..workers)
            .map(|i| {
                let shared = Arc::clone(&shared);
                thread::spawn(move || worker(&shared, i))
            })
            .collect();
        for task in 0..tasks {
            shared.push(task);
        }
        // A lost wakeup leaves this wait (and every worker) blocked forever,
        // which loom reports as a deadlock.
        let mut done = shared.done.lock().unwrap();
        while *done < tasks as usize {
            done = shared.all_done.wait(done).unwrap();
        }
        drop(done);
        assert!(shared.queue.lock().unwrap().is_empty());

        // Shutdown, as `Workers::shutdown` does it: close, wake everyone.
        shared.closed.store(true, SeqCst);
        for parker in &shared.parkers {
            parker.unpark();
        }
        for t in threads {
            t.join().unwrap();
        }
        for i in 0..workers {
            assert!(
                !shared.idle.is_parked(i),
                "worker {i} exited listed as parked"
            );
        }
    });
}

#[test]
fn one_task_two_workers_no_lost_wakeup() {
    check(2, 1);
}

#[test]
fn two_tasks_two_workers_no_lost_wakeup() {
    check(2, 2);
}
