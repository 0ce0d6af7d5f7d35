//! The tokio side of every workload (tokio 1.x, `enable_all`, 2 workers for
//! the multi-thread flavour).
//!
//! Each function builds its runtime before the clock starts and returns only
//! the time of `iters` runs of the workload. `rt_smol.rs` and `rt_minirt.rs`
//! mirror this file function by function; keep them in step.

use std::future::Future;
use std::hint::black_box;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::{Builder, Runtime};
use tokio::sync::{mpsc, oneshot, Semaphore};
use tokio::task::{yield_now, JoinSet};

use crate::countdown::Countdown;
use crate::gate::Gate;
use crate::params::*;
use crate::workloads::Runner;

/// The tokio code for workload `id`.
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
        "timer_fire_mock" => Runner::Time(timer_fire_mock),
        "timer_cancel" => Runner::Time(timer_cancel),
        "semaphore_mt" => Runner::Time(semaphore_mt),
        "mpsc_mt" => Runner::Time(mpsc_mt),
        "mpsc_unbounded_mt" => Runner::Time(crate::channels_tokio::mpsc_unbounded_mt),
        "watch_fanout" => Runner::Time(crate::channels_tokio::watch_fanout),
        "broadcast_fanout" => Runner::Time(crate::channels_tokio::broadcast_fanout),
        "spawn_blocking" => Runner::Time(spawn_blocking),
        "tcp_echo_mt" => Runner::Time(tcp_echo_mt),
        "tcp_echo_mt_user_cpu" => Runner::Time(tcp_echo_mt_user_cpu),
        "scope_fanout" => Runner::Time(scope_fanout),
        "mutex_mt" => Runner::Time(crate::sync_locks::tokio_side::mutex_mt),
        "rwlock_read_mostly" => Runner::Time(crate::sync_locks::tokio_side::rwlock_read_mostly),
        #[cfg(unix)]
        "process_spawn_wait" => Runner::Time(crate::process::tokio_side::process_spawn_wait),
        #[cfg(unix)]
        "process_spawn_wait_parent_cpu" => {
            Runner::Time(crate::process::tokio_side::process_spawn_wait_parent_cpu)
        }
        "memory_per_task" => Runner::Bytes(memory_per_task),
        _ => return None,
    })
}

fn current_thread() -> Runtime {
    Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("building a tokio current-thread runtime")
}

pub(crate) fn multi_thread() -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(WORKER_THREADS)
        .enable_all()
        .build()
        .expect("building a tokio multi-thread runtime")
}

/// Times `iters` runs of `work` inside one `block_on` on `rt`.
pub(crate) fn timed<F, Fut>(rt: &Runtime, iters: u64, work: F) -> Duration
where
    F: Fn() -> Fut,
    Fut: Future<Output = ()>,
{
    rt.block_on(async {
        let start = Instant::now();
        for _ in 0..iters {
            work().await;
        }
        start.elapsed()
    })
}

fn block_on_ready(iters: u64) -> Duration {
    let rt = current_thread();
    let start = Instant::now();
    for _ in 0..iters {
        black_box(rt.block_on(async { black_box(1) }));
    }
    start.elapsed()
}

fn spawn_local_ct(iters: u64) -> Duration {
    timed(&current_thread(), iters, || async {
        let handles: Vec<_> = (0..SPAWN_TASKS).map(|_| tokio::spawn(async {})).collect();
        for handle in handles {
            handle.await.expect("empty task failed");
        }
    })
}

fn spawn_local_mt(iters: u64) -> Duration {
    timed(&multi_thread(), iters, || async {
        let (done, all_done) = oneshot::channel();
        let countdown = Arc::new(Countdown::new(SPAWN_TASKS, done));
        tokio::spawn(async move {
            for _ in 0..SPAWN_TASKS {
                let countdown = countdown.clone();
                tokio::spawn(async move {
                    if let Some(done) = countdown.count_down() {
                        let _ = done.send(());
                    }
                });
            }
        });
        all_done.await.expect("countdown signal dropped");
    })
}

fn spawn_remote_mt(iters: u64) -> Duration {
    let rt = multi_thread();
    let start = Instant::now();
    for _ in 0..iters {
        let handles: Vec<_> = (0..SPAWN_TASKS).map(|_| rt.spawn(async {})).collect();
        rt.block_on(async {
            for handle in handles {
                handle.await.expect("empty task failed");
            }
        });
    }
    start.elapsed()
}

fn yield_many_mt(iters: u64) -> Duration {
    timed(&multi_thread(), iters, || async {
        let handles: Vec<_> = (0..YIELD_TASKS)
            .map(|_| {
                tokio::spawn(async {
                    for _ in 0..YIELDS_PER_TASK {
                        yield_now().await;
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.await.expect("yielding task failed");
        }
    })
}

fn ping_pong_mt(iters: u64) -> Duration {
    timed(&multi_thread(), iters, || async {
        let (done, all_done) = oneshot::channel();
        let countdown = Arc::new(Countdown::new(PING_PONG_PAIRS, done));
        for _ in 0..PING_PONG_PAIRS {
            let countdown = countdown.clone();
            tokio::spawn(async move {
                let (ping_tx, ping_rx) = oneshot::channel::<()>();
                let (pong_tx, pong_rx) = oneshot::channel::<()>();
                tokio::spawn(async move {
                    ping_rx.await.expect("ping dropped");
                    pong_tx.send(()).expect("pong receiver dropped");
                });
                ping_tx.send(()).expect("ping receiver dropped");
                pong_rx.await.expect("pong dropped");
                if let Some(done) = countdown.count_down() {
                    let _ = done.send(());
                }
            });
        }
        all_done.await.expect("countdown signal dropped");
    })
}

/// Spawns the next link of the chain, or signals when none is left.
fn chain(remaining: usize, done: oneshot::Sender<()>) {
    if remaining == 0 {
        let _ = done.send(());
    } else {
        tokio::spawn(async move { chain(remaining - 1, done) });
    }
}

fn chained_spawn_mt(iters: u64) -> Duration {
    timed(&multi_thread(), iters, || async {
        let (done, chain_done) = oneshot::channel();
        // This task is link 1; it and `chain` spawn the other CHAIN_LENGTH - 1.
        tokio::spawn(async move { chain(CHAIN_LENGTH - 1, done) });
        chain_done.await.expect("chain dropped its signal");
    })
}

fn join_all_1000(iters: u64) -> Duration {
    timed(&current_thread(), iters, || async {
        let outputs =
            futures_util::future::join_all((0..JOIN_ALL_FUTURES).map(|_| yield_now())).await;
        black_box(outputs);
    })
}

fn timer_fire_mock(iters: u64) -> Duration {
    let rt = Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("building a paused tokio runtime");
    let durations = &sleep_durations();
    timed(&rt, iters, || async move {
        let handles: Vec<_> = durations
            .iter()
            .map(|&duration| tokio::spawn(async move { tokio::time::sleep(duration).await }))
            .collect();
        for handle in handles {
            handle.await.expect("sleeping task failed");
        }
    })
}

fn timer_cancel(iters: u64) -> Duration {
    timed(&current_thread(), iters, || async {
        for _ in 0..TIMEOUTS {
            let outcome = tokio::time::timeout(TIMEOUT, yield_now()).await;
            outcome.expect("a yield outlasted a one-second timeout");
        }
    })
}

fn semaphore_mt(iters: u64) -> Duration {
    timed(&multi_thread(), iters, || async {
        let semaphore = Arc::new(Semaphore::new(SEMAPHORE_PERMITS));
        let handles: Vec<_> = (0..SEMAPHORE_TASKS)
            .map(|_| {
                let semaphore = semaphore.clone();
                tokio::spawn(async move {
                    for _ in 0..SEMAPHORE_ROUNDS {
                        let permit = semaphore.acquire().await.expect("semaphore closed");
                        yield_now().await;
                        drop(permit);
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.await.expect("semaphore task failed");
        }
    })
}

fn mpsc_mt(iters: u64) -> Duration {
    timed(&multi_thread(), iters, || async {
        let (sender, mut receiver) = mpsc::channel::<u64>(MPSC_CAPACITY);
        let consumer = tokio::spawn(async move {
            let mut sum = 0;
            while let Some(value) = receiver.recv().await {
                sum += value;
            }
            sum
        });
        let producers: Vec<_> = (0..MPSC_PRODUCERS)
            .map(|_| {
                let sender = sender.clone();
                tokio::spawn(async move {
                    for value in 0..MPSC_MESSAGES_PER_PRODUCER {
                        sender.send(value).await.expect("consumer gone");
                    }
                })
            })
            .collect();
        drop(sender);
        for producer in producers {
            producer.await.expect("producer failed");
        }
        let sum = consumer.await.expect("consumer failed");
        assert_eq!(sum, mpsc_expected_sum(), "messages lost");
    })
}

fn spawn_blocking(iters: u64) -> Duration {
    timed(&current_thread(), iters, || async {
        for _ in 0..BLOCKING_CALLS / BLOCKING_BATCH {
            let batch: Vec<_> = (0..BLOCKING_BATCH)
                .map(|_| tokio::task::spawn_blocking(|| black_box(0u64)))
                .collect();
            for handle in batch {
                black_box(handle.await.expect("blocking call failed"));
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
    let rt = multi_thread();
    let listener = rt
        .block_on(TcpListener::bind("127.0.0.1:0"))
        .expect("binding the echo server");
    let server = listener.local_addr().expect("echo server address");
    rt.spawn(async move {
        loop {
            match listener.accept().await {
                Ok((stream, _)) => drop(tokio::spawn(echo(stream))),
                Err(error) => panic!("echo server accept failed: {error}"),
            }
        }
    });
    rt.block_on(async move {
        let watch = stopwatch();
        for _ in 0..iters {
            let clients: Vec<_> = (0..TCP_CONNECTIONS)
                .map(|_| tokio::spawn(echo_client(server)))
                .collect();
            for client in clients {
                client.await.expect("echo client failed");
            }
        }
        watch.elapsed()
    })
}

fn scope_fanout(iters: u64) -> Duration {
    timed(&multi_thread(), iters, || async {
        let parent = tokio::spawn(async {
            let running = Arc::new(Semaphore::new(SCOPE_MAX_RUNNING));
            let mut children = JoinSet::new();
            for _ in 0..SCOPE_CHILDREN {
                let permit = running
                    .clone()
                    .acquire_owned()
                    .await
                    .expect("semaphore closed");
                children.spawn(async move {
                    yield_now().await;
                    drop(permit);
                });
            }
            while let Some(child) = children.join_next().await {
                child.expect("child failed");
            }
        });
        parent.await.expect("scope parent failed");
    })
}

fn memory_per_task() -> Option<f64> {
    let rt = current_thread();
    rt.block_on(async {
        let gate = Arc::new(Gate::new());
        let counter = crate::alloc_counter::ByteCounter::start()?;
        for _ in 0..MEMORY_TASKS {
            drop(tokio::spawn(gate.clone().wait()));
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
