//! The wheel checked against a reference model, for cargo-fuzz and `cargo test`.
//!
//! Why here and not in `fuzz/`: the check needs nothing but the public API,
//! yet keeping it in the crate means `cargo test` exercises it too (see
//! `tests.rs`) and the fuzz target stays a few lines long.
//!
//! How: the input bytes are a program of inserts, cancels, resets, advances,
//! single-timer polls and mock-clock jumps, with times chosen to land on every
//! level boundary, far ahead (beyond 2^36 ms) and at the end of `u64`. The
//! model is a `BTreeMap` ordered by (deadline, insertion sequence); after every
//! step the wheel must agree with it exactly: the same timers fired in the
//! same order, none early, none lost, the same `now`, `len` and
//! `next_deadline`; and `next_expiration` must lie between now and the
//! earliest deadline. The mock-clock step jumps from expiration to
//! expiration as the runtime does, and must land on the earliest deadline
//! within [`MAX_JUMPS`] steps.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use super::level::{slot_span, NUM_LEVELS};
use super::{TimerKey, TimerWheel};

/// Most `next_expiration` steps before something fires: down from the
/// overflow list (twice if its floor was left by a cancelled timer), then
/// once per level.
const MAX_JUMPS: usize = 2 + NUM_LEVELS;

/// Reads the fuzz input; once it runs out, every read yields zero.
struct Input<'a> {
    /// The bytes not read yet.
    bytes: &'a [u8],
}

impl Input<'_> {
    /// Whether every byte has been read.
    fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The next byte.
    fn byte(&mut self) -> u8 {
        match self.bytes.split_first() {
            Some((&first, rest)) => {
                self.bytes = rest;
                first
            }
            None => 0,
        }
    }

    /// The next `n` bytes as a little-endian number.
    fn number(&mut self, n: usize) -> u64 {
        (0..n).fold(0, |acc, i| acc | u64::from(self.byte()) << (8 * i))
    }

    /// An absolute tick relative to `now`, biased towards interesting places.
    fn tick(&mut self, now: u64) -> u64 {
        match self.byte() % 7 {
            0 => now.saturating_add(self.number(1)),
            1 => now.saturating_add(self.number(2)),
            2 => now.saturating_add(self.number(4)),
            // Up to 2^44 ms ahead: well past the top level.
            3 => now.saturating_add(self.number(4) << 12),
            4 => {
                // Just before, on or after the next boundary of some level
                // (level `NUM_LEVELS` being the wrap of the top level).
                let span = slot_span(usize::from(self.byte()) % (NUM_LEVELS + 1));
                let boundary = (now | (span - 1)).saturating_add(1);
                let offset = i64::from(self.byte() as i8);
                boundary.saturating_add_signed(offset)
            }
            5 => now.saturating_sub(self.number(1)),
            _ => u64::MAX - self.number(2),
        }
    }
}

/// The reference: timers ordered by (deadline, insertion sequence).
struct Model {
    /// The tick the wheel must be at.
    now: u64,
    /// Pending timers: (deadline, sequence) → timer id.
    queue: BTreeMap<(u64, u64), u64>,
    /// Pending timers: id → (deadline, sequence).
    live: BTreeMap<u64, (u64, u64)>,
    /// Sequence number of the next insertion or reset.
    next_seq: u64,
}

impl Model {
    /// Files timer `id`, due at `deadline` raised to now.
    fn insert(&mut self, id: u64, deadline: u64) {
        let place = (deadline.max(self.now), self.next_seq);
        self.next_seq += 1;
        self.queue.insert(place, id);
        self.live.insert(id, place);
    }

    /// Removes timer `id`; whether it was pending.
    fn remove(&mut self, id: u64) -> bool {
        match self.live.remove(&id) {
            Some(place) => {
                self.queue.remove(&place);
                true
            }
            None => false,
        }
    }

    /// What `poll_expired(target)` must return and do.
    fn poll(&mut self, target: u64) -> Option<u64> {
        if target < self.now {
            return None;
        }
        match self.queue.first_key_value() {
            Some((&(deadline, _), &id)) if deadline <= target => {
                self.now = deadline;
                self.remove(id);
                Some(id)
            }
            _ => {
                self.now = target;
                None
            }
        }
    }

    /// The earliest deadline.
    fn earliest(&self) -> Option<u64> {
        self.queue
            .first_key_value()
            .map(|(&(deadline, _), _)| deadline)
    }
}

/// Runs the program in `data` against a [`TimerWheel`] and a reference model,
/// panicking on the first disagreement. Any input is a valid program.
pub fn fuzz_timer_wheel(data: &[u8]) {
    let mut input = Input { bytes: data };
    let start = match input.byte() % 4 {
        0 => 0,
        1 => (slot_span(NUM_LEVELS) * (1 + input.number(1))).saturating_sub(input.number(1)),
        2 => input.number(8) >> 2,
        _ => u64::MAX - input.number(5),
    };
    let mut wheel = TimerWheel::with_start(start);
    let mut model = Model {
        now: start,
        queue: BTreeMap::new(),
        live: BTreeMap::new(),
        next_seq: 0,
    };
    // keys[id] is the key of timer `id`; the wheel's value is the id.
    let mut keys: Vec<TimerKey> = Vec::new();

    while !input.is_empty() {
        let op = input.byte();
        let pick = usize::from(input.byte());
        let picked = (!keys.is_empty()).then(|| pick % keys.len());
        match op % 8 {
            0 | 1 => {
                let deadline = input.tick(wheel.now());
                let id = keys.len() as u64;
                keys.push(wheel.insert(deadline, id));
                model.insert(id, deadline);
            }
            2 => {
                if let Some(id) = picked {
                    let cancelled = wheel.cancel(keys[id]);
                    let expected = model.remove(id as u64).then_some(id as u64);
                    assert_eq!(cancelled, expected, "cancel of timer {id}");
                }
            }
            3 => {
                if let Some(id) = picked {
                    let deadline = input.tick(wheel.now());
                    let moved = wheel.reset(keys[id], deadline);
                    let pending = model.remove(id as u64);
                    if pending {
                        model.insert(id as u64, deadline);
                    }
                    assert_eq!(moved, pending, "reset of timer {id} to {deadline}");
                }
            }
            4 => {
                let target = input.tick(wheel.now());
                let mut fired = Vec::new();
                wheel.advance_to(target, |key, id| {
                    assert_eq!(key, keys[id as usize], "key of fired timer {id}");
                    fired.push(id);
                });
                let expected: Vec<u64> = core::iter::from_fn(|| model.poll(target)).collect();
                assert_eq!(fired, expected, "advance_to({target})");
            }
            5 => {
                let target = input.tick(wheel.now());
                let fired = wheel.poll_expired(target).map(|(key, id)| {
                    assert_eq!(key, keys[id as usize], "key of fired timer {id}");
                    id
                });
                assert_eq!(fired, model.poll(target), "poll_expired({target})");
            }
            6 => {
                // The mock clock's auto-advance: jump from expiration to
                // expiration until something fires, which must be at the
                // earliest deadline.
                let earliest = model.earliest();
                let mut jumps = 0;
                while let Some(next) = wheel.next_expiration() {
                    jumps += 1;
                    assert!(jumps <= MAX_JUMPS, "{jumps} jumps, earliest {earliest:?}");
                    let mut fired = Vec::new();
                    wheel.advance_to(next, |_, id| fired.push(id));
                    let expected: Vec<u64> = core::iter::from_fn(|| model.poll(next)).collect();
                    assert_eq!(fired, expected, "advance_to(next_expiration {next})");
                    if !fired.is_empty() {
                        assert_eq!(Some(next), earliest, "fired after a jump");
                        break;
                    }
                }
                assert_eq!(
                    jumps > 0,
                    earliest.is_some(),
                    "jumps with earliest {earliest:?}"
                );
            }
            _ => {
                if let Some(id) = picked {
                    let expected = model.live.get(&(id as u64)).map(|&(deadline, _)| deadline);
                    assert_eq!(wheel.deadline(keys[id]), expected, "deadline of timer {id}");
                }
            }
        }
        assert_eq!(wheel.now(), model.now, "now");
        assert_eq!(wheel.len(), model.live.len(), "len");
        assert_eq!(
            wheel.next_deadline(),
            model.earliest(),
            "next_deadline at now {}",
            model.now
        );
        let expiration = wheel.next_expiration();
        assert_eq!(
            expiration.is_some(),
            model.earliest().is_some(),
            "next_expiration"
        );
        if let (Some(expiration), Some(earliest)) = (expiration, model.earliest()) {
            assert!(
                model.now <= expiration && expiration <= earliest,
                "next_expiration {expiration} outside now {} .. earliest {earliest}",
                model.now
            );
            assert_eq!(
                expiration == model.now,
                earliest == model.now,
                "next_expiration {expiration} is now {} but nothing is due",
                model.now
            );
        }
    }

    // Nothing may be lost: running to the end of time fires everything left.
    let mut fired = Vec::new();
    wheel.advance_to(u64::MAX, |_, id| fired.push(id));
    let expected: Vec<u64> = core::iter::from_fn(|| model.poll(u64::MAX)).collect();
    assert_eq!(fired, expected, "final advance_to(u64::MAX)");
    assert!(wheel.is_empty());
}
