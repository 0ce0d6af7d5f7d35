//! A saturated runtime still serves its timers and its whole run queue.
//!
//! The bound under test (see `std-glue/src/driver/mod.rs`): a busy thread
//! fires due timers and polls I/O at least every 61 scheduler ticks — on the
//! multi-thread runtime a tick is one queue pop plus at most 3 polls from the
//! LIFO slot, so at most 244 task polls per worker; on the current-thread
//! runtime every 61 polls. Counting polls instead of measuring time keeps the
//! test free of timing assumptions.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use minirt::Builder;
use minirt_tests::bounded;

const LIMIT: Duration = Duration::from_secs(60);

/// Busy tasks stop on their own after this many polls in total, so a
/// scheduler that never fires the timer fails the assertion instead of
/// hanging.
const GIVE_UP: u64 = 2_000_000;

fn timer_fires_within_bound(rt: minirt::Runtime, busy_tasks: usize, bound: u64) {
    let polls = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let (armed_tx, armed_rx) = mpsc::channel::<()>();
    let (due_tx, due_rx) = mpsc::channel::<u64>();
    let observer = {
        let polls = polls.clone();
        std::thread::spawn(move || {
            armed_rx.recv().unwrap();
            // Real time passes well beyond the 1 ms deadline; what happens in
            // the scheduler from here on is counted in polls.
            std::thread::sleep(Duration::from_millis(50));
            due_tx.send(polls.load(SeqCst)).unwrap();
        })
    };
    let (woke_at, due_at) = rt.block_on(async {
        for _ in 0..busy_tasks {
            let polls = polls.clone();
            let stop = stop.clone();
            drop(minirt::spawn(async move {
                while !stop.load(SeqCst) && polls.fetch_add(1, SeqCst) < GIVE_UP {
                    minirt::yield_now().await;
                }
            }));
        }
        let sleeper = {
            let polls = polls.clone();
            let stop = stop.clone();
            minirt::spawn(async move {
                let sleep = minirt::time::sleep(Duration::from_millis(1));
                let mut sleep = std::pin::pin!(sleep);
                // Register the timer, then let the observer start its clock.
                assert!(futures_lite_poll_once(sleep.as_mut()).await.is_pending());
                armed_tx.send(()).unwrap();
                sleep.await;
                let woke = polls.load(SeqCst);
                stop.store(true, SeqCst);
                woke
            })
        };
        let woke = sleeper.await.unwrap();
        (woke, due_rx.recv().unwrap())
    });
    observer.join().unwrap();
    assert!(
        woke_at < GIVE_UP,
        "the timer never fired while the runtime was busy"
    );
    let late = woke_at.saturating_sub(due_at);
    assert!(
        late <= bound,
        "the timer fired {late} busy polls after its deadline (bound {bound})"
    );
}

/// Polls `fut` once and reports the result without consuming it.
async fn futures_lite_poll_once<F: std::future::Future + Unpin>(
    mut fut: F,
) -> std::task::Poll<F::Output> {
    std::future::poll_fn(move |cx| std::task::Poll::Ready(std::pin::Pin::new(&mut fut).poll(cx)))
        .await
}

#[test]
fn timers_fire_on_a_saturated_current_thread_runtime() {
    bounded(LIMIT, || {
        let rt = Builder::current_thread().build().unwrap();
        // One maintenance interval, plus one pass over the busy tasks queued
        // ahead of the woken sleeper.
        timer_fires_within_bound(rt, 8, 61 + 8 + 8);
    });
}

#[test]
fn timers_fire_on_a_saturated_multi_thread_runtime() {
    bounded(LIMIT, || {
        for workers in [1, 2] {
            let rt = Builder::multi_thread()
                .worker_threads(workers)
                .build()
                .unwrap();
            // Per worker: one interval of 61 ticks (at most 4 polls each),
            // then as much again for the woken task to be picked up.
            let bound = workers as u64 * 2 * 61 * 4 + 16;
            timer_fires_within_bound(rt, 8, bound);
        }
    });
}

#[test]
fn the_lifo_slot_cannot_starve_the_run_queue() {
    // Two tasks that wake each other forever would, without the cap on
    // consecutive LIFO polls, keep a third task on the same worker waiting.
    bounded(LIMIT, || {
        let rt = Builder::multi_thread().worker_threads(1).build().unwrap();
        let done = rt.block_on(async {
            let stop = Arc::new(AtomicBool::new(false));
            let (a_tx, mut a_rx) = minirt::sync::mpsc::channel::<()>(1);
            let (b_tx, mut b_rx) = minirt::sync::mpsc::channel::<()>(1);
            let ping = {
                let stop = stop.clone();
                minirt::spawn(async move {
                    while !stop.load(SeqCst) {
                        if b_tx.send(()).await.is_err() || a_rx.recv().await.is_none() {
                            break;
                        }
                    }
                })
            };
            let pong = {
                let stop = stop.clone();
                minirt::spawn(async move {
                    while !stop.load(SeqCst) {
                        if b_rx.recv().await.is_none() || a_tx.send(()).await.is_err() {
                            break;
                        }
                    }
                })
            };
            let third = {
                let stop = stop.clone();
                minirt::spawn(async move {
                    stop.store(true, SeqCst);
                    true
                })
            };
            let done = third.await.unwrap();
            ping.abort();
            pong.abort();
            done
        });
        assert!(done);
    });
}
