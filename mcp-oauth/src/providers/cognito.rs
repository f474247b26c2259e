//! AWS Cognito user pools: issuer `https://cognito-idp.{region}.amazonaws.com/{poolId}`,
//! keys at `{issuer}/.well-known/jwks.json`, RS256. Access tokens carry `token_use:
//! access`, `client_id`, `scope` and **no `aud`**; ID tokens carry `token_use: id` and
//! the client id as `aud`.
//! <https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-the-access-token.html>,
//! <https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-tokens-verifying-a-jwt.html>.

use jsonwebtoken::Algorithm;

use super::Provider;
use super::Variable;
use super::recipe::{Recipe, Settings};
use crate::refusal::TokenRejection;
use crate::validate::profile::{ClaimRules, RequiredClaim};

const POOL: &str = "MCP_OAUTH_COGNITO_USER_POOL_ID";
const CLIENTS: &str = "MCP_OAUTH_COGNITO_CLIENT_IDS";
const ENDPOINT: &str = "MCP_OAUTH_COGNITO_ENDPOINT";

/// AWS Cognito user pools.
///
/// ```
/// use mcp_oauth::McpOAuthBuilder;
///
/// let oauth = McpOAuthBuilder::from_vars([
///     ("MCP_OAUTH_PROVIDER", "cognito"),
///     ("MCP_OAUTH_COGNITO_USER_POOL_ID", "eu-west-1_AbCdEf123"),
///     ("MCP_OAUTH_COGNITO_CLIENT_IDS", "1example23456789"),
///     ("MCP_OAUTH_RESOURCE", "https://mcp.example.com/mcp"),
/// ])
/// .build()?;
/// # let _ = oauth;
/// # Ok::<(), mcp_oauth::ConfigError>(())
/// ```
pub const COGNITO: Provider = Provider {
    name: "cognito",
    title: "AWS Cognito",
    variables: &[
        Variable {
            name: POOL,
            example: "eu-west-1_AbCdEf123",
            help: "the user pool ID ({region}_{id}); the issuer is https://cognito-idp.{region}.amazonaws.com/{pool}",
            required: true,
        },
        Variable {
            name: CLIENTS,
            example: "1example23456789",
            help: "app client IDs whose access tokens (which have no `aud`) are accepted: Cognito cannot bind a token to this server",
            required: true,
        },
        Variable {
            name: ENDPOINT,
            example: "https://cognito-idp.eu-west-1.amazonaws.com",
            help: "the host (or URL) tokens are issued from, instead of cognito-idp.{region}.amazonaws.com",
            required: false,
        },
    ],
    console_guide: "\
1. **User pool → App integration → Resource servers**: create one whose identifier is the \
MCP endpoint's URL and add custom scopes (`mcp.tools`); tokens then carry \
`{identifier}/mcp.tools`, so spell required scopes that way.
2. **App clients**: one per MCP client, with the managed login (hosted UI) enabled, \
*Authorization code grant*, the custom scopes allowed, and the client's callback URLs. \
Cognito requires PKCE only if the client sends it; MCP clients always send `S256`.
3. There is no Dynamic Client Registration: give each MCP client its app client ID, and \
list those IDs in `MCP_OAUTH_COGNITO_CLIENT_IDS`.
4. Set `MCP_OAUTH_COGNITO_USER_POOL_ID` (`eu-west-1_AbCdEf123`).",
    caveats: "\
- **No audience binding**: Cognito access tokens have no `aud` claim, only the \
`client_id` of the app client that asked for them. The preset therefore requires \
`MCP_OAUTH_COGNITO_CLIENT_IDS`: a token without `aud` is accepted only when its \
`client_id` is listed (a token that has an `aud` is judged by it). Any token those clients \
hold for the pool, for whatever API, is accepted: give this server's clients their own \
app clients.
- ID tokens (`token_use: id`) are refused; only `token_use: access` passes.
- No Dynamic Client Registration and no RFC 8707 `resource` parameter.
- The pool's metadata lists no `code_challenge_methods_supported` although Cognito accepts PKCE: clients that follow MCP refuse it, and `discover()` reports it as an error unless you set `MCP_OAUTH_DISCOVERY_STRICTNESS=lenient` yourself.",
    recipe,
};

fn recipe(s: &mut Settings<'_>) -> Option<Recipe> {
    let pool = s.required(POOL, "the user pool ID, e.g. eu-west-1_AbCdEf123");
    let clients = s.required(
        CLIENTS,
        "the app client IDs whose tokens are accepted (Cognito access tokens have no `aud`)",
    );
    let clients = s.list(clients);
    let endpoint = s.optional(ENDPOINT);
    let pool = s.segment(POOL, &pool?)?;
    let region = match pool.split_once('_') {
        Some((region, id))
            if !region.is_empty()
                && !id.is_empty()
                && region
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-') =>
        {
            region.to_owned()
        }
        _ => {
            s.problem(
                POOL,
                format!("`{pool}` is not a user pool ID ({{region}}_{{id}})"),
            );
            return None;
        }
    };
    let origin = match endpoint {
        Some(e) => s.origin(ENDPOINT, &e, false)?,
        None => format!("https://cognito-idp.{region}.amazonaws.com"),
    };
    if clients.is_empty() {
        // Unset was reported by `required`; a value listing nothing is reported here.
        if s.problems.iter().all(|(name, _)| *name != CLIENTS) {
            s.problem(CLIENTS, "lists no app client ID".into());
        }
        return None;
    }
    let issuer = format!("{origin}/{pool}");
    let jwks = format!("{issuer}/.well-known/jwks.json");
    let mut recipe = Recipe::jwt(issuer, jwks, &[Algorithm::RS256]);
    // Cognito's tokens have no `typ` header.
    recipe.never_at_jwt = true;
    recipe.rules = ClaimRules {
        required: vec![RequiredClaim {
            name: "token_use",
            value: "access",
            refusal: TokenRejection::IdToken,
        }],
        client_ids: clients,
        ..ClaimRules::default()
    };
    Some(recipe)
}
