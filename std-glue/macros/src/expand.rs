//! Turns `async fn name() -> T { body }` into
//! `fn name() -> T { <minirt>::__macro_support::block_on::<T, _>(builder, async move { body }) }`.

use proc_macro::{Delimiter, Group, Span, TokenStream, TokenTree};

use crate::error::Error;
use crate::item::ItemFn;
use crate::options::{Entry, Flavor, Options};

/// The whole expansion: the rewritten function, or the error next to the
/// function as written.
pub(crate) fn expand(entry: Entry, attr: TokenStream, item: TokenStream) -> TokenStream {
    let item = match ItemFn::parse(item.clone()) {
        Ok(item) => item,
        Err(error) => {
            let mut out = error.into_tokens();
            out.extend(item);
            return out;
        }
    };
    match check(entry, &item).and_then(|()| Options::parse(entry, attr)) {
        Ok(options) => rewrite(entry, &options, item),
        Err(error) => {
            let mut out = error.into_tokens();
            out.extend(item.into_original());
            out
        }
    }
}

/// The misuses that concern the function rather than the options.
fn check(entry: Entry, item: &ItemFn) -> Result<(), Error> {
    let what = match entry {
        Entry::Main => "main",
        Entry::Test => "test",
    };
    if item.asyncness.is_none() {
        let span = item.head.first().map_or(Span::call_site(), TokenTree::span);
        return Err(Error::new(
            span,
            format!(
                "the `async` keyword is missing from the function declaration: \
                 `#[{}]` runs an `async fn {}()`",
                entry.attr_name(),
                item.name
            ),
        ));
    }
    if !item.args.stream().is_empty() {
        return Err(Error::new(
            item.args.span(),
            format!("the {what} function cannot accept arguments"),
        ));
    }
    if entry == Entry::Test {
        if let Some(attr) = item.attrs.iter().find(|a| a.is_test()) {
            return Err(Error::new(
                attr.tokens[0].span(),
                "a second test attribute is supplied: `#[minirt::test]` already makes this a \
                 test, remove the other one",
            ));
        }
    }
    Ok(())
}

fn rewrite(entry: Entry, options: &Options, item: ItemFn) -> TokenStream {
    let krate = &options.krate;
    let mut builder = TokenStream::new();
    builder.extend(krate.clone());
    builder.extend(parse(match options.flavor {
        Flavor::CurrentThread => "::Builder::current_thread()",
        Flavor::MultiThread => "::Builder::multi_thread()",
    }));
    if let Some(n) = options.worker_threads {
        builder.extend(parse(&format!(".worker_threads({n})")));
    }
    if options.start_paused {
        builder.extend(parse(".mock_clock()"));
    }
    if let Some(seed) = options.seed {
        builder.extend(parse(&format!(".seed({seed}u64)")));
    }

    // <krate>::__macro_support::block_on::<T, _>(builder, async move { body })
    let mut call = TokenStream::new();
    call.extend(krate.clone());
    call.extend(parse("::__macro_support::block_on::<"));
    match &item.output {
        Some(ty) => call.extend(ty.clone()),
        None => call.extend(parse("()")),
    }
    call.extend(parse(", _>"));
    let mut args = builder;
    args.extend(parse(", async move"));
    args.extend([TokenTree::Group(item.body.clone())]);
    call.extend([TokenTree::Group(Group::new(Delimiter::Parenthesis, args))]);

    let mut out = TokenStream::new();
    if entry == Entry::Test {
        out.extend(parse("#[::core::prelude::v1::test]"));
    }
    for attr in item.attrs {
        out.extend(attr.tokens);
    }
    out.extend(item.prefix);
    out.extend(item.head);
    out.extend([TokenTree::Group(item.args)]);
    out.extend(item.tail);
    let mut body = Group::new(Delimiter::Brace, call);
    body.set_span(item.body.span());
    out.extend([TokenTree::Group(body)]);
    out
}

fn parse(code: &str) -> TokenStream {
    code.parse().expect("the macro's own code is valid Rust")
}
