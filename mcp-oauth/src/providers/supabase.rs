//! Supabase Auth: issuer `{project url}/auth/v1`, keys at
//! `{project url}/auth/v1/.well-known/jwks.json` (asymmetric signing keys: ES256 or
//! RS256), `aud: authenticated` for every signed-in user, the Postgres `role` claim.
//! <https://supabase.com/docs/guides/auth/jwts>,
//! <https://supabase.com/docs/guides/auth/signing-keys>.

use jsonwebtoken::Algorithm;

use super::Provider;
use super::Variable;
use super::recipe::{Recipe, Settings};

const URL: &str = "MCP_OAUTH_SUPABASE_PROJECT_URL";

/// Supabase Auth (asymmetric JWT signing keys).
///
/// ```
/// use mcp_oauth::McpOAuthBuilder;
///
/// let oauth = McpOAuthBuilder::from_vars([
///     ("MCP_OAUTH_PROVIDER", "supabase"),
///     ("MCP_OAUTH_SUPABASE_PROJECT_URL", "https://abcdefghijklm.supabase.co"),
///     ("MCP_OAUTH_RESOURCE", "https://mcp.example.com/mcp"),
/// ])
/// .build()?;
/// # let _ = oauth;
/// # Ok::<(), mcp_oauth::ConfigError>(())
/// ```
pub const SUPABASE: Provider = Provider {
    name: "supabase",
    title: "Supabase",
    variables: &[Variable {
        name: URL,
        example: "https://abcdefghijklm.supabase.co",
        help: "the project URL; the issuer is {url}/auth/v1",
        required: true,
    }],
    console_guide: "\
1. **Authentication → JWT Keys**: migrate to asymmetric *JWT signing keys* (ES256 or \
RS256); the legacy shared secret cannot be used with a JWKS.
2. **Authentication → OAuth Server**: enable it and *Dynamic client registration* for MCP \
clients; PKCE (`S256`) is required.
3. Set `MCP_OAUTH_SUPABASE_PROJECT_URL` (`https://{ref}.supabase.co`, or the custom \
domain).",
    caveats: "\
- **No audience binding**: Supabase access tokens carry `aud: authenticated` for every \
signed-in user of the project, never the MCP endpoint's URL, so they are refused until \
you set `MCP_OAUTH_AUDIENCE=authenticated` yourself: then any session token of the \
project is accepted here.
- No OAuth scopes yet: authorize with the `role` or custom claims in your handlers.",
    recipe,
};

fn recipe(s: &mut Settings<'_>) -> Option<Recipe> {
    let url = s.required(
        URL,
        "the project URL, e.g. https://abcdefghijklm.supabase.co",
    )?;
    let origin = s.origin(URL, &url, false)?;
    let issuer = format!("{origin}/auth/v1");
    let jwks = format!("{issuer}/.well-known/jwks.json");
    Some(Recipe::jwt(
        issuer,
        jwks,
        &[Algorithm::ES256, Algorithm::RS256],
    ))
}
