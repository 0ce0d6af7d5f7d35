//! Timer wheel vs. a BTreeMap model; see `minirt_core::time::fuzz_timer_wheel`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    minirt_core::time::fuzz_timer_wheel(data);
});
