//! The attribute's options, `key = value, ...`, parsed and checked by hand.
//!
//! The rules are tokio's: `flavor` is `"current_thread"` or
//! `"multi_thread"`; `worker_threads` needs the multi-thread flavour;
//! `start_paused` (and minirt's `seed`) need the current-thread one.

use proc_macro::{Literal, Span, TokenStream, TokenTree};

use crate::error::Error;

/// Which macro is being expanded: they differ in the default flavour and in
/// the wording of errors.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Entry {
    Main,
    Test,
}

impl Entry {
    pub(crate) fn attr_name(self) -> &'static str {
        match self {
            Entry::Main => "minirt::main",
            Entry::Test => "minirt::test",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    CurrentThread,
    MultiThread,
}

/// What the user asked for, validated.
pub(crate) struct Options {
    pub(crate) flavor: Flavor,
    pub(crate) worker_threads: Option<u64>,
    pub(crate) start_paused: bool,
    pub(crate) seed: Option<u64>,
    /// The path to the `minirt` crate (`crate = "..."`), default `::minirt`.
    pub(crate) krate: TokenStream,
}

const KNOWN: &str = "`flavor`, `worker_threads`, `start_paused`, `seed`, `crate`";

impl Options {
    pub(crate) fn parse(entry: Entry, attr: TokenStream) -> Result<Options, Error> {
        let mut flavor: Option<(Flavor, Span)> = None;
        let mut worker_threads: Option<(u64, Span)> = None;
        let mut start_paused: Option<(bool, Span)> = None;
        let mut seed: Option<(u64, Span)> = None;
        let mut krate: Option<TokenStream> = None;

        let mut tokens = attr.into_iter().peekable();
        while let Some(token) = tokens.next() {
            let TokenTree::Ident(key) = token else {
                return Err(Error::new(
                    token.span(),
                    format!("expected an option name; the options are {KNOWN}"),
                ));
            };
            let name = key.to_string();
            match tokens.next() {
                Some(TokenTree::Punct(p)) if p.as_char() == '=' => {}
                other => {
                    let span = other.map_or(key.span(), |t| t.span());
                    return Err(Error::new(span, format!("expected `=` after `{name}`")));
                }
            }
            let Some(value) = tokens.next() else {
                return Err(Error::new(
                    key.span(),
                    format!("expected a value after `{name} =`"),
                ));
            };
            let span = value.span();
            let once = |set: bool| {
                if set {
                    Err(Error::new(
                        key.span(),
                        format!("`{name}` is set more than once"),
                    ))
                } else {
                    Ok(())
                }
            };
            match name.as_str() {
                "flavor" => {
                    once(flavor.is_some())?;
                    let f = match string(&value).as_deref() {
                        Some("current_thread") => Flavor::CurrentThread,
                        Some("multi_thread") => Flavor::MultiThread,
                        _ => {
                            return Err(Error::new(
                                span,
                                "`flavor` must be \"current_thread\" or \"multi_thread\"",
                            ))
                        }
                    };
                    flavor = Some((f, span));
                }
                "worker_threads" => {
                    once(worker_threads.is_some())?;
                    match integer(&value) {
                        Some(0) => {
                            return Err(Error::new(span, "`worker_threads` must be at least 1"))
                        }
                        Some(n) => worker_threads = Some((n, span)),
                        None => {
                            return Err(Error::new(
                                span,
                                "`worker_threads` must be an integer literal, e.g. `worker_threads = 4`",
                            ))
                        }
                    }
                }
                "start_paused" => {
                    once(start_paused.is_some())?;
                    match &value {
                        TokenTree::Ident(b) if b.to_string() == "true" => {
                            start_paused = Some((true, span))
                        }
                        TokenTree::Ident(b) if b.to_string() == "false" => {
                            start_paused = Some((false, span))
                        }
                        _ => {
                            return Err(Error::new(
                                span,
                                "`start_paused` must be `true` or `false`",
                            ))
                        }
                    }
                }
                "seed" => {
                    once(seed.is_some())?;
                    match integer(&value) {
                        Some(n) => seed = Some((n, span)),
                        None => {
                            return Err(Error::new(
                                span,
                                "`seed` must be an integer literal that fits in a u64, e.g. `seed = 42`",
                            ))
                        }
                    }
                }
                "crate" => {
                    once(krate.is_some())?;
                    let path = string(&value)
                        .and_then(|s| s.parse::<TokenStream>().ok())
                        .filter(|p| !p.is_empty());
                    match path {
                        Some(path) => krate = Some(path),
                        None => {
                            return Err(Error::new(
                                span,
                                "`crate` must be a string holding a path, e.g. `crate = \"::my_minirt\"`",
                            ))
                        }
                    }
                }
                _ => {
                    return Err(Error::new(
                        key.span(),
                        format!("unknown option `{name}`; the options are {KNOWN}"),
                    ))
                }
            }
            match tokens.next() {
                None => break,
                Some(TokenTree::Punct(p)) if p.as_char() == ',' => {}
                Some(other) => {
                    return Err(Error::new(other.span(), "expected `,` between options"));
                }
            }
        }

        let default = match entry {
            Entry::Main => Flavor::MultiThread,
            Entry::Test => Flavor::CurrentThread,
        };
        let flavor = flavor.map_or(default, |(f, _)| f);
        let attr = entry.attr_name();
        if let (Flavor::CurrentThread, Some((_, span))) = (flavor, worker_threads) {
            return Err(Error::new(
                span,
                format!(
                    "the `worker_threads` option needs the multi-thread runtime: use \
                     `#[{attr}(flavor = \"multi_thread\", worker_threads = ..)]`"
                ),
            ));
        }
        if let (Flavor::MultiThread, Some((_, span))) = (flavor, start_paused) {
            return Err(Error::new(
                span,
                format!(
                    "the `start_paused` option needs the current-thread runtime: use \
                     `#[{attr}(flavor = \"current_thread\", start_paused = true)]`"
                ),
            ));
        }
        if let (Flavor::MultiThread, Some((_, span))) = (flavor, seed) {
            return Err(Error::new(
                span,
                format!(
                    "the `seed` option needs the current-thread runtime (only it replays a \
                     seeded order): use `#[{attr}(flavor = \"current_thread\", seed = ..)]`"
                ),
            ));
        }
        Ok(Options {
            flavor,
            worker_threads: worker_threads.map(|(n, _)| n),
            start_paused: start_paused.is_some_and(|(b, _)| b),
            seed: seed.map(|(n, _)| n),
            krate: krate.unwrap_or_else(|| "::minirt".parse().expect("a valid path")),
        })
    }
}

/// The contents of a plain string literal (`"..."`, no escapes).
fn string(token: &TokenTree) -> Option<String> {
    let TokenTree::Literal(lit) = token else {
        return None;
    };
    let text = lit.to_string();
    let inner = text.strip_prefix('"')?.strip_suffix('"')?;
    if inner.contains(['\\', '"']) {
        return None;
    }
    Some(inner.to_owned())
}

/// The value of an integer literal (`4`, `1_000`, `42u64`).
fn integer(token: &TokenTree) -> Option<u64> {
    let TokenTree::Literal(lit) = token else {
        return None;
    };
    integer_text(lit)
}

fn integer_text(lit: &Literal) -> Option<u64> {
    let text = lit.to_string();
    let digits_end = text
        .find(|c: char| !(c.is_ascii_digit() || c == '_'))
        .unwrap_or(text.len());
    let (digits, suffix) = text.split_at(digits_end);
    let suffix_ok = matches!(
        suffix,
        "" | "u8"
            | "u16"
            | "u32"
            | "u64"
            | "u128"
            | "usize"
            | "i8"
            | "i16"
            | "i32"
            | "i64"
            | "i128"
            | "isize"
    );
    if !suffix_ok || digits.is_empty() {
        return None;
    }
    digits.replace('_', "").parse().ok()
}
