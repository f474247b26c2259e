//! What `#[require_scope]` expands to: the scope check of a guarded handler or tool, and
//! the link-time registries the middleware and the metadata read. Reached only through
//! the hidden `mcp_oauth::__private` module; nothing here is public API.

use crate::client::AuthenticatedClient;
use crate::refusal::AuthError;

/// A tool guarded by `#[require_scope]`: the middleware refuses a `tools/call` of it with
/// an HTTP 403 before the MCP service runs.
#[derive(Debug)]
pub struct GuardedTool {
    /// The tool name, as clients call it.
    pub name: &'static str,
    /// The scopes it needs.
    pub scopes: &'static [&'static str],
    /// `true`: any one of `scopes`; `false`: all of them.
    pub any: bool,
}

/// A prompt guarded by `#[require_scope]`: the middleware refuses a `prompts/get` of it
/// with an HTTP 403 before the MCP service runs.
#[derive(Debug)]
pub struct GuardedPrompt {
    /// The prompt name, as clients get it.
    pub name: &'static str,
    /// The scopes it needs.
    pub scopes: &'static [&'static str],
    /// `true`: any one of `scopes`; `false`: all of them.
    pub any: bool,
}

/// Scopes a `#[require_scope]` guard uses, offered to the metadata's `scopes_supported`.
#[derive(Debug)]
pub struct GuardedScopes {
    /// The scopes.
    pub scopes: &'static [&'static str],
}

inventory::collect!(GuardedTool);
inventory::collect!(GuardedScopes);
inventory::collect!(GuardedPrompt);

/// Every tool guarded anywhere in the program.
pub(crate) fn guarded_tools() -> impl Iterator<Item = &'static GuardedTool> {
    inventory::iter::<GuardedTool>.into_iter()
}

/// Every prompt guarded anywhere in the program.
pub(crate) fn guarded_prompts() -> impl Iterator<Item = &'static GuardedPrompt> {
    inventory::iter::<GuardedPrompt>.into_iter()
}

/// Every scope named by a guard anywhere in the program, tools and prompts included.
pub(crate) fn guarded_scopes() -> impl Iterator<Item = &'static str> {
    inventory::iter::<GuardedScopes>
        .into_iter()
        .flat_map(|g| g.scopes.iter().copied())
        .chain(guarded_tools().flat_map(|t| t.scopes.iter().copied()))
        .chain(guarded_prompts().flat_map(|p| p.scopes.iter().copied()))
}

/// The check of a guarded actix handler: 403 step-up when the scopes are missing.
///
/// # Errors
/// The 403 [`AuthError`].
pub fn check(client: &AuthenticatedClient, scopes: &[&str], any: bool) -> Result<(), AuthError> {
    if any {
        client.require_any_scope(scopes)
    } else {
        client.require_scopes(scopes)
    }
}

/// The check inside a guarded rmcp tool or prompt (defence in depth: the middleware has normally
/// refused the call already). A JSON-RPC error, since the HTTP status is decided by then.
///
/// # Errors
/// `invalid_request` naming the missing scopes.
#[cfg(feature = "rmcp")]
pub fn check_tool(
    client: &AuthenticatedClient,
    scopes: &[&str],
    any: bool,
) -> Result<(), rmcp::ErrorData> {
    check(client, scopes, any).map_err(|e| {
        rmcp::ErrorData::invalid_request(
            format!("insufficient_scope: {}", e.refusal().description()),
            None,
        )
    })
}
