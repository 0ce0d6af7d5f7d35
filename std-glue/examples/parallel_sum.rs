//! A parallel sum over a borrowed slice with the sync-boundary scope: like
//! `std::thread::scope`, but the children are async tasks on minirt's
//! work-stealing pool.
//!
//! ```text
//! cargo run -p minirt --example parallel_sum
//! ```
//!
//! The children borrow `numbers` from `main`'s stack, which no other Rust
//! runtime allows without `'static` or `unsafe`. It is sound because
//! `minirt::scope` blocks this thread and does not return — even on panic —
//! until every child has finished or been dropped.

fn main() {
    let numbers: Vec<u64> = (1..=1_000_000).collect();

    let partial_sums = minirt::scope(|s| {
        for chunk in numbers.chunks(100_000) {
            s.spawn(async move { chunk.iter().sum::<u64>() });
        }
    })
    .expect("nothing cancels this scope");

    let total: u64 = partial_sums.iter().sum();
    println!("{} chunks, total = {total}", partial_sums.len());
    assert_eq!(total, 1_000_000 * 1_000_001 / 2);
}
