//! A deadlock on purpose, and the task dump that shows it.
//!
//! Two tasks take the same two locks in opposite orders: each gets its
//! first lock, then waits forever for the other's. Nothing panics and
//! nothing spins; the program would just stop making progress. A dump
//! (`Handle::dump`, from any thread, while the runtime runs) shows both
//! tasks idle — polled twice, waiting ever since — in `Mutex::lock`, and
//! the lines that spawned them, which is where to start reading.
//!
//! The last part shows the long-poll detector: a task that calls
//! `std::thread::sleep` inside `async` is reported while it sleeps.
//!
//! ```text
//! cargo run -p minirt --example task_dump
//! ```

use std::sync::Arc;
use std::time::Duration;

use minirt::sync::Mutex;
use minirt::Handle;

fn main() {
    let rt = minirt::Builder::current_thread()
        // One stderr line per poll that holds the thread over 100 ms.
        .warn_on_long_poll(Duration::from_millis(100))
        .build()
        .expect("runtime");
    rt.block_on(async {
        let accounts = Arc::new(Mutex::new("accounts"));
        let ledger = Arc::new(Mutex::new("ledger"));

        let (a, l) = (accounts.clone(), ledger.clone());
        let transfer = minirt::spawn(async move {
            let _accounts = a.lock().await;
            minirt::yield_now().await; // let the other task take its first lock
            let _ledger = l.lock().await; // waits for `audit`: forever
        });
        let (a, l) = (accounts.clone(), ledger.clone());
        let audit = minirt::spawn(async move {
            let _ledger = l.lock().await;
            minirt::yield_now().await;
            let _accounts = a.lock().await; // waits for `transfer`: forever
        });

        for _ in 0..10 {
            minirt::yield_now().await;
        }
        println!(
            "transfer is task {}, audit is task {}",
            transfer.id(),
            audit.id()
        );
        println!("{}", Handle::current().dump());

        // A blocking call inside async code: the detector reports it on
        // stderr while it runs.
        minirt::spawn(async {
            std::thread::sleep(Duration::from_millis(500));
        })
        .await
        .unwrap();
        // Dropping the runtime cancels the two deadlocked tasks.
    });
}
