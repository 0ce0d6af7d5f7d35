//! How the cost of `timers_same_deadline_cancel` grows with the number of
//! timers, on both minirt runtimes: linear is right, quadratic is the bug of
//! issue 15 (each cancel of an earliest timer re-walked the wheel slot).
//!
//! ```text
//! cargo run --release -p minirt-benches --example wheel_cancel_scaling
//! ```
//!
//! Prints, per runtime and size, the median of 3 runs of: register n sleeps
//! due at one instant an hour away, sleep 1 ms (the wheel advances), drop
//! them all.

use std::time::Duration;

use minirt_benches::timers::minirt_side::same_deadline_cancel_on;

fn main() {
    let runtimes = [
        ("current_thread", minirt::Builder::current_thread().build()),
        (
            "multi_thread",
            minirt::Builder::multi_thread().worker_threads(2).build(),
        ),
    ];
    println!("| runtime | timers | median of 3 | per timer |");
    println!("| --- | ---: | ---: | ---: |");
    for (name, rt) in runtimes {
        let rt = rt.expect("building a minirt runtime");
        for count in [10_000, 20_000, 40_000, 100_000] {
            let mut runs: Vec<Duration> = (0..3)
                .map(|_| same_deadline_cancel_on(&rt, count, 1))
                .collect();
            runs.sort();
            let median = runs[1];
            println!(
                "| {name} | {count} | {:.2} ms | {:.0} ns |",
                median.as_secs_f64() * 1e3,
                median.as_nanos() as f64 / count as f64
            );
        }
    }
}
