//! The `#[require_scope]` attribute of [mcp-oauth](https://docs.rs/mcp-oauth).
//!
//! Use it through the re-export `mcp_oauth::require_scope`, whose documentation has
//! compiled examples: the expansion names `::mcp_oauth::__private`, so this crate is of no
//! use on its own.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use proc_macro::TokenStream;

mod args;
mod expand;

/// Requires OAuth scopes for an actix-web handler or an rmcp tool or prompt.
///
/// ```text
/// #[require_scope("files:read")]              the scope
/// #[require_scope("files:read", "files:write")]  all of them
/// #[require_scope(any("files:write", "admin"))]   any one of them
/// ```
///
/// Scopes are string literals checked at compile time against RFC 6749 §3.3 (not empty;
/// visible ASCII other than `"` and `\`; no space), each at most once. Every problem is
/// reported at once, on the literal at fault.
///
/// # On an actix-web handler
/// The handler must be an `async fn` with a return type (a `Responder`). It gains a first
/// argument, the `AuthenticatedClient` extractor, named `__mcp_oauth_client` with mixed-site
/// hygiene (the body cannot name it, and it shadows nothing the body names), and its return
/// type `R` becomes `Result<R, actix_web::Error>`:
///
/// ```text
/// async fn h(__mcp_oauth_client: AuthenticatedClient, args..) -> Result<R, actix_web::Error> {
///     inventory::submit! { GuardedScopes { scopes: &["files:read"] } }
///     check(&__mcp_oauth_client, &["files:read"], any)?; // 403 insufficient_scope step-up
///     Ok(async move { body }.await)                      // `return` and `?` keep their meaning
/// }
/// ```
///
/// A client without the scopes gets a 403 whose `WWW-Authenticate` names the scopes it
/// needs. Without the `McpOAuth` middleware the extractor answers 500 (a server bug, not
/// missing credentials). With `#[get]`, `#[post]` or `#[route]`, put the route attribute
/// on top (both orders work).
///
/// # On an rmcp tool
/// Put `#[require_scope]` above `#[tool]` (below it, `#[tool]` has already rewritten the
/// method and the guard fails to compile with a message saying so). The tool may be sync
/// or async; it gains an `AuthenticatedClient` argument right after the receiver (not
/// part of the input schema; needs mcp-oauth's `rmcp` feature) and returns
/// `Result<R, rmcp::ErrorData>`. The tool is registered with its name (`#[tool(name)]` or
/// the fn name), so the middleware refuses a `tools/call` of it with an HTTP 403 step-up
/// before the MCP service runs; inside the tool, the same check answers a JSON-RPC error.
///
/// # On an rmcp prompt
/// The same, with `#[prompt]`: put `#[require_scope]` above it; the prompt gains the
/// `AuthenticatedClient` argument and returns `Result<R, rmcp::ErrorData>`, is registered
/// with its name (`#[prompt(name)]` or the fn name), and a `prompts/get` of it is refused
/// with an HTTP 403 by the middleware. A method with both `#[tool]` and `#[prompt]` is
/// refused.
///
/// Every guarded scope is registered at link time and offered in the protected-resource
/// metadata's `scopes_supported`.
#[proc_macro_attribute]
pub fn require_scope(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::require_scope(attr.into(), item.into()).into()
}
