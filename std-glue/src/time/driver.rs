//! The time half of the driver: one timer wheel per runtime and its clock,
//! fired from the thread that parks (see [`crate::driver`], which owns it and
//! decides when a mock clock moves).
//!
//! # Design, and why
//!
//! A sleep registers **lazily, on its first poll**, by taking the wheel's
//! lock once to insert (O(1)); dropping a registered sleep takes it once to
//! cancel (O(1)). Nothing else touches the lock on the task side: a sleep
//! that is polled again only replaces its waker if it changed. So workers
//! meet on this lock at most twice per timer, for a few dozen nanoseconds,
//! instead of on every poll (the complaint in tokio #6504 is about a global
//! lock taken on every registration *and* every poll of every timer). The
//! alternative, per-worker wheels, would make cancellation from another
//! worker and the mock clock's global "next deadline" much more involved;
//! the `timer_cancel` benchmark (register + cancel 100 000 timers across
//! workers) measures what this choice costs.
//!
//! Timers fire from the thread that parks in the I/O driver: its park
//! timeout is the wheel's next expiration ([`TimeDriver::park_timeout`]),
//! so there is no timer thread and no extra thread hop. That is the next
//! deadline when it is on the wheel's lowest level (in the current 64 ms
//! rotation), and otherwise the start of the wheel slot holding it, where
//! the wheel moves it a level closer (an O(1) look at the wheel's bitmaps:
//! asking for the exact deadline after every cancel made cancelling many
//! timers of one slot quadratic). A far timer so costs a few extra wake-ups,
//! one per wheel level at most. Busy workers also fire due
//! timers during their periodic maintenance, so a timer is not delayed by a
//! driver holder that is busy running tasks.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering::*};
use std::sync::Mutex;
use std::task::Waker;
use std::time::Duration;

use minirt_core::time::{TimerKey, TimerWheel};

use super::clock::{Clock, RunningClock};
use crate::driver::io::IoUnparker;

/// Marker for "no timer" in the cached next expiration.
const NONE: u64 = u64::MAX;

/// A runtime's timers and clock.
pub(crate) struct TimeDriver {
    pub(crate) clock: RunningClock,
    wheel: Mutex<TimerWheel<Waker>>,
    /// The wheel's [next expiration](TimerWheel::next_expiration), readable
    /// without the lock (`NONE` if empty): the earliest deadline, or the
    /// start of the slot holding it, where the wheel moves it closer. Only
    /// ever stale in the "too early" direction, which costs a spurious look,
    /// never a late timer.
    next: AtomicU64,
    /// Wakes the parked driver when a new earliest deadline arrives.
    unpark: IoUnparker,
}

impl TimeDriver {
    pub(crate) fn new(clock: &Clock, unpark: IoUnparker) -> TimeDriver {
        let clock = RunningClock::new(clock);
        let start = clock.now_tick();
        TimeDriver {
            clock,
            wheel: Mutex::new(TimerWheel::with_start(start)),
            next: AtomicU64::new(NONE),
            unpark,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, TimerWheel<Waker>> {
        self.wheel.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Calls `f` with the time left until each pending timer is due (on
    /// this driver's clock, virtual for a mock one) and its waker, under
    /// the wheel's lock: `f` must not wake or drop anything.
    pub(crate) fn for_each_timer(&self, mut f: impl FnMut(Duration, &Waker)) {
        let now = self.clock.now_tick();
        self.lock().for_each(|deadline, waker| {
            f(Duration::from_millis(deadline.saturating_sub(now)), waker);
        });
    }

    /// Registers (or, if `key` is still live, updates) a timer for `tick`
    /// that wakes `waker`. Returns the key to keep.
    pub(crate) fn register(&self, key: Option<TimerKey>, tick: u64, waker: &Waker) -> TimerKey {
        let mut wheel = self.lock();
        let key = match key {
            Some(key) if wheel.deadline(key) == Some(tick) => {
                let slot = wheel.get_mut(key).expect("deadline() saw it live");
                if !slot.will_wake(waker) {
                    slot.clone_from(waker);
                }
                key
            }
            Some(key) => {
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
        // `next` is only written under the lock, so it never goes stale in
        // the "too late" direction.
        let next = wheel.next_expiration().unwrap_or(NONE);
        let prev = self.next.swap(next, AcqRel);
        drop(wheel);
        if next < prev {
            // A new earliest deadline: a driver parked until `prev` must
            // recompute its timeout.
            self.unpark.unpark();
        }
        key
    }

    /// Cancels a timer (no-op if it already fired).
    pub(crate) fn cancel(&self, key: TimerKey) {
        let mut wheel = self.lock();
        let waker = wheel.cancel(key);
        if waker.is_some() {
            self.next
                .store(wheel.next_expiration().unwrap_or(NONE), Release);
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
        if self.next.load(Acquire) > now {
            return 0;
        }
        let mut fired = 0;
        loop {
            let mut wheel = self.lock();
            let expired = wheel.poll_expired(now);
            if expired.is_none() {
                self.next
                    .store(wheel.next_expiration().unwrap_or(NONE), Release);
            }
            drop(wheel);
            match expired {
                Some((_, waker)) => {
                    self.wake_caught(Some(waker));
                    fired += 1;
                }
                None => return fired,
            }
        }
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

    /// The tick at which the wheel next has work (a timer fires, or timers
    /// move a level closer to firing), if any timer is registered.
    pub(crate) fn next_expiration(&self) -> Option<u64> {
        match self.next.load(Acquire) {
            NONE => None,
            tick => Some(tick),
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
    /// The wheel's next expiration may be the start of a wide slot, where
    /// timers only move closer, so this advances from expiration to
    /// expiration until a timer is due: at most eight steps, all while the
    /// runtime is idle, so no task sees the clock stop in between.
    ///
    /// Each step moves the clock and takes the first due timer under the
    /// wheel lock. A thread that takes a busy unit without the advance lock
    /// (a worker woken by an unpark) may call [`process`](Self::process)
    /// while this runs and fire the due timers itself; deciding "nothing was
    /// due, move on" from this thread's own count would then jump past a
    /// deadline whose task has not run yet (seen: a sleeper due at +15 ms
    /// woke at +17 ms).
    pub(crate) fn jump_to_next_timer(&self) -> usize {
        loop {
            let mut wheel = self.lock();
            let Some(tick) = wheel.next_expiration() else {
                return 0;
            };
            self.clock.advance_to_tick(tick);
            if self.clock.now_tick() < tick {
                // Past what the mock clock can count (u64 nanoseconds).
                return 0;
            }
            let first = wheel.poll_expired(tick);
            if first.is_none() {
                // Only a cascade: timers moved a level closer.
                self.next
                    .store(wheel.next_expiration().unwrap_or(NONE), Release);
                continue;
            }
            drop(wheel);
            let first = first.map(|(_, waker)| waker);
            self.wake_caught(first);
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
