//! The read guards of an [`RwLock`]: each holds one of its permits.

use core::fmt;
use core::marker::PhantomData;
use core::mem::ManuallyDrop;
use core::ops::Deref;

use alloc::sync::Arc;

use super::super::Semaphore;
use super::RwLock;

/// Shared access to the value of an [`RwLock`] locked for reading; unlocks
/// (returns its one permit) when dropped.
///
/// `Send` and `Sync` when `T: Sync` (as tokio; `Sync` also wants
/// `T: Send`): readers on several threads share `&T`.
///
/// ```
/// use minirt_core::sync::RwLock;
///
/// let lock = RwLock::new(vec![1, 2]);
/// let guard = lock.try_read().unwrap();
/// assert_eq!(guard.len(), 2);
/// ```
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    /// Where the permit goes back to.
    sem: &'a Semaphore,
    /// The value (or the part of it this guard was mapped to).
    data: *const T,
    /// Borrows the value for `'a`.
    marker: PhantomData<&'a T>,
}

// SAFETY: the guard gives out `&T` only; sending it sends a shared borrow,
// which needs `T: Sync`. Same bounds as tokio's `RwLockReadGuard`.
unsafe impl<T: ?Sized + Sync> Send for RwLockReadGuard<'_, T> {}
// SAFETY: sharing the guard shares `&T`. Same bounds as tokio.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLockReadGuard<'_, T> {}

impl<'a, T: ?Sized> RwLockReadGuard<'a, T> {
    /// Wraps the one permit the caller just took from `sem`.
    pub(super) fn new(sem: &'a Semaphore, data: *const T) -> Self {
        Self {
            sem,
            data,
            marker: PhantomData,
        }
    }

    /// Narrows the guard to a part of the value; the read lock is held
    /// until the new guard is dropped. An associated function, so it does
    /// not shadow a method of `T`.
    ///
    /// ```
    /// use minirt_core::sync::{RwLock, RwLockReadGuard};
    ///
    /// let lock = RwLock::new((1, "name"));
    /// let name = RwLockReadGuard::map(lock.try_read().unwrap(), |pair| &pair.1);
    /// assert_eq!(*name, "name");
    /// assert!(lock.try_write().is_err(), "still read-locked");
    /// ```
    pub fn map<U: ?Sized>(this: Self, f: impl FnOnce(&T) -> &U) -> RwLockReadGuard<'a, U> {
        // SAFETY: the guard holds a read permit, so no writer exists; the
        // new guard takes the permit over (if `f` panics, `this` unlocks).
        let data: *const U = f(unsafe { &*this.data });
        let this = ManuallyDrop::new(this);
        RwLockReadGuard::new(this.sem, data)
    }

    /// Like [`map`](Self::map), but `f` may decline, giving the guard back.
    ///
    /// ```
    /// use minirt_core::sync::{RwLock, RwLockReadGuard};
    ///
    /// let lock = RwLock::new(vec![1]);
    /// let guard = lock.try_read().unwrap();
    /// let guard = RwLockReadGuard::try_map(guard, |v| v.get(3)).unwrap_err();
    /// assert_eq!(*RwLockReadGuard::try_map(guard, |v| v.first()).unwrap(), 1);
    /// ```
    pub fn try_map<U: ?Sized>(
        this: Self,
        f: impl FnOnce(&T) -> Option<&U>,
    ) -> Result<RwLockReadGuard<'a, U>, Self> {
        // SAFETY: as in `map`.
        let data: *const U = match f(unsafe { &*this.data }) {
            Some(data) => data,
            None => return Err(this),
        };
        let this = ManuallyDrop::new(this);
        Ok(RwLockReadGuard::new(this.sem, data))
    }
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds a read permit: no writer holds all of them,
        // so nobody has `&mut T`.
        unsafe { &*self.data }
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        self.sem.add_permits(1);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// Shared access to an [`RwLock`] read-locked through
/// [`RwLock::read_owned`]: holds an [`Arc`] of the lock, so it is
/// `'static`. Unlocks when dropped. `Send`/`Sync` when `T: Send + Sync`.
///
/// ```
/// use alloc::sync::Arc;
/// # extern crate alloc;
/// use minirt_core::sync::{OwnedRwLockReadGuard, RwLock};
///
/// let lock = Arc::new(RwLock::new(1));
/// let guard: OwnedRwLockReadGuard<i32> = Arc::clone(&lock).try_read_owned().unwrap();
/// assert!(Arc::ptr_eq(OwnedRwLockReadGuard::rwlock(&guard), &lock));
/// ```
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct OwnedRwLockReadGuard<T: ?Sized> {
    /// The read-locked lock; this guard owns one of its permits.
    lock: Arc<RwLock<T>>,
}

impl<T: ?Sized> OwnedRwLockReadGuard<T> {
    /// Wraps the one permit the caller just took from `lock`.
    pub(super) fn new(lock: Arc<RwLock<T>>) -> Self {
        Self { lock }
    }

    /// The lock this guard holds.
    ///
    /// ```
    /// use alloc::sync::Arc;
    /// # extern crate alloc;
    /// use minirt_core::sync::{OwnedRwLockReadGuard, RwLock};
    ///
    /// let lock = Arc::new(RwLock::new(()));
    /// let guard = Arc::clone(&lock).try_read_owned().unwrap();
    /// assert_eq!(Arc::strong_count(OwnedRwLockReadGuard::rwlock(&guard)), 2);
    /// ```
    pub fn rwlock(this: &Self) -> &Arc<RwLock<T>> {
        &this.lock
    }
}

impl<T: ?Sized> Deref for OwnedRwLockReadGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds a read permit, so nobody has `&mut T`.
        self.lock.value.with(|p| unsafe { &*p })
    }
}

impl<T: ?Sized> Drop for OwnedRwLockReadGuard<T> {
    fn drop(&mut self) {
        self.lock.sem.add_permits(1);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for OwnedRwLockReadGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for OwnedRwLockReadGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}
