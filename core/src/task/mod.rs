//! Raw tasks.
