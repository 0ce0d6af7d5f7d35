//! The hierarchical timer wheel.
//!
//! Why: a runtime holds thousands of sleeps and timeouts, most of which are
//! cancelled before they fire. A wheel makes registering and cancelling O(1)
//! and finds the next deadline with a few bit operations, where a heap pays
//! O(log n) for both and cannot cancel cheaply.
//!
//! How: [`level`] holds the arithmetic (which level and slot a deadline goes
//! in), [`lists`] the storage (a slab of entries linked into per-slot lists).
//! This file holds the rules that tie them together:
//!
//! 1. An entry whose deadline equals now is on the *due* list; nothing on the
//!    wheel is ever due earlier than now (past deadlines are raised to now).
//! 2. Any other entry is at `level_for(now, deadline)` in slot
//!    `slot_for(deadline, level)`, or on the overflow list. So every occupied
//!    slot of a level lies strictly after now's slot in now's rotation, the
//!    lowest set bit of a level's bitmap is its next slot, and lower levels are
//!    always due before higher ones.
//! 3. Time moves only in [`TimerWheel::poll_expired`], and only when the due
//!    list is empty: to the start of the next occupied slot, whose entries are
//!    then re-filed (cascaded) by rule 2, or to the caller's target if that
//!    comes first. Because now never passes an occupied slot, rule 2 keeps
//!    holding, and same-deadline entries keep their insertion order.
//! 4. Nothing on the hot paths walks a list. The caller learns when to come
//!    back from [`TimerWheel::next_expiration`], which reads only bitmaps:
//!    for a timer above level 0 it names the start of its slot, where the
//!    slot is cascaded one level closer (tokio's wheel does the same). The
//!    exact [`TimerWheel::next_deadline`] walks the earliest slot and is kept
//!    for tests and diagnostics. (An exact, memoized earliest deadline used to
//!    drive parking: cancelling n timers of one slot cost O(n²), because each
//!    cancel of an earliest timer made the next look walk the slot again.)

mod level;
mod lists;

#[cfg(any(test, fuzzing))]
pub(crate) mod fuzz;
#[cfg(test)]
mod tests;

use core::fmt;

use slab::Slab;

use level::{epoch_start, level_for, slot_for, slot_start, NUM_LEVELS};
use lists::{Entry, Lists, Location, NIL};

/// Names one timer in a [`TimerWheel`], for [`cancel`](TimerWheel::cancel),
/// [`reset`](TimerWheel::reset) and [`deadline`](TimerWheel::deadline).
///
/// A key stays valid until its timer fires or is cancelled. After that it is
/// *stale*: every method given it does nothing and says so, even when a new
/// timer has reused its storage (the key carries a generation number; it would
/// take 2^32 insertions landing on the same storage to alias).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct TimerKey {
    /// Index of the entry in the wheel's slab.
    index: u32,
    /// The entry's generation, to tell it from later users of the same index.
    generation: u32,
}

/// A hierarchical timer wheel of values of type `T`, driven by the caller's
/// clock.
///
/// Time is a `u64` count of *ticks* (milliseconds in minirt) since an
/// arbitrary origin; the wheel never reads a clock, the caller tells it what
/// time it is with [`advance_to`](Self::advance_to) or
/// [`poll_expired`](Self::poll_expired). Every `u64` deadline is accepted.
///
/// Timers are filed in six levels of 64 slots; a level's slot spans as many
/// ticks as a whole rotation of the level below:
///
/// | level | slot width | reaches (ticks ahead of now, at most) |
/// |-------|------------|---------------------------------------|
/// | 0 | 1 ms | 64 ms |
/// | 1 | 64 ms | 4.1 s (2^12 ms) |
/// | 2 | 4.1 s | 4.4 min (2^18 ms) |
/// | 3 | 4.4 min | 4.7 h (2^24 ms) |
/// | 4 | 4.7 h | 12.4 days (2^30 ms) |
/// | 5 | 12.4 days | 2.2 years (2^36 ms) |
/// | overflow | — | anything further, re-filed as time advances |
///
/// The level is chosen by the highest base-64 digit in which the deadline
/// differs from now, so a timer may sit one level higher than its distance
/// suggests when it crosses a boundary (and a timer just past a multiple of
/// 2^36 ms waits on the overflow list). As time reaches a slot of a higher
/// level its timers cascade down, so each timer moves at most six times.
///
/// Costs: [`insert`](Self::insert), [`cancel`](Self::cancel),
/// [`reset`](Self::reset) and [`next_expiration`](Self::next_expiration) are
/// O(1), however many timers share a slot or a deadline. Firing is O(1) per
/// timer plus at most one cascade per level it passes (six moves in all).
/// Only [`next_deadline`](Self::next_deadline), the exact earliest deadline,
/// walks the timers of the earliest occupied slot; a runtime deciding how
/// long to park asks `next_expiration` instead.
///
/// # Examples
///
/// ```
/// use minirt_core::time::TimerWheel;
///
/// let mut wheel = TimerWheel::new();
/// let late = wheel.insert(5_000, "late");
/// wheel.insert(20, "soon");
/// assert_eq!(wheel.next_expiration(), Some(20));
///
/// let mut fired = Vec::new();
/// wheel.advance_to(1_000, |_key, value| fired.push(value));
/// assert_eq!(fired, ["soon"]);
/// assert_eq!(wheel.now(), 1_000);
///
/// assert_eq!(wheel.cancel(late), Some("late"));
/// assert!(wheel.is_empty());
/// ```
pub struct TimerWheel<T> {
    /// The current tick. Only [`TimerWheel::poll_expired`] moves it, forwards.
    now: u64,
    /// Every pending timer.
    entries: Slab<Entry<T>>,
    /// The due list, the level slots and the overflow list threading `entries`.
    lists: Lists,
    /// Generation given to the next inserted entry.
    next_generation: u32,
    /// While the overflow list is non-empty: never more than its smallest
    /// deadline, and in a later epoch than `now` (it is the deadline of an
    /// entry filed there since the list was last empty). So nothing on the
    /// list is due before `epoch_start(overflow_floor)`, where the list is
    /// re-filed, and the list is never walked to find its minimum.
    overflow_floor: u64,
    /// Entries visited by list walks (re-filing and `next_deadline`), for
    /// the tests that keep the hot paths walk-free.
    #[cfg(test)]
    visits: core::cell::Cell<u64>,
}

impl<T> TimerWheel<T> {
    /// An empty wheel at tick 0.
    pub fn new() -> Self {
        Self::with_start(0)
    }

    /// An empty wheel at tick `now`.
    ///
    /// ```
    /// use minirt_core::time::TimerWheel;
    ///
    /// let wheel = TimerWheel::<()>::with_start(1 << 40);
    /// assert_eq!(wheel.now(), 1 << 40);
    /// ```
    pub fn with_start(now: u64) -> Self {
        TimerWheel {
            now,
            entries: Slab::new(),
            lists: Lists::new(),
            next_generation: 0,
            overflow_floor: u64::MAX,
            #[cfg(test)]
            visits: core::cell::Cell::new(0),
        }
    }

    /// The wheel's current tick: the largest target it has been advanced to,
    /// except while [`poll_expired`](Self::poll_expired) is part-way through a
    /// target, when it is the deadline of the timer it returned last.
    pub fn now(&self) -> u64 {
        self.now
    }

    /// Calls `f` with the deadline and the value of every pending timer, in
    /// no particular order (what a task dump reads).
    pub fn for_each(&self, mut f: impl FnMut(u64, &T)) {
        for (_, entry) in self.entries.iter() {
            f(entry.deadline, &entry.value);
        }
    }

    /// Number of timers that have neither fired nor been cancelled.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether [`len`](Self::len) is zero.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Adds a timer holding `value`, due at tick `deadline`, and returns its
    /// key. A deadline at or before [`now`](Self::now) is recorded as `now`:
    /// the timer fires on the next advance, after timers already due.
    ///
    /// # Panics
    ///
    /// If the wheel already holds `u32::MAX - 1` timers.
    pub fn insert(&mut self, deadline: u64, value: T) -> TimerKey {
        let deadline = deadline.max(self.now);
        let generation = self.next_generation;
        self.next_generation = generation.wrapping_add(1);
        let index = self.entries.insert(Entry::new(value, deadline, generation));
        let index = match u32::try_from(index) {
            Ok(index) if index != NIL => index,
            _ => panic!("TimerWheel: cannot hold more than {} timers", NIL - 1),
        };
        self.file(index);
        TimerKey { index, generation }
    }

    /// Removes the timer named by `key` and returns its value, or `None` if it
    /// already fired or was cancelled.
    ///
    /// ```
    /// use minirt_core::time::TimerWheel;
    ///
    /// let mut wheel = TimerWheel::new();
    /// let key = wheel.insert(10, 'a');
    /// assert_eq!(wheel.cancel(key), Some('a'));
    /// assert_eq!(wheel.cancel(key), None);
    /// ```
    pub fn cancel(&mut self, key: TimerKey) -> Option<T> {
        let index = self.resolve(key)?;
        Some(self.remove(index).1)
    }

    /// Moves the timer named by `key` to `deadline` (raised to
    /// [`now`](Self::now) if earlier), keeping its value and its key. Returns
    /// `false`, changing nothing, if the timer already fired or was cancelled.
    /// For ordering among timers with equal deadlines, a reset counts as a new
    /// insertion.
    ///
    /// ```
    /// use minirt_core::time::TimerWheel;
    ///
    /// let mut wheel = TimerWheel::new();
    /// let key = wheel.insert(10, ());
    /// assert!(wheel.reset(key, 99));
    /// assert_eq!(wheel.deadline(key), Some(99));
    /// ```
    pub fn reset(&mut self, key: TimerKey, deadline: u64) -> bool {
        let Some(index) = self.resolve(key) else {
            return false;
        };
        self.lists.unlink(&mut self.entries, index);
        let deadline = deadline.max(self.now);
        self.entries[index as usize].deadline = deadline;
        self.file(index);
        true
    }

    /// When the timer named by `key` is due (after raising a past deadline to
    /// the then-current tick), or `None` if it already fired or was cancelled.
    pub fn deadline(&self, key: TimerKey) -> Option<u64> {
        let index = self.resolve(key)?;
        Some(self.entries[index as usize].deadline)
    }

    /// The value of the live timer named by `key`, to update it in place
    /// (a sleep replacing its stored waker), or `None` if it already fired
    /// or was cancelled.
    ///
    /// ```
    /// # use minirt_core::time::TimerWheel;
    /// let mut wheel = TimerWheel::new();
    /// let key = wheel.insert(5, "old");
    /// *wheel.get_mut(key).unwrap() = "new";
    /// assert_eq!(wheel.cancel(key), Some("new"));
    /// assert!(wheel.get_mut(key).is_none());
    /// ```
    pub fn get_mut(&mut self, key: TimerKey) -> Option<&mut T> {
        let index = self.resolve(key)?;
        Some(&mut self.entries[index as usize].value)
    }

    /// When the caller should next advance the wheel, or `None` if it holds
    /// no timers: the tick at which a timer fires or timers move one level
    /// closer to firing. This is what a runtime parks until.
    ///
    /// Why not the exact earliest deadline: finding that means walking the
    /// timers of a wide slot, and doing so after every cancel made cancelling
    /// n timers of one slot cost O(n²). This reads only the level bitmaps.
    ///
    /// It is never after the earliest deadline and never before
    /// [`now`](Self::now) (it equals `now` when timers are due but not yet
    /// fired). When the earliest timers are on level 0 (due in now's 64-tick
    /// rotation) it *is* the earliest deadline; otherwise it is the start of
    /// the slot holding them, where advancing re-files them a level lower.
    /// So a caller that keeps advancing to it (a mock clock jumping while
    /// idle) reaches the earliest deadline in at most eight steps, firing
    /// nothing early.
    ///
    /// ```
    /// use minirt_core::time::TimerWheel;
    ///
    /// let mut wheel = TimerWheel::new();
    /// wheel.insert(100_000, ());
    /// let mut fired = 0;
    /// let mut steps = Vec::new();
    /// while fired == 0 {
    ///     let next = wheel.next_expiration().unwrap();
    ///     steps.push(next);
    ///     wheel.advance_to(next, |_, ()| fired += 1);
    /// }
    /// // The start of the 4096-tick slot, of the 64-tick slot, the deadline.
    /// assert_eq!(steps, [98_304, 99_968, 100_000]);
    /// ```
    pub fn next_expiration(&self) -> Option<u64> {
        if !self.lists.list(Location::Due).is_empty() {
            return Some(self.now);
        }
        if let Some((_, _, start)) = self.next_occupied_slot() {
            return Some(start);
        }
        if self.lists.list(Location::Overflow).is_empty() {
            return None;
        }
        let epoch = epoch_start(self.overflow_floor);
        debug_assert!(
            epoch > self.now,
            "overflow floor {} is in the epoch of now {}",
            self.overflow_floor,
            self.now
        );
        Some(epoch)
    }

    /// The exact earliest deadline of all timers, or `None` if there are none.
    ///
    /// Never earlier than [`now`](Self::now) (it equals `now` when timers are
    /// due but not yet fired), and advancing to it fires at least one timer.
    /// Costs a walk over the timers of the earliest occupied slot (or of the
    /// overflow list), so it is for tests and diagnostics; to decide when to
    /// wake up, use [`next_expiration`](Self::next_expiration), which is O(1).
    ///
    /// ```
    /// use minirt_core::time::TimerWheel;
    ///
    /// let mut wheel = TimerWheel::new();
    /// wheel.insert(100_000, ());
    /// let next = wheel.next_deadline().unwrap();
    /// assert_eq!(next, 100_000);
    /// let mut fired = 0;
    /// wheel.advance_to(next, |_, ()| fired += 1);
    /// assert_eq!(fired, 1);
    /// ```
    pub fn next_deadline(&self) -> Option<u64> {
        if !self.lists.list(Location::Due).is_empty() {
            return Some(self.now);
        }
        if let Some((level, slot, start)) = self.next_occupied_slot() {
            if level == 0 {
                return Some(start);
            }
            let location = Location::Slot {
                level: level as u8,
                slot: slot as u8,
            };
            return Some(self.min_deadline(location, start));
        }
        if !self.lists.list(Location::Overflow).is_empty() {
            return Some(self.min_deadline(Location::Overflow, self.overflow_floor));
        }
        None
    }

    /// Advances to tick `now` and hands every timer due at or before it to
    /// `fire`, in order of deadline, equal deadlines in insertion order. Never
    /// fires a timer due after `now`. A `now` earlier than
    /// [`now()`](Self::now) does nothing.
    ///
    /// `fire` cannot reach the wheel; to wake things that may touch the wheel,
    /// use [`poll_expired`](Self::poll_expired) instead.
    pub fn advance_to(&mut self, now: u64, mut fire: impl FnMut(TimerKey, T)) {
        while let Some((key, value)) = self.poll_expired(now) {
            fire(key, value);
        }
    }

    /// Fires one timer: if the earliest timer is due at or before `now`,
    /// advances to its deadline, removes it and returns it; otherwise advances
    /// to `now` and returns `None`. Calling this until it returns `None` is
    /// [`advance_to`](Self::advance_to), but the wheel is free between calls
    /// (timers inserted meanwhile take their place in the order).
    ///
    /// ```
    /// use minirt_core::time::TimerWheel;
    ///
    /// let mut wheel = TimerWheel::new();
    /// wheel.insert(7, "a");
    /// wheel.insert(3, "b");
    /// assert_eq!(wheel.poll_expired(10).map(|(_, v)| v), Some("b"));
    /// assert_eq!(wheel.now(), 3);
    /// assert_eq!(wheel.poll_expired(10).map(|(_, v)| v), Some("a"));
    /// assert_eq!(wheel.poll_expired(10), None);
    /// assert_eq!(wheel.now(), 10);
    /// ```
    pub fn poll_expired(&mut self, now: u64) -> Option<(TimerKey, T)> {
        let target = now;
        if target < self.now {
            return None;
        }
        loop {
            let due = self.lists.list(Location::Due).head;
            if due != NIL {
                return Some(self.remove(due));
            }
            if target == self.now {
                return None;
            }
            if let Some((level, slot, start)) = self.next_occupied_slot() {
                if start > target {
                    self.now = target;
                    return None;
                }
                self.now = start;
                self.refile(Location::Slot {
                    level: level as u8,
                    slot: slot as u8,
                });
                continue;
            }
            // The levels are empty; only the overflow list may hold timers,
            // none due before the epoch of its floor. Re-filing there moves
            // the earliest into the levels; any still further away go back
            // on the list, whose floor `file` then makes exact.
            let epoch = epoch_start(self.overflow_floor);
            if self.lists.list(Location::Overflow).is_empty() || epoch > target {
                self.now = target;
                return None;
            }
            debug_assert!(
                epoch > self.now,
                "overflow floor {} is in the epoch of now {}",
                self.overflow_floor,
                self.now
            );
            self.now = epoch;
            self.refile(Location::Overflow);
        }
    }

    /// The slab index of the live entry `key` names.
    fn resolve(&self, key: TimerKey) -> Option<u32> {
        let entry = self.entries.get(key.index as usize)?;
        (entry.generation == key.generation).then_some(key.index)
    }

    /// Unlinks and frees entry `index`, returning its key and value.
    fn remove(&mut self, index: u32) -> (TimerKey, T) {
        self.lists.unlink(&mut self.entries, index);
        let entry = self.entries.remove(index as usize);
        let key = TimerKey {
            index,
            generation: entry.generation,
        };
        (key, entry.value)
    }

    /// Links entry `index` (on no list) where rule 2 of the module docs says.
    fn file(&mut self, index: u32) {
        let deadline = self.entries[index as usize].deadline;
        debug_assert!(
            deadline >= self.now,
            "entry {index} due {deadline} filed at now {}",
            self.now
        );
        let location = if deadline <= self.now {
            Location::Due
        } else {
            match level_for(self.now, deadline) {
                NUM_LEVELS => {
                    // A floor left from an emptied list may be long past.
                    self.overflow_floor = if self.lists.list(Location::Overflow).is_empty() {
                        deadline
                    } else {
                        self.overflow_floor.min(deadline)
                    };
                    Location::Overflow
                }
                level => Location::Slot {
                    level: level as u8,
                    slot: slot_for(deadline, level) as u8,
                },
            }
        };
        self.lists.push_back(&mut self.entries, location, index);
    }

    /// Re-files every entry of the list at `location`, in list order.
    fn refile(&mut self, location: Location) {
        let mut index = self.lists.take(location);
        while index != NIL {
            self.count_visit();
            let next = Lists::next(&self.entries, index);
            self.file(index);
            index = next;
        }
    }

    /// The lowest occupied slot of the lowest occupied level, with its start.
    fn next_occupied_slot(&self) -> Option<(usize, usize, u64)> {
        (0..NUM_LEVELS).find_map(|level| {
            let occupied = self.lists.occupied(level);
            if occupied == 0 {
                return None;
            }
            let slot = occupied.trailing_zeros() as usize;
            debug_assert!(
                slot > slot_for(self.now, level),
                "level {level} slot {slot} is not after now {}",
                self.now
            );
            Some((level, slot, slot_start(self.now, level, slot)))
        })
    }

    /// The smallest deadline on the (non-empty) list at `location`, whose
    /// deadlines are all at least `floor`: the walk stops early on meeting it.
    fn min_deadline(&self, location: Location, floor: u64) -> u64 {
        let mut index = self.lists.list(location).head;
        let mut earliest = u64::MAX;
        while index != NIL && earliest > floor {
            self.count_visit();
            earliest = earliest.min(self.entries[index as usize].deadline);
            index = Lists::next(&self.entries, index);
        }
        debug_assert!(
            earliest >= floor,
            "{location:?} holds deadline {earliest} before its floor {floor}"
        );
        earliest
    }

    /// Counts one entry visited by a list walk (tests only).
    #[inline(always)]
    fn count_visit(&self) {
        #[cfg(test)]
        self.visits.set(self.visits.get() + 1);
    }

    /// Entries visited by list walks so far.
    #[cfg(test)]
    pub(crate) fn visits(&self) -> u64 {
        self.visits.get()
    }
}

impl<T> Default for TimerWheel<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> fmt::Debug for TimerWheel<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimerWheel")
            .field("now", &self.now)
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}
