//! Python aioutils' README examples: `Group`, `Pool`, nested loops, and the
//! `Yielder` / `OrderedYielder` generators — on minirt's scopes.
//!
//! ```text
//! cargo run -p minirt --example aioutils_group
//! ```
//!
//! Translates, in order (aioutils' `f(c)` sleeps a random fraction of 0.1 s
//! and returns `c`; here the "random" delays are a fixed table, and the
//! runtime uses the mock clock, so the output is exact):
//!
//! 1. *Group*: `g = Group(); for c in chars: g.spawn(f(c)); g.join()` — a
//!    [`Scope`], its `spawn`, its `join`.
//! 2. *Pool*: `p = Pool(2)` — the same with at most 2 running at a time:
//!    [`Options::max_concurrency`].
//! 3. *Nested loops*: 10 `f1` calls, each spawning 10 `f2` calls into the
//!    same group, all 0.1 s — 0.2 s in all instead of 11 s: children spawn
//!    into the scope through its [`ScopeHandle`](minirt::scope::ScopeHandle).
//! 4. *Yielder* / `with yielding() as y`: results as they complete (an
//!    unordered version of `chars`): [`Scope::next_completed`].
//! 5. *OrderedYielder* / `ordered_yielding`: results in spawn order.

use std::time::Duration;

use minirt::scope::{Options, Scope};
use minirt::time::{sleep, Instant};

const CHARS: &str = "abcdefg";

/// aioutils' `random.random()/10` seconds, drawn once and fixed here.
fn delay(c: char) -> Duration {
    const MILLIS: [u64; 7] = [71, 12, 55, 38, 93, 4, 60];
    Duration::from_millis(MILLIS[(c as u8 - b'a') as usize])
}

async fn f(c: char) -> char {
    sleep(delay(c)).await;
    c
}

fn main() -> std::io::Result<()> {
    let rt = minirt::Builder::current_thread().mock_clock().build()?;
    rt.block_on(async {
        // 1. Group.
        let start = Instant::now();
        let group = Scope::new();
        for c in CHARS.chars() {
            group.spawn(f(c));
        }
        let joined = group.join().await.expect("no child fails");
        println!(
            "1. Group: joined {} after {:?}",
            joined.len(),
            start.elapsed()
        );

        // 2. Pool(2).
        let start = Instant::now();
        let pool = Options::new().max_concurrency(2).build();
        for c in CHARS.chars() {
            pool.spawn(f(c));
        }
        pool.join().await.expect("no child fails");
        println!("2. Pool(2): joined after {:?}", start.elapsed());

        // 3. Nested loops: f1 ten times, each then f2 ten times, one group.
        let start = Instant::now();
        let group = Scope::<()>::new();
        let handle = group.handle();
        for _ in 0..10 {
            let handle = handle.clone();
            group.spawn(async move {
                sleep(Duration::from_millis(100)).await; // f1
                for _ in 0..10 {
                    handle.spawn(sleep(Duration::from_millis(100))); // f2
                }
            });
        }
        drop(handle);
        let calls = group.join().await.expect("no child fails").len();
        println!(
            "3. nested: {calls} calls (10 f1 + 100 f2) after {:?}",
            start.elapsed()
        );

        // 4. Yielder: as they complete.
        let mut yielder = Scope::new();
        for c in CHARS.chars() {
            yielder.spawn(f(c));
        }
        let mut unordered = String::new();
        while let Some((_, outcome)) = yielder.next_completed().await {
            unordered.push(outcome.completed().expect("no child fails"));
        }
        println!("4. Yielder: {unordered}");

        // 5. OrderedYielder: in spawn order.
        let ordered = Scope::new();
        for c in CHARS.chars() {
            ordered.spawn(f(c));
        }
        let ordered: String = ordered
            .join()
            .await
            .expect("no child fails")
            .into_iter()
            .collect();
        println!("5. OrderedYielder: {ordered}");
    });
    Ok(())
}
