//! Heap bytes allocated minus freed, for `memory_per_task`.
//!
//! Why here and not in the `compare` binary: the workload code (in this
//! library) needs to read the counter, while only `compare` installs the
//! counting allocator — the criterion bench keeps the system allocator, so
//! its timings carry no counting cost. Code reads the counter through a
//! [`ByteCounter`], which is `None` when [`CountingAlloc`] is not the global
//! allocator.
//!
//! Counting is off unless a `ByteCounter` is alive, so in the `compare`
//! binary the time workloads pay one relaxed load per allocation, not an
//! atomic read-modify-write.
//!
//! ```
//! use minirt_benches::alloc_counter::ByteCounter;
//!
//! // Doc tests use the system allocator, so nothing can be counted.
//! assert!(ByteCounter::start().is_none());
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};

/// Whether allocations are being counted (a [`ByteCounter`] is alive).
static COUNTING: AtomicBool = AtomicBool::new(false);
/// Bytes allocated minus bytes freed while counting was on.
static NET_BYTES: AtomicIsize = AtomicIsize::new(0);

/// A global allocator that forwards to [`System`] and, while a
/// [`ByteCounter`] is alive, tracks bytes allocated minus bytes freed.
///
/// Install it in a binary with:
///
/// ```ignore
/// #[global_allocator]
/// static ALLOCATOR: minirt_benches::alloc_counter::CountingAlloc =
///     minirt_benches::alloc_counter::CountingAlloc;
/// ```
pub struct CountingAlloc;

/// Adds `bytes` (negative for a free) to the count if counting is on.
fn record(bytes: isize) {
    if COUNTING.load(Ordering::Relaxed) {
        NET_BYTES.fetch_add(bytes, Ordering::Relaxed);
    }
}

// SAFETY: every method forwards to `System` with the caller's own arguments,
// so `System` upholds the `GlobalAlloc` contract; the counting on the side
// never touches the memory.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's `layout` has a non-zero size, as `alloc` requires.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            record(layout.size() as isize);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`, the caller guarantees a non-zero size.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            record(layout.size() as isize);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller guarantees `ptr` came from this allocator (that
        // is, from `System`) with this `layout`.
        unsafe { System.dealloc(ptr, layout) };
        record(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees `ptr` came from `System` with
        // `layout` and that `new_size` is valid for `layout`'s alignment.
        let new_ptr = unsafe { System.realloc(ptr, layout, new_size) };
        if !new_ptr.is_null() {
            record(new_size as isize - layout.size() as isize);
        }
        new_ptr
    }
}

/// Counts net heap bytes from its creation until it is dropped.
///
/// Only one should be alive at a time (the count is global). Frees of blocks
/// allocated before `start` are subtracted too, so measure a window in which
/// only the code under test allocates.
pub struct ByteCounter {
    /// `NET_BYTES` when counting started.
    baseline: isize,
}

impl ByteCounter {
    /// Starts counting, or returns `None` if [`CountingAlloc`] is not the
    /// global allocator (found out by counting one test allocation).
    pub fn start() -> Option<ByteCounter> {
        COUNTING.store(true, Ordering::SeqCst);
        let before = NET_BYTES.load(Ordering::SeqCst);
        drop(black_box(Box::new(black_box(0u64))));
        let probe = black_box(Box::new(black_box(0u64)));
        let installed = NET_BYTES.load(Ordering::SeqCst) != before;
        drop(probe);
        if !installed {
            COUNTING.store(false, Ordering::SeqCst);
            return None;
        }
        Some(ByteCounter {
            baseline: NET_BYTES.load(Ordering::SeqCst),
        })
    }

    /// Bytes allocated minus bytes freed since [`start`](Self::start).
    pub fn net_bytes(&self) -> isize {
        NET_BYTES.load(Ordering::SeqCst) - self.baseline
    }
}

impl Drop for ByteCounter {
    fn drop(&mut self) {
        COUNTING.store(false, Ordering::SeqCst);
    }
}
