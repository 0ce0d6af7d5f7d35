//! The current-thread scheduler vs. a model; see `minirt::fuzz::fuzz_scheduler`.
//! A counting allocator checks that a program leaves no allocation behind.
#![no_main]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering::SeqCst};

/// Bytes allocated minus bytes freed.
static NET: AtomicIsize = AtomicIsize::new(0);

struct Counting;

// SAFETY: forwards to `System`, only counting sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        NET.fetch_add(layout.size() as isize, SeqCst);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        NET.fetch_sub(layout.size() as isize, SeqCst);
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    // The first run creates lazily allocated thread-locals and the panic
    // hook; measure from the second run of the same program on.
    minirt::fuzz::fuzz_scheduler(data);
    let before = NET.load(SeqCst);
    minirt::fuzz::fuzz_scheduler(data);
    let after = NET.load(SeqCst);
    assert_eq!(after, before, "a program leaked {} bytes", after - before);
});
