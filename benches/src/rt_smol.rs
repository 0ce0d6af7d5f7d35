//! The smol side of every workload, built from smol's crates directly:
//! `async-executor` (a [`LocalExecutor`] for "ct", a [`SmolPool`] of 2
//! workers for "mt"), `async-io` (timers, `block_on`), `async-net`,
//! `async-channel` (also as the oneshot: smol has none), `async-lock` and
//! `blocking`.
//!
//! Mirrors `rt_tokio.rs` function by function. smol has no mock clock, so
//! `timer_fire_mock` is `n/a` here rather than ten real seconds of sleeping.

use std::future::Future;
use std::hint::black_box;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_channel::Sender;
use async_executor::{Executor, LocalExecutor};
use async_io::Timer;
use async_lock::Semaphore;
use async_net::{TcpListener, TcpStream};
use futures_lite::future::{self, yield_now};
use futures_lite::{AsyncReadExt, AsyncWriteExt};

use crate::countdown::Countdown;
use crate::gate::Gate;
use crate::params::*;
use crate::smol_pool::SmolPool;
use crate::workloads::Runner;

/// The smol code for workload `id`.
pub fn runner(id: &str) -> Option<Runner> {
    Some(match id {
        "block_on_ready" => Runner::Time(block_on_ready),
        "spawn_local_ct" => Runner::Time(spawn_local_ct),
        "spawn_local_mt" => Runner::Time(spawn_local_mt),
        "spawn_remote_mt" => Runner::Time(spawn_remote_mt),
        "yield_many_mt" => Runner::Time(yield_many_mt),
        "ping_pong_mt" => Runner::Time(ping_pong_mt),
        "chained_spawn_mt" => Runner::Time(chained_spawn_mt),
        "join_all_1000" => Runner::Time(join_all_1000),
        // No mock clock in smol: n/a.
        "timer_fire_mock" => return None,
        "timer_cancel" => Runner::Time(timer_cancel),
        "semaphore_mt" => Runner::Time(semaphore_mt),
        "mpsc_mt" => Runner::Time(mpsc_mt),
        "mpsc_unbounded_mt" => Runner::Time(crate::channels_smol::mpsc_unbounded_mt),
        "watch_fanout" => Runner::Time(crate::channels_smol::watch_fanout),
        "broadcast_fanout" => Runner::Time(crate::channels_smol::broadcast_fanout),
        "spawn_blocking" => Runner::Time(spawn_blocking),
        "tcp_echo_mt" => Runner::Time(tcp_echo_mt),
        "tcp_echo_mt_user_cpu" => Runner::Time(tcp_echo_mt_user_cpu),
        "scope_fanout" => Runner::Time(scope_fanout),
        "mutex_mt" => Runner::Time(crate::sync_locks::smol_side::mutex_mt),
        "rwlock_read_mostly" => Runner::Time(crate::sync_locks::smol_side::rwlock_read_mostly),
        #[cfg(unix)]
        "process_spawn_wait" => Runner::Time(crate::process::smol_side::process_spawn_wait),
        #[cfg(unix)]
        "process_spawn_wait_parent_cpu" => {
            Runner::Time(crate::process::smol_side::process_spawn_wait_parent_cpu)
        }
        "memory_per_task" => Runner::Bytes(memory_per_task),
        _ => return None,
    })
}

/// smol's current-thread flavour: a `LocalExecutor` run by `block_on`.
fn run_local<T>(executor: &LocalExecutor<'_>, future: impl Future<Output = T>) -> T {
    async_io::block_on(executor.run(future))
}

/// Times `iters` runs of `work` inside one run of the local `executor`.
fn timed_local<F, Fut>(executor: &LocalExecutor<'_>, iters: u64, work: F) -> Duration
where
    F: Fn() -> Fut,
    Fut: Future<Output = ()>,
{
    run_local(executor, async {
        let start = Instant::now();
        for _ in 0..iters {
            work().await;
        }
        start.elapsed()
    })
}

/// Times `iters` runs of `work`, awaited by the bench thread while the
/// pool's workers run the tasks.
pub(crate) fn timed_pool<F, Fut>(pool: &SmolPool, iters: u64, work: F) -> Duration
where
    F: Fn() -> Fut,
    Fut: Future<Output = ()>,
{
    pool.block_on(async {
        let start = Instant::now();
        for _ in 0..iters {
            work().await;
        }
        start.elapsed()
    })
}

pub(crate) fn pool() -> SmolPool {
    SmolPool::new(WORKER_THREADS)
}

/// smol's oneshot stand-in: a channel of capacity one.
fn oneshot<T>() -> (Sender<T>, async_channel::Receiver<T>) {
    async_channel::bounded(1)
}

fn block_on_ready(iters: u64) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        black_box(async_io::block_on(async { black_box(1) }));
    }
    start.elapsed()
}

fn spawn_local_ct(iters: u64) -> Duration {
    let executor = &LocalExecutor::new();
    timed_local(executor, iters, || async move {
        let tasks: Vec<_> = (0..SPAWN_TASKS).map(|_| executor.spawn(async {})).collect();
        for task in tasks {
            task.await;
        }
    })
}

fn spawn_local_mt(iters: u64) -> Duration {
    let pool = pool();
    let executor = pool.executor();
    timed_pool(&pool, iters, || async move {
        let (done, all_done) = oneshot();
        let countdown = Arc::new(Countdown::new(SPAWN_TASKS, done));
        let spawner = executor.clone();
        executor
            .spawn(async move {
                for _ in 0..SPAWN_TASKS {
                    let countdown = countdown.clone();
                    spawner
                        .spawn(async move {
                            if let Some(done) = countdown.count_down() {
                                let _ = done.try_send(());
                            }
                        })
                        .detach();
                }
            })
            .detach();
        all_done.recv().await.expect("countdown signal dropped");
    })
}

fn spawn_remote_mt(iters: u64) -> Duration {
    let pool = pool();
    let start = Instant::now();
    for _ in 0..iters {
        let tasks: Vec<_> = (0..SPAWN_TASKS)
            .map(|_| pool.executor().spawn(async {}))
            .collect();
        pool.block_on(async {
            for task in tasks {
                task.await;
            }
        });
    }
    start.elapsed()
}

fn yield_many_mt(iters: u64) -> Duration {
    let pool = pool();
    let executor = pool.executor();
    timed_pool(&pool, iters, || async move {
        let tasks: Vec<_> = (0..YIELD_TASKS)
            .map(|_| {
                executor.spawn(async {
                    for _ in 0..YIELDS_PER_TASK {
                        yield_now().await;
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await;
        }
    })
}

fn ping_pong_mt(iters: u64) -> Duration {
    let pool = pool();
    let executor = pool.executor();
    timed_pool(&pool, iters, || async move {
        let (done, all_done) = oneshot();
        let countdown = Arc::new(Countdown::new(PING_PONG_PAIRS, done));
        for _ in 0..PING_PONG_PAIRS {
            let countdown = countdown.clone();
            let spawner = executor.clone();
            executor
                .spawn(async move {
                    let (ping_tx, ping_rx) = oneshot::<()>();
                    let (pong_tx, pong_rx) = oneshot::<()>();
                    spawner
                        .spawn(async move {
                            ping_rx.recv().await.expect("ping dropped");
                            pong_tx.try_send(()).expect("pong receiver dropped");
                        })
                        .detach();
                    ping_tx.try_send(()).expect("ping receiver dropped");
                    pong_rx.recv().await.expect("pong dropped");
                    if let Some(done) = countdown.count_down() {
                        let _ = done.try_send(());
                    }
                })
                .detach();
        }
        all_done.recv().await.expect("countdown signal dropped");
    })
}

/// Spawns the next link of the chain, or signals when none is left.
fn chain(executor: Arc<Executor<'static>>, remaining: usize, done: Sender<()>) {
    if remaining == 0 {
        let _ = done.try_send(());
    } else {
        let spawner = executor.clone();
        spawner
            .spawn(async move { chain(executor, remaining - 1, done) })
            .detach();
    }
}

fn chained_spawn_mt(iters: u64) -> Duration {
    let pool = pool();
    let executor = pool.executor();
    timed_pool(&pool, iters, || async move {
        let (done, chain_done) = oneshot();
        let next = executor.clone();
        // This task is link 1; it and `chain` spawn the other CHAIN_LENGTH - 1.
        executor
            .spawn(async move { chain(next, CHAIN_LENGTH - 1, done) })
            .detach();
        chain_done.recv().await.expect("chain dropped its signal");
    })
}

fn join_all_1000(iters: u64) -> Duration {
    timed_local(&LocalExecutor::new(), iters, || async {
        let outputs =
            futures_util::future::join_all((0..JOIN_ALL_FUTURES).map(|_| yield_now())).await;
        black_box(outputs);
    })
}

fn timer_cancel(iters: u64) -> Duration {
    timed_local(&LocalExecutor::new(), iters, || async {
        for _ in 0..TIMEOUTS {
            // `or` polls the yield first, then registers the timer; the yield
            // wins on the next poll and dropping the timer cancels it.
            let in_time = future::or(
                async {
                    yield_now().await;
                    true
                },
                async {
                    Timer::after(TIMEOUT).await;
                    false
                },
            )
            .await;
            assert!(black_box(in_time), "a yield outlasted a one-second timeout");
        }
    })
}

fn semaphore_mt(iters: u64) -> Duration {
    let pool = pool();
    let executor = pool.executor();
    timed_pool(&pool, iters, || async move {
        let semaphore = Arc::new(Semaphore::new(SEMAPHORE_PERMITS));
        let tasks: Vec<_> = (0..SEMAPHORE_TASKS)
            .map(|_| {
                let semaphore = semaphore.clone();
                executor.spawn(async move {
                    for _ in 0..SEMAPHORE_ROUNDS {
                        let permit = semaphore.acquire().await;
                        yield_now().await;
                        drop(permit);
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await;
        }
    })
}

fn mpsc_mt(iters: u64) -> Duration {
    let pool = pool();
    let executor = pool.executor();
    timed_pool(&pool, iters, || async move {
        let (sender, receiver) = async_channel::bounded::<u64>(MPSC_CAPACITY);
        let consumer = executor.spawn(async move {
            let mut sum = 0;
            while let Ok(value) = receiver.recv().await {
                sum += value;
            }
            sum
        });
        let producers: Vec<_> = (0..MPSC_PRODUCERS)
            .map(|_| {
                let sender = sender.clone();
                executor.spawn(async move {
                    for value in 0..MPSC_MESSAGES_PER_PRODUCER {
                        sender.send(value).await.expect("consumer gone");
                    }
                })
            })
            .collect();
        drop(sender);
        for producer in producers {
            producer.await;
        }
        assert_eq!(consumer.await, mpsc_expected_sum(), "messages lost");
    })
}

fn spawn_blocking(iters: u64) -> Duration {
    timed_local(&LocalExecutor::new(), iters, || async {
        for _ in 0..BLOCKING_CALLS / BLOCKING_BATCH {
            let batch: Vec<_> = (0..BLOCKING_BATCH)
                .map(|_| blocking::unblock(|| black_box(0u64)))
                .collect();
            for task in batch {
                black_box(task.await);
            }
        }
    })
}

/// Echoes `TCP_MESSAGE_BYTES`-byte messages until the client hangs up.
async fn echo(mut stream: TcpStream) {
    let mut buffer = [0u8; TCP_MESSAGE_BYTES];
    while stream.read_exact(&mut buffer).await.is_ok() {
        if stream.write_all(&buffer).await.is_err() {
            break;
        }
    }
}

/// One client: connect, then `TCP_ROUND_TRIPS` write-then-read-back trips.
async fn echo_client(server: SocketAddr) {
    let mut stream = TcpStream::connect(server)
        .await
        .expect("connecting to the echo server");
    let message = [7u8; TCP_MESSAGE_BYTES];
    let mut reply = [0u8; TCP_MESSAGE_BYTES];
    for _ in 0..TCP_ROUND_TRIPS {
        stream
            .write_all(&message)
            .await
            .expect("writing to the echo server");
        stream
            .read_exact(&mut reply)
            .await
            .expect("reading the echo");
    }
    assert_eq!(reply, message, "the echo differs");
}

/// `tcp_echo_mt` in wall time.
fn tcp_echo_mt(iters: u64) -> Duration {
    tcp_echo_measured(iters, crate::cpu::Stopwatch::wall)
}

/// `tcp_echo_mt` in user CPU per round trip (`tcp_echo_mt_user_cpu`).
fn tcp_echo_mt_user_cpu(iters: u64) -> Duration {
    tcp_echo_measured(iters, crate::cpu::per_echo_round_trip)
}

/// The echo workload, measured by the `stopwatch` it starts.
fn tcp_echo_measured(iters: u64, stopwatch: fn() -> crate::cpu::Stopwatch) -> Duration {
    let pool = pool();
    let executor = pool.executor();
    let listener = pool
        .block_on(TcpListener::bind("127.0.0.1:0"))
        .expect("binding the echo server");
    let server = listener.local_addr().expect("echo server address");
    let spawner = executor.clone();
    // Kept, not detached: it holds the executor, so it must be dropped
    // (cancelled) before the pool or the executor would keep itself alive.
    let accept_loop = executor.spawn(async move {
        loop {
            match listener.accept().await {
                Ok((stream, _)) => spawner.spawn(echo(stream)).detach(),
                Err(error) => panic!("echo server accept failed: {error}"),
            }
        }
    });
    let elapsed = pool.block_on(async move {
        let watch = stopwatch();
        for _ in 0..iters {
            let clients: Vec<_> = (0..TCP_CONNECTIONS)
                .map(|_| executor.spawn(echo_client(server)))
                .collect();
            for client in clients {
                client.await;
            }
        }
        watch.elapsed()
    });
    drop(accept_loop);
    elapsed
}

fn scope_fanout(iters: u64) -> Duration {
    let pool = pool();
    let executor = pool.executor();
    timed_pool(&pool, iters, || async move {
        let spawner = executor.clone();
        let parent = executor.spawn(async move {
            let running = Arc::new(Semaphore::new(SCOPE_MAX_RUNNING));
            let mut children = Vec::with_capacity(SCOPE_CHILDREN);
            for _ in 0..SCOPE_CHILDREN {
                let permit = running.acquire_arc().await;
                children.push(spawner.spawn(async move {
                    yield_now().await;
                    drop(permit);
                }));
            }
            for child in children {
                child.await;
            }
        });
        parent.await;
    })
}

fn memory_per_task() -> Option<f64> {
    let executor = &LocalExecutor::new();
    run_local(executor, async {
        let gate = Arc::new(Gate::new());
        let counter = crate::alloc_counter::ByteCounter::start()?;
        for _ in 0..MEMORY_TASKS {
            executor.spawn(gate.clone().wait()).detach();
        }
        while gate.waiting() < MEMORY_TASKS {
            yield_now().await;
        }
        let bytes = counter.net_bytes();
        drop(counter);
        gate.open();
        while gate.released() < MEMORY_TASKS {
            yield_now().await;
        }
        Some(bytes as f64 / MEMORY_TASKS as f64)
    })
}
