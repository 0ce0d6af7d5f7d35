//! Semaphore vs. a counter model; see `minirt_core::sync::fuzz_semaphore`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    minirt_core::sync::fuzz_semaphore(data);
});
