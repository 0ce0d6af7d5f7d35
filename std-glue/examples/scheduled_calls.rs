//! Scheduled calls — Python ayo's `after`, `at` and `every` — with
//! `sleep`, `sleep_until` and `interval`, under a mock clock so the whole
//! virtual minute below runs instantly and prints the same times every run.
//!
//! Run it with `cargo run -p minirt --example scheduled_calls`.

use std::time::Duration;

use minirt::time::{self, Instant, MissedTickBehavior};

/// `after(delay, f)`: run `f` once `delay` from now.
async fn after<F: FnOnce()>(delay: Duration, f: F) {
    time::sleep(delay).await;
    f();
}

/// `at(when, f)`: run `f` at an instant.
async fn at<F: FnOnce()>(when: Instant, f: F) {
    time::sleep_until(when).await;
    f();
}

/// `every(period, times, policy, f)`: run `f` every `period`, `times` times.
/// `f` returns how long the call itself takes (simulated work), so we can
/// see what each missed-tick policy does when a call overruns its period.
async fn every(
    period: Duration,
    times: usize,
    policy: MissedTickBehavior,
    mut f: impl FnMut(usize) -> Duration,
) {
    let mut ticks = time::interval(period);
    ticks.set_missed_tick_behavior(policy);
    for n in 0..times {
        ticks.tick().await;
        let work = f(n);
        time::sleep(work).await; // the call's own duration
    }
}

fn main() {
    let rt = minirt::Builder::current_thread()
        .mock_clock()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let start = Instant::now();
        let t = move || start.elapsed().as_secs();

        let a = minirt::spawn(after(Duration::from_secs(5), move || {
            println!("[{:>2}s] after 5 s", t())
        }));
        let b = minirt::spawn(at(start + Duration::from_secs(8), move || {
            println!("[{:>2}s] at +8 s", t())
        }));
        a.await.unwrap();
        b.await.unwrap();

        for policy in [
            MissedTickBehavior::Burst,
            MissedTickBehavior::Delay,
            MissedTickBehavior::Skip,
        ] {
            println!("every 10 s, the second call takes 25 s, policy {policy:?}:");
            let from = Instant::now();
            every(Duration::from_secs(10), 5, policy, |n| {
                println!("  call {n} at +{:>2}s", from.elapsed().as_secs());
                if n == 1 {
                    Duration::from_secs(25)
                } else {
                    Duration::ZERO
                }
            })
            .await;
        }
    });
}
