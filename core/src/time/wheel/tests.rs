//! Behaviour of [`TimerWheel`] at its edges, plus random programs checked
//! against the model in `fuzz.rs`.

use alloc::vec;
use alloc::vec::Vec;

use super::level::{slot_span, EPOCH_TICKS, NUM_LEVELS};
use super::{fuzz::fuzz_timer_wheel, TimerKey, TimerWheel};

/// Advances `wheel` to `now`, returning the values fired.
fn advance<T>(wheel: &mut TimerWheel<T>, now: u64) -> Vec<T> {
    let mut fired = Vec::new();
    wheel.advance_to(now, |_, value| fired.push(value));
    fired
}

/// Advances `wheel` to its next deadline, returning the values fired.
fn advance_to_next<T>(wheel: &mut TimerWheel<T>) -> Vec<T> {
    let next = wheel.next_deadline().expect("a timer is pending");
    advance(wheel, next)
}

/// Asserts that a timer due at `deadline`, inserted at `start`, fires exactly
/// at its deadline and not one tick before.
fn fires_exactly_at(start: u64, deadline: u64) {
    let mut wheel = TimerWheel::with_start(start);
    wheel.insert(deadline, deadline);
    assert_eq!(wheel.next_deadline(), Some(deadline), "start {start}");
    assert_eq!(
        advance(&mut wheel, deadline - 1),
        vec![],
        "start {start} deadline {deadline}"
    );
    assert_eq!(
        wheel.next_deadline(),
        Some(deadline),
        "start {start} after approach"
    );
    assert_eq!(
        advance(&mut wheel, deadline),
        vec![deadline],
        "start {start}"
    );
    assert!(wheel.is_empty());
    assert_eq!(wheel.next_deadline(), None);
}

#[test]
fn every_level_boundary_fires_on_time() {
    for start in [
        0,
        1,
        63,
        1000,
        EPOCH_TICKS - 1,
        EPOCH_TICKS,
        3 * EPOCH_TICKS + 12345,
    ] {
        for level in 0..=NUM_LEVELS {
            let span = slot_span(level);
            for distance in [span - 1, span, span + 1, 2 * span - 1, 64 * span - 1] {
                if distance > 0 {
                    fires_exactly_at(start, start + distance);
                }
            }
        }
    }
}

#[test]
fn many_timers_across_levels_fire_in_order_stepping_one_tick() {
    let mut wheel = TimerWheel::new();
    let last = if cfg!(miri) { 4097 } else { 262_144 };
    let deadlines: Vec<u64> = [
        1, 2, 63, 64, 65, 127, 128, 4095, 4096, 4097, 10_000, 262_143, 262_144,
    ]
    .into_iter()
    .filter(|&d| d <= last)
    .collect();
    for &d in deadlines.iter().rev() {
        wheel.insert(d, d);
    }
    let mut fired = Vec::new();
    for now in 0..=last {
        let due = advance(&mut wheel, now);
        assert!(due.iter().all(|&d| d == now), "at {now} fired {due:?}");
        fired.extend(due);
    }
    assert_eq!(fired, deadlines);
}

#[test]
fn far_jump_fires_everything_in_order() {
    let mut wheel = TimerWheel::new();
    let deadlines = [
        u64::MAX / 2,
        1 << 50,
        1 << 40,
        EPOCH_TICKS,
        EPOCH_TICKS - 1,
        1 << 30,
        365 * 24 * 3_600_000,
        1000,
        1,
    ];
    for &d in &deadlines {
        wheel.insert(d, d);
    }
    assert_eq!(wheel.next_deadline(), Some(1));
    // A year in one step fires everything up to it, nothing after.
    let year = 365 * 24 * 3_600_000;
    assert_eq!(advance(&mut wheel, year), vec![1, 1000, 1 << 30, year]);
    assert_eq!(wheel.next_deadline(), Some(EPOCH_TICKS - 1));
    assert_eq!(
        advance(&mut wheel, u64::MAX / 2),
        vec![EPOCH_TICKS - 1, EPOCH_TICKS, 1 << 40, 1 << 50, u64::MAX / 2]
    );
    assert_eq!(wheel.now(), u64::MAX / 2);
    assert!(wheel.is_empty());
}

#[test]
fn timers_after_the_top_level_wraps_are_placed_correctly() {
    // tokio #8334: once elapsed time passed 2^36 ms, new timers were misfiled.
    let mut wheel = TimerWheel::<u64>::new();
    assert_eq!(advance(&mut wheel, EPOCH_TICKS + 100), Vec::<u64>::new());
    let now = wheel.now();
    for distance in [
        1,
        64,
        5000,
        1 << 20,
        1 << 33,
        EPOCH_TICKS - 1,
        EPOCH_TICKS + 7,
    ] {
        fires_exactly_at(now, now + distance);
        let mut wheel = TimerWheel::new();
        advance(&mut wheel, now);
        wheel.insert(now + distance, distance);
        assert_eq!(wheel.next_deadline(), Some(now + distance));
        assert_eq!(
            advance(&mut wheel, now + distance - 1).len(),
            0,
            "distance {distance}"
        );
        assert_eq!(
            advance(&mut wheel, now + distance).len(),
            1,
            "distance {distance}"
        );
    }
}

#[test]
fn timers_straddling_the_epoch_boundary() {
    let start = EPOCH_TICKS - 10;
    let mut wheel = TimerWheel::with_start(start);
    for d in [
        EPOCH_TICKS + 5,
        EPOCH_TICKS - 5,
        EPOCH_TICKS,
        2 * EPOCH_TICKS + 3,
        EPOCH_TICKS - 1,
    ] {
        wheel.insert(d, d);
    }
    let mut fired = Vec::new();
    for now in start..EPOCH_TICKS + 10 {
        fired.extend(advance(&mut wheel, now));
    }
    assert_eq!(
        fired,
        [
            EPOCH_TICKS - 5,
            EPOCH_TICKS - 1,
            EPOCH_TICKS,
            EPOCH_TICKS + 5
        ]
    );
    assert_eq!(wheel.next_deadline(), Some(2 * EPOCH_TICKS + 3));
    assert_eq!(
        advance(&mut wheel, 2 * EPOCH_TICKS + 3),
        [2 * EPOCH_TICKS + 3]
    );
}

#[test]
fn deadlines_at_the_end_of_time() {
    let mut wheel = TimerWheel::with_start(u64::MAX - 5);
    wheel.insert(u64::MAX, 'z');
    wheel.insert(u64::MAX - 1, 'y');
    assert_eq!(advance(&mut wheel, u64::MAX - 2), vec![]);
    assert_eq!(advance(&mut wheel, u64::MAX), vec!['y', 'z']);
    assert_eq!(wheel.now(), u64::MAX);
}

#[test]
fn equal_deadlines_fire_in_insertion_order() {
    let mut wheel = TimerWheel::new();
    // Filed at different levels (inserted at different times), same deadline.
    wheel.insert(5000, 'a');
    advance(&mut wheel, 4000);
    wheel.insert(5000, 'b');
    advance(&mut wheel, 4990);
    wheel.insert(5000, 'c');
    wheel.insert(4995, 'x');
    assert_eq!(advance(&mut wheel, 10_000), vec!['x', 'a', 'b', 'c']);
}

#[test]
fn past_deadlines_fire_on_the_next_advance() {
    let mut wheel = TimerWheel::with_start(100);
    let key = wheel.insert(5, 'p');
    wheel.insert(100, 'q');
    assert_eq!(wheel.deadline(key), Some(100));
    assert_eq!(wheel.next_deadline(), Some(100));
    // Going backwards does nothing.
    assert_eq!(advance(&mut wheel, 50), vec![]);
    assert_eq!(wheel.now(), 100);
    assert_eq!(advance(&mut wheel, 100), vec!['p', 'q']);
}

#[test]
fn cancel_after_fire_and_twice_returns_none() {
    let mut wheel = TimerWheel::new();
    let fired = wheel.insert(10, 1);
    let cancelled = wheel.insert(20, 2);
    assert_eq!(advance(&mut wheel, 15), vec![1]);
    assert_eq!(wheel.cancel(fired), None);
    assert!(!wheel.reset(fired, 30));
    assert_eq!(wheel.deadline(fired), None);
    assert_eq!(wheel.cancel(cancelled), Some(2));
    assert_eq!(wheel.cancel(cancelled), None);
    assert!(wheel.is_empty());
    assert_eq!(wheel.next_deadline(), None);
    assert_eq!(advance(&mut wheel, 100), Vec::<i32>::new());
}

#[test]
fn stale_key_never_touches_a_reused_entry() {
    let mut wheel = TimerWheel::new();
    let old = wheel.insert(10, "old");
    assert_eq!(wheel.cancel(old), Some("old"));
    let new = wheel.insert(20, "new");
    assert_ne!(old, new, "the slab index is reused but the key differs");
    assert_eq!(wheel.cancel(old), None);
    assert!(!wheel.reset(old, 1));
    assert_eq!(wheel.deadline(old), None);
    assert_eq!(wheel.deadline(new), Some(20));
    // Also after the old timer fired rather than being cancelled.
    let fired: Vec<TimerKey> = {
        let mut keys = Vec::new();
        wheel.advance_to(20, |key, _| keys.push(key));
        keys
    };
    assert_eq!(fired, vec![new]);
    let newer = wheel.insert(30, "newer");
    assert_eq!(wheel.cancel(new), None);
    assert_eq!(wheel.len(), 1);
    assert_eq!(wheel.cancel(newer), Some("newer"));
}

#[test]
fn reset_moves_a_timer_both_ways() {
    let mut wheel = TimerWheel::new();
    let a = wheel.insert(100, 'a');
    let b = wheel.insert(1 << 40, 'b');
    let c = wheel.insert(50, 'c');
    assert!(wheel.reset(a, 1 << 41)); // later, into the overflow list
    assert!(wheel.reset(b, 10)); // earlier, out of it
    assert_eq!(wheel.next_deadline(), Some(10));
    assert_eq!(advance(&mut wheel, 60), vec!['b', 'c']);
    assert!(wheel.reset(a, 0)); // into the past: due now
    assert_eq!(wheel.deadline(a), Some(60));
    assert_eq!(wheel.next_deadline(), Some(60));
    assert!(!wheel.reset(c, 70));
    assert_eq!(advance(&mut wheel, 60), vec!['a']);
}

#[test]
fn reset_counts_as_a_new_insertion_for_ties() {
    let mut wheel = TimerWheel::new();
    let first = wheel.insert(30, 1);
    wheel.insert(30, 2);
    assert!(wheel.reset(first, 30));
    assert_eq!(advance(&mut wheel, 30), vec![2, 1]);
}

#[test]
fn next_deadline_is_exact_inside_a_wide_slot() {
    let mut wheel = TimerWheel::new();
    // All in one level-2 slot (4096 ticks wide).
    let keys: Vec<TimerKey> = [9000, 8500, 8999, 12_000]
        .iter()
        .map(|&d| wheel.insert(d, d))
        .collect();
    assert_eq!(wheel.next_deadline(), Some(8500));
    wheel.cancel(keys[1]);
    assert_eq!(wheel.next_deadline(), Some(8999));
    wheel.insert(8200, 8200);
    assert_eq!(wheel.next_deadline(), Some(8200));
    // Jumping to the reported deadline fires exactly that timer.
    assert_eq!(advance(&mut wheel, 8200), vec![8200]);
    assert_eq!(advance_to_next(&mut wheel), vec![8999]);
    assert_eq!(advance_to_next(&mut wheel), vec![9000]);
    assert_eq!(advance_to_next(&mut wheel), vec![12_000]);
    assert_eq!(wheel.next_deadline(), None);
}

#[test]
fn poll_expired_lets_the_caller_insert_between_fires() {
    let mut wheel = TimerWheel::new();
    wheel.insert(10, 10);
    wheel.insert(30, 30);
    let (_, first) = wheel.poll_expired(40).unwrap();
    assert_eq!((first, wheel.now()), (10, 10));
    // Inserted while part-way: 20 fires before 30; 5 is raised to now (10).
    wheel.insert(20, 20);
    wheel.insert(5, 5);
    let rest: Vec<u64> = core::iter::from_fn(|| wheel.poll_expired(40).map(|(_, v)| v)).collect();
    assert_eq!(rest, [5, 20, 30]);
    assert_eq!(wheel.now(), 40);
}

#[test]
fn dropping_the_wheel_drops_pending_values() {
    let counter = alloc::rc::Rc::new(());
    let mut wheel = TimerWheel::new();
    for d in [1, 100, 1 << 20, 1 << 40] {
        wheel.insert(d, counter.clone());
    }
    advance(&mut wheel, 50);
    assert_eq!(alloc::rc::Rc::strong_count(&counter), 4);
    drop(wheel);
    assert_eq!(alloc::rc::Rc::strong_count(&counter), 1);
}

/// xorshift64*: a tiny deterministic generator so the test needs no crates.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

#[test]
fn random_programs_match_the_model() {
    let programs = if cfg!(miri) { 20 } else { 3000 };
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    for _ in 0..programs {
        let len = 16 + (rng.next() % 1024) as usize;
        let program: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        fuzz_timer_wheel(&program);
    }
}

#[test]
fn random_insert_heavy_programs_match_the_model() {
    // Mostly inserts with small steps, so slots hold many timers when they
    // cascade; every byte pair is (op, pick) and op 0/1 inserts.
    let programs = if cfg!(miri) { 5 } else { 500 };
    let mut rng = XorShift(42);
    for _ in 0..programs {
        let mut program = vec![(rng.next() % 4) as u8];
        for _ in 0..200 {
            let r = rng.next();
            let op = match r % 10 {
                0..=5 => 0,
                6 => 2,
                7 => 3,
                8 => 4,
                _ => 6,
            };
            program.extend_from_slice(&[
                op,
                (r >> 8) as u8,
                (r >> 16) as u8 % 3,
                (r >> 24) as u8,
                (r >> 32) as u8,
            ]);
        }
        fuzz_timer_wheel(&program);
    }
}

#[test]
fn keys_are_small_and_the_wheel_can_move_between_threads() {
    fn assert_send<T: Send>() {}
    assert_send::<TimerWheel<core::task::Waker>>();
    assert_eq!(core::mem::size_of::<TimerKey>(), 8);
}

#[test]
fn cancelling_same_deadline_timers_after_an_advance_walks_nothing() {
    // Issue 15: n idle timeouts of one deadline, an hour away, in one level-3
    // slot. Once the wheel had advanced, each cancel forgot the memoized
    // earliest deadline and the driver's next look walked the whole slot:
    // n²/2 visits in all. Now cancelling and asking when to wake (what the
    // runtime does on every cancel) visit no entry at all.
    let count: u64 = if cfg!(miri) { 200 } else { 20_000 };
    let hour = 3_600_000;
    let mut wheel = TimerWheel::new();
    advance(&mut wheel, 7);
    let keys: Vec<TimerKey> = (0..count).map(|i| wheel.insert(hour, i)).collect();
    assert_eq!(advance(&mut wheel, 8), Vec::<u64>::new());
    let slot_start = wheel.next_expiration().expect("timers are pending");
    assert!(slot_start > 8 && slot_start < hour, "{slot_start}");
    let before = wheel.visits();
    for (i, &key) in keys.iter().enumerate() {
        assert_eq!(wheel.cancel(key), Some(i as u64));
        let expected = (i as u64 + 1 < count).then_some(slot_start);
        assert_eq!(wheel.next_expiration(), expected, "after cancel {i}");
    }
    assert_eq!(wheel.visits() - before, 0, "cancels walked the slot");
    assert!(wheel.is_empty());

    // The counter does see the quadratic: the same loop asking for the exact
    // deadline (what the driver used to do) walks what is left every time.
    let count: u64 = if cfg!(miri) { 50 } else { 1_000 };
    let mut wheel = TimerWheel::new();
    advance(&mut wheel, 7);
    let keys: Vec<TimerKey> = (0..count).map(|i| wheel.insert(hour, i)).collect();
    advance(&mut wheel, 8);
    let before = wheel.visits();
    for &key in &keys {
        wheel.cancel(key);
        wheel.next_deadline();
    }
    let visits = wheel.visits() - before;
    assert_eq!(
        visits,
        count * (count - 1) / 2,
        "exact deadlines walk the slot"
    );
}

#[test]
fn firing_moves_each_timer_at_most_six_times() {
    // The other half of "no quadratic walks": firing n timers of one wide
    // slot re-files each a bounded number of times, whatever n is.
    let count: u64 = if cfg!(miri) { 100 } else { 10_000 };
    let mut wheel = TimerWheel::new();
    let mut rng = XorShift(7);
    for i in 0..count {
        // Spread over all levels, within the epoch (no overflow re-files).
        let deadline = 1 + rng.next() % (EPOCH_TICKS - 1);
        wheel.insert(if i % 2 == 0 { 3_600_000 } else { deadline }, i);
    }
    let mut fired = 0;
    let mut jumps = 0;
    while let Some(next) = wheel.next_expiration() {
        jumps += 1;
        wheel.advance_to(next, |_, _| fired += 1);
    }
    assert_eq!(fired, count);
    assert!(
        wheel.visits() <= 6 * count,
        "{} visits for {count} timers",
        wheel.visits()
    );
    // Each jump fires a timer or empties a slot of some level.
    assert!(jumps <= count * (NUM_LEVELS as u64), "{jumps} jumps");
}

#[test]
fn next_expiration_steps_down_one_level_at_a_time() {
    for start in [0, 1000, EPOCH_TICKS - 3, 5 * EPOCH_TICKS + 77] {
        for level in 0..=NUM_LEVELS {
            for distance in [slot_span(level), 3 * slot_span(level) + 5] {
                let deadline = start + distance;
                let mut wheel = TimerWheel::with_start(start);
                wheel.insert(deadline, ());
                let mut steps = Vec::new();
                let mut fired = 0;
                while fired == 0 {
                    let next = wheel.next_expiration().expect("pending");
                    assert!(next > wheel.now() && next <= deadline, "{next}");
                    steps.push(next);
                    wheel.advance_to(next, |_, ()| fired += 1);
                }
                assert_eq!(steps.last(), Some(&deadline), "start {start}");
                assert!(
                    steps.len() <= level + 2,
                    "start {start} level {level} steps {steps:?}"
                );
                assert_eq!(wheel.next_expiration(), None);
            }
        }
    }
}

#[test]
fn an_emptied_overflow_list_forgets_its_floor() {
    // A floor left by a cancelled far timer must not make a later far timer
    // look due in an epoch that has already passed.
    let mut wheel = TimerWheel::new();
    let far = wheel.insert(EPOCH_TICKS + 5, 'a');
    assert_eq!(wheel.cancel(far), Some('a'));
    advance(&mut wheel, 3 * EPOCH_TICKS);
    wheel.insert(5 * EPOCH_TICKS + 9, 'b');
    assert_eq!(wheel.next_expiration(), Some(5 * EPOCH_TICKS));
    assert_eq!(wheel.next_deadline(), Some(5 * EPOCH_TICKS + 9));
    assert_eq!(advance(&mut wheel, 5 * EPOCH_TICKS + 9), ['b']);
}
