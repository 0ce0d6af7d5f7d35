//! The borrowed guards of a [`Mutex`]: [`MutexGuard`] and, after
//! [`MutexGuard::map`], [`MappedMutexGuard`].

use core::fmt;
use core::marker::PhantomData;
use core::mem::ManuallyDrop;
use core::ops::{Deref, DerefMut};

use super::super::Semaphore;
use super::Mutex;

/// Access to the value of a locked [`Mutex`]; unlocks it when dropped.
///
/// It is `Send` when `T: Send` (a task holding it may move between worker
/// threads) and `Sync` only when `T` is `Send + Sync`, since sharing the
/// guard shares `&T`:
///
/// ```compile_fail
/// // A guard of a `Cell` must not be shared between threads.
/// fn sync<T: Sync>(_: &T) {}
/// let mutex = minirt_core::sync::Mutex::new(core::cell::Cell::new(1));
/// sync(&mutex.try_lock().unwrap());
/// ```
///
/// ```
/// use minirt_core::sync::Mutex;
///
/// let mutex = Mutex::new(vec![1, 2]);
/// let mut guard = mutex.try_lock().unwrap();
/// guard.push(3);
/// drop(guard); // unlocks
/// assert_eq!(mutex.into_inner(), [1, 2, 3]);
/// ```
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct MutexGuard<'a, T: ?Sized> {
    /// The locked mutex; this guard owns its one permit.
    lock: &'a Mutex<T>,
}

// SAFETY: `&MutexGuard` gives out `&T` only (`Sync` for `T: Sync`); the
// guard may be dropped on another thread, which *moves* access (`T: Send`).
// Same bounds as tokio's `MutexGuard`.
unsafe impl<T: ?Sized + Send + Sync> Sync for MutexGuard<'_, T> {}

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    /// Wraps the permit the caller just took from `lock`.
    pub(super) fn new(lock: &'a Mutex<T>) -> Self {
        Self { lock }
    }

    /// Narrows the guard to a part of the value (a field, an element), for
    /// code that should see only that part. The mutex stays locked until the
    /// mapped guard is dropped.
    ///
    /// This is an associated function (`MutexGuard::map(guard, ..)`) so that
    /// it does not shadow a method of `T`.
    ///
    /// ```
    /// use minirt_core::sync::{MappedMutexGuard, Mutex, MutexGuard};
    ///
    /// let mutex = Mutex::new((1, String::from("a")));
    /// let mut name: MappedMutexGuard<'_, String> =
    ///     MutexGuard::map(mutex.try_lock().unwrap(), |pair| &mut pair.1);
    /// name.push('b');
    /// assert!(mutex.try_lock().is_err(), "still locked");
    /// drop(name);
    /// assert_eq!(mutex.try_lock().unwrap().1, "ab");
    /// ```
    pub fn map<U: ?Sized>(this: Self, f: impl FnOnce(&mut T) -> &mut U) -> MappedMutexGuard<'a, U> {
        // SAFETY: the guard holds the permit, so this is the only access to
        // the value; the borrow lives as long as the mapped guard, which
        // takes the permit over (`this` is not dropped). If `f` panics,
        // `this` is dropped and unlocks.
        let data: *mut U = f(unsafe { &mut *this.lock.data_ptr() });
        let this = ManuallyDrop::new(this);
        MappedMutexGuard {
            sem: &this.lock.sem,
            data,
            marker: PhantomData,
        }
    }

    /// Like [`map`](Self::map), but `f` may decline (return `None`), which
    /// gives the unchanged guard back.
    ///
    /// ```
    /// use minirt_core::sync::{Mutex, MutexGuard};
    ///
    /// let mutex = Mutex::new(vec![1]);
    /// let guard = mutex.try_lock().unwrap();
    /// let guard = MutexGuard::try_map(guard, |v| v.get_mut(5)).unwrap_err();
    /// let first = MutexGuard::try_map(guard, |v| v.get_mut(0)).unwrap();
    /// assert_eq!(*first, 1);
    /// ```
    pub fn try_map<U: ?Sized>(
        this: Self,
        f: impl FnOnce(&mut T) -> Option<&mut U>,
    ) -> Result<MappedMutexGuard<'a, U>, Self> {
        // SAFETY: as in `map`; on `None` the borrow has ended and the guard
        // is returned untouched.
        let data: *mut U = match f(unsafe { &mut *this.lock.data_ptr() }) {
            Some(data) => data,
            None => return Err(this),
        };
        let this = ManuallyDrop::new(this);
        Ok(MappedMutexGuard {
            sem: &this.lock.sem,
            data,
            marker: PhantomData,
        })
    }

    /// The mutex this guard locks.
    ///
    /// ```
    /// use minirt_core::sync::{Mutex, MutexGuard};
    ///
    /// let mutex = Mutex::new(1);
    /// let guard = mutex.try_lock().unwrap();
    /// assert!(core::ptr::eq(MutexGuard::mutex(&guard), &mutex));
    /// ```
    pub fn mutex(this: &Self) -> &'a Mutex<T> {
        this.lock
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the mutex's only permit, so no `&mut T`
        // exists elsewhere; the borrow is tied to the guard.
        self.lock.value.with(|p| unsafe { &*p })
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and `&mut self` makes this access unique.
        self.lock.value.with_mut(|p| unsafe { &mut *p })
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.unlock();
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// A [`MutexGuard`] narrowed by [`MutexGuard::map`] to a part of the value;
/// unlocks the mutex when dropped.
///
/// ```
/// use minirt_core::sync::{MappedMutexGuard, Mutex, MutexGuard};
///
/// let mutex = Mutex::new([0u8; 4]);
/// let mut last = MutexGuard::map(mutex.try_lock().unwrap(), |a| &mut a[3]);
/// *last = 9;
/// let last = MappedMutexGuard::map(last, |b| b); // maps again
/// drop(last);
/// assert_eq!(mutex.into_inner(), [0, 0, 0, 9]);
/// ```
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct MappedMutexGuard<'a, T: ?Sized> {
    /// The locked mutex's semaphore; this guard owns its one permit.
    sem: &'a Semaphore,
    /// The part of the value this guard gives access to.
    data: *mut T,
    /// Borrows the value mutably for `'a`.
    marker: PhantomData<&'a mut T>,
}

// SAFETY: the guard gives `&T` to whoever shares it (`T: Sync`) and moves
// exclusive access (`T: Send`) when sent; the permit it owns is a plain
// count. Same bounds as tokio's `MappedMutexGuard`.
unsafe impl<'a, T: ?Sized + Sync + 'a> Sync for MappedMutexGuard<'a, T> {}
// SAFETY: see the `Sync` impl.
unsafe impl<'a, T: ?Sized + Send + 'a> Send for MappedMutexGuard<'a, T> {}

impl<'a, T: ?Sized> MappedMutexGuard<'a, T> {
    /// Narrows the guard further (see [`MutexGuard::map`]).
    ///
    /// ```
    /// use minirt_core::sync::{MappedMutexGuard, Mutex, MutexGuard};
    ///
    /// let mutex = Mutex::new(((1, 2), 3));
    /// let inner = MutexGuard::map(mutex.try_lock().unwrap(), |t| &mut t.0);
    /// let second = MappedMutexGuard::map(inner, |p| &mut p.1);
    /// assert_eq!(*second, 2);
    /// ```
    pub fn map<U: ?Sized>(this: Self, f: impl FnOnce(&mut T) -> &mut U) -> MappedMutexGuard<'a, U> {
        // SAFETY: the guard owns the permit and `data` points into the
        // locked value; the new guard takes the permit over (if `f` panics,
        // `this` is dropped and unlocks).
        let data: *mut U = f(unsafe { &mut *this.data });
        let this = ManuallyDrop::new(this);
        MappedMutexGuard {
            sem: this.sem,
            data,
            marker: PhantomData,
        }
    }

    /// Like [`map`](Self::map), but `f` may decline, giving the guard back.
    ///
    /// ```
    /// use minirt_core::sync::{MappedMutexGuard, Mutex, MutexGuard};
    ///
    /// let mutex = Mutex::new((vec![1], 0));
    /// let v = MutexGuard::map(mutex.try_lock().unwrap(), |t| &mut t.0);
    /// assert!(MappedMutexGuard::try_map(v, |v| v.get_mut(3)).is_err());
    /// ```
    pub fn try_map<U: ?Sized>(
        this: Self,
        f: impl FnOnce(&mut T) -> Option<&mut U>,
    ) -> Result<MappedMutexGuard<'a, U>, Self> {
        // SAFETY: as in `map`; on `None` the borrow has ended.
        let data: *mut U = match f(unsafe { &mut *this.data }) {
            Some(data) => data,
            None => return Err(this),
        };
        let this = ManuallyDrop::new(this);
        Ok(MappedMutexGuard {
            sem: this.sem,
            data,
            marker: PhantomData,
        })
    }
}

impl<T: ?Sized> Deref for MappedMutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard owns the mutex's permit; `data` points into the
        // locked value.
        unsafe { &*self.data }
    }
}

impl<T: ?Sized> DerefMut for MappedMutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and `&mut self` makes this access unique.
        unsafe { &mut *self.data }
    }
}

impl<T: ?Sized> Drop for MappedMutexGuard<'_, T> {
    fn drop(&mut self) {
        self.sem.add_permits(1);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MappedMutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MappedMutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}
