//! Clerk: OAuth access tokens are opaque and verified by introspection (RFC 7662, Clerk's
//! `/oauth/token_info`) by a confidential OAuth application; the issuer is the Frontend
//! API URL. <https://clerk.com/docs/guides/configure/auth-strategies/oauth/verify-oauth-tokens>,
//! <https://clerk.com/docs/guides/ai/mcp/build-mcp-server>.

use super::Provider;
use super::Variable;
use super::recipe::{Recipe, Settings};
use crate::validate::profile::ClaimRules;
use crate::validate::router::Validation;

const DOMAIN: &str = "MCP_OAUTH_CLERK_DOMAIN";
const CLIENTS: &str = "MCP_OAUTH_CLERK_CLIENT_IDS";

/// Clerk (OAuth applications, opaque tokens through introspection).
///
/// ```
/// use mcp_oauth::McpOAuthBuilder;
///
/// let oauth = McpOAuthBuilder::from_vars([
///     ("MCP_OAUTH_PROVIDER", "clerk"),
///     ("MCP_OAUTH_CLERK_DOMAIN", "your-app.clerk.accounts.dev"),
///     ("MCP_OAUTH_INTROSPECTION_CLIENT_ID", "clerk-oauth-app-id"),
///     ("MCP_OAUTH_INTROSPECTION_CLIENT_SECRET", "its secret"),
///     ("MCP_OAUTH_RESOURCE", "https://mcp.example.com/mcp"),
/// ])
/// .build()?;
/// # let _ = oauth;
/// # Ok::<(), mcp_oauth::ConfigError>(())
/// ```
pub const CLERK: Provider = Provider {
    name: "clerk",
    title: "Clerk",
    variables: &[
        Variable {
            name: DOMAIN,
            example: "your-app.clerk.accounts.dev",
            help: "the Frontend API domain; it is the issuer",
            required: true,
        },
        Variable {
            name: CLIENTS,
            example: "oauth_client_abc",
            help: "OAuth application client IDs whose tokens are accepted when introspection reports no `aud`",
            required: false,
        },
    ],
    console_guide: "\
1. **Configure → OAuth applications**: enable *Dynamic client registration* so MCP \
clients register themselves; PKCE is required for public clients.
2. Create one confidential OAuth application for this server: its client ID and secret \
go in `MCP_OAUTH_INTROSPECTION_CLIENT_ID` / `MCP_OAUTH_INTROSPECTION_CLIENT_SECRET` \
(the preset introspects every token). If the metadata at `https://{domain}/.well-known/oauth-authorization-server` names no `introspection_endpoint`, set `MCP_OAUTH_INTROSPECTION_ENDPOINT` to `https://{domain}/oauth/token_info`.
3. Set `MCP_OAUTH_CLERK_DOMAIN` to the Frontend API domain.",
    caveats: "\
- Clerk's tokens are opaque: every new token costs one introspection call (then cached).
- Clerk does not bind tokens to a resource: when introspection reports no `aud`, tokens \
are refused unless their `client_id` is listed in `MCP_OAUTH_CLERK_CLIENT_IDS`, an \
explicit choice that accepts every token of those clients.",
    recipe,
};

fn recipe(s: &mut Settings<'_>) -> Option<Recipe> {
    let domain = s.required(DOMAIN, "the Frontend API domain")?;
    let clients = s.optional(CLIENTS);
    let client_ids = s.list(clients);
    let issuer = s.origin(DOMAIN, &domain, false)?;
    Some(Recipe {
        issuer,
        jwks_uri: None,
        algorithms: None,
        audiences: Vec::new(),
        rules: ClaimRules {
            client_ids,
            ..ClaimRules::default()
        },
        validation: Some(Validation::Introspection),
        never_at_jwt: false,
    })
}
