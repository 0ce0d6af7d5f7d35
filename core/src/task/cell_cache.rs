//! A cache of task memory owned by one executor thread ([`CellCache`]).

use alloc::alloc::{dealloc, Layout};
use core::marker::PhantomData;
use core::mem;
use core::ptr::{self, NonNull};

use crate::loom::atomic::{AtomicPtr, Ordering::*};
use crate::loom::UnsafeCell;

/// The largest block cached, in bytes; bigger tasks use the global
/// allocator directly.
pub const MAX_BLOCK: usize = 512;

/// The most bytes the owner's lists hold; a block given back beyond it is
/// freed. 1 MiB is ~6 000 cells of a small multi-thread task: a burst of
/// spawns that size is recycled whole, and a worker never keeps more than
/// this of memory it no longer uses.
pub const OWNED_BYTES: usize = 1 << 20;

const WORD: usize = mem::size_of::<usize>();
const ALIGN: usize = mem::align_of::<usize>();
const CLASSES: usize = MAX_BLOCK / WORD;

/// A cached block: its first two words while it is free.
#[repr(C)]
struct FreeBlock {
    next: *mut FreeBlock,
    size: usize,
}

/// What only the owning thread touches.
struct Owned {
    /// `lists[i]` holds blocks of `(i + 1) * WORD` bytes.
    lists: [*mut FreeBlock; CLASSES],
    /// Bytes in `lists`.
    bytes: usize,
}

/// A cache of task memory owned by one executor thread.
///
/// Why: a runtime allocates one cell per spawned task and frees it when the
/// task is gone, often thousands a millisecond. The system allocator is
/// slow at exactly this pattern. With glibc, a burst of 5 000 spawns spent
/// ~630 of the ~1 730 instructions per task in `malloc`/`free`
/// (callgrind, `spawn_local_ct`); and a cell freed by a thread other than
/// the one that allocated it (a task stolen by another worker) takes the
/// allocating thread's arena lock once it is above the lock-free fastbin
/// sizes, which made `spawn_local_mt` spend a third of its CPU time in
/// futex calls. So each executor thread keeps the cells it allocated and
/// recycles them:
///
/// ```text
///  owner thread                               any other thread
///  ------------                               ----------------
///  take(layout) ──pop── owned[class] ◀─┐       give_remote(block)
///     │ empty?                         │          │  CAS push
///     └──drain──▶ remote ──sorted into─┘   ◀──────┘  (never popped one
///                 (swapped out whole)                 by one: no ABA)
///  give_owned(block) ──push──▶ owned[class]   (refused above OWNED_BYTES)
/// ```
///
/// - The owner's lists are plain linked lists, one per size class, touched
///   only by the owning thread: taking and giving back cost a few loads
///   and stores.
/// - Other threads push onto one lock-free stack. The owner takes the whole
///   stack at once with a swap, so a block is never popped while another
///   thread reads its link (the ABA problem of a Treiber stack's pop).
/// - The owner's lists hold at most [`OWNED_BYTES`]; the rest goes back to
///   the global allocator. Blocks other threads gave back wait in the
///   stack until the owner drains it: when a class it takes from is empty,
///   or when it is about to go idle ([`drain_remote`](CellCacheOwner::drain_remote)),
///   so memory held beyond the bound is what was freed since the owner
///   last ran out or idled.
/// - Dropping the cache frees everything in it.
///
/// Only blocks whose layout has the cache's alignment (a pointer's) and at
/// most [`MAX_BLOCK`] bytes are cached; sizes are classed in pointer-size
/// steps and a class only ever holds blocks of exactly one size, so every
/// block is freed with the layout it was allocated with.
///
/// Taking blocks and giving them back into the lists belongs to the
/// *owner*, one thread at a time, which the executor designates (a worker
/// thread, or the thread holding a current-thread runtime's core) by
/// making a [`CellCacheOwner`] with the `unsafe` [`owner`](Self::owner):
/// the cache cannot check it. [`give_remote`](Self::give_remote) may be
/// called from any thread.
///
/// An executor uses it through [`Schedule::CELL_CACHING`](super::Schedule::CELL_CACHING):
/// the task core then asks the scheduler for the calling thread's cache
/// when it allocates or frees a task.
///
/// ```
/// use std::alloc::Layout;
/// use std::ptr::NonNull;
/// use minirt_core::task::CellCache;
///
/// let cache = CellCache::new();
/// // SAFETY: this is the only thread using the cache.
/// let owner = unsafe { cache.owner() };
/// let layout = Layout::from_size_align(96, std::mem::align_of::<usize>()).unwrap();
/// assert!(owner.take(layout).is_none(), "empty at first");
/// // SAFETY: a fresh block of `layout`, given once and not used after.
/// let block = NonNull::new(unsafe { std::alloc::alloc(layout) }).unwrap();
/// assert!(unsafe { owner.give(block, layout) });
/// assert_eq!(owner.take(layout), Some(block), "recycled");
/// // SAFETY: taken back above; ours to free.
/// unsafe { std::alloc::dealloc(block.as_ptr(), layout) };
/// ```
pub struct CellCache {
    /// Blocks given back by other threads: a stack that is only pushed
    /// to, and emptied whole by the owner.
    remote: AtomicPtr<FreeBlock>,
    owned: UnsafeCell<Owned>,
}

// SAFETY: `remote` is atomic; `owned` is touched only through the `unsafe`
// owner methods, whose contract is that one thread at a time calls them.
// The blocks themselves are plain memory with no thread affinity.
unsafe impl Send for CellCache {}
// SAFETY: as above.
unsafe impl Sync for CellCache {}

impl Default for CellCache {
    fn default() -> Self {
        Self::new()
    }
}

impl core::fmt::Debug for CellCache {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("CellCache").finish_non_exhaustive()
    }
}

/// The size class of `layout`, if the cache takes such blocks.
#[inline]
fn class_of(layout: Layout) -> Option<usize> {
    let size = layout.size();
    (layout.align() == ALIGN
        && size % WORD == 0
        && size >= mem::size_of::<FreeBlock>()
        && size <= MAX_BLOCK)
        .then(|| size / WORD - 1)
}

impl CellCache {
    /// An empty cache.
    #[cfg(not(loom))]
    pub const fn new() -> Self {
        CellCache {
            remote: AtomicPtr::new(ptr::null_mut()),
            owned: UnsafeCell::new(Owned {
                lists: [ptr::null_mut(); CLASSES],
                bytes: 0,
            }),
        }
    }

    /// An empty cache.
    #[cfg(loom)]
    pub fn new() -> Self {
        CellCache {
            remote: AtomicPtr::new(ptr::null_mut()),
            owned: UnsafeCell::new(Owned {
                lists: [ptr::null_mut(); CLASSES],
                bytes: 0,
            }),
        }
    }

    /// Whether blocks of `layout` are cached at all: aligned like a
    /// pointer, a whole number of pointers long, at most [`MAX_BLOCK`]
    /// bytes.
    pub fn caches(layout: Layout) -> bool {
        class_of(layout).is_some()
    }

    /// A block for `layout`, if one is cached. Its contents are
    /// unspecified.
    ///
    /// # Safety
    ///
    /// Called by the owner only (no other thread is in an owner method).
    #[inline]
    unsafe fn take(&self, layout: Layout) -> Option<NonNull<u8>> {
        let class = class_of(layout)?;
        // SAFETY: the caller is the owner.
        if let Some(block) = unsafe { self.pop_owned(class) } {
            return Some(block);
        }
        self.take_after_drain(class)
    }

    #[cold]
    #[inline(never)]
    fn take_after_drain(&self, class: usize) -> Option<NonNull<u8>> {
        // SAFETY: only reached from `take`, whose caller is the owner.
        unsafe {
            self.drain_remote();
            self.pop_owned(class)
        }
    }

    /// # Safety
    ///
    /// The caller is the owner.
    #[inline]
    unsafe fn pop_owned(&self, class: usize) -> Option<NonNull<u8>> {
        self.owned.with_mut(|owned| {
            // SAFETY: the caller is the owner, so nobody else touches it.
            let owned = unsafe { &mut *owned };
            let head = NonNull::new(owned.lists[class])?;
            // SAFETY: every block in a list is a free block this cache owns,
            // with its link written when it was pushed.
            owned.lists[class] = unsafe { (*head.as_ptr()).next };
            owned.bytes -= (class + 1) * WORD;
            Some(head.cast())
        })
    }

    /// Keeps `block` for reuse; `false` (and the block untouched) if the
    /// cache does not take it (wrong layout, or the owner's lists are
    /// full), and the caller frees it itself.
    ///
    /// # Safety
    ///
    /// Called by the owner only. `block` was allocated by the global
    /// allocator with `layout` (or taken from a cache for `layout`), is not
    /// used afterwards if `true` is returned, and nobody else frees it.
    #[inline]
    unsafe fn give_owned(&self, block: NonNull<u8>, layout: Layout) -> bool {
        let Some(class) = class_of(layout) else {
            return false;
        };
        // SAFETY: the caller is the owner; the block is ours from now on.
        unsafe { self.push_owned(block.cast(), class) }
    }

    /// # Safety
    ///
    /// The caller is the owner and gives up `block`, a block of class
    /// `class`.
    #[inline]
    unsafe fn push_owned(&self, block: NonNull<FreeBlock>, class: usize) -> bool {
        let size = (class + 1) * WORD;
        self.owned.with_mut(|owned| {
            // SAFETY: the caller is the owner.
            let owned = unsafe { &mut *owned };
            if owned.bytes + size > OWNED_BYTES {
                return false;
            }
            // SAFETY: the block is at least a `FreeBlock` long, aligned for
            // it (`class_of`), and ours.
            unsafe {
                block.as_ptr().write(FreeBlock {
                    next: owned.lists[class],
                    size,
                })
            };
            owned.lists[class] = block.as_ptr();
            owned.bytes += size;
            true
        })
    }

    /// Keeps `block` for the owner to reuse, from any thread; `false` (and
    /// the block untouched) if the cache does not take blocks of `layout`.
    ///
    /// # Safety
    ///
    /// `block` was allocated by the global allocator with `layout` (or
    /// taken from a cache for `layout`); if `true` is returned it is not
    /// used afterwards, and nobody else frees it.
    #[inline]
    pub unsafe fn give_remote(&self, block: NonNull<u8>, layout: Layout) -> bool {
        let Some(class) = class_of(layout) else {
            return false;
        };
        let block = block.cast::<FreeBlock>().as_ptr();
        let size = (class + 1) * WORD;
        let mut head = self.remote.load(Relaxed);
        loop {
            // SAFETY: the block is ours until the CAS publishes it; the
            // link is written before the release CAS that makes it
            // reachable, and the owner reads it after its acquire swap.
            unsafe { block.write(FreeBlock { next: head, size }) };
            match self
                .remote
                .compare_exchange_weak(head, block, Release, Relaxed)
            {
                Ok(_) => return true,
                Err(now) => head = now,
            }
        }
    }

    /// Moves the blocks other threads gave back into the owner's lists,
    /// freeing those beyond [`OWNED_BYTES`]. Executors call it when the
    /// owner is about to go idle, so memory freed elsewhere is not held
    /// longer than that.
    ///
    /// # Safety
    ///
    /// Called by the owner only.
    unsafe fn drain_remote(&self) {
        if self.remote.load(Relaxed).is_null() {
            return;
        }
        let mut block = self.remote.swap(ptr::null_mut(), Acquire);
        while let Some(free) = NonNull::new(block) {
            // SAFETY: the swap took the whole stack, so its blocks are ours;
            // their links and sizes were written before the pushes' release
            // CASes, which the acquire swap synchronised with.
            let FreeBlock { next, size } = unsafe { free.as_ptr().read() };
            block = next;
            // SAFETY: we are the owner and the block is ours; its size came
            // from `class_of` when it was given back.
            if !unsafe { self.push_owned(free, size / WORD - 1) } {
                // SAFETY: cached blocks were allocated with this layout.
                unsafe { dealloc(free.as_ptr().cast(), block_layout(size)) };
            }
        }
    }

    /// Bytes held in the owner's lists (blocks given back remotely and not
    /// drained yet are not counted).
    ///
    /// # Safety
    ///
    /// Called by the owner only.
    unsafe fn owned_bytes(&self) -> usize {
        // SAFETY: the caller is the owner.
        self.owned.with(|owned| unsafe { (*owned).bytes })
    }
}

/// The owner's access to a [`CellCache`]: proof, made by the executor,
/// that the calling thread is the one thread currently allowed to take
/// from the cache and give back into its lists.
///
/// It borrows the cache and cannot leave the thread it was made on.
pub struct CellCacheOwner<'a> {
    cache: &'a CellCache,
    _not_send: PhantomData<*const ()>,
}

impl core::fmt::Debug for CellCacheOwner<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("CellCacheOwner").finish_non_exhaustive()
    }
}

impl CellCache {
    /// Claims the owner's access on the calling thread.
    ///
    /// # Safety
    ///
    /// While the returned value (or any other made by this method for the
    /// same cache) is alive, no other thread has one: the executor gives
    /// each cache one owning thread at a time (a worker thread for its
    /// life; the holder of a runtime's core, handed over with acquire and
    /// release ordering).
    #[inline]
    pub unsafe fn owner(&self) -> CellCacheOwner<'_> {
        CellCacheOwner {
            cache: self,
            _not_send: PhantomData,
        }
    }
}

impl CellCacheOwner<'_> {
    /// A block for `layout`, if one is cached (its contents are
    /// unspecified); draws in what other threads gave back when the
    /// class is empty.
    #[inline]
    pub fn take(&self, layout: Layout) -> Option<NonNull<u8>> {
        // SAFETY: an owner token exists only on the owning thread.
        unsafe { self.cache.take(layout) }
    }

    /// Keeps `block` for reuse; `false` (and the block untouched) if the
    /// cache does not take it (see [`CellCache::caches`]) or the owner's
    /// lists already hold [`OWNED_BYTES`]: the caller frees it itself.
    ///
    /// # Safety
    ///
    /// `block` was allocated by the global allocator with `layout` (or
    /// taken from a cache for `layout`); if `true` is returned it is not
    /// used afterwards, and nobody else frees it.
    #[inline]
    pub unsafe fn give(&self, block: NonNull<u8>, layout: Layout) -> bool {
        // SAFETY: owner token, and the caller's promise about the block.
        unsafe { self.cache.give_owned(block, layout) }
    }

    /// Moves what other threads gave back into the owner's lists, freeing
    /// what does not fit. Executors call it when the owning thread is
    /// about to go idle, so memory freed elsewhere is not held for long.
    pub fn drain_remote(&self) {
        // SAFETY: owner token.
        unsafe { self.cache.drain_remote() }
    }

    /// Bytes held in the owner's lists (blocks given back by other threads
    /// and not drained yet are not counted).
    pub fn owned_bytes(&self) -> usize {
        // SAFETY: owner token.
        unsafe { self.cache.owned_bytes() }
    }
}

/// The layout every cached block of `size` bytes was allocated with.
fn block_layout(size: usize) -> Layout {
    // SAFETY: `size` is a class size: a non-zero multiple of the alignment,
    // far below `isize::MAX`.
    unsafe { Layout::from_size_align_unchecked(size, ALIGN) }
}

/// Frees every block of the list starting at `block`.
///
/// # Safety
///
/// The blocks are free blocks nobody else can reach.
unsafe fn free_list(mut block: *mut FreeBlock) {
    while let Some(free) = NonNull::new(block) {
        // SAFETY: per the caller.
        let FreeBlock { next, size } = unsafe { free.as_ptr().read() };
        block = next;
        // SAFETY: allocated with this layout (`block_layout`).
        unsafe { dealloc(free.as_ptr().cast(), block_layout(size)) };
    }
}

impl Drop for CellCache {
    fn drop(&mut self) {
        let remote = self.remote.swap(ptr::null_mut(), Acquire);
        // SAFETY: `&mut self`: no other thread can push or own any more, and
        // the stack's blocks were published by release CASes.
        unsafe { free_list(remote) };
        self.owned.with_mut(|owned| {
            // SAFETY: `&mut self` makes us the owner.
            for &list in unsafe { &(*owned).lists } {
                // SAFETY: the owner's lists hold free blocks only we reach.
                unsafe { free_list(list) };
            }
        });
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    extern crate std;
    use std::alloc::alloc;
    use std::vec::Vec;

    use super::*;

    fn layout(size: usize) -> Layout {
        Layout::from_size_align(size, ALIGN).unwrap()
    }

    fn fresh(layout: Layout) -> NonNull<u8> {
        // SAFETY: the layouts used here are not zero-sized.
        NonNull::new(unsafe { alloc(layout) }).unwrap()
    }

    #[test]
    fn a_given_block_is_taken_back_for_the_same_size_only() {
        let cache = CellCache::new();
        let l96 = layout(96);
        let block = fresh(l96);
        // SAFETY: this test is the owner; blocks are fresh and given once.
        unsafe {
            assert!(cache.give_owned(block, l96));
            assert_eq!(cache.owned_bytes(), 96);
            assert!(cache.take(layout(104)).is_none(), "another class");
            assert_eq!(cache.take(l96), Some(block));
            assert_eq!(cache.owned_bytes(), 0);
            assert!(cache.take(l96).is_none());
            dealloc(block.as_ptr(), l96);
        }
    }

    #[test]
    fn layouts_it_cannot_class_are_refused_untouched() {
        let cache = CellCache::new();
        for bad in [
            Layout::from_size_align(96, 16).unwrap(),
            layout(97),
            layout(MAX_BLOCK + WORD),
            layout(WORD),
        ] {
            assert!(!CellCache::caches(bad), "{bad:?}");
            let block = fresh(bad);
            // SAFETY: owner; refused blocks stay ours and are freed here.
            unsafe {
                assert!(!cache.give_owned(block, bad));
                assert!(!cache.give_remote(block, bad));
                assert!(cache.take(bad).is_none());
                dealloc(block.as_ptr(), bad);
            }
        }
        assert!(CellCache::caches(layout(MAX_BLOCK)));
    }

    /// A block pointer that may cross threads (it is plain memory).
    #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
    struct Block(NonNull<u8>);
    // SAFETY: the test hands each block to one thread at a time.
    unsafe impl Send for Block {}
    // SAFETY: as above.
    unsafe impl Sync for Block {}

    #[test]
    fn blocks_given_by_other_threads_reach_the_owner() {
        let cache = CellCache::new();
        let l = layout(160);
        let blocks: Vec<Block> = (0..64).map(|_| Block(fresh(l))).collect();
        std::thread::scope(|s| {
            for half in blocks.chunks(32) {
                let cache = &cache;
                s.spawn(move || {
                    for &Block(b) in half {
                        // SAFETY: each block is given once, by one thread.
                        assert!(unsafe { cache.give_remote(b, l) });
                    }
                });
            }
        });
        let mut taken: Vec<Block> = (0..64)
            // SAFETY: this thread is the owner.
            .map(|_| Block(unsafe { cache.take(l) }.expect("every block comes back")))
            .collect();
        // SAFETY: owner.
        assert!(unsafe { cache.take(l) }.is_none(), "and no block twice");
        taken.sort_unstable();
        let mut expected = blocks;
        expected.sort_unstable();
        assert_eq!(taken, expected);
        for Block(b) in taken {
            // SAFETY: taken back above, each once.
            unsafe { dealloc(b.as_ptr(), l) };
        }
    }

    #[test]
    fn the_owned_lists_stop_at_their_bound_and_a_drain_frees_the_excess() {
        let cache = CellCache::new();
        let l = layout(MAX_BLOCK);
        let fit = OWNED_BYTES / MAX_BLOCK;
        // SAFETY: owner throughout; refused blocks are freed here, the
        // rest by the cache's drop (which Miri checks for leaks).
        unsafe {
            for _ in 0..fit {
                assert!(cache.give_owned(fresh(l), l));
            }
            assert_eq!(cache.owned_bytes(), OWNED_BYTES);
            let extra = fresh(l);
            assert!(!cache.give_owned(extra, l), "over the bound");
            dealloc(extra.as_ptr(), l);
            for _ in 0..3 {
                assert!(
                    cache.give_remote(fresh(l), l),
                    "remote gives are not bounded"
                );
            }
            cache.drain_remote();
            assert_eq!(
                cache.owned_bytes(),
                OWNED_BYTES,
                "the drain freed what did not fit"
            );
        }
    }

    #[test]
    fn dropping_the_cache_frees_what_it_holds() {
        // Under Miri a block left behind is reported as a leak.
        let cache = CellCache::new();
        // SAFETY: owner; each block given once.
        unsafe {
            assert!(cache.give_owned(fresh(layout(64)), layout(64)));
            assert!(cache.give_remote(fresh(layout(128)), layout(128)));
        }
        drop(cache);
    }
}
