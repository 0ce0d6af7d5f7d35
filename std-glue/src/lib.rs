//! # minirt
//!
//! A small async runtime you can read end to end.
#![warn(missing_docs)]

pub mod blocking;
