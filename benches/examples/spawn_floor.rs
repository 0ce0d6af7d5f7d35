//! The floor under `spawn_local_ct` (issue 15's "≤ 80 ns per task"): what
//! one heap allocation of a task-sized cell, two atomic read-modify-writes,
//! a push into the handles' `Vec` and one free cost per task when, as in the
//! workload, 10 000 cells are allocated before any is freed.
//!
//! ```text
//! cargo run --release -p minirt-benches --example spawn_floor
//! ```
//!
//! Alternates a floor sample with a minirt `spawn_local_ct` sample (the same
//! function `compare` runs) 31 times and prints the medians per task and
//! their ratio, so machine drift hits both alike.

use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use minirt_benches::params::SPAWN_TASKS;
use minirt_benches::{runner, Runner, Runtime};

/// The size of minirt's cell for an `async {}` task (80 bytes), with its
/// state word first.
struct Cell {
    state: AtomicUsize,
    _rest: [usize; 9],
}

/// One round of the floor: allocate every cell, touch each state word twice
/// (a spawn's and a completion's read-modify-write), free them all.
fn floor_round() -> Duration {
    let start = Instant::now();
    let mut cells: Vec<Box<Cell>> = Vec::new();
    for i in 0..SPAWN_TASKS {
        cells.push(black_box(Box::new(Cell {
            state: AtomicUsize::new(i),
            _rest: [0; 9],
        })));
    }
    for cell in &cells {
        cell.state.fetch_add(1, Ordering::AcqRel);
        cell.state.fetch_sub(1, Ordering::AcqRel);
    }
    drop(black_box(cells));
    start.elapsed()
}

fn median_ns_per_task(samples: &mut [Duration]) -> f64 {
    samples.sort();
    samples[samples.len() / 2].as_nanos() as f64 / SPAWN_TASKS as f64
}

fn main() {
    let Some(Runner::Time(minirt)) = runner(Runtime::Minirt, "spawn_local_ct") else {
        panic!("the minirt feature is needed: it is on by default in minirt-benches");
    };
    let (mut floor, mut spawn) = (Vec::new(), Vec::new());
    for _ in 0..31 {
        floor.push(floor_round());
        spawn.push(minirt(1));
    }
    let floor = median_ns_per_task(&mut floor);
    let spawn = median_ns_per_task(&mut spawn);
    println!("floor (alloc + 2 atomics + Vec push + free), median: {floor:.1} ns a task");
    println!("minirt spawn_local_ct, median:                      {spawn:.1} ns a task");
    println!("minirt / floor: {:.2}", spawn / floor);
}
