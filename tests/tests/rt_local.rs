//! Local (`!Send`) tasks stay on the thread that spawned them, whatever safe
//! code does with the current-thread runtime: share it through an `Arc` and
//! `block_on` from another thread, move it, drop it elsewhere, abort from
//! elsewhere. Each test records the thread of every poll and of the drop.

#![allow(clippy::async_yields_async)] // some tests return JoinHandles out of block_on on purpose

use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::{self, ThreadId};
use std::time::Duration;

use minirt::Builder;
use minirt_tests::bounded;

const LIMIT: Duration = Duration::from_secs(30);

/// Where a local task was polled and dropped.
#[derive(Default)]
struct Record {
    polled_on: Mutex<Vec<ThreadId>>,
    dropped_on: Mutex<Option<ThreadId>>,
}

/// A `!Send` future (it holds an `Rc`) that records every poll and its drop,
/// and stays pending until `release` is set.
struct Probe {
    _not_send: Rc<()>,
    record: Arc<Record>,
    release: Arc<AtomicBool>,
}

impl std::future::Future for Probe {
    type Output = u32;
    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<u32> {
        self.record
            .polled_on
            .lock()
            .unwrap()
            .push(thread::current().id());
        if self.release.load(SeqCst) {
            std::task::Poll::Ready(7)
        } else {
            // Ask to be polled again: a thread that could run it would.
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        *self.record.dropped_on.lock().unwrap() = Some(thread::current().id());
    }
}

fn probe() -> (Probe, Arc<Record>, Arc<AtomicBool>) {
    let record = Arc::new(Record::default());
    let release = Arc::new(AtomicBool::new(false));
    let probe = Probe {
        _not_send: Rc::new(()),
        record: record.clone(),
        release: release.clone(),
    };
    (probe, record, release)
}

fn assert_only_on(record: &Record, owner: ThreadId) {
    let polls = record.polled_on.lock().unwrap();
    assert!(
        polls.iter().all(|t| *t == owner),
        "a local task was polled off its thread: {polls:?}, owner {owner:?}"
    );
    if let Some(t) = *record.dropped_on.lock().unwrap() {
        assert_eq!(t, owner, "a local task was dropped off its thread");
    }
}

#[test]
fn block_on_from_another_thread_does_not_poll_local_tasks() {
    bounded(LIMIT, || {
        let rt = Arc::new(Builder::current_thread().build().unwrap());
        let owner = thread::current().id();
        let (probe, record, release) = probe();
        rt.block_on(async {
            drop(minirt::spawn_local(probe));
            minirt::yield_now().await;
        });
        let before = record.polled_on.lock().unwrap().len();
        assert!(before >= 1, "the local task never ran on its own thread");
        // Another thread drives the runtime for a while: Send tasks run,
        // the local task must not.
        let rt2 = rt.clone();
        let ran = thread::spawn(move || {
            rt2.block_on(async {
                let mut sum = 0;
                for i in 0..100 {
                    sum += minirt::spawn(async move { i }).await.unwrap();
                    minirt::yield_now().await;
                }
                sum
            })
        })
        .join()
        .unwrap();
        assert_eq!(ran, 4950);
        assert_eq!(record.polled_on.lock().unwrap().len(), before);
        assert_only_on(&record, owner);
        // Back on its own thread, it runs again and can finish.
        release.store(true, SeqCst);
        rt.block_on(async {
            for _ in 0..10 {
                minirt::yield_now().await;
            }
        });
        assert!(record.dropped_on.lock().unwrap().is_some());
        assert_only_on(&record, owner);
    });
}

#[test]
fn dropping_the_runtime_on_another_thread_does_not_drop_local_tasks_there() {
    bounded(LIMIT, || {
        let (record_tx, record_rx) = mpsc::channel();
        let owner = thread::spawn(move || {
            let rt = Builder::current_thread().build().unwrap();
            let (probe, record, _release) = probe();
            rt.block_on(async {
                drop(minirt::spawn_local(probe));
                minirt::yield_now().await;
            });
            record_tx.send(record).unwrap();
            // Move the runtime to a third thread and drop it there.
            thread::spawn(move || drop(rt)).join().unwrap();
            thread::current().id()
        });
        let record = record_rx.recv().unwrap();
        let owner_id = owner.join().unwrap();
        // The owner thread has exited by now; if the future was dropped at
        // all, it was dropped there (its thread-exit sweep), never on the
        // dropping thread.
        assert_only_on(&record, owner_id);
        assert_eq!(
            *record.dropped_on.lock().unwrap(),
            Some(owner_id),
            "the owner thread's exit should cancel its local tasks"
        );
    });
}

#[test]
fn dropping_the_runtime_on_its_own_thread_cancels_local_tasks_there() {
    bounded(LIMIT, || {
        let rt = Builder::current_thread().build().unwrap();
        let (probe, record, _release) = probe();
        let handle = rt.block_on(async {
            let handle = minirt::spawn_local(probe);
            minirt::yield_now().await;
            handle
        });
        drop(rt);
        assert_eq!(
            *record.dropped_on.lock().unwrap(),
            Some(thread::current().id())
        );
        let err = minirt::block_on(handle).unwrap_err();
        assert!(err.is_cancelled());
    });
}

#[test]
fn abort_from_another_thread_drops_the_local_task_on_its_own_thread() {
    bounded(LIMIT, || {
        let rt = Arc::new(Builder::current_thread().build().unwrap());
        let owner = thread::current().id();
        let (probe, record, _release) = probe();
        let (abort_tx, abort_rx) = mpsc::channel();
        let out = rt.block_on(async {
            let handle = minirt::spawn_local(probe);
            abort_tx.send(handle.abort_handle()).unwrap();
            // Another thread aborts while we keep driving.
            let aborter = thread::spawn(move || abort_rx.recv().unwrap().abort());
            let out = handle.await;
            aborter.join().unwrap();
            out
        });
        assert!(out.unwrap_err().is_cancelled());
        assert_eq!(*record.dropped_on.lock().unwrap(), Some(owner));
        assert_only_on(&record, owner);
    });
}

#[test]
fn runtime_moved_to_another_thread_keeps_local_tasks_home() {
    bounded(LIMIT, || {
        let (probe, record, release) = probe();
        let owner = thread::current().id();
        let rt = Builder::current_thread().build().unwrap();
        rt.block_on(async {
            drop(minirt::spawn_local(probe));
            minirt::yield_now().await;
        });
        // Move it away, drive it there, move it back.
        let rt = thread::spawn(move || {
            rt.block_on(async {
                for _ in 0..50 {
                    minirt::yield_now().await;
                }
            });
            rt
        })
        .join()
        .unwrap();
        assert_only_on(&record, owner);
        release.store(true, SeqCst);
        rt.block_on(async {
            for _ in 0..10 {
                minirt::yield_now().await;
            }
        });
        assert_eq!(*record.dropped_on.lock().unwrap(), Some(owner));
        assert_only_on(&record, owner);
    });
}

#[test]
fn local_tasks_of_two_threads_each_stay_home() {
    bounded(LIMIT, || {
        let rt = Arc::new(Builder::current_thread().build().unwrap());
        let barrier = Arc::new(std::sync::Barrier::new(2));
        // One `block_on` at a time, so each thread holds the core in turn
        // (`spawn_local` needs the core: a thread whose `block_on` only
        // polls its own future while another drives the runtime gets a
        // clear panic instead).
        let turn = Arc::new(Mutex::new(()));
        let workers: Vec<_> = (0..2)
            .map(|_| {
                let rt = rt.clone();
                let barrier = barrier.clone();
                let turn = turn.clone();
                thread::spawn(move || {
                    let me = thread::current().id();
                    let mut records = Vec::new();
                    for _ in 0..20 {
                        let (probe, record, release) = probe();
                        release.store(true, SeqCst);
                        records.push(record);
                        // Both threads take turns holding the core.
                        let _turn = turn.lock().unwrap();
                        let n = rt.block_on(async move { minirt::spawn_local(probe).await });
                        assert_eq!(n.unwrap(), 7);
                    }
                    barrier.wait();
                    for record in &records {
                        assert_only_on(record, me);
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
    });
}

#[test]
fn spawn_local_on_a_multi_thread_runtime_panics_clearly() {
    let rt = Builder::multi_thread().worker_threads(1).build().unwrap();
    let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.block_on(async { minirt::spawn_local(async {}) })
    }))
    .unwrap_err();
    let msg = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or("");
    assert!(msg.contains("current-thread"), "unclear panic: {msg}");
}

/// Runtimes made and dropped one after another on one thread (a test
/// harness, a CLI calling `minirt::run` in a loop) each get a fresh local
/// set: a new runtime that the allocator places where a dropped one was
/// must not inherit that runtime's closed set (its local tasks would be
/// cancelled at once).
#[test]
fn runtimes_made_one_after_another_each_run_their_local_tasks() {
    bounded(LIMIT, || {
        let rounds = if cfg!(miri) { 4 } else { 200 };
        for round in 0..rounds {
            let rt = Builder::current_thread().build().unwrap();
            let got = rt.block_on(async move {
                let not_send = Rc::new(round);
                minirt::spawn_local(async move { *not_send }).await
            });
            assert_eq!(
                got.unwrap(),
                round,
                "round {round}: the local task did not run"
            );
            drop(rt);
        }
    });
}
