//! `Handle::block_on` (sync code blocking on a runtime's future) and
//! `Handle::current` in every place sync and async code meet, on both
//! runtimes.

use std::time::Duration;

use minirt::net::{TcpListener, TcpStream};
use minirt::time::{sleep, Instant};
use minirt::{Builder, Handle, Runtime};
use minirt_tests::{bounded, each_runtime_and_clock, named_runtimes};

const LIMIT: Duration = Duration::from_secs(60);

#[test]
fn handle_block_on_in_spawn_blocking_sleeps_on_the_runtimes_timers() {
    bounded(LIMIT, || {
        each_runtime_and_clock(|case| {
            let mock = case.is_mock();
            let label = case.label.clone();
            let (slept, value) = case
                .rt
                .block_on(async move {
                    minirt::spawn_blocking(move || {
                        let handle = Handle::current();
                        handle.block_on(async {
                            let start = Instant::now();
                            // Long in virtual time, short in real time.
                            let d = if mock {
                                Duration::from_secs(3600)
                            } else {
                                Duration::from_millis(20)
                            };
                            sleep(d).await;
                            // A task spawned from here runs on the runtime.
                            let v = minirt::spawn(async { 5 }).await.unwrap();
                            (start.elapsed() >= d && (!mock || start.elapsed() == d), v)
                        })
                    })
                    .await
                })
                .unwrap();
            assert!(slept, "{label}: the sleep ended early or late");
            assert_eq!(value, 5, "{label}");
        });
    });
}

#[test]
fn handle_block_on_in_spawn_blocking_connects_a_real_socket() {
    bounded(LIMIT, || {
        each_runtime_and_clock(|case| {
            let label = case.label.clone();
            let (accepted, connected) = case.rt.block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                let connect = minirt::spawn_blocking(move || {
                    Handle::current().block_on(async move {
                        let stream = TcpStream::connect(addr).await?;
                        stream.peer_addr()
                    })
                });
                minirt::join!(async { listener.accept().await.map(|(_, a)| a) }, connect)
            });
            let accepted = accepted.unwrap();
            let connected = connected.unwrap().unwrap();
            assert_eq!(connected, accepted_peer_of(&accepted, connected), "{label}");
        });
    });
}

/// The listener saw the client's address; the client saw the listener's.
/// Both ends being `Ok` is the point; this just keeps the values used.
fn accepted_peer_of(
    accepted: &std::net::SocketAddr,
    connected: std::net::SocketAddr,
) -> std::net::SocketAddr {
    assert!(accepted.ip().is_loopback());
    connected
}

#[test]
fn handle_block_on_from_a_plain_thread_drives_an_idle_current_thread_runtime() {
    bounded(LIMIT, || {
        for clock in [minirt::time::Clock::real(), minirt::time::Clock::mock()] {
            let rt = Builder::current_thread().clock(clock).build().unwrap();
            // A task spawned before anyone drives the runtime.
            let early = rt.spawn(async { 1 });
            let handle = rt.handle().clone();
            let out = std::thread::spawn(move || {
                handle.block_on(async {
                    sleep(Duration::from_millis(10)).await;
                    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                    let addr = listener.local_addr().unwrap();
                    let (a, c) = minirt::join!(listener.accept(), TcpStream::connect(addr));
                    a.unwrap();
                    c.unwrap();
                    early.await.unwrap() + minirt::spawn(async { 2 }).await.unwrap()
                })
            })
            .join()
            .unwrap();
            assert_eq!(out, 3);
        }
    });
}

#[test]
fn handle_block_on_from_a_plain_thread_on_a_multi_thread_runtime() {
    bounded(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let handle = rt.handle().clone();
        let name = std::thread::spawn(move || {
            handle.block_on(async {
                sleep(Duration::from_millis(5)).await;
                minirt::spawn(async { std::thread::current().name().map(str::to_owned) })
                    .await
                    .unwrap()
            })
        })
        .join()
        .unwrap();
        assert!(name.unwrap().starts_with("minirt-worker"));
    });
}

#[test]
fn handle_block_on_in_a_sync_scope_closure_lets_mock_time_move() {
    bounded(LIMIT, || {
        let rt = Builder::multi_thread()
            .worker_threads(2)
            .mock_clock()
            .build()
            .unwrap();
        let elapsed = rt
            .block_on(rt.spawn_blocking(|| {
                let mut elapsed = None;
                minirt::scope(|s| {
                    s.spawn(async { sleep(Duration::from_secs(10)).await });
                    elapsed = Some(Handle::current().block_on(async {
                        let start = Instant::now();
                        sleep(Duration::from_secs(60)).await;
                        start.elapsed()
                    }));
                })
                .unwrap();
                elapsed
            }))
            .unwrap();
        assert_eq!(elapsed, Some(Duration::from_secs(60)));
    });
}

#[test]
#[should_panic(expected = "Handle::block_on was called from inside a minirt runtime")]
fn handle_block_on_inside_a_current_thread_block_on_panics() {
    let rt = Builder::current_thread().build().unwrap();
    let handle = rt.handle().clone();
    rt.block_on(async move { handle.block_on(async {}) });
}

#[test]
#[should_panic(expected = "Handle::block_on was called from inside a minirt runtime")]
fn handle_block_on_inside_a_multi_thread_block_on_panics() {
    let rt = Builder::multi_thread().worker_threads(1).build().unwrap();
    rt.block_on(async { Handle::current().block_on(async {}) });
}

#[test]
#[should_panic(expected = "Handle::block_on was called from inside a minirt runtime")]
fn handle_block_on_of_another_runtime_inside_a_block_on_panics() {
    let other = Builder::current_thread().build().unwrap();
    let rt = Builder::current_thread().build().unwrap();
    rt.block_on(async { other.handle().block_on(async {}) });
}

#[test]
fn handle_block_on_inside_a_task_panics_with_a_clear_message() {
    bounded(LIMIT, || {
        for (name, rt) in named_runtimes() {
            let err = rt
                .block_on(rt.spawn(async { Handle::current().block_on(async {}) }))
                .unwrap_err();
            let payload = err.into_panic();
            let message = payload
                .downcast_ref::<String>()
                .cloned()
                .unwrap_or_default();
            assert!(
                message.contains("Handle::block_on was called from inside a minirt runtime")
                    && message.contains("spawn_blocking"),
                "{name}: {message:?}"
            );
        }
    });
}

/// Spawns an empty task through `Handle::current()`.
fn spawn_here() {
    drop(Handle::current().spawn(async {}));
}

/// Counts tasks spawned through `Handle::current()` at each place, checking
/// that it is the runtime running that code.
#[test]
fn handle_current_is_the_right_runtime_everywhere() {
    bounded(LIMIT, || {
        for (name, rt) in named_runtimes() {
            let spawned = || rt.metrics().tasks_spawned;
            let before = spawned();
            rt.block_on(async { spawn_here() });
            assert_eq!(spawned(), before + 1, "{name}: in Runtime::block_on");

            let before = spawned();
            rt.block_on(rt.spawn_blocking(spawn_here)).unwrap();
            // (A blocking job is not a spawned task; only the spawn inside is.)
            assert_eq!(spawned(), before + 1, "{name}: in spawn_blocking");

            let before = spawned();
            let handle = rt.handle().clone();
            rt.block_on(rt.spawn_blocking(move || handle.block_on(async { spawn_here() })))
                .unwrap();
            assert_eq!(spawned(), before + 1, "{name}: in Handle::block_on");

            let before = spawned();
            rt.block_on(async {
                let scope = minirt::scope::Scope::new();
                scope.spawn(async { spawn_here() });
                scope.join().await.unwrap();
            });
            // The scope child itself is a task, plus the one it spawned.
            assert_eq!(spawned(), before + 2, "{name}: in an async scope child");

            let before = spawned();
            rt.block_on(rt.spawn(async { spawn_here() })).unwrap();
            assert_eq!(spawned(), before + 2, "{name}: in a task");
        }
        // A sync-boundary scope inside a multi-thread runtime's blocking job
        // runs its children on that runtime.
        let rt = Builder::multi_thread().worker_threads(2).build().unwrap();
        let before = rt.metrics().tasks_spawned;
        rt.block_on(rt.spawn_blocking(|| {
            minirt::scope(|s| {
                s.spawn(async {
                    drop(Handle::current().spawn(async {}));
                });
            })
            .unwrap();
        }))
        .unwrap();
        assert_eq!(rt.metrics().tasks_spawned, before + 2, "child + its spawn");
        assert!(
            Handle::try_current().is_none(),
            "nothing leaks onto this thread"
        );
    });
}
