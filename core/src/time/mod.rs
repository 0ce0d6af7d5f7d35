//! Time without an operating system: the hierarchical timer wheel.
