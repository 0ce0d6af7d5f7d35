//! The lock workloads, `mutex_mt` and `rwlock_read_mostly`, on every
//! runtime: tokio's `sync::{Mutex, RwLock}`, smol's `async-lock` and
//! minirt's `sync::{Mutex, RwLock}`, each on its runtime's 2-worker
//! multi-thread flavour.
//!
//! # `mutex_mt`
//!
//! [`MUTEX_TASKS`] tasks each do [`MUTEX_ROUNDS`] rounds of: lock, yield
//! *while holding the lock*, increment the counter, unlock. The yield makes
//! every other task queue behind the holder, so the workload measures the
//! lock's hand-over path (queue, wake the next waiter, let it in) rather
//! than an uncontended compare-and-swap. The final count is checked.
//!
//! # `rwlock_read_mostly`
//!
//! [`RWLOCK_TASKS`] tasks each do [`RWLOCK_OPS`] operations on one lock;
//! operation `i` of task `t` is a write when `(i + t) % RWLOCK_WRITE_EVERY
//! == 0` (1 in 20, spread so that writes from different tasks interleave
//! with reads), otherwise a read. Every operation holds its guard across one
//! yield, so readers really overlap and a writer really has to wait for
//! them to drain (and, with a fair lock, holds back the readers behind it).
//! Writes increment the value; the final value is checked.
//!
//! [`MUTEX_TASKS`]: crate::params::MUTEX_TASKS
//! [`MUTEX_ROUNDS`]: crate::params::MUTEX_ROUNDS
//! [`RWLOCK_TASKS`]: crate::params::RWLOCK_TASKS
//! [`RWLOCK_OPS`]: crate::params::RWLOCK_OPS

#[cfg(feature = "minirt")]
pub mod minirt_side;
pub mod smol_side;
pub mod tokio_side;

use crate::params::*;

/// Whether operation `op` of task `task` in `rwlock_read_mostly` writes.
pub fn rwlock_op_writes(task: usize, op: usize) -> bool {
    (op + task) % RWLOCK_WRITE_EVERY == 0
}

/// The value `rwlock_read_mostly` must end with: one per write.
///
/// ```
/// use minirt_benches::sync_locks::rwlock_expected_writes;
/// // 1 in 20 of 100 x 100 operations.
/// assert_eq!(rwlock_expected_writes(), 500);
/// ```
pub fn rwlock_expected_writes() -> u64 {
    (0..RWLOCK_TASKS)
        .map(|task| {
            (0..RWLOCK_OPS)
                .filter(|&op| rwlock_op_writes(task, op))
                .count() as u64
        })
        .sum()
}
