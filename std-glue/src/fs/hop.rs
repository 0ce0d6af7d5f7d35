//! One blocking hop: run a closure on the runtime's blocking pool and await
//! its result as an `io::Result`.

use std::io;

use minirt_core::task::JoinError;

/// Runs `f` on the blocking pool of the current runtime and waits for it.
///
/// A panic in `f` is resumed here, in the awaiting task (as if `f` had run
/// inline). A job dropped unstarted because the runtime is shutting down
/// becomes an `io::Error` of kind `Other` saying so.
///
/// Cancel safety: dropping the future detaches the job; once started it
/// runs to completion and its result is dropped.
///
/// # Panics
///
/// Outside a minirt runtime (like `minirt::spawn_blocking`).
pub(crate) async fn run<T, F>(f: F) -> io::Result<T>
where
    F: FnOnce() -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    let handle = crate::spawn_blocking(f);
    handle.await.unwrap_or_else(|error| Err(join_error(error)))
}

/// What a failed blocking job means to a file operation: a panic carries
/// on in the caller, a cancellation is an error.
pub(crate) fn join_error(error: JoinError) -> io::Error {
    match error.try_into_panic() {
        Ok(payload) => std::panic::resume_unwind(payload),
        Err(_) => io::Error::other(
            "minirt::fs: the blocking pool dropped the file operation (runtime shutting down)",
        ),
    }
}
