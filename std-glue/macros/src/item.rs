//! The function under the attribute, split by hand into the parts the
//! expansion needs (no `syn`): attributes, the signature around the
//! arguments, and the body.

use proc_macro::{Delimiter, Group, Span, TokenStream, TokenTree};

use crate::error::Error;

/// `#[attrs] vis qualifiers fn name<generics>(args) -> ret where.. { body }`.
pub(crate) struct ItemFn {
    /// Every outer attribute, `#` and `[...]` tokens, in order.
    pub(crate) attrs: Vec<Attr>,
    /// Everything before `fn` except `async` (visibility, `unsafe`, ...).
    pub(crate) prefix: Vec<TokenTree>,
    /// The `async` keyword, if written.
    pub(crate) asyncness: Option<Span>,
    /// `fn`, the name and any generics: kept as written.
    pub(crate) head: Vec<TokenTree>,
    /// The function's name, for error messages.
    pub(crate) name: String,
    /// The `(...)` argument list.
    pub(crate) args: Group,
    /// `-> Type`, without the arrow, if written.
    pub(crate) output: Option<TokenStream>,
    /// The tokens between the arguments and the body (`-> T where ...`).
    pub(crate) tail: Vec<TokenTree>,
    /// The `{ ... }` body.
    pub(crate) body: Group,
}

/// One outer attribute: `#` and its bracketed group.
pub(crate) struct Attr {
    pub(crate) tokens: [TokenTree; 2],
}

impl Attr {
    /// Whether this is a test attribute (`#[test]`, `#[core::prelude::v1::test]`,
    /// `#[tokio::test]`, ...): its path ends in `test` and it has no arguments.
    pub(crate) fn is_test(&self) -> bool {
        let TokenTree::Group(group) = &self.tokens[1] else {
            return false;
        };
        let inner: Vec<TokenTree> = group.stream().into_iter().collect();
        let path_only = inner.iter().all(|t| match t {
            TokenTree::Ident(_) => true,
            TokenTree::Punct(p) => p.as_char() == ':',
            _ => false,
        });
        path_only && matches!(inner.last(), Some(TokenTree::Ident(i)) if i.to_string() == "test")
    }
}

impl ItemFn {
    pub(crate) fn parse(item: TokenStream) -> Result<ItemFn, Error> {
        let mut tokens = item.into_iter().peekable();
        let mut attrs = Vec::new();
        while let Some(TokenTree::Punct(p)) = tokens.peek() {
            if p.as_char() != '#' {
                break;
            }
            let hash = tokens.next().expect("peeked");
            match tokens.next() {
                Some(group @ TokenTree::Group(_)) => attrs.push(Attr {
                    tokens: [hash, group],
                }),
                _ => return Err(Error::new(hash.span(), "expected an attribute after `#`")),
            }
        }
        let mut prefix = Vec::new();
        let mut asyncness = None;
        let fn_token = loop {
            match tokens.next() {
                Some(TokenTree::Ident(i)) if i.to_string() == "fn" => break TokenTree::Ident(i),
                Some(TokenTree::Ident(i)) if i.to_string() == "async" => asyncness = Some(i.span()),
                Some(other) => prefix.push(other),
                None => {
                    return Err(Error::new(
                        Span::call_site(),
                        "this attribute goes on a function: `async fn name() { ... }`",
                    ))
                }
            }
        };
        let fn_span = fn_token.span();
        let mut head = vec![fn_token];
        let name = match tokens.next() {
            Some(TokenTree::Ident(name)) => {
                let text = name.to_string();
                head.push(TokenTree::Ident(name));
                text
            }
            _ => {
                return Err(Error::new(
                    fn_span,
                    "expected the function's name after `fn`",
                ))
            }
        };
        let args = loop {
            match tokens.next() {
                Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis => break g,
                Some(other) => head.push(other),
                None => return Err(Error::new(fn_span, "expected the function's argument list")),
            }
        };
        let mut tail: Vec<TokenTree> = tokens.collect();
        let body = match tail.pop() {
            Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace => g,
            other => {
                let span = other.map_or(fn_span, |t| t.span());
                return Err(Error::new(span, "expected the function's body `{ ... }`"));
            }
        };
        let output = return_type(&tail);
        Ok(ItemFn {
            attrs,
            prefix,
            asyncness,
            head,
            name,
            args,
            output,
            tail,
            body,
        })
    }

    /// The item as written (for the error path: the function is emitted
    /// unchanged next to the error, so no unrelated errors pile up).
    pub(crate) fn into_original(self) -> TokenStream {
        let mut out = TokenStream::new();
        for attr in self.attrs {
            out.extend(attr.tokens);
        }
        out.extend(self.prefix);
        out.extend(self.head);
        out.extend([TokenTree::Group(self.args)]);
        out.extend(self.tail);
        out.extend([TokenTree::Group(self.body)]);
        out
    }
}

/// The tokens of `-> Type` up to `where` (or the end), if the signature has
/// an arrow.
fn return_type(tail: &[TokenTree]) -> Option<TokenStream> {
    let is_punct =
        |t: Option<&TokenTree>, c: char| matches!(t, Some(TokenTree::Punct(p)) if p.as_char() == c);
    if !(is_punct(tail.first(), '-') && is_punct(tail.get(1), '>')) {
        return None;
    }
    let ty = tail[2..]
        .iter()
        .take_while(|t| !matches!(t, TokenTree::Ident(i) if i.to_string() == "where"))
        .cloned()
        .collect();
    Some(ty)
}
