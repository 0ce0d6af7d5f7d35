//! Packing a slab key and a generation into one `mio::Token`.
//!
//! Why: a slab reuses the key of a freed registration for the next one. If the
//! driver still holds a readiness event for the old registration (it was in the
//! same `mio::Events` batch, or another thread dropped the socket between
//! `poll` returning and the dispatch), delivering it by key alone would wake the
//! new owner of the slot for readiness that is not its own. Every registration
//! therefore also gets a generation number, and the token carries both; the
//! dispatcher drops an event whose generation does not match the slot's.
//!
//! Layout of a token (`usize`, low bits first):
//!
//! | bits                         | meaning                                   |
//! | ---------------------------- | ----------------------------------------- |
//! | `0 .. KEY_BITS`              | slab key                                  |
//! | `KEY_BITS .. usize::BITS-1`  | generation (wraps)                        |
//! | `usize::BITS - 1`            | always 0 for registrations; 1 = reserved  |
//!
//! The top bit is kept clear so that the reserved tokens ([`WAKER_TOKEN`],
//! [`SIGNAL_TOKEN`]) can never collide with a registration.

use mio::Token;

/// Number of low token bits holding the slab key: 2^24 (16 Mi) live registrations.
pub(crate) const KEY_BITS: u32 = 24;

/// Largest slab key a token can carry.
pub(crate) const MAX_KEY: usize = (1 << KEY_BITS) - 1;

/// Number of bits holding the generation (39 on 64-bit targets, 7 on 32-bit).
pub(crate) const GENERATION_BITS: u32 = usize::BITS - 1 - KEY_BITS;

/// Mask applied to a generation counter before packing.
pub(crate) const GENERATION_MASK: usize = (1 << GENERATION_BITS) - 1;

/// Token of the `mio::Waker` used by `Handle::unpark`.
pub(crate) const WAKER_TOKEN: Token = Token(usize::MAX);

/// Token of the process-wide signal pipe (see `crate::signal`; reserved on
/// Windows too, which has no pipe).
#[cfg_attr(not(unix), allow(dead_code))]
pub(crate) const SIGNAL_TOKEN: Token = Token(usize::MAX - 1);

/// Packs `key` and `generation` (truncated to [`GENERATION_BITS`]) into a token.
pub(crate) fn pack(key: usize, generation: usize) -> Token {
    debug_assert!(key <= MAX_KEY, "slab key {key} exceeds MAX_KEY {MAX_KEY}");
    let token = Token(((generation & GENERATION_MASK) << KEY_BITS) | key);
    debug_assert!(
        !is_reserved(token),
        "{token:?} collides with a reserved token"
    );
    token
}

/// Splits a registration token into `(key, generation)`.
pub(crate) fn unpack(token: Token) -> (usize, usize) {
    (token.0 & MAX_KEY, (token.0 >> KEY_BITS) & GENERATION_MASK)
}

/// Whether `token` is one of the reserved, non-registration tokens.
pub(crate) fn is_reserved(token: Token) -> bool {
    token.0 >> (usize::BITS - 1) == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_key_and_masked_generation() {
        for &(key, generation) in &[(0, 0), (1, 1), (MAX_KEY, GENERATION_MASK), (12345, 987_654)] {
            let token = pack(key, generation);
            assert_eq!(unpack(token), (key, generation & GENERATION_MASK));
            assert!(
                !is_reserved(token),
                "{token:?} collides with reserved tokens"
            );
        }
    }

    #[test]
    fn generation_wraps_instead_of_touching_reserved_bit() {
        let token = pack(7, GENERATION_MASK + 3);
        assert_eq!(unpack(token), (7, 2));
        assert!(!is_reserved(token));
    }

    #[test]
    fn reserved_tokens_are_recognised() {
        assert!(is_reserved(WAKER_TOKEN));
        assert!(is_reserved(SIGNAL_TOKEN));
        assert_ne!(WAKER_TOKEN, SIGNAL_TOKEN);
    }

    #[test]
    fn same_key_different_generation_gives_different_tokens() {
        assert_ne!(pack(5, 1), pack(5, 2));
    }
}
