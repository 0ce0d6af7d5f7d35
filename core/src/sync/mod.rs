//! Synchronization primitives that work on every minirt executor, with or
//! without `std`.
//!
//! Why: tasks need to hand values to each other ([`oneshot`], [`mpsc`]),
//! bound concurrency ([`Semaphore`]) and signal events ([`Notify`]) without
//! blocking a thread. None of these needs an operating system, so they live
//! here in `minirt-core` and run on microcontrollers as well as under the
//! `minirt` runtimes.
//!
//! How: the [`oneshot`] channel is lock-free (one atomic state word), and so
//! are the send and receive paths of the [`mpsc`] channel while it has room
//! (senders that wait for room queue behind a small lock). The others keep
//! their waiter queues behind a tiny lock (a `std` mutex with the `std`
//! feature, a spin lock without it; see `lock.rs`) that is held only
//! for a few loads and stores — never across an `.await` and never while a
//! waker is woken or dropped (wakers are collected under the lock and woken
//! after it is released). Waiter queues live in slabs, so waiting does not
//! allocate once warmed up, and cancelling a wait (dropping its future) is
//! O(1) and loses nothing.
//!
//! More channels, with tokio's names and meanings:
//!
//! - [`watch`]: one value that many tasks read and any sender replaces;
//!   receivers wait for a change and see the latest (the value sits in a
//!   reader-writer lock, so the readers after a change do not queue).
//! - [`broadcast`]: every receiver gets every value, from a bounded ring
//!   that never makes a sender wait; a receiver that falls behind gets
//!   `Lagged(n)` once and continues from the oldest value kept.
//! - [`mpsc::unbounded_channel`]: `send` is a plain function that never
//!   waits, takes no lock and allocates only per block of values.
//!
//! Locks and one-time set-up, as in tokio: [`Mutex`] and [`RwLock`] (guards
//! that may be held across an `.await`; FIFO-fair, so a queued writer is
//! not starved by readers), [`Barrier`] (a group of tasks waits for its
//! last member, round after round) and [`OnceCell`] (a value initialised at
//! most once by an async function, the other callers waiting for it). All
//! four are built on the [`Semaphore`]'s FIFO queue or the same wait list,
//! and need no `std`.

mod barrier;
pub mod broadcast;
pub(crate) mod cache_line;
pub(crate) mod lock;
pub mod mpsc;
mod mutex;
mod notify;
mod once_cell;
pub mod oneshot;
mod rwlock;
mod semaphore;
#[cfg(all(test, not(loom)))]
mod test_util;
mod try_lock_error;
mod value_lock;
mod wait_list;
mod waiter_set;
mod wake_list;
pub mod watch;

pub use barrier::{Barrier, BarrierWait, BarrierWaitResult};
#[cfg(all(any(test, fuzzing), not(loom)))]
pub use mpsc::fuzz_mpsc;
pub use mutex::{MappedMutexGuard, Mutex, MutexGuard, OwnedMutexGuard};
pub use notify::{Notified, Notify};
pub use once_cell::{OnceCell, SetError};
pub use rwlock::{
    OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock, RwLockMappedWriteGuard, RwLockReadGuard,
    RwLockWriteGuard,
};
#[cfg(all(any(test, fuzzing), not(loom)))]
pub use semaphore::fuzz_semaphore;
pub use semaphore::{
    Acquire, AcquireError, AcquireOwned, OwnedSemaphorePermit, Semaphore, SemaphorePermit,
    TryAcquireError,
};
pub use try_lock_error::TryLockError;

use core::task::{Context, Poll};

use crate::task::WaitKind;

/// `poll` as it is, first noting on the polling task that it waits in
/// `kind` when it is `Pending` (for task dumps; see
/// [`note_wait`](crate::task::note_wait)). Applied to a primitive's
/// unbudgeted poll, so a yield for a spent budget notes nothing.
#[inline]
pub(crate) fn noting<T>(cx: &Context<'_>, kind: WaitKind, poll: Poll<T>) -> Poll<T> {
    if poll.is_pending() {
        crate::task::note_wait(cx.waker(), kind);
    }
    poll
}

/// A primitive's `poll`: one budgeted operation
/// ([`coop::poll_budgeted`](crate::coop::poll_budgeted)) around `poll`,
/// whose `Pending` is [noted](noting) as a wait in `kind`.
#[inline]
pub(crate) fn poll_waiting_in<T>(
    cx: &mut Context<'_>,
    kind: WaitKind,
    poll: impl FnOnce(&mut Context<'_>) -> Poll<T>,
) -> Poll<T> {
    crate::coop::poll_budgeted(cx, |cx| {
        let result = poll(cx);
        noting(cx, kind, result)
    })
}
