//! loom models of the real multi-thread worker loop.
//!
//! Run with (each model alone, or all of them with `worker_loom`):
//!
//! ```text
//! RUSTFLAGS="--cfg minirt_loom" LOOM_MAX_PREEMPTIONS=2 CARGO_TARGET_DIR=target/loom-std \
//!     cargo test -p minirt --release --lib worker_loom
//! RUSTFLAGS="--cfg minirt_loom --cfg loom" LOOM_MAX_PREEMPTIONS=2 \
//!     CARGO_TARGET_DIR=target/loom-std-core cargo test -p minirt --release --lib -- \
//!     worker_loom::remote_spawn worker_loom::wake_races worker_loom::mock_clock
//! ```
//!
//! The first run keeps `minirt-core` on std atomics; the second adds
//! `--cfg loom`, so core's task state machine and join-waker hand-off are
//! loom's too (the `parking` crate's loom build, which `--cfg loom` also
//! selects, is not used under `minirt_loom`). Model (d) needs the second:
//! its `BlockOnWaker` is created on the main thread and reached by the
//! worker only through core's join waker, and with core on std atomics loom
//! sees no happens-before edge there and reports a causality violation on
//! the waker's state. Model (b) is left out of the second run: with core's
//! atomics its chain of five tasks does not finish within ten minutes.
//!
//! Every model builds a runtime through the ordinary [`Builder`], so loom
//! runs the code that ships: `Shared::start` (spawning the workers with
//! `loom::thread`), `worker::run` with its LIFO slot, `MAX_LIFO_POLLS` cap,
//! searching and stealing, the `Idle` transitions and the re-check in
//! `park`, `Driver::park`/`sleep`/`unpark_sleeper` with the real
//! `EMPTY`/`PARKED`/`NOTIFIED` flag protocol of `driver/io.rs`, the busy
//! count and `BlockOnWaker` of `driver/busy.rs`, auto-advance under the
//! advance lock, `Runtime::block_on` on the model's main thread, and the
//! shutdown protocol in `Workers::shutdown` and `WorkerContext::shutdown`.
//! A lost wake-up, or a shutdown that does not finish, leaves every thread
//! blocked, which loom reports as a deadlock.
//!
//! # What is replaced, and why (the seams, all in `crate::loom` and `queue`)
//!
//! - **crossbeam-deque** (`queue.rs`): lock-free with std atomics and epoch
//!   reclamation, invisible to loom. Replaced by a `Mutex<VecDeque>` with the
//!   same API that never answers `Steal::Retry`, so the retry branches of
//!   `search` and `steal_one` are not explored.
//! - **`parking::Parker`** (`crate::loom::parking`): a token behind a loom
//!   `Mutex`/`Condvar`. A nonzero `park_timeout` waits like `park` (loom has
//!   no time; the argument is in that module's docs).
//! - **mio's wait** (`driver/io.rs`): loom cannot see a thread blocked in
//!   `epoll_wait`. The poller waits on a token instead, which `unpark` hands
//!   over where it would write the eventfd. The flag protocol around it is
//!   the real code. No I/O event is modelled, and no socket is registered.
//! - **threads and thread-locals**: `loom::thread` and `loom::thread_local!`
//!   (`WORKER` in `worker.rs`, `CURRENT`/`ENTERED` in `context.rs`), since
//!   loom runs its threads as coroutines on one OS thread.
//!
//! # What stays std, and why that is sound here
//!
//! Loom switches threads only at loom operations, so a std lock whose
//! critical section contains none is always released before another model
//! thread runs; a std atomic is then just a plain (sequentially consistent)
//! variable whose orderings loom does not check.
//!
//! - the timer wheel's `Mutex` (`time/driver.rs`): wakers are woken and
//!   dropped outside it; the I/O unpark after a new earliest deadline, too;
//! - `minirt-core` (task state, owned-task shard locks, join wakers): core has
//!   its own loom models under `cfg(loom)`, and its locks are never held
//!   across a schedule or wake;
//! - the per-worker metrics counters;
//! - the reactor's thread-local "current reactor" (`minirt-reactor` is not
//!   shimmed): shared by all model threads, read only by socket
//!   constructors, which no model calls;
//! - the blocking pool: no model submits a blocking job, so it never starts
//!   a thread, and its shutdown returns at once.
//!
//! # Not reached
//!
//! `Driver::maintain` runs every `INJECTOR_INTERVAL` (61) ticks, more than a
//! model can afford; its poll only ever `try_lock`s the poller. The autojump
//! threshold wait needs a registered I/O source.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use minirt_core::task::JoinHandle;

use super::{Shared, MAX_LIFO_POLLS};
use crate::driver::Driver;
use crate::runtime::{Builder, Runtime, SchedulerHandle};

/// A multi-thread runtime with `workers` workers, built the normal way.
fn runtime(workers: usize, mock_clock: bool) -> Runtime {
    let builder = Builder::multi_thread().worker_threads(workers);
    let builder = if mock_clock {
        builder.mock_clock()
    } else {
        builder
    };
    builder.build().expect("runtime builds under loom")
}

/// The scheduler state and the driver of `rt`, to check them after it is
/// dropped.
fn parts(rt: &Runtime) -> (Arc<Shared>, Arc<Driver>) {
    let SchedulerHandle::MultiThread(shared) = &rt.handle().inner.scheduler else {
        unreachable!("built as multi-thread")
    };
    (shared.clone(), rt.handle().inner.driver.clone())
}

/// What must hold once the runtime is dropped: no worker still listed as
/// a sleeper, no task alive, no busy unit left.
fn check_shut_down(shared: &Shared, driver: &Driver) {
    for i in 0..shared.num_workers() {
        assert!(
            !shared.idle.is_parked(i),
            "worker {i} exited listed as parked"
        );
    }
    assert_eq!(shared.idle.parked(), 0);
    assert_eq!(shared.owned.len(), 0, "a task survived shutdown");
    assert!(shared.injector.is_empty());
    assert_eq!(driver.busy.count(), 0, "a busy unit leaked");
}

/// (a) A task spawned from outside (into the injector) while both workers
/// run out of work and park, one of them in the poller, the other on its
/// parker: it runs, and `block_on` on the main thread sees its output.
#[test]
fn remote_spawn_while_two_workers_park() {
    loom::model(|| {
        let rt = runtime(2, false);
        let (shared, driver) = parts(&rt);
        let task = rt.spawn(async { 7 });
        assert_eq!(rt.block_on(task).unwrap(), 7);
        drop(rt);
        check_shut_down(&shared, &driver);
    });
}

/// (b) The LIFO slot against a stealing worker. A task spawned from outside
/// spawns a child, which spawns the next, and so on: each child goes into
/// the worker's LIFO slot, where the other worker cannot steal it, and runs
/// right after its parent. After `MAX_LIFO_POLLS` slot polls in a row the
/// last child is moved to the deque (and a sleeper notified), where the
/// other worker, searching or woken, may steal it. Every task runs.
#[test]
fn lifo_chain_past_the_cap_while_the_other_worker_steals() {
    /// Tasks in the chain: the first (from outside), `MAX_LIFO_POLLS` run
    /// from the slot, and one more that the cap sends to the deque.
    const CHAIN: usize = MAX_LIFO_POLLS as usize + 2;

    type Handles = Arc<std::sync::Mutex<VecDeque<JoinHandle<()>>>>;

    /// Link `depth` of the chain: spawns link `depth + 1` (from this
    /// worker, so into its LIFO slot) and hands its handle to `main`.
    // Not an `async fn`: it spawns itself, and the compiler cannot infer
    // `Send` for a recursive `async fn`, so the bound is written out.
    #[allow(clippy::manual_async_fn)]
    fn link(depth: usize, handles: Handles) -> impl std::future::Future<Output = ()> + Send {
        async move {
            if depth + 1 < CHAIN {
                let next = crate::spawn(link(depth + 1, handles.clone()));
                handles.lock().unwrap().push_back(next);
            }
        }
    }

    loom::model(|| {
        let rt = runtime(2, false);
        let (shared, driver) = parts(&rt);
        let handles: Handles = Default::default();
        let first = rt.spawn(link(0, handles.clone()));
        let ran = rt.block_on(async {
            // Each link queued its child's handle before it completed.
            let mut next = Some(first);
            let mut ran = 0;
            while let Some(handle) = next {
                handle.await.unwrap();
                ran += 1;
                next = handles.lock().unwrap().pop_front();
            }
            ran
        });
        assert_eq!(ran, CHAIN);
        drop(rt);
        check_shut_down(&shared, &driver);
    });
}

/// (c) The driver hand-off. With one worker, the worker always wins the
/// poller: a remote spawn's `unpark_sleeper` (parker token, fence, holder
/// check, I/O unpark through the flag) races the worker's `sleep` (take the
/// lock, register as holder, fence, take a token left before, `EMPTY ->
/// PARKED`, wait). Two spawns, so the second can also land while the
/// worker goes back to sleep after the first.
#[test]
fn wake_races_the_worker_becoming_the_poller_holder() {
    loom::model(|| {
        let rt = runtime(1, false);
        let (shared, driver) = parts(&rt);
        let a = rt.spawn(async { 1 });
        let b = rt.spawn(async { 2 });
        let sum = rt.block_on(async { a.await.unwrap() + b.await.unwrap() });
        assert_eq!(sum, 3);
        drop(rt);
        check_shut_down(&shared, &driver);
    });
}

/// (d) The busy count and auto-advance on a mock clock. A task sleeps a
/// virtual hour; the main thread's `block_on` waits on a `BlockOnWaker`.
/// Time may jump only once neither the worker nor the main thread is busy
/// and no task is runnable, and then it must jump (from whichever of the
/// two decides first under the advance lock), else the model deadlocks.
/// The wake of the main thread races its `park_idle`/`resume`, and at the
/// end the busy count is back to 0.
#[test]
#[cfg_attr(
    not(loom),
    ignore = "needs `--cfg loom` as well (the join-waker hand-off is in minirt-core)"
)]
fn mock_clock_jumps_once_everyone_is_idle() {
    loom::model(|| {
        let rt = runtime(1, true);
        let (shared, driver) = parts(&rt);
        let start = driver.time.clock.now_tick();
        let task = rt.spawn(async {
            crate::time::sleep(Duration::from_secs(3600)).await;
        });
        rt.block_on(task).unwrap();
        // Ticks are milliseconds.
        assert!(driver.time.clock.now_tick() - start >= 3_600_000);
        drop(rt);
        check_shut_down(&shared, &driver);
    });
}
