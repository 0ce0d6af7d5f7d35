//! The asyncio documentation's tutorial examples ("Coroutines and Tasks" and
//! "Queues"), translated to minirt.
//!
//! ```text
//! cargo run -p minirt --example asyncio_tutorial
//! ```
//!
//! Translates, in order:
//!
//! 1. `say_after(1, 'hello')` then `say_after(2, 'world')`, awaited one
//!    after the other: 3 s.
//! 2. The same with `asyncio.create_task` for both, then awaiting them: 2 s
//!    ([`minirt::spawn`] and its `JoinHandle`).
//! 3. The same with `asyncio.TaskGroup`: 2 s (a [`Scope`]).
//! 4. `asyncio.gather(factorial("A", 2), factorial("B", 3), factorial("C", 4))`:
//!    the three interleave second by second, the results come back in
//!    argument order ([`minirt::join!`]).
//! 5. `asyncio.wait_for(eternity(), timeout=1.0)` → `timeout!`
//!    ([`minirt::time::timeout`]).
//! 6. The `asyncio.Queue` example: 20 sleep jobs shared by 3 workers; the
//!    wall time is far less than the total of the sleeps. asyncio's
//!    `queue.join()` + cancelling the workers becomes closing the channel
//!    and letting the workers see it end. asyncio draws the sleeps with
//!    `random.uniform(0.05, 1.0)`; here they are a fixed table.
//!
//! The runtime uses the mock clock, so the times printed (`[t=...]`) are
//! exact virtual times and the run takes no real time at all.

use std::time::Duration;

use minirt::scope::Scope;
use minirt::sync::mpsc;
use minirt::time::{sleep, timeout, Instant};

/// The tutorial's `say_after(delay, what)`.
async fn say_after(start: Instant, delay: u64, what: &str) {
    sleep(Duration::from_secs(delay)).await;
    println!("[t={:?}] {what}", start.elapsed());
}

/// The tutorial's `factorial(name, number)`, one multiplication per second.
async fn factorial(name: &str, number: u64) -> u64 {
    let mut f = 1;
    for i in 2..=number {
        println!("Task {name}: Compute factorial({number}), currently i={i}...");
        sleep(Duration::from_secs(1)).await;
        f *= i;
    }
    println!("Task {name}: factorial({number}) = {f}");
    f
}

/// The tutorial's `eternity()`: sleeps for an hour.
async fn eternity() {
    sleep(Duration::from_secs(3600)).await;
    println!("yay!");
}

/// The queue tutorial's `worker(name, queue)`: sleeps for each job it takes.
async fn worker(name: String, queue: async_queue::Queue) {
    while let Some(sleep_for) = queue.get().await {
        sleep(sleep_for).await;
        println!(
            "{name} has slept for {:.2} seconds",
            sleep_for.as_secs_f64()
        );
    }
}

/// A shared receiving end, as `asyncio.Queue` is shared by its workers.
mod async_queue {
    use std::sync::Arc;
    use std::time::Duration;

    use minirt::sync::{mpsc, Mutex};

    #[derive(Clone)]
    pub struct Queue(pub Arc<Mutex<mpsc::UnboundedReceiver<Duration>>>);

    impl Queue {
        /// The next job, or `None` once the queue is closed and empty.
        pub async fn get(&self) -> Option<Duration> {
            self.0.lock().await.recv().await
        }
    }
}

fn main() -> std::io::Result<()> {
    let rt = minirt::Builder::current_thread().mock_clock().build()?;
    rt.block_on(async {
        println!("1. awaiting one after the other");
        let start = Instant::now();
        say_after(start, 1, "hello").await;
        say_after(start, 2, "world").await;
        println!("[t={:?}] finished", start.elapsed());

        println!("2. create_task");
        let start = Instant::now();
        let task1 = minirt::spawn(say_after(start, 1, "hello"));
        let task2 = minirt::spawn(say_after(start, 2, "world"));
        task1.await.unwrap();
        task2.await.unwrap();
        println!("[t={:?}] finished", start.elapsed());

        println!("3. TaskGroup");
        let start = Instant::now();
        let group = Scope::new();
        group.spawn(say_after(start, 1, "hello"));
        group.spawn(say_after(start, 2, "world"));
        group.join().await.unwrap();
        println!("[t={:?}] finished", start.elapsed());

        println!("4. gather");
        let start = Instant::now();
        let results = minirt::join!(factorial("A", 2), factorial("B", 3), factorial("C", 4));
        println!("[t={:?}] {results:?}", start.elapsed());

        println!("5. wait_for");
        let start = Instant::now();
        if timeout(Duration::from_secs(1), eternity()).await.is_err() {
            println!("[t={:?}] timeout!", start.elapsed());
        }

        println!("6. Queue");
        const SLEEPS_MS: [u64; 20] = [
            520, 80, 910, 330, 640, 150, 770, 260, 990, 410, 60, 580, 720, 190, 850, 300, 470, 110,
            680, 240,
        ];
        let (tx, rx) = mpsc::unbounded_channel();
        let mut total = Duration::ZERO;
        for ms in SLEEPS_MS {
            let sleep_for = Duration::from_millis(ms);
            total += sleep_for;
            tx.send(sleep_for).unwrap();
        }
        drop(tx); // no more jobs: workers stop once the queue is empty
        let queue = async_queue::Queue(std::sync::Arc::new(minirt::sync::Mutex::new(rx)));
        let start = Instant::now();
        let workers = Scope::new();
        for i in 0..3 {
            workers.spawn(worker(format!("worker-{i}"), queue.clone()));
        }
        workers.join().await.unwrap();
        println!("====");
        println!(
            "3 workers slept in parallel for {:.2} seconds",
            start.elapsed().as_secs_f64()
        );
        println!(
            "total expected sleep time: {:.2} seconds",
            total.as_secs_f64()
        );
    });
    Ok(())
}
