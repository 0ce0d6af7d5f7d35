//! ayo's `run_as_main` with lifecycle hooks: a root scope bound to Ctrl-C
//! and `SIGTERM`, workers that clean up when it is cancelled, and a
//! countdown before exit (ayo's `on.stopped`).
//!
//! ```text
//! cargo run -p minirt --example ayo_main            # then press Ctrl-C
//! cargo run -p minirt --example ayo_main slow-cleanup  # Ctrl-C twice
//! ```
//!
//! It prints `ready` once everything runs (the signal handlers are in place
//! by then). The first Ctrl-C cancels the root scope: each worker's
//! destructor prints `worker N cleaned up`, the countdown runs, and the
//! process exits with status 130 (143 for `SIGTERM`). With `slow-cleanup`,
//! a shielded task keeps the scope from ending, so a second Ctrl-C is
//! needed: it exits at once, still with status 130, without the countdown.
//!
//! Unix only: it needs Unix signals (SIGINT/SIGTERM, `minirt::main_scope`). On other platforms it prints that and exits.

#[cfg(unix)]
mod unix;

#[cfg(unix)]
fn main() -> minirt::main_scope::MainExit {
    unix::main()
}

#[cfg(not(unix))]
fn main() {
    eprintln!("this example needs Unix signals (SIGINT/SIGTERM, minirt::main_scope), which this platform lacks");
}
