//! Okta: a custom authorization server's issuer is `https://{domain}/oauth2/{id}` (e.g.
//! `default`), keys at `{issuer}/v1/keys`, RS256, scopes in the `scp` array, the
//! authorization server's configured *Audience* as `aud`, the client in `cid`.
//! The org authorization server (`https://{domain}`) issues access tokens for Okta's own
//! APIs: they "cannot be validated by your application" and must be introspected.
//! <https://developer.okta.com/docs/concepts/auth-servers/>,
//! <https://developer.okta.com/docs/guides/validate-access-tokens/main/>.

use jsonwebtoken::Algorithm;

use super::Provider;
use super::Variable;
use super::recipe::{Recipe, Settings};
use crate::validate::router::Validation;

const DOMAIN: &str = "MCP_OAUTH_OKTA_DOMAIN";
const SERVER: &str = "MCP_OAUTH_OKTA_AUTHORIZATION_SERVER";

/// Okta Workforce / Customer Identity: custom authorization servers, or the org server
/// through introspection.
///
/// ```
/// use mcp_oauth::McpOAuthBuilder;
///
/// let oauth = McpOAuthBuilder::from_vars([
///     ("MCP_OAUTH_PROVIDER", "okta"),
///     ("MCP_OAUTH_OKTA_DOMAIN", "your-org.okta.com"),
///     ("MCP_OAUTH_OKTA_AUTHORIZATION_SERVER", "default"),
///     ("MCP_OAUTH_RESOURCE", "https://mcp.example.com/mcp"),
/// ])
/// .build()?;
/// # let _ = oauth;
/// # Ok::<(), mcp_oauth::ConfigError>(())
/// ```
pub const OKTA: Provider = Provider {
    name: "okta",
    title: "Okta",
    variables: &[
        Variable {
            name: DOMAIN,
            example: "your-org.okta.com",
            help: "the Okta domain (or custom domain)",
            required: true,
        },
        Variable {
            name: SERVER,
            example: "default",
            help: "the custom authorization server's ID (issuer https://{domain}/oauth2/{id}; default `default`), or `org` for the org authorization server (introspection only)",
            required: false,
        },
    ],
    console_guide: "\
1. **Security → API → Authorization Servers**: use `default` or add one. Its *Audience* \
must be the MCP endpoint's URL (`MCP_OAUTH_RESOURCE`), not `api://default`: that is the \
tokens' `aud`.
2. **Scopes** tab: add the scopes your tools need (`mcp:tools`). **Access Policies** tab: \
a policy and rule that grant them to your MCP clients (authorization code grant).
3. **Applications**: MCP clients are OIDC apps using authorization code with PKCE \
(`S256`, required for SPA and native apps). Okta's Dynamic Client Registration needs an \
API token, so MCP clients cannot register themselves: pre-register them.
4. Set `MCP_OAUTH_OKTA_DOMAIN` (`your-org.okta.com`) and \
`MCP_OAUTH_OKTA_AUTHORIZATION_SERVER` (the server's ID, default `default`).",
    caveats: "\
- **Org authorization server** (`MCP_OAUTH_OKTA_AUTHORIZATION_SERVER=org`, issuer \
`https://{domain}`): its access tokens are meant for Okta's own APIs and cannot be \
validated locally by third parties, and their `aud` is the org URL, not your MCP server. \
The preset then uses **introspection** (`MCP_OAUTH_INTROSPECTION_CLIENT_ID` / \
`_SECRET` of a confidential app) and still requires the resource as audience: accepting \
org tokens means setting `MCP_OAUTH_AUDIENCE=https://{domain}` yourself, which binds no \
token to this server. Prefer a custom authorization server.
- No open Dynamic Client Registration: pre-register MCP clients.",
    recipe,
};

fn recipe(s: &mut Settings<'_>) -> Option<Recipe> {
    let domain = s.required(DOMAIN, "the Okta domain, e.g. your-org.okta.com");
    let server = s.optional(SERVER).unwrap_or_else(|| "default".to_owned());
    let server = s.segment(SERVER, &server);
    let origin = s.origin(DOMAIN, &domain?, false)?;
    let server = server?;
    if server == "org" {
        return Some(Recipe {
            issuer: origin,
            jwks_uri: None,
            algorithms: None,
            audiences: Vec::new(),
            rules: Default::default(),
            validation: Some(Validation::Introspection),
            never_at_jwt: false,
        });
    }
    let issuer = format!("{origin}/oauth2/{server}");
    let jwks = format!("{issuer}/v1/keys");
    let mut recipe = Recipe::jwt(issuer, jwks, &[Algorithm::RS256]);
    // Okta's access tokens have no `typ` header.
    recipe.never_at_jwt = true;
    Some(recipe)
}
