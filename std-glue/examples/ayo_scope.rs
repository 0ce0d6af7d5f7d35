//! ayo's execution scope: 20 jobs, at most 10 at a time, and a 12-second
//! deadline for the lot — on the mock clock, so it finishes instantly.
//!
//! ```text
//! cargo run -p minirt --example ayo_scope
//! ```
//!
//! Jobs are created lazily (`spawn_with`): a job's future exists only once
//! one of the 10 slots is free. When the deadline passes, the jobs still
//! running are cancelled and the scope reports which ones completed.

use std::time::Duration;

use minirt::scope::Options;
use minirt::time::{sleep, Instant};

fn main() -> std::io::Result<()> {
    // Virtual time: sleeping only advances a counter once every task idles.
    let rt = minirt::Builder::current_thread().mock_clock().build()?;
    rt.block_on(async {
        let start = Instant::now();
        let scope = Options::new()
            .max_concurrency(10)
            .timeout(Duration::from_secs(12))
            .build();
        for job in 0..20u64 {
            scope.spawn_with(move || async move {
                // Jobs take 3, 5 or 7 virtual seconds.
                let secs = 3 + 2 * (job % 3);
                sleep(Duration::from_secs(secs)).await;
                println!("job {job:2} done at t={:?}", start.elapsed());
                job
            });
        }
        match scope.join().await {
            Ok(all) => println!("all {} jobs finished", all.len()),
            Err(stopped) => {
                let done: Vec<u64> = stopped.results.iter().flatten().copied().collect();
                println!(
                    "timed out: {} at t={:?}; {} of 20 completed: {done:?}",
                    stopped.timed_out(),
                    start.elapsed(),
                    done.len()
                );
            }
        }
    });
    Ok(())
}
