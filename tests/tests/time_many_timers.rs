//! Many timers sharing one deadline, the common case of idle timeouts for
//! connections accepted in the same millisecond (issue 15): cancelling them
//! after the wheel advanced, and a mock clock jumping to them through the
//! wheel's wide slots. Every runtime kind, both clocks.

use std::time::Duration;

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
