//! Many timers sharing one deadline, the common case of idle timeouts for
//! connections accepted in the same millisecond (issue 15): cancelling them
//! after the wheel advanced, and a mock clock jumping to them through the
//! wheel's wide slots; and, since each worker has a wheel of its own,
//! timers spread over every worker's wheel, and a sleep registered by one
//! thread and cancelled or moved by another. Every runtime kind, both clocks.

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

use minirt::runtime::WaitsOn;
use minirt::sync::oneshot;
use minirt::time::{self, Instant};
use minirt_tests::{bounded, each_runtime_and_clock};

/// Timers per case: enough to fill one wide slot with a long list.
const TIMERS: usize = if cfg!(miri) { 20 } else { 2_000 };

#[test]
fn same_deadline_timeouts_cancelled_after_the_wheel_advanced() {
    bounded(Duration::from_secs(120), || {
        each_runtime_and_clock(|case| {
            let elapsed = case.rt.block_on(async {
                let start = Instant::now();
                let deadline = start + Duration::from_secs(3600);
                let (senders, tasks): (Vec<_>, Vec<_>) = (0..TIMERS)
                    .map(|i| {
                        let (tx, rx) = oneshot::channel::<usize>();
                        let task = minirt::spawn(time::timeout_at(deadline, rx));
                        (tx, (i, task))
                    })
                    .unzip();
                // Every timeout is registered once its task has been polled;
                // a sleep of our own then makes the wheel advance past them.
                time::sleep(Duration::from_millis(2)).await;
                for (i, tx) in senders.into_iter().enumerate() {
                    tx.send(i).expect("the timeout task is waiting");
                }
                for (i, task) in tasks {
                    let got = task.await.expect("timeout task failed");
                    assert_eq!(got.expect("timed out").expect("sender kept"), i);
                }
                // The wheel still works: a later timer fires, on time.
                let before = Instant::now();
                time::sleep(Duration::from_millis(50)).await;
                assert!(before.elapsed() >= Duration::from_millis(50));
                start.elapsed()
            });
            // Cancelled timers must not pull a mock clock towards their hour.
            assert!(
                elapsed < Duration::from_secs(60),
                "{}: {elapsed:?}",
                case.label
            );
            if case.is_mock() {
                assert_eq!(elapsed, Duration::from_millis(52), "{}", case.label);
            }
        });
    });
}

#[test]
fn a_mock_clock_jumps_through_wide_slots_straight_to_the_deadline() {
    // The wheel reports the start of a wide slot as its next expiration; the
    // mock clock must still land exactly on each deadline, with no task
    // woken (or clock reading seen) in between.
    bounded(Duration::from_secs(60), || {
        each_runtime_and_clock(|case| {
            if !case.is_mock() {
                return;
            }
            case.rt.block_on(async {
                let start = Instant::now();
                let hour = Duration::from_secs(3600);
                let waiters: Vec<_> = (0..TIMERS)
                    .map(|i| {
                        // Half share one deadline, half are a millisecond apart.
                        let at = if i % 2 == 0 {
                            hour
                        } else {
                            hour + Duration::from_millis(i as u64)
                        };
                        minirt::spawn(async move {
                            time::sleep_until(start + at).await;
                            (at, start.elapsed())
                        })
                    })
                    .collect();
                for waiter in waiters {
                    let (at, woke) = waiter.await.expect("sleeper failed");
                    assert_eq!(woke, at, "{}", case.label);
                }
            });
        });
    });
}

/// Polls `sleep` once; true if it is still pending (it is then registered).
async fn poll_once_pending(sleep: &mut time::Sleep) -> bool {
    poll_fn(|cx| Poll::Ready(Pin::new(&mut *sleep).poll(cx).is_pending())).await
}

#[test]
fn sleeps_of_every_worker_fire_in_deadline_order() {
    // Tasks run on whichever worker takes them, so their sleeps land in
    // every worker's wheel; the firing thread and the mock clock's jump must
    // still see the earliest of them all. The deadlines are spawned in
    // shuffled order so that no wheel holds them sorted.
    bounded(Duration::from_secs(60), || {
        each_runtime_and_clock(|case| {
            case.rt.block_on(async {
                let start = Instant::now();
                let woke = Arc::new(Mutex::new(Vec::new()));
                let order: Vec<u64> = (0..64u64).map(|i| (i * 37) % 64).collect();
                let sleepers: Vec<_> = order
                    .iter()
                    .map(|&i| {
                        let woke = woke.clone();
                        minirt::spawn(async move {
                            let at = Duration::from_millis(3 * (i + 1));
                            time::sleep_until(start + at).await;
                            woke.lock().unwrap().push((i, at, start.elapsed()));
                        })
                    })
                    .collect();
                for sleeper in sleepers {
                    sleeper.await.expect("sleeper failed");
                }
                let woke = woke.lock().unwrap();
                for &(_, at, elapsed) in woke.iter() {
                    assert!(
                        elapsed >= at,
                        "{}: woke early at {elapsed:?} for {at:?}",
                        case.label
                    );
                    if case.is_mock() {
                        assert_eq!(elapsed, at, "{}", case.label);
                    }
                }
                if case.is_mock() {
                    // One deadline per jump: the wake-ups come in deadline order.
                    let fired: Vec<u64> = woke.iter().map(|&(i, _, _)| i).collect();
                    assert_eq!(fired, (0..64).collect::<Vec<_>>(), "{}", case.label);
                }
            });
        });
    });
}

#[test]
fn a_sleep_registered_by_a_worker_is_moved_and_cancelled_from_another_thread() {
    // A sleep belongs to the wheel of the thread that first polled it. Here
    // a task registers sleeps and hands them to the `block_on` thread (not a
    // worker), which moves one to a new deadline and drops the other: the
    // first must fire at its new deadline, the second must leave its wheel
    // (a dump must no longer show the task that registered it waiting on a
    // timer).
    bounded(Duration::from_secs(60), || {
        each_runtime_and_clock(|case| {
            let label = &case.label;
            case.rt.block_on(async {
                let hour = Duration::from_secs(3600);
                let (handed_tx, handed_rx) = oneshot::channel();
                let (release_tx, release_rx) = oneshot::channel::<()>();
                let holder = minirt::spawn(async move {
                    let mut moved = time::sleep(hour);
                    let mut dropped = time::sleep(hour);
                    assert!(poll_once_pending(&mut moved).await);
                    assert!(poll_once_pending(&mut dropped).await);
                    handed_tx.send((moved, dropped)).expect("receiver waits");
                    release_rx.await.expect("released");
                });
                let (mut moved, dropped) = handed_rx.await.expect("the task hands its sleeps over");
                // Moved, and polled here: its entry now wakes this future.
                let start = Instant::now();
                moved.reset(start + Duration::from_millis(5));
                assert!(poll_once_pending(&mut moved).await);
                drop(dropped);
                let dump = minirt::Handle::current().dump();
                let task = dump
                    .tasks()
                    .iter()
                    .find(|t| t.id() == holder.id())
                    .unwrap_or_else(|| panic!("{label}: holder not in the dump:\n{dump}"));
                assert!(
                    !task.waits_on().iter().any(|w| matches!(w, WaitsOn::Timer { .. })),
                    "{label}: a sleep moved or dropped elsewhere still wakes its first task:\n{dump}"
                );
                moved.await;
                let elapsed = start.elapsed();
                assert!(elapsed >= Duration::from_millis(5), "{label}: {elapsed:?}");
                assert!(
                    elapsed < hour,
                    "{label}: the old deadline was kept: {elapsed:?}"
                );
                if case.is_mock() {
                    assert_eq!(elapsed, Duration::from_millis(5), "{label}");
                }
                release_tx.send(()).expect("the holder waits");
                holder.await.expect("holder failed");
            });
        });
    });
}
