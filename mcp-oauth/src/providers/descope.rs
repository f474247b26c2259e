//! Descope: an inbound app's issuer is `https://api.descope.com/v1/apps/{projectId}`,
//! keys at `https://api.descope.com/{projectId}/.well-known/jwks.json`, RS256; access
//! tokens carry the project ID as `aud` unless a resource is configured.
//! <https://docs.descope.com/identity-federation/inbound-apps>,
//! <https://docs.descope.com/mcp>.

use jsonwebtoken::Algorithm;

use super::Provider;
use super::Variable;
use super::recipe::{Recipe, Settings};

const PROJECT: &str = "MCP_OAUTH_DESCOPE_PROJECT_ID";
const BASE: &str = "MCP_OAUTH_DESCOPE_BASE_URL";

/// Descope (inbound apps / Agentic Identity Hub).
///
/// ```
/// use mcp_oauth::McpOAuthBuilder;
///
/// let oauth = McpOAuthBuilder::from_vars([
///     ("MCP_OAUTH_PROVIDER", "descope"),
///     ("MCP_OAUTH_DESCOPE_PROJECT_ID", "P2abc123"),
///     ("MCP_OAUTH_RESOURCE", "https://mcp.example.com/mcp"),
/// ])
/// .build()?;
/// # let _ = oauth;
/// # Ok::<(), mcp_oauth::ConfigError>(())
/// ```
pub const DESCOPE: Provider = Provider {
    name: "descope",
    title: "Descope",
    variables: &[
        Variable {
            name: PROJECT,
            example: "P2abc123",
            help: "the project ID; the issuer is {base}/v1/apps/{project}",
            required: true,
        },
        Variable {
            name: BASE,
            example: "https://api.descope.com",
            help: "the API base URL (default api.descope.com; a regional or custom domain)",
            required: false,
        },
    ],
    console_guide: "\
1. **Inbound Apps** (or *Agentic Identity Hub → MCP Servers*): enable *Dynamic Client \
Registration*, define the scopes your tools need, and set the MCP endpoint's URL \
(`MCP_OAUTH_RESOURCE`) as the resource / audience of the tokens.
2. PKCE (`S256`) is required for public clients.
3. Set `MCP_OAUTH_DESCOPE_PROJECT_ID` (and `MCP_OAUTH_DESCOPE_BASE_URL` for a regional \
or custom domain).",
    caveats: "\
- Tokens of an inbound app without a configured resource carry the **project ID** as \
`aud`, which every app of the project shares: they are refused. Accepting them means \
setting `MCP_OAUTH_AUDIENCE={project id}` yourself, which binds no token to this server.",
    recipe,
};

fn recipe(s: &mut Settings<'_>) -> Option<Recipe> {
    let project = s.required(PROJECT, "the Descope project ID");
    let base = s
        .optional(BASE)
        .unwrap_or_else(|| "api.descope.com".to_owned());
    let base = s.origin(BASE, &base, false);
    let project = s.segment(PROJECT, &project?)?;
    let base = base?;
    let issuer = format!("{base}/v1/apps/{project}");
    let jwks = format!("{base}/{project}/.well-known/jwks.json");
    Some(Recipe::jwt(issuer, jwks, &[Algorithm::RS256]))
}
