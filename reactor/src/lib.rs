//! # minirt-reactor
//!
//! minirt's readiness-based I/O driver on top of `mio`.
#![warn(missing_docs)]
