//! Task dumps (`Handle::dump`) on every runtime kind and both clocks: what
//! they list (id, spawn site, state, polls, time since the last poll, kind)
//! taken from a task, from the `block_on` future and from another thread
//! while the runtime runs; scope children and local tasks; what a dump says
//! when it cannot list something.

use std::sync::mpsc;
use std::time::Duration;

use minirt::runtime::{Dump, TaskKind, TaskState};
use minirt::sync::oneshot;
use minirt::task::Id;
use minirt::{Handle, JoinHandle};
use minirt_tests::{bounded, each_runtime_and_clock};

const LIMIT: Duration = Duration::from_secs(60);

fn find(dump: &Dump, id: Id) -> &minirt::runtime::TaskDump {
    dump.tasks()
        .iter()
        .find(|t| t.id() == id)
        .unwrap_or_else(|| panic!("task {id} is not in the dump:\n{dump}"))
}

#[test]
fn a_dump_lists_each_waiting_task_with_its_spawn_site_state_and_polls() {
    bounded(LIMIT, || {
        each_runtime_and_clock(|case| {
            let label = &case.label;
            case.rt.block_on(async {
                let mut releases = Vec::new();
                let mut handles: Vec<JoinHandle<u32>> = Vec::new();
                let (started_tx, started_rx) = mpsc::channel();
                let line = line!() + 5;
                for i in 0..3u32 {
                    let (tx, rx) = oneshot::channel::<u32>();
                    releases.push(tx);
                    let started = started_tx.clone();
                    handles.push(minirt::spawn(async move {
                        started.send(()).unwrap();
                        rx.await.unwrap() + i
                    }));
                }
                for _ in 0..3 {
                    while started_rx.try_recv().is_err() {
                        minirt::yield_now().await;
                    }
                }
                // Let each task reach its `rx.await` (one poll each).
                for _ in 0..10 {
                    minirt::yield_now().await;
                }
                let from_block_on = Handle::current().dump();
                // From a blocking-pool thread, awaited (blocking the driving
                // thread instead would leave nobody to answer).
                let handle = Handle::current();
                let from_thread = minirt::spawn_blocking(move || handle.dump()).await.unwrap();
                let from_task = minirt::spawn(async { Handle::current().dump() })
                    .await
                    .unwrap();
                for (dump, whence) in [
                    (&from_block_on, "the block_on future"),
                    (&from_thread, "another thread"),
                    (&from_task, "a task"),
                ] {
                    assert!(dump.unlisted().is_empty(), "{label}, {whence}: {dump}");
                    for h in &handles {
                        let t = find(dump, h.id());
                        assert_eq!(t.spawned_at().file(), file!(), "{label}, {whence}");
                        assert_eq!(t.spawned_at().line(), line, "{label}, {whence}");
                        assert_eq!(t.state(), TaskState::Idle, "{label}, {whence}: {dump}");
                        assert_eq!(t.polls(), 1, "{label}, {whence}: {dump}");
                        assert!(t.since_last_poll().is_some(), "{label}, {whence}");
                        assert_eq!(t.kind(), TaskKind::Send);
                        assert!(!t.is_cancelled());
                    }
                    let text = dump.to_string();
                    for h in &handles {
                        assert!(text.contains(&format!("task {}", h.id())), "{text}");
                    }
                    assert!(text.contains(&format!("{}:{line}", file!())), "{text}");
                }
                for (i, tx) in releases.into_iter().enumerate() {
                    tx.send(10 * i as u32).unwrap();
                }
                let ids: Vec<Id> = handles.iter().map(|h| h.id()).collect();
                for (i, h) in handles.into_iter().enumerate() {
                    assert_eq!(h.await.unwrap(), 11 * i as u32);
                }
                // Finished tasks leave the dump (a worker may still be
                // releasing one whose output was already taken: completing).
                let after = Handle::current().dump();
                for id in ids {
                    assert!(
                        after
                            .tasks()
                            .iter()
                            .all(|t| t.id() != id || t.state() == TaskState::Completing),
                        "{label}: {after}"
                    );
                }
            });
        });
    });
}

#[test]
fn a_task_blocking_its_worker_shows_as_running_in_a_dump_from_another_thread() {
    bounded(LIMIT, || {
        for workers in [1, 2] {
            let rt = minirt::Builder::multi_thread()
                .worker_threads(workers)
                .build()
                .unwrap();
            let (entered_tx, entered_rx) = mpsc::channel();
            let (release_tx, release_rx) = mpsc::channel::<()>();
            let blocker = rt.spawn(async move {
                entered_tx.send(()).unwrap();
                release_rx.recv().unwrap(); // blocks the worker, on purpose
            });
            entered_rx.recv().unwrap();
            let dump = rt.dump();
            assert_eq!(
                find(&dump, blocker.id()).state(),
                TaskState::Running,
                "{dump}"
            );
            release_tx.send(()).unwrap();
            rt.block_on(blocker).unwrap();
        }
    });
}

#[test]
fn a_dump_says_what_it_could_not_list_when_the_current_thread_runtime_is_stuck() {
    bounded(LIMIT, || {
        let rt = std::sync::Arc::new(minirt::Builder::current_thread().build().unwrap());
        let (entered_tx, entered_rx) = mpsc::channel();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        // Spawned from another thread: in the list any thread can read.
        let remote = std::thread::scope(|s| {
            s.spawn(|| rt.spawn(std::future::pending::<()>()))
                .join()
                .unwrap()
        });
        let driver = {
            let rt = rt.clone();
            std::thread::spawn(move || {
                rt.block_on(async move {
                    let waiting = minirt::spawn(std::future::pending::<()>());
                    minirt::yield_now().await;
                    entered_tx.send(waiting.id()).unwrap();
                    release_rx.recv().unwrap(); // holds the only thread
                    waiting.abort();
                })
            })
        };
        let waiting = entered_rx.recv().unwrap();
        let stuck = rt.dump();
        assert!(
            stuck.tasks().iter().any(|t| t.id() == remote.id()),
            "{stuck}"
        );
        assert!(stuck.tasks().iter().all(|t| t.id() != waiting), "{stuck}");
        assert_eq!(stuck.unlisted().len(), 1, "{stuck}");
        assert!(stuck.unlisted()[0].contains("did not answer"), "{stuck}");
        release_tx.send(()).unwrap();
        driver.join().unwrap();
        // Nobody drives it now: a dump takes the core and sees everything.
        let idle = rt.dump();
        assert!(idle.unlisted().is_empty(), "{idle}");
        let t = find(&idle, remote.id());
        assert_eq!(t.polls(), 1);
        remote.abort();
    });
}

#[test]
fn a_task_never_polled_is_scheduled_with_no_last_poll() {
    let rt = minirt::Builder::current_thread().build().unwrap();
    let task = rt.spawn(async { 5 });
    let dump = rt.dump();
    let t = find(&dump, task.id());
    assert_eq!(
        (t.state(), t.polls(), t.since_last_poll()),
        (TaskState::Scheduled, 0, None)
    );
    assert!(dump.to_string().contains("never polled"), "{dump}");
    assert_eq!(rt.block_on(task).unwrap(), 5);
}

#[test]
fn an_aborted_task_still_being_polled_shows_as_cancelled() {
    bounded(LIMIT, || {
        let rt = minirt::Builder::multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        let (entered_tx, entered_rx) = mpsc::channel();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let task = rt.spawn(async move {
            entered_tx.send(()).unwrap();
            release_rx.recv().unwrap();
            std::future::pending::<()>().await;
        });
        entered_rx.recv().unwrap();
        task.abort();
        let dump = rt.dump();
        let t = find(&dump, task.id());
        assert!(
            t.is_cancelled() && t.state() == TaskState::Running,
            "{dump}"
        );
        assert!(dump.to_string().contains("running (cancelled)"), "{dump}");
        release_tx.send(()).unwrap();
        assert!(rt.block_on(task).unwrap_err().is_cancelled());
    });
}

#[test]
fn local_tasks_are_listed_from_their_own_thread_and_counted_from_others() {
    bounded(LIMIT, || {
        let rt = std::sync::Arc::new(minirt::Builder::current_thread().build().unwrap());
        let line = line!() + 2;
        let local = rt.block_on(async {
            let local = minirt::spawn_local(std::future::pending::<()>());
            minirt::yield_now().await;
            let dump = Handle::current().dump();
            let t = find(&dump, local.id());
            assert_eq!((t.kind(), t.polls()), (TaskKind::Local, 1), "{dump}");
            assert_eq!(t.spawned_at().line(), line);
            local
        });
        // From this thread (its owner), with nobody driving: listed.
        let dump = rt.dump();
        assert_eq!(find(&dump, local.id()).kind(), TaskKind::Local);
        // From another thread: not readable there, and the dump says so.
        let rt2 = rt.clone();
        let elsewhere = std::thread::spawn(move || rt2.dump()).join().unwrap();
        assert!(
            elsewhere.tasks().iter().all(|t| t.id() != local.id()),
            "{elsewhere}"
        );
        assert_eq!(elsewhere.unlisted().len(), 1, "{elsewhere}");
        assert!(
            elsewhere.unlisted()[0].contains("local tasks of 1 other thread"),
            "{elsewhere}"
        );
        local.abort();
        rt.block_on(async {
            minirt::yield_now().await;
        });
    });
}

#[test]
fn scope_children_are_listed_with_the_line_that_spawned_them() {
    bounded(LIMIT, || {
        each_runtime_and_clock(|case| {
            case.rt.block_on(async {
                let scope = minirt::scope::Scope::<u32>::new();
                let (tx, rx) = oneshot::channel::<u32>();
                let line = line!() + 1;
                scope.spawn(async move { rx.await.unwrap() });
                minirt::yield_now().await;
                minirt::yield_now().await;
                let dump = Handle::current().dump();
                assert!(
                    dump.tasks()
                        .iter()
                        .any(|t| t.spawned_at().file() == file!() && t.spawned_at().line() == line),
                    "{}: {dump}",
                    case.label
                );
                tx.send(4).unwrap();
                assert_eq!(scope.join().await.unwrap(), [4]);
            });
        });
    });
}

#[test]
fn ids_are_unique_and_join_and_abort_handles_agree() {
    let rt = minirt::Builder::multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let handles: Vec<_> = (0..200).map(|i| rt.spawn(async move { i })).collect();
    let mut ids: Vec<Id> = handles.iter().map(|h| h.id()).collect();
    for h in &handles {
        assert_eq!(h.abort_handle().id(), h.id());
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 200);
    for h in handles {
        rt.block_on(h).unwrap();
    }
}
