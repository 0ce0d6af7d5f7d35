//! Workloads shared by the criterion benches and the `compare` binary.
