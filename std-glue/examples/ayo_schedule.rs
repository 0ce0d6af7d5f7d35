//! ayo's scheduled calls and daemon children on a scope: `after`, `at`,
//! `every`, and a helper started with `dont_hold_exit` — translated to
//! `ScopeHandle::after`, `at`, `every` and `spawn_daemon`, on the mock clock
//! so the output is the same on every run.
//!
//! ```text
//! cargo run -p minirt --example ayo_schedule
//! ```
//!
//! The scope's real work is one child that takes 12 virtual seconds. The
//! `after`/`at` calls hold the scope open until they fired (the last at
//! 15 s); the `every` timer and the progress daemon do not: when everything
//! else is done they are cancelled and the scope ends.

use std::time::Duration;

use minirt::scope::{Overrun, Scope};
use minirt::time::{sleep, Clock, Instant};

fn main() -> std::io::Result<()> {
    let rt = minirt::Builder::current_thread()
        .clock(Clock::mock())
        .build()?;
    rt.block_on(async {
        let start = Instant::now();
        let t = move || start.elapsed().as_secs();
        let scope = Scope::new();

        scope.after(Duration::from_secs(5), move || async move {
            println!("[{:>2}s] after 5 s", t());
        });
        scope.at(start + Duration::from_secs(15), move || async move {
            println!("[{:>2}s] at +15 s", t());
        });
        let cancelled = scope.after(Duration::from_secs(7), move || async move {
            println!("[{:>2}s] never printed: unscheduled", t());
        });
        cancelled.cancel();
        scope.every(Duration::from_secs(4), Overrun::Skip, move || async move {
            println!("[{:>2}s] every 4 s", t());
        });
        // dont_hold_exit: a progress reporter that lives as long as the work.
        scope.spawn_daemon(async move {
            loop {
                sleep(Duration::from_secs(3)).await;
                println!("[{:>2}s] daemon: still working", t());
            }
        });
        scope.spawn(async move {
            sleep(Duration::from_secs(12)).await;
            println!("[{:>2}s] the work is done", t());
        });
        scope.join().await.expect("nothing fails");
        println!("[{:>2}s] scope ended", t());
    });
    Ok(())
}
