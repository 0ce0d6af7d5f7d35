//! The one place the runtime's model-checked parts take their atomics and
//! locks from.
//!
//! Building with `RUSTFLAGS="--cfg minirt_loom"` swaps std's types for
//! loom's, so the protocol loom explores (see
//! `runtime/multi_thread/idle_loom.rs`) is the code that ships. Only modules
//! with a loom model import from here; the rest of the runtime uses std
//! directly.
//!
//! The cfg is `minirt_loom`, not `loom`: `--cfg loom` also switches the
//! `parking` crate to its loom build, which lacks `park_timeout`, so the
//! runtime would not compile. (`minirt-core` keeps plain `cfg(loom)`.)

#[cfg(not(minirt_loom))]
pub(crate) use std::sync::{atomic, Mutex};

#[cfg(minirt_loom)]
pub(crate) use loom::sync::{atomic, Mutex};
