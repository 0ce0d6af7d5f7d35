//! `Lock`: the one tiny lock the sync primitives use.
//!
//! Every user of this lock follows one rule: **the critical section is a
//! handful of loads and stores — never an `.await`, never a waker call,
//! never an allocation that could be slow.** Wakers collected under the lock
//! are woken after it is released.
//!
//! What the lock is depends on the platform, chosen once here:
//!
//! - with the `std` feature (which the `minirt` crate turns on), a
//!   `std::sync::Mutex`: uncontended it costs the same as a spin lock (one
//!   CAS to take, one swap to release), but a waiter whose holder was
//!   preempted sleeps on a futex instead of burning its time slice — on a
//!   loaded 2-core machine a spin lock made the `mpsc_mt` benchmark 3x
//!   slower than tokio;
//! - without `std` (and under loom), a test-and-test-and-set spin lock, since
//!   there is no operating system to sleep on.
//!
//! On a single-core microcontroller, do not touch a primitive from an
//! interrupt handler that may preempt a holder of the same lock: the
//! handler would spin forever. Wake tasks from interrupts instead (wakers
//! of the local executor are lock-free).

#[cfg(all(feature = "std", not(loom)))]
pub(crate) use std_mutex::{Lock, LockGuard};

#[cfg(all(feature = "std", not(loom)))]
mod std_mutex {
    /// A `std::sync::Mutex` with the spin lock's API (see the module docs).
    pub(crate) struct Lock<T>(std::sync::Mutex<T>);

    /// Access to the value of a locked [`Lock`]; unlocks on drop.
    pub(crate) type LockGuard<'a, T> = std::sync::MutexGuard<'a, T>;

    impl<T> Lock<T> {
        /// Creates an unlocked lock around `value`.
        pub(crate) const fn new(value: T) -> Self {
            Lock(std::sync::Mutex::new(value))
        }

        /// Takes the lock. A panic while it was held (which the rule above
        /// makes a bug in minirt, not user code) does not poison it.
        #[inline]
        pub(crate) fn lock(&self) -> LockGuard<'_, T> {
            self.0.lock().unwrap_or_else(|e| e.into_inner())
        }
    }
}

#[cfg(any(not(feature = "std"), loom))]
pub(crate) use spin::{Lock, LockGuard};

#[cfg(any(not(feature = "std"), loom))]
mod spin {
    use core::ops::{Deref, DerefMut};

    use crate::loom::atomic::{AtomicBool, Ordering};
    use crate::loom::UnsafeCell;

    /// A test-and-test-and-set spin lock guarding a `T`.
    pub(crate) struct Lock<T> {
        /// `true` while some guard exists.
        locked: AtomicBool,
        /// The protected value; only touched through a guard.
        value: UnsafeCell<T>,
    }

    // SAFETY: the lock hands out access to `T` to one thread at a time, so it is
    // `Sync` exactly when `T` could be sent between threads.
    unsafe impl<T: Send> Sync for Lock<T> {}
    // SAFETY: moving the lock moves the `T`.
    unsafe impl<T: Send> Send for Lock<T> {}

    impl<T> Lock<T> {
        /// Creates an unlocked lock around `value`.
        #[cfg(not(loom))]
        pub(crate) const fn new(value: T) -> Self {
            Self {
                locked: AtomicBool::new(false),
                value: UnsafeCell::new(value),
            }
        }

        /// Creates an unlocked lock around `value`.
        #[cfg(loom)]
        pub(crate) fn new(value: T) -> Self {
            Self {
                locked: AtomicBool::new(false),
                value: UnsafeCell::new(value),
            }
        }

        /// Spins until the lock is free, then takes it.
        #[inline]
        pub(crate) fn lock(&self) -> LockGuard<'_, T> {
            loop {
                if self
                    .locked
                    .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
                {
                    return LockGuard { lock: self };
                }
                while self.locked.load(Ordering::Relaxed) {
                    crate::loom::spin_loop();
                }
            }
        }
    }

    /// Access to the value of a locked [`Lock`]; unlocks on drop.
    pub(crate) struct LockGuard<'a, T> {
        lock: &'a Lock<T>,
    }

    impl<T> Deref for LockGuard<'_, T> {
        type Target = T;
        fn deref(&self) -> &T {
            // SAFETY: the guard exists only while `locked` is held by us, so no
            // other reference to the value is live.
            self.lock.value.with(|p| unsafe { &*p })
        }
    }

    impl<T> DerefMut for LockGuard<'_, T> {
        fn deref_mut(&mut self) -> &mut T {
            // SAFETY: as in `deref`, and `&mut self` makes this access unique.
            self.lock.value.with_mut(|p| unsafe { &mut *p })
        }
    }

    impl<T> Drop for LockGuard<'_, T> {
        fn drop(&mut self) {
            self.lock.locked.store(false, Ordering::Release);
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn guards_are_exclusive_and_release() {
        let lock = Lock::new(1);
        {
            let mut g = lock.lock();
            *g += 1;
        }
        assert_eq!(*lock.lock(), 2);
    }
}
