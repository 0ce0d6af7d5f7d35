//! Scheduled calls on a scope (`after`, `at`, `at_system_time`, `every`):
//! exact virtual timestamps on the mock clock for every firing, run end and
//! cancellation, for each overrun policy, on both runtimes.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use minirt::scope::{Overrun, Scope};
use minirt::time::{self, Instant};
use minirt_tests::{bounded, each_case, ClockKind, FLAVORS, MULTI_THREAD};

/// What happened, and at which virtual second.
type Log = Arc<Mutex<Vec<(u64, String)>>>;

fn record(log: &Log, start: Instant, what: String) {
    let at = start.elapsed();
    assert_eq!(
        at.subsec_nanos(),
        0,
        "{what} at a fractional virtual time {at:?}"
    );
    log.lock().unwrap().push((at.as_secs(), what));
}

/// Records "cancel N" if dropped before `done`.
struct RunGuard {
    log: Log,
    start: Instant,
    n: usize,
    done: bool,
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        if !self.done {
            record(&self.log, self.start, format!("cancel {}", self.n));
        }
    }
}

/// `every 10 s` beside 41 s of work; run 0 takes 25 s, the others 3 s.
/// Returns the sorted log.
fn every_with(overrun: Overrun, case: &minirt_tests::Case) -> Vec<(u64, String)> {
    case.rt.block_on(async move {
        let start = Instant::now();
        let log: Log = Arc::default();
        let scope = Scope::new();
        let mut n = 0;
        let l = log.clone();
        scope.every(Duration::from_secs(10), overrun, move || {
            let this = n;
            n += 1;
            record(&l, start, format!("start {this}"));
            let mut guard = RunGuard {
                log: l.clone(),
                start,
                n: this,
                done: false,
            };
            async move {
                let secs = if this == 0 { 25 } else { 3 };
                time::sleep(Duration::from_secs(secs)).await;
                guard.done = true;
                record(&guard.log, start, format!("end {this}"));
            }
        });
        scope.spawn(time::sleep(Duration::from_secs(41)));
        scope.join().await.unwrap();
        assert_eq!(
            start.elapsed(),
            Duration::from_secs(41),
            "the timer did not extend the scope"
        );
        let mut log = log.lock().unwrap().clone();
        log.sort();
        log
    })
}

fn expect(events: &[(u64, &str)]) -> Vec<(u64, String)> {
    let mut v: Vec<_> = events.iter().map(|(t, e)| (*t, e.to_string())).collect();
    v.sort();
    v
}

fn mock_cases(body: impl FnMut(&minirt_tests::Case)) {
    each_case(&FLAVORS, &[ClockKind::Mock], body);
}

#[test]
fn every_keep_lets_runs_accumulate_and_cancels_them_with_the_timer() {
    bounded(Duration::from_secs(60), || {
        mock_cases(|case| {
            assert_eq!(
                every_with(Overrun::Keep, case),
                expect(&[
                    (0, "start 0"),
                    (10, "start 1"),
                    (13, "end 1"),
                    (20, "start 2"),
                    (23, "end 2"),
                    (25, "end 0"), // overlapped runs 1 and 2
                    (30, "start 3"),
                    (33, "end 3"),
                    (40, "start 4"),
                    (41, "cancel 4"), // the scope's work ended: timer and runs go
                ]),
                "{}",
                case.label
            );
        });
    });
}

#[test]
fn every_skip_drops_firings_while_a_run_is_going() {
    bounded(Duration::from_secs(60), || {
        mock_cases(|case| {
            assert_eq!(
                every_with(Overrun::Skip, case),
                expect(&[
                    (0, "start 0"),
                    (25, "end 0"), // firings at 10 and 20 skipped
                    (30, "start 1"),
                    (33, "end 1"),
                    (40, "start 2"),
                    (41, "cancel 2"),
                ]),
                "{}",
                case.label
            );
        });
    });
}

#[test]
fn every_cancel_cancels_the_overrunning_run_at_the_next_tick() {
    bounded(Duration::from_secs(60), || {
        mock_cases(|case| {
            assert_eq!(
                every_with(Overrun::Cancel, case),
                expect(&[
                    (0, "start 0"),
                    (10, "cancel 0"),
                    (10, "start 1"),
                    (13, "end 1"),
                    (20, "start 2"),
                    (23, "end 2"),
                    (30, "start 3"),
                    (33, "end 3"),
                    (40, "start 4"),
                    (41, "cancel 4"),
                ]),
                "{}",
                case.label
            );
        });
    });
}

#[test]
fn cancelling_an_every_timer_cancels_its_runs_and_stops_firing() {
    bounded(Duration::from_secs(60), || {
        mock_cases(|case| {
            let log = case.rt.block_on(async {
                let start = Instant::now();
                let log: Log = Arc::default();
                let scope = Scope::new();
                let l = log.clone();
                let mut n = 0;
                let timer = scope.every(Duration::from_secs(10), Overrun::Keep, move || {
                    let this = n;
                    n += 1;
                    record(&l, start, format!("start {this}"));
                    let guard = RunGuard {
                        log: l.clone(),
                        start,
                        n: this,
                        done: false,
                    };
                    async move {
                        let _guard = guard;
                        std::future::pending::<()>().await; // never ends by itself
                    }
                });
                scope.spawn(async move {
                    time::sleep(Duration::from_secs(15)).await;
                    timer.cancel();
                    time::sleep(Duration::from_secs(30)).await; // no firing at 20, 30, 40
                    assert!(timer.is_finished());
                });
                scope.join().await.unwrap();
                assert_eq!(start.elapsed(), Duration::from_secs(45));
                let mut log = log.lock().unwrap().clone();
                log.sort();
                log
            });
            assert_eq!(
                log,
                expect(&[
                    (0, "start 0"),
                    (10, "start 1"),
                    (15, "cancel 0"),
                    (15, "cancel 1")
                ]),
                "{}",
                case.label
            );
        });
    });
}

#[test]
fn after_and_at_fire_at_their_instants_and_hold_the_scope_open() {
    bounded(Duration::from_secs(60), || {
        mock_cases(|case| {
            let log = case.rt.block_on(async {
                let start = Instant::now();
                let log: Log = Arc::default();
                let scope = Scope::<()>::new();
                let l = log.clone();
                scope.after(Duration::from_secs(5), move || async move {
                    record(&l, start, "after 5".into());
                });
                let l = log.clone();
                scope.at(start + Duration::from_secs(8), move || async move {
                    record(&l, start, "at 8".into());
                    time::sleep(Duration::from_secs(2)).await; // the run holds on too
                    record(&l, start, "at 8 done".into());
                });
                let l = log.clone();
                let unscheduled = scope.after(Duration::from_secs(3), move || async move {
                    record(&l, start, "never".into());
                });
                unscheduled.cancel();
                let l = log.clone();
                let past = scope.at(start, move || async move {
                    record(&l, start, "at a passed instant".into());
                });
                scope.join().await.unwrap();
                assert_eq!(start.elapsed(), Duration::from_secs(10));
                assert!(past.is_finished() && unscheduled.is_finished());
                let mut log = log.lock().unwrap().clone();
                log.sort();
                log
            });
            assert_eq!(
                log,
                expect(&[
                    (0, "at a passed instant"),
                    (5, "after 5"),
                    (8, "at 8"),
                    (10, "at 8 done"),
                ]),
                "{}",
                case.label
            );
        });
    });
}

#[test]
fn a_pending_after_keeps_daemons_running() {
    bounded(Duration::from_secs(60), || {
        mock_cases(|case| {
            case.rt.block_on(async {
                let start = Instant::now();
                let beats = Arc::new(Mutex::new(0u32));
                let scope = Scope::<()>::new();
                let b = beats.clone();
                scope.spawn_daemon(async move {
                    loop {
                        time::sleep(Duration::from_secs(1)).await;
                        *b.lock().unwrap() += 1;
                    }
                });
                scope.after(Duration::from_millis(3500), || async {});
                scope.join().await.unwrap();
                assert_eq!(start.elapsed(), Duration::from_millis(3500));
                assert_eq!(*beats.lock().unwrap(), 3, "{}", case.label);
            });
        });
    });
}

#[test]
fn at_system_time_converts_the_wall_clock_once_on_the_mock_clock() {
    bounded(Duration::from_secs(60), || {
        mock_cases(|case| {
            case.rt.block_on(async {
                let start = Instant::now();
                let fired: Log = Arc::default();
                let scope = Scope::<()>::new();
                let f = fired.clone();
                scope.at_system_time(
                    SystemTime::now() + Duration::from_secs(3600),
                    move || async move {
                        f.lock()
                            .unwrap()
                            .push((start.elapsed().as_millis() as u64, "hour".into()));
                    },
                );
                let f = fired.clone();
                scope.at_system_time(SystemTime::UNIX_EPOCH, move || async move {
                    f.lock()
                        .unwrap()
                        .push((start.elapsed().as_millis() as u64, "epoch".into()));
                });
                scope.join().await.unwrap();
                let fired = fired.lock().unwrap().clone();
                assert_eq!(fired.len(), 2);
                assert_eq!(
                    fired[0],
                    (0, "epoch".to_string()),
                    "a passed time fires at once"
                );
                // One virtual hour less the real time between the two `now()`s.
                let hour = fired[1].0;
                assert!(
                    (3_599_000..=3_600_000).contains(&hour),
                    "{}: fired at {hour} ms",
                    case.label
                );
            });
        });
    });
}

#[test]
fn scheduled_calls_on_the_real_clock_and_the_sync_scope_borrow() {
    bounded(Duration::from_secs(60), || {
        each_case(&MULTI_THREAD, &[ClockKind::Real], |case| {
            let calls = Mutex::new(Vec::new());
            minirt::scope::scope_on(case.rt.handle(), |s: &minirt::scope::ScopeHandle<()>| {
                s.after(Duration::from_millis(30), || async {
                    calls.lock().unwrap().push("after")
                });
                s.every(Duration::from_millis(5), Overrun::Skip, || async {
                    calls.lock().unwrap().push("tick");
                });
            })
            .unwrap();
            let calls = calls.into_inner().unwrap();
            assert_eq!(
                calls.iter().filter(|c| **c == "after").count(),
                1,
                "{}",
                case.label
            );
            assert!(
                calls.contains(&"tick"),
                "{}: the first firing is immediate",
                case.label
            );
        });
    });
}

#[test]
fn a_panicking_scheduled_run_stops_the_scope_and_resumes_in_the_owner() {
    bounded(Duration::from_secs(60), || {
        mock_cases(|case| {
            let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                case.rt.block_on(async {
                    let scope = Scope::<()>::new();
                    scope.every(Duration::from_secs(1), Overrun::Keep, || async {
                        std::panic::panic_any("run broke")
                    });
                    scope.spawn(std::future::pending()); // cancelled by the failure
                    let _ = scope.join().await;
                })
            }));
            assert_eq!(
                caught.unwrap_err().downcast_ref::<&str>(),
                Some(&"run broke"),
                "{}",
                case.label
            );
        });
    });
}

#[test]
fn misuse_and_finished_scopes() {
    bounded(Duration::from_secs(60), || {
        let rt = minirt::Builder::current_thread()
            .mock_clock()
            .build()
            .unwrap();
        rt.block_on(async {
            let scope = Scope::<()>::new();
            let zero = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                scope.every(Duration::ZERO, Overrun::Keep, || async {});
            }));
            let message = zero.unwrap_err();
            assert_eq!(
                message.downcast_ref::<&str>(),
                Some(&"ScopeHandle::every: the period must be greater than zero")
            );
            let handle = scope.handle();
            scope.join().await.unwrap();
            let late = handle.after(Duration::from_secs(1), || async { unreachable!() });
            assert!(late.is_finished(), "a finished scope schedules nothing");
            late.cancel(); // harmless
        });
    });
}
