//! Runtime-level lifecycle hooks (`Builder::on_runtime_start` /
//! `on_runtime_shutdown`) on both runtimes: order, what they can reach, and
//! that a failing or panicking hook is reported, not swallowed.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use minirt::sync::{mpsc, oneshot};
use minirt::Builder;
use minirt_tests::bounded;

type Log = Arc<Mutex<Vec<String>>>;

/// Makes a fresh builder of one flavour.
type MakeBuilder = fn() -> Builder;

fn builders() -> Vec<(&'static str, MakeBuilder)> {
    vec![
        ("current_thread", Builder::current_thread),
        ("multi_thread", || Builder::multi_thread().worker_threads(2)),
    ]
}

fn push(log: &Log, what: impl Into<String>) {
    log.lock().unwrap().push(what.into());
}

#[test]
fn start_hooks_run_in_order_inside_build_and_shutdown_hooks_at_drop() {
    bounded(Duration::from_secs(60), || {
        for (name, builder) in builders() {
            let log: Log = Arc::default();
            let (a, b, c, d) = (log.clone(), log.clone(), log.clone(), log.clone());
            let rt = builder()
                .on_runtime_start(move || async move {
                    // Hooks run on the runtime: they can spawn and await.
                    let n = minirt::spawn(async { 1 }).await.unwrap();
                    push(&a, format!("start {n}"));
                    Ok(())
                })
                .on_runtime_start(move || async move {
                    push(&b, "start 2");
                    Ok(())
                })
                .on_runtime_shutdown(move || async move {
                    push(&c, "shutdown 1");
                    Ok(())
                })
                .on_runtime_shutdown(move || async move {
                    push(&d, "shutdown 2");
                    Ok(())
                })
                .build()
                .unwrap();
            assert_eq!(*log.lock().unwrap(), ["start 1", "start 2"], "{name}");
            rt.block_on(async { push(&log, "body") });
            drop(rt);
            assert_eq!(
                *log.lock().unwrap(),
                ["start 1", "start 2", "body", "shutdown 1", "shutdown 2"],
                "{name}"
            );
        }
    });
}

#[test]
fn a_failing_start_hook_fails_build_and_skips_the_rest() {
    bounded(Duration::from_secs(60), || {
        for (name, builder) in builders() {
            let log: Log = Arc::default();
            let (a, b) = (log.clone(), log.clone());
            let err = builder()
                .on_runtime_start(|| async { Err("no configuration file".into()) })
                .on_runtime_start(move || async move {
                    push(&a, "second start hook");
                    Ok(())
                })
                .on_runtime_shutdown(move || async move {
                    push(&b, "shutdown hook");
                    Ok(())
                })
                .build()
                .unwrap_err();
            assert_eq!(
                err.to_string(),
                "minirt::Builder: on_runtime_start hook 1 of 2 failed: no configuration file",
                "{name}"
            );
            assert!(
                log.lock().unwrap().is_empty(),
                "{name}: {:?}",
                log.lock().unwrap()
            );
        }
    });
}

#[test]
fn shutdown_hooks_run_while_tasks_are_still_alive() {
    bounded(Duration::from_secs(60), || {
        for (name, builder) in builders() {
            let (ask, mut questions) = mpsc::channel::<oneshot::Sender<&'static str>>(1);
            let answer: Log = Arc::default();
            let got = answer.clone();
            let rt = builder()
                .on_runtime_shutdown(move || async move {
                    let (tx, rx) = oneshot::channel();
                    ask.send(tx).await.map_err(|_| "the task is gone")?;
                    push(&got, rx.await.map_err(|_| "no answer")?);
                    Ok(())
                })
                .build()
                .unwrap();
            rt.spawn(async move {
                while let Some(reply) = questions.recv().await {
                    let _ = reply.send("still here");
                }
            });
            rt.shutdown().unwrap();
            assert_eq!(*answer.lock().unwrap(), ["still here"], "{name}");
        }
    });
}

#[test]
fn a_failing_shutdown_hook_is_returned_by_shutdown_and_the_others_still_run() {
    bounded(Duration::from_secs(60), || {
        for (name, builder) in builders() {
            let log: Log = Arc::default();
            let a = log.clone();
            let rt = builder()
                .on_runtime_shutdown(|| async { Err("the log could not be flushed".into()) })
                .on_runtime_shutdown(move || async move {
                    push(&a, "second hook");
                    Ok(())
                })
                .build()
                .unwrap();
            let err = rt.shutdown().unwrap_err();
            assert_eq!(err.to_string(), "the log could not be flushed", "{name}");
            assert_eq!(*log.lock().unwrap(), ["second hook"], "{name}");
        }
    });
}

#[test]
fn a_panicking_shutdown_hook_resumes_after_the_runtime_shut_down() {
    bounded(Duration::from_secs(60), || {
        for (name, builder) in builders() {
            let dropped: Log = Arc::default();
            let rt = builder()
                .on_runtime_shutdown(|| async { panic!("hook broke") })
                .build()
                .unwrap();
            struct Guard(Log);
            impl Drop for Guard {
                fn drop(&mut self) {
                    push(&self.0, "task dropped");
                }
            }
            let guard = Guard(dropped.clone());
            rt.spawn(async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            });
            let payload = catch_unwind(AssertUnwindSafe(|| drop(rt))).unwrap_err();
            assert_eq!(
                payload.downcast_ref::<&str>(),
                Some(&"hook broke"),
                "{name}"
            );
            // The panic came after the shutdown: the task was cancelled.
            assert_eq!(*dropped.lock().unwrap(), ["task dropped"], "{name}");
        }
    });
}

#[test]
fn dropping_a_runtime_inside_another_still_runs_its_shutdown_hooks() {
    bounded(Duration::from_secs(60), || {
        for (name, builder) in builders() {
            let log: Log = Arc::default();
            let a = log.clone();
            let inner = builder()
                .on_runtime_shutdown(move || async move {
                    minirt::yield_now().await;
                    push(&a, "inner shutdown");
                    Ok(())
                })
                .build()
                .unwrap();
            let outer = Builder::current_thread().build().unwrap();
            outer.block_on(async move { drop(inner) });
            assert_eq!(*log.lock().unwrap(), ["inner shutdown"], "{name}");
        }
    });
}
