//! Keycloak: a realm's issuer is `{base}/realms/{realm}` (`{base}/auth/realms/{realm}`
//! before Keycloak 17), keys at `{issuer}/protocol/openid-connect/certs`, header
//! `typ: JWT`, the claim `typ: Bearer` in access tokens (`ID` in ID tokens), the client in
//! `azp`, scopes in `scope`, and `aud` only what audience mappers add (`account` by
//! default). <https://www.keycloak.org/docs/latest/server_admin/#_audience>,
//! <https://www.keycloak.org/securing-apps/oidc-layers>.

use super::Provider;
use super::Variable;
use super::recipe::{Recipe, Settings};
use crate::refusal::TokenRejection;
use crate::validate::profile::{ClaimRules, RequiredClaim};

const URL: &str = "MCP_OAUTH_KEYCLOAK_URL";
const REALM: &str = "MCP_OAUTH_KEYCLOAK_REALM";

/// Keycloak (and Red Hat build of Keycloak).
///
/// ```
/// use mcp_oauth::McpOAuthBuilder;
///
/// let oauth = McpOAuthBuilder::from_vars([
///     ("MCP_OAUTH_PROVIDER", "keycloak"),
///     ("MCP_OAUTH_KEYCLOAK_URL", "https://sso.example.com"),
///     ("MCP_OAUTH_KEYCLOAK_REALM", "mcp"),
///     ("MCP_OAUTH_RESOURCE", "https://mcp.example.com/mcp"),
/// ])
/// .build()?;
/// # let _ = oauth;
/// # Ok::<(), mcp_oauth::ConfigError>(())
/// ```
pub const KEYCLOAK: Provider = Provider {
    name: "keycloak",
    title: "Keycloak",
    variables: &[
        Variable {
            name: URL,
            example: "https://sso.example.com",
            help: "the server's base URL (with `/auth` for Keycloak before 17)",
            required: true,
        },
        Variable {
            name: REALM,
            example: "mcp",
            help: "the realm; the issuer is {url}/realms/{realm}",
            required: true,
        },
    ],
    console_guide: "\
1. **Client scopes → Create**: a scope named for your tools (`mcp:tools`), type \
*Optional*, *Include in token scope* on. Under its **Mappers → By configuration → \
Audience**, set *Included Custom Audience* to the MCP endpoint's URL \
(`MCP_OAUTH_RESOURCE`) and *Add to access token* on: without this **audience mapper** \
Keycloak's tokens carry `aud: account` and are refused.
2. **Clients**: MCP clients use the *Standard flow* with PKCE (*Advanced → Proof Key for \
Code Exchange Code Challenge Method* = `S256`) and get the client scope above.
3. **Realm settings → Client registration**: to let MCP clients register themselves \
(RFC 7591 at `{issuer}/clients-registrations/openid-connect`), relax the anonymous \
*Trusted Hosts* policy and allow the client scope in *Allowed Client Scopes*.
4. Set `MCP_OAUTH_KEYCLOAK_URL` and `MCP_OAUTH_KEYCLOAK_REALM`.",
    caveats: "",
    recipe,
};

fn recipe(s: &mut Settings<'_>) -> Option<Recipe> {
    let url = s.required(URL, "the server's base URL, e.g. https://sso.example.com");
    let realm = s.required(REALM, "the realm name");
    let origin = s.origin(URL, &url?, true)?;
    let realm = s.segment(REALM, &realm?)?;
    let issuer = format!("{origin}/realms/{realm}");
    let jwks = format!("{issuer}/protocol/openid-connect/certs");
    let mut recipe = Recipe::jwt(issuer, jwks, &[]);
    // The realm's keys decide the algorithm (RS256 by default; ES*, PS*, EdDSA possible).
    recipe.algorithms = None;
    recipe.rules = ClaimRules {
        required: vec![RequiredClaim {
            name: "typ",
            value: "Bearer",
            refusal: TokenRejection::IdToken,
        }],
        ..ClaimRules::default()
    };
    Some(recipe)
}
