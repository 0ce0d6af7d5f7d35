//! Compile errors that point at the token the user must change.

use proc_macro::{Delimiter, Group, Ident, Literal, Punct, Spacing, Span, TokenStream, TokenTree};

/// A misuse of the attribute: what is wrong, and where.
pub(crate) struct Error {
    pub(crate) span: Span,
    pub(crate) message: String,
}

impl Error {
    pub(crate) fn new(span: Span, message: impl Into<String>) -> Error {
        Error {
            span,
            message: message.into(),
        }
    }

    /// `::core::compile_error!("...");` with every token spanned at the
    /// offending place, so rustc underlines it and not the whole attribute.
    pub(crate) fn into_tokens(self) -> TokenStream {
        let span = self.span;
        let mut message = Literal::string(&self.message);
        message.set_span(span);
        let tokens: Vec<TokenTree> = vec![
            punct(':', Spacing::Joint, span),
            punct(':', Spacing::Alone, span),
            Ident::new("core", span).into(),
            punct(':', Spacing::Joint, span),
            punct(':', Spacing::Alone, span),
            Ident::new("compile_error", span).into(),
            punct('!', Spacing::Alone, span),
            spanned_group(Delimiter::Parenthesis, message.into(), span),
            punct(';', Spacing::Alone, span),
        ];
        tokens.into_iter().collect()
    }
}

fn punct(ch: char, spacing: Spacing, span: Span) -> TokenTree {
    let mut p = Punct::new(ch, spacing);
    p.set_span(span);
    p.into()
}

fn spanned_group(delimiter: Delimiter, inner: TokenTree, span: Span) -> TokenTree {
    let mut g = Group::new(delimiter, inner.into());
    g.set_span(span);
    g.into()
}
