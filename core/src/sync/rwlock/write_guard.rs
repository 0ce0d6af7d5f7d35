//! The write guards of an [`RwLock`]: each holds all of its permits.

use core::fmt;
use core::marker::PhantomData;
use core::mem::ManuallyDrop;
use core::ops::{Deref, DerefMut};

use alloc::sync::Arc;

use super::super::Semaphore;
use super::{OwnedRwLockReadGuard, RwLock, RwLockReadGuard};

/// Exclusive access to the value of an [`RwLock`] locked for writing;
/// unlocks (returns all its permits) when dropped.
///
/// `Send` and `Sync` when `T: Send + Sync` (as tokio).
///
/// ```
/// use minirt_core::sync::RwLock;
///
/// let lock = RwLock::new(vec![1]);
/// lock.try_write().unwrap().push(2);
/// assert_eq!(*lock.try_read().unwrap(), [1, 2]);
/// ```
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    /// Where the permits go back to.
    sem: &'a Semaphore,
    /// The value.
    data: *mut T,
    /// How many permits this guard holds: the lock's `max_readers`.
    permits: u32,
    /// Borrows the value mutably for `'a`.
    marker: PhantomData<&'a mut T>,
}

// SAFETY: the guard is exclusive access to `T`; tokio asks `Send + Sync`
// for both, because a downgraded guard shares `&T`.
unsafe impl<T: ?Sized + Send + Sync> Send for RwLockWriteGuard<'_, T> {}
// SAFETY: see the `Send` impl.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLockWriteGuard<'_, T> {}

impl<'a, T: ?Sized> RwLockWriteGuard<'a, T> {
    /// Wraps the `permits` (all of them) the caller just took from `sem`.
    pub(super) fn new(sem: &'a Semaphore, data: *mut T, permits: u32) -> Self {
        Self {
            sem,
            data,
            permits,
            marker: PhantomData,
        }
    }

    /// Turns the write lock into a read lock without letting a writer in
    /// between: all permits but one go back, so readers queued (in FIFO
    /// order, up to the first queued writer) get in at once.
    ///
    /// ```
    /// use minirt_core::sync::RwLock;
    ///
    /// let lock = RwLock::new(1);
    /// let mut w = lock.try_write().unwrap();
    /// *w = 2;
    /// let r = w.downgrade();
    /// assert_eq!(*lock.try_read().unwrap(), 2, "other readers may join");
    /// assert!(lock.try_write().is_err());
    /// drop(r);
    /// ```
    pub fn downgrade(self) -> RwLockReadGuard<'a, T> {
        let this = ManuallyDrop::new(self);
        if this.permits > 1 {
            this.sem.add_permits(this.permits as usize - 1);
        }
        RwLockReadGuard::new(this.sem, this.data)
    }

    /// Narrows the guard to a part of the value; the write lock is held
    /// until the new guard is dropped. An associated function, so it does
    /// not shadow a method of `T`.
    ///
    /// ```
    /// use minirt_core::sync::{RwLock, RwLockWriteGuard};
    ///
    /// let lock = RwLock::new((1, 2));
    /// let mut second = RwLockWriteGuard::map(lock.try_write().unwrap(), |p| &mut p.1);
    /// *second = 5;
    /// drop(second);
    /// assert_eq!(*lock.try_read().unwrap(), (1, 5));
    /// ```
    pub fn map<U: ?Sized>(
        this: Self,
        f: impl FnOnce(&mut T) -> &mut U,
    ) -> RwLockMappedWriteGuard<'a, U> {
        // SAFETY: the guard holds every permit, so this is the only access;
        // the new guard takes the permits over (if `f` panics, `this`
        // unlocks).
        let data: *mut U = f(unsafe { &mut *this.data });
        let this = ManuallyDrop::new(this);
        RwLockMappedWriteGuard {
            sem: this.sem,
            data,
            permits: this.permits,
            marker: PhantomData,
        }
    }

    /// Like [`map`](Self::map), but `f` may decline, giving the guard back.
    ///
    /// ```
    /// use minirt_core::sync::{RwLock, RwLockWriteGuard};
    ///
    /// let lock = RwLock::new(vec![1]);
    /// let guard = lock.try_write().unwrap();
    /// assert!(RwLockWriteGuard::try_map(guard, |v| v.get_mut(9)).is_err());
    /// ```
    pub fn try_map<U: ?Sized>(
        this: Self,
        f: impl FnOnce(&mut T) -> Option<&mut U>,
    ) -> Result<RwLockMappedWriteGuard<'a, U>, Self> {
        // SAFETY: as in `map`.
        let data: *mut U = match f(unsafe { &mut *this.data }) {
            Some(data) => data,
            None => return Err(this),
        };
        let this = ManuallyDrop::new(this);
        Ok(RwLockMappedWriteGuard {
            sem: this.sem,
            data,
            permits: this.permits,
            marker: PhantomData,
        })
    }
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds every permit, so no other guard exists.
        unsafe { &*self.data }
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and `&mut self` makes this access unique.
        unsafe { &mut *self.data }
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        self.sem.add_permits(self.permits as usize);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// An [`RwLockWriteGuard`] narrowed by [`RwLockWriteGuard::map`] to a part
/// of the value; unlocks when dropped. `Send`/`Sync` when `T: Send + Sync`.
///
/// ```
/// use minirt_core::sync::{RwLock, RwLockMappedWriteGuard, RwLockWriteGuard};
///
/// let lock = RwLock::new([0u8; 2]);
/// let mut first: RwLockMappedWriteGuard<'_, u8> =
///     RwLockWriteGuard::map(lock.try_write().unwrap(), |a| &mut a[0]);
/// *first = 1;
/// drop(first);
/// assert_eq!(lock.into_inner(), [1, 0]);
/// ```
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockMappedWriteGuard<'a, T: ?Sized> {
    /// Where the permits go back to.
    sem: &'a Semaphore,
    /// The part of the value this guard gives access to.
    data: *mut T,
    /// How many permits this guard holds: the lock's `max_readers`.
    permits: u32,
    /// Borrows the value mutably for `'a`.
    marker: PhantomData<&'a mut T>,
}

// SAFETY: as for `RwLockWriteGuard`.
unsafe impl<T: ?Sized + Send + Sync> Send for RwLockMappedWriteGuard<'_, T> {}
// SAFETY: as for `RwLockWriteGuard`.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLockMappedWriteGuard<'_, T> {}

impl<'a, T: ?Sized> RwLockMappedWriteGuard<'a, T> {
    /// Narrows the guard further (see [`RwLockWriteGuard::map`]).
    ///
    /// ```
    /// use minirt_core::sync::{RwLock, RwLockMappedWriteGuard, RwLockWriteGuard};
    ///
    /// let lock = RwLock::new(((1, 2), 3));
    /// let inner = RwLockWriteGuard::map(lock.try_write().unwrap(), |t| &mut t.0);
    /// let second = RwLockMappedWriteGuard::map(inner, |p| &mut p.1);
    /// assert_eq!(*second, 2);
    /// ```
    pub fn map<U: ?Sized>(
        this: Self,
        f: impl FnOnce(&mut T) -> &mut U,
    ) -> RwLockMappedWriteGuard<'a, U> {
        // SAFETY: the guard holds every permit; the new guard takes them
        // over (if `f` panics, `this` unlocks).
        let data: *mut U = f(unsafe { &mut *this.data });
        let this = ManuallyDrop::new(this);
        RwLockMappedWriteGuard {
            sem: this.sem,
            data,
            permits: this.permits,
            marker: PhantomData,
        }
    }
}

impl<T: ?Sized> Deref for RwLockMappedWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds every permit, so no other guard exists.
        unsafe { &*self.data }
    }
}

impl<T: ?Sized> DerefMut for RwLockMappedWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and `&mut self` makes this access unique.
        unsafe { &mut *self.data }
    }
}

impl<T: ?Sized> Drop for RwLockMappedWriteGuard<'_, T> {
    fn drop(&mut self) {
        self.sem.add_permits(self.permits as usize);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockMappedWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// Exclusive access to an [`RwLock`] write-locked through
/// [`RwLock::write_owned`]: holds an [`Arc`] of the lock, so it is
/// `'static`. Unlocks when dropped. `Send`/`Sync` when `T: Send + Sync`.
///
/// ```
/// use alloc::sync::Arc;
/// # extern crate alloc;
/// use minirt_core::sync::{OwnedRwLockWriteGuard, RwLock};
///
/// let lock = Arc::new(RwLock::new(1));
/// let mut guard: OwnedRwLockWriteGuard<i32> = Arc::clone(&lock).try_write_owned().unwrap();
/// *guard = 2;
/// let read = guard.downgrade();
/// assert_eq!(*read, 2);
/// ```
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct OwnedRwLockWriteGuard<T: ?Sized> {
    /// The write-locked lock; this guard owns all of its permits.
    lock: Arc<RwLock<T>>,
}

impl<T: ?Sized> OwnedRwLockWriteGuard<T> {
    /// Wraps all the permits the caller just took from `lock`.
    pub(super) fn new(lock: Arc<RwLock<T>>) -> Self {
        Self { lock }
    }

    /// Turns the write lock into a read lock without letting a writer in
    /// between (see [`RwLockWriteGuard::downgrade`]).
    ///
    /// ```
    /// use alloc::sync::Arc;
    /// # extern crate alloc;
    /// use minirt_core::sync::RwLock;
    ///
    /// let lock = Arc::new(RwLock::new(1));
    /// let read = Arc::clone(&lock).try_write_owned().unwrap().downgrade();
    /// assert!(lock.try_read().is_ok());
    /// assert!(lock.try_write().is_err());
    /// drop(read);
    /// ```
    pub fn downgrade(self) -> OwnedRwLockReadGuard<T> {
        let this = ManuallyDrop::new(self);
        // SAFETY: `this` is never used or dropped again, so the `Arc` moves
        // out exactly once.
        let lock = unsafe { core::ptr::read(&this.lock) };
        if lock.max_readers > 1 {
            lock.sem.add_permits(lock.max_readers as usize - 1);
        }
        OwnedRwLockReadGuard::new(lock)
    }

    /// The lock this guard holds.
    ///
    /// ```
    /// use alloc::sync::Arc;
    /// # extern crate alloc;
    /// use minirt_core::sync::{OwnedRwLockWriteGuard, RwLock};
    ///
    /// let lock = Arc::new(RwLock::new(()));
    /// let guard = Arc::clone(&lock).try_write_owned().unwrap();
    /// assert!(Arc::ptr_eq(OwnedRwLockWriteGuard::rwlock(&guard), &lock));
    /// ```
    pub fn rwlock(this: &Self) -> &Arc<RwLock<T>> {
        &this.lock
    }
}

impl<T: ?Sized> Deref for OwnedRwLockWriteGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds every permit, so no other guard exists.
        self.lock.value.with(|p| unsafe { &*p })
    }
}

impl<T: ?Sized> DerefMut for OwnedRwLockWriteGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and `&mut self` makes this access unique.
        self.lock.value.with_mut(|p| unsafe { &mut *p })
    }
}

impl<T: ?Sized> Drop for OwnedRwLockWriteGuard<T> {
    fn drop(&mut self) {
        self.lock.sem.add_permits(self.lock.max_readers as usize);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for OwnedRwLockWriteGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for OwnedRwLockWriteGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}
