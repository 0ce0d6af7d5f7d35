//! `SpinLock`: the one tiny lock the sync primitives use.
//!
//! `minirt-core` has no operating system to block on, so its primitives
//! protect their waiter lists with a spin lock. That is only acceptable
//! because of the rule every user of this lock follows: **the critical
//! section is a handful of loads and stores — never an `.await`, never a
//! waker call, never an allocation that could be slow.** Wakers collected
//! under the lock are woken after it is released.
//!
//! On a single-core microcontroller, do not touch a primitive from an
//! interrupt handler that may preempt a holder of the same lock: the
//! handler would spin forever. Wake tasks from interrupts instead (wakers
//! of the local executor are lock-free).

use core::ops::{Deref, DerefMut};

use crate::loom::atomic::{AtomicBool, Ordering};
use crate::loom::UnsafeCell;

/// A test-and-test-and-set spin lock guarding a `T`.
pub(crate) struct SpinLock<T> {
    /// `true` while some guard exists.
    locked: AtomicBool,
    /// The protected value; only touched through a guard.
    value: UnsafeCell<T>,
}

// SAFETY: the lock hands out access to `T` to one thread at a time, so it is
// `Sync` exactly when `T` could be sent between threads.
unsafe impl<T: Send> Sync for SpinLock<T> {}
// SAFETY: moving the lock moves the `T`.
unsafe impl<T: Send> Send for SpinLock<T> {}

impl<T> SpinLock<T> {
    /// Creates an unlocked lock around `value`.
    #[cfg(not(loom))]
    pub(crate) const fn new(value: T) -> Self {
        Self { locked: AtomicBool::new(false), value: UnsafeCell::new(value) }
    }

    /// Creates an unlocked lock around `value`.
    #[cfg(loom)]
    pub(crate) fn new(value: T) -> Self {
        Self { locked: AtomicBool::new(false), value: UnsafeCell::new(value) }
    }

    /// Spins until the lock is free, then takes it.
    #[inline]
    pub(crate) fn lock(&self) -> SpinGuard<'_, T> {
        loop {
            if self
                .locked
                .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                return SpinGuard { lock: self };
            }
            while self.locked.load(Ordering::Relaxed) {
                crate::loom::spin_loop();
            }
        }
    }
}

/// Access to the value of a locked [`SpinLock`]; unlocks on drop.
pub(crate) struct SpinGuard<'a, T> {
    lock: &'a SpinLock<T>,
}

impl<T> Deref for SpinGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard exists only while `locked` is held by us, so no
        // other reference to the value is live.
        self.lock.value.with(|p| unsafe { &*p })
    }
}

impl<T> DerefMut for SpinGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and `&mut self` makes this access unique.
        self.lock.value.with_mut(|p| unsafe { &mut *p })
    }
}

impl<T> Drop for SpinGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.locked.store(false, Ordering::Release);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn guards_are_exclusive_and_release() {
        let lock = SpinLock::new(1);
        {
            let mut g = lock.lock();
            *g += 1;
        }
        assert_eq!(*lock.lock(), 2);
    }
}
