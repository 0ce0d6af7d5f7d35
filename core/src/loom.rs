//! The one place `minirt-core` takes its atomics and cells from.
//!
//! Every module imports `AtomicUsize`, `UnsafeCell` and friends from here, so
//! that building with `RUSTFLAGS="--cfg loom"` swaps in loom's model-checked
//! versions and the code loom explores is the code that ships.
//!
//! [`UnsafeCell`] follows loom's API (`with`/`with_mut` taking closures), so
//! the same call sites compile against both.

#[cfg(not(loom))]
mod imp {
    #[allow(unused_imports)]
    pub(crate) mod atomic {
        #[allow(unused_imports)]
        pub(crate) use core::sync::atomic::{
            fence, AtomicBool, AtomicPtr, AtomicU32, AtomicUsize, Ordering,
        };
    }

    #[allow(unused_imports)]
    pub(crate) mod sync {
        pub(crate) use alloc::sync::Arc;
    }

    /// A `core::cell::UnsafeCell` with loom's closure-based accessors.
    #[derive(Debug)]
    #[repr(transparent)]
    pub(crate) struct UnsafeCell<T: ?Sized>(core::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        #[inline(always)]
        pub(crate) const fn new(value: T) -> Self {
            Self(core::cell::UnsafeCell::new(value))
        }

        /// Unwraps the value (loom's `into_inner`).
        #[allow(dead_code)]
        #[inline(always)]
        pub(crate) fn into_inner(self) -> T {
            self.0.into_inner()
        }
    }

    impl<T: ?Sized> UnsafeCell<T> {
        /// Runs `f` with a shared raw pointer to the contents.
        #[inline(always)]
        pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }

        /// Runs `f` with a mutable raw pointer to the contents.
        #[inline(always)]
        pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }

    /// Hints the CPU that we are spinning (used by the `no_std` spin lock).
    #[allow(dead_code)]
    #[inline(always)]
    pub(crate) fn spin_loop() {
        core::hint::spin_loop();
    }
}

#[cfg(loom)]
mod imp {
    #[allow(unused_imports)]
    pub(crate) mod atomic {
        #[allow(unused_imports)]
        pub(crate) use loom::sync::atomic::{
            fence, AtomicBool, AtomicPtr, AtomicU32, AtomicUsize, Ordering,
        };
    }

    #[allow(unused_imports)]
    pub(crate) mod sync {
        pub(crate) use loom::sync::Arc;
    }

    pub(crate) use loom::cell::UnsafeCell;

    /// Under loom a spin must yield so the model can schedule the holder.
    pub(crate) fn spin_loop() {
        loom::thread::yield_now();
    }
}

#[allow(unused_imports)]
pub(crate) use imp::*;
