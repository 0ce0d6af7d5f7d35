//! `#[minirt::main]`: an `async fn main` on a multi-thread runtime.
//!
//! Run it with `cargo run --example hello_main`.

use std::time::Duration;

#[minirt::main]
async fn main() {
    // Three greetings computed in parallel on the runtime's workers.
    let handles: Vec<_> = ["hello", "from", "minirt"]
        .into_iter()
        .map(|word| {
            minirt::spawn(async move {
                minirt::time::sleep(Duration::from_millis(10)).await;
                word.to_uppercase()
            })
        })
        .collect();
    let mut words = Vec::new();
    for handle in handles {
        words.push(handle.await.expect("the task does not panic"));
    }
    println!("{}", words.join(" "));
}
