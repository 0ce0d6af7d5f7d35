//! Plain blocking `std::fs` numbers for the `fs_*` rows of `compare`, whose
//! table has one column per async runtime: the floor each runtime's
//! blocking-pool file I/O is measured against.
//!
//! ```text
//! cargo run --release -p minirt-benches --bin fs_std -- [--quick]
//! ```

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    minirt_benches::params::set_quick(quick);
    let iters = if quick { 3 } else { 10 };
    for id in ["fs_small_reads", "fs_seq_read_256m", "fs_seq_write_256m"] {
        let run = minirt_benches::fs::std_runner(id).expect("an fs row");
        run(1); // warm-up: page cache, allocator
        let mut best = std::time::Duration::MAX;
        for _ in 0..iters {
            best = best.min(run(1));
        }
        println!("{id:<20} std::fs  best of {iters}: {best:?}");
    }
}
