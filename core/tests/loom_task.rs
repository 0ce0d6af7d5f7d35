//! Model checks of the task core under loom: the state machine, the waker
//! vtable, `JoinHandle`/`AbortHandle` and the `NotifiedQueue`.
//!
//! Run with:
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p minirt-core --release --test loom_task`
//!
//! Each test runs a task through the public API on the model's main thread
//! while one or two other threads wake, abort or drop handles, and asserts
//! what must hold in *every* interleaving: the task ends the way it must
//! (no lost wakeup, no poll after completion), its future and output are
//! dropped exactly once, and the last reference frees the task — which shows
//! as the scheduler's `Arc` strong count returning to 1 (every task holds a
//! clone of it until it is deallocated).
#![cfg(loom)]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc as StdArc;
use std::task::{Context, Poll, Wake, Waker};

use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use loom::sync::{Arc, Mutex};
use loom::thread;
use minirt_core::task::{self, JoinError, JoinHandle, Notified, NotifiedQueue, Schedule, Task};

// ---- a tiny executor ----

/// The run queue and owned-task list every test task shares.
struct Queue {
    run: Mutex<Vec<Notified<Sched>>>,
    owned: Mutex<Vec<Task<Sched>>>,
}

/// The `Schedule` impl stored in each task: a counted handle to the queue.
#[derive(Clone)]
struct Sched(Arc<Queue>);

impl Schedule for Sched {
    fn schedule(&self, task: Notified<Self>) {
        self.0.run.lock().unwrap().push(task);
    }

    fn release(&self, task: &Task<Self>) -> Option<Task<Self>> {
        let mut owned = self.0.owned.lock().unwrap();
        let pos = owned.iter().position(|t| t.addr() == task.addr())?;
        Some(owned.swap_remove(pos))
    }
}

impl Sched {
    fn new() -> Sched {
        Sched(Arc::new(Queue {
            run: Mutex::new(Vec::new()),
            owned: Mutex::new(Vec::new()),
        }))
    }

    /// Spawns `future`, keeping the owned reference, and queues it.
    fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (owned, notified, handle) = task::spawn(future, self.clone());
        self.0.owned.lock().unwrap().push(owned);
        self.schedule(notified);
        handle
    }

    /// Runs queued tasks until the queue is empty; returns how many ran.
    fn drain(&self) -> usize {
        let mut ran = 0;
        loop {
            let next = self.0.run.lock().unwrap().pop();
            match next {
                Some(task) => {
                    task.run();
                    ran += 1;
                }
                None => return ran,
            }
        }
    }

    /// Runs exactly one queued task; panics if there is none.
    fn run_one(&self) {
        let task = self.0.run.lock().unwrap().pop().expect("a queued task");
        task.run();
    }

    /// Asserts every task this scheduler spawned has been freed.
    fn assert_all_freed(self) {
        assert!(self.0.run.lock().unwrap().is_empty(), "tasks left queued");
        assert!(self.0.owned.lock().unwrap().is_empty(), "tasks left owned");
        assert_eq!(
            Arc::strong_count(&self.0),
            1,
            "a task (holding a scheduler clone) was never deallocated"
        );
    }
}

// ---- test futures and values ----

/// Counts its own drops.
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// Shared between a test and its `Gate` future.
struct GateState {
    open: AtomicBool,
    polls: AtomicUsize,
    completed: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

/// Pending until `open` is set; stores a clone of its waker on every
/// pending poll and checks it is never polled after returning `Ready`.
struct Gate {
    state: Arc<GateState>,
    _drop: Counted,
    output_drops: Arc<AtomicUsize>,
}

impl Future for Gate {
    type Output = Counted;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Counted> {
        let s = &self.state;
        assert!(!s.completed.load(SeqCst), "polled after completion");
        s.polls.fetch_add(1, SeqCst);
        if s.open.load(SeqCst) {
            s.completed.store(true, SeqCst);
            Poll::Ready(Counted(Arc::clone(&self.output_drops)))
        } else {
            *s.waker.lock().unwrap() = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}

/// Everything a test needs to watch one `Gate` task.
struct Probe {
    gate: Arc<GateState>,
    future_drops: Arc<AtomicUsize>,
    output_drops: Arc<AtomicUsize>,
}

impl Probe {
    fn new() -> (Probe, Gate) {
        let probe = Probe {
            gate: Arc::new(GateState {
                open: AtomicBool::new(false),
                polls: AtomicUsize::new(0),
                completed: AtomicBool::new(false),
                waker: Mutex::new(None),
            }),
            future_drops: Arc::new(AtomicUsize::new(0)),
            output_drops: Arc::new(AtomicUsize::new(0)),
        };
        let gate = Gate {
            state: Arc::clone(&probe.gate),
            _drop: Counted(Arc::clone(&probe.future_drops)),
            output_drops: Arc::clone(&probe.output_drops),
        };
        (probe, gate)
    }

    /// A clone of the waker the task stored at its last poll.
    fn waker(&self) -> Waker {
        self.gate
            .waker
            .lock()
            .unwrap()
            .clone()
            .expect("polled once")
    }

    /// Drops the stored waker so it does not keep the task alive.
    fn forget_waker(&self) {
        self.gate.waker.lock().unwrap().take();
    }

    fn open(&self) {
        self.gate.open.store(true, SeqCst);
    }

    fn assert_dropped_once(&self, output_created: bool) {
        assert_eq!(self.future_drops.load(SeqCst), 1, "future dropped once");
        assert_eq!(
            self.output_drops.load(SeqCst),
            usize::from(output_created),
            "output dropped exactly once if it exists"
        );
    }
}

/// A waker that records being woken (the JoinHandle's waiter).
struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: StdArc<Self>) {
        self.0.store(true, SeqCst);
    }
}

fn flag_waker() -> (StdArc<Flag>, Waker) {
    let flag = StdArc::new(Flag(AtomicBool::new(false)));
    (flag.clone(), Waker::from(flag))
}

fn poll_handle<T>(handle: &mut JoinHandle<T>, waker: &Waker) -> Poll<Result<T, JoinError>> {
    Pin::new(handle).poll(&mut Context::from_waker(waker))
}

// ---- the models ----

/// A wake (by value) races the poll it is meant to follow: whether it
/// lands before, during or after the poll, the task runs again and sees
/// the gate open.
#[test]
fn wake_while_running() {
    loom::model(|| {
        let sched = Sched::new();
        let (probe, gate) = Probe::new();
        let mut handle = sched.spawn(gate);
        sched.run_one(); // first poll: Pending, waker stored
        let waker = probe.waker();
        waker.wake_by_ref(); // queue a second poll
        drop(waker);

        let gate = Arc::clone(&probe.gate);
        let waker = probe.waker();
        let opener = thread::spawn(move || {
            gate.open.store(true, SeqCst);
            waker.wake();
        });
        sched.drain();
        opener.join().unwrap();
        sched.drain();

        probe.forget_waker();
        let out = poll_handle(&mut handle, Waker::noop());
        assert!(
            matches!(out, Poll::Ready(Ok(_))),
            "lost wakeup: the gate opened but the task never completed"
        );
        drop(out);
        drop(handle);
        probe.assert_dropped_once(true);
        sched.assert_all_freed();
    });
}

/// A waker is woken by value while (or after) the task completes; the
/// late wake must only release its reference.
#[test]
fn wake_after_complete() {
    loom::model(|| {
        let sched = Sched::new();
        let (probe, gate) = Probe::new();
        let handle = sched.spawn(gate);
        sched.run_one();
        let late = probe.waker();
        probe.open();
        probe.waker().wake();
        probe.forget_waker();

        let waker_thread = thread::spawn(move || late.wake());
        sched.drain();
        waker_thread.join().unwrap();
        sched.drain();

        assert!(handle.is_finished());
        drop(handle); // drops the output
        probe.assert_dropped_once(true);
        sched.assert_all_freed();
    });
}

/// `abort` from another thread while the task is being polled: the task
/// ends cancelled, its future dropped once, and it is never polled after.
#[test]
fn abort_during_poll() {
    loom::model(|| {
        let sched = Sched::new();
        let (probe, gate) = Probe::new();
        let mut handle = sched.spawn(gate);
        let abort = handle.abort_handle();
        let aborter = thread::spawn(move || abort.abort());
        sched.drain();
        aborter.join().unwrap();
        sched.drain();
        probe.forget_waker();

        match poll_handle(&mut handle, Waker::noop()) {
            Poll::Ready(Err(e)) => assert!(e.is_cancelled(), "{e:?}"),
            other => panic!("expected cancellation, got {:?}", other.map(|r| r.is_ok())),
        }
        drop(handle);
        probe.assert_dropped_once(false);
        sched.assert_all_freed();
    });
}

/// The `JoinHandle` registers a waker and is then dropped on another thread
/// while the task completes: the output is dropped exactly once (by the
/// task side or the handle), the join waker is released, nothing leaks.
#[test]
fn join_handle_drop_during_completion() {
    loom::model(|| {
        let sched = Sched::new();
        let (probe, gate) = Probe::new();
        let mut handle = sched.spawn(gate);
        sched.run_one();
        let (_flag, join_waker) = flag_waker();
        assert!(poll_handle(&mut handle, &join_waker).is_pending());
        drop(join_waker);
        probe.open();
        probe.waker().wake();
        probe.forget_waker();

        let dropper = thread::spawn(move || drop(handle));
        sched.drain();
        dropper.join().unwrap();

        probe.assert_dropped_once(true);
        sched.assert_all_freed();
    });
}

/// The `JoinHandle` is polled on another thread while the task completes:
/// either it sees the output, or its waker is woken afterwards (no lost
/// join wakeup), and a second poll then returns the output.
#[test]
fn join_handle_poll_during_completion() {
    loom::model(|| {
        let sched = Sched::new();
        let (probe, gate) = Probe::new();
        let mut handle = sched.spawn(gate);
        sched.run_one();
        probe.open();
        probe.waker().wake();
        probe.forget_waker();

        let joiner = thread::spawn(move || {
            let (flag, waker) = flag_waker();
            let first = poll_handle(&mut handle, &waker);
            (first.map(|r| r.is_ok()), flag, waker, handle)
        });
        sched.drain();
        let (first, flag, waker, mut handle) = joiner.join().unwrap();
        match first {
            Poll::Ready(ok) => assert!(ok),
            Poll::Pending => {
                assert!(flag.0.load(SeqCst), "lost JoinHandle wakeup");
                assert!(matches!(
                    poll_handle(&mut handle, &waker),
                    Poll::Ready(Ok(_))
                ));
            }
        }
        drop(handle);
        probe.assert_dropped_once(true);
        sched.assert_all_freed();
    });
}

/// Two wakers of an idle task: one is woken by reference and dropped,
/// the other is just dropped, concurrently. The task is queued once, runs,
/// and the references all come back.
#[test]
fn concurrent_wake_by_ref_and_drop_waker() {
    loom::model(|| {
        let sched = Sched::new();
        let (probe, gate) = Probe::new();
        let mut handle = sched.spawn(gate);
        sched.run_one();
        probe.open();
        let a = probe.waker();
        let b = probe.waker();
        probe.forget_waker();

        let t1 = thread::spawn(move || {
            a.wake_by_ref();
            drop(a);
        });
        let t2 = thread::spawn(move || drop(b));
        t1.join().unwrap();
        t2.join().unwrap();
        assert_eq!(sched.drain(), 1, "woken once, queued once");
        probe.forget_waker();

        assert!(matches!(
            poll_handle(&mut handle, Waker::noop()),
            Poll::Ready(Ok(_))
        ));
        drop(handle);
        probe.assert_dropped_once(true);
        sched.assert_all_freed();
    });
}

/// Every handle of a pending task goes away at once on different threads
/// (the last waker, the JoinHandle, the queue's reference via shutdown):
/// exactly one of them frees the task.
#[test]
fn last_reference_race() {
    loom::model(|| {
        let sched = Sched::new();
        let (probe, gate) = Probe::new();
        let handle = sched.spawn(gate);
        sched.run_one();
        let waker = probe.waker();
        probe.forget_waker();

        let t1 = thread::spawn(move || drop(waker));
        let t2 = thread::spawn(move || drop(handle));
        // Runtime shutdown: take the owned reference and cancel.
        let owned = sched.0.owned.lock().unwrap().pop().unwrap();
        owned.shutdown();
        t1.join().unwrap();
        t2.join().unwrap();

        probe.assert_dropped_once(false);
        sched.assert_all_freed();
    });
}

/// Shutdown cancels a task while another thread wakes it: the stale queue
/// entry must not poll the dropped future.
#[test]
fn shutdown_vs_wake() {
    loom::model(|| {
        let sched = Sched::new();
        let (probe, gate) = Probe::new();
        let mut handle = sched.spawn(gate);
        sched.run_one();
        let waker = probe.waker();
        probe.forget_waker();

        let waker_thread = thread::spawn(move || waker.wake());
        let owned = sched.0.owned.lock().unwrap().pop().unwrap();
        owned.shutdown();
        waker_thread.join().unwrap();
        sched.drain();

        match poll_handle(&mut handle, Waker::noop()) {
            Poll::Ready(Err(e)) => assert!(e.is_cancelled()),
            _ => panic!("shutdown must cancel"),
        }
        drop(handle);
        probe.assert_dropped_once(false);
        sched.assert_all_freed();
    });
}

// ---- NotifiedQueue ----

/// A scheduler whose tasks go into a `NotifiedQueue` (lock-free MPSC).
#[derive(Clone)]
struct QueueSched(Arc<NotifiedQueue<QueueSched>>);

impl Schedule for QueueSched {
    fn schedule(&self, task: Notified<Self>) {
        self.0.push(task);
    }
    fn release(&self, _: &Task<Self>) -> Option<Task<Self>> {
        None
    }
}

/// Two producers push (by waking) while the consumer takes the queue: every
/// wake is delivered exactly once, nothing is lost.
#[test]
fn notified_queue_push_vs_take_all() {
    loom::model(|| {
        let q = QueueSched(Arc::new(NotifiedQueue::new()));
        let (p1, g1) = Probe::new();
        let (p2, g2) = Probe::new();
        let mut handles = Vec::new();
        for g in [g1, g2] {
            let (owned, notified, handle) = task::spawn(g, q.clone());
            drop(owned);
            notified.run(); // first poll; stores the waker
            handles.push(handle);
        }
        p1.open();
        p2.open();
        let w1 = p1.waker();
        let w2 = p2.waker();
        p1.forget_waker();
        p2.forget_waker();
        let t1 = thread::spawn(move || w1.wake());
        let t2 = thread::spawn(move || w2.wake());
        let mut ran = q.0.take_all().map(Notified::run).count();
        t1.join().unwrap();
        t2.join().unwrap();
        ran += q.0.take_all().map(Notified::run).count();
        assert_eq!(ran, 2, "each wake delivered exactly once");
        for h in &handles {
            assert!(h.is_finished());
        }
        drop(handles);
        p1.assert_dropped_once(true);
        p2.assert_dropped_once(true);
        assert_eq!(Arc::strong_count(&q.0), 1);
    });
}

// ---- the cell cache ----

/// Two threads give blocks back to a cache while its owner takes from it:
/// every block comes back to the owner exactly once, whatever the
/// interleaving of the pushes with the owner's drain (the stack is never
/// popped one block at a time, so there is no ABA to lose one to).
#[test]
fn cell_cache_remote_gives_race_the_owner_drain() {
    use std::alloc::{alloc, dealloc, Layout};
    use std::ptr::NonNull;

    use minirt_core::task::CellCache;

    loom::model(|| {
        let layout = Layout::from_size_align(64, std::mem::align_of::<usize>()).unwrap();
        let cache = Arc::new(CellCache::new());
        // SAFETY: a non-zero-sized layout.
        let blocks: Vec<usize> = (0..3).map(|_| unsafe { alloc(layout) } as usize).collect();
        let givers: Vec<_> = blocks[1..]
            .iter()
            .map(|&b| {
                let cache = cache.clone();
                thread::spawn(move || {
                    // SAFETY: each block is given once, by one thread.
                    let kept =
                        unsafe { cache.give_remote(NonNull::new(b as *mut u8).unwrap(), layout) };
                    assert!(kept);
                })
            })
            .collect();
        // SAFETY: the model's main thread is the cache's only owner.
        let owner = unsafe { cache.owner() };
        // SAFETY: a fresh block, given once.
        assert!(unsafe { owner.give(NonNull::new(blocks[0] as *mut u8).unwrap(), layout) });
        let mut taken = Vec::new();
        // Racing the givers: the owned block, then maybe drained ones.
        taken.extend(owner.take(layout));
        taken.extend(owner.take(layout));
        for giver in givers {
            giver.join().unwrap();
        }
        while let Some(block) = owner.take(layout) {
            taken.push(block);
        }
        let mut taken: Vec<usize> = taken.iter().map(|b| b.as_ptr() as usize).collect();
        taken.sort_unstable();
        let mut expected = blocks;
        expected.sort_unstable();
        assert_eq!(taken, expected, "each block back once");
        for b in taken {
            // SAFETY: taken back above, each once.
            unsafe { dealloc(b as *mut u8, layout) };
        }
    });
}
