//! The bounded mpsc channel vs. a `VecDeque` model; see
//! `minirt_core::sync::fuzz_mpsc`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    minirt_core::sync::fuzz_mpsc(data);
});
