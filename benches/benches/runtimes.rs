//! Criterion benches: one group per workload, one bench per runtime, so the
//! report names them `<workload>/<runtime>` (`spawn_local_ct/tokio`, ...).
//!
//! The workload code is the library's, shared with the `compare` binary;
//! `iter_custom` hands it the iteration count and takes back the time of
//! the runs alone (runtime construction is outside the timed region).
//! `memory_per_task` measures bytes, not time, so only `compare` reports it.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use minirt_benches::{runner, Runner, Runtime, Unit, WORKLOADS};

fn runtimes(c: &mut Criterion) {
    for workload in WORKLOADS.iter().filter(|w| w.unit == Unit::Time) {
        let mut group = c.benchmark_group(workload.id);
        for runtime in Runtime::ALL {
            if let Some(Runner::Time(run)) = runner(runtime, workload.id) {
                group.bench_function(runtime.name(), |b| b.iter_custom(run));
            }
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    // Some workloads take a good part of a second per iteration (tcp_echo_mt),
    // so keep the default sample count small; command-line flags still win.
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = runtimes
}
criterion_main!(benches);
