//! # minirt-core
//!
//! The part of [minirt](https://example.invalid/minirt) that needs no operating
//! system: raw tasks (one allocation each), the waker vtable, join handles and
//! cancellation, a hierarchical timer wheel, semaphores and channels, future
//! combinators, and a single-threaded executor you can drive from a
//! microcontroller's idle loop.
//!
//! `minirt-core` is `#![no_std]` and needs only `alloc`. It builds for
//! `thumbv7m-none-eabi`, which has no 64-bit atomics.
//!
//! Most users depend on the `minirt` crate, which re-exports everything here
//! next to the runtimes, I/O and clocks that need `std`.
//!
//! ```
//! use minirt_core::executor::LocalExecutor;
//! use minirt_core::sync::oneshot;
//!
//! let ex = LocalExecutor::new();
//! let (tx, rx) = oneshot::channel();
//! let producer = ex.spawn(async move {
//!     minirt_core::future::yield_now().await;
//!     tx.send(21).unwrap();
//! });
//! // The idle hook runs when nothing is ready; on a microcontroller it
//! // would wait for an interrupt (`wfi`).
//! let doubled = ex.block_on(async { rx.await.unwrap() * 2 }, || {});
//! assert_eq!(doubled, 42);
//! assert!(producer.is_finished());
//! ```
#![no_std]
#![warn(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

extern crate alloc;
#[cfg(any(test, feature = "std"))]
extern crate std;

pub(crate) mod loom;

pub mod coop;
pub mod executor;
pub mod future;
pub mod sync;
pub mod task;
pub mod time;
