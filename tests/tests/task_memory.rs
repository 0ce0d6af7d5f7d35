//! Task memory across the seams: the runtimes recycle the memory of
//! finished tasks through per-thread cell caches (`minirt_core::task::
//! CellCache`), and a task's memory may be freed on any thread — the
//! worker that stole it, a thread that dropped its `JoinHandle` or its
//! last waker, the thread dropping the runtime, or after the runtime is
//! gone. Every combination here must give each future and output back
//! exactly once, keep every value intact, and leave nothing behind (Miri
//! and the sanitizers run this file and report leaks and reuse of freed
//! memory).
//!
//! Whether memory is *recycled* is checked by counting the global
//! allocator's allocations while spawning a second wave of tasks like the
//! first.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

use minirt::{Builder, JoinHandle};
use minirt_tests::{bounded, each_runtime_and_clock, note_step, Case, ClockKind, FLAVORS};

/// Counts the allocations of a thread while its `COUNTING` is set (the
/// other tests of this file run on other threads at the same time).
struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to `System`, only counting on the side.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.fetch_add(1, SeqCst);
        }
        // SAFETY: forwarded.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const LIMIT: Duration = Duration::from_secs(120);

/// Fewer under Miri, which is ~1000x slower.
const WAVE: usize = if cfg!(miri) { 24 } else { 600 };

/// Counts drops of the values it is attached to.
#[derive(Clone, Default)]
struct Drops(Arc<AtomicUsize>);

impl Drops {
    fn count(&self) -> usize {
        self.0.load(SeqCst)
    }
}

/// A value that counts its drop and carries a payload of `N` words that
/// must come back unchanged.
struct Tracked<const N: usize> {
    words: [u64; N],
    drops: Drops,
}

impl<const N: usize> Tracked<N> {
    fn new(seed: u64, drops: &Drops) -> Self {
        Tracked {
            words: std::array::from_fn(|i| seed.wrapping_mul(31).wrapping_add(i as u64)),
            drops: drops.clone(),
        }
    }
    fn check(&self, seed: u64) {
        let expected: [u64; N] =
            std::array::from_fn(|i| seed.wrapping_mul(31).wrapping_add(i as u64));
        assert_eq!(self.words, expected, "a task's value changed (seed {seed})");
    }
}

impl<const N: usize> Drop for Tracked<N> {
    fn drop(&mut self) {
        self.drops.0.fetch_add(1, SeqCst);
    }
}

/// A 16-byte-aligned value: its tasks' cells are not cached (the caches
/// take pointer-aligned blocks only) and must still be freed right.
#[repr(align(16))]
struct Aligned16(u128);

/// Spawns one wave of tasks of three sizes (small, bigger than any cache
/// class, over-aligned) from inside the runtime, and checks every output.
async fn wave(round: u64, drops: &Drops) {
    let mut small: Vec<JoinHandle<Tracked<2>>> = Vec::new();
    let mut big: Vec<JoinHandle<Tracked<96>>> = Vec::new();
    let mut aligned: Vec<JoinHandle<Aligned16>> = Vec::new();
    for i in 0..WAVE as u64 {
        let seed = round * 1_000_000 + i;
        let input = Tracked::<2>::new(seed, drops);
        small.push(minirt::spawn(async move {
            minirt::yield_now().await;
            input.check(seed);
            input
        }));
        if i % 8 == 0 {
            let input = Tracked::<96>::new(seed, drops);
            big.push(minirt::spawn(async move {
                input.check(seed);
                input
            }));
            aligned.push(minirt::spawn(
                async move { Aligned16(u128::from(seed) << 64) },
            ));
        }
    }
    for (i, handle) in small.into_iter().enumerate() {
        handle
            .await
            .expect("a small task failed")
            .check(round * 1_000_000 + i as u64);
    }
    for (i, handle) in big.into_iter().enumerate() {
        handle
            .await
            .expect("a big task failed")
            .check(round * 1_000_000 + 8 * i as u64);
    }
    for (i, handle) in aligned.into_iter().enumerate() {
        let out = handle.await.expect("an aligned task failed");
        assert_eq!(out.0, u128::from(round * 1_000_000 + 8 * i as u64) << 64);
    }
}

/// The values one wave creates: inputs, which become the outputs.
fn values_per_wave() -> usize {
    WAVE + WAVE.div_ceil(8)
}

#[test]
fn waves_of_tasks_recycle_their_memory_and_keep_every_value() {
    bounded(LIMIT, || {
        each_runtime_and_clock(|case| {
            let drops = Drops::default();
            for round in 0..3 {
                let d = drops.clone();
                // Spawned from inside a task, so a worker (or the core
                // holder) allocates them: the case that uses the caches.
                case.rt.block_on(async move {
                    minirt::spawn(async move { wave(round, &d).await })
                        .await
                        .expect("the wave's task failed")
                });
            }
            assert_eq!(
                drops.count(),
                3 * values_per_wave(),
                "{}: every value dropped once",
                case.label
            );
        });
    });
}

/// The second wave of spawns on a runtime's own thread reuses the first
/// wave's memory: it makes far fewer allocations than it spawns tasks.
/// (One worker, so the whole wave runs on the thread that counts.)
#[test]
fn a_second_wave_of_spawns_reuses_the_first_waves_memory() {
    bounded(LIMIT, || {
        for (name, builder) in [
            ("current_thread", Builder::current_thread()),
            (
                "multi_thread(1 worker)",
                Builder::multi_thread().worker_threads(1),
            ),
        ] {
            let rt = builder.build().unwrap();
            let allocations = rt.block_on(async {
                minirt::spawn(async {
                    let spawn_wave = || async {
                        let handles: Vec<_> =
                            (0..WAVE).map(|i| minirt::spawn(async move { i })).collect();
                        for (i, handle) in handles.into_iter().enumerate() {
                            assert_eq!(handle.await.unwrap(), i);
                        }
                    };
                    spawn_wave().await;
                    ALLOCATIONS.store(0, SeqCst);
                    COUNTING.with(|c| c.set(true));
                    spawn_wave().await;
                    COUNTING.with(|c| c.set(false));
                    ALLOCATIONS.load(SeqCst)
                })
                .await
                .unwrap()
            });
            // The handles' Vec is a few allocations; without the cache each
            // of the WAVE tasks would be one.
            assert!(
                allocations < WAVE / 4,
                "{name}: {allocations} allocations for {WAVE} spawns after a first wave"
            );
        }
    });
}

/// Tasks whose last reference goes away on a thread that is not the
/// runtime's: their `JoinHandle`s are awaited and dropped on another
/// thread, and their wakers outlive them there. The runtime then spawns
/// more (taking in the memory given back from outside) and is dropped.
#[test]
fn tasks_freed_on_foreign_threads_come_back_whole() {
    bounded(LIMIT, || {
        each_runtime_and_clock(|case| {
            let drops = Drops::default();
            let (to_foreign, foreign) = mpsc::channel::<Vec<JoinHandle<Tracked<4>>>>();
            let foreign_drops = drops.clone();
            let joiner = thread::spawn(move || {
                for handles in foreign {
                    minirt::block_on(async {
                        for (i, handle) in handles.into_iter().enumerate() {
                            handle.await.expect("a task failed").check(i as u64);
                        }
                    });
                }
                foreign_drops.count()
            });
            for _ in 0..3 {
                let d = drops.clone();
                let handles = case.rt.block_on(async move {
                    minirt::spawn(async move {
                        let handles: Vec<_> = (0..WAVE as u64)
                            .map(|i| {
                                let input = Tracked::<4>::new(i, &d);
                                minirt::spawn(async move {
                                    minirt::yield_now().await;
                                    input
                                })
                            })
                            .collect();
                        handles
                    })
                    .await
                    .unwrap()
                });
                to_foreign.send(handles).unwrap();
                // Meanwhile the runtime goes on spawning and finishing.
                let d = drops.clone();
                case.rt.block_on(async move {
                    minirt::spawn(async move { wave(7, &d).await })
                        .await
                        .unwrap()
                });
            }
            drop(to_foreign);
            joiner.join().expect("the foreign thread panicked");
            assert_eq!(
                drops.count(),
                3 * (WAVE + values_per_wave()),
                "{}: every value dropped once",
                case.label
            );
        });
    });
}

/// A current-thread runtime's core, with the cache it owns, moves between
/// threads: each `block_on` thread in turn spawns on it and frees there.
#[test]
fn the_current_thread_core_hands_its_cache_from_thread_to_thread() {
    bounded(LIMIT, || {
        let rt = Arc::new(Builder::current_thread().build().unwrap());
        let drops = Drops::default();
        for round in 0..4 {
            note_step(format!("round {round}"));
            let rt = rt.clone();
            let d = drops.clone();
            thread::spawn(move || rt.block_on(wave(round, &d)))
                .join()
                .expect("a block_on thread panicked");
        }
        assert_eq!(drops.count(), 4 * values_per_wave());
    });
}

/// Tasks still alive when their runtime is dropped: cancelled at shutdown,
/// with their memory freed when the last handle goes, after the workers
/// (and their caches' owners) are gone.
#[test]
fn handles_outliving_their_runtime_free_their_tasks() {
    bounded(LIMIT, || {
        for flavor in FLAVORS {
            let case = Case::new(flavor, ClockKind::Real);
            note_step(&case.label);
            let drops = Drops::default();
            let d = drops.clone();
            let pending = case.rt.block_on(async move {
                minirt::spawn(async move {
                    // Some tasks finish (their memory goes to the caches)...
                    wave(1, &d).await;
                    // ...and some never do.
                    (0..WAVE as u64)
                        .map(|i| {
                            let held = Tracked::<3>::new(i, &d);
                            minirt::spawn(async move {
                                std::future::pending::<()>().await;
                                drop(held);
                            })
                        })
                        .collect::<Vec<_>>()
                })
                .await
                .unwrap()
            });
            let label = case.label.clone();
            drop(case);
            assert_eq!(
                drops.count(),
                values_per_wave() + WAVE,
                "{label}: the pending futures were dropped at shutdown"
            );
            for handle in pending {
                let err = minirt::block_on(handle).expect_err("a pending task finished");
                assert!(err.is_cancelled(), "{label}: {err:?}");
            }
        }
    });
}
