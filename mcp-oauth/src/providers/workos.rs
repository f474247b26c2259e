//! WorkOS AuthKit: issuer `https://{subdomain}.authkit.app` (or the custom auth domain),
//! keys at `{issuer}/oauth2/jwks`, RS256; with *Resource Indicators* enabled the
//! MCP endpoint's URL becomes `aud`.
//! <https://workos.com/docs/authkit/mcp/integrating/token-verification>.

use jsonwebtoken::Algorithm;

use super::Provider;
use super::Variable;
use super::recipe::{Recipe, Settings};

const DOMAIN: &str = "MCP_OAUTH_WORKOS_AUTHKIT_DOMAIN";

/// WorkOS AuthKit.
///
/// ```
/// use mcp_oauth::McpOAuthBuilder;
///
/// let oauth = McpOAuthBuilder::from_vars([
///     ("MCP_OAUTH_PROVIDER", "workos"),
///     ("MCP_OAUTH_WORKOS_AUTHKIT_DOMAIN", "your-app.authkit.app"),
///     ("MCP_OAUTH_RESOURCE", "https://mcp.example.com/mcp"),
/// ])
/// .build()?;
/// # let _ = oauth;
/// # Ok::<(), mcp_oauth::ConfigError>(())
/// ```
pub const WORKOS: Provider = Provider {
    name: "workos",
    title: "WorkOS AuthKit",
    variables: &[Variable {
        name: DOMAIN,
        example: "your-app.authkit.app",
        help: "the AuthKit domain; it is the issuer",
        required: true,
    }],
    console_guide: "\
1. **Applications → Configuration**: enable *Dynamic Client Registration* (MCP clients \
register themselves) and *Client ID Metadata Document* support if offered.
2. Enable **Resource Indicators** (RFC 8707) and list the MCP endpoint's URL \
(`MCP_OAUTH_RESOURCE`): AuthKit then mints tokens with it as `aud`.
3. PKCE (`S256`) is always required by AuthKit for public clients.
4. Set `MCP_OAUTH_WORKOS_AUTHKIT_DOMAIN` to the AuthKit domain (`your-app.authkit.app`).",
    caveats: "",
    recipe,
};

fn recipe(s: &mut Settings<'_>) -> Option<Recipe> {
    let domain = s.required(DOMAIN, "the AuthKit domain, e.g. your-app.authkit.app")?;
    let issuer = s.origin(DOMAIN, &domain, false)?;
    let jwks = format!("{issuer}/oauth2/jwks");
    Some(Recipe::jwt(issuer, jwks, &[Algorithm::RS256]))
}
