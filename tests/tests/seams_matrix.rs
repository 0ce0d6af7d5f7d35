//! The seams matrix: runtime kind (current-thread; multi-thread with 2
//! workers and with 1) × clock kind (real; mock with auto-advance) × the
//! kind of work running beside a timer (a plain task, a local task, a
//! `spawn_blocking` job, a sync-boundary scope's closure, a `block_on`
//! future, an I/O wait on a loopback socket).
//!
//! Every combination must complete. With the mock clock, virtual time must
//! move exactly when everything is idle: never while a blocking job, a
//! `block_on` future, a sync-scope closure or a task is still working, and
//! always once all of them are waiting, so an hour of sleep takes
//! milliseconds and `Instant` differences are exact.
//!
//! "Time did not move while X worked" is checked by a child that sleeps
//! beside X and reports on a std channel when it wakes: X waits a short real
//! [`QUIET`] window for that report, which must not come. A runtime that
//! moves time early does so within microseconds of going idle, so the window
//! catches it; a correct one shows nothing, and the child's timestamps then
//! prove the wait left virtual time untouched. Nothing here orders threads
//! by sleeping.

use std::io::Write;
use std::rc::Rc;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use minirt::io::AsyncReadExt;
use minirt::net::TcpStream;
use minirt::scope::{self, Options};
use minirt::sync::oneshot;
use minirt::time::{self, Instant};
use minirt_tests::{
    bounded, each_case, each_runtime_and_clock, Case, CLOCKS, FLAVORS, MULTI_THREAD,
};
use minirt_tests::{ClockKind, Flavor};

/// The watchdog's limit for each test (all its cases together).
const LIMIT: Duration = Duration::from_secs(60);

/// How long a busy piece of work waits (real time) for a sleeper beside it
/// to wake, when under the mock clock it must not.
const QUIET: Duration = Duration::from_millis(200);

/// How long to wait (real time) for something that must happen.
const PATIENCE: Duration = Duration::from_secs(20);

/// A "long" sleep: an hour under the mock clock, a few milliseconds under
/// the real one.
fn long(case: &Case) -> Duration {
    if case.is_mock() {
        Duration::from_secs(3600)
    } else {
        Duration::from_millis(20)
    }
}

/// How long a piece of work waits for a sleeper beside it: a sleeper must
/// wake meanwhile under the real clock, and must not under the mock clock.
fn beside_window(case: &Case) -> Duration {
    if case.is_mock() {
        QUIET
    } else {
        PATIENCE
    }
}

/// Checks the time a sleep of `slept` took: exactly `slept` of virtual time
/// under the mock clock, at least `slept` under the real one.
fn assert_slept(case: &Case, what: &str, took: Duration, slept: Duration) {
    if case.is_mock() {
        assert_eq!(
            took, slept,
            "{}: {what}: virtual time not exact",
            case.label
        );
    } else {
        assert!(
            took >= slept,
            "{}: {what}: woke early ({took:?} < {slept:?})",
            case.label
        );
    }
}

/// Checks that a mock-clock case took little real time (nothing waited for
/// virtual time in real time).
fn assert_fast(case: &Case, real_start: std::time::Instant) {
    if case.is_mock() {
        let real = real_start.elapsed();
        assert!(
            real < Duration::from_secs(10),
            "{}: took {real:?} of real time",
            case.label
        );
    }
}

// ---------------------------------------------------------------------------
// Blocking jobs (defect 3 of issue 12).

/// A task sleeps while a `spawn_blocking` job is running (blocked on a std
/// channel that another thread releases). Real clock: the timer fires while
/// the job still runs. Mock clock: time stays still while the job runs —
/// the job sees the same instant at its start and its end — and jumps by
/// exactly the sleep once the job has ended.
#[test]
fn a_sleep_beside_a_blocking_job_completes_and_time_waits_for_the_job() {
    bounded(LIMIT, || {
        each_runtime_and_clock(|case| {
            let real_start = std::time::Instant::now();
            let nap = long(case);
            let window = beside_window(case);
            let (job, woke_during_job, slept) = case.rt.block_on(async {
                let start = Instant::now();
                let (started_tx, started_rx) = oneshot::channel();
                let (release_tx, release_rx) = mpsc::channel::<()>();
                let job = minirt::spawn_blocking(move || {
                    let first = Instant::now();
                    started_tx.send(()).unwrap();
                    release_rx.recv().unwrap();
                    (first, Instant::now())
                });
                started_rx.await.unwrap();
                let (woke_tx, woke_rx) = mpsc::channel();
                let sleeper = minirt::spawn(async move {
                    time::sleep(nap).await;
                    let _ = woke_tx.send(());
                    Instant::now()
                });
                let releaser = thread::spawn(move || {
                    let woke = woke_rx.recv_timeout(window).is_ok();
                    release_tx.send(()).unwrap();
                    woke
                });
                // The sleeper first: nothing but the end of the job can
                // restart a runtime that stopped time for it.
                let woke_at = sleeper.await.unwrap();
                let job = job.await.unwrap();
                let woke_during_job = releaser.join().unwrap();
                (
                    (job.0 - start, job.1 - start),
                    woke_during_job,
                    woke_at - start,
                )
            });
            if case.is_mock() {
                assert!(
                    !woke_during_job,
                    "{}: time moved while the blocking job ran",
                    case.label
                );
                assert_eq!(
                    job,
                    (Duration::ZERO, Duration::ZERO),
                    "{}: the blocking job saw virtual time move (start, end)",
                    case.label
                );
            } else {
                assert!(
                    woke_during_job,
                    "{}: the timer did not fire while the job ran",
                    case.label
                );
            }
            assert_slept(case, "sleep beside a blocking job", slept, nap);
            assert_fast(case, real_start);
        });
    });
}

/// The same with the job spawned from a task and detached, so that its end
/// wakes nobody: the sleeper, awaited by `block_on`, is the only thing left,
/// and the end of the job alone must let virtual time move again.
#[test]
fn a_mock_clock_moves_again_when_a_detached_blocking_job_ends() {
    bounded(LIMIT, || {
        each_case(&FLAVORS, &[ClockKind::Mock], |case| {
            let real_start = std::time::Instant::now();
            let (woke_during_job, slept) = case.rt.block_on(async {
                let start = Instant::now();
                let (started_tx, started_rx) = oneshot::channel();
                let (release_tx, release_rx) = mpsc::channel::<()>();
                minirt::spawn(async move {
                    drop(minirt::spawn_blocking(move || {
                        started_tx.send(()).unwrap();
                        release_rx.recv().unwrap();
                    }));
                })
                .await
                .unwrap();
                started_rx.await.unwrap();
                let (woke_tx, woke_rx) = mpsc::channel();
                let sleeper = minirt::spawn(async move {
                    time::sleep(Duration::from_secs(3600)).await;
                    let _ = woke_tx.send(());
                    Instant::now()
                });
                let releaser = thread::spawn(move || {
                    let woke = woke_rx.recv_timeout(QUIET).is_ok();
                    release_tx.send(()).unwrap();
                    woke
                });
                let woke_at = sleeper.await.unwrap();
                (releaser.join().unwrap(), woke_at - start)
            });
            assert!(
                !woke_during_job,
                "{}: time moved while the blocking job ran",
                case.label
            );
            assert_eq!(slept, Duration::from_secs(3600), "{}", case.label);
            assert_fast(case, real_start);
        });
    });
}

// ---------------------------------------------------------------------------
// The sync-boundary scope's closure.

/// While `scope_on`'s closure is still running (blocked), time must not
/// move: a child that sleeps 10 ms must not wake before the closure returns,
/// and a second child spawned after the wait starts at the same virtual
/// instant as the first. Under the real clock the first child wakes while
/// the closure waits.
#[test]
fn a_sync_scope_closure_holds_virtual_time_until_it_returns() {
    bounded(LIMIT, || {
        each_case(&MULTI_THREAD, &CLOCKS, |case| {
            let real_start = std::time::Instant::now();
            let nap = Duration::from_millis(10);
            let (woke_tx, woke_rx) = mpsc::channel();
            let mut woke_during_closure = false;
            let out = scope::scope_on(case.rt.handle(), |s| {
                s.spawn(async move {
                    let before = Instant::now();
                    time::sleep(nap).await;
                    let after = Instant::now();
                    let _ = woke_tx.send(());
                    (before, after)
                });
                woke_during_closure = woke_rx.recv_timeout(beside_window(case)).is_ok();
                s.spawn(async {
                    let now = Instant::now();
                    (now, now)
                });
            });
            let out = out.unwrap_or_else(|_| panic!("{}: the scope stopped", case.label));
            let [(first_start, first_end), (second_start, _)] = out[..] else {
                panic!("{}: expected two outputs, got {}", case.label, out.len());
            };
            if case.is_mock() {
                assert!(
                    !woke_during_closure,
                    "{}: virtual time moved while the scope's closure ran",
                    case.label
                );
                assert_eq!(
                    second_start - first_start,
                    Duration::ZERO,
                    "{}: the child spawned after the closure's wait started later in virtual time",
                    case.label
                );
            } else {
                assert!(
                    woke_during_closure,
                    "{}: the timer did not fire during the closure",
                    case.label
                );
            }
            assert_slept(case, "child of a sync scope", first_end - first_start, nap);
            assert_fast(case, real_start);
        });
    });
}

/// A sync scope with a deadline (`Options::on(..).timeout(..)`): while its
/// closure is still running, time must not jump to a child's timer or the
/// deadline; afterwards the children sleep their exact virtual durations and
/// the scope ends in time.
#[test]
fn a_sync_scope_with_a_deadline_does_not_expire_while_its_closure_runs() {
    bounded(LIMIT, || {
        each_case(&MULTI_THREAD, &CLOCKS, |case| {
            let real_start = std::time::Instant::now();
            let nap = if case.is_mock() {
                Duration::from_secs(60)
            } else {
                Duration::from_millis(10)
            };
            let (woke_tx, woke_rx) = mpsc::channel();
            let mut woke_during_closure = false;
            let out = Options::new()
                .on(case.rt.handle())
                .timeout(nap * 60)
                .scope(|s| {
                    s.spawn(async move {
                        let start = Instant::now();
                        time::sleep(nap).await;
                        let _ = woke_tx.send(());
                        (start, Instant::now())
                    });
                    woke_during_closure = woke_rx.recv_timeout(beside_window(case)).is_ok();
                    let spawned = s.spawn(async move {
                        let start = Instant::now();
                        time::sleep(nap).await;
                        (start, Instant::now())
                    });
                    assert!(
                        spawned.is_some(),
                        "{}: the scope ended while its closure ran",
                        case.label
                    );
                });
            let out = out.unwrap_or_else(|stopped| {
                panic!(
                    "{}: the scope stopped (timed out: {}) before its children finished",
                    case.label,
                    stopped.timed_out()
                )
            });
            let [(first_start, first_end), (second_start, second_end)] = out[..] else {
                panic!("{}: expected two outputs, got {}", case.label, out.len());
            };
            if case.is_mock() {
                assert!(
                    !woke_during_closure,
                    "{}: virtual time moved while the closure ran",
                    case.label
                );
                assert_eq!(
                    second_start, first_start,
                    "{}: virtual time moved between the closure's two spawns",
                    case.label
                );
            }
            assert_slept(case, "first child", first_end - first_start, nap);
            assert_slept(case, "second child", second_end - second_start, nap);
            assert_fast(case, real_start);
        });
    });
}

// ---------------------------------------------------------------------------
// block_on futures and running tasks.

/// A `block_on` future that is computing (here: blocked in a std channel
/// receive, not pending) holds virtual time still, although a task beside
/// it sleeps; once it awaits, time jumps by exactly that sleep.
#[test]
fn a_computing_block_on_future_holds_virtual_time() {
    bounded(LIMIT, || {
        each_case(&FLAVORS, &[ClockKind::Mock], |case| {
            let real_start = std::time::Instant::now();
            let (early, held, slept) = case.rt.block_on(async {
                let start = Instant::now();
                let (sleeping_tx, sleeping_rx) = oneshot::channel();
                let (woke_tx, woke_rx) = mpsc::channel();
                let sleeper = minirt::spawn(async move {
                    let sleep = time::sleep(Duration::from_secs(1));
                    sleeping_tx.send(()).unwrap();
                    sleep.await;
                    let _ = woke_tx.send(());
                    Instant::now()
                });
                sleeping_rx.await.unwrap();
                // Synchronous work: wait for a helper thread, which the test
                // releases once the sleeper had its chance to wake early.
                let (release_tx, release_rx) = mpsc::channel::<bool>();
                let helper = thread::spawn(move || {
                    release_tx
                        .send(woke_rx.recv_timeout(QUIET).is_ok())
                        .unwrap();
                });
                let early = release_rx.recv().unwrap();
                helper.join().unwrap();
                let held = Instant::now() - start;
                (early, held, sleeper.await.unwrap() - start)
            });
            assert!(
                !early,
                "{}: a task woke while block_on computed",
                case.label
            );
            assert_eq!(
                held,
                Duration::ZERO,
                "{}: time moved while block_on computed",
                case.label
            );
            assert_eq!(slept, Duration::from_secs(1), "{}", case.label);
            assert_fast(case, real_start);
        });
    });
}

/// A task in the middle of a long poll is work: virtual time does not move
/// under it, although another task sleeps.
#[test]
fn a_running_task_holds_virtual_time() {
    bounded(LIMIT, || {
        each_case(&FLAVORS, &[ClockKind::Mock], |case| {
            let real_start = std::time::Instant::now();
            let (early, held, slept) = case.rt.block_on(async {
                let start = Instant::now();
                let (sleeping_tx, sleeping_rx) = oneshot::channel();
                let (woke_tx, woke_rx) = mpsc::channel();
                let sleeper = minirt::spawn(async move {
                    let sleep = time::sleep(Duration::from_secs(5));
                    sleeping_tx.send(()).unwrap();
                    sleep.await;
                    let _ = woke_tx.send(());
                    Instant::now()
                });
                sleeping_rx.await.unwrap();
                let busy = minirt::spawn(async move {
                    // One long poll, as a CPU-bound task would make.
                    let early = woke_rx.recv_timeout(QUIET).is_ok();
                    (early, Instant::now())
                });
                let (early, at) = busy.await.unwrap();
                (early, at - start, sleeper.await.unwrap() - start)
            });
            assert!(
                !early,
                "{}: a sleeper woke during another task's poll",
                case.label
            );
            assert_eq!(
                held,
                Duration::ZERO,
                "{}: time moved during a task's poll",
                case.label
            );
            assert_eq!(slept, Duration::from_secs(5), "{}", case.label);
            assert_fast(case, real_start);
        });
    });
}

// ---------------------------------------------------------------------------
// Plain and local tasks.

/// Many tasks sleep different durations; they wake in deadline order, each
/// at exactly its deadline. (Time cannot move while a woken task still
/// runs, so the log is sorted even with two workers.)
#[test]
fn plain_tasks_wake_in_deadline_order_at_exact_virtual_times() {
    bounded(LIMIT, || {
        each_case(&FLAVORS, &[ClockKind::Mock], |case| {
            let real_start = std::time::Instant::now();
            let log = Arc::new(Mutex::new(Vec::new()));
            case.rt.block_on(async {
                let start = Instant::now();
                let mut seed = 0x9E37_79B9_7F4A_7C15u64;
                let tasks: Vec<_> = (0..300)
                    .map(|_| {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        let nap = Duration::from_millis(1 + seed % 100_000);
                        let log = log.clone();
                        minirt::spawn(async move {
                            time::sleep(nap).await;
                            log.lock().unwrap().push((nap, Instant::now() - start));
                        })
                    })
                    .collect();
                for task in tasks {
                    task.await.unwrap();
                }
            });
            let log = log.lock().unwrap();
            for (nap, woke) in log.iter() {
                assert_eq!(
                    nap, woke,
                    "{}: a {nap:?} sleep woke at {woke:?}",
                    case.label
                );
            }
            assert!(
                log.windows(2).all(|w| w[0].0 <= w[1].0),
                "{}: tasks woke out of deadline order",
                case.label
            );
            assert_fast(case, real_start);
        });
    });
}

/// A local (`!Send`) task sleeps beside plain tasks on a current-thread
/// runtime, under both clocks.
#[test]
fn a_local_task_sleeps_exactly() {
    bounded(LIMIT, || {
        each_case(&[Flavor::CurrentThread], &CLOCKS, |case| {
            let real_start = std::time::Instant::now();
            let nap = long(case);
            let (local, plain) = case.rt.block_on(async {
                let start = Instant::now();
                let shared = Rc::new(start);
                let local = minirt::spawn_local(async move {
                    time::sleep(nap).await;
                    Instant::now() - *shared
                });
                let plain = minirt::spawn(async move {
                    time::sleep(nap / 2).await;
                    Instant::now() - start
                });
                (local.await.unwrap(), plain.await.unwrap())
            });
            assert_slept(case, "local task", local, nap);
            assert_slept(case, "plain task beside it", plain, nap / 2);
            assert_fast(case, real_start);
        });
    });
}

/// A local task sleeps while a blocking job runs: it completes after the
/// job ends, with exact virtual time, and time holds still during the job.
#[test]
fn a_local_task_sleep_beside_a_blocking_job_completes() {
    bounded(LIMIT, || {
        each_case(&[Flavor::CurrentThread], &CLOCKS, |case| {
            let real_start = std::time::Instant::now();
            let nap = long(case);
            let window = beside_window(case);
            let (woke_during_job, job, slept) = case.rt.block_on(async {
                let start = Instant::now();
                let (started_tx, started_rx) = oneshot::channel();
                let (release_tx, release_rx) = mpsc::channel::<()>();
                let job = minirt::spawn_blocking(move || {
                    started_tx.send(()).unwrap();
                    release_rx.recv().unwrap();
                    Instant::now()
                });
                started_rx.await.unwrap();
                let (woke_tx, woke_rx) = mpsc::channel();
                let marker = Rc::new(());
                let sleeper = minirt::spawn_local(async move {
                    let _local = marker;
                    time::sleep(nap).await;
                    let _ = woke_tx.send(());
                    Instant::now()
                });
                let releaser = thread::spawn(move || {
                    let woke = woke_rx.recv_timeout(window).is_ok();
                    release_tx.send(()).unwrap();
                    woke
                });
                let woke_at = sleeper.await.unwrap();
                let job_end = job.await.unwrap();
                (releaser.join().unwrap(), job_end - start, woke_at - start)
            });
            if case.is_mock() {
                assert!(
                    !woke_during_job,
                    "{}: time moved while the job ran",
                    case.label
                );
                assert_eq!(job, Duration::ZERO, "{}: the job saw time move", case.label);
            } else {
                assert!(
                    woke_during_job,
                    "{}: the timer did not fire during the job",
                    case.label
                );
            }
            assert_slept(case, "local task beside a blocking job", slept, nap);
            assert_fast(case, real_start);
        });
    });
}

// ---------------------------------------------------------------------------
// I/O waits.

/// A connected pair over loopback: our minirt end and the peer's std end.
async fn loopback_pair() -> (TcpStream, std::net::TcpStream) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let ours = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    // The connection is established: accept returns at once.
    let (theirs, _) = listener.accept().unwrap();
    (ours, theirs)
}

/// A 10 s timeout around a loopback `read_exact` whose data a plain thread
/// writes ~100 ms later (real time) returns the data, under both clocks:
/// with the mock clock, pending I/O keeps virtual time from jumping to the
/// timeout for a real-time stretch (the autojump threshold, 250 ms by
/// default). A timer beside it still fires, exactly.
#[test]
fn a_read_whose_data_comes_soon_beats_a_long_timeout() {
    bounded(LIMIT, || {
        each_runtime_and_clock(|case| {
            let (read, slept) = case.rt.block_on(async {
                let start = Instant::now();
                let (mut ours, mut theirs) = loopback_pair().await;
                let writer = thread::spawn(move || {
                    // A slow peer, not thread ordering: the data must come
                    // while the reader waits.
                    thread::sleep(Duration::from_millis(100));
                    theirs.write_all(b"hello").unwrap();
                    theirs
                });
                let sleeper = minirt::spawn(async move {
                    time::sleep(Duration::from_millis(5)).await;
                    Instant::now() - start
                });
                let mut buf = [0u8; 5];
                let read = time::timeout(Duration::from_secs(10), ours.read_exact(&mut buf))
                    .await
                    .map(|r| r.map(|_| buf));
                let _theirs = writer.join().unwrap();
                (read, sleeper.await.unwrap())
            });
            match read {
                Ok(Ok(buf)) => assert_eq!(&buf, b"hello", "{}", case.label),
                Ok(Err(e)) => panic!("{}: read failed: {e}", case.label),
                Err(_) => panic!(
                    "{}: the 10 s timeout elapsed before data that came after ~100 ms",
                    case.label
                ),
            }
            assert_slept(
                case,
                "timer beside the read",
                slept,
                Duration::from_millis(5),
            );
        });
    });
}

/// A timeout around a read on a socket that never gets data elapses (under
/// the mock clock time does jump eventually, I/O pending or not), after
/// exactly the timeout in virtual time.
#[test]
fn a_read_that_never_gets_data_times_out() {
    bounded(LIMIT, || {
        each_runtime_and_clock(|case| {
            let real_start = std::time::Instant::now();
            let limit = if case.is_mock() {
                Duration::from_secs(1)
            } else {
                Duration::from_millis(20)
            };
            let (result, took) = case.rt.block_on(async {
                let (mut ours, theirs) = loopback_pair().await;
                let start = Instant::now();
                let mut buf = [0u8; 1];
                let result = time::timeout(limit, ours.read(&mut buf)).await;
                let took = Instant::now() - start;
                drop(theirs);
                (result.map(|r| r.map_err(|e| e.kind())), took)
            });
            assert!(
                result.is_err(),
                "{}: expected Elapsed, got {result:?}",
                case.label
            );
            assert_slept(case, "timed-out read", took, limit);
            assert_fast(case, real_start);
        });
    });
}

/// A reader waits on a socket while a task beside it sleeps and then writes
/// the data through the peer: I/O wake-ups and timers cooperate, and the
/// read completes at the sleeper's exact virtual time.
#[test]
fn a_timer_beside_an_io_wait_unblocks_it() {
    bounded(LIMIT, || {
        each_runtime_and_clock(|case| {
            let real_start = std::time::Instant::now();
            let nap = long(case);
            let (buf, took) = case.rt.block_on(async {
                let start = Instant::now();
                let (mut ours, mut theirs) = loopback_pair().await;
                let writer = minirt::spawn(async move {
                    time::sleep(nap).await;
                    theirs.write_all(b"late").unwrap();
                    theirs
                });
                let mut buf = [0u8; 4];
                ours.read_exact(&mut buf).await.unwrap();
                let took = Instant::now() - start;
                drop(writer.await.unwrap());
                (buf, took)
            });
            assert_eq!(&buf, b"late", "{}", case.label);
            assert_slept(case, "read after a timer", took, nap);
            assert_fast(case, real_start);
        });
    });
}

/// A sleep in a sync scope's child while another child waits on I/O that a
/// third feeds after a timer: everything at the sync boundary completes.
#[test]
fn a_sync_scope_with_io_and_timers_completes() {
    bounded(LIMIT, || {
        each_case(&MULTI_THREAD, &CLOCKS, |case| {
            let real_start = std::time::Instant::now();
            let nap = long(case);
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let ours = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
            let (mut theirs, _) = listener.accept().unwrap();
            let out = scope::scope_on(case.rt.handle(), |s| {
                s.spawn(async move {
                    let mut ours = TcpStream::from_std(ours).unwrap();
                    let mut buf = [0u8; 2];
                    ours.read_exact(&mut buf).await.unwrap();
                    buf[0]
                });
                s.spawn(async move {
                    let start = Instant::now();
                    time::sleep(nap).await;
                    theirs.write_all(b"ok").unwrap();
                    assert_slept(case, "writer child", Instant::now() - start, nap);
                    0
                });
            });
            let out = out.unwrap_or_else(|_| panic!("{}: the scope stopped", case.label));
            assert_eq!(out, [b'o', 0], "{}", case.label);
            assert_fast(case, real_start);
        });
    });
}
