//! [`OwnedMutexGuard`]: a guard that owns an `Arc` of its mutex.

use core::fmt;
use core::ops::{Deref, DerefMut};

use alloc::sync::Arc;

use super::Mutex;

/// Access to the value of a [`Mutex`] locked through
/// [`Mutex::lock_owned`]: it holds an [`Arc`] of the mutex instead of a
/// borrow, so it is `'static` and can be moved into a spawned task.
/// Unlocks when dropped.
///
/// `Send` when `T: Send`; `Sync` when `T: Send + Sync`.
///
/// ```
/// use alloc::sync::Arc;
/// # extern crate alloc;
/// use minirt_core::sync::{Mutex, OwnedMutexGuard};
///
/// let mutex = Arc::new(Mutex::new(0));
/// let mut guard: OwnedMutexGuard<i32> = Arc::clone(&mutex).try_lock_owned().unwrap();
/// *guard += 1;
/// assert!(Arc::ptr_eq(OwnedMutexGuard::mutex(&guard), &mutex));
/// drop(guard);
/// assert_eq!(*mutex.try_lock().unwrap(), 1);
/// ```
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct OwnedMutexGuard<T: ?Sized> {
    /// The locked mutex; this guard owns its one permit.
    lock: Arc<Mutex<T>>,
}

// SAFETY: as for `MutexGuard`: sharing the guard shares `&T`, and dropping
// it elsewhere moves access. Same bounds as tokio's `OwnedMutexGuard`.
unsafe impl<T: ?Sized + Send + Sync> Sync for OwnedMutexGuard<T> {}

impl<T: ?Sized> OwnedMutexGuard<T> {
    /// Wraps the permit the caller just took from `lock`.
    pub(super) fn new(lock: Arc<Mutex<T>>) -> Self {
        Self { lock }
    }

    /// The mutex this guard locks.
    ///
    /// ```
    /// use alloc::sync::Arc;
    /// # extern crate alloc;
    /// use minirt_core::sync::{Mutex, OwnedMutexGuard};
    ///
    /// let mutex = Arc::new(Mutex::new(()));
    /// let guard = Arc::clone(&mutex).try_lock_owned().unwrap();
    /// assert_eq!(Arc::strong_count(OwnedMutexGuard::mutex(&guard)), 2);
    /// ```
    pub fn mutex(this: &Self) -> &Arc<Mutex<T>> {
        &this.lock
    }
}

impl<T: ?Sized> Deref for OwnedMutexGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the mutex's only permit, so no `&mut T`
        // exists elsewhere; the borrow is tied to the guard.
        self.lock.value.with(|p| unsafe { &*p })
    }
}

impl<T: ?Sized> DerefMut for OwnedMutexGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and `&mut self` makes this access unique.
        self.lock.value.with_mut(|p| unsafe { &mut *p })
    }
}

impl<T: ?Sized> Drop for OwnedMutexGuard<T> {
    fn drop(&mut self) {
        self.lock.unlock();
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for OwnedMutexGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for OwnedMutexGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}
