//! Task dumps (`Handle::dump`) on every runtime kind and both clocks: what
//! they list (id, spawn site, state, polls, time since the last poll, kind)
//! taken from a task, from the `block_on` future and from another thread
//! while the runtime runs; scope children and local tasks; what a dump says
//! when it cannot list something.

#![allow(clippy::async_yields_async)] // a test returns a JoinHandle out of block_on on purpose

use std::sync::mpsc;
use std::time::Duration;

use minirt::runtime::{Dump, TaskKind, TaskState, WaitsOn};
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

/// Dumps (yielding in between) until `done` holds for one, or gives up
/// after many rounds and returns the last (the caller's asserts then show
/// it).
async fn settle(done: impl Fn(&Dump) -> bool) -> Dump {
    let mut dump = Handle::current().dump();
    for _ in 0..100_000 {
        if done(&dump) {
            break;
        }
        minirt::yield_now().await;
        dump = Handle::current().dump();
    }
    dump
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
                // Until each task has returned from its first poll, parked
                // at `rx.await` (on a multi-thread runtime, on a worker).
                let ids: Vec<Id> = handles.iter().map(|h| h.id()).collect();
                let from_block_on = settle(|d| {
                    ids.iter().all(|&id| {
                        d.tasks()
                            .iter()
                            .any(|t| t.id() == id && t.state() == TaskState::Idle)
                    })
                })
                .await;
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

#[test]
fn a_dump_says_which_timer_or_socket_a_task_waits_on() {
    bounded(LIMIT, || {
        each_runtime_and_clock(|case| {
            let label = &case.label;
            case.rt.block_on(async {
                let sleeper = minirt::spawn(minirt::time::sleep(Duration::from_secs(3600)));
                let listener = minirt::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                let client = minirt::net::TcpStream::connect(addr).await.unwrap();
                let (server, _) = listener.accept().await.unwrap();
                let reader = minirt::spawn(async move {
                    use minirt::io::AsyncReadExt;
                    let mut server = server;
                    let mut buf = [0u8; 1];
                    server.read(&mut buf).await
                });
                // Until both have been polled (on a multi-thread runtime a
                // worker picks them up in its own time).
                let dump = settle(|d| {
                    [sleeper.id(), reader.id()]
                        .iter()
                        .all(|&id| d.tasks().iter().any(|t| t.id() == id && !t.waits_on().is_empty()))
                })
                .await;
                let timer = find(&dump, sleeper.id()).waits_on();
                assert!(
                    matches!(timer, [WaitsOn::Timer { due_in }]
                        if *due_in <= Duration::from_secs(3601) && *due_in > Duration::from_secs(3000)),
                    "{label}: {dump}"
                );
                let io = find(&dump, reader.id()).waits_on();
                assert!(
                    matches!(io, [WaitsOn::Io { direction: "read", .. }]),
                    "{label}: {dump}"
                );
                let text = dump.to_string();
                assert!(text.contains("waits on timer due in"), "{text}");
                assert!(text.contains("(read)"), "{text}");
                sleeper.abort();
                drop(client); // the reader sees end of stream
                assert_eq!(reader.await.unwrap().unwrap(), 0);
            });
        });
    });
}

#[test]
fn a_dump_shows_scopes_as_a_tree_with_their_children_and_the_task_awaiting_each() {
    bounded(LIMIT, || {
        each_runtime_and_clock(|case| {
            let label = &case.label;
            case.rt.block_on(async {
                let (tx, rx) = oneshot::channel::<()>();
                let outer_line = line!() + 2;
                let owner = minirt::spawn(async move {
                    let outer = minirt::scope::Scope::<()>::new();
                    outer.spawn(async move {
                        let inner = minirt::scope::Scope::<()>::new();
                        inner.spawn(async move {
                            rx.await.unwrap();
                        });
                        inner.join().await.unwrap();
                    });
                    outer.join().await.unwrap();
                });
                // Until both scopes exist, each with its child running and its
                // owner waiting (on a multi-thread runtime the three tasks
                // get there on other workers, in any order).
                let dump = settle(|d| {
                    d.scopes().len() == 2
                        && d.scopes()
                            .iter()
                            .all(|s| s.owner().is_some() && s.children().len() == 1)
                })
                .await;
                assert_eq!(dump.scopes().len(), 2, "{label}: {dump}");
                let outer = dump
                    .scopes()
                    .iter()
                    .position(|s| s.created_at().line() == outer_line)
                    .unwrap_or_else(|| panic!("{label}: no outer scope: {dump}"));
                let inner = 1 - outer;
                let (o, i) = (&dump.scopes()[outer], &dump.scopes()[inner]);
                assert_eq!(o.parent(), None, "{label}: {dump}");
                assert_eq!(i.parent(), Some(outer), "{label}: {dump}");
                assert_eq!(o.owner(), Some(owner.id()), "{label}: {dump}");
                assert_eq!(o.children().len(), 1, "{label}: {dump}");
                assert_eq!(i.children().len(), 1, "{label}: {dump}");
                // The outer scope's child is the task awaiting the inner one.
                assert_eq!(i.owner(), Some(o.children()[0]), "{label}: {dump}");
                let waits = find(&dump, owner.id()).waits_on();
                assert!(
                    matches!(waits, [WaitsOn::ScopeJoin { scope, .. }] if *scope == outer),
                    "{label}: {dump}"
                );
                let text = dump.to_string();
                assert!(text.contains("scopes:"), "{text}");
                assert!(
                    text.contains(&format!("awaited by task {}", owner.id())),
                    "{text}"
                );
                assert!(
                    text.contains("\n    scope "),
                    "the inner scope is indented: {text}"
                );
                tx.send(()).unwrap();
                owner.await.unwrap();
                assert!(Handle::current().dump().scopes().is_empty());
            });
        });
    });
}

#[test]
fn a_dump_names_the_primitive_each_task_waits_in_and_forgets_it_once_the_task_moves_on() {
    use minirt::runtime::WaitKind;
    use minirt::sync::{broadcast, mpsc as chan, watch, Barrier, Mutex, Notify, RwLock, Semaphore};
    use std::sync::Arc;

    bounded(LIMIT, || {
        each_runtime_and_clock(|case| {
            let label = &case.label;
            case.rt.block_on(async {
                let (full_tx, mut full_rx) = chan::channel::<u8>(1);
                full_tx.send(0).await.unwrap();
                let (empty_tx, mut empty_rx) = chan::channel::<u8>(1);
                let (unbounded_tx, mut unbounded_rx) = chan::unbounded_channel::<u8>();
                let (once_tx, once_rx) = oneshot::channel::<u8>();
                let sem = Arc::new(Semaphore::new(0));
                let mutex = Arc::new(Mutex::new(0u8));
                let held_mutex = mutex.clone().lock_owned().await;
                let rw_for_read = Arc::new(RwLock::new(0u8));
                let held_write = rw_for_read.clone().write_owned().await;
                let rw_for_write = Arc::new(RwLock::new(0u8));
                let held_read = rw_for_write.clone().read_owned().await;
                let notify = Arc::new(Notify::new());
                let barrier = Arc::new(Barrier::new(2));
                let (watch_tx, mut watch_rx) = watch::channel(0u8);
                let (cast_tx, mut cast_rx) = broadcast::channel::<u8>(4);

                // Each waits in one primitive, then sleeps an hour: once
                // released, its dump entry must say "timer", not the
                // primitive any more.
                let hour = || minirt::time::sleep(Duration::from_secs(3600));
                let (s, m, r, w, n, b) = (
                    sem.clone(),
                    mutex.clone(),
                    rw_for_read.clone(),
                    rw_for_write.clone(),
                    notify.clone(),
                    barrier.clone(),
                );
                let waiters: Vec<(WaitKind, JoinHandle<()>)> = vec![
                    (
                        WaitKind::MpscSend,
                        minirt::spawn(async move {
                            full_tx.send(1).await.unwrap();
                            hour().await;
                        }),
                    ),
                    (
                        WaitKind::MpscRecv,
                        minirt::spawn(async move {
                            empty_rx.recv().await.unwrap();
                            hour().await;
                        }),
                    ),
                    (
                        WaitKind::MpscRecv,
                        minirt::spawn(async move {
                            unbounded_rx.recv().await.unwrap();
                            hour().await;
                        }),
                    ),
                    (
                        WaitKind::Oneshot,
                        minirt::spawn(async move {
                            once_rx.await.unwrap();
                            hour().await;
                        }),
                    ),
                    (
                        WaitKind::Semaphore,
                        minirt::spawn(async move {
                            s.acquire().await.unwrap().forget();
                            hour().await;
                        }),
                    ),
                    (
                        WaitKind::Mutex,
                        minirt::spawn(async move {
                            drop(m.lock().await);
                            hour().await;
                        }),
                    ),
                    (
                        WaitKind::RwLockRead,
                        minirt::spawn(async move {
                            drop(r.read().await);
                            hour().await;
                        }),
                    ),
                    (
                        WaitKind::RwLockWrite,
                        minirt::spawn(async move {
                            drop(w.write().await);
                            hour().await;
                        }),
                    ),
                    (
                        WaitKind::Notify,
                        minirt::spawn(async move {
                            n.notified().await;
                            hour().await;
                        }),
                    ),
                    (
                        WaitKind::Barrier,
                        minirt::spawn(async move {
                            b.wait().await;
                            hour().await;
                        }),
                    ),
                    (
                        WaitKind::Watch,
                        minirt::spawn(async move {
                            watch_rx.changed().await.unwrap();
                            hour().await;
                        }),
                    ),
                    (
                        WaitKind::Broadcast,
                        minirt::spawn(async move {
                            cast_rx.recv().await.unwrap();
                            hour().await;
                        }),
                    ),
                ];
                let ids: Vec<Id> = waiters.iter().map(|(_, h)| h.id()).collect();
                let noted = |d: &Dump| {
                    ids.iter().all(|&id| {
                        d.tasks().iter().any(|t| {
                            t.id() == id
                                && t.state() == TaskState::Idle
                                && matches!(t.waits_on(), [WaitsOn::Sync(_)])
                        })
                    })
                };
                let dump = settle(noted).await;
                for (kind, h) in &waiters {
                    let t = find(&dump, h.id());
                    assert_eq!(t.waits_on(), [WaitsOn::Sync(*kind)], "{label}: {dump}");
                }
                let text = dump.to_string();
                for kind in ["mpsc::Sender::send", "mpsc::Receiver::recv", "Mutex::lock"] {
                    assert!(
                        text.contains(&format!("waits on {kind}")),
                        "{label}: {text}"
                    );
                }

                // Release every one of them.
                assert_eq!(full_rx.recv().await, Some(0));
                empty_tx.send(1).await.unwrap();
                unbounded_tx.send(1).unwrap();
                once_tx.send(1).unwrap();
                sem.add_permits(1);
                drop(held_mutex);
                drop(held_write);
                drop(held_read);
                notify.notify_one();
                barrier.wait().await;
                watch_tx.send(1).unwrap();
                cast_tx.send(1).unwrap();
                let moved_on = settle(|d| {
                    ids.iter().all(|&id| {
                        d.tasks().iter().any(|t| {
                            t.id() == id && matches!(t.waits_on(), [WaitsOn::Timer { .. }])
                        })
                    })
                })
                .await;
                for (_, h) in &waiters {
                    let t = find(&moved_on, h.id());
                    assert!(
                        matches!(t.waits_on(), [WaitsOn::Timer { .. }]),
                        "{label}: a released task still shows its old wait: {moved_on}"
                    );
                }
                for (_, h) in waiters {
                    h.abort();
                    assert!(h.await.unwrap_err().is_cancelled());
                }
            });
        });
    });
}
