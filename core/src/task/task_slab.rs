//! `TaskSlab`: where an owned-task list keeps its tasks, one word a slot.
//!
//! Why not the `slab` crate: its slots are an enum (`Vacant(next)` or
//! `Occupied(T)`), two words for a one-word [`Task`]; at 100 000 live tasks,
//! with the vector grown by doubling, that was 21 bytes a task of
//! `memory_per_task`. Here a slot is one pointer:
//!
//! ```text
//!  occupied: the task's header pointer      (headers are aligned: bit 0 = 0)
//!  vacant:   (next vacant slot << 1) | 1     (an address with no provenance)
//! ```
//!
//! Vacant slots form a free list through `next_free`; a slot past the end
//! stands for "push a new one". A slot's index is the task's key in its
//! list, so it never moves while the task is listed.

use alloc::vec::Vec;
use core::marker::PhantomData;
use core::mem::{self, ManuallyDrop};
use core::ptr::{self, NonNull};

use super::header::Header;
use super::Task;

/// The tasks of one owned-task shard, by key.
pub(crate) struct TaskSlab<S: 'static> {
    slots: Vec<*mut Header>,
    /// The first vacant slot, or `slots.len()` if there is none.
    next_free: usize,
    len: usize,
    _tasks: PhantomData<Task<S>>,
}

// SAFETY: the slab owns one reference of each task in it, as a `Vec<Task<S>>`
// would; `Task<S>` is `Send` and `Sync` for every `S`.
unsafe impl<S> Send for TaskSlab<S> {}
// SAFETY: as above; `&TaskSlab` only reads.
unsafe impl<S> Sync for TaskSlab<S> {}

fn vacant(next: usize) -> *mut Header {
    ptr::without_provenance_mut(next << 1 | 1)
}

fn is_vacant(slot: *mut Header) -> bool {
    slot.addr() & 1 == 1
}

impl<S: 'static> TaskSlab<S> {
    pub(crate) const fn new() -> Self {
        TaskSlab {
            slots: Vec::new(),
            next_free: 0,
            len: 0,
            _tasks: PhantomData,
        }
    }

    /// The key the next [`insert`](Self::insert) will use.
    #[inline]
    pub(crate) fn next_key(&self) -> usize {
        self.next_free
    }

    /// Lists `task` under [`next_key`](Self::next_key).
    #[inline]
    pub(crate) fn insert(&mut self, task: Task<S>) -> usize {
        let key = self.next_free;
        let raw = ManuallyDrop::new(task).raw.as_ptr();
        if key == self.slots.len() {
            self.slots.push(raw);
            self.next_free = key + 1;
        } else {
            let slot = mem::replace(&mut self.slots[key], raw);
            debug_assert!(is_vacant(slot));
            self.next_free = slot.addr() >> 1;
        }
        self.len += 1;
        key
    }

    /// Takes out the task under `key` if it is the one at `addr`.
    #[inline]
    pub(crate) fn remove_if(&mut self, key: usize, addr: usize) -> Option<Task<S>> {
        let slot = self.slots.get_mut(key)?;
        if is_vacant(*slot) || slot.addr() != addr {
            return None;
        }
        let raw = mem::replace(slot, vacant(self.next_free));
        self.next_free = key;
        self.len -= 1;
        // SAFETY: an occupied slot holds the list's reference of a live task
        // (non-null: a header pointer), which we hand over.
        Some(unsafe { Task::from_raw(NonNull::new_unchecked(raw)) })
    }

    /// Calls `f` with each listed task.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&Task<S>)) {
        for &slot in &self.slots {
            if !is_vacant(slot) {
                // SAFETY: as in `remove_if`; a borrowed view of the list's
                // reference, never dropped.
                let task =
                    ManuallyDrop::new(unsafe { Task::from_raw(NonNull::new_unchecked(slot)) });
                f(&task);
            }
        }
    }

    /// Takes every task out.
    pub(crate) fn drain(&mut self) -> Vec<Task<S>> {
        let mut tasks = Vec::with_capacity(self.len);
        for slot in mem::take(&mut self.slots) {
            if !is_vacant(slot) {
                // SAFETY: as in `remove_if`.
                tasks.push(unsafe { Task::from_raw(NonNull::new_unchecked(slot)) });
            }
        }
        self.next_free = 0;
        self.len = 0;
        tasks
    }

    /// Number of listed tasks.
    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

impl<S: 'static> Drop for TaskSlab<S> {
    fn drop(&mut self) {
        drop(self.drain());
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    extern crate std;

    use super::*;
    use crate::task::{self, Notified, Schedule};

    struct Never;
    impl Schedule for Never {
        fn schedule(&self, _task: Notified<Self>) {}
        fn release(&self, _task: &Task<Self>) -> Option<Task<Self>> {
            None
        }
    }

    fn task() -> Task<Never> {
        let (task, notified, handle) = task::spawn(async {}, Never);
        drop((notified, handle));
        task
    }

    #[test]
    fn keys_are_reused_last_freed_first_and_only_the_right_task_is_removed() {
        let mut slab = TaskSlab::new();
        let a = task();
        let a_addr = a.addr();
        assert_eq!(slab.next_key(), 0);
        assert_eq!(slab.insert(a), 0);
        let b = task();
        let b_addr = b.addr();
        assert_eq!(slab.insert(b), 1);
        assert_eq!(slab.insert(task()), 2);
        assert_eq!(slab.len(), 3);
        assert!(slab.remove_if(1, a_addr).is_none(), "another task's key");
        assert!(slab.remove_if(7, b_addr).is_none(), "past the end");
        let b = slab.remove_if(1, b_addr).expect("listed");
        assert_eq!(b.addr(), b_addr);
        assert!(slab.remove_if(1, b_addr).is_none(), "removed once");
        drop(slab.remove_if(0, a_addr).expect("listed"));
        assert_eq!(slab.next_key(), 0, "the last freed slot first");
        assert_eq!(slab.insert(b), 0);
        assert_eq!(slab.next_key(), 1);
        let mut seen = 0;
        slab.for_each(|_| seen += 1);
        assert_eq!((seen, slab.len()), (2, 2));
        assert_eq!(slab.drain().len(), 2);
        assert_eq!((slab.len(), slab.next_key()), (0, 0));
        // Dropping a slab drops the references it still holds (Miri
        // reports a leak otherwise).
        slab.insert(task());
    }
}
