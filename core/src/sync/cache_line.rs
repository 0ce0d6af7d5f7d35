//! `CacheLine<T>`: keeps a hot field off its neighbours' cache line.
//!
//! Why: when two cores write different fields that share a cache line, each
//! write steals the line from the other core (false sharing). A semaphore's
//! lock word is written by whoever takes the lock, while its permit word is
//! written by lock-free acquires and releases on every core; on one line,
//! each slowed the other (measured in `semaphore_mt`, see the semaphore's
//! module docs).
//!
//! 128 bytes, not 64: x86 prefetches cache lines in adjacent pairs, and
//! Apple's and some ARM cores use 128-byte lines.

use core::ops::Deref;

/// A `T` aligned (and so padded) to 128 bytes.
#[repr(align(128))]
pub(crate) struct CacheLine<T>(pub(crate) T);

impl<T> Deref for CacheLine<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}
