//! The time half of the driver: one timer wheel per runtime and its clock,
//! fired from the thread that parks (see [`crate::driver`], which owns it and
//! decides when a mock clock moves).
//!
//! # Design, and why
//!
//! A sleep registers **lazily, on its first poll**, by taking a wheel's
//! lock once to insert (O(1)); dropping a registered sleep takes it once to
//! cancel (O(1)). The first poll of a `sleep(duration)` on the real clock
//! does not read the clock again (`sleep` just read it to compute the
//! deadline): under the same lock, a deadline at or before the wheel's own
//! tick (which never runs ahead of the clock) is done at once, and any
//! later one is inserted, even if the clock has passed it meanwhile, and
//! fires at the wheel's next advance ([`TimeDriver::register_new`]). One
//! clock read was a quarter of a register-and-cancel (`timers_mt`).
//! Nothing else touches the lock on the task side: a sleep that is polled
//! again only replaces its waker if it changed.
//!
//! **One wheel per worker** (a *shard*; the current-thread runtime has one).
//! A sleep registers in the wheel of the worker that first polls it and
//! stays there: a cancel from another worker (the task was stolen) takes
//! that wheel's lock, which is rare. With a single wheel, two workers that
//! each register and cancel timers met on one lock and one set of cache
//! lines for every operation (`timers_mt`: tokio, whose wheels are per
//! worker too since tokio #6534, was 1.4–2.4x faster). The thread that
//! fires timers looks at every shard's next expiration, one atomic load
//! each, and locks only the shards that have something due; the mock clock
//! takes every shard's lock to find the earliest deadline (idle path only).
//!
//! Timers fire from the thread that parks in the I/O driver: its park
//! timeout is the earliest of the wheels' next expirations ([`TimeDriver::park_timeout`]),
//! so there is no timer thread and no extra thread hop. That is the next
//! deadline when it is on the wheel's lowest level (in the current 64 ms
//! rotation), and otherwise the start of the wheel slot holding it, where
//! the wheel moves it a level closer (an O(1) look at the wheel's bitmaps:
//! asking for the exact deadline after every cancel made cancelling many
//! timers of one slot quadratic). A far timer so costs a few extra wake-ups,
//! one per wheel level at most. Busy workers also fire due
//! timers during their periodic maintenance, so a timer is not delayed by a
//! driver holder that is busy running tasks.

use std::cell::Cell;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering::*};
use std::sync::{Mutex, MutexGuard};
use std::task::Waker;
use std::time::Duration;

use minirt_core::time::{TimerKey, TimerWheel};

use super::clock::{Clock, RunningClock};
use crate::driver::io::IoUnparker;

/// Marker for "no timer" in the cached next expiration.
const NONE: u64 = u64::MAX;

/// At most this many wheels, however many workers.
const MAX_SHARDS: usize = 64;

crate::loom::thread_local! {
    /// Which shard a sleep first polled on this thread registers in: the
    /// worker's index on a worker thread, 0 elsewhere (taken modulo the
    /// runtime's shard count).
    static SHARD_HINT: Cell<usize> = const { Cell::new(0) };
}

/// Makes sleeps first polled on this thread register in shard `index`
/// (modulo the shard count). Called by each multi-thread worker at start.
pub(crate) fn set_shard_hint(index: usize) {
    SHARD_HINT.with(|h| h.set(index));
}

/// A registered timer: its wheel and its key there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TimerId {
    shard: usize,
    key: TimerKey,
}

/// One timer wheel and its cached next expiration, on cache lines of its
/// own so that two workers' timers never share a line.
#[repr(align(128))]
struct Shard {
    wheel: Mutex<TimerWheel<Waker>>,
    /// The wheel's [next expiration](TimerWheel::next_expiration), readable
    /// without the lock (`NONE` if empty): the earliest deadline, or the
    /// start of the slot holding it, where the wheel moves it closer. Only
    /// written under the lock, and only ever stale in the "too early"
    /// direction, which costs a spurious look, never a late timer.
    next: AtomicU64,
}

impl Shard {
    fn lock(&self) -> MutexGuard<'_, TimerWheel<Waker>> {
        self.wheel.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Stores `wheel`'s next expiration (the caller holds `wheel`, this
    /// shard's lock); returns the previous value. A plain load and, only if
    /// it changed, a store: most registrations and cancels do not move the
    /// earliest deadline, and then the line stays clean.
    fn update_next(&self, wheel: &TimerWheel<Waker>) -> (u64, u64) {
        let next = wheel.next_expiration().unwrap_or(NONE);
        let prev = self.next.load(Relaxed);
        if next != prev {
            self.next.store(next, Release);
        }
        (prev, next)
    }
}

/// A runtime's timers and clock.
pub(crate) struct TimeDriver {
    pub(crate) clock: RunningClock,
    shards: Box<[Shard]>,
    /// Wakes the parked driver when a new earliest deadline arrives.
    unpark: IoUnparker,
}

impl TimeDriver {
    /// A driver with `shards` wheels (one per worker; clamped to 1..=64).
    pub(crate) fn new(clock: &Clock, unpark: IoUnparker, shards: usize) -> TimeDriver {
        let clock = RunningClock::new(clock);
        let start = clock.now_tick();
        let shards = (0..shards.clamp(1, MAX_SHARDS))
            .map(|_| Shard {
                wheel: Mutex::new(TimerWheel::with_start(start)),
                next: AtomicU64::new(NONE),
            })
            .collect();
        TimeDriver {
            clock,
            shards,
            unpark,
        }
    }

    /// Calls `f` with the time left until each pending timer is due (on
    /// this driver's clock, virtual for a mock one) and its waker, under
    /// each wheel's lock in turn: `f` must not wake or drop anything.
    pub(crate) fn for_each_timer(&self, mut f: impl FnMut(Duration, &Waker)) {
        let now = self.clock.now_tick();
        for shard in self.shards.iter() {
            shard.lock().for_each(|deadline, waker| {
                f(Duration::from_millis(deadline.saturating_sub(now)), waker);
            });
        }
    }

    /// Registers a new timer for `tick` that wakes `waker`, unless the wheel
    /// it goes to has already advanced to `tick` (then the deadline has
    /// passed, and `None` says so without inserting anything).
    ///
    /// This is how a sleep's first poll learns that it is due without
    /// reading the clock (tokio's rule too): a wheel's tick never runs ahead
    /// of the clock, so "the wheel is past it" proves "the clock is past
    /// it". A deadline the clock has passed but the wheel has not is
    /// registered, and fires at the wheel's next advance: the registration
    /// lowers the wheel's next expiration to it, which wakes a parked driver.
    pub(crate) fn register_new(&self, tick: u64, waker: &Waker) -> Option<TimerId> {
        let shard = SHARD_HINT.with(Cell::get) % self.shards.len();
        let wheel_shard = &self.shards[shard];
        let mut wheel = wheel_shard.lock();
        if tick <= wheel.now() {
            return None;
        }
        let key = wheel.insert(tick, waker.clone());
        self.finish_register(wheel_shard, wheel);
        Some(TimerId { shard, key })
    }

    /// Publishes `wheel`'s next expiration after a registration, unlocks it,
    /// and wakes a parked driver if the earliest deadline moved earlier.
    fn finish_register(&self, shard: &Shard, wheel: MutexGuard<'_, TimerWheel<Waker>>) {
        let (prev, next) = shard.update_next(&wheel);
        drop(wheel);
        if next < prev {
            // A new earliest deadline for this wheel: a driver parked until
            // `prev` (or later) must recompute its timeout.
            self.unpark.unpark();
        }
    }

    /// Registers (or, if `id` is still live, updates) a timer for `tick`
    /// that wakes `waker`. Returns the id to keep.
    pub(crate) fn register(&self, id: Option<TimerId>, tick: u64, waker: &Waker) -> TimerId {
        let shard = match id {
            Some(id) => id.shard,
            None => SHARD_HINT.with(Cell::get) % self.shards.len(),
        };
        let wheel_shard = &self.shards[shard];
        let mut wheel = wheel_shard.lock();
        let key = match id {
            Some(TimerId { key, .. }) if wheel.deadline(key) == Some(tick) => {
                let slot = wheel.get_mut(key).expect("deadline() saw it live");
                if !slot.will_wake(waker) {
                    slot.clone_from(waker);
                }
                key
            }
            Some(TimerId { key, .. }) => {
                // Reset to a new deadline, or re-insert if it fired meanwhile.
                if wheel.reset(key, tick) {
                    let slot = wheel.get_mut(key).expect("reset kept it live");
                    if !slot.will_wake(waker) {
                        slot.clone_from(waker);
                    }
                    key
                } else {
                    wheel.insert(tick, waker.clone())
                }
            }
            None => wheel.insert(tick, waker.clone()),
        };
        self.finish_register(wheel_shard, wheel);
        TimerId { shard, key }
    }

    /// Cancels a timer (no-op if it already fired).
    pub(crate) fn cancel(&self, id: TimerId) {
        let shard = &self.shards[id.shard];
        let mut wheel = shard.lock();
        let waker = wheel.cancel(id.key);
        if waker.is_some() {
            shard.update_next(&wheel);
        }
        drop(wheel);
        // Dropping a waker can free a task; never do it under the lock.
        drop(waker);
    }

    /// Fires every timer due at the clock's current tick; returns how many.
    /// Wakers are woken outside the lock, one at a time.
    pub(crate) fn process(&self) -> usize {
        self.process_at_now().0
    }

    /// [`process`](Self::process), also returning the tick it read (what
    /// the run loops stamp polls with, for task dumps, without a second
    /// clock read).
    pub(crate) fn process_at_now(&self) -> (usize, u64) {
        let now = self.clock.now_tick();
        (self.process_at(now), now)
    }

    fn process_at(&self, now: u64) -> usize {
        let mut fired = 0;
        for shard in self.shards.iter() {
            if shard.next.load(Acquire) > now {
                continue;
            }
            loop {
                let mut wheel = shard.lock();
                let expired = wheel.poll_expired(now);
                if expired.is_none() {
                    shard.update_next(&wheel);
                }
                drop(wheel);
                match expired {
                    Some((_, waker)) => {
                        self.wake_caught(Some(waker));
                        fired += 1;
                    }
                    None => break,
                }
            }
        }
        fired
    }

    /// Wakes a fired timer's waker. A user's waker (a `Sleep` polled with a
    /// `Context` of its own) may panic; that must neither skip the other due
    /// timers nor take down the thread driving the clock (a worker, or
    /// `block_on`). The panic hook has reported it; the payload is dropped.
    fn wake_caught(&self, waker: Option<Waker>) {
        let Some(waker) = waker else { return };
        let woke = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| waker.wake()));
        if let Err(payload) = woke {
            crate::blocking::worker::drop_panic_payload(payload);
        }
    }

    /// The tick at which some wheel next has work (a timer fires, or timers
    /// move a level closer to firing), if any timer is registered.
    pub(crate) fn next_expiration(&self) -> Option<u64> {
        match self.shards.iter().map(|s| s.next.load(Acquire)).min() {
            Some(NONE) | None => None,
            tick => tick,
        }
    }

    /// How long the parking thread may sleep before the next timer is due:
    /// `None` (no limit) if there is no timer, or the clock is a mock clock
    /// (virtual time does not pass while we sleep).
    pub(crate) fn park_timeout(&self) -> Option<Duration> {
        if self.clock.is_mock() {
            return None;
        }
        self.next_expiration()
            .map(|tick| self.clock.until_tick(tick))
    }

    /// Moves a mock clock straight to the earliest timer deadline and fires
    /// what is due there; returns how many fired (0 only if no timer is left).
    ///
    /// A wheel's next expiration may be the start of a wide slot, where
    /// timers only move closer, so this advances from expiration to
    /// expiration until a timer is due: at most eight steps, all while the
    /// runtime is idle, so no task sees the clock stop in between.
    ///
    /// Each step holds every wheel's lock (taken in shard order; every other
    /// path holds at most one) while it finds the earliest expiration, moves
    /// the clock there and takes the first due timer, so no timer registered
    /// meanwhile can be jumped over. A thread that takes a busy unit without
    /// the advance lock (a worker woken by an unpark) may call
    /// [`process`](Self::process) while this runs and fire the due timers
    /// itself; deciding "nothing was due, move on" from this thread's own
    /// count would then jump past a deadline whose task has not run yet
    /// (seen: a sleeper due at +15 ms woke at +17 ms).
    pub(crate) fn jump_to_next_timer(&self) -> usize {
        loop {
            let mut wheels: Vec<_> = self.shards.iter().map(Shard::lock).collect();
            let Some(tick) = wheels.iter().filter_map(|w| w.next_expiration()).min() else {
                return 0;
            };
            self.clock.advance_to_tick(tick);
            if self.clock.now_tick() < tick {
                // Past what the mock clock can count (u64 nanoseconds).
                return 0;
            }
            let mut first = None;
            for (shard, wheel) in self.shards.iter().zip(wheels.iter_mut()) {
                if first.is_none() {
                    first = wheel.poll_expired(tick);
                }
                shard.update_next(wheel);
            }
            drop(wheels);
            let Some((_, first)) = first else {
                // Only a cascade: timers moved a level closer.
                continue;
            };
            self.wake_caught(Some(first));
            // The rest due at `tick` (another thread may fire some of them).
            return 1 + self.process();
        }
    }
}

impl fmt::Debug for TimeDriver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimeDriver")
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}
