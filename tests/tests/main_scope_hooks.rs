//! `MainScope`'s lifecycle hooks in-process (the signal paths are tested as
//! a real process in `example_ayo_main.rs`): their order around the body,
//! on both runtimes and on the mock clock, and failing hooks being reported
//! rather than swallowed.
#![cfg(unix)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use minirt::main_scope::{MainExit, MainScope};
use minirt::time::{self, Instant};
use minirt::Builder;
use minirt_tests::bounded;

type Log = Arc<Mutex<Vec<String>>>;

fn push(log: &Log, what: impl Into<String>) {
    log.lock().unwrap().push(what.into());
}

fn builders() -> Vec<(&'static str, Builder)> {
    vec![
        ("current_thread", Builder::current_thread().mock_clock()),
        (
            "multi_thread",
            Builder::multi_thread().worker_threads(2).mock_clock(),
        ),
    ]
}

#[test]
fn hooks_run_around_the_root_scope_in_order() {
    bounded(Duration::from_secs(60), || {
        for (name, builder) in builders() {
            let log: Log = Arc::default();
            let (a, b, c, d, e) = (
                log.clone(),
                log.clone(),
                log.clone(),
                log.clone(),
                log.clone(),
            );
            let exit = MainScope::new()
                .runtime(builder)
                .on_starting(move || async move {
                    push(&a, "starting");
                    Ok(())
                })
                .on_started(move || async move {
                    push(&b, "started");
                    Ok(())
                })
                .on_stopping(move || async move {
                    push(&c, "stopping");
                    Ok(())
                })
                .on_stopped(move || async move {
                    // A countdown before exit, on virtual time.
                    let start = Instant::now();
                    for n in (1..=3).rev() {
                        push(&d, format!("exit in {n}"));
                        time::sleep(Duration::from_secs(1)).await;
                    }
                    assert_eq!(start.elapsed(), Duration::from_secs(3));
                    Ok(())
                })
                .run(move |scope| async move {
                    let l = e.clone();
                    // The scope's work: a child that outlives the body.
                    scope.spawn(async move {
                        time::sleep(Duration::from_secs(5)).await;
                        push(&l, "child done");
                    });
                    push(&e, "body");
                });
            assert_eq!(exit, MainExit::Completed, "{name}");
            let log = log.lock().unwrap().clone();
            assert_eq!(log[0], "starting", "{name}");
            let mut middle = log[1..3].to_vec();
            middle.sort();
            assert_eq!(middle, ["body", "started"], "{name}");
            assert_eq!(
                log[3..],
                [
                    "child done",
                    "stopping",
                    "exit in 3",
                    "exit in 2",
                    "exit in 1"
                ],
                "{name}"
            );
        }
    });
}

#[test]
fn a_failing_starting_hook_is_reported_and_the_body_never_runs() {
    bounded(Duration::from_secs(60), || {
        for (name, builder) in builders() {
            let stopped: Log = Arc::default();
            let s = stopped.clone();
            let exit = MainScope::new()
                .runtime(builder)
                .on_starting(|| async { Err("no configuration".into()) })
                .on_stopped(move || async move {
                    push(&s, "stopped");
                    Ok(())
                })
                .run(|_scope| async { panic!("the body must not run") });
            assert_eq!(exit, MainExit::HookFailed, "{name}");
            assert_eq!(exit.code(), 1);
            assert!(
                stopped.lock().unwrap().is_empty(),
                "{name}: nothing started, nothing to stop"
            );
        }
    });
}

#[test]
fn a_failing_started_hook_stops_the_root_scope_and_later_stages_still_run() {
    bounded(Duration::from_secs(60), || {
        for (name, builder) in builders() {
            let log: Log = Arc::default();
            let (c, d) = (log.clone(), log.clone());
            let exit = MainScope::new()
                .runtime(builder)
                .on_started(|| async { Err("health check failed".into()) })
                .on_stopping(move || async move {
                    push(&c, "stopping");
                    Ok(())
                })
                .on_stopped(move || async move {
                    push(&d, "stopped");
                    Ok(())
                })
                .run(|scope| async move {
                    scope.spawn(std::future::pending()); // would run forever
                });
            assert_eq!(exit, MainExit::HookFailed, "{name}");
            assert_eq!(*log.lock().unwrap(), ["stopping", "stopped"], "{name}");
        }
    });
}

#[test]
fn a_failing_stopped_hook_turns_success_into_failure() {
    bounded(Duration::from_secs(60), || {
        let exit = MainScope::new()
            .runtime(Builder::current_thread())
            .on_stopped(|| async { Err("could not flush".into()) })
            .run(|_scope| async {});
        assert_eq!(exit, MainExit::HookFailed);
    });
}
