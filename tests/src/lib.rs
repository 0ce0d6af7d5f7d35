//! Shared helpers for minirt integration tests.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::Duration;

use minirt::{Builder, Runtime};

/// Both runtime kinds: current-thread, and multi-thread with 2 workers.
///
/// Under Miri only the current-thread one, because the multi-thread
/// runtime's crossbeam-epoch deques use integer-to-pointer casts that
/// `-Zmiri-strict-provenance` rejects.
pub fn runtimes() -> Vec<Runtime> {
    named_runtimes().into_iter().map(|(_, rt)| rt).collect()
}

/// [`runtimes`], each with its flavour's name for assertion messages.
pub fn named_runtimes() -> Vec<(&'static str, Runtime)> {
    let mut rts = vec![("current_thread", Builder::current_thread().build().unwrap())];
    if !cfg!(miri) {
        rts.push((
            "multi_thread",
            Builder::multi_thread().worker_threads(2).build().unwrap(),
        ));
    }
    rts
}

/// Runs `f`, aborting the whole test binary if it takes longer than `limit`:
/// a lost wake-up or signal must fail CI, not hang it.
///
/// Under Miri `f` just runs: Miri's clock does not follow real time, and Miri
/// reports a deadlock itself when every thread is blocked.
pub fn bounded<T>(limit: Duration, f: impl FnOnce() -> T) -> T {
    if cfg!(miri) {
        return f();
    }
    let (done, finished) = mpsc::channel::<()>();
    let name = std::thread::current()
        .name()
        .unwrap_or("a test")
        .to_string();
    std::thread::spawn(move || {
        if let Err(RecvTimeoutError::Timeout) = finished.recv_timeout(limit) {
            eprintln!("{name} still running after {limit:?}: aborting (lost wake-up?)");
            std::process::abort();
        }
    });
    let out = f();
    drop(done);
    out
}

/// Both runtime kinds with a mock clock (auto-advance on).
pub fn mock_runtimes() -> Vec<Runtime> {
    vec![
        Builder::current_thread().mock_clock().build().unwrap(),
        Builder::multi_thread()
            .worker_threads(2)
            .mock_clock()
            .build()
            .unwrap(),
    ]
}

/// Counts its own drops in the shared counter: put one in a task, a value or
/// a closure to check that it is dropped exactly once.
pub struct DropCounter(pub Arc<AtomicUsize>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}
