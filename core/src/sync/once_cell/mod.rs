//! The async lazily-initialised cell, [`OnceCell`].
//!
//! How (tokio's design): a [`Semaphore`] with one permit is the *right to
//! initialise*. Whoever finds the cell empty queues for the permit; the one
//! that gets it runs its initialiser, writes the value, sets `value_set`
//! and **closes** the semaphore, which fails every queued and later acquire:
//! "closed" means "the value is there". If the initialiser fails, panics or
//! is dropped, its permit goes back to the semaphore and, FIFO, to the next
//! waiter, which runs *its* initialiser. So exactly one initialiser runs at
//! a time, and nothing waits for an initialiser that gave up.
//!
//! Memory ordering: the value is written before the `Release` store of
//! `value_set` and before `close` (a read-modify-write of the semaphore's
//! word, under its lock). A reader that sees `value_set` with `Acquire`, or
//! learns of the close (from the word with `Acquire`, or under the lock),
//! therefore sees the value.

mod error;
#[cfg(all(test, not(loom)))]
mod tests;

use core::fmt;
use core::future::Future;
use core::mem::MaybeUninit;

pub use error::SetError;

use super::{Semaphore, SemaphorePermit, TryAcquireError};
use crate::loom::atomic::{AtomicBool, Ordering::*};
use crate::loom::UnsafeCell;

/// A cell written at most once, whose initialiser may `.await`; tasks that
/// need the value meanwhile wait for it without blocking their thread.
///
/// Why: lazily set up something shared and expensive (a connection pool, a
/// parsed configuration) on first use, exactly once, even when many tasks
/// ask for it at the same time.
///
/// - **One initialiser at a time.** Concurrent [`get_or_init`](Self::get_or_init)
///   calls queue (FIFO); the first runs its function, the others wait and
///   then return the value it produced without running theirs.
/// - **A failed, panicking or cancelled initialiser lets the next try**:
///   the next queued caller runs its own function.
///
/// # Examples
///
/// ```
/// use minirt_core::executor::LocalExecutor;
/// use minirt_core::sync::OnceCell;
///
/// static CONFIG: OnceCell<String> = OnceCell::new();
///
/// async fn config() -> &'static str {
///     CONFIG
///         .get_or_init(|| async {
///             minirt_core::future::yield_now().await; // e.g. read a file
///             String::from("debug=1")
///         })
///         .await
/// }
///
/// let ex = LocalExecutor::new();
/// let value = ex.block_on(async { (config().await, config().await) }, || {});
/// assert_eq!(value, ("debug=1", "debug=1"));
/// ```
pub struct OnceCell<T> {
    /// Set (with `Release`) once `value` holds a value; cleared only
    /// through `&mut self`.
    value_set: AtomicBool,
    /// The value, initialised iff `value_set`.
    value: UnsafeCell<MaybeUninit<T>>,
    /// One permit: the right to initialise. Closed once the value is set.
    sem: Semaphore,
}

// SAFETY: the cell hands out `&T` to every thread that shares it (`T:
// Sync`) and the value is written by (and may be dropped by) any thread
// (`T: Send`), as for `std::sync::OnceLock`.
unsafe impl<T: Send + Sync> Sync for OnceCell<T> {}
// SAFETY: moving the cell moves the `T`.
unsafe impl<T: Send> Send for OnceCell<T> {}

impl<T> OnceCell<T> {
    /// Creates an empty cell.
    ///
    /// It is a `const fn`, so a cell can be a `static` (see the type's
    /// example).
    ///
    /// ```
    /// use minirt_core::sync::OnceCell;
    ///
    /// let cell = OnceCell::<u32>::new();
    /// assert!(!cell.initialized());
    /// ```
    #[cfg(not(loom))]
    pub const fn new() -> Self {
        Self {
            value_set: AtomicBool::new(false),
            value: UnsafeCell::new(MaybeUninit::uninit()),
            sem: Semaphore::new(1),
        }
    }

    /// Creates an empty cell.
    #[cfg(loom)]
    pub fn new() -> Self {
        Self {
            value_set: AtomicBool::new(false),
            value: UnsafeCell::new(MaybeUninit::uninit()),
            sem: Semaphore::new(1),
        }
    }

    /// tokio's name for the `const` constructor; the same as
    /// [`new`](Self::new), which is `const` here.
    ///
    /// ```
    /// use minirt_core::sync::OnceCell;
    ///
    /// static CELL: OnceCell<u8> = OnceCell::const_new();
    /// assert!(CELL.set(1).is_ok());
    /// ```
    #[cfg(not(loom))]
    pub const fn const_new() -> Self {
        Self::new()
    }

    /// A cell that already holds `value`, usable in a `static`.
    ///
    /// ```
    /// use minirt_core::sync::OnceCell;
    ///
    /// static NAME: OnceCell<&str> = OnceCell::const_new_with("minirt");
    /// assert_eq!(NAME.get(), Some(&"minirt"));
    /// assert!(NAME.set("other").unwrap_err().is_already_init_err());
    /// ```
    #[cfg(not(loom))]
    pub const fn const_new_with(value: T) -> Self {
        Self {
            value_set: AtomicBool::new(true),
            value: UnsafeCell::new(MaybeUninit::new(value)),
            // Never asked while `value_set` is true (every path checks it
            // first); `take` puts a fresh one-permit semaphore back.
            sem: Semaphore::new(0),
        }
    }

    /// Creates a cell holding `value`, or an empty one for `None`.
    ///
    /// ```
    /// use minirt_core::sync::OnceCell;
    ///
    /// assert_eq!(OnceCell::new_with(Some(3)).get(), Some(&3));
    /// assert_eq!(OnceCell::<u8>::new_with(None).get(), None);
    /// ```
    pub fn new_with(value: Option<T>) -> Self {
        let cell = Self::new();
        if let Some(value) = value {
            match cell.sem.try_acquire() {
                Ok(permit) => {
                    cell.set_value(value, permit);
                }
                Err(_) => unreachable!("a new OnceCell's permit is free"),
            }
        }
        cell
    }

    /// Whether the cell holds a value (an initialiser has finished).
    ///
    /// ```
    /// use minirt_core::sync::OnceCell;
    ///
    /// let cell = OnceCell::new();
    /// assert!(!cell.initialized());
    /// cell.set(1).unwrap();
    /// assert!(cell.initialized());
    /// ```
    pub fn initialized(&self) -> bool {
        self.value_set.load(Acquire)
    }

    /// The value, if the cell holds one; never waits.
    ///
    /// ```
    /// use minirt_core::sync::OnceCell;
    ///
    /// let cell = OnceCell::new();
    /// assert_eq!(cell.get(), None);
    /// cell.set("v").unwrap();
    /// assert_eq!(cell.get(), Some(&"v"));
    /// ```
    pub fn get(&self) -> Option<&T> {
        if self.initialized() {
            // SAFETY: `value_set` was seen with `Acquire`, so the value it
            // publishes is written and is never written again.
            Some(unsafe { self.get_unchecked() })
        } else {
            None
        }
    }

    /// The value, mutably, if the cell holds one: `&mut self` proves nobody
    /// else looks.
    ///
    /// ```
    /// use minirt_core::sync::OnceCell;
    ///
    /// let mut cell = OnceCell::new_with(Some(1));
    /// *cell.get_mut().unwrap() += 1;
    /// assert_eq!(cell.get(), Some(&2));
    /// ```
    pub fn get_mut(&mut self) -> Option<&mut T> {
        if self.initialized() {
            // SAFETY: initialised (see `get`); `&mut self` makes the access
            // unique.
            Some(self.value.with_mut(|p| unsafe { (*p).assume_init_mut() }))
        } else {
            None
        }
    }

    /// Stores `value` if the cell is empty and nobody is initialising it;
    /// otherwise gives `value` back in the error.
    ///
    /// ```
    /// use minirt_core::sync::{OnceCell, SetError};
    ///
    /// let cell = OnceCell::new();
    /// assert_eq!(cell.set(1), Ok(()));
    /// assert_eq!(cell.set(2), Err(SetError::AlreadyInitializedError(2)));
    /// ```
    pub fn set(&self, value: T) -> Result<(), SetError<T>> {
        if self.initialized() {
            return Err(SetError::AlreadyInitializedError(value));
        }
        match self.sem.try_acquire() {
            Ok(permit) => {
                self.set_value(value, permit);
                Ok(())
            }
            Err(TryAcquireError::Closed) => Err(SetError::AlreadyInitializedError(value)),
            Err(TryAcquireError::NoPermits) => Err(SetError::InitializingError(value)),
        }
    }

    /// The value; if the cell is empty, runs `f` to produce it first —
    /// unless another call is already initialising it, in which case this
    /// waits (FIFO) and returns what that call produced.
    ///
    /// # Cancellation safety
    ///
    /// Dropping the future while it waits gives up its place in the queue.
    /// Dropping it while its `f` runs drops that future: the cell stays
    /// empty and the next waiter runs its own `f`. Nothing is lost, and no
    /// waiter is left waiting for an initialiser that is gone. (A panic in
    /// `f` has the same effect.)
    ///
    /// ```
    /// use minirt_core::executor::LocalExecutor;
    /// use minirt_core::sync::OnceCell;
    ///
    /// let cell = OnceCell::new();
    /// let ex = LocalExecutor::new();
    /// let first = ex.block_on(cell.get_or_init(|| async { 1 }), || {});
    /// let second = ex.block_on(cell.get_or_init(|| async { 2 }), || {});
    /// assert_eq!((*first, *second), (1, 1), "the second function never ran");
    /// ```
    pub async fn get_or_init<F, Fut>(&self, f: F) -> &T
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        if let Some(value) = self.get() {
            return value;
        }
        match self.sem.acquire().await {
            Ok(permit) => {
                let value = f().await;
                self.set_value(value, permit)
            }
            Err(_) => self.get_after_close(),
        }
    }

    /// Like [`get_or_init`](Self::get_or_init), but `f` may fail: then the
    /// cell stays empty, the error is returned, and the next waiter runs
    /// its own `f`.
    ///
    /// # Cancellation safety
    ///
    /// As for [`get_or_init`](Self::get_or_init).
    ///
    /// ```
    /// use minirt_core::executor::LocalExecutor;
    /// use minirt_core::sync::OnceCell;
    ///
    /// let cell = OnceCell::new();
    /// let ex = LocalExecutor::new();
    /// let failed = ex.block_on(cell.get_or_try_init(|| async { Err("down") }), || {});
    /// assert_eq!(failed, Err("down"));
    /// assert!(!cell.initialized());
    /// let ok = ex.block_on(cell.get_or_try_init(|| async { Ok::<_, &str>(5) }), || {});
    /// assert_eq!(ok, Ok(&5));
    /// ```
    pub async fn get_or_try_init<E, F, Fut>(&self, f: F) -> Result<&T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        if let Some(value) = self.get() {
            return Ok(value);
        }
        match self.sem.acquire().await {
            Ok(permit) => {
                // On `Err` the permit drops here: the next waiter tries.
                let value = f().await?;
                Ok(self.set_value(value, permit))
            }
            Err(_) => Ok(self.get_after_close()),
        }
    }

    /// Takes the value out, leaving the cell empty (and ready to be
    /// initialised again).
    ///
    /// ```
    /// use minirt_core::sync::OnceCell;
    ///
    /// let mut cell = OnceCell::new_with(Some(1));
    /// assert_eq!(cell.take(), Some(1));
    /// assert_eq!(cell.take(), None);
    /// cell.set(2).unwrap();
    /// ```
    pub fn take(&mut self) -> Option<T> {
        if !self.initialized() {
            return None;
        }
        self.value_set.store(false, Relaxed);
        // A fresh, open semaphore: the closed one meant "set".
        self.sem = Semaphore::new(1);
        // SAFETY: the value was initialised and `value_set` is now clear,
        // so it is read out exactly once.
        Some(self.value.with_mut(|p| unsafe { (*p).assume_init_read() }))
    }

    /// Consumes the cell and returns its value, if any.
    ///
    /// ```
    /// use minirt_core::sync::OnceCell;
    ///
    /// assert_eq!(OnceCell::new_with(Some("v")).into_inner(), Some("v"));
    /// ```
    pub fn into_inner(mut self) -> Option<T> {
        self.take()
    }

    /// Writes the value (the caller holds the permit, so nobody else
    /// does), publishes it and closes the semaphore, failing every waiter
    /// into reading it.
    fn set_value(&self, value: T, permit: SemaphorePermit<'_>) -> &T {
        debug_assert!(!self.initialized(), "OnceCell initialised twice");
        // SAFETY: the permit is the right to initialise, and it is only
        // ever taken while the cell is empty; readers wait for `value_set`.
        self.value.with_mut(|p| unsafe { (*p).write(value) });
        self.value_set.store(true, Release);
        self.sem.close();
        // The permit is never given back: the semaphore is closed for good.
        permit.forget();
        // SAFETY: written just above.
        unsafe { self.get_unchecked() }
    }

    /// The value after a failed acquire: the semaphore is closed only by
    /// `set_value`, after the value was published.
    fn get_after_close(&self) -> &T {
        self.get()
            .expect("OnceCell: closed semaphore means initialised")
    }

    /// The value, without checking.
    ///
    /// # Safety
    ///
    /// The value must be initialised (`value_set` seen as `true` with
    /// `Acquire`, or set by this thread).
    unsafe fn get_unchecked(&self) -> &T {
        // SAFETY: the caller guarantees the value is initialised; it is
        // never written again while `&self` lives.
        self.value.with(|p| unsafe { (*p).assume_init_ref() })
    }
}

impl<T> Drop for OnceCell<T> {
    fn drop(&mut self) {
        if self.initialized() {
            // SAFETY: initialised, and `&mut self` in `drop` is the last use.
            self.value.with_mut(|p| unsafe { (*p).assume_init_drop() });
        }
    }
}

impl<T> Default for OnceCell<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> From<T> for OnceCell<T> {
    fn from(value: T) -> Self {
        Self::new_with(Some(value))
    }
}

impl<T: Clone> Clone for OnceCell<T> {
    /// A cell holding a clone of the value, or an empty one (even if an
    /// initialiser is running on `self`).
    fn clone(&self) -> Self {
        Self::new_with(self.get().cloned())
    }
}

impl<T: PartialEq> PartialEq for OnceCell<T> {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl<T: Eq> Eq for OnceCell<T> {}

impl<T: fmt::Debug> fmt::Debug for OnceCell<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OnceCell")
            .field("value", &self.get())
            .finish()
    }
}
