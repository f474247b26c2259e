//! The table of every `MCP_OAUTH_*` variable and what it means: what `from_env` reads
//! (an unknown name is a configuration problem), `--help` texts and the doctor print.

/// Every variable `McpOAuthBuilder::from_env` reads, with what it means: for `--help`
/// texts and error messages. Each may also be given as `NAME_FILE`.
///
/// ```
/// for (name, meaning) in mcp_oauth::ENV_VARIABLES {
///     assert!(name.starts_with("MCP_OAUTH_") && !meaning.is_empty());
/// }
/// ```
pub const ENV_VARIABLES: &[(&str, &str)] = &[
    (
        "MCP_OAUTH_RESOURCE",
        "the MCP endpoint's URL, e.g. https://mcp.example.com/mcp (required)",
    ),
    (
        "MCP_OAUTH_AUTHORIZATION_SERVERS",
        "issuer URLs of the trusted authorization servers; their endpoints are discovered (required)",
    ),
    (
        "MCP_OAUTH_VALIDATION",
        "`jwt` (default), `introspection` or `hybrid` (JWTs locally, other tokens introspected)",
    ),
    (
        "MCP_OAUTH_ISSUER",
        "the authorization server the JWKS URI, HS256 secret, introspection endpoint or opaque-token prefixes belong to (default: the single one)",
    ),
    (
        "MCP_OAUTH_AUDIENCE",
        "accepted `aud` values (default: the resource)",
    ),
    (
        "MCP_OAUTH_JWKS_URI",
        "the issuer's JWKS URL (default: the metadata's jwks_uri)",
    ),
    (
        "MCP_OAUTH_ALGORITHMS",
        "accepted `alg` values (default: RS*, PS*, ES256, ES384, EdDSA)",
    ),
    (
        "MCP_OAUTH_HS256_SECRET",
        "shared secret of at least 32 bytes for HS256 tokens",
    ),
    (
        "MCP_OAUTH_INTROSPECTION_ENDPOINT",
        "the RFC 7662 introspection endpoint (default: the metadata's introspection_endpoint)",
    ),
    (
        "MCP_OAUTH_INTROSPECTION_CLIENT_ID",
        "client id this server introspects with (required by `introspection` and `hybrid`)",
    ),
    (
        "MCP_OAUTH_INTROSPECTION_CLIENT_SECRET",
        "its client secret (use MCP_OAUTH_INTROSPECTION_CLIENT_SECRET_FILE for a file)",
    ),
    (
        "MCP_OAUTH_INTROSPECTION_AUTH_METHOD",
        "`client_secret_basic` (default) or `client_secret_post`",
    ),
    (
        "MCP_OAUTH_INTROSPECTION_NEGATIVE_TTL_SECS",
        "seconds a token the authorization server refused is refused again without a call; 0 turns this off (default 5)",
    ),
    (
        "MCP_OAUTH_INTROSPECTION_MAX_CONCURRENT",
        "most introspection calls in flight per authorization server; beyond, 503 with Retry-After (default 32)",
    ),
    (
        "MCP_OAUTH_OPAQUE_TOKEN_PREFIX",
        "prefixes of the issuer's opaque tokens: others are not sent to its introspection endpoint (default: none)",
    ),
    (
        "MCP_OAUTH_DISCOVERY_STRICTNESS",
        "which metadata findings stop startup: `lenient`, `standard` (default) or `strict`",
    ),
    (
        "MCP_OAUTH_DISCOVERY_RETRY",
        "`true`: start even if an authorization server is unreachable, retrying in the background (default false)",
    ),
    (
        "MCP_OAUTH_DIAGNOSTICS_PATH",
        "path serving the discovery report as JSON (default: none)",
    ),
    ("MCP_OAUTH_REQUIRED_SCOPES", "scopes every request needs"),
    (
        "MCP_OAUTH_SCOPES_SUPPORTED",
        "further scopes advertised in the metadata",
    ),
    (
        "MCP_OAUTH_LEEWAY_SECS",
        "clock leeway in seconds, at most 300 (default 60)",
    ),
    (
        "MCP_OAUTH_DPOP",
        "DPoP-bound tokens (RFC 9449): off, allowed (both schemes) or required (default allowed)",
    ),
    (
        "MCP_OAUTH_DPOP_ACCEPT_UNBOUND",
        "true: a token bound to no key is accepted with the DPoP scheme and a valid proof (default false)",
    ),
    (
        "MCP_OAUTH_DPOP_WINDOW_SECS",
        "how far a DPoP proof's iat may be from now, either way, 1 to 600 (default 60)",
    ),
    (
        "MCP_OAUTH_DPOP_NONCE",
        "true: DPoP proofs must carry a nonce this server made (RFC 9449 §9, DPoP-Nonce; default false)",
    ),
    (
        "MCP_OAUTH_DPOP_NONCE_SECRET",
        "key (32 bytes or more) the DPoP nonces are made with, the same on every instance (default: random per process)",
    ),
    (
        "MCP_OAUTH_REDIS_URL",
        "Redis or Valkey shared by a fleet (feature `redis`): redis://host:6379, rediss:// for TLS, credentials in the URL",
    ),
    (
        "MCP_OAUTH_REDIS_PREFIX",
        "prefix of every key written to Redis (default mcp-oauth)",
    ),
    (
        "MCP_OAUTH_REDIS_TIMEOUT_MS",
        "deadline of one Redis operation in milliseconds, 1 to 10000 (default 50)",
    ),
    (
        "MCP_OAUTH_REDIS_CA",
        "PEM certificate(s) of the CA a rediss:// server's certificate must lead to, instead of the webpki roots (usually _FILE)",
    ),
    (
        "MCP_OAUTH_REDIS_SECRET",
        "secret (32 bytes or more) every instance shares: Redis values tagged with an HMAC, keys keyed (usually _FILE)",
    ),
    (
        "MCP_OAUTH_REDIS_ON_FAILURE",
        "when Redis does not answer: local (go on with this process's state) or refuse (503) (default local)",
    ),
    (
        "MCP_OAUTH_REDIS_REVOCATION_ON_FAILURE",
        "while the fleet's revocations are not heard: open (serve the validation cache) or closed (validate every request again) (default open)",
    ),
    (
        "MCP_OAUTH_REVOCATION_TTL_SECS",
        "seconds a revocation is remembered, at least the longest access-token lifetime issued (default 86400)",
    ),
    (
        "MCP_OAUTH_DPOP_NONCE_LIFETIME_SECS",
        "how long a DPoP nonce is accepted, 10 to 3600 (default 300)",
    ),
    (
        "MCP_OAUTH_RESOURCE_NAME",
        "human-readable name in the metadata",
    ),
    (
        "MCP_OAUTH_RESOURCE_DOCUMENTATION",
        "documentation URL in the metadata",
    ),
    (
        "MCP_OAUTH_TYP",
        "`lenient` (default) or `strict` (only at+jwt)",
    ),
    (
        "MCP_OAUTH_SCOPE_CLAIM",
        "claim to read scopes from (default: scope, then scp)",
    ),
    ("MCP_OAUTH_PUBLIC_PATHS", "paths served without a token"),
    (
        "MCP_OAUTH_ALLOWED_ORIGINS",
        "browser origins allowed besides the resource's own (others: 403); exact, `null`, or http://localhost:* / http://127.0.0.1:* / http://[::1]:*",
    ),
    (
        "MCP_OAUTH_CACHE_TTL_SECS",
        "seconds an accepted token is remembered, never past its `exp`; 0 turns the cache off (default 60)",
    ),
    (
        "MCP_OAUTH_CACHE_MAX_ENTRIES",
        "most tokens the validation cache remembers, oldest evicted first (default 10000)",
    ),
    (
        "MCP_OAUTH_MAX_MCP_BODY_BYTES",
        "largest JSON request body read to decide its scopes; larger is 413 (default 4194304)",
    ),
    (
        "MCP_OAUTH_MAX_MCP_BATCH_LEN",
        "most messages in a JSON-RPC batch; more is 400 (default 32)",
    ),
    (
        "MCP_OAUTH_MAX_MCP_NAMES",
        "most distinct method and tool names in one body; more is 400 (default 64)",
    ),
    (
        "MCP_OAUTH_BODY_TIMEOUT_SECS",
        "seconds a request body checked before the service runs may take; slower is 408 (default 5)",
    ),
    (
        "MCP_OAUTH_API_KEYS",
        "API keys beside OAuth, one JSON object per line: {\"principal\":..,\"sha256\":..,\"scopes\":[..],\"expires_at\":..} (usually MCP_OAUTH_API_KEYS_FILE)",
    ),
    (
        "MCP_OAUTH_API_KEY_PREFIX",
        "what every API key starts with: such tokens go to the key table only (default mcp_sk_)",
    ),
    (
        "MCP_OAUTH_DEV_TOKENS",
        "static development tokens, a JSON object token -> claims; loopback resources only",
    ),
    (
        "MCP_OAUTH_RATE_LIMIT_METADATA",
        "requests per client address to the metadata and diagnostics endpoints, e.g. 60/minute (unit second, minute, hour or day); beyond, 429 (default off)",
    ),
    (
        "MCP_OAUTH_RATE_LIMIT_REFUSALS",
        "requests per client address needing token work (no token, bad credentials, a token not yet verified), e.g. 30/minute; beyond, 429 before any token work; cached valid tokens are not counted (default off)",
    ),
    (
        "MCP_OAUTH_RATE_LIMIT_PRINCIPAL",
        "authenticated requests per principal, e.g. 600/minute; beyond, 429 (default off)",
    ),
    (
        "MCP_OAUTH_RATE_LIMIT_TRUSTED_HEADER",
        "behind a proxy: the header naming the client address (X-Forwarded-For: its rightmost address; Forwarded; X-Real-IP...); ignored unless set (default: the TCP peer)",
    ),
    (
        "MCP_OAUTH_RATE_LIMIT_MAX_KEYS",
        "most addresses or principals each rate limit tracks; new ones beyond share one budget (default 100000)",
    ),
    (
        "MCP_OAUTH_PROVIDER",
        "a provider preset (`mcp_oauth::providers`): generic, auth0, okta, cognito, entra, keycloak, workos, descope, clerk, supabase; it reads its own variables below",
    ),
    ("MCP_OAUTH_AUTH0_DOMAIN", "auth0: the tenant's domain"),
    ("MCP_OAUTH_OKTA_DOMAIN", "okta: the Okta domain"),
    (
        "MCP_OAUTH_OKTA_AUTHORIZATION_SERVER",
        "okta: the custom authorization server's ID (default `default`), or `org`",
    ),
    (
        "MCP_OAUTH_COGNITO_USER_POOL_ID",
        "cognito: the user pool ID",
    ),
    (
        "MCP_OAUTH_COGNITO_CLIENT_IDS",
        "cognito: app client IDs whose access tokens (no `aud`) are accepted",
    ),
    (
        "MCP_OAUTH_COGNITO_ENDPOINT",
        "cognito: the host or URL instead of cognito-idp.{region}.amazonaws.com",
    ),
    (
        "MCP_OAUTH_ENTRA_TENANT_ID",
        "entra: the directory (tenant) ID",
    ),
    (
        "MCP_OAUTH_ENTRA_CLIENT_ID",
        "entra: the MCP API's application (client) ID, accepted as `aud`",
    ),
    (
        "MCP_OAUTH_ENTRA_TOKEN_VERSION",
        "entra: access token version, 2 (default) or 1",
    ),
    (
        "MCP_OAUTH_ENTRA_AUTHORITY",
        "entra: a national cloud's host or URL instead of login.microsoftonline.com",
    ),
    ("MCP_OAUTH_KEYCLOAK_URL", "keycloak: the server's base URL"),
    ("MCP_OAUTH_KEYCLOAK_REALM", "keycloak: the realm"),
    (
        "MCP_OAUTH_WORKOS_AUTHKIT_DOMAIN",
        "workos: the AuthKit domain",
    ),
    ("MCP_OAUTH_DESCOPE_PROJECT_ID", "descope: the project ID"),
    (
        "MCP_OAUTH_DESCOPE_BASE_URL",
        "descope: the API base URL (default api.descope.com)",
    ),
    ("MCP_OAUTH_CLERK_DOMAIN", "clerk: the Frontend API domain"),
    (
        "MCP_OAUTH_CLERK_CLIENT_IDS",
        "clerk: client IDs accepted when introspection reports no `aud`",
    ),
    (
        "MCP_OAUTH_SUPABASE_PROJECT_URL",
        "supabase: the project URL",
    ),
];
