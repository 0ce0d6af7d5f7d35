//! Where a task's one allocation goes: packed, or on cache lines of its own.
//!
//! Why: tasks spawned one after another sit side by side on the heap. When
//! a multi-thread executor polls two neighbours on different threads, every
//! state change of one (three atomic read-modify-writes per poll, plus the
//! future's own writes) steals the cache line the other thread is using —
//! false sharing. On `yield_many_mt` (200 tasks yielding on 2 workers) it
//! made each yield ~1.75x slower. Executors that poll on several threads
//! therefore ask for [`Placement::LineIsolated`] through
//! [`Schedule::ISOLATE_TASKS`].
//!
//! How: not with an over-aligned `Layout`. The system allocator serves
//! alignments above 16 through `posix_memalign`, which (glibc 2.36) skips
//! the per-thread cache and made every spawn ~70 ns slower. Instead the
//! cell is carved out of an ordinary allocation with enough slack to start
//! on a line boundary:
//!
//! ```text
//!  p (from the allocator)      q = p rounded up to a line
//!  |<- shift ->|<------ Cell<F, S> ------>|shift|<- rest of the slack ->|
//! ```
//!
//! Starting on a line is enough to keep two tasks apart: a cell's data
//! begins at a line boundary past the end of every cell allocated before
//! it, so no line holds bytes of two cells. (A line may still hold the end
//! of a cell and some other, non-task allocation; padding every cell to
//! whole lines would cost up to another line per task, and measured no
//! faster.) `shift = q - p`, less than a line, is kept in the byte right
//! after the cell and turns `q` back into `p` when the task is freed.

use alloc::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use core::mem;
use core::ptr::{self, NonNull};

use super::Schedule;

/// The cache-line size the isolation assumes (64 bytes on every target
/// minirt's multi-thread runtime supports well; a larger line only brings
/// back some of the sharing).
pub(crate) const CACHE_LINE: usize = 64;

/// How a task cell is laid out on the heap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Placement {
    /// `Layout::new::<T>()`, as `Box` would: smallest, for executors that
    /// poll on one thread.
    Packed,
    /// Starts on a cache line, so no line holds bytes of two tasks.
    LineIsolated,
}

impl Placement {
    /// The placement tasks of the executor `S` get.
    pub(crate) const fn of<S: Schedule>() -> Placement {
        if S::ISOLATE_TASKS {
            Placement::LineIsolated
        } else {
            Placement::Packed
        }
    }

    /// Whether a `T` is carved out of a larger allocation (and so has a
    /// shift byte): isolated, and not already line-aligned by its type.
    fn carves<T>(self) -> bool {
        self == Placement::LineIsolated && mem::align_of::<T>() < CACHE_LINE
    }

    /// The layout requested from the global allocator for a `T`.
    fn layout<T>(self) -> Layout {
        if !self.carves::<T>() {
            return Layout::new::<T>();
        }
        // The allocator's pointer is `align`-aligned, so at most
        // `CACHE_LINE - align` bytes from a line; one more byte records the
        // shift.
        let align = mem::align_of::<T>();
        let slack = CACHE_LINE - align;
        Layout::from_size_align(mem::size_of::<T>() + slack + 1, align)
            .expect("task cell layout overflows isize")
    }

    /// Allocates uninitialised memory for a `T`, placed as `self` says.
    pub(crate) fn allocate<T>(self) -> NonNull<T> {
        let layout = self.layout::<T>();
        // SAFETY: the layout is never zero-sized (a task cell holds at
        // least its header).
        let raw = unsafe { alloc(layout) };
        let Some(raw) = NonNull::new(raw) else {
            handle_alloc_error(layout)
        };
        if !self.carves::<T>() {
            return raw.cast();
        }
        // Bytes to the next line boundary (0 if on one). Plain address
        // arithmetic rather than `align_offset`, which may give up.
        let shift = raw.as_ptr().addr().wrapping_neg() & (CACHE_LINE - 1);
        // SAFETY: `shift` is at most the slack, so `q`, the cell after it
        // and the byte after the cell lie inside the allocation (whose size
        // is cell + slack + 1).
        let q = unsafe { raw.as_ptr().add(shift) };
        // SAFETY: inside the allocation (above) and past the cell.
        unsafe { q.add(mem::size_of::<T>()).write(shift as u8) };
        // SAFETY: `q` is derived from a non-null allocation pointer.
        unsafe { NonNull::new_unchecked(q.cast()) }
    }

    /// Frees memory from [`allocate`](Self::allocate) with the same
    /// placement. The `T` in it must already be dropped (or never written).
    ///
    /// # Safety
    ///
    /// `ptr` came from `self.allocate::<T>()` and is not used afterwards.
    pub(crate) unsafe fn deallocate<T>(self, ptr: NonNull<T>) {
        let layout = self.layout::<T>();
        let mut raw = ptr.as_ptr().cast::<u8>();
        if self.carves::<T>() {
            // SAFETY: `allocate` wrote the shift into the byte after the
            // cell, inside the allocation; the cell's drop does not reach it.
            let shift = unsafe { raw.add(mem::size_of::<T>()).read() };
            // SAFETY: moves back to the pointer the allocator returned,
            // within the same allocation (so with its provenance).
            raw = unsafe { raw.sub(usize::from(shift)) };
        }
        // SAFETY: `raw` and `layout` are what `allocate` got from `alloc`.
        unsafe { dealloc(raw, layout) };
    }
}

/// Drops the `T` at `ptr` in place, then frees the memory even if the drop
/// panics.
///
/// # Safety
///
/// `ptr` came from `placement.allocate::<T>()`, holds an initialised `T`,
/// and is not used afterwards.
pub(crate) unsafe fn drop_and_deallocate<T>(placement: Placement, ptr: NonNull<T>) {
    struct Free<T> {
        placement: Placement,
        ptr: NonNull<T>,
    }
    impl<T> Drop for Free<T> {
        fn drop(&mut self) {
            // SAFETY: forwarded from `drop_and_deallocate`'s caller; the
            // value was dropped (or its drop unwound) just before.
            unsafe { self.placement.deallocate(self.ptr) };
        }
    }
    let free = Free { placement, ptr };
    // SAFETY: the caller gives us an initialised `T` nobody uses again.
    unsafe { ptr::drop_in_place(free.ptr.as_ptr()) };
    drop(free);
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::vec::Vec;

    use super::*;

    #[repr(C)]
    struct Sized80([u64; 10]);
    #[repr(C)]
    struct Sized128([u64; 16]);

    fn check_isolated<T>(make: impl Fn() -> T) {
        let cells: Vec<NonNull<T>> = (0..64)
            .map(|_| {
                let ptr = Placement::LineIsolated.allocate::<T>();
                // SAFETY: fresh memory for a T.
                unsafe { ptr.as_ptr().write(make()) };
                ptr
            })
            .collect();
        for ptr in &cells {
            assert_eq!(ptr.as_ptr() as usize % CACHE_LINE, 0, "starts on a line");
        }
        // Line-aligned and not overlapping, so no line holds two cells.
        let mut starts: Vec<usize> = cells.iter().map(|p| p.as_ptr() as usize).collect();
        starts.sort_unstable();
        for pair in starts.windows(2) {
            assert!(pair[1] - pair[0] >= mem::size_of::<T>(), "cells overlap");
        }
        for ptr in cells {
            // SAFETY: allocated and initialised above, used once.
            unsafe { drop_and_deallocate(Placement::LineIsolated, ptr) };
        }
    }

    #[test]
    fn isolated_layout_has_room_to_reach_a_line_and_record_the_shift() {
        let layout = Placement::LineIsolated.layout::<Sized80>();
        assert_eq!(layout.size(), 80 + (CACHE_LINE - 8) + 1);
        assert_eq!(layout.align(), 8);
        #[repr(align(64))]
        struct Aligned(#[allow(dead_code)] [u8; 64]);
        assert_eq!(
            Placement::LineIsolated.layout::<Aligned>(),
            Layout::new::<Aligned>(),
            "a line-aligned type needs no slack"
        );
    }

    #[test]
    fn isolated_cells_start_on_a_line_and_never_share_one() {
        check_isolated(|| Sized80([7; 10]));
        check_isolated(|| Sized128([9; 16]));
    }

    #[test]
    fn isolated_cells_keep_their_contents_and_the_shift() {
        let ptr = Placement::LineIsolated.allocate::<Sized128>();
        // SAFETY: fresh memory for a Sized128.
        unsafe { ptr.as_ptr().write(Sized128([u64::MAX; 16])) };
        // SAFETY: initialised above.
        assert!(unsafe { &*ptr.as_ptr() }.0.iter().all(|&w| w == u64::MAX));
        // SAFETY: allocated above, used once.
        unsafe { drop_and_deallocate(Placement::LineIsolated, ptr) };
    }

    #[test]
    fn packed_is_the_plain_layout() {
        assert_eq!(
            Placement::Packed.layout::<Sized80>(),
            Layout::new::<Sized80>()
        );
        let ptr = Placement::Packed.allocate::<Sized80>();
        // SAFETY: fresh memory; then freed once.
        unsafe {
            ptr.as_ptr().write(Sized80([1; 10]));
            drop_and_deallocate(Placement::Packed, ptr);
        }
    }

    #[test]
    fn memory_is_freed_even_if_the_drop_panics() {
        // Under Miri a missed free is reported as a leak.
        struct Bomb;
        impl Drop for Bomb {
            fn drop(&mut self) {
                panic!("boom");
            }
        }
        let ptr = Placement::LineIsolated.allocate::<Bomb>();
        // SAFETY: fresh memory for a Bomb.
        unsafe { ptr.as_ptr().write(Bomb) };
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            // SAFETY: allocated and initialised above, used once.
            unsafe { drop_and_deallocate(Placement::LineIsolated, ptr) };
        }));
        assert!(result.is_err());
    }
}
