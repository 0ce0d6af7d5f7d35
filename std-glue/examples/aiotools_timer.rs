//! aiotools' `create_timer(cb, interval, delay_policy)`, as
//! `ScopeHandle::every(period, Overrun, cb)`: a callback fired every 10
//! seconds whose second run takes 25 s, under each overrun policy — on the
//! mock clock, so the virtual minute runs instantly and prints the same
//! timestamps every time.
//!
//! ```text
//! cargo run -p minirt --example aiotools_timer
//! ```
//!
//! - `Keep` (aiotools' default `TimerDelayPolicy.DEFAULT`): runs overlap and
//!   accumulate; those still going when the timer stops are cancelled.
//! - `Skip`: no new run while one is going.
//! - `Cancel` (`TimerDelayPolicy.CANCEL`): the overrunning run is cancelled
//!   at the next tick.
//!
//! The timer lives in a scope beside 45 s of "real work"; when that work
//! ends, the scope stops the timer (it is a daemon) and its runs.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use minirt::scope::{Overrun, Scope};
use minirt::time::{sleep, Clock, Instant};

/// Prints "cancelled" if the run is dropped before it finished.
struct Run {
    n: u32,
    start: Instant,
    finished: bool,
}

impl Drop for Run {
    fn drop(&mut self) {
        if !self.finished {
            println!(
                "  [{:>2}s] run {} cancelled",
                self.start.elapsed().as_secs(),
                self.n
            );
        }
    }
}

fn main() -> std::io::Result<()> {
    let rt = minirt::Builder::current_thread()
        .clock(Clock::mock())
        .build()?;
    rt.block_on(async {
        for policy in [Overrun::Keep, Overrun::Skip, Overrun::Cancel] {
            println!("every 10 s, run 1 takes 25 s, the others 2 s; policy {policy:?}:");
            let start = Instant::now();
            let scope = Scope::new();
            let count = Arc::new(AtomicU32::new(0));
            scope.every(Duration::from_secs(10), policy, move || {
                let n = count.fetch_add(1, Ordering::Relaxed);
                println!("  [{:>2}s] run {n} starts", start.elapsed().as_secs());
                let run = Run {
                    n,
                    start,
                    finished: false,
                };
                async move {
                    let mut run = run; // the whole guard lives in the run
                    let took = if n == 1 { 25 } else { 2 };
                    sleep(Duration::from_secs(took)).await;
                    run.finished = true;
                    println!("  [{:>2}s] run {n} ends", start.elapsed().as_secs());
                }
            });
            scope.spawn(sleep(Duration::from_secs(45)));
            scope.join().await.expect("the work completes");
            println!("  [{:>2}s] scope done", start.elapsed().as_secs());
        }
    });
    Ok(())
}
