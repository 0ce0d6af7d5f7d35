//! `Builder::unhandled_panic`: tokio's `UnhandledPanic` semantics on both
//! runtimes. `Ignore` (the default) reports a task's panic on its
//! `JoinHandle` only; `ShutdownRuntime` cancels every task at the first
//! panic, drops later spawns at once, and makes every `block_on` panic.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;
use std::time::Duration;

use minirt::{Builder, Runtime, UnhandledPanic};
use minirt_tests::bounded;

const MESSAGE: &str =
    "a spawned task panicked and the runtime is configured to shut down on unhandled panic";
const LIMIT: Duration = Duration::from_secs(60);

fn runtimes(policy: UnhandledPanic) -> Vec<(&'static str, Runtime)> {
    vec![
        (
            "current_thread",
            Builder::current_thread()
                .unhandled_panic(policy)
                .build()
                .unwrap(),
        ),
        (
            "multi_thread",
            Builder::multi_thread()
                .worker_threads(2)
                .unhandled_panic(policy)
                .build()
                .unwrap(),
        ),
    ]
}

/// Sends on a std channel when dropped: tells the test a task's future was
/// dropped (cancelled), without ordering threads by sleeping.
struct DropSignal(mpsc::Sender<()>);
impl Drop for DropSignal {
    fn drop(&mut self) {
        let _ = self.0.send(());
    }
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(payload) => payload
            .downcast::<&'static str>()
            .map(|s| s.to_string())
            .unwrap_or_else(|_| "<non-string payload>".into()),
    }
}

#[test]
fn default_is_ignore() {
    assert_eq!(UnhandledPanic::default(), UnhandledPanic::Ignore);
    let debug = format!("{:?}", Builder::current_thread());
    assert!(debug.contains("unhandled_panic: Ignore"), "{debug}");
}

#[test]
fn ignore_reports_on_the_join_handle_and_keeps_running() {
    bounded(LIMIT, || {
        for (name, rt) in runtimes(UnhandledPanic::Ignore) {
            let panicked = rt.spawn(async { panic!("boom") });
            let sibling = rt.spawn(async { 7 });
            rt.block_on(async {
                assert!(panicked.await.unwrap_err().is_panic(), "{name}");
                assert_eq!(sibling.await.unwrap(), 7, "{name}");
                // Still spawning and running after the panic.
                assert_eq!(minirt::spawn(async { 8 }).await.unwrap(), 8, "{name}");
            });
        }
    });
}

#[test]
fn shutdown_runtime_cancels_every_task_and_block_on_panics() {
    bounded(LIMIT, || {
        for (name, rt) in runtimes(UnhandledPanic::ShutdownRuntime) {
            let (dropped_tx, dropped_rx) = mpsc::channel();
            let guard = DropSignal(dropped_tx);
            let sibling = rt.spawn(async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            });
            rt.spawn(async { panic!("boom") });

            let outcome = catch_unwind(AssertUnwindSafe(|| {
                rt.block_on(std::future::pending::<()>());
            }));
            let message = panic_message(outcome.expect_err("block_on must panic"));
            assert_eq!(message, MESSAGE, "{name}");

            // The sibling's future is dropped by the shutdown (on a worker,
            // for the multi-thread runtime), and its handle says cancelled.
            dropped_rx
                .recv()
                .unwrap_or_else(|_| panic!("{name}: sibling never dropped"));
            let out = minirt::block_on(sibling);
            assert!(
                out.unwrap_err().is_cancelled(),
                "{name}: sibling not cancelled"
            );

            // Later spawns are dropped at once.
            let (late_tx, late_rx) = mpsc::channel();
            let late_guard = DropSignal(late_tx);
            let late = rt.spawn(async move {
                let _guard = late_guard;
                unreachable!("a task spawned after the shutdown must not run");
            });
            late_rx.recv().unwrap();
            let out = minirt::block_on(late);
            assert!(
                out.unwrap_err().is_cancelled(),
                "{name}: late spawn not cancelled"
            );

            // Every later block_on panics too.
            let again = catch_unwind(AssertUnwindSafe(|| rt.block_on(async { 1 })));
            assert_eq!(panic_message(again.unwrap_err()), MESSAGE, "{name}");
        }
    });
}

#[test]
fn shutdown_runtime_panics_even_while_block_on_awaits_the_panicking_task() {
    bounded(LIMIT, || {
        for (name, rt) in runtimes(UnhandledPanic::ShutdownRuntime) {
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                rt.block_on(async {
                    // The handle may report the panic (on the multi-thread
                    // runtime the task panics on a worker while this future
                    // is polled); the runtime's policy still wins: block_on
                    // panics instead of returning.
                    minirt::spawn(async { panic!("boom") }).await.is_err()
                })
            }));
            assert_eq!(panic_message(outcome.unwrap_err()), MESSAGE, "{name}");
        }
    });
}

#[test]
fn shutdown_runtime_covers_local_tasks() {
    bounded(LIMIT, || {
        let rt = Builder::current_thread()
            .unhandled_panic(UnhandledPanic::ShutdownRuntime)
            .build()
            .unwrap();
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            rt.block_on(async {
                let _local = minirt::spawn_local(async { panic!("local boom") });
                std::future::pending::<()>().await;
            })
        }));
        assert_eq!(panic_message(outcome.unwrap_err()), MESSAGE);
    });
}

#[test]
fn shutdown_runtime_wakes_a_block_on_on_another_thread() {
    bounded(LIMIT, || {
        for (name, rt) in runtimes(UnhandledPanic::ShutdownRuntime) {
            let rt = std::sync::Arc::new(rt);
            let (started_tx, started_rx) = mpsc::channel();
            let other = {
                let rt = rt.clone();
                std::thread::spawn(move || {
                    catch_unwind(AssertUnwindSafe(|| {
                        rt.block_on(async {
                            started_tx.send(()).unwrap();
                            std::future::pending::<()>().await
                        })
                    }))
                    .map_err(panic_message)
                })
            };
            started_rx.recv().unwrap();
            // For the current-thread runtime, this thread's block_on runs the
            // task (or the other thread does); either way both panic.
            let here = catch_unwind(AssertUnwindSafe(|| {
                rt.block_on(async {
                    minirt::spawn(async { panic!("boom") });
                    std::future::pending::<()>().await
                })
            }));
            assert_eq!(panic_message(here.unwrap_err()), MESSAGE, "{name}");
            assert_eq!(other.join().unwrap().unwrap_err(), MESSAGE, "{name}");
        }
    });
}

#[test]
fn a_destructor_panicking_on_cancel_does_not_shut_down() {
    struct PanicOnDrop;
    impl Drop for PanicOnDrop {
        fn drop(&mut self) {
            panic!("destructor of a cancelled future");
        }
    }
    bounded(LIMIT, || {
        for (name, rt) in runtimes(UnhandledPanic::ShutdownRuntime) {
            rt.block_on(async {
                let (started_tx, started_rx) = minirt::sync::oneshot::channel();
                let task = minirt::spawn(async move {
                    let _bomb = PanicOnDrop;
                    let _ = started_tx.send(());
                    std::future::pending::<()>().await;
                });
                started_rx.await.unwrap();
                task.abort();
                // The destructor's panic is the task's outcome, but it is
                // not a panic of the task's poll: the runtime runs on.
                assert!(task.await.unwrap_err().is_panic(), "{name}");
                assert_eq!(minirt::spawn(async { 3 }).await.unwrap(), 3, "{name}");
            });
        }
    });
}
