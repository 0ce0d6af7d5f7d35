//! A single-threaded executor for `no_std` targets.
