//! The long-poll detector (`Builder::on_long_poll`) on every runtime kind
//! and both clocks: a task that blocks its thread inside `async` is reported
//! while it still blocks, once per offending poll, with its id and spawn
//! site; the hook may panic; a zero threshold is refused.
//!
//! No test depends on timing beyond the threshold itself: each blocking
//! task waits (blocking its thread, on purpose) until the hook has reported
//! it, so a report that never comes hangs the test and the watchdog fails it.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use minirt::runtime::LongPoll;
use minirt::Builder;
use minirt_tests::{bounded, Flavor, CLOCKS, FLAVORS};

const LIMIT: Duration = Duration::from_secs(60);
const THRESHOLD: Duration = Duration::from_millis(20);

fn builder(flavor: Flavor) -> Builder {
    match flavor {
        Flavor::CurrentThread => Builder::current_thread(),
        Flavor::MultiThread(n) => Builder::multi_thread().worker_threads(n),
    }
}

#[test]
fn a_blocking_poll_is_reported_while_it_runs_once_with_its_task_and_spawn_site() {
    bounded(LIMIT, || {
        for clock in CLOCKS {
            for flavor in FLAVORS {
                let label = format!("{flavor:?}, {clock:?}");
                minirt_tests::note_step(&label);
                let (report_tx, report_rx) = mpsc::channel::<LongPoll>();
                let report_tx = Mutex::new(report_tx);
                let builder = builder(flavor).on_long_poll(THRESHOLD, move |poll| {
                    report_tx.lock().unwrap().send(poll.clone()).unwrap();
                });
                let builder = match clock {
                    minirt_tests::ClockKind::Real => builder,
                    minirt_tests::ClockKind::Mock => builder.mock_clock(),
                };
                let rt = builder.build().unwrap();
                let (seen_tx, seen_rx) = mpsc::channel::<LongPoll>();
                let line = line!() + 1;
                let task = rt.spawn(async move {
                    // Blocks its thread until the detector has seen it.
                    let report = report_rx.recv().unwrap();
                    seen_tx.send(report).unwrap();
                    // Two quick polls after: not reported.
                    minirt::yield_now().await;
                    minirt::yield_now().await;
                    report_rx
                });
                let report_rx = rt.block_on(task).unwrap();
                let report = seen_rx.recv().unwrap();
                assert_eq!(report.spawned_at().file(), file!(), "{label}");
                assert_eq!(report.spawned_at().line(), line, "{label}");
                assert!(report.elapsed() >= THRESHOLD, "{label}: {report}");
                let text = report.to_string();
                assert!(
                    text.contains(&format!("task {}", report.task_id())),
                    "{text}"
                );
                assert!(text.contains("spawned at"), "{text}");
                assert!(!text.contains('\n'), "one line: {text}");
                drop(rt); // stops the watcher
                assert!(
                    report_rx.try_recv().is_err(),
                    "{label}: one blocking poll, one report"
                );
            }
        }
    });
}

#[test]
fn the_report_names_the_task_a_dump_shows() {
    bounded(LIMIT, || {
        let (report_tx, report_rx) = mpsc::channel::<LongPoll>();
        let report_tx = Mutex::new(report_tx);
        let rt = Builder::multi_thread()
            .worker_threads(2)
            .on_long_poll(THRESHOLD, move |poll| {
                let _ = report_tx.lock().unwrap().send(poll.clone());
            })
            .build()
            .unwrap();
        let (go_tx, go_rx) = mpsc::channel::<()>();
        let task = rt.spawn(async move {
            go_rx.recv().unwrap();
        });
        let report = report_rx.recv().unwrap();
        assert_eq!(report.task_id(), task.id());
        assert!(report.worker() < 2);
        assert!(report
            .to_string()
            .contains(&format!("on worker {}", report.worker())));
        let dump = rt.dump();
        let t = dump.tasks().iter().find(|t| t.id() == task.id()).unwrap();
        assert_eq!(t.state(), minirt::runtime::TaskState::Running, "{dump}");
        go_tx.send(()).unwrap();
        rt.block_on(task).unwrap();
    });
}

#[test]
fn each_long_poll_of_one_task_is_reported_and_a_panicking_hook_keeps_the_watch() {
    bounded(LIMIT, || {
        let reports = Arc::new(Mutex::new(Vec::new()));
        let (wake_tx, wake_rx) = mpsc::channel::<()>();
        let wake_tx = Mutex::new(wake_tx);
        let log = reports.clone();
        let rt = Builder::current_thread()
            .on_long_poll(THRESHOLD, move |poll| {
                log.lock().unwrap().push(poll.task_id());
                let _ = wake_tx.lock().unwrap().send(());
                let first = log.lock().unwrap().len() == 1;
                if first {
                    panic!("a hook that panics once");
                }
            })
            .build()
            .unwrap();
        let task = rt.spawn(async move {
            wake_rx.recv().unwrap(); // first long poll
            minirt::yield_now().await;
            wake_rx.recv().unwrap(); // second long poll
        });
        let id = task.id();
        rt.block_on(task).unwrap();
        drop(rt);
        assert_eq!(*reports.lock().unwrap(), [id, id]);
    });
}

#[test]
fn a_zero_threshold_is_refused_with_a_clear_error() {
    for builder in [Builder::current_thread(), Builder::multi_thread()] {
        let err = builder
            .on_long_poll(Duration::ZERO, |_| {})
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("on_long_poll"), "{err}");
    }
}

#[test]
fn the_default_hook_is_wired_and_a_runtime_of_quick_polls_runs_normally() {
    // `warn_on_long_poll` writes to stderr; here only its wiring is checked:
    // a runtime whose polls are all quick runs and shuts down normally.
    let rt = Builder::multi_thread()
        .worker_threads(2)
        .warn_on_long_poll(Duration::from_secs(10))
        .build()
        .unwrap();
    let sum: u32 = rt.block_on(async {
        let hs: Vec<_> = (0..100).map(|i| minirt::spawn(async move { i })).collect();
        let mut sum = 0;
        for h in hs {
            sum += h.await.unwrap();
        }
        sum
    });
    assert_eq!(sum, 4950);
}
