//! The run queues: each worker's `Worker` deque and the `Stealer`s to it,
//! and the shared `Injector`.
//!
//! Normally these are `crossbeam_deque`'s, re-exported. Under
//! `cfg(minirt_loom)` and under Miri they are a `Mutex<VecDeque>` with the
//! same API:
//!
//! * loom runs the real worker loop (crossbeam's lock-free deques use std
//!   atomics and epoch-based reclamation, which loom cannot see);
//! * Miri checks the rest of the multi-thread runtime with strict provenance
//!   and leak checking. With the real deques it cannot: crossbeam-epoch
//!   stores pointers as integers (`-Zmiri-strict-provenance` rejects the
//!   casts), its intrusive list of thread records breaks Stacked Borrows
//!   (accepted under `-Zmiri-tree-borrows`), and the garbage bags its global
//!   collector keeps until process exit are reachable only through those
//!   integers, so Miri reports them as leaked (measured 2026-12-02 on
//!   `tests/rt_multi_thread.rs`: 10 tests pass under
//!   `-Zmiri-permissive-provenance -Zmiri-tree-borrows`, then 9 leak
//!   reports, all allocated in crossbeam-epoch). The runtime only moves
//!   `Notified` values through the deques' safe API, so the stand-in loses
//!   no check of minirt's own code; crossbeam's own tests cover its deques.
//!
//! The stand-in is linearizable and never answers [`Steal::Retry`], so
//! neither loom nor Miri explores the worker loop's retry branches.

#[cfg(not(any(minirt_loom, miri)))]
pub(super) use crossbeam_deque::{Injector, Steal, Stealer, Worker};

#[cfg(any(minirt_loom, miri))]
pub(super) use self::loom_queue::{Injector, Steal, Stealer, Worker};

#[cfg(any(minirt_loom, miri))]
mod loom_queue {
    use std::collections::VecDeque;
    use std::sync::Arc;

    use crate::loom::Mutex;

    type Queue<T> = Arc<Mutex<VecDeque<T>>>;

    fn lock<T>(queue: &Mutex<VecDeque<T>>) -> crate::loom::MutexGuard<'_, VecDeque<T>> {
        queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `crossbeam_deque::Steal`.
    pub(crate) enum Steal<T> {
        Empty,
        Success(T),
        /// Never produced by the stand-in; kept so the callers' matches are
        /// the real ones.
        #[allow(dead_code)]
        Retry,
    }

    /// Takes the front of `from` and moves up to half of the rest into
    /// `dest` (crossbeam's `steal_batch_and_pop`, which also takes about
    /// half). The two locks are never held together, as crossbeam never
    /// blocks one queue on another.
    fn steal_batch_and_pop<T>(from: &Mutex<VecDeque<T>>, dest: &Worker<T>) -> Steal<T> {
        let mut batch = {
            let mut from = lock(from);
            let n = from.len().div_ceil(2);
            from.drain(..n).collect::<VecDeque<T>>()
        };
        let Some(first) = batch.pop_front() else {
            return Steal::Empty;
        };
        if !batch.is_empty() {
            lock(&dest.queue).extend(batch);
        }
        Steal::Success(first)
    }

    /// `crossbeam_deque::Worker` (FIFO flavour only).
    pub(crate) struct Worker<T> {
        queue: Queue<T>,
    }

    impl<T> Worker<T> {
        pub(crate) fn new_fifo() -> Worker<T> {
            Worker {
                queue: Arc::new(Mutex::new(VecDeque::new())),
            }
        }

        pub(crate) fn stealer(&self) -> Stealer<T> {
            Stealer {
                queue: self.queue.clone(),
            }
        }

        pub(crate) fn push(&self, task: T) {
            lock(&self.queue).push_back(task);
        }

        pub(crate) fn pop(&self) -> Option<T> {
            lock(&self.queue).pop_front()
        }

        pub(crate) fn len(&self) -> usize {
            lock(&self.queue).len()
        }
    }

    /// `crossbeam_deque::Stealer`.
    pub(crate) struct Stealer<T> {
        queue: Queue<T>,
    }

    impl<T> Stealer<T> {
        pub(crate) fn is_empty(&self) -> bool {
            lock(&self.queue).is_empty()
        }

        pub(crate) fn steal_batch_and_pop(&self, dest: &Worker<T>) -> Steal<T> {
            steal_batch_and_pop(&self.queue, dest)
        }
    }

    /// `crossbeam_deque::Injector`.
    pub(crate) struct Injector<T> {
        queue: Mutex<VecDeque<T>>,
    }

    impl<T> Injector<T> {
        pub(crate) fn new() -> Injector<T> {
            Injector {
                queue: Mutex::new(VecDeque::new()),
            }
        }

        pub(crate) fn push(&self, task: T) {
            lock(&self.queue).push_back(task);
        }

        pub(crate) fn steal(&self) -> Steal<T> {
            match lock(&self.queue).pop_front() {
                Some(task) => Steal::Success(task),
                None => Steal::Empty,
            }
        }

        pub(crate) fn steal_batch_and_pop(&self, dest: &Worker<T>) -> Steal<T> {
            steal_batch_and_pop(&self.queue, dest)
        }

        pub(crate) fn is_empty(&self) -> bool {
            lock(&self.queue).is_empty()
        }

        pub(crate) fn len(&self) -> usize {
            lock(&self.queue).len()
        }
    }
}
