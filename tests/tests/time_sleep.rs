//! Sleeps, timeouts and intervals on real and mock clocks, both runtimes.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use minirt::time::{self, Clock, Instant, MissedTickBehavior};
use minirt::{Builder, Runtime};
use minirt_tests::bounded;
use minirt_tests::{mock_runtimes, runtimes};

#[test]
fn real_clock_sleep_never_fires_early() {
    bounded(Duration::from_secs(60), || {
        for rt in [
            Builder::current_thread().build().unwrap(),
            Runtime::new().unwrap(),
        ] {
            rt.block_on(async {
                for ms in [0u64, 1, 2, 5, 13] {
                    let start = std::time::Instant::now();
                    time::sleep(Duration::from_millis(ms)).await;
                    assert!(
                        start.elapsed() >= Duration::from_millis(ms),
                        "{ms} ms fired early"
                    );
                }
            });
        }
    });
}

#[test]
fn an_hour_under_auto_advance_is_exact_and_fast() {
    bounded(Duration::from_secs(60), || {
        for rt in mock_runtimes() {
            let real = std::time::Instant::now();
            rt.block_on(async {
                let start = Instant::now();
                time::sleep(Duration::from_secs(3600)).await;
                assert_eq!(start.elapsed(), Duration::from_secs(3600));
                // And from inside a task.
                let t = minirt::spawn(async {
                    let s = Instant::now();
                    time::sleep(Duration::from_secs(7200)).await;
                    s.elapsed()
                });
                assert_eq!(t.await.unwrap(), Duration::from_secs(7200));
            });
            assert!(real.elapsed() < Duration::from_secs(10));
        }
    });
}

#[test]
fn ten_thousand_random_sleeps_fire_in_deadline_order_at_exact_times() {
    bounded(Duration::from_secs(60), || {
        let n = if cfg!(miri) { 50 } else { 10_000 };
        let rt = Builder::current_thread().mock_clock().build().unwrap();
        let log: Arc<Mutex<Vec<(u64, Duration)>>> = Arc::new(Mutex::new(Vec::with_capacity(n)));
        let real = std::time::Instant::now();
        rt.block_on(async {
            let start = Instant::now();
            let mut seed = 0x2545_F491_4F6C_DD1Du64;
            let handles: Vec<_> = (0..n)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    let ms = 1 + seed % 10_000;
                    let log = log.clone();
                    minirt::spawn(async move {
                        time::sleep(Duration::from_millis(ms)).await;
                        log.lock().unwrap().push((ms, start.elapsed()));
                    })
                })
                .collect();
            for h in handles {
                h.await.unwrap();
            }
        });
        assert!(
            real.elapsed() < Duration::from_secs(5),
            "took {:?}",
            real.elapsed()
        );
        let log = log.lock().unwrap();
        assert_eq!(log.len(), n);
        for w in log.windows(2) {
            assert!(w[0].0 <= w[1].0, "fired out of deadline order: {w:?}");
        }
        for (ms, at) in log.iter() {
            assert_eq!(
                *at,
                Duration::from_millis(*ms),
                "not at its exact virtual time"
            );
        }
    });
}

#[test]
fn timeout_drops_the_inner_future_on_expiry() {
    bounded(Duration::from_secs(60), || {
        for rt in mock_runtimes() {
            rt.block_on(async {
                let dropped = Arc::new(AtomicBool::new(false));
                struct Guard(Arc<AtomicBool>);
                impl Drop for Guard {
                    fn drop(&mut self) {
                        self.0.store(true, SeqCst);
                    }
                }
                let g = Guard(dropped.clone());
                let fut = async move {
                    let _g = g;
                    std::future::pending::<()>().await;
                };
                let mut t = std::pin::pin!(time::timeout(Duration::from_secs(5), fut));
                let res = (&mut t).await;
                assert!(res.is_err());
                assert_eq!(res.unwrap_err().to_string(), "deadline has elapsed");
                // Dropped at expiry, even though the Timeout itself is alive.
                assert!(dropped.load(SeqCst));
                assert_eq!(
                    time::timeout(Duration::from_secs(1), async { 3 }).await,
                    Ok(3)
                );
            });
        }
    });
}

#[test]
fn manual_advance_without_auto_advance() {
    bounded(Duration::from_secs(60), || {
        let rt = Builder::current_thread()
            .clock(Clock::mock().auto_advance(false))
            .build()
            .unwrap();
        rt.block_on(async {
            let start = Instant::now();
            let sleeper = minirt::spawn(async {
                time::sleep(Duration::from_secs(10)).await;
            });
            minirt::yield_now().await; // let it register
            time::advance(Duration::from_secs(9)).await;
            assert!(!sleeper.is_finished());
            time::advance(Duration::from_secs(1)).await;
            sleeper.await.unwrap();
            assert_eq!(start.elapsed(), Duration::from_secs(10));
        });
    });
}

#[test]
fn cancel_after_fire_and_fire_after_cancel() {
    bounded(Duration::from_secs(60), || {
        for rt in mock_runtimes() {
            rt.block_on(async {
                // Dropping a sleep that already fired is harmless.
                let mut s = time::sleep(Duration::from_millis(5));
                (&mut s).await;
                drop(s);
                // A cancelled sleep never wakes anyone; the runtime keeps going.
                let h = minirt::spawn(time::sleep(Duration::from_secs(1)));
                h.abort();
                assert!(h.await.unwrap_err().is_cancelled());
                time::sleep(Duration::from_secs(2)).await;
            });
        }
    });
}

#[test]
fn sleep_reset_moves_the_deadline() {
    bounded(Duration::from_secs(60), || {
        let rt = Builder::current_thread().mock_clock().build().unwrap();
        rt.block_on(async {
            let start = Instant::now();
            let mut s = time::sleep(Duration::from_secs(100));
            // Register it, then move it earlier.
            let _ = time::timeout(Duration::from_secs(1), &mut s).await;
            s.reset(start + Duration::from_secs(3));
            s.await;
            assert_eq!(start.elapsed(), Duration::from_secs(3));
        });
    });
}

fn ticks_with(behavior: MissedTickBehavior) -> Vec<u64> {
    let rt = Builder::current_thread().mock_clock().build().unwrap();
    rt.block_on(async move {
        let start = Instant::now();
        let mut iv = time::interval(Duration::from_secs(10));
        iv.set_missed_tick_behavior(behavior);
        let mut at = vec![];
        for i in 0..5 {
            let t = iv.tick().await;
            at.push((t - start).as_secs());
            if i == 1 {
                // The callback overruns: 25 s of work on a 10 s period.
                time::sleep(Duration::from_secs(25)).await;
            }
        }
        at
    })
}

#[test]
fn interval_missed_tick_policies() {
    bounded(Duration::from_secs(60), || {
        assert_eq!(ticks_with(MissedTickBehavior::Burst), [0, 10, 20, 30, 40]);
        assert_eq!(ticks_with(MissedTickBehavior::Delay), [0, 10, 20, 45, 55]);
        // The late tick fires once, then the schedule resumes at the next
        // multiple of the period after now (35 s).
        assert_eq!(ticks_with(MissedTickBehavior::Skip), [0, 10, 20, 40, 50]);
    });
}

#[test]
fn seeded_runs_replay_identically() {
    bounded(Duration::from_secs(60), || {
        fn trace(seed: u64) -> Vec<(u32, Duration)> {
            let rt = Builder::current_thread()
                .seed(seed)
                .mock_clock()
                .build()
                .unwrap();
            let log = Arc::new(Mutex::new(vec![]));
            rt.block_on(async {
                let start = Instant::now();
                let hs: Vec<_> = (0..20u32)
                    .map(|i| {
                        let log = log.clone();
                        minirt::spawn(async move {
                            minirt::yield_now().await;
                            time::sleep(Duration::from_millis(u64::from(i % 3) * 10)).await;
                            log.lock().unwrap().push((i, start.elapsed()));
                        })
                    })
                    .collect();
                for h in hs {
                    h.await.unwrap();
                }
            });
            let v = log.lock().unwrap().clone();
            v
        }
        assert_eq!(trace(1), trace(1));
        assert_eq!(trace(99), trace(99));
        assert_ne!(
            trace(1),
            trace(2),
            "different seeds should explore different orders"
        );
    });
}

#[test]
#[should_panic(expected = "needs a runtime built with Builder::clock(Clock::mock())")]
fn advance_on_a_real_clock_panics() {
    bounded(Duration::from_secs(60), || {
        minirt::block_on(time::advance(Duration::from_secs(1)));
    });
}

#[test]
fn seed_on_multi_thread_is_rejected() {
    bounded(Duration::from_secs(60), || {
        let err = Builder::multi_thread().seed(1).build().unwrap_err();
        assert!(err.to_string().contains("seed"));
    });
}

/// Spins (no sleep) until the real clock has passed `deadline` by a tick.
fn spin_past(deadline: std::time::Instant) {
    while std::time::Instant::now() < deadline + Duration::from_millis(2) {
        std::hint::spin_loop();
    }
}

/// Polls `sleep` once; whether it was done.
async fn first_poll_is_ready(mut sleep: std::pin::Pin<&mut time::Sleep>) -> bool {
    std::future::poll_fn(|cx| std::task::Poll::Ready(sleep.as_mut().poll(cx).is_ready())).await
}

/// A passed deadline completes the sleep at its first poll on both
/// runtimes, whether the runtime's timers have moved past it or only the
/// clock has: `sleep_until`, and a `reset`, check the clock exactly.
#[test]
fn a_passed_deadline_is_done_at_the_first_poll_on_both_runtimes() {
    bounded(Duration::from_secs(60), || {
        for rt in runtimes() {
            rt.block_on(async {
                // Only the clock has moved past it: no timer made any wheel
                // advance since the runtime started.
                let deadline = Instant::now() + Duration::from_millis(3);
                spin_past(deadline.into_std());
                let sleep = std::pin::pin!(time::sleep_until(deadline));
                assert!(first_poll_is_ready(sleep).await, "clock past it");

                // Long past, before the runtime's clock started counting.
                let long_ago = Instant::now() - Duration::from_secs(1);
                let sleep = std::pin::pin!(time::sleep_until(long_ago));
                assert!(first_poll_is_ready(sleep).await, "long past");

                // Reset to a passed deadline, from a task (on the
                // multi-thread runtime, maybe on the other worker).
                let task = minirt::spawn(async move {
                    let mut sleep = std::pin::pin!(time::sleep(Duration::from_secs(3600)));
                    let _ = first_poll_is_ready(sleep.as_mut()).await;
                    sleep
                        .as_mut()
                        .reset(Instant::now() - Duration::from_millis(5));
                    first_poll_is_ready(sleep).await
                });
                assert!(task.await.unwrap(), "reset to a passed deadline");
            });
        }
    });
}

/// The first poll of a `sleep(duration)` skips the clock read (`sleep` has
/// just made one): the timer wheel decides, and a deadline that the clock
/// passed before that poll (the sleep was made and left unpolled) is
/// registered and fires at the wheel's next advance — promptly, on both
/// runtimes, from a task too, and never early.
#[test]
fn a_sleep_polled_after_its_deadline_still_completes_promptly() {
    bounded(Duration::from_secs(60), || {
        for rt in runtimes() {
            rt.block_on(async {
                let made = std::time::Instant::now();
                let sleep = time::sleep(Duration::from_millis(2));
                spin_past(made + Duration::from_millis(2));
                sleep.await;
                time::sleep(Duration::ZERO).await;

                let task = minirt::spawn(async move {
                    let made = std::time::Instant::now();
                    let sleep = time::sleep(Duration::from_millis(2));
                    spin_past(made + Duration::from_millis(2));
                    sleep.await;
                    made.elapsed()
                });
                assert!(task.await.unwrap() >= Duration::from_millis(2));

                // Made, then the wheel (this thread's) moved past its
                // deadline while it waited unpolled: done at the first poll,
                // without a clock read.
                let early = std::pin::pin!(time::sleep(Duration::from_millis(1)));
                time::sleep(Duration::from_millis(3)).await;
                assert!(first_poll_is_ready(early).await, "the wheel is past it");
            });
        }
    });
}

#[test]
fn a_passed_deadline_on_a_mock_clock_is_ready_at_the_first_poll() {
    bounded(Duration::from_secs(60), || {
        for rt in mock_runtimes() {
            rt.block_on(async {
                let deadline = Instant::now() + Duration::from_secs(5);
                time::advance(Duration::from_secs(6)).await;
                let sleep = std::pin::pin!(time::sleep_until(deadline));
                assert!(
                    first_poll_is_ready(sleep).await,
                    "the mock clock is past it"
                );
            });
        }
    });
}
