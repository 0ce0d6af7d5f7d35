//! The list of every live task of a multi-thread runtime, sharded so that
//! workers spawning and completing tasks rarely touch the same lock.
//!
//! Shutdown needs this list: an idle task whose only references are wakers
//! stored inside other idle tasks would otherwise never be dropped.

use std::sync::Mutex;

use minirt_core::task::Task;
use slab::Slab;

use super::Scheduler;

/// Keeps each shard's mutex (and the shard) on its own cache lines.
#[repr(align(128))]
struct Padded<T>(T);

impl<T> std::ops::Deref for Padded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

pub(super) struct OwnedTasks {
    shards: Box<[Padded<Mutex<Shard>>]>,
    /// `shards.len() - 1`; the length is a power of two.
    mask: usize,
    shift: u32,
}

/// One shard's tasks; see [`Padded`] for why shards do not share lines.
struct Shard {
    tasks: Slab<Task<Scheduler>>,
    /// Set at shutdown; inserting then fails.
    closed: bool,
}

impl OwnedTasks {
    pub(super) fn new(workers: usize) -> OwnedTasks {
        let n = (workers * 4).next_power_of_two();
        let shards = (0..n)
            .map(|_| {
                Padded(Mutex::new(Shard {
                    tasks: Slab::new(),
                    closed: false,
                }))
            })
            .collect::<Vec<_>>()
            .into_boxed_slice();
        OwnedTasks {
            shards,
            mask: n - 1,
            shift: n.trailing_zeros(),
        }
    }

    pub(super) fn num_shards(&self) -> usize {
        self.shards.len()
    }

    /// Adds `task` to shard `hint % shards`; gives it back if that shard is
    /// closed (the runtime is shutting down).
    pub(super) fn insert(&self, task: Task<Scheduler>, hint: usize) -> Result<(), Task<Scheduler>> {
        let index = hint & self.mask;
        let mut shard = self.shards[index].lock().unwrap_or_else(|e| e.into_inner());
        if shard.closed {
            return Err(task);
        }
        let entry = shard.tasks.vacant_entry();
        // SAFETY: owner keys of this runtime's tasks are only accessed under
        // the lock of the shard they name.
        unsafe { task.set_owner_key((entry.key() << self.shift) | index) };
        entry.insert(task);
        Ok(())
    }

    /// Removes `task` if it is still listed.
    pub(super) fn remove(&self, task: &Task<Scheduler>) -> Option<Task<Scheduler>> {
        // SAFETY: the key is written once, in `insert`, before the task's
        // first `Notified` is pushed to a queue; the queue's release/acquire
        // makes that write happen-before any poll, and so before the
        // completion that calls this. Nobody writes it afterwards.
        let key = unsafe { task.owner_key() };
        if key == usize::MAX {
            return None;
        }
        let mut shard = self.shards[key & self.mask]
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let slot = key >> self.shift;
        match shard.tasks.get(slot) {
            Some(t) if t.addr() == task.addr() => Some(shard.tasks.remove(slot)),
            _ => None,
        }
    }

    /// Closes shard `index` and takes every task in it.
    pub(super) fn close_and_drain(&self, index: usize) -> Vec<Task<Scheduler>> {
        let mut shard = self.shards[index].lock().unwrap_or_else(|e| e.into_inner());
        shard.closed = true;
        shard.tasks.drain().collect()
    }

    /// Number of live tasks (sums every shard; for tests and debugging).
    pub(super) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).tasks.len())
            .sum()
    }
}
