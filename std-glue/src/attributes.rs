//! `#[minirt::main]` and `#[minirt::test]`: the docs (with a compile-fail
//! example for each misuse) and the one function the expansion calls.
//!
//! The macros themselves live in the in-repo `minirt-macros` crate, which
//! only rewrites tokens; everything they do at run time is here.

use std::future::Future;

use crate::Builder;

/// Runs `async fn main` on a minirt runtime: the function's body becomes the
/// future of [`Runtime::block_on`](crate::Runtime::block_on), on a runtime
/// built just for it and shut down when it returns.
///
/// Without options, the runtime is multi-thread with the default worker
/// count (as [`Runtime::new`](crate::Runtime::new)), like `#[tokio::main]`.
///
/// ```
/// #[minirt::main]
/// async fn main() {
///     let answer = minirt::spawn(async { 6 * 7 }).await.unwrap();
///     assert_eq!(answer, 42);
/// }
/// ```
///
/// The function may return anything `main` may return, such as a `Result`
/// for `?`:
///
/// ```
/// #[minirt::main(flavor = "current_thread")]
/// async fn main() -> Result<(), std::num::ParseIntError> {
///     let n: u32 = "42".parse()?;
///     minirt::time::sleep(std::time::Duration::from_millis(1)).await;
///     assert_eq!(n, 42);
///     Ok(())
/// }
/// ```
///
/// # Options
///
/// tokio's names and meanings:
///
/// | option | meaning |
/// | --- | --- |
/// | `flavor = "multi_thread"` (default) | [`Builder::multi_thread`] |
/// | `flavor = "current_thread"` | [`Builder::current_thread`]: everything on the main thread |
/// | `worker_threads = N` | [`Builder::worker_threads`]; multi-thread only |
/// | `start_paused = true` | [`Builder::mock_clock`]: virtual time that jumps to the next timer when all is idle; current-thread only |
/// | `seed = N` | [`Builder::seed`]: a replayable task order; current-thread only |
/// | `crate = "path"` | where the `minirt` crate is, if it was renamed (default `::minirt`) |
///
/// ```
/// #[minirt::main(flavor = "multi_thread", worker_threads = 2)]
/// async fn main() {
///     assert_eq!(minirt::Handle::current().metrics().workers, 2);
/// }
/// ```
///
/// # Misuse is a compile error
///
/// Each error points at the token to change. The function must be `async`:
///
/// ```compile_fail
/// #[minirt::main]
/// fn main() {}
/// ```
///
/// and take no arguments:
///
/// ```compile_fail
/// #[minirt::main]
/// async fn main(args: Vec<String>) {}
/// ```
///
/// An unknown option, or a bad value:
///
/// ```compile_fail
/// #[minirt::main(workers = 4)]
/// async fn main() {}
/// ```
///
/// ```compile_fail
/// #[minirt::main(flavor = "single_thread")]
/// async fn main() {}
/// ```
///
/// ```compile_fail
/// #[minirt::main(flavor = "multi_thread", worker_threads = 0)]
/// async fn main() {}
/// ```
///
/// `worker_threads` needs the multi-thread flavour:
///
/// ```compile_fail
/// #[minirt::main(flavor = "current_thread", worker_threads = 2)]
/// async fn main() {}
/// ```
///
/// and `start_paused` (as in tokio) and `seed` the current-thread one —
/// which `main` does not default to:
///
/// ```compile_fail
/// #[minirt::main(start_paused = true)]
/// async fn main() {}
/// ```
///
/// ```compile_fail
/// #[minirt::main(flavor = "multi_thread", seed = 7)]
/// async fn main() {}
/// ```
#[cfg(feature = "macros")]
#[doc(inline)]
pub use minirt_macros::main;

/// Runs an `async fn` test on a fresh minirt runtime, current-thread by
/// default (like `#[tokio::test]`); it expands to a `#[test]` function, so
/// `#[should_panic]`, `#[ignore]` and doc comments work as usual.
/// (The examples below only compile: a `#[test]` function exists under
/// `cargo test` only; `tests/tests/macros.rs` runs them.)
///
/// ```
/// #[minirt::test]
/// async fn adds() {
///     assert_eq!(minirt::spawn(async { 1 + 1 }).await.unwrap(), 2);
/// }
/// # fn main() {}
/// ```
///
/// `start_paused = true` gives the test a mock clock (tokio's paused
/// time): a test that sleeps an hour takes no real time.
///
/// ```
/// use std::time::Duration;
/// use minirt::time::{sleep, Instant};
///
/// #[minirt::test(start_paused = true)]
/// async fn an_hour_in_no_time() {
///     let start = Instant::now();
///     sleep(Duration::from_secs(3600)).await;
///     assert_eq!(start.elapsed(), Duration::from_secs(3600));
/// }
/// # fn main() {}
/// ```
///
/// The options are those of [`main`](macro@main) (`flavor`,
/// `worker_threads`, `start_paused`, `seed`, `crate`), with
/// `"current_thread"` as the default flavour. With `seed`, ready tasks run
/// in an order drawn from the seed, and [`select!`](crate::select) starts
/// at branches drawn from it too, so a failing order replays.
///
/// # Misuse is a compile error
///
/// ```compile_fail
/// #[minirt::test]
/// fn not_async() {}
/// ```
///
/// ```compile_fail
/// #[minirt::test]
/// async fn takes_an_argument(n: u32) {}
/// ```
///
/// ```compile_fail
/// #[minirt::test(flavour = "current_thread")]
/// async fn misspelt() {}
/// ```
///
/// ```compile_fail
/// #[minirt::test(start_paused = "yes")]
/// async fn not_a_bool() {}
/// ```
///
/// ```compile_fail
/// #[minirt::test(worker_threads = 2)]
/// async fn workers_on_current_thread() {}
/// ```
///
/// ```compile_fail
/// #[minirt::test(flavor = "multi_thread", start_paused = true)]
/// async fn paused_multi_thread() {}
/// ```
///
/// ```compile_fail
/// #[minirt::test(seed = -1)]
/// async fn negative_seed() {}
/// ```
///
/// ```compile_fail
/// #[minirt::test]
/// #[test]
/// async fn two_test_attributes() {}
/// ```
#[cfg(feature = "macros")]
#[doc(inline)]
pub use minirt_macros::test;

/// Builds the runtime the attribute asked for and runs the function's body
/// on it; called by the code `#[minirt::main]` and `#[minirt::test]`
/// generate (not a public API).
///
/// ```
/// let out = minirt::__macro_support::block_on::<u8, _>(
///     minirt::Builder::current_thread(),
///     async { 7 },
/// );
/// assert_eq!(out, 7);
/// ```
#[doc(hidden)]
#[track_caller]
pub fn block_on<T, F: Future<Output = T>>(builder: Builder, body: F) -> T {
    let runtime = match builder.build() {
        Ok(runtime) => runtime,
        Err(err) => panic!("could not start the minirt runtime: {err}"),
    };
    runtime.block_on(body)
}
