//! Runs one workload on one runtime, once, for profilers and syscall
//! counters (`strace -f -c`, `perf`, `valgrind --tool=callgrind`) that must
//! see one runtime only, not the interleaved `compare` run.
//!
//! ```text
//! cargo run --release -p minirt-benches --example run_workload -- tokio tcp_echo_mt [iters]
//! ```

use minirt_benches::{runner, Runner, Runtime};

fn main() {
    let mut args = std::env::args().skip(1);
    let usage = "usage: run_workload <minirt|tokio|smol> <workload> [iters]";
    let runtime = match args.next().as_deref() {
        Some("minirt") => Runtime::Minirt,
        Some("tokio") => Runtime::Tokio,
        Some("smol") => Runtime::Smol,
        _ => panic!("{usage}"),
    };
    let id = args.next().expect(usage);
    let iters: u64 = args.next().map_or(1, |n| n.parse().expect(usage));
    match runner(runtime, &id) {
        Some(Runner::Time(run)) => println!("{id} on {}: {:?}", runtime.name(), run(iters)),
        Some(Runner::Bytes(run)) => println!("{id} on {}: {:?} B", runtime.name(), run()),
        None => panic!("{id} has no {} runner", runtime.name()),
    }
}
