//! `WakeList`: wakers collected under a lock, woken after it is released.
//!
//! Waking or dropping a waker can run arbitrary code — in the worst case the
//! destructor of a task, which may drop another future that locks the same
//! primitive. Calling it while holding a [`Lock`](super::lock::Lock)
//! could therefore deadlock. Every primitive in this module instead moves the
//! wakers it wants to wake into a `WakeList` on the stack, releases the lock,
//! then calls [`WakeList::wake_all`].
//!
//! The list has a fixed capacity so that waking never allocates. When it is
//! full the caller releases the lock, wakes the batch, re-locks and carries
//! on — the loop [`in_batches`] runs for every primitive.

use core::task::Waker;

/// How many wakers one batch holds.
const BATCH: usize = 16;

/// A fixed-size batch of wakers to call once no lock is held.
pub(crate) struct WakeList {
    /// `wakers[..len]` are `Some`; the rest are `None`.
    wakers: [Option<Waker>; BATCH],
    /// Number of wakers stored.
    len: usize,
}

impl WakeList {
    /// Creates an empty batch.
    pub(crate) const fn new() -> Self {
        Self {
            wakers: [const { None }; BATCH],
            len: 0,
        }
    }

    /// Whether another waker fits in this batch.
    pub(crate) fn can_push(&self) -> bool {
        self.len < BATCH
    }

    /// Stores `waker` to be woken later. The caller checks [`can_push`] first.
    ///
    /// [`can_push`]: Self::can_push
    pub(crate) fn push(&mut self, waker: Waker) {
        debug_assert!(
            self.can_push(),
            "WakeList overflow: {} wakers already stored",
            self.len
        );
        self.wakers[self.len] = Some(waker);
        self.len += 1;
    }

    /// Wakes (and so drops) every stored waker. Call with no lock held.
    pub(crate) fn wake_all(&mut self) {
        let len = core::mem::replace(&mut self.len, 0);
        for slot in &mut self.wakers[..len] {
            if let Some(waker) = slot.take() {
                waker.wake();
            }
        }
    }
}

/// Runs `batch` under a lock until it is done, waking what each batch
/// collected after its guard is dropped.
///
/// `batch` gets the guard and the list; it returns `true` if it stopped
/// because the list was full (more to do under a fresh guard from `relock`),
/// `false` when done. `first` is the guard for the first batch.
pub(crate) fn in_batches<G>(
    first: G,
    mut relock: impl FnMut() -> G,
    mut batch: impl FnMut(&mut G, &mut WakeList) -> bool,
) {
    let mut wakes = WakeList::new();
    let mut guard = first;
    loop {
        let more = batch(&mut guard, &mut wakes);
        drop(guard);
        wakes.wake_all();
        if !more {
            return;
        }
        guard = relock();
    }
}

impl Drop for WakeList {
    fn drop(&mut self) {
        // A list is always drained before it goes out of scope; waking here
        // too keeps a forgotten batch from turning into a lost wakeup.
        self.wake_all();
    }
}
