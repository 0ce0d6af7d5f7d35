//! Behaviour of the pool, checked through its counters. Threads are ordered
//! with gates, channels and barriers; the only polling is `wait_until`, a
//! wait-for-condition with a generous deadline for things (threads exiting)
//! that have no event to wait on.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use super::*;

/// Long enough that no test waits this long unless something is broken.
const PATIENCE: Duration = Duration::from_secs(20);
/// A keep-alive no test outlives, so threads stay put.
const FOREVER: Duration = Duration::from_secs(3600);

/// A latch jobs block on until the test opens it.
struct Gate {
    open: Mutex<bool>,
    opened: Condvar,
}

impl Gate {
    fn new() -> Arc<Gate> {
        Arc::new(Gate {
            open: Mutex::new(false),
            opened: Condvar::new(),
        })
    }

    fn open(&self) {
        *self.open.lock().unwrap() = true;
        self.opened.notify_all();
    }

    fn wait(&self) {
        let mut open = self.open.lock().unwrap();
        while !*open {
            open = self.opened.wait(open).unwrap();
        }
    }
}

/// Polls `condition` until it holds; panics naming `what` after `PATIENCE`.
fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        thread::sleep(Duration::from_millis(1));
    }
}

/// Thread start and stop counts, fed by the pool's hooks.
#[derive(Clone, Default)]
struct ThreadCounts {
    started: Arc<AtomicUsize>,
    stopped: Arc<AtomicUsize>,
}

impl ThreadCounts {
    fn config(&self, max_threads: usize, keep_alive: Duration) -> PoolConfig {
        let started = Arc::clone(&self.started);
        let stopped = Arc::clone(&self.stopped);
        PoolConfig {
            name: "test-pool".to_string(),
            max_threads,
            keep_alive,
            on_thread_start: Some(Arc::new(move || {
                started.fetch_add(1, Ordering::SeqCst);
            })),
            on_thread_stop: Some(Arc::new(move || {
                stopped.fetch_add(1, Ordering::SeqCst);
            })),
            ..PoolConfig::default()
        }
    }

    fn started(&self) -> usize {
        self.started.load(Ordering::SeqCst)
    }

    fn stopped(&self) -> usize {
        self.stopped.load(Ordering::SeqCst)
    }
}

type BoxedJob = Box<dyn FnOnce() + Send + 'static>;

/// Submits a job that reports on `started`, then blocks on `gate`.
fn submit_gated(
    pool: &Pool<Box<dyn FnOnce() + Send>>,
    gate: &Arc<Gate>,
    started: &mpsc::Sender<()>,
) {
    let gate = Arc::clone(gate);
    let started = started.clone();
    let submitted = pool.submit(Box::new(move || {
        started.send(()).unwrap();
        gate.wait();
    }));
    assert!(submitted.is_ok(), "pool refused a job before shutdown");
}

fn recv<T>(rx: &mpsc::Receiver<T>, what: &str) -> T {
    rx.recv_timeout(PATIENCE)
        .unwrap_or_else(|e| panic!("no message for {what}: {e}"))
}

#[test]
fn grows_to_the_limit_and_not_beyond() {
    let counts = ThreadCounts::default();
    let pool: Pool<Box<dyn FnOnce() + Send>> = Pool::new(counts.config(3, FOREVER));
    let gate = Gate::new();
    let (started_tx, started_rx) = mpsc::channel();

    for _ in 0..5 {
        submit_gated(&pool, &gate, &started_tx);
    }
    for _ in 0..3 {
        recv(&started_rx, "one of the first three jobs to start");
    }
    // All three threads block on the gate: nothing else can start.
    assert_eq!(
        pool.metrics(),
        PoolMetrics {
            live_threads: 3,
            idle_threads: 0,
            busy_threads: 3,
            queued: 2,
        }
    );
    assert_eq!(counts.started(), 3);
    assert!(started_rx.try_recv().is_err(), "a fourth job started");

    gate.open();
    for _ in 0..2 {
        recv(&started_rx, "the queued jobs to start");
    }
    assert!(pool.shutdown(None));
    assert_eq!(
        counts.started(),
        3,
        "the queued jobs must reuse the 3 threads"
    );
    assert_eq!(counts.stopped(), 3);
    assert_eq!(pool.live_threads(), 0);
}

#[test]
fn idle_threads_are_reused_and_one_job_claims_one_thread() {
    let counts = ThreadCounts::default();
    let pool: Pool<Box<dyn FnOnce() + Send>> = Pool::new(counts.config(8, FOREVER));
    let (done_tx, done_rx) = mpsc::channel();

    // One job at a time: the same thread serves all of them.
    for i in 0..20 {
        let done = done_tx.clone();
        assert!(pool.submit(Box::new(move || done.send(i).unwrap())).is_ok());
        assert_eq!(recv(&done_rx, "a sequential job"), i);
        wait_until("the thread is idle again", || pool.idle_threads() == 1);
    }
    assert_eq!(counts.started(), 1);

    // Four at once: the idle thread takes one, three more are started.
    let gate = Gate::new();
    let (started_tx, started_rx) = mpsc::channel();
    for _ in 0..4 {
        submit_gated(&pool, &gate, &started_tx);
    }
    for _ in 0..4 {
        recv(&started_rx, "four parallel jobs to start");
    }
    assert_eq!(counts.started(), 4);
    gate.open();
    wait_until("all four threads are idle", || pool.idle_threads() == 4);

    // One more job claims exactly one idle thread and starts none.
    let second_gate = Gate::new();
    submit_gated(&pool, &second_gate, &started_tx);
    recv(&started_rx, "the job given to an idle thread");
    assert_eq!(counts.started(), 4);
    assert_eq!(pool.live_threads(), 4);
    assert_eq!(pool.idle_threads(), 3);
    assert_eq!(pool.busy_threads(), 1);

    second_gate.open();
    assert!(pool.shutdown(None));
}

#[test]
fn idle_threads_exit_after_keep_alive() {
    let counts = ThreadCounts::default();
    let pool: Pool<Box<dyn FnOnce() + Send>> =
        Pool::new(counts.config(4, Duration::from_millis(50)));
    let gate = Gate::new();
    let (started_tx, started_rx) = mpsc::channel();
    for _ in 0..3 {
        submit_gated(&pool, &gate, &started_tx);
    }
    for _ in 0..3 {
        recv(&started_rx, "three jobs to start");
    }
    assert_eq!(pool.live_threads(), 3);
    gate.open();

    wait_until("idle threads time out", || pool.live_threads() == 0);
    wait_until("their stop hooks run", || counts.stopped() == 3);
    assert_eq!(pool.idle_threads(), 0);

    // The pool grows again on demand.
    let (done_tx, done_rx) = mpsc::channel();
    assert!(pool
        .submit(Box::new(move || done_tx.send(()).unwrap()))
        .is_ok());
    recv(&done_rx, "a job after the pool shrank to zero");
    assert_eq!(counts.started(), 4);
    assert!(pool.shutdown(None));
}

#[test]
fn zero_keep_alive_still_runs_every_job() {
    let pool: Pool<Box<dyn FnOnce() + Send>> = Pool::new(PoolConfig {
        max_threads: 2,
        keep_alive: Duration::ZERO,
        ..PoolConfig::default()
    });
    let (done_tx, done_rx) = mpsc::channel();
    for i in 0..50 {
        let done = done_tx.clone();
        assert!(pool.submit(Box::new(move || done.send(i).unwrap())).is_ok());
    }
    let mut seen: Vec<i32> = (0..50).map(|_| recv(&done_rx, "a job")).collect();
    seen.sort_unstable();
    assert_eq!(seen, (0..50).collect::<Vec<_>>());
    wait_until("threads exit at once", || pool.live_threads() == 0);
    assert!(pool.shutdown(None));
}

/// Counts its drops that happen without `run` having been called.
struct DropUnrunCounter {
    dropped_unrun: Arc<AtomicUsize>,
    ran: Arc<AtomicUsize>,
    armed: bool,
}

impl DropUnrunCounter {
    fn job(dropped_unrun: &Arc<AtomicUsize>, ran: &Arc<AtomicUsize>) -> BoxedJob {
        let mut counter = DropUnrunCounter {
            dropped_unrun: Arc::clone(dropped_unrun),
            ran: Arc::clone(ran),
            armed: true,
        };
        Box::new(move || {
            counter.armed = false;
            counter.ran.fetch_add(1, Ordering::SeqCst);
        })
    }
}

impl Drop for DropUnrunCounter {
    fn drop(&mut self) {
        if self.armed {
            self.dropped_unrun.fetch_add(1, Ordering::SeqCst);
        }
    }
}

#[test]
fn queued_jobs_are_dropped_not_run_at_shutdown() {
    let pool: Pool<Box<dyn FnOnce() + Send>> =
        Pool::new(ThreadCounts::default().config(1, FOREVER));
    let gate = Gate::new();
    let (started_tx, started_rx) = mpsc::channel();
    submit_gated(&pool, &gate, &started_tx);
    recv(&started_rx, "the blocking job to start");

    let dropped_unrun = Arc::new(AtomicUsize::new(0));
    let ran = Arc::new(AtomicUsize::new(0));
    for _ in 0..3 {
        assert!(pool
            .submit(DropUnrunCounter::job(&dropped_unrun, &ran))
            .is_ok());
    }
    assert_eq!(pool.queued(), 3);

    // The running job holds the only thread, so a zero wait cannot succeed.
    assert!(!pool.shutdown(Some(Duration::ZERO)));
    assert_eq!(dropped_unrun.load(Ordering::SeqCst), 3);
    assert_eq!(pool.queued(), 0);
    assert!(pool.is_shut_down());

    let refused = pool.submit(DropUnrunCounter::job(&dropped_unrun, &ran));
    assert!(refused.is_err(), "a job was accepted after shutdown");
    drop(refused);
    assert_eq!(dropped_unrun.load(Ordering::SeqCst), 4);

    gate.open();
    assert!(pool.shutdown(None));
    assert_eq!(ran.load(Ordering::SeqCst), 0);
}

#[test]
fn shutdown_waits_for_the_running_job() {
    let pool: Arc<Pool<Box<dyn FnOnce() + Send>>> = Arc::new(Pool::new(PoolConfig::default()));
    let gate = Gate::new();
    let finished = Arc::new(AtomicBool::new(false));
    let (started_tx, started_rx) = mpsc::channel();
    {
        let gate = Arc::clone(&gate);
        let finished = Arc::clone(&finished);
        let submitted = pool.submit(Box::new(move || {
            started_tx.send(()).unwrap();
            gate.wait();
            finished.store(true, Ordering::SeqCst);
        }));
        assert!(submitted.is_ok());
    }
    recv(&started_rx, "the job to start");

    let shutting_down = {
        let pool = Arc::clone(&pool);
        let finished = Arc::clone(&finished);
        thread::spawn(move || {
            let all_exited = pool.shutdown(None);
            (all_exited, finished.load(Ordering::SeqCst))
        })
    };
    wait_until("shutdown has begun", || pool.is_shut_down());
    assert!(!finished.load(Ordering::SeqCst));
    gate.open();

    let (all_exited, finished_before_return) = shutting_down.join().unwrap();
    assert!(all_exited);
    assert!(
        finished_before_return,
        "shutdown(None) returned before the running job finished"
    );
    assert_eq!(pool.live_threads(), 0);
}

#[test]
fn shutdown_timeout_gives_up_on_a_stuck_job() {
    let pool: Pool<Box<dyn FnOnce() + Send>> = Pool::new(PoolConfig::default());
    let gate = Gate::new();
    let (started_tx, started_rx) = mpsc::channel();
    submit_gated(&pool, &gate, &started_tx);
    recv(&started_rx, "the stuck job to start");

    assert!(!pool.shutdown(Some(Duration::from_millis(50))));
    assert_eq!(pool.live_threads(), 1, "the stuck thread is still there");

    gate.open();
    assert!(pool.shutdown(None), "a second shutdown waits again");
    assert_eq!(pool.live_threads(), 0);
}

#[test]
fn a_panicking_job_does_not_kill_its_thread() {
    let counts = ThreadCounts::default();
    let pool: Pool<Box<dyn FnOnce() + Send>> = Pool::new(counts.config(1, FOREVER));
    assert!(pool
        .submit(Box::new(|| panic!("deliberate panic in a pool job")))
        .is_ok());
    let (done_tx, done_rx) = mpsc::channel();
    assert!(pool
        .submit(Box::new(move || done_tx.send(()).unwrap()))
        .is_ok());
    recv(&done_rx, "the job after the panicking one");
    assert_eq!(counts.started(), 1, "the thread should have survived");
    assert_eq!(pool.live_threads(), 1);
    assert!(pool.shutdown(None));
}

#[test]
fn shutdown_on_a_pool_thread_does_not_wait_for_itself() {
    let pool: Arc<Pool<Box<dyn FnOnce() + Send>>> = Arc::new(Pool::new(PoolConfig::default()));
    let (result_tx, result_rx) = mpsc::channel();
    let inner = Arc::clone(&pool);
    assert!(pool
        .submit(Box::new(move || result_tx
            .send(inner.shutdown(None))
            .unwrap()))
        .is_ok());
    assert!(recv(&result_rx, "shutdown called inside a job to return"));
    assert!(pool.shutdown(None));
}

#[test]
fn shutdown_on_a_pool_thread_waits_for_the_other_threads() {
    let pool: Arc<Pool<Box<dyn FnOnce() + Send>>> = Arc::new(Pool::new(PoolConfig::default()));
    let gate = Gate::new();
    let other_finished = Arc::new(AtomicBool::new(false));
    let (started_tx, started_rx) = mpsc::channel();
    {
        let gate = Arc::clone(&gate);
        let other_finished = Arc::clone(&other_finished);
        let submitted = pool.submit(Box::new(move || {
            started_tx.send(()).unwrap();
            gate.wait();
            other_finished.store(true, Ordering::SeqCst);
        }));
        assert!(submitted.is_ok());
    }
    recv(&started_rx, "the other job to start");

    let (result_tx, result_rx) = mpsc::channel();
    {
        let inner = Arc::clone(&pool);
        let other_finished = Arc::clone(&other_finished);
        let submitted = pool.submit(Box::new(move || {
            let all_exited = inner.shutdown(None);
            result_tx
                .send((all_exited, other_finished.load(Ordering::SeqCst)))
                .unwrap();
        }));
        assert!(submitted.is_ok());
    }
    wait_until("the inner shutdown has begun", || pool.is_shut_down());
    gate.open();
    assert_eq!(recv(&result_rx, "the inner shutdown"), (true, true));
    assert!(pool.shutdown(None));
}

#[test]
fn two_jobs_shutting_down_their_pool_do_not_wait_for_each_other() {
    let pool: Arc<Pool<Box<dyn FnOnce() + Send>>> = Arc::new(Pool::new(PoolConfig::default()));
    let both_running = Arc::new(Barrier::new(2));
    let (result_tx, result_rx) = mpsc::channel();
    for _ in 0..2 {
        let inner = Arc::clone(&pool);
        let both_running = Arc::clone(&both_running);
        let result_tx = result_tx.clone();
        let submitted = pool.submit(Box::new(move || {
            both_running.wait();
            result_tx.send(inner.shutdown(None)).unwrap();
        }));
        assert!(submitted.is_ok());
    }
    assert!(recv(&result_rx, "the first inner shutdown"));
    assert!(recv(&result_rx, "the second inner shutdown"));
    assert!(pool.shutdown(None));
}

#[test]
fn dropping_the_last_handle_inside_a_job_does_not_block() {
    let counts = ThreadCounts::default();
    let pool: Arc<Pool<Box<dyn FnOnce() + Send>>> = Arc::new(Pool::new(counts.config(4, FOREVER)));
    let gate = Gate::new();
    let (started_tx, started_rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel();
    {
        let inner = Arc::clone(&pool);
        let gate = Arc::clone(&gate);
        let submitted = pool.submit(Box::new(move || {
            started_tx.send(()).unwrap();
            gate.wait();
            drop(inner); // the last handle: Pool::drop runs on its own thread
            done_tx.send(()).unwrap();
        }));
        assert!(submitted.is_ok());
    }
    recv(&started_rx, "the job to start");
    drop(pool);
    gate.open();
    recv(&done_rx, "the job that dropped its own pool");
    // Despite the keep-alive, the dropped pool's thread leaves.
    wait_until("the pool thread exits", || counts.stopped() == 1);
}

#[test]
fn dropping_the_pool_does_not_wait_but_running_jobs_finish() {
    let pool: Pool<Box<dyn FnOnce() + Send>> = Pool::new(PoolConfig::default());
    let gate = Gate::new();
    let (started_tx, started_rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel();
    {
        let gate = Arc::clone(&gate);
        let submitted = pool.submit(Box::new(move || {
            started_tx.send(()).unwrap();
            gate.wait();
            done_tx.send(()).unwrap();
        }));
        assert!(submitted.is_ok());
    }
    recv(&started_rx, "the job to start");
    drop(pool); // would hang here if Drop waited: the job is still gated
    gate.open();
    recv(&done_rx, "the detached job to finish");
}

/// A job type of the runtime's kind: not a closure.
struct Numbered {
    number: usize,
    done: mpsc::Sender<usize>,
}

impl Job for Numbered {
    fn run(self) {
        self.done.send(self.number).unwrap();
    }
}

#[test]
fn custom_job_types_run_and_come_back_when_refused() {
    let pool: Pool<Numbered> = Pool::new(PoolConfig::default());
    let (done_tx, done_rx) = mpsc::channel();
    let job = Numbered {
        number: 7,
        done: done_tx.clone(),
    };
    assert!(pool.submit(job).is_ok());
    assert_eq!(recv(&done_rx, "the custom job"), 7);

    assert!(pool.shutdown(None));
    let refused = pool.submit(Numbered {
        number: 8,
        done: done_tx,
    });
    assert_eq!(refused.err().map(|job| job.number), Some(8));
}

#[test]
fn threads_are_named_after_the_pool() {
    let pool = BlockingPool::builder().name("db").build().unwrap();
    let name = pool
        .spawn(|| thread::current().name().map(str::to_owned))
        .wait()
        .unwrap();
    assert_eq!(name.as_deref(), Some("db-0"));
    assert_eq!(pool.name(), "db");
}

#[test]
fn builder_rejects_zero_threads_and_empty_names() {
    let err = BlockingPool::builder().max_threads(0).build().unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("max_threads"), "{err}");

    let err = BlockingPool::builder().name("").build().unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("name"), "{err}");

    let pool = BlockingPool::builder()
        .name("ok")
        .max_threads(1)
        .keep_alive(Duration::from_millis(10))
        .stack_size(256 * 1024)
        .build()
        .unwrap();
    assert_eq!(pool.spawn(|| 1 + 1).wait().unwrap(), 2);
}

#[test]
#[should_panic(expected = "max_threads must be at least 1")]
fn pool_new_panics_on_zero_threads() {
    let _pool: Pool<Box<dyn FnOnce() + Send>> = Pool::new(PoolConfig {
        max_threads: 0,
        ..PoolConfig::default()
    });
}

#[test]
fn blocking_handle_reports_values_panics_and_cancellation() {
    let pool = BlockingPool::builder()
        .name("handles")
        .max_threads(1)
        .build()
        .unwrap();
    assert_eq!(pool.spawn(|| "value").wait().unwrap(), "value");

    let payload = pool
        .spawn(|| -> u8 { panic!("deliberate panic in a spawned closure") })
        .wait()
        .unwrap_err()
        .into_panic();
    assert_eq!(
        payload.downcast_ref::<&str>(),
        Some(&"deliberate panic in a spawned closure")
    );

    let gate = Gate::new();
    let running = {
        let gate = Arc::clone(&gate);
        pool.spawn(move || gate.wait())
    };
    let queued = pool.spawn(|| 5);
    wait_until("the second closure is queued behind the first", || {
        pool.queued() == 1 && pool.idle_threads() == 0
    });
    assert!(!pool.shutdown(Some(Duration::ZERO)));
    let err = queued.wait().unwrap_err();
    assert!(err.is_cancelled());

    gate.open();
    running.wait().unwrap();
    assert!(pool.shutdown(None));
    assert!(pool.spawn(|| 6).wait().unwrap_err().is_cancelled());
}

#[test]
fn counters_of_a_blocking_pool_track_its_threads() {
    let counts = ThreadCounts::default();
    let started = Arc::clone(&counts.started);
    let pool = BlockingPool::builder()
        .name("counted")
        .max_threads(2)
        .keep_alive(FOREVER)
        .on_thread_start(move || {
            started.fetch_add(1, Ordering::SeqCst);
        })
        .build()
        .unwrap();
    let clone = pool.clone();
    clone.spawn(|| ()).wait().unwrap();
    wait_until("the thread is idle", || pool.idle_threads() == 1);
    assert_eq!(pool.live_threads(), 1);
    assert_eq!(pool.queued(), 0);
    assert_eq!(pool.busy_threads(), 0);
    assert_eq!(pool.metrics().idle_threads, 1);
    assert_eq!(counts.started(), 1);
    assert!(clone.shutdown(None));
    assert_eq!(pool.live_threads(), 0);
}

/// Blocks the test thread until a task's `JoinHandle` resolves.
trait Wait<R> {
    fn wait(self) -> Result<R, minirt_core::task::JoinError>;
}

impl<R> Wait<R> for minirt_core::task::JoinHandle<R> {
    fn wait(self) -> Result<R, minirt_core::task::JoinError> {
        crate::block_on(self)
    }
}

/// Jobs that wait for one another each need a thread of their own: a burst
/// of them must not queue behind a busy one while the pool may grow, even
/// though a burst wakes (or starts) one thread at a time (the hand-off rule
/// in `state.rs`). Twelve jobs meet at a barrier of twelve; with any job
/// stuck in the queue the barrier would never open. Done twice: once growing
/// from zero threads, once handing off to the twelve idle threads.
#[test]
fn a_burst_of_jobs_that_wait_for_each_other_gets_a_thread_each() {
    const JOBS: usize = 12;
    let counts = ThreadCounts::default();
    let pool: Pool<BoxedJob> = Pool::new(counts.config(64, FOREVER));
    for round in 0..2 {
        let barrier = Arc::new(Barrier::new(JOBS));
        let (done_tx, done_rx) = mpsc::channel();
        for _ in 0..JOBS {
            let barrier = Arc::clone(&barrier);
            let done = done_tx.clone();
            let submitted = pool.submit(Box::new(move || {
                barrier.wait();
                done.send(()).unwrap();
            }));
            assert!(submitted.is_ok());
        }
        for _ in 0..JOBS {
            recv(&done_rx, "every job of the burst to pass the barrier");
        }
        assert_eq!(counts.started(), JOBS, "round {round}: one thread per job");
        wait_until("all threads idle", || pool.idle_threads() == JOBS);
    }
    assert!(pool.shutdown(None));
}

/// A job queued behind a thread that is still running its (slow) start
/// hook is not stranded: the starting thread takes it after the hook.
#[test]
fn a_job_queued_during_a_slow_start_hook_runs() {
    let (hook_entered_tx, hook_entered_rx) = mpsc::channel();
    let release = Gate::new();
    let hook_gate = Arc::clone(&release);
    let hook_entered = Mutex::new(hook_entered_tx);
    let pool: Pool<BoxedJob> = Pool::new(PoolConfig {
        max_threads: 1,
        on_thread_start: Some(Arc::new(move || {
            hook_entered.lock().unwrap().send(()).unwrap();
            hook_gate.wait();
        })),
        ..PoolConfig::default()
    });
    let (done_tx, done_rx) = mpsc::channel();
    for i in 0..3 {
        let done = done_tx.clone();
        assert!(pool.submit(Box::new(move || done.send(i).unwrap())).is_ok());
        if i == 0 {
            recv(&hook_entered_rx, "the start hook to begin");
        }
    }
    release.open();
    let got: Vec<i32> = (0..3).map(|_| recv(&done_rx, "the queued jobs")).collect();
    assert_eq!(got, [0, 1, 2], "one thread runs them in order");
    assert!(pool.shutdown(None));
}

/// The spin of `state.rs` ("Why one thread spins before it sleeps"), as
/// state transitions: a job queued while a thread spins is left to it (no
/// wake-up, no new thread), a second thread cannot spin too, and the
/// spinner counts as idle in the metrics.
#[test]
fn a_spinning_thread_takes_the_next_job_and_only_one_spins() {
    let mut state: state::State<u32> = state::State::new();
    // Two live threads, both done with their jobs.
    state.live = 2;
    state.unfinished = 2;
    assert!(state.transition_to_spinning(), "the first one spins");
    assert!(!state.transition_to_spinning(), "a second one goes idle");
    state.transition_to_idle();
    assert_eq!(state.idle_or_spinning(), 2);
    // A job arrives while one spins and one sleeps: nobody is woken.
    assert_eq!(
        state.transition_to_queued(7, 4, 0),
        state::Dispatch::OnItsWay,
        "the spinner takes it"
    );
    assert_eq!(state.idle, 1, "the sleeping thread was not claimed");
    // The spinner comes back and takes it; the next job claims the sleeper.
    state.transition_from_spinning();
    assert_eq!(state.queue.pop_front(), Some(7));
    assert_eq!(
        state.dispatch(4, 0),
        state::Dispatch::OnItsWay,
        "queue empty"
    );
    assert_eq!(
        state.transition_to_queued(8, 4, 0),
        state::Dispatch::HandToIdle
    );
}

/// The hand-off to a thread returning from a job (see `state.rs`): a job
/// queued while a thread hands over its last result is left to it, even
/// with another thread idle and room to grow; once it is back, the rule is
/// the usual one.
#[test]
fn a_thread_returning_from_a_job_takes_the_next_one() {
    let mut state: state::State<u32> = state::State::new();
    // One thread inside a job whose work is done, one asleep.
    state.live = 2;
    state.unfinished = 2;
    state.transition_to_idle();
    assert_eq!(
        state.transition_to_queued(1, 4, 1),
        state::Dispatch::OnItsWay,
        "the returning thread takes it"
    );
    assert_eq!(state.idle, 1, "the sleeping thread was not claimed");
    assert_eq!(state.live, 2, "no thread was started");
    // Back at the queue, it takes the job; nothing more is queued.
    assert_eq!(state.queue.pop_front(), Some(1));
    assert_eq!(state.dispatch(4, 0), state::Dispatch::OnItsWay);
    // The same job queued with nobody returning claims the sleeper.
    assert_eq!(
        state.transition_to_queued(2, 4, 0),
        state::Dispatch::HandToIdle
    );
}

/// Through a real pool: jobs that announce their work done (twice, even)
/// and jobs that never do (a custom `Job`) leave no thread counted as
/// returning once the pool's threads are back.
#[test]
fn returning_is_zero_after_jobs_with_and_without_an_announcement() {
    struct Announcing(mpsc::Sender<()>, bool);
    impl Job for Announcing {
        fn run(self) {
            if self.1 {
                worker::job_work_done();
                worker::job_work_done();
            }
            self.0.send(()).unwrap();
        }
    }
    let pool: Pool<Announcing> = Pool::new(PoolConfig::default());
    let (tx, rx) = mpsc::channel();
    for _ in 0..20 {
        assert!(pool.submit(Announcing(tx.clone(), true)).is_ok());
        rx.recv_timeout(Duration::from_secs(30)).unwrap();
    }
    // Each job was submitted during the last one's hand-over: never a
    // second thread.
    assert_eq!(pool.live_threads(), 1);
    for _ in 0..20 {
        assert!(pool.submit(Announcing(tx.clone(), false)).is_ok());
        rx.recv_timeout(Duration::from_secs(30)).unwrap();
    }
    pool.shutdown(Some(Duration::from_secs(30)));
    assert_eq!(pool.shared.returning.load(Ordering::SeqCst), 0);
}
