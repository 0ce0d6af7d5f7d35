//! Wheel arithmetic: which level and slot a deadline belongs in.
//!
//! Why a file of its own: every wheel bug of note (tokio #8334, timers
//! misplaced after the top level wraps) has been an off-by-one in these few
//! lines, so they live apart from the storage, as pure functions with a unit
//! test for every level boundary beside them.
//!
//! How: a tick count is read as base-64 digits. Level `L` looks at digit `L`
//! (bits `6L .. 6L+6`). A deadline is filed at the level of the *highest digit
//! in which it differs from now*; everything above that digit is shared with
//! now, so the deadline lies in the current rotation of that level and its slot
//! is never behind now's slot. Deadlines that differ from now above bit 36
//! (the top level's range) go to the overflow list.

/// Number of bits of a tick count that select a slot within one level.
pub(crate) const SLOT_BITS: u32 = 6;

/// Slots per level (64, so one `u64` occupancy bitmap covers a level).
pub(crate) const SLOTS: usize = 1 << SLOT_BITS;

/// Number of levels. Level `NUM_LEVELS` means "the overflow list".
pub(crate) const NUM_LEVELS: usize = 6;

/// Ticks covered by all levels together: `64^6 = 2^36` ms, about 2.2 years.
/// Tick counts that share every bit above this span share an *epoch*.
pub(crate) const EPOCH_TICKS: u64 = 1 << (SLOT_BITS as u64 * NUM_LEVELS as u64);

/// Ticks covered by one slot of `level` (`64^level`); `level` may be
/// `NUM_LEVELS`, giving the span of a whole epoch.
pub(crate) const fn slot_span(level: usize) -> u64 {
    1 << (SLOT_BITS as usize * level)
}

/// The level at which a timer due at `deadline` is filed when the wheel is at
/// `now`: the index of the highest base-64 digit in which the two differ.
/// Returns `NUM_LEVELS` when they differ above the top level (overflow).
///
/// Requires `deadline > now`; deadlines at or before now are due and are not
/// filed in any level.
pub(crate) fn level_for(now: u64, deadline: u64) -> usize {
    debug_assert!(
        deadline > now,
        "level_for: deadline {deadline} is not after now {now}"
    );
    let highest_differing_bit = 63 - (now ^ deadline).leading_zeros();
    let level = (highest_differing_bit / SLOT_BITS) as usize;
    if level >= NUM_LEVELS {
        NUM_LEVELS
    } else {
        level
    }
}

/// The slot of `level` that holds a timer due at `deadline`: its base-64
/// digit number `level`.
pub(crate) fn slot_for(deadline: u64, level: usize) -> usize {
    debug_assert!(
        level < NUM_LEVELS,
        "slot_for: level {level} of deadline {deadline} is not a wheel level"
    );
    ((deadline >> (SLOT_BITS as usize * level)) as usize) & (SLOTS - 1)
}

/// The first tick covered by `slot` of `level` in the rotation that contains
/// `now`. Timers in that slot are due no earlier than this tick.
pub(crate) fn slot_start(now: u64, level: usize, slot: usize) -> u64 {
    debug_assert!(
        level < NUM_LEVELS && slot < SLOTS,
        "slot_start: level {level} slot {slot} out of range"
    );
    let rotation_start = now & !(slot_span(level + 1) - 1);
    rotation_start + slot as u64 * slot_span(level)
}

/// The first tick of the epoch (a `2^36`-tick block) that contains `tick`.
pub(crate) fn epoch_start(tick: u64) -> u64 {
    tick & !(EPOCH_TICKS - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_double_six_bits_per_level() {
        assert_eq!(slot_span(0), 1);
        assert_eq!(slot_span(1), 64);
        assert_eq!(slot_span(2), 4096);
        assert_eq!(slot_span(5), 1 << 30);
        assert_eq!(slot_span(NUM_LEVELS), EPOCH_TICKS);
        assert_eq!(EPOCH_TICKS, 1 << 36);
    }

    #[test]
    fn level_boundaries_from_zero() {
        // The last tick of each level's range and the first tick of the next.
        for level in 0..NUM_LEVELS {
            let top = slot_span(level + 1);
            assert_eq!(level_for(0, top - 1), level, "deadline {}", top - 1);
            let next = if level + 1 == NUM_LEVELS {
                NUM_LEVELS
            } else {
                level + 1
            };
            assert_eq!(level_for(0, top), next, "deadline {top}");
        }
        assert_eq!(level_for(0, 1), 0);
        assert_eq!(level_for(0, u64::MAX), NUM_LEVELS);
    }

    #[test]
    fn level_depends_on_differing_digit_not_distance() {
        // One tick apart but across a level-1 boundary: digit 1 differs.
        assert_eq!(level_for(63, 64), 1);
        // 63 ticks apart inside one level-0 rotation.
        assert_eq!(level_for(64, 127), 0);
        // One tick apart across the epoch boundary: overflow.
        assert_eq!(level_for(EPOCH_TICKS - 1, EPOCH_TICKS), NUM_LEVELS);
        // Inside the second epoch everything is relative again.
        assert_eq!(level_for(EPOCH_TICKS, EPOCH_TICKS + 1), 0);
        assert_eq!(level_for(EPOCH_TICKS, 2 * EPOCH_TICKS - 1), 5);
        // Far in the future.
        assert_eq!(level_for(u64::MAX / 2, u64::MAX), NUM_LEVELS);
        assert_eq!(level_for(u64::MAX - 1, u64::MAX), 0);
    }

    #[test]
    fn slots_are_base_64_digits() {
        assert_eq!(slot_for(0, 0), 0);
        assert_eq!(slot_for(63, 0), 63);
        assert_eq!(slot_for(64, 0), 0);
        assert_eq!(slot_for(64, 1), 1);
        assert_eq!(slot_for(4095, 1), 63);
        assert_eq!(slot_for(4096, 1), 0);
        assert_eq!(slot_for(4096, 2), 1);
        assert_eq!(slot_for(EPOCH_TICKS - 1, 5), 63);
        // The wrap of the top level: the next epoch starts at slot 0 again.
        assert_eq!(slot_for(EPOCH_TICKS, 5), 0);
        assert_eq!(slot_for(EPOCH_TICKS + (3 << 30), 5), 3);
        assert_eq!(slot_for(u64::MAX, 5), 63);
    }

    #[test]
    fn slot_start_is_in_nows_rotation() {
        assert_eq!(slot_start(0, 0, 5), 5);
        assert_eq!(slot_start(70, 0, 5), 69);
        assert_eq!(slot_start(70, 1, 3), 192);
        assert_eq!(slot_start(EPOCH_TICKS + 7, 5, 2), EPOCH_TICKS + (2 << 30));
        // Every deadline lies in the slot that `level_for`/`slot_for` pick.
        for (now, deadline) in [
            (0, 1),
            (0, 64),
            (5, 4095),
            (63, 64),
            (EPOCH_TICKS - 1, EPOCH_TICKS - 1 + 1),
            (EPOCH_TICKS + 1, 2 * EPOCH_TICKS - 1),
            (u64::MAX - 100, u64::MAX),
        ] {
            let level = level_for(now, deadline);
            if level == NUM_LEVELS {
                continue;
            }
            let start = slot_start(now, level, slot_for(deadline, level));
            assert!(
                start <= deadline && deadline - start < slot_span(level),
                "now {now} deadline {deadline} level {level} start {start}"
            );
            assert!(start > now, "now {now} deadline {deadline} start {start}");
        }
    }

    #[test]
    fn epochs() {
        assert_eq!(epoch_start(0), 0);
        assert_eq!(epoch_start(EPOCH_TICKS - 1), 0);
        assert_eq!(epoch_start(EPOCH_TICKS), EPOCH_TICKS);
        assert_eq!(epoch_start(u64::MAX), u64::MAX - (EPOCH_TICKS - 1));
    }
}
