//! `#[minirt::main]` and `#[minirt::test]`.
//!
//! Use them through the `minirt` crate (its `macros` feature, on by
//! default), which documents the options and the errors; this crate only
//! rewrites the tokens. It depends on nothing but `proc_macro`: the function
//! and the options are parsed by hand (the `item` and `options` modules),
//! which keeps the build of a minirt program free of `syn` and `quote`.

mod error;
mod expand;
mod item;
mod options;

use proc_macro::TokenStream;

use options::Entry;

/// Runs `async fn main` on a minirt runtime (multi-thread by default). See
/// `minirt::main` for the options.
#[proc_macro_attribute]
pub fn main(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(Entry::Main, attr, item)
}

/// Runs an `async fn` test on a fresh minirt runtime (current-thread by
/// default). See `minirt::test` for the options.
#[proc_macro_attribute]
pub fn test(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(Entry::Test, attr, item)
}
