//! The blocking thread pool behind `spawn_blocking`.
