//! The async, FIFO-fair mutual-exclusion lock, [`Mutex`].
//!
//! How: a [`Semaphore`] with one permit guards an [`UnsafeCell`]. Locking
//! is acquiring that permit, unlocking is releasing it; everything the
//! semaphore promises — strict FIFO hand-over, no queue jumping by
//! `try_lock`, a lock-free fast path while nobody waits, O(1) cancellation
//! that passes a permit granted to a dropped waiter on to the next one, the
//! cooperative budget — therefore holds for the mutex too. The guards only
//! remember where to give the permit back.

mod guard;
mod owned;
#[cfg(all(test, not(loom)))]
mod tests;

use core::fmt;

use alloc::sync::Arc;

pub use guard::{MappedMutexGuard, MutexGuard};
pub use owned::OwnedMutexGuard;

use super::{Semaphore, TryLockError};
use crate::loom::UnsafeCell;
use crate::task::WaitKind;

/// An async mutex: one task at a time gets access to the `T` inside, and
/// the others wait without blocking their thread.
///
/// Why: to share mutable state between tasks when the critical section
/// must `.await` (a `std` mutex held across an `.await` blocks the worker
/// thread, and its guard is not `Send`). If the critical section never
/// awaits, a plain blocking mutex is cheaper.
///
/// - **Fair.** Waiters get the lock strictly in the order they called
///   [`lock`](Self::lock); an unlock hands it straight to the oldest waiter,
///   and [`try_lock`](Self::try_lock) fails while anyone is queued.
/// - **No poisoning** (as tokio): if a task panics while holding the guard,
///   the guard's drop unlocks the mutex and the next waiter gets it. The
///   data may then be half-updated; check it if that matters.
/// - **`no_std`**: works with `alloc` only. There is no `blocking_lock` here
///   (it needs threads to park).
///
/// # Examples
///
/// ```
/// use alloc::sync::Arc;
/// # extern crate alloc;
/// use minirt_core::executor::LocalExecutor;
/// use minirt_core::sync::Mutex;
///
/// let ex = LocalExecutor::new();
/// let count = Arc::new(Mutex::new(0));
/// let tasks: Vec<_> = (0..3)
///     .map(|_| {
///         let count = Arc::clone(&count);
///         ex.spawn(async move {
///             let mut guard = count.lock().await;
///             minirt_core::future::yield_now().await; // still held: others wait
///             *guard += 1;
///         })
///     })
///     .collect();
/// ex.block_on(async { for t in tasks { t.await.unwrap(); } }, || {});
/// assert_eq!(*count.try_lock().unwrap(), 3);
/// ```
pub struct Mutex<T: ?Sized> {
    /// One permit: whoever holds it may touch `value`.
    sem: Semaphore,
    /// The protected value.
    value: UnsafeCell<T>,
}

// SAFETY: moving the mutex moves the `T`.
unsafe impl<T: ?Sized + Send> Send for Mutex<T> {}
// SAFETY: the permit hands out access to `T` to one task at a time, so
// sharing the mutex only ever *moves* access to the `T` between threads:
// `T: Send` is enough, as for `std::sync::Mutex`.
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}

impl<T> Mutex<T> {
    /// Creates an unlocked mutex holding `value`.
    ///
    /// It is a `const fn`, so a mutex can be a `static`:
    ///
    /// ```
    /// use minirt_core::sync::Mutex;
    ///
    /// static NEXT_ID: Mutex<u64> = Mutex::new(1);
    /// assert_eq!(*NEXT_ID.try_lock().unwrap(), 1);
    /// ```
    #[cfg(not(loom))]
    pub const fn new(value: T) -> Self {
        Self {
            sem: Semaphore::new(1),
            value: UnsafeCell::new(value),
        }
    }

    /// Creates an unlocked mutex holding `value`.
    #[cfg(loom)]
    pub fn new(value: T) -> Self {
        Self {
            sem: Semaphore::new(1),
            value: UnsafeCell::new(value),
        }
    }

    /// tokio's name for the `const` constructor; the same as
    /// [`new`](Self::new), which is `const` here.
    ///
    /// ```
    /// use minirt_core::sync::Mutex;
    ///
    /// static COUNT: Mutex<u32> = Mutex::const_new(0);
    /// assert_eq!(*COUNT.try_lock().unwrap(), 0);
    /// ```
    #[cfg(not(loom))]
    pub const fn const_new(value: T) -> Self {
        Self::new(value)
    }

    /// Consumes the mutex and returns the value: no other task can hold it,
    /// so no locking is needed.
    ///
    /// ```
    /// use minirt_core::sync::Mutex;
    ///
    /// assert_eq!(Mutex::new(vec![1]).into_inner(), [1]);
    /// ```
    pub fn into_inner(self) -> T {
        let Self { value, .. } = self;
        value.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Waits until the lock is free and this caller is first in line, then
    /// locks it; the guard unlocks it when dropped.
    ///
    /// # Cancellation safety
    ///
    /// Dropping the future before it completes gives up its place in the
    /// queue and nothing else: if the lock had already been handed to it,
    /// the lock goes on to the next waiter (or becomes free). So using
    /// `lock()` in a `select!` or under a timeout loses nothing — but a
    /// retried `lock()` joins the queue at the back.
    ///
    /// ```
    /// use minirt_core::executor::LocalExecutor;
    /// use minirt_core::sync::Mutex;
    ///
    /// let mutex = Mutex::new(String::new());
    /// LocalExecutor::new().block_on(
    ///     async {
    ///         mutex.lock().await.push_str("hello");
    ///     },
    ///     || {},
    /// );
    /// assert_eq!(mutex.into_inner(), "hello");
    /// ```
    pub async fn lock(&self) -> MutexGuard<'_, T> {
        self.acquire().await;
        MutexGuard::new(self)
    }

    /// Like [`lock`](Self::lock), but the guard keeps the mutex alive
    /// through the [`Arc`], so it is `'static` and can move into a spawned
    /// task.
    ///
    /// # Cancellation safety
    ///
    /// As for [`lock`](Self::lock): a dropped future gives up its place in
    /// the queue, and a lock already handed to it goes to the next waiter.
    ///
    /// ```
    /// use alloc::sync::Arc;
    /// # extern crate alloc;
    /// use minirt_core::executor::LocalExecutor;
    /// use minirt_core::sync::{Mutex, OwnedMutexGuard};
    ///
    /// let mutex = Arc::new(Mutex::new(1));
    /// let guard: OwnedMutexGuard<i32> =
    ///     LocalExecutor::new().block_on(Arc::clone(&mutex).lock_owned(), || {});
    /// assert!(mutex.try_lock().is_err());
    /// drop(guard);
    /// assert!(mutex.try_lock().is_ok());
    /// ```
    pub async fn lock_owned(self: Arc<Self>) -> OwnedMutexGuard<T> {
        self.acquire().await;
        OwnedMutexGuard::new(self)
    }

    /// Locks the mutex if it is free and nobody is queued for it.
    ///
    /// It never jumps the queue: while any `lock()` is waiting it fails,
    /// even at the instant the lock is being handed over.
    ///
    /// ```
    /// use minirt_core::sync::Mutex;
    ///
    /// let mutex = Mutex::new(1);
    /// let guard = mutex.try_lock().unwrap();
    /// assert!(mutex.try_lock().is_err());
    /// drop(guard);
    /// assert!(mutex.try_lock().is_ok());
    /// ```
    pub fn try_lock(&self) -> Result<MutexGuard<'_, T>, TryLockError> {
        self.try_acquire()?;
        Ok(MutexGuard::new(self))
    }

    /// Owned version of [`try_lock`](Self::try_lock).
    ///
    /// ```
    /// use alloc::sync::Arc;
    /// # extern crate alloc;
    /// use minirt_core::sync::Mutex;
    ///
    /// let mutex = Arc::new(Mutex::new(1));
    /// let guard = Arc::clone(&mutex).try_lock_owned().unwrap();
    /// assert!(Arc::clone(&mutex).try_lock_owned().is_err());
    /// drop(guard);
    /// ```
    pub fn try_lock_owned(self: Arc<Self>) -> Result<OwnedMutexGuard<T>, TryLockError> {
        self.try_acquire()?;
        Ok(OwnedMutexGuard::new(self))
    }

    /// A mutable reference to the value: `&mut self` proves nobody else
    /// holds the lock, so no locking is needed.
    ///
    /// ```
    /// use minirt_core::sync::Mutex;
    ///
    /// let mut mutex = Mutex::new(1);
    /// *mutex.get_mut() = 2;
    /// assert_eq!(mutex.into_inner(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        // SAFETY: `&mut self` excludes every guard (they borrow the mutex
        // or hold an `Arc` to it, which would make `&mut` impossible).
        self.value.with_mut(|p| unsafe { &mut *p })
    }

    /// Waits for the one permit and keeps it (the guard gives it back).
    async fn acquire(&self) {
        match self.sem.acquire_many_as(1, WaitKind::Mutex).await {
            Ok(permit) => permit.forget(),
            Err(_) => unreachable!("a Mutex's semaphore is never closed"),
        }
    }

    /// Takes the one permit without waiting, if fairness allows.
    fn try_acquire(&self) -> Result<(), TryLockError> {
        match self.sem.try_acquire() {
            Ok(permit) => {
                permit.forget();
                Ok(())
            }
            Err(_) => Err(TryLockError::new()),
        }
    }

    /// Gives the permit back: the next waiter, if any, now holds the lock.
    fn unlock(&self) {
        self.sem.add_permits(1);
    }

    /// A raw pointer to the value; only a lock holder may dereference it.
    fn data_ptr(&self) -> *mut T {
        self.value.with_mut(|p| p)
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(value: T) -> Self {
        Self::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    /// Shows the value if the lock is free right now, else `<locked>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        match self.try_lock() {
            Ok(guard) => d.field("data", &&*guard),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}
