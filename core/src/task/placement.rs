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
//!
//! Where the memory comes from: the global allocator, unless the executor
//! recycles cells through [`CellCache`](super::CellCache)s
//! ([`Schedule::CELL_CACHING`]). Then `allocate` first asks the calling
//! thread's cache, and `deallocate` gives the memory back to the cache of
//! the thread that allocated it: with one cache per thread
//! (`CellCaching::PerThread`) the allocation has one more byte, after the
//! cell and the shift byte, holding that cache's tag. Cached layouts are
//! rounded up to whole pointers, the caches' size classes:
//!
//! ```text
//!  |<- shift ->|<------ Cell<F, S> ------>|shift|tag|<- slack, rounding ->|
//! ```

use alloc::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use core::mem;
use core::ptr::NonNull;

use super::schedule::{CellCacheRef, CellCaching};
use super::Schedule;

/// The cache-line size the isolation assumes (64 bytes on every target
/// minirt's multi-thread runtime supports well; a larger line only brings
/// back some of the sharing).
pub(crate) const CACHE_LINE: usize = 64;

/// The tag of a task allocated on a thread that owns no cell cache: it
/// goes back to the global allocator.
const NO_CACHE: u8 = u8::MAX;

/// How a task cell is laid out on the heap, and where its memory comes
/// from and goes back to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Placement {
    /// Whether the cell starts on a cache line, so no line holds bytes of
    /// two tasks (else it is laid out as `Box` would: `Layout::new`).
    isolated: bool,
    /// Whether the memory is recycled through the executor's cell caches
    /// (`cell_cache.rs`); with `PerThread`, one more byte after the cell
    /// (and after the shift byte, if any) records the cache's tag.
    caching: CellCaching,
}

impl Placement {
    /// Smallest, for executors that poll on one thread, without caches.
    #[cfg(test)]
    pub(crate) const PACKED: Placement = Placement {
        isolated: false,
        caching: CellCaching::Off,
    };
    /// Starts on a cache line, without caches.
    #[cfg(test)]
    pub(crate) const LINE_ISOLATED: Placement = Placement {
        isolated: true,
        caching: CellCaching::Off,
    };

    /// The placement tasks of the executor `S` get.
    pub(crate) const fn of<S: Schedule>() -> Placement {
        Placement {
            isolated: S::ISOLATE_TASKS,
            caching: S::CELL_CACHING,
        }
    }

    /// Whether a `T` is carved out of a larger allocation (and so has a
    /// shift byte): isolated, and not already line-aligned by its type.
    fn carves<T>(self) -> bool {
        self.isolated && mem::align_of::<T>() < CACHE_LINE
    }

    fn tagged(self) -> bool {
        self.caching == CellCaching::PerThread
    }

    /// Where the tag byte sits, from the cell's start.
    fn tag_offset<T>(self) -> usize {
        mem::size_of::<T>() + usize::from(self.carves::<T>())
    }

    /// The layout requested from the global allocator (or a cell cache)
    /// for a `T`.
    pub(crate) fn layout<T>(self) -> Layout {
        let align = mem::align_of::<T>();
        let mut size = mem::size_of::<T>();
        if self.carves::<T>() {
            // The allocator's pointer is `align`-aligned, so at most
            // `CACHE_LINE - align` bytes from a line; one more byte records
            // the shift.
            size += CACHE_LINE - align + 1;
        }
        if self.tagged() {
            size += 1;
        }
        if self.caching != CellCaching::Off {
            // Cell caches class blocks in whole pointers.
            size = size.next_multiple_of(mem::size_of::<usize>());
        }
        Layout::from_size_align(size, align).expect("task cell layout overflows isize")
    }

    /// Allocates uninitialised memory for a `T`, placed as `self` says:
    /// from the calling thread's cell cache if `scheduler` gives it one
    /// with a block to spare, else from the global allocator.
    #[inline]
    pub(crate) fn allocate<T, S: Schedule>(self, scheduler: &S) -> NonNull<T> {
        let layout = self.layout::<T>();
        let mut tag = NO_CACHE;
        let mut cached = None;
        if self.caching != CellCaching::Off {
            if let Some((owner, owner_tag)) = scheduler.owned_cell_cache() {
                cached = owner.take(layout);
                tag = owner_tag;
            }
        }
        let raw = match cached {
            Some(raw) => raw,
            None => {
                // SAFETY: the layout is never zero-sized (a task cell
                // holds at least its header).
                let raw = unsafe { alloc(layout) };
                let Some(raw) = NonNull::new(raw) else {
                    handle_alloc_error(layout)
                };
                raw
            }
        };
        let q = if self.carves::<T>() {
            // Bytes to the next line boundary (0 if on one). Plain address
            // arithmetic rather than `align_offset`, which may give up.
            let shift = raw.as_ptr().addr().wrapping_neg() & (CACHE_LINE - 1);
            // SAFETY: `shift` is at most the slack, so `q`, the cell after
            // it and the byte after the cell lie inside the allocation
            // (whose size is at least cell + slack + 1).
            let q = unsafe { raw.as_ptr().add(shift) };
            // SAFETY: inside the allocation (above) and past the cell.
            unsafe { q.add(mem::size_of::<T>()).write(shift as u8) };
            q
        } else {
            raw.as_ptr()
        };
        if self.tagged() {
            // SAFETY: the layout has a byte for the tag at this offset.
            unsafe { q.add(self.tag_offset::<T>()).write(tag) };
        }
        // SAFETY: `q` is derived from a non-null allocation pointer.
        unsafe { NonNull::new_unchecked(q.cast()) }
    }

    /// Frees memory from [`allocate`](Self::allocate) with the same
    /// placement: into the cell cache it came from (or the one of the
    /// thread that allocated it), or to the global allocator. The `T` in
    /// it must already be dropped (or never written).
    ///
    /// # Safety
    ///
    /// `ptr` came from `self.allocate::<T, S>()` and is not used
    /// afterwards; `scheduler` is the executor it was allocated with.
    pub(crate) unsafe fn deallocate<T, S: Schedule>(self, ptr: NonNull<T>, scheduler: &S) {
        let layout = self.layout::<T>();
        let q = ptr.as_ptr().cast::<u8>();
        let mut raw = q;
        if self.carves::<T>() {
            // SAFETY: `allocate` wrote the shift into the byte after the
            // cell, inside the allocation; the cell's drop does not reach it.
            let shift = unsafe { q.add(mem::size_of::<T>()).read() };
            // SAFETY: moves back to the pointer the allocator returned,
            // within the same allocation (so with its provenance).
            raw = unsafe { q.sub(usize::from(shift)) };
        }
        if self.caching != CellCaching::Off {
            let tag = if self.tagged() {
                // SAFETY: `allocate` wrote the tag there.
                unsafe { q.add(self.tag_offset::<T>()).read() }
            } else {
                0
            };
            // SAFETY: non-null, from the allocation.
            let block = unsafe { NonNull::new_unchecked(raw) };
            // `block` was allocated with `layout` (by the global allocator
            // or a cache for it) and nobody uses it after this; if a cache
            // refuses it, it stays ours and is freed below.
            let kept = tag != NO_CACHE
                && match scheduler.cell_cache(tag) {
                    // SAFETY: as just said.
                    Some(CellCacheRef::Owner(owner)) => unsafe { owner.give(block, layout) },
                    // SAFETY: as just said.
                    Some(CellCacheRef::Remote(cache)) => unsafe {
                        cache.give_remote(block, layout)
                    },
                    None => false,
                };
            if kept {
                return;
            }
        }
        // SAFETY: `raw` and `layout` are what `allocate` got from `alloc`
        // (or from a cache, which hands out blocks of exactly `layout`).
        unsafe { dealloc(raw, layout) };
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::vec::Vec;

    use super::*;
    use crate::task::{CellCache, CellCacheOwner, Notified, Task};

    #[repr(C)]
    struct Sized80([u64; 10]);
    #[repr(C)]
    struct Sized128([u64; 16]);

    /// A scheduler that is never asked to schedule: these tests only
    /// allocate and free.
    struct Plain;
    impl Schedule for Plain {
        fn schedule(&self, _task: Notified<Self>) {
            unreachable!()
        }
        fn release(&self, _task: &Task<Self>) -> Option<Task<Self>> {
            None
        }
    }

    /// One cache, owned by whichever thread runs the test, tagged 7.
    struct Tagged(CellCache);
    impl Schedule for Tagged {
        const ISOLATE_TASKS: bool = true;
        const CELL_CACHING: CellCaching = CellCaching::PerThread;
        fn schedule(&self, _task: Notified<Self>) {
            unreachable!()
        }
        fn release(&self, _task: &Task<Self>) -> Option<Task<Self>> {
            None
        }
        fn owned_cell_cache(&self) -> Option<(CellCacheOwner<'_>, u8)> {
            // SAFETY: each test uses its cache from one thread.
            Some((unsafe { self.0.owner() }, 7))
        }
        fn cell_cache(&self, tag: u8) -> Option<CellCacheRef<'_>> {
            assert_eq!(tag, 7, "the tag written at allocation comes back");
            // SAFETY: as above.
            Some(CellCacheRef::Owner(unsafe { self.0.owner() }))
        }
    }

    fn write_then_free<T, S: Schedule>(p: Placement, s: &S, value: T) {
        let ptr = p.allocate::<T, S>(s);
        // SAFETY: fresh memory for a T; dropped, then freed once.
        unsafe {
            ptr.as_ptr().write(value);
            core::ptr::drop_in_place(ptr.as_ptr());
            p.deallocate(ptr, s);
        }
    }

    fn check_isolated<T>(make: impl Fn() -> T) {
        let p = Placement::LINE_ISOLATED;
        let cells: Vec<NonNull<T>> = (0..64)
            .map(|_| {
                let ptr = p.allocate::<T, Plain>(&Plain);
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
            unsafe {
                core::ptr::drop_in_place(ptr.as_ptr());
                p.deallocate(ptr, &Plain);
            }
        }
    }

    #[test]
    fn isolated_layout_has_room_to_reach_a_line_and_record_the_shift() {
        let layout = Placement::LINE_ISOLATED.layout::<Sized80>();
        assert_eq!(layout.size(), 80 + (CACHE_LINE - 8) + 1);
        assert_eq!(layout.align(), 8);
        #[repr(align(64))]
        struct Aligned(#[allow(dead_code)] [u8; 64]);
        assert_eq!(
            Placement::LINE_ISOLATED.layout::<Aligned>(),
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
        let p = Placement::LINE_ISOLATED;
        let ptr = p.allocate::<Sized128, Plain>(&Plain);
        // SAFETY: fresh memory for a Sized128.
        unsafe { ptr.as_ptr().write(Sized128([u64::MAX; 16])) };
        // SAFETY: initialised above.
        assert!(unsafe { &*ptr.as_ptr() }.0.iter().all(|&w| w == u64::MAX));
        // SAFETY: allocated above, used once (nothing to drop).
        unsafe { p.deallocate(ptr, &Plain) };
    }

    #[test]
    fn packed_is_the_plain_layout() {
        assert_eq!(
            Placement::PACKED.layout::<Sized80>(),
            Layout::new::<Sized80>()
        );
        write_then_free(Placement::PACKED, &Plain, Sized80([1; 10]));
    }

    #[test]
    fn a_cached_placement_has_a_tag_byte_and_whole_words() {
        let p = Placement::of::<Tagged>();
        let layout = p.layout::<Sized80>();
        assert_eq!(
            layout.size(),
            (80 + (CACHE_LINE - 8) + 1 + 1usize).next_multiple_of(8)
        );
        assert!(CellCache::caches(layout));
    }

    #[test]
    fn a_freed_cell_goes_to_its_cache_and_is_reused() {
        let sched = Tagged(CellCache::new());
        let p = Placement::of::<Tagged>();
        let first = p.allocate::<Sized80, Tagged>(&sched);
        // SAFETY: fresh memory; nothing to drop; freed once.
        unsafe { p.deallocate(first, &sched) };
        // SAFETY: this thread owns the cache.
        let held = unsafe { sched.0.owner() }.owned_bytes();
        assert_eq!(held, p.layout::<Sized80>().size(), "kept, not freed");
        let second = p.allocate::<Sized80, Tagged>(&sched);
        assert_eq!(first, second, "the same block, placed on the same line");
        // SAFETY: this thread owns the cache.
        assert_eq!(unsafe { sched.0.owner() }.owned_bytes(), 0);
        write_then_free(p, &sched, Sized80([3; 10]));
        // SAFETY: allocated above, used once.
        unsafe { p.deallocate(second, &sched) };
        // The cache's drop frees both blocks (Miri would report a leak).
    }
}
