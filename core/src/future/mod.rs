//! Future combinators.
