//! `ValueLock`: the blocking reader-writer lock around a `watch` value and
//! each `broadcast` slot.
//!
//! Why a reader-writer lock rather than [`Lock`](super::lock::Lock): a
//! `watch` value is read by every receiver after every change (64 tasks on
//! two cores reading at once, in the `watch_fanout` benchmark) and written
//! by one sender now and then; a broadcast slot is cloned by every receiver
//! and written once per lap of the ring. With a plain mutex the readers
//! would queue behind each other; here they share.
//!
//! The rule of [`Lock`](super::lock::Lock) holds here too: **a guard is
//! never held across an `.await` and never while a waker is woken or
//! dropped.** A `watch::Ref` is the one guard a user holds, and its docs say
//! not to keep it across an `.await` (a sender would block until it is
//! dropped). User code does run under the lock — `Clone` of a broadcast
//! value, the closure of `send_modify` — exactly as in tokio, which is why
//! poisoning is ignored: a panic there unwinds through the guard, which
//! unlocks.
//!
//! What the lock is, chosen once here as for `Lock`:
//!
//! - with the `std` feature, a `std::sync::RwLock` (a waiter whose holder was
//!   preempted sleeps on a futex instead of spinning out its time slice);
//! - without `std` (and under loom), a writer-preferring spin lock: one
//!   word, the top bit "a writer holds or wants the lock", the rest the
//!   number of readers. A writer sets its bit (so no new reader enters),
//!   then waits for the readers inside to leave, so a stream of readers
//!   cannot starve it.

#[cfg(all(feature = "std", not(loom)))]
pub(crate) use std_rw::{ReadGuard, ValueLock};

#[cfg(all(feature = "std", not(loom)))]
mod std_rw {
    /// A `std::sync::RwLock` that ignores poisoning (see the module docs).
    pub(crate) struct ValueLock<T>(std::sync::RwLock<T>);

    /// Shared access to the value; unlocks on drop.
    pub(crate) type ReadGuard<'a, T> = std::sync::RwLockReadGuard<'a, T>;

    /// Exclusive access to the value; unlocks on drop.
    pub(crate) type WriteGuard<'a, T> = std::sync::RwLockWriteGuard<'a, T>;

    impl<T> ValueLock<T> {
        /// Creates an unlocked lock around `value`.
        pub(crate) const fn new(value: T) -> Self {
            ValueLock(std::sync::RwLock::new(value))
        }

        /// Takes the lock shared, waiting for a writer to leave.
        #[inline]
        pub(crate) fn read(&self) -> ReadGuard<'_, T> {
            self.0.read().unwrap_or_else(|e| e.into_inner())
        }

        /// Takes the lock exclusively, waiting for every reader to leave.
        #[inline]
        pub(crate) fn write(&self) -> WriteGuard<'_, T> {
            self.0.write().unwrap_or_else(|e| e.into_inner())
        }
    }
}

#[cfg(any(not(feature = "std"), loom))]
pub(crate) use spin_rw::{ReadGuard, ValueLock};

#[cfg(any(not(feature = "std"), loom))]
mod spin_rw {
    use core::ops::{Deref, DerefMut};

    use crate::loom::atomic::{AtomicUsize, Ordering};
    use crate::loom::UnsafeCell;

    /// The "a writer holds or wants the lock" bit of the state word.
    const WRITER: usize = 1 << (usize::BITS - 1);

    /// A writer-preferring spin reader-writer lock guarding a `T`.
    pub(crate) struct ValueLock<T> {
        /// [`WRITER`] | number of readers inside.
        state: AtomicUsize,
        /// The protected value; only touched through a guard.
        value: UnsafeCell<T>,
    }

    // SAFETY: readers on several threads share `&T` (so `T: Sync`), and a
    // writer on any thread gets `&mut T` (so `T: Send`), exactly as for
    // `std::sync::RwLock`.
    unsafe impl<T: Send + Sync> Sync for ValueLock<T> {}
    // SAFETY: moving the lock moves the `T`.
    unsafe impl<T: Send> Send for ValueLock<T> {}

    impl<T> ValueLock<T> {
        /// Creates an unlocked lock around `value`.
        #[cfg(not(loom))]
        pub(crate) const fn new(value: T) -> Self {
            Self {
                state: AtomicUsize::new(0),
                value: UnsafeCell::new(value),
            }
        }

        /// Creates an unlocked lock around `value`.
        #[cfg(loom)]
        pub(crate) fn new(value: T) -> Self {
            Self {
                state: AtomicUsize::new(0),
                value: UnsafeCell::new(value),
            }
        }

        /// Takes the lock shared: waits while a writer holds or wants it.
        #[inline]
        pub(crate) fn read(&self) -> ReadGuard<'_, T> {
            loop {
                let state = self.state.load(Ordering::Relaxed);
                if state & WRITER == 0 {
                    debug_assert!(state < WRITER - 1, "ValueLock: reader count overflow");
                    if self
                        .state
                        .compare_exchange_weak(
                            state,
                            state + 1,
                            Ordering::Acquire,
                            Ordering::Relaxed,
                        )
                        .is_ok()
                    {
                        return ReadGuard { lock: self };
                    }
                    continue;
                }
                crate::loom::spin_loop();
            }
        }

        /// Takes the lock exclusively: claims the writer bit (no new reader
        /// enters after that), then waits for the readers inside to leave.
        #[inline]
        pub(crate) fn write(&self) -> WriteGuard<'_, T> {
            loop {
                let state = self.state.load(Ordering::Relaxed);
                if state & WRITER == 0
                    && self
                        .state
                        .compare_exchange_weak(
                            state,
                            state | WRITER,
                            Ordering::Acquire,
                            Ordering::Relaxed,
                        )
                        .is_ok()
                {
                    break;
                }
                crate::loom::spin_loop();
            }
            // Acquire: every reader's accesses happen before its release of
            // the count, so they are done before we touch the value.
            while self.state.load(Ordering::Acquire) != WRITER {
                crate::loom::spin_loop();
            }
            WriteGuard { lock: self }
        }
    }

    /// Shared access to the value of a [`ValueLock`]; unlocks on drop.
    pub(crate) struct ReadGuard<'a, T> {
        lock: &'a ValueLock<T>,
    }

    impl<T> Deref for ReadGuard<'_, T> {
        type Target = T;
        fn deref(&self) -> &T {
            // SAFETY: while a read guard exists the writer bit is clear or a
            // writer is waiting for us to leave, so nobody holds `&mut T`.
            self.lock.value.with(|p| unsafe { &*p })
        }
    }

    impl<T> Drop for ReadGuard<'_, T> {
        fn drop(&mut self) {
            self.lock.state.fetch_sub(1, Ordering::Release);
        }
    }

    /// Exclusive access to the value of a [`ValueLock`]; unlocks on drop.
    pub(crate) struct WriteGuard<'a, T> {
        lock: &'a ValueLock<T>,
    }

    impl<T> Deref for WriteGuard<'_, T> {
        type Target = T;
        fn deref(&self) -> &T {
            // SAFETY: the state is exactly `WRITER` while this guard lives:
            // no reader and no other writer.
            self.lock.value.with(|p| unsafe { &*p })
        }
    }

    impl<T> DerefMut for WriteGuard<'_, T> {
        fn deref_mut(&mut self) -> &mut T {
            // SAFETY: as in `deref`, and `&mut self` makes this access unique.
            self.lock.value.with_mut(|p| unsafe { &mut *p })
        }
    }

    impl<T> Drop for WriteGuard<'_, T> {
        fn drop(&mut self) {
            // No reader can have entered (they wait for the bit), so the
            // state is `WRITER` and becomes "free".
            self.lock.state.store(0, Ordering::Release);
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn readers_share_and_writers_exclude() {
        let lock = ValueLock::new(1);
        {
            let a = lock.read();
            let b = lock.read();
            assert_eq!(*a + *b, 2);
        }
        *lock.write() += 1;
        assert_eq!(*lock.read(), 2);
    }

    #[test]
    fn a_writer_waits_for_the_reader_inside() {
        let lock = std::sync::Arc::new(ValueLock::new(0u32));
        let reader = lock.read();
        let writer = {
            let lock = lock.clone();
            std::thread::spawn(move || *lock.write() = 5)
        };
        assert_eq!(*reader, 0, "the writer cannot enter while we read");
        drop(reader);
        writer.join().unwrap();
        assert_eq!(*lock.read(), 5);
    }
}
