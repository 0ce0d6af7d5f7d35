//! Shared helpers for minirt integration tests.
