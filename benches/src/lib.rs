//! Workloads shared by the criterion benches and the `compare` binary.
//!
//! minirt exists to own and measure its hot path, so every workload of
//! `/work/shared/design/BENCHMARKS.md` is written here once per runtime —
//! minirt, tokio and smol — doing the same work with the same counts
//! ([`params`]), so that a ratio between two columns means something.
//!
//! Each runtime module exposes a `runner(workload_id)` lookup returning a
//! [`Runner`]: for time workloads a plain `fn(iters: u64) -> Duration` that
//! builds its runtime *outside* the timed region, runs the workload `iters`
//! times and returns only the time spent doing so. That shape is exactly
//! what criterion's `iter_custom` wants, and the `compare` binary calls the
//! very same functions, so both ways of running share one implementation.
//!
//! The minirt side lives in `rt_minirt.rs` behind the non-default `minirt`
//! cargo feature; without it the minirt column is `n/a`.
//!
//! ```
//! use minirt_benches::{runner, Runner, Runtime};
//!
//! let Some(Runner::Time(run)) = runner(Runtime::Tokio, "block_on_ready") else {
//!     panic!("tokio runs every time workload");
//! };
//! let elapsed = run(10);
//! assert!(elapsed.as_nanos() > 0);
//! ```

pub mod alloc_counter;
pub mod blocking_burst;
pub mod c10k;
mod channels_smol;
mod channels_tokio;
pub mod countdown;
pub mod cpu;
pub mod fs;
pub mod gate;
pub mod params;
#[cfg(unix)]
pub mod process;
mod rt_smol;
mod rt_tokio;
mod smol_pool;
pub mod sync_locks;
pub mod timers;
mod workloads;

#[cfg(feature = "minirt")]
mod channels_minirt;
#[cfg(feature = "minirt")]
mod rt_minirt;

pub use workloads::{runner, Runner, Runtime, Unit, Workload, WORKLOADS};
