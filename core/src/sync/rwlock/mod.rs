//! The async, fair reader-writer lock, [`RwLock`].
//!
//! How (tokio's design): a FIFO [`Semaphore`] with `max_readers` permits
//! guards an [`UnsafeCell`]. A reader takes one permit, a writer takes all
//! of them in **one** request. Because the semaphore serves requests
//! strictly in arrival order, including requests for many permits, a writer
//! at the head of the queue holds back every reader that arrives after it:
//! the readers already inside drain out, their permits collect for the
//! writer, and only then do the later readers get in. So a stream of
//! readers cannot starve a writer, and a writer cannot starve the readers
//! queued before it.
//!
//! Everything else — the lock-free fast path while nobody waits, O(1)
//! cancellation that passes permits granted to a dropped waiter on, the
//! cooperative budget — comes from the semaphore too.

mod read_guard;
#[cfg(all(test, not(loom)))]
mod tests;
mod write_guard;

use core::fmt;

use alloc::sync::Arc;

pub use read_guard::{OwnedRwLockReadGuard, RwLockReadGuard};
pub use write_guard::{OwnedRwLockWriteGuard, RwLockMappedWriteGuard, RwLockWriteGuard};

use super::{Semaphore, TryLockError};
use crate::loom::UnsafeCell;
use crate::task::WaitKind;

/// The most readers a lock may admit at once (`u32::MAX >> 3`, as tokio).
const MAX_READS: u32 = u32::MAX >> 3;

/// An async reader-writer lock: any number of readers, or one writer, at a
/// time; the others wait without blocking their thread.
///
/// Why: to share state that is read much more often than it is written,
/// when the critical sections `.await`.
///
/// - **Fair, writers are not starved.** Lock requests are served strictly
///   in arrival order: a queued writer holds back readers that come after
///   it, so a steady stream of readers cannot keep it out (see the module
///   source for how).
/// - **No poisoning** (as tokio): a panic while a guard is held just
///   releases it.
/// - **`no_std`**: works with `alloc` only; no `blocking_read`/`blocking_write`.
///
/// # Examples
///
/// ```
/// use minirt_core::executor::LocalExecutor;
/// use minirt_core::sync::RwLock;
///
/// let lock = RwLock::new(5);
/// LocalExecutor::new().block_on(
///     async {
///         {
///             let (r1, r2) = (lock.read().await, lock.read().await);
///             assert_eq!(*r1 + *r2, 10); // many readers at once
///         }
///         *lock.write().await += 1; // one writer
///     },
///     || {},
/// );
/// assert_eq!(lock.into_inner(), 6);
/// ```
pub struct RwLock<T: ?Sized> {
    /// Permits a writer takes: all of them.
    max_readers: u32,
    /// `max_readers` permits: a reader holds one, a writer all.
    sem: Semaphore,
    /// The protected value.
    value: UnsafeCell<T>,
}

// SAFETY: moving the lock moves the `T`.
unsafe impl<T: ?Sized + Send> Send for RwLock<T> {}
// SAFETY: readers on several threads share `&T` (`T: Sync`) and a writer
// may be on any thread (`T: Send`), as for `std::sync::RwLock`.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLock<T> {}

impl<T> RwLock<T> {
    /// Creates an unlocked lock holding `value`, admitting up to
    /// `u32::MAX >> 3` readers at once.
    ///
    /// It is a `const fn`, so a lock can be a `static`:
    ///
    /// ```
    /// use minirt_core::sync::RwLock;
    ///
    /// static CONFIG: RwLock<u32> = RwLock::new(1);
    /// assert_eq!(*CONFIG.try_read().unwrap(), 1);
    /// ```
    #[cfg(not(loom))]
    pub const fn new(value: T) -> Self {
        Self::with_max_readers(value, MAX_READS)
    }

    /// Creates an unlocked lock holding `value`.
    #[cfg(loom)]
    pub fn new(value: T) -> Self {
        Self::with_max_readers(value, MAX_READS)
    }

    /// Creates an unlocked lock that admits at most `max_readers` readers
    /// at once; further readers wait as if a writer held the lock.
    ///
    /// ```
    /// use minirt_core::sync::RwLock;
    ///
    /// let lock = RwLock::with_max_readers((), 2);
    /// let (_a, _b) = (lock.try_read().unwrap(), lock.try_read().unwrap());
    /// assert!(lock.try_read().is_err(), "a third reader must wait");
    /// ```
    ///
    /// # Panics
    ///
    /// If `max_readers` is 0 or more than `u32::MAX >> 3`.
    #[cfg(not(loom))]
    pub const fn with_max_readers(value: T, max_readers: u32) -> Self {
        assert!(
            max_readers != 0,
            "RwLock::with_max_readers: a RwLock must admit at least 1 reader"
        );
        assert!(
            max_readers <= MAX_READS,
            "RwLock::with_max_readers: at most u32::MAX >> 3 readers"
        );
        Self {
            max_readers,
            sem: Semaphore::new(max_readers as usize),
            value: UnsafeCell::new(value),
        }
    }

    /// Creates an unlocked lock that admits at most `max_readers` readers.
    #[cfg(loom)]
    pub fn with_max_readers(value: T, max_readers: u32) -> Self {
        assert!(
            max_readers != 0,
            "RwLock::with_max_readers: a RwLock must admit at least 1 reader"
        );
        assert!(
            max_readers <= MAX_READS,
            "RwLock::with_max_readers: at most u32::MAX >> 3 readers"
        );
        Self {
            max_readers,
            sem: Semaphore::new(max_readers as usize),
            value: UnsafeCell::new(value),
        }
    }

    /// tokio's name for the `const` constructor; the same as
    /// [`new`](Self::new), which is `const` here.
    ///
    /// ```
    /// use minirt_core::sync::RwLock;
    ///
    /// static TABLE: RwLock<[u8; 2]> = RwLock::const_new([1, 2]);
    /// assert_eq!(TABLE.try_read().unwrap()[1], 2);
    /// ```
    #[cfg(not(loom))]
    pub const fn const_new(value: T) -> Self {
        Self::new(value)
    }

    /// tokio's name for the `const` version of
    /// [`with_max_readers`](Self::with_max_readers), which is `const` here.
    ///
    /// ```
    /// use minirt_core::sync::RwLock;
    ///
    /// static FEW: RwLock<()> = RwLock::const_with_max_readers((), 1);
    /// let _r = FEW.try_read().unwrap();
    /// assert!(FEW.try_read().is_err());
    /// ```
    ///
    /// # Panics
    ///
    /// As [`with_max_readers`](Self::with_max_readers).
    #[cfg(not(loom))]
    pub const fn const_with_max_readers(value: T, max_readers: u32) -> Self {
        Self::with_max_readers(value, max_readers)
    }

    /// Consumes the lock and returns the value.
    ///
    /// ```
    /// use minirt_core::sync::RwLock;
    ///
    /// assert_eq!(RwLock::new("v").into_inner(), "v");
    /// ```
    pub fn into_inner(self) -> T {
        let Self { value, .. } = self;
        value.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Waits until no writer holds or is queued ahead of this call, then
    /// locks for reading; the guard unlocks when dropped.
    ///
    /// # Cancellation safety
    ///
    /// Dropping the future before it completes gives up its place in the
    /// queue; if the read lock had already been handed to it, it is passed
    /// on (to a writer waiting behind, say). Nothing is lost, but a retry
    /// queues at the back.
    ///
    /// ```
    /// use minirt_core::executor::LocalExecutor;
    /// use minirt_core::sync::RwLock;
    ///
    /// let lock = RwLock::new(vec![1]);
    /// let len = LocalExecutor::new().block_on(async { lock.read().await.len() }, || {});
    /// assert_eq!(len, 1);
    /// ```
    pub async fn read(&self) -> RwLockReadGuard<'_, T> {
        self.acquire(1, WaitKind::RwLockRead).await;
        RwLockReadGuard::new(&self.sem, self.data_ptr())
    }

    /// Owned version of [`read`](Self::read): the guard holds an [`Arc`] of
    /// the lock, so it can move into a spawned task.
    ///
    /// # Cancellation safety
    ///
    /// As for [`read`](Self::read).
    ///
    /// ```
    /// use alloc::sync::Arc;
    /// # extern crate alloc;
    /// use minirt_core::executor::LocalExecutor;
    /// use minirt_core::sync::RwLock;
    ///
    /// let lock = Arc::new(RwLock::new(2));
    /// let guard = LocalExecutor::new().block_on(Arc::clone(&lock).read_owned(), || {});
    /// assert_eq!(*guard, 2);
    /// assert!(lock.try_write().is_err());
    /// ```
    pub async fn read_owned(self: Arc<Self>) -> OwnedRwLockReadGuard<T> {
        self.acquire(1, WaitKind::RwLockRead).await;
        OwnedRwLockReadGuard::new(self)
    }

    /// Waits until this call is first in line and no reader or writer holds
    /// the lock, then locks for writing; the guard unlocks when dropped.
    /// While it waits, readers that arrive later queue behind it.
    ///
    /// # Cancellation safety
    ///
    /// Dropping the future before it completes gives up its place in the
    /// queue, which lets the readers queued behind it in; permits already
    /// collected for it go on to the next waiters. Nothing is lost.
    ///
    /// ```
    /// use minirt_core::executor::LocalExecutor;
    /// use minirt_core::sync::RwLock;
    ///
    /// let lock = RwLock::new(1);
    /// LocalExecutor::new().block_on(async { *lock.write().await *= 10 }, || {});
    /// assert_eq!(lock.into_inner(), 10);
    /// ```
    pub async fn write(&self) -> RwLockWriteGuard<'_, T> {
        self.acquire(self.max_readers, WaitKind::RwLockWrite).await;
        RwLockWriteGuard::new(&self.sem, self.data_ptr(), self.max_readers)
    }

    /// Owned version of [`write`](Self::write).
    ///
    /// # Cancellation safety
    ///
    /// As for [`write`](Self::write).
    ///
    /// ```
    /// use alloc::sync::Arc;
    /// # extern crate alloc;
    /// use minirt_core::executor::LocalExecutor;
    /// use minirt_core::sync::RwLock;
    ///
    /// let lock = Arc::new(RwLock::new(2));
    /// let mut guard = LocalExecutor::new().block_on(Arc::clone(&lock).write_owned(), || {});
    /// *guard = 3;
    /// drop(guard);
    /// assert_eq!(*lock.try_read().unwrap(), 3);
    /// ```
    pub async fn write_owned(self: Arc<Self>) -> OwnedRwLockWriteGuard<T> {
        self.acquire(self.max_readers, WaitKind::RwLockWrite).await;
        OwnedRwLockWriteGuard::new(self)
    }

    /// Locks for reading if no writer holds the lock and nobody is queued.
    ///
    /// ```
    /// use minirt_core::sync::RwLock;
    ///
    /// let lock = RwLock::new(1);
    /// let w = lock.try_write().unwrap();
    /// assert!(lock.try_read().is_err());
    /// drop(w);
    /// assert!(lock.try_read().is_ok());
    /// ```
    pub fn try_read(&self) -> Result<RwLockReadGuard<'_, T>, TryLockError> {
        self.try_acquire(1)?;
        Ok(RwLockReadGuard::new(&self.sem, self.data_ptr()))
    }

    /// Owned version of [`try_read`](Self::try_read).
    ///
    /// ```
    /// use alloc::sync::Arc;
    /// # extern crate alloc;
    /// use minirt_core::sync::RwLock;
    ///
    /// let lock = Arc::new(RwLock::new(1));
    /// assert_eq!(*Arc::clone(&lock).try_read_owned().unwrap(), 1);
    /// ```
    pub fn try_read_owned(self: Arc<Self>) -> Result<OwnedRwLockReadGuard<T>, TryLockError> {
        self.try_acquire(1)?;
        Ok(OwnedRwLockReadGuard::new(self))
    }

    /// Locks for writing if nobody holds the lock and nobody is queued.
    ///
    /// ```
    /// use minirt_core::sync::RwLock;
    ///
    /// let lock = RwLock::new(1);
    /// let r = lock.try_read().unwrap();
    /// assert!(lock.try_write().is_err());
    /// drop(r);
    /// assert!(lock.try_write().is_ok());
    /// ```
    pub fn try_write(&self) -> Result<RwLockWriteGuard<'_, T>, TryLockError> {
        self.try_acquire(self.max_readers)?;
        Ok(RwLockWriteGuard::new(
            &self.sem,
            self.data_ptr(),
            self.max_readers,
        ))
    }

    /// Owned version of [`try_write`](Self::try_write).
    ///
    /// ```
    /// use alloc::sync::Arc;
    /// # extern crate alloc;
    /// use minirt_core::sync::RwLock;
    ///
    /// let lock = Arc::new(RwLock::new(1));
    /// *Arc::clone(&lock).try_write_owned().unwrap() = 2;
    /// assert_eq!(*lock.try_read().unwrap(), 2);
    /// ```
    pub fn try_write_owned(self: Arc<Self>) -> Result<OwnedRwLockWriteGuard<T>, TryLockError> {
        self.try_acquire(self.max_readers)?;
        Ok(OwnedRwLockWriteGuard::new(self))
    }

    /// A mutable reference to the value: `&mut self` proves no guard
    /// exists, so no locking is needed.
    ///
    /// ```
    /// use minirt_core::sync::RwLock;
    ///
    /// let mut lock = RwLock::new(1);
    /// *lock.get_mut() += 1;
    /// assert_eq!(lock.into_inner(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        // SAFETY: `&mut self` excludes every guard (they borrow the lock or
        // hold an `Arc` of it).
        self.value.with_mut(|p| unsafe { &mut *p })
    }

    /// Waits for `n` permits and keeps them (the guard gives them back);
    /// a dump shows the waiter as waiting in `kind` (a read or a write).
    async fn acquire(&self, n: u32, kind: WaitKind) {
        match self.sem.acquire_many_as(n, kind).await {
            Ok(permit) => permit.forget(),
            Err(_) => unreachable!("a RwLock's semaphore is never closed"),
        }
    }

    /// Takes `n` permits without waiting, if fairness allows.
    fn try_acquire(&self, n: u32) -> Result<(), TryLockError> {
        match self.sem.try_acquire_many(n) {
            Ok(permit) => {
                permit.forget();
                Ok(())
            }
            Err(_) => Err(TryLockError::new()),
        }
    }

    /// A raw pointer to the value; only a permit holder may dereference it.
    fn data_ptr(&self) -> *mut T {
        self.value.with_mut(|p| p)
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T> From<T> for RwLock<T> {
    fn from(value: T) -> Self {
        Self::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    /// Shows the value if it can be read right now, else `<locked>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RwLock");
        match self.try_read() {
            Ok(guard) => d.field("data", &&*guard),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.field("max_readers", &self.max_readers).finish()
    }
}
