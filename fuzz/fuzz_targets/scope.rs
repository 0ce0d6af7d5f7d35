//! The scope state machine vs. a model, on a current-thread runtime with the
//! mock clock; see `minirt::fuzz::fuzz_scope`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    minirt::fuzz::fuzz_scope(data);
});
