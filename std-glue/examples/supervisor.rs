//! A supervisor that keeps serving while one of its children fails, like
//! aiotools' `PersistentTaskGroup`: a failure is recorded for that child
//! and its siblings carry on.
//!
//! ```text
//! cargo run -p minirt --example supervisor
//! ```
//!
//! Three "handlers" each serve a queue of requests; one of them hits a bad
//! request and panics. A fail-fast scope would cancel the others; a
//! supervisor lets them finish and reports every outcome at the end.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use minirt::scope::{Outcome, Scope};

async fn handler(name: &'static str, requests: Vec<i32>, served: Arc<AtomicUsize>) -> String {
    for request in requests {
        minirt::yield_now().await; // pretend to do I/O
        assert!(request >= 0, "{name}: malformed request {request}");
        served.fetch_add(1, Ordering::Relaxed);
    }
    format!("{name} drained its queue")
}

fn main() -> std::io::Result<()> {
    // Keep the expected panic's message short.
    std::panic::set_hook(Box::new(|info| eprintln!("(child panicked: {info})")));
    let rt = minirt::Runtime::new()?;
    let served = Arc::new(AtomicUsize::new(0));
    let report = rt.block_on(async {
        let group = Scope::supervisor();
        group.spawn(handler("alpha", vec![1, 2, 3, 4], served.clone()));
        group.spawn(handler("beta", vec![5, -1, 6], served.clone())); // fails
        group.spawn(handler("gamma", (0..10).collect(), served.clone()));
        group.outcomes().await
    });
    for (index, outcome) in report.outcomes.iter().enumerate() {
        match outcome {
            Outcome::Completed(msg) => println!("child {index}: {msg}"),
            Outcome::Panicked(_) => println!("child {index}: failed, siblings kept running"),
            Outcome::Cancelled => println!("child {index}: cancelled"),
        }
    }
    println!("requests served: {}", served.load(Ordering::Relaxed));
    Ok(())
}
