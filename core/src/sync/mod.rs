//! Synchronization primitives that work on every minirt executor, with or
//! without `std`.

pub(crate) mod lock;
