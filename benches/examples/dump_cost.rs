//! What a task dump costs while it is taken (issue 18): the time
//! `Handle::dump()` takes with 10 000 live tasks on each minirt runtime
//! (half waiting on an hour-long sleep, half on a future that never wakes),
//! and the time to print it.
//!
//! ```text
//! cargo run --release -p minirt-benches --example dump_cost
//! ```
//!
//! Prints, per runtime, the median of 21 dumps and one dump printed with
//! `Display`. The dump is taken from a task of the runtime itself, so the
//! current-thread runtime answers it without a cross-thread hand-off.

use std::time::{Duration, Instant};

const TASKS: usize = 10_000;

fn main() {
    let runtimes = [
        ("current_thread", minirt::Builder::current_thread().build()),
        (
            "multi_thread",
            minirt::Builder::multi_thread().worker_threads(2).build(),
        ),
    ];
    println!("| runtime | tasks | dump, median of 21 | per task | dump + Display | text |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    for (name, rt) in runtimes {
        let rt = rt.expect("building a minirt runtime");
        rt.block_on(async {
            let tasks: Vec<_> = (0..TASKS)
                .map(|i| {
                    minirt::spawn(async move {
                        if i % 2 == 0 {
                            minirt::time::sleep(Duration::from_secs(3600)).await;
                        } else {
                            std::future::pending::<()>().await;
                        }
                    })
                })
                .collect();
            minirt::yield_now().await;
            let handle = minirt::runtime::Handle::current();
            let mut times: Vec<Duration> = (0..21)
                .map(|_| {
                    let start = Instant::now();
                    let dump = handle.dump();
                    let took = start.elapsed();
                    assert!(dump.tasks().len() >= TASKS, "the dump missed tasks");
                    took
                })
                .collect();
            times.sort();
            let start = Instant::now();
            let text = handle.dump().to_string();
            let printed = start.elapsed();
            let median = times[times.len() / 2];
            println!(
                "| {name} | {TASKS} | {median:.2?} | {:.0} ns | {printed:.2?} | {} KB |",
                median.as_nanos() as f64 / TASKS as f64,
                text.len() / 1000,
            );
            for task in tasks {
                task.abort();
            }
        });
    }
}
