//! What to do about each finding: one fix text per [`Check`] of the startup report and
//! per step of the token and server checks.

use mcp_oauth::Check;

/// The fix for a startup-report finding.
pub(crate) fn for_finding(check: Check) -> &'static str {
    match check {
        Check::Discovery => {
            "check MCP_OAUTH_AUTHORIZATION_SERVERS: each must be reachable from here and equal, \
             character for character, the `issuer` of its metadata (RFC 8414 §3.3); \
             MCP_OAUTH_DISCOVERY_RETRY=true starts the server anyway and retries"
        }
        Check::Pkce => {
            "enable PKCE at the authorization server: its metadata must list S256 in \
             code_challenge_methods_supported (MCP authorization §Authorization Code Protection)"
        }
        Check::ClientRegistration => {
            "let MCP clients register: enable dynamic client registration (RFC 7591) or client \
             ID metadata documents, or hand clients a pre-registered client id"
        }
        Check::ResponseTypes => {
            "allow the authorization code flow: response_types_supported must include `code`"
        }
        Check::Https => {
            "serve the authorization server's endpoints over https (plain http only on loopback)"
        }
        Check::JwksUri => {
            "publish jwks_uri in the metadata or set MCP_OAUTH_JWKS_URI; for opaque tokens use \
             MCP_OAUTH_VALIDATION=introspection"
        }
        Check::IntrospectionEndpoint => {
            "set MCP_OAUTH_INTROSPECTION_ENDPOINT, or use an authorization server whose metadata \
             lists introspection_endpoint (RFC 8414 §2)"
        }
        Check::IntrospectionAuth => {
            "set MCP_OAUTH_INTROSPECTION_AUTH_METHOD to a method listed in \
             introspection_endpoint_auth_methods_supported"
        }
        Check::ProtectedResources => {
            "add MCP_OAUTH_RESOURCE to the authorization server's protected_resources, or \
             check that MCP_OAUTH_RESOURCE is this server's URL (RFC 9728 §4)"
        }
        _ => "see the finding's message",
    }
}

/// The fix for a failed step of `--token` or `--url`.
pub(crate) fn for_step(check: &str) -> Option<&'static str> {
    Some(match check {
        "format" => "pass the access token itself (a JWT), not an ID token or a refresh token",
        "header" => {
            "have the authorization server sign access tokens with an accepted algorithm and \
             typ `at+jwt`, or widen MCP_OAUTH_ALGORITHMS / set MCP_OAUTH_TYP=lenient"
        }
        "claims" => "the payload must be a JSON object: is this an encrypted token?",
        "iss" => {
            "add the token's issuer to MCP_OAUTH_AUTHORIZATION_SERVERS (exactly as in `iss`), or \
             get the token from a trusted one"
        }
        "key" => {
            "the authorization server's JWKS must hold the key the token names (kid): check \
             MCP_OAUTH_JWKS_URI, or whether the token is from another tenant"
        }
        "signature" => "the token was altered or signed by another key: get a fresh token",
        "token type" => "send an access token: this is an OpenID Connect ID token",
        "aud" => {
            "request the token with resource=MCP_OAUTH_RESOURCE (RFC 8707), or set the \
             provider's API/audience to it; other accepted values go in MCP_OAUTH_AUDIENCE"
        }
        "exp/nbf" => "get a fresh token; check this machine's clock (MCP_OAUTH_LEEWAY_SECS)",
        "scopes" => {
            "request the missing scopes (and grant them at the provider), or lower \
             MCP_OAUTH_REQUIRED_SCOPES"
        }
        "metadata" => {
            "start the server and check --url (its origin): the app must be wrapped by McpOAuth, \
             which serves the metadata"
        }
        "resource" | "authorization_servers" => {
            "the running server has another configuration: deploy this one, or point \
             --env-file at the one it runs with"
        }
        _ => return None,
    })
}
