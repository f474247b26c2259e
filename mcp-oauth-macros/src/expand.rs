//! The tokens `#[require_scope]` writes, for an actix-web handler or an rmcp tool or
//! prompt.
//!
//! Output names only absolute paths under `::mcp_oauth::__private`, so it works whatever
//! the user imported. The decision (all / any, the 403 challenge) is made at run time by
//! `mcp_oauth::__private::{check, check_tool}`; this module only wires them in.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{
    AttrStyle, Attribute, Error, Expr, GenericArgument, Ident, ItemFn, Lit, LitStr, Meta,
    PathArguments, ReturnType, Token, Type,
};

use crate::args::{self, Errors, ScopeArgs};

/// The attribute's expansion; on error, the errors followed by the item unchanged (so the
/// rest of the program still sees the function and no follow-up errors pile up).
pub(crate) fn require_scope(attr: TokenStream, item: TokenStream) -> TokenStream {
    match expand(attr, item.clone()) {
        Ok(tokens) => tokens,
        Err(error) => {
            let error = error.into_compile_error();
            quote! { #error #item }
        }
    }
}

/// What is guarded.
enum Target {
    /// An actix-web handler (`async fn` returning a `Responder`).
    Handler,
    /// An rmcp tool or prompt: the fn carries this attribute (last path segment `tool` or
    /// `prompt`) below us.
    Rmcp(usize, Kind),
}

/// An rmcp `#[tool]` or `#[prompt]`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Tool,
    Prompt,
}

fn expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let mut errors = Errors::default();
    let args = args::parse(attr).map_err(|e| errors.push(e)).ok();
    let func = syn::parse2::<ItemFn>(item)
        .map_err(|_| {
            errors.push(Error::new(
                Span::call_site(),
                "`#[require_scope]` applies to an `async fn` actix-web handler or to an rmcp \
                 `#[tool]` or `#[prompt]` method",
            ));
        })
        .ok();
    let target = func
        .as_ref()
        .and_then(|f| target(f).map_err(|e| errors.push(e)).ok());
    errors.finish()?;
    let (Some(args), Some(func), Some(target)) = (args, func, target) else {
        // Unreachable: every `None` above pushed an error.
        return Err(Error::new(Span::call_site(), "invalid `#[require_scope]`"));
    };
    match target {
        Target::Handler => handler(&args, func),
        Target::Rmcp(index, kind) => rmcp_method(&args, func, index, kind),
    }
}

/// Decides what the fn is, or why it cannot be guarded (every reason at once).
fn target(func: &ItemFn) -> syn::Result<Target> {
    let found: Vec<(usize, Kind)> = func
        .attrs
        .iter()
        .enumerate()
        .filter_map(|(i, a)| rmcp_kind(a).map(|k| (i, k)))
        .collect();
    match found[..] {
        [] => {}
        [(index, kind)] => return Ok(Target::Rmcp(index, kind)),
        [.., (index, _)] => {
            return Err(Error::new_spanned(
                &func.attrs[index],
                "a method is one rmcp tool or one rmcp prompt: `#[require_scope]` found more \
                 than one `#[tool]` / `#[prompt]` below it; keep one",
            ));
        }
    }
    if returns_pinned_future(&func.sig.output) {
        // rmcp's `#[tool]` ran first: it consumed its attribute and boxed the future.
        return Err(Error::new(
            Span::call_site(),
            "`#[require_scope]` must be placed above `#[tool]` or `#[prompt]`, not below it: \
             that attribute has already rewritten this method, so the guard can no longer see \
             it; write `#[require_scope(..)]` on the line before `#[tool(..)]`/`#[prompt(..)]`",
        ));
    }
    if func.sig.receiver().is_some() {
        // A sync `#[tool]` above us leaves no trace but the missing attribute.
        return Err(Error::new(
            Span::call_site(),
            "`#[require_scope]` must be placed above `#[tool]` or `#[prompt]`: on a method it \
             guards an rmcp tool or prompt, and it sees no `#[tool]` / `#[prompt]` below it (one \
             written above it has already run); write `#[require_scope(..)]` on the line \
             before `#[tool(..)]`/`#[prompt(..)]`",
        ));
    }
    let mut errors = Errors::default();
    if func.sig.asyncness.is_none() {
        errors.push(Error::new(
            func.sig.fn_token.span,
            "a handler guarded by `#[require_scope]` must be an `async fn` (a sync fn is \
             accepted only as an rmcp tool, with `#[tool]` below `#[require_scope]`)",
        ));
    }
    if matches!(func.sig.output, ReturnType::Default) {
        errors.push(Error::new_spanned(
            &func.sig,
            "a handler must return a Responder: add a return type, e.g. `-> impl Responder` \
             or `-> HttpResponse`",
        ));
    }
    errors.finish()?;
    Ok(Target::Handler)
}

/// `#[tool]`, `#[tool(..)]`, `#[rmcp::prompt(..)]`: found the way rmcp's
/// `#[tool_router]` and `#[prompt_router]` find them, by the last path segment.
fn rmcp_kind(attr: &Attribute) -> Option<Kind> {
    let last = attr.path().segments.last()?;
    if last.ident == "tool" {
        Some(Kind::Tool)
    } else if last.ident == "prompt" {
        Some(Kind::Prompt)
    } else {
        None
    }
}

/// `-> Pin<Box<dyn Future<..>>>`, the signature `#[tool]` gives an `async fn`.
fn returns_pinned_future(output: &ReturnType) -> bool {
    let ReturnType::Type(_, ty) = output else {
        return false;
    };
    let Type::Path(path) = &**ty else {
        return false;
    };
    path.path
        .segments
        .last()
        .is_some_and(|segment| segment.ident == "Pin")
}

/// The identifier of the injected `AuthenticatedClient` argument. Mixed-site hygiene: the
/// body cannot name it, and it cannot shadow anything the body names.
fn client_ident() -> Ident {
    Ident::new("__mcp_oauth_client", Span::mixed_site())
}

/// The scopes as a `&[&str]` literal, each spanned on the literal the user wrote.
fn scope_slice(args: &ScopeArgs) -> TokenStream {
    let scopes = args
        .scopes
        .iter()
        .map(|s| LitStr::new(&s.value(), s.span()));
    quote! { &[#(#scopes),*] }
}

/// ```text
/// async fn h(__mcp_oauth_client: AuthenticatedClient, args..) -> Result<R, actix_web::Error> {
///     inventory::submit! { GuardedScopes { .. } }
///     check(&__mcp_oauth_client, &[..], any)?;   // 403 insufficient_scope step-up
///     Ok(async move { body }.await)
/// }
/// ```
fn handler(args: &ScopeArgs, mut func: ItemFn) -> syn::Result<TokenStream> {
    let client = client_ident();
    let scopes = scope_slice(args);
    let any = args.any;
    func.sig.inputs.insert(
        0,
        syn::parse2(quote!(#client: ::mcp_oauth::AuthenticatedClient))?,
    );
    wrap_output(
        &mut func.sig.output,
        quote!(::mcp_oauth::__private::actix_web::Error),
    )?;
    let body = &func.block;
    Ok(with_body(
        &func,
        quote! {
            ::mcp_oauth::__private::inventory::submit! {
                ::mcp_oauth::__private::GuardedScopes { scopes: #scopes }
            }
            ::mcp_oauth::__private::check(&#client, #scopes, #any)?;
            ::core::result::Result::Ok(async move #body.await)
        },
    ))
}

/// ```text
/// #[tool(..)]                                       // or #[prompt(..)]: GuardedPrompt
/// fn t(&self, __mcp_oauth_client: AuthenticatedClient, args..) -> Result<R, rmcp::ErrorData> {
///     inventory::submit! { GuardedTool { name, .. } }
///     check_tool(&__mcp_oauth_client, &[..], any)?;   // JSON-RPC error
///     Ok((move || body)())                          // `Ok(async move { body }.await)` if async
/// }
/// ```
fn rmcp_method(
    args: &ScopeArgs,
    mut func: ItemFn,
    attr: usize,
    kind: Kind,
) -> syn::Result<TokenStream> {
    let client = client_ident();
    let scopes = scope_slice(args);
    let any = args.any;
    let name = tool_name(&func.attrs[attr], &func.sig.ident);
    let registry = match kind {
        Kind::Tool => {
            keep_output_schema(&mut func.attrs[attr], &func.sig.output);
            quote!(GuardedTool)
        }
        Kind::Prompt => quote!(GuardedPrompt),
    };
    let at = usize::from(func.sig.receiver().is_some());
    func.sig.inputs.insert(
        at,
        syn::parse2(quote!(#client: ::mcp_oauth::AuthenticatedClient))?,
    );
    wrap_output(
        &mut func.sig.output,
        quote!(::mcp_oauth::__private::rmcp::ErrorData),
    )?;
    let body = &func.block;
    let run = if func.sig.asyncness.is_some() {
        quote! { async move #body.await }
    } else {
        quote! { (move || #body)() }
    };
    Ok(with_body(
        &func,
        quote! {
            ::mcp_oauth::__private::inventory::submit! {
                ::mcp_oauth::__private::#registry { name: #name, scopes: #scopes, any: #any }
            }
            ::mcp_oauth::__private::check_tool(&#client, #scopes, #any)?;
            ::core::result::Result::Ok(#run)
        },
    ))
}

/// `-> R` becomes `-> ::core::result::Result<R, E>` (`R` is `()` when there was none).
fn wrap_output(output: &mut ReturnType, error: TokenStream) -> syn::Result<()> {
    let ret = match &*output {
        ReturnType::Default => quote! { () },
        ReturnType::Type(_, ty) => ty.to_token_stream(),
    };
    *output = syn::parse2(quote! { -> ::core::result::Result<#ret, #error> })?;
    Ok(())
}

/// The fn with `body` as its block. The fn's `#![..]` attributes belong to the block, so
/// they open it; the others stay on the fn.
fn with_body(func: &ItemFn, body: TokenStream) -> TokenStream {
    let (inner, outer): (Vec<&Attribute>, Vec<&Attribute>) = func
        .attrs
        .iter()
        .partition(|a| matches!(a.style, AttrStyle::Inner(_)));
    let ItemFn { vis, sig, .. } = func;
    quote! {
        #(#outer)*
        #vis #sig {
            #(#inner)*
            #body
        }
    }
}

/// The tool's or prompt's name as clients call it: `#[tool(name = "..")]` /
/// `#[prompt(name = "..")]`, else the fn name (rmcp's rule for both).
fn tool_name(attr: &Attribute, ident: &Ident) -> LitStr {
    tool_args(attr)
        .into_iter()
        .flatten()
        .find_map(|meta| match meta {
            Meta::NameValue(nv) if nv.path.is_ident("name") => match nv.value {
                Expr::Lit(syn::ExprLit {
                    lit: Lit::Str(name),
                    ..
                }) => Some(name),
                _ => None,
            },
            _ => None,
        })
        .unwrap_or_else(|| LitStr::new(&ident.to_string(), ident.span()))
}

/// The arguments of `#[tool(..)]` or `#[prompt(..)]` (`Some(empty)` when bare), or `None`
/// when they do not parse as metas (then that attribute reports the problem itself).
fn tool_args(attr: &Attribute) -> Option<Punctuated<Meta, Token![,]>> {
    match &attr.meta {
        Meta::Path(_) => Some(Punctuated::new()),
        Meta::List(list) => list
            .parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
            .ok(),
        Meta::NameValue(_) => None,
    }
}

/// rmcp derives a tool's output schema from a `Json<T>` or `Result<Json<T>, E>` return
/// type. Wrapping `Result<Json<T>, E>` in our `Result` would hide it, so in that case the
/// schema is written into `#[tool(output_schema = ..)]` (unless the user set one).
fn keep_output_schema(attr: &mut Attribute, output: &ReturnType) {
    let ReturnType::Type(_, ty) = output else {
        return;
    };
    let Some(json) = generic_arg(ty, "Result").and_then(|ok| generic_arg(ok, "Json")) else {
        return;
    };
    let Some(metas) = tool_args(attr) else {
        return;
    };
    if metas.iter().any(|m| m.path().is_ident("output_schema")) {
        return;
    }
    let path = attr.path();
    let metas = metas.iter();
    let patched = quote! {
        #[#path(
            #(#metas,)*
            output_schema = ::mcp_oauth::__private::rmcp::handler::server::tool::schema_for_output::<#json>()
        )]
    };
    if let Ok(mut parsed) = Attribute::parse_outer.parse2(patched)
        && let Some(patched) = parsed.pop()
    {
        *attr = patched;
    }
}

/// `T` of `…::Name<T, ..>`.
fn generic_arg<'a>(ty: &'a Type, name: &str) -> Option<&'a Type> {
    let Type::Path(path) = ty else {
        return None;
    };
    let last = path.path.segments.last()?;
    if last.ident != name {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first()? {
        GenericArgument::Type(inner) => Some(inner),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expanded(attr: TokenStream, item: TokenStream) -> String {
        require_scope(attr, item).to_string()
    }

    #[test]
    fn handler_gets_the_client_first_and_a_result() {
        let out = expanded(
            quote!("a"),
            quote!(
                async fn h(x: u32) -> String {
                    x.to_string()
                }
            ),
        );
        assert!(out.contains("__mcp_oauth_client : :: mcp_oauth :: AuthenticatedClient , x"));
        assert!(out.contains("__private :: actix_web :: Error"));
        assert!(out.contains("GuardedScopes"));
    }

    #[test]
    fn tool_name_comes_from_the_tool_attribute() {
        let out = expanded(
            quote!("a"),
            quote!(
                #[tool(name = "renamed")]
                fn t(&self) -> String {
                    String::new()
                }
            ),
        );
        assert!(out.contains("name : \"renamed\""), "{out}");
        assert!(out.contains("& self , __mcp_oauth_client"), "{out}");
    }

    #[test]
    fn result_json_keeps_its_output_schema() {
        let out = expanded(
            quote!("a"),
            quote!(
                #[tool]
                fn t(&self) -> Result<Json<Out>, ErrorData> {
                    todo!()
                }
            ),
        );
        assert!(out.contains("schema_for_output :: < Out >"), "{out}");
    }

    #[test]
    fn errors_keep_the_item() {
        let out = expanded(
            quote!(""),
            quote!(
                async fn h() -> u8 {
                    1
                }
            ),
        );
        assert!(out.contains("compile_error"));
        assert!(out.contains("async fn h () -> u8"));
    }

    /// The messages of the `compile_error!`s the expansion emits.
    fn errors(attr: TokenStream, item: TokenStream) -> Vec<String> {
        match expand(attr, item) {
            Ok(_) => Vec::new(),
            Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn not_a_function_is_refused() {
        let got = errors(
            quote!("a"),
            quote!(
                struct S;
            ),
        );
        assert_eq!(got.len(), 1, "{got:#?}");
        assert!(got[0].contains("applies to an `async fn`"), "{got:#?}");
    }

    #[test]
    fn a_tool_below_the_guard_is_named() {
        // `#[tool]` above `#[require_scope]` ran first: an async fn became a pinned future.
        let got = errors(
            quote!("a"),
            quote!(
                fn t(&self) -> std::pin::Pin<Box<dyn Future<Output = String> + Send + '_>> {
                    todo!()
                }
            ),
        );
        assert!(
            got[0].contains("must be placed above `#[tool]` or `#[prompt]`, not below it"),
            "{got:#?}"
        );
        // A sync one leaves only a method without `#[tool]`.
        let got = errors(
            quote!("a"),
            quote!(
                fn t(&self) -> String {
                    String::new()
                }
            ),
        );
        assert!(
            got[0].contains("sees no `#[tool]` / `#[prompt]` below it"),
            "{got:#?}"
        );
    }

    #[test]
    fn a_handler_must_be_async_and_return_something_and_both_are_said() {
        let got = errors(
            quote!("a"),
            quote!(
                fn h() {}
            ),
        );
        assert_eq!(got.len(), 2, "{got:#?}");
        assert!(got[0].contains("must be an `async fn`"), "{got:#?}");
        assert!(got[1].contains("must return a Responder"), "{got:#?}");
    }

    #[test]
    fn argument_and_target_problems_come_together() {
        let got = errors(
            quote!("", any),
            quote!(
                fn h() {}
            ),
        );
        assert_eq!(got.len(), 4, "{got:#?}");
    }

    #[test]
    fn inner_attributes_open_the_new_body() {
        let out = expanded(
            quote!("a"),
            quote!(
                #[doc = "outer"]
                async fn h() -> u8 {
                    #![allow(unused)]
                    1
                }
            ),
        );
        let outer = out.find("# [doc = \"outer\"]").expect("outer kept");
        let sig = out.find("async fn h").expect("sig");
        let inner = out.find("# ! [allow (unused)]").expect("inner kept");
        let check = out.find("__private :: check").expect("guard");
        assert!(outer < sig && sig < inner && inner < check, "{out}");
    }

    #[test]
    fn a_tool_without_a_return_type_returns_unit_in_a_result() {
        let out = expanded(
            quote!(any("a", "b")),
            quote!(
                #[rmcp::tool]
                async fn t(&self) {}
            ),
        );
        assert!(
            out.contains("Result < () , :: mcp_oauth :: __private :: rmcp :: ErrorData >"),
            "{out}"
        );
        assert!(out.contains("any : true"), "{out}");
        assert!(out.contains("name : \"t\""), "{out}");
        assert!(out.contains("async move"), "{out}");
    }

    #[test]
    fn an_output_schema_set_by_the_user_is_kept() {
        let out = expanded(
            quote!("a"),
            quote!(
                #[tool(output_schema = mine())]
                fn t(&self) -> Result<Json<Out>, ErrorData> {
                    todo!()
                }
            ),
        );
        assert!(out.contains("output_schema = mine ()"), "{out}");
        assert!(!out.contains("schema_for_output"), "{out}");
    }

    #[test]
    fn a_prompt_registers_as_a_prompt_under_its_name() {
        let out = expanded(
            quote!("p"),
            quote!(
                #[prompt(name = "report")]
                async fn r(&self) -> Vec<PromptMessage> {
                    vec![]
                }
            ),
        );
        assert!(out.contains("GuardedPrompt { name : \"report\""), "{out}");
        assert!(!out.contains("GuardedTool"), "{out}");
        assert!(out.contains("& self , __mcp_oauth_client"), "{out}");
    }

    #[test]
    fn a_tool_name_that_is_not_a_string_falls_back_to_the_fn_name() {
        let out = expanded(
            quote!("a"),
            quote!(
                #[tool(name = NAME)]
                fn t(&self) -> String {
                    String::new()
                }
            ),
        );
        assert!(out.contains("name : \"t\""), "{out}");
    }
}
