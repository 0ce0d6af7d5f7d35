//! A five-minute tour of minirt, from ordinary synchronous code.
//!
//! Run it with `cargo run --release --example tour`.

use std::time::Duration;

use minirt::time::{sleep, timeout, Instant};

/// Prints when it is dropped, to show cancellation running destructors.
struct Goodbye(&'static str);

impl Drop for Goodbye {
    fn drop(&mut self) {
        println!("  destructor ran: {}", self.0);
    }
}

/// A pretend request that takes `ms` milliseconds.
async fn fetch(name: &'static str, ms: u64) -> String {
    sleep(Duration::from_millis(ms)).await;
    format!("{name} ({ms} ms)")
}

fn main() {
    println!("1. block_on: run one future to completion on this thread");
    let answer = minirt::block_on(async { 6 * 7 });
    println!("  answer = {answer}");

    println!("2. run: several futures concurrently, outputs in input order");
    let start = std::time::Instant::now();
    let pages = minirt::run(vec![
        fetch("slow", 60),
        fetch("fast", 10),
        fetch("medium", 30),
    ]);
    println!(
        "  {pages:?} in {:?} (concurrent, not 100 ms)",
        start.elapsed()
    );

    println!("3. completed: the same, fastest first, as a plain iterator");
    for page in minirt::completed(vec![
        fetch("slow", 60),
        fetch("fast", 10),
        fetch("medium", 30),
    ]) {
        println!("  done: {page}");
    }

    println!("4. spawn + abort: cancellation runs destructors at the .await");
    minirt::block_on(async {
        let task = minirt::spawn(async {
            let _guard = Goodbye("the spawned task's guard");
            sleep(Duration::from_secs(3600)).await;
            unreachable!("aborted long before");
        });
        sleep(Duration::from_millis(5)).await; // let it reach its .await
        task.abort();
        let err = task.await.unwrap_err();
        println!("  join handle says: {err} (the destructor ran before this line)");
    });

    println!("5. timeout: the inner future is dropped when time is up");
    minirt::block_on(async {
        let slow = async {
            let _guard = Goodbye("the timed-out future's guard");
            sleep(Duration::from_secs(10)).await;
        };
        let started = Instant::now();
        let result = timeout(Duration::from_millis(20), slow).await;
        println!("  {result:?} after {:?}", started.elapsed());
    });

    println!("6. a multi-thread runtime with work stealing and a blocking pool");
    let rt = minirt::Runtime::new().expect("runtime");
    let sum: u64 = rt.block_on(async {
        let cpu = minirt::spawn_blocking(|| (1..=1_000_000u64).sum::<u64>());
        let tasks: Vec<_> = (0..100u64)
            .map(|i| minirt::spawn(async move { i }))
            .collect();
        let mut total = cpu.await.unwrap();
        for t in tasks {
            total += t.await.unwrap();
        }
        total
    });
    println!("  sum = {sum}, metrics: {:?}", rt.metrics());

    println!("7. a mock clock: an hour of virtual time in no real time");
    let mock = minirt::Builder::current_thread()
        .mock_clock()
        .build()
        .expect("runtime");
    let real = std::time::Instant::now();
    mock.block_on(async {
        let start = Instant::now();
        sleep(Duration::from_secs(3600)).await;
        println!("  virtual elapsed: {:?}", start.elapsed());
    });
    println!("  real elapsed: {:?}", real.elapsed());
}
