//! Microsoft Entra ID: v2.0 access tokens have the issuer
//! `https://login.microsoftonline.com/{tenant}/v2.0`, `ver: "2.0"` and the application's
//! client ID as `aud`; v1.0 tokens `https://sts.windows.net/{tenant}/`, `ver: "1.0"` and
//! the Application ID URI (`api://…`) as `aud`. Keys at
//! `https://login.microsoftonline.com/{tenant}/discovery/v2.0/keys` (v1:
//! `/discovery/keys`), RS256, `typ: JWT`. Delegated scopes are in `scp` (a
//! space-separated string, without the `api://…/` prefix), application permissions of
//! app-only tokens in `roles`; every access token carries one of the two.
//! <https://learn.microsoft.com/entra/identity-platform/access-tokens>,
//! <https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference>.

use jsonwebtoken::Algorithm;

use super::Provider;
use super::Variable;
use super::recipe::{Recipe, Settings};
use crate::refusal::TokenRejection;
use crate::validate::profile::{ClaimRules, RequiredClaim};

const TENANT: &str = "MCP_OAUTH_ENTRA_TENANT_ID";
const CLIENT: &str = "MCP_OAUTH_ENTRA_CLIENT_ID";
const VERSION: &str = "MCP_OAUTH_ENTRA_TOKEN_VERSION";
const AUTHORITY: &str = "MCP_OAUTH_ENTRA_AUTHORITY";

/// Microsoft Entra ID (Azure AD), single tenant.
///
/// ```
/// use mcp_oauth::McpOAuthBuilder;
///
/// let oauth = McpOAuthBuilder::from_vars([
///     ("MCP_OAUTH_PROVIDER", "entra"),
///     ("MCP_OAUTH_ENTRA_TENANT_ID", "72f988bf-86f1-41af-91ab-2d7cd011db47"),
///     ("MCP_OAUTH_ENTRA_CLIENT_ID", "6e74172b-be56-4843-9ff4-e66a39bb12e3"),
///     ("MCP_OAUTH_RESOURCE", "https://mcp.example.com/mcp"),
/// ])
/// .build()?;
/// # let _ = oauth;
/// # Ok::<(), mcp_oauth::ConfigError>(())
/// ```
pub const ENTRA: Provider = Provider {
    name: "entra",
    title: "Microsoft Entra ID",
    variables: &[
        Variable {
            name: TENANT,
            example: "72f988bf-86f1-41af-91ab-2d7cd011db47",
            help: "the directory (tenant) ID, a GUID: tokens' `iss` names it",
            required: true,
        },
        Variable {
            name: CLIENT,
            example: "6e74172b-be56-4843-9ff4-e66a39bb12e3",
            help: "the application (client) ID of the app registration that exposes the MCP API; accepted as `aud`, and so is api://{client id}",
            required: true,
        },
        Variable {
            name: VERSION,
            example: "2",
            help: "the access token version the app registration issues (`accessTokenAcceptedVersion`): 2 (default) or 1",
            required: false,
        },
        Variable {
            name: AUTHORITY,
            example: "https://login.microsoftonline.us",
            help: "the host (or URL) of a national cloud instead of login.microsoftonline.com (v2) / sts.windows.net (v1)",
            required: false,
        },
    ],
    console_guide: "\
1. **App registrations → New registration** for the MCP server (single tenant). Note the \
*Application (client) ID* and *Directory (tenant) ID*.
2. **Expose an API**: set the *Application ID URI* (`api://{client id}`, or the MCP \
endpoint's URL on a verified domain) and add the delegated scopes your tools need \
(`mcp.tools`). Tokens carry them in `scp` without the prefix; clients ask for \
`api://{client id}/mcp.tools` (or `api://{client id}/.default`).
3. **App roles** for app-only (client credentials) callers: they arrive in `roles`, read \
as scopes too.
4. **Manifest**: `\"accessTokenAcceptedVersion\": 2` (the default preset expects v2.0 \
tokens; set `MCP_OAUTH_ENTRA_TOKEN_VERSION=1` otherwise).
5. MCP clients: register each as a public client (mobile/desktop redirect URIs) with \
authorization code + PKCE; Entra has no Dynamic Client Registration.",
    caveats: "\
- **Audience**: Entra v2.0 tokens carry the application's client ID as `aud`, never the \
MCP endpoint's URL, and ignore the RFC 8707 `resource` parameter: the preset accepts \
`MCP_OAUTH_ENTRA_CLIENT_ID` and `api://{client id}` (the app registration *is* this \
server) besides the resource. Use one app registration per MCP server.
- Multi-tenant (`common`, `organizations`) is refused: the issuer names each tenant. \
List one authorization server per tenant instead.
- No Dynamic Client Registration: pre-register MCP clients.
- Entra's metadata lists no `code_challenge_methods_supported` although it accepts PKCE: clients that follow MCP refuse such an authorization server, and `discover()` reports it as an error. Accepting that knowingly is `MCP_OAUTH_DISCOVERY_STRICTNESS=lenient` (a warning then); the preset does not do it for you.",
    recipe,
};

/// 8-4-4-4-12 hexadecimal digits.
fn is_guid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
        && parts
            .iter()
            .all(|p| p.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn recipe(s: &mut Settings<'_>) -> Option<Recipe> {
    let tenant = s.required(TENANT, "the directory (tenant) ID");
    let client = s.required(
        CLIENT,
        "the application (client) ID of the MCP API's app registration",
    );
    let version = s.optional(VERSION);
    let authority = s.optional(AUTHORITY);
    let v2 = match version.as_deref() {
        None | Some("2") | Some("2.0") => true,
        Some("1") | Some("1.0") => false,
        Some(other) => {
            s.problem(VERSION, format!("`{other}` is neither 2 nor 1"));
            return None;
        }
    };
    let tenant = tenant?;
    if !is_guid(&tenant) {
        let why = if ["common", "organizations", "consumers"].contains(&tenant.as_str()) {
            "multi-tenant endpoints have no single issuer: name one tenant's ID"
        } else {
            "the tenant ID is a GUID (tokens' `iss` names the ID, not a domain)"
        };
        s.problem(TENANT, format!("`{tenant}`: {why}"));
        return None;
    }
    let client = client?;
    if !is_guid(&client) {
        s.problem(
            CLIENT,
            format!("`{client}`: the application (client) ID is a GUID"),
        );
        return None;
    }
    let authority = match authority {
        Some(a) => Some(s.origin(AUTHORITY, &a, false)?),
        None => None,
    };
    let login = authority
        .clone()
        .unwrap_or_else(|| "https://login.microsoftonline.com".to_owned());
    let (issuer, jwks, ver) = if v2 {
        (
            format!("{login}/{tenant}/v2.0"),
            format!("{login}/{tenant}/discovery/v2.0/keys"),
            "2.0",
        )
    } else {
        let sts = authority.unwrap_or_else(|| "https://sts.windows.net".to_owned());
        (
            format!("{sts}/{tenant}/"),
            format!("{login}/{tenant}/discovery/keys"),
            "1.0",
        )
    };
    let mut recipe = Recipe::jwt(issuer, jwks, &[Algorithm::RS256]);
    // Entra's access tokens are typed `JWT`.
    recipe.never_at_jwt = true;
    recipe.audiences = vec![client.clone(), format!("api://{client}")];
    recipe.rules = ClaimRules {
        required: vec![RequiredClaim {
            name: "ver",
            value: ver,
            refusal: TokenRejection::InvalidClaim("ver"),
        }],
        one_of: &["scp", "roles"],
        scope_claims: &["roles"],
        ..ClaimRules::default()
    };
    Some(recipe)
}
