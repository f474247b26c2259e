//! The arguments of `#[require_scope]`: which scopes, and whether all or any of them.
//!
//! ```text
//! #[require_scope("a")]              the scope `a`
//! #[require_scope("a", "b")]         all of them
//! #[require_scope(any("a", "b"))]    any one of them
//! ```
//!
//! Each scope is checked against the scope-token grammar of RFC 6749 §3.3
//! (`1*( %x21 / %x23-5B / %x5D-7E )`: visible ASCII except `"` and `\`, no space).
//! Every problem is reported at once, each spanned on the offending argument.

use proc_macro2::{Span, TokenStream};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Error, Expr, ExprCall, ExprLit, Lit, LitStr, Token};

/// What a guard requires.
pub(crate) struct ScopeArgs {
    /// The scopes, in the order written, each with the span of its literal.
    pub(crate) scopes: Vec<LitStr>,
    /// `true` for `any(..)`: one of `scopes` suffices. `false`: all are required.
    pub(crate) any: bool,
}

/// The two forms, for messages about arguments that are neither.
const FORMS: &str = "`#[require_scope(\"a\", \"b\")]` requires all of the scopes, \
                     `#[require_scope(any(\"a\", \"b\"))]` any one of them";

/// For a literal that is not a string.
const NOT_A_STRING: &str = "a scope must be a string literal, e.g. `\"files:read\"`";

/// Errors gathered while checking, combined into one `syn::Error` at the end.
#[derive(Default)]
pub(crate) struct Errors(Option<Error>);

impl Errors {
    pub(crate) fn push(&mut self, error: Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    /// `Err` with every error pushed so far, if any.
    pub(crate) fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}

/// Parses and checks the attribute's arguments, reporting every problem at once.
pub(crate) fn parse(attr: TokenStream) -> syn::Result<ScopeArgs> {
    if attr.is_empty() {
        return Err(Error::new(
            Span::call_site(),
            "`#[require_scope]` needs at least one scope, e.g. `#[require_scope(\"tools:call\")]`",
        ));
    }
    let items = Punctuated::<Expr, Token![,]>::parse_terminated.parse2(attr)?;
    let mut errors = Errors::default();
    let many = items.len() > 1;
    let mut scopes = Vec::new();
    let mut any = false;

    for item in &items {
        match item {
            Expr::Lit(lit) => push_scope(&lit.lit, &mut scopes, &mut errors),
            Expr::Call(call) if called(call) == Some("any") => {
                if many {
                    errors.push(Error::new_spanned(
                        call,
                        "`any(..)` must be the only argument: write \
                         `#[require_scope(any(\"a\", \"b\"))]` for any one of several scopes, \
                         or list the scopes without `any` to require all of them",
                    ));
                }
                any = true;
                any_group(call, &mut scopes, &mut errors);
            }
            Expr::Call(call) if called(call) == Some("all") => errors.push(Error::new_spanned(
                call,
                "`all(..)` is not needed: scopes listed directly are all required, \
                 `#[require_scope(\"a\", \"b\")]`",
            )),
            Expr::Call(call) => errors.push(Error::new_spanned(
                &call.func,
                format!("unknown `{}(..)`: {FORMS}", tokens(&call.func)),
            )),
            Expr::Assign(assign) => errors.push(Error::new_spanned(
                assign,
                format!(
                    "`#[require_scope]` has no option `{}`; it takes scopes: {FORMS}",
                    tokens(&assign.left)
                ),
            )),
            Expr::Path(path) if path.path.is_ident("any") => errors.push(Error::new_spanned(
                path,
                "`any` takes its scopes in parentheses: `any(\"a\", \"b\")`",
            )),
            Expr::Path(path) => errors.push(Error::new_spanned(
                path,
                "a scope must be a string literal, not a path: scopes are checked at compile \
                 time",
            )),
            other => errors.push(Error::new_spanned(other, NOT_A_STRING)),
        }
    }
    errors.finish()?;
    Ok(ScopeArgs { scopes, any })
}

/// The name of a call's function when it is a single identifier (`any`, `all`).
fn called(call: &ExprCall) -> Option<&'static str> {
    let Expr::Path(path) = &*call.func else {
        return None;
    };
    ["any", "all"]
        .into_iter()
        .find(|name| path.path.is_ident(name))
}

/// The scopes of `any(..)`: string literals only, at least one.
fn any_group(call: &ExprCall, scopes: &mut Vec<LitStr>, errors: &mut Errors) {
    if call.args.is_empty() {
        errors.push(Error::new_spanned(
            call,
            "`any()` needs at least one scope: `any(\"a\", \"b\")`",
        ));
    }
    for arg in &call.args {
        match arg {
            Expr::Lit(ExprLit {
                lit: lit @ Lit::Str(_),
                ..
            }) => push_scope(lit, scopes, errors),
            Expr::Call(inner) if called(inner).is_some() => errors.push(Error::new_spanned(
                inner,
                "`any(..)` takes scope strings only; it cannot be nested",
            )),
            other => errors.push(Error::new_spanned(
                other,
                "`any(..)` takes scope strings only, e.g. `any(\"a\", \"b\")`",
            )),
        }
    }
}

/// Adds the scope `lit`, or an error spanned on it: not a string, not a scope token, or
/// already listed.
fn push_scope(lit: &Lit, scopes: &mut Vec<LitStr>, errors: &mut Errors) {
    let Lit::Str(s) = lit else {
        errors.push(Error::new(lit.span(), NOT_A_STRING));
        return;
    };
    if !s.suffix().is_empty() {
        errors.push(Error::new(s.span(), "a scope literal cannot have a suffix"));
        return;
    }
    let value = s.value();
    if let Some(problem) = scope_problem(&value) {
        errors.push(Error::new(s.span(), problem));
    } else if scopes.iter().any(|earlier| earlier.value() == value) {
        errors.push(Error::new(s.span(), format!("duplicate scope {value:?}")));
    } else {
        scopes.push(s.clone());
    }
}

/// Why `scope` is not a scope token of RFC 6749 §3.3, if it is not one.
fn scope_problem(scope: &str) -> Option<String> {
    const GRAMMAR: &str = "a scope is one token of visible ASCII other than `\"` and `\\` \
                           (RFC 6749 §3.3)";
    if scope.is_empty() {
        return Some("a scope cannot be empty (RFC 6749 §3.3)".to_owned());
    }
    let bad = scope
        .chars()
        .find(|&c| !matches!(c, '\x21' | '\x23'..='\x5B' | '\x5D'..='\x7E'))?;
    Some(match bad {
        ' ' => format!(
            "scope {scope:?} contains a space: {GRAMMAR}; write several scopes as separate \
             strings, e.g. `\"a\", \"b\"`"
        ),
        '"' | '\\' => format!("scope {scope:?} contains `{bad}`: {GRAMMAR}"),
        c if c.is_ascii() => format!(
            "scope {scope:?} contains the control character U+{:04X}: {GRAMMAR}",
            u32::from(c)
        ),
        c => format!("scope {scope:?} contains the non-ASCII character `{c}`: {GRAMMAR}"),
    })
}

/// Source text of a small expression, for messages.
fn tokens(tokens: &impl quote::ToTokens) -> String {
    tokens.to_token_stream().to_string().replace(' ', "")
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn messages(attr: TokenStream) -> Vec<String> {
        match parse(attr) {
            Ok(_) => Vec::new(),
            Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn scope_grammar_is_rfc_6749_section_3_3() {
        assert_eq!(scope_problem("files:read"), None);
        assert_eq!(scope_problem("!#[]^~"), None);
        for bad in ["", "a b", "a\"b", "a\\b", "a\tb", "\u{7f}", "é"] {
            assert!(scope_problem(bad).is_some(), "{bad:?} accepted");
        }
    }

    #[test]
    fn all_and_any_forms_parse() {
        let args = parse(quote!("a", "b",)).expect("valid");
        assert!(!args.any);
        assert_eq!(args.scopes.len(), 2);
        let args = parse(quote!(any("a", "b"))).expect("valid");
        assert!(args.any);
        assert_eq!(args.scopes.len(), 2);
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let all = messages(quote!("", "a b", "x", "x", 42, any("y")));
        assert_eq!(all.len(), 5, "{all:#?}");
    }

    #[test]
    fn duplicates_inside_any_are_reported() {
        assert_eq!(messages(quote!(any("a", "a"))).len(), 1);
    }

    /// The one message `attr` gets (it must get exactly one).
    fn message(attr: TokenStream) -> String {
        let all = messages(attr);
        assert_eq!(all.len(), 1, "{all:#?}");
        all.into_iter().next().unwrap_or_default()
    }

    #[test]
    fn no_arguments_asks_for_a_scope() {
        assert!(message(TokenStream::new()).contains("needs at least one scope"));
    }

    #[test]
    fn each_wrong_form_says_which_form_to_write() {
        let cases: [(TokenStream, &str); 10] = [
            (quote!(all("a", "b")), "`all(..)` is not needed"),
            (quote!(some("a")), "unknown `some(..)`"),
            (quote!(scope = "a"), "has no option `scope`"),
            (quote!(any), "`any` takes its scopes in parentheses"),
            (quote!(SCOPE), "not a path"),
            (quote!(1 + 2), "must be a string literal"),
            (quote!(b"a"), "must be a string literal"),
            (quote!(any()), "`any()` needs at least one scope"),
            (quote!(any(any("a"))), "cannot be nested"),
            (quote!(any(SCOPE)), "takes scope strings only"),
        ];
        for (attr, expected) in cases {
            let shown = attr.to_string();
            let got = message(attr);
            assert!(got.contains(expected), "{shown}: {got}");
        }
    }

    #[test]
    fn any_beside_other_scopes_is_refused() {
        let got = message(quote!("a", any("b", "c")));
        assert!(got.contains("must be the only argument"), "{got}");
    }

    #[test]
    fn a_suffixed_literal_is_refused() {
        assert!(message(quote!("a"_x)).contains("cannot have a suffix"));
    }

    #[test]
    fn each_bad_character_is_named() {
        let cases = [
            ("a b", "contains a space"),
            ("a\"b", "contains `\"`"),
            ("a\\b", "contains `\\`"),
            ("a\u{1}b", "control character U+0001"),
            ("a\u{7f}", "control character U+007F"),
            ("caf\u{e9}", "non-ASCII character `\u{e9}`"),
            ("", "cannot be empty"),
        ];
        for (scope, expected) in cases {
            let got = scope_problem(scope).unwrap_or_default();
            assert!(got.contains(expected), "{scope:?}: {got}");
        }
    }

    #[test]
    fn scopes_keep_the_order_written() {
        let args = parse(quote!("b", "a", "c")).expect("valid");
        let order: Vec<String> = args.scopes.iter().map(LitStr::value).collect();
        assert_eq!(order, ["b", "a", "c"]);
    }
}
