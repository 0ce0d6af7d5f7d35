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
#![no_std]
#![warn(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

extern crate alloc;
#[cfg(any(test, feature = "std"))]
extern crate std;

pub(crate) mod loom;

pub mod executor;
pub mod future;
pub mod sync;
pub mod task;
pub mod time;
