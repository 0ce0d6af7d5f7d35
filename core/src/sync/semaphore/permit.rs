//! RAII permits: dropping one gives its permits back to the semaphore.

use alloc::sync::Arc;

use super::Semaphore;

/// Permits borrowed from a [`Semaphore`]; released when dropped.
#[must_use = "dropping a permit releases it at once"]
#[derive(Debug)]
pub struct SemaphorePermit<'a> {
    /// Where the permits go back to.
    sem: &'a Semaphore,
    /// How many this guard holds.
    permits: u32,
}

impl<'a> SemaphorePermit<'a> {
    /// Wraps `permits` already taken from `sem`.
    pub(super) fn new(sem: &'a Semaphore, permits: u32) -> Self {
        Self { sem, permits }
    }

    /// How many permits this guard holds.
    pub fn num_permits(&self) -> u32 {
        self.permits
    }

    /// Drops the guard *without* releasing its permits: the semaphore's
    /// capacity shrinks by [`num_permits`](Self::num_permits) for good.
    ///
    /// ```
    /// use minirt_core::sync::Semaphore;
    ///
    /// let sem = Semaphore::new(3);
    /// sem.try_acquire_many(2).unwrap().forget();
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    pub fn forget(mut self) {
        self.permits = 0;
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        if self.permits > 0 {
            self.sem.release(self.permits as usize);
        }
    }
}

/// Permits of a [`Semaphore`] held through an [`Arc`], so the guard can
/// outlive the borrow and move into another task. Released when dropped.
#[must_use = "dropping a permit releases it at once"]
#[derive(Debug)]
pub struct OwnedSemaphorePermit {
    /// Where the permits go back to.
    sem: Arc<Semaphore>,
    /// How many this guard holds.
    permits: u32,
}

impl OwnedSemaphorePermit {
    /// Wraps `permits` already taken from `sem`.
    pub(super) fn new(sem: Arc<Semaphore>, permits: u32) -> Self {
        Self { sem, permits }
    }

    /// How many permits this guard holds.
    pub fn num_permits(&self) -> u32 {
        self.permits
    }

    /// The semaphore these permits belong to.
    pub fn semaphore(&self) -> &Arc<Semaphore> {
        &self.sem
    }

    /// Drops the guard without releasing its permits (see
    /// [`SemaphorePermit::forget`]).
    pub fn forget(mut self) {
        self.permits = 0;
    }
}

impl Drop for OwnedSemaphorePermit {
    fn drop(&mut self) {
        if self.permits > 0 {
            self.sem.release(self.permits as usize);
        }
    }
}
