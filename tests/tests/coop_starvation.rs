//! The cooperative budget: a task looping on a minirt future that is always
//! ready must still let the other tasks and the timers of its thread run.
//!
//! Each case spawns a *spinner*, a task that loops on one always-ready
//! operation until a shared flag says stop, and a *stopper* that sets the
//! flag once the spinner has done a good number of iterations: a sibling
//! task, or a timer. Without the budget the spinner's first poll in its loop
//! never returns on a current-thread runtime (or a multi-thread one with a
//! single worker), the stopper never runs, and the watchdog aborts the test.
//!
//! Every case runs on the current-thread runtime, the two-worker runtime of
//! `named_runtimes`, and a one-worker multi-thread runtime (the one where
//! starvation shows on that flavour).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use minirt::io::{AsyncReadExt, AsyncWriteExt};
use minirt::net::{TcpListener, TcpStream};
use minirt::scope::Scope;
use minirt::sync::{mpsc, oneshot, Notify, Semaphore};
use minirt::task::{consume_budget, unconstrained};
use minirt::time::{sleep, sleep_until, timeout, timeout_at, Instant};
use minirt::{Builder, Runtime};
use minirt_tests::{bounded, named_runtimes};

/// Iterations the spinner must have done before the stopper stops it: many
/// budgets' worth, so the spinner really was interrupted mid-loop.
const SPINS_BEFORE_STOP: u64 = 2_000;

/// The watchdog's limit for one case on one runtime.
const LIMIT: Duration = Duration::from_secs(20);

/// Both runtime kinds, plus the multi-thread one with a single worker.
fn runtimes() -> Vec<(&'static str, Runtime)> {
    let mut rts = named_runtimes();
    rts.push((
        "multi_thread(1 worker)",
        Builder::multi_thread().worker_threads(1).build().unwrap(),
    ));
    rts
}

/// What the spinner and the stopper share.
#[derive(Default)]
struct Probe {
    stop: AtomicBool,
    spins: AtomicU64,
}

impl Probe {
    /// Counts an iteration; whether the spinner should go on.
    fn keep_spinning(&self) -> bool {
        self.spins.fetch_add(1, Relaxed);
        !self.stop.load(Relaxed)
    }

    /// Whether the spinner has done enough to be stopped.
    fn spun_enough(&self) -> bool {
        self.spins.load(Relaxed) >= SPINS_BEFORE_STOP
    }
}

/// Who stops the spinner.
#[derive(Clone, Copy, Debug)]
enum Stopper {
    /// A sibling task that checks between its yields.
    Task,
    /// A task woken by a 1 ms timer each time.
    Timer,
}

/// Runs `spinner` against each stopper on each runtime; the spinner must be
/// stopped (so it yielded) and must have been inside its loop.
fn assert_spinner_yields<Fut>(what: &str, spinner: impl Fn(Arc<Probe>) -> Fut)
where
    Fut: Future<Output = ()> + Send + 'static,
{
    for (name, rt) in runtimes() {
        for stopper in [Stopper::Task, Stopper::Timer] {
            let probe = Arc::new(Probe::default());
            bounded(LIMIT, || {
                rt.block_on(async {
                    let spinning = minirt::spawn(spinner(probe.clone()));
                    let p = probe.clone();
                    let stopping = minirt::spawn(async move {
                        while !p.spun_enough() {
                            match stopper {
                                Stopper::Task => minirt::yield_now().await,
                                Stopper::Timer => sleep(Duration::from_millis(1)).await,
                            }
                        }
                        p.stop.store(true, Relaxed);
                    });
                    spinning.await.unwrap();
                    stopping.await.unwrap();
                })
            });
            assert!(
                probe.spun_enough(),
                "{what}, {name}, {stopper:?}: the spinner stopped early"
            );
        }
    }
}

#[test]
fn mpsc_recv_of_a_filled_channel() {
    assert_spinner_yields("mpsc recv", |probe| async move {
        let (tx, mut rx) = mpsc::channel(8);
        while probe.keep_spinning() {
            tx.try_send(1u32).unwrap();
            assert_eq!(rx.recv().await, Some(1));
        }
    });
}

#[test]
fn mpsc_send_with_room() {
    assert_spinner_yields("mpsc send", |probe| async move {
        let (tx, mut rx) = mpsc::channel(8);
        while probe.keep_spinning() {
            tx.send(1u32).await.unwrap();
            assert_eq!(rx.try_recv(), Ok(1));
        }
    });
}

#[test]
fn oneshot_recv_of_a_sent_value() {
    assert_spinner_yields("oneshot recv", |probe| async move {
        while probe.keep_spinning() {
            let (tx, rx) = oneshot::channel();
            tx.send(1u32).unwrap();
            assert_eq!(rx.await, Ok(1));
        }
    });
}

#[test]
fn semaphore_acquire_with_a_free_permit() {
    assert_spinner_yields("semaphore acquire", |probe| async move {
        let sem = Semaphore::new(1);
        while probe.keep_spinning() {
            drop(sem.acquire().await.unwrap());
        }
    });
}

#[test]
fn notified_with_a_stored_permit() {
    assert_spinner_yields("Notify::notified", |probe| async move {
        let notify = Notify::new();
        while probe.keep_spinning() {
            notify.notify_one();
            notify.notified().await;
        }
    });
}

#[test]
fn elapsed_sleep() {
    assert_spinner_yields("elapsed sleep", |probe| async move {
        // `sleep(ZERO)` waits for the next millisecond tick; a deadline
        // in the past is ready at once, every time.
        let past = Instant::now();
        sleep(Duration::from_millis(2)).await;
        while probe.keep_spinning() {
            sleep_until(past).await;
        }
    });
}

#[test]
fn elapsed_timeout() {
    assert_spinner_yields("elapsed timeout", |probe| async move {
        let past = Instant::now();
        sleep(Duration::from_millis(2)).await;
        while probe.keep_spinning() {
            assert!(timeout_at(past, std::future::pending::<()>())
                .await
                .is_err());
        }
    });
}

#[test]
fn joining_an_empty_scope() {
    assert_spinner_yields("Scope::join", |probe| async move {
        while probe.keep_spinning() {
            assert!(Scope::<()>::new().join().await.unwrap().is_empty());
        }
    });
}

#[test]
fn tcp_read_with_buffered_data_and_write_with_room() {
    assert_spinner_yields("TCP read/write", |probe| async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        // A backlog that never drains: each iteration writes one byte and
        // reads one, so reads find data and writes find room every time.
        client.write_all(&[7; 4096]).await.unwrap();
        let mut byte = [0];
        while probe.keep_spinning() {
            client.write_all(&[7]).await.unwrap();
            server.read_exact(&mut byte).await.unwrap();
            assert_eq!(byte, [7]);
        }
    });
}

#[test]
fn consume_budget_in_a_busy_loop() {
    assert_spinner_yields("consume_budget", |probe| async move {
        while probe.keep_spinning() {
            consume_budget().await;
        }
    });
}

#[test]
fn a_timeout_fires_around_a_future_that_always_finds_work_ready() {
    // The inner future spends the whole budget on every poll; the timeout
    // must still notice its deadline (it looks at its timer unconstrained
    // when the inner future took the last unit).
    for (name, rt) in runtimes() {
        bounded(LIMIT, || {
            rt.block_on(async {
                let busy = minirt::spawn(timeout(Duration::from_millis(20), async {
                    let sem = Semaphore::new(1);
                    loop {
                        drop(sem.acquire().await.unwrap());
                    }
                }));
                assert!(busy.await.unwrap().is_err(), "{name}");
            })
        });
    }
}

/// Counts the polls of its future.
struct CountPolls<F> {
    inner: Pin<Box<F>>,
    polls: Arc<AtomicUsize>,
}

impl<F: Future> Future for CountPolls<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.polls.fetch_add(1, Relaxed);
        self.inner.as_mut().poll(cx)
    }
}

/// Polls a task took to run `future`: spawned with and without
/// `unconstrained`.
fn polls_to_finish<F>(rt: &Runtime, future: F, unconstrained_: bool) -> usize
where
    F: Future<Output = ()> + Send + 'static,
{
    let polls = Arc::new(AtomicUsize::new(0));
    let counted = CountPolls {
        inner: Box::pin(future),
        polls: polls.clone(),
    };
    rt.block_on(async {
        if unconstrained_ {
            minirt::spawn(unconstrained(counted)).await.unwrap();
        } else {
            minirt::spawn(counted).await.unwrap();
        }
    });
    polls.load(Relaxed)
}

/// 1000 ready operations: 7 polls of 128, then one for the last 104.
const OPS: usize = 1000;
const BUDGETED_POLLS: usize = 8;

#[test]
fn the_budget_is_per_poll_and_unconstrained_disables_it() {
    for (name, rt) in runtimes() {
        bounded(LIMIT, || {
            for unconstrained_ in [false, true] {
                let sem = Arc::new(Semaphore::new(1));
                let polls = polls_to_finish(
                    &rt,
                    async move {
                        for _ in 0..OPS {
                            drop(sem.acquire().await.unwrap());
                        }
                    },
                    unconstrained_,
                );
                let expected = if unconstrained_ { 1 } else { BUDGETED_POLLS };
                assert_eq!(polls, expected, "{name}, unconstrained: {unconstrained_}");
            }
        });
    }
}

#[test]
fn awaiting_finished_join_handles_spends_the_budget() {
    for (name, rt) in runtimes() {
        bounded(LIMIT, || {
            for unconstrained_ in [false, true] {
                let handles = rt.block_on(async {
                    let handles: Vec<_> = (0..OPS).map(|_| minirt::spawn(async {})).collect();
                    while !handles.iter().all(|h| h.is_finished()) {
                        minirt::yield_now().await;
                    }
                    handles
                });
                let polls = polls_to_finish(
                    &rt,
                    async move {
                        for handle in handles {
                            handle.await.unwrap();
                        }
                    },
                    unconstrained_,
                );
                let expected = if unconstrained_ { 1 } else { BUDGETED_POLLS };
                assert_eq!(polls, expected, "{name}, unconstrained: {unconstrained_}");
            }
        });
    }
}

/// The `block_on` future itself is polled with a budget too: looping on an
/// always-ready semaphore inside `block_on` lets a current-thread runtime's
/// tasks run.
#[test]
fn a_block_on_future_looping_on_ready_work_lets_tasks_run() {
    bounded(LIMIT, || {
        for (name, rt) in runtimes() {
            let probe = Arc::new(Probe::default());
            let spins = rt.block_on({
                let probe = probe.clone();
                async move {
                    let stopper = probe.clone();
                    drop(minirt::spawn(async move {
                        stopper.stop.store(true, Relaxed);
                    }));
                    let sem = Semaphore::new(1);
                    while probe.keep_spinning() {
                        drop(sem.acquire().await.unwrap());
                    }
                    probe.spins.load(Relaxed)
                }
            });
            assert!(spins >= 1, "{name}: the block_on loop never ran");
        }
    });
}
