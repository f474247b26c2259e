//! Auth0: a tenant's issuer is `https://{domain}/` (with the `/`), keys at
//! `https://{domain}/.well-known/jwks.json`, RS256 (or PS256), scopes in `scope`, the
//! API Identifier as `aud` (with `https://{domain}/userinfo` beside it when `openid` was
//! asked). <https://auth0.com/docs/secure/tokens/access-tokens/validate-access-tokens>,
//! <https://auth0.com/docs/secure/tokens/json-web-tokens/json-web-key-sets>.

use jsonwebtoken::Algorithm;

use super::Provider;
use super::Variable;
use super::recipe::{Recipe, Settings};

const DOMAIN: &str = "MCP_OAUTH_AUTH0_DOMAIN";

/// Auth0 (Okta Customer Identity Cloud).
///
/// ```
/// use mcp_oauth::McpOAuthBuilder;
///
/// let oauth = McpOAuthBuilder::from_vars([
///     ("MCP_OAUTH_PROVIDER", "auth0"),
///     ("MCP_OAUTH_AUTH0_DOMAIN", "your-tenant.us.auth0.com"),
///     ("MCP_OAUTH_RESOURCE", "https://mcp.example.com/mcp"),
/// ])
/// .build()?;
/// # let _ = oauth;
/// # Ok::<(), mcp_oauth::ConfigError>(())
/// ```
pub const AUTH0: Provider = Provider {
    name: "auth0",
    title: "Auth0",
    variables: &[Variable {
        name: DOMAIN,
        example: "your-tenant.us.auth0.com",
        help: "the tenant's domain (or custom domain); the issuer is https://{domain}/",
        required: true,
    }],
    console_guide: "\
1. **Applications → APIs → Create API**: *Identifier* = the MCP endpoint's URL \
(`MCP_OAUTH_RESOURCE`, e.g. `https://mcp.example.com/mcp`); this becomes the tokens' `aud`. \
Signing algorithm RS256. Under *Permissions*, add the scopes your tools need (`mcp:tools`).
2. **Settings → Advanced**: enable *Dynamic Client Registration* (MCP clients register \
themselves) and the *Resource Parameter Compatibility Profile*, so the RFC 8707 `resource` \
parameter MCP clients send selects the API (or set the tenant's *Default Audience* to it).
3. Promote the connection your users log in with to a *domain-level connection*, so \
dynamically registered clients can use it.
4. Public clients use the authorization code flow with PKCE (`S256`), which Auth0 requires \
for them.
5. Set `MCP_OAUTH_AUTH0_DOMAIN` to the tenant domain (`your-tenant.us.auth0.com`) or the \
custom domain the tokens are issued from.",
    caveats: "",
    recipe,
};

fn recipe(s: &mut Settings<'_>) -> Option<Recipe> {
    let domain = s.required(DOMAIN, "the tenant's domain, e.g. your-tenant.us.auth0.com")?;
    let origin = s.origin(DOMAIN, &domain, false)?;
    Some(Recipe::jwt(
        format!("{origin}/"),
        format!("{origin}/.well-known/jwks.json"),
        &[Algorithm::RS256, Algorithm::PS256],
    ))
}
