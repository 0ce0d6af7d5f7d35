//! Python miniasync's README examples: run coroutines from synchronous code
//! and get their results back in the order they were given.
//!
//! ```text
//! cargo run -p minirt --example miniasync_run
//! ```
//!
//! Translates, in order:
//!
//! 1. `miniasync.run(get_some_data())` — one coroutine, its value returned
//!    to plain code: [`minirt::run`] with one future.
//! 2. `a, b = miniasync.run(get_a(), get_b())` — several, run concurrently,
//!    results in argument order even though the second finishes first; the
//!    total time is the longest one, not the sum.
//! 3. `with miniasync.loop() as loop: loop.run(...); loop.run(...)` — one
//!    event loop reused for several runs: one [`minirt::Runtime`], its
//!    [`run`](minirt::Runtime::run) called twice.
//!
//! (`return_exceptions=` is `miniasync_requests.rs`.) The runtime of parts 2
//! and 3 uses the mock clock, so the printed times are exact virtual times.

use std::time::Duration;

use minirt::time::{sleep, Instant};

/// A stand-in for I/O: answers `value` after `millis` (virtual) milliseconds.
async fn get_data(value: &'static str, millis: u64) -> &'static str {
    sleep(Duration::from_millis(millis)).await;
    value
}

fn main() -> std::io::Result<()> {
    // 1. One coroutine from sync code.
    let [data] = <[_; 1]>::try_from(minirt::run([async { "some data" }])).unwrap();
    println!("1. run(get_some_data()) = {data:?}");

    // 2. Several at once, results in argument order.
    let rt = minirt::Builder::current_thread().mock_clock().build()?;
    let start = rt.block_on(async { Instant::now() });
    let results = rt.run([get_data("a", 300), get_data("b", 100)]);
    let took = rt.block_on(async move { start.elapsed() });
    println!("2. run(get_a(), get_b()) = {results:?} after {took:?} (not 400ms)");

    // 3. One loop, reused.
    let first = rt.run([get_data("x", 50), get_data("y", 20)]);
    let second = rt.run([get_data("z", 10)]);
    let took = rt.block_on(async move { start.elapsed() });
    println!("3. loop.run(...) = {first:?}, then loop.run(...) = {second:?}; t={took:?}");
    Ok(())
}
