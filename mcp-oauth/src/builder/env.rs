//! Configuration from environment variables: [`McpOAuthBuilder::from_vars`].
//!
//! Every variable may instead be given as `NAME_FILE`, a path whose contents (less a
//! trailing newline) are the value: the usual way to pass secrets to containers.
//! An empty value counts as unset. Unknown `MCP_OAUTH_*` variables are reported, so a
//! typo never silently falls back to a default.

use std::collections::HashMap;
use std::time::Duration;

use super::AuthorizationServer;
use super::ConfigProblem;
use super::McpOAuthBuilder;
use super::provider::stray_variables;
use super::variables::ENV_VARIABLES;
use super::vars::{list, value};
use crate::providers;
use crate::validate::jwt;

impl McpOAuthBuilder {
    /// A builder configured from the process environment. Problems are kept and
    /// reported by [`build`](Self::build) together with any others.
    ///
    /// ```no_run
    /// let oauth = mcp_oauth::McpOAuthBuilder::from_env().public_path("/health").build()?;
    /// # let _ = oauth;
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn from_env() -> Self {
        Self::from_vars(
            std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))),
        )
    }

    /// A builder configured from `vars` instead of the process environment (for tests,
    /// or configuration kept elsewhere). Same rules as [`from_env`](Self::from_env).
    ///
    /// ```
    /// use mcp_oauth::McpOAuthBuilder;
    ///
    /// let oauth = McpOAuthBuilder::from_vars([
    ///     ("MCP_OAUTH_RESOURCE", "https://mcp.example.com/mcp"),
    ///     ("MCP_OAUTH_AUTHORIZATION_SERVERS", "https://auth.example.com"),
    ///     ("MCP_OAUTH_JWKS_URI", "https://auth.example.com/jwks"),
    ///     ("MCP_OAUTH_REQUIRED_SCOPES", "mcp:tools"),
    /// ])
    /// .build()?;
    /// # let _ = oauth;
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn from_vars<I, K, V>(vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let vars: HashMap<String, String> = vars
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .filter(|(k, _)| k.starts_with("MCP_OAUTH_"))
            .collect();
        let mut problems = Vec::new();
        for name in vars.keys() {
            let base = name.strip_suffix("_FILE").unwrap_or(name);
            if !ENV_VARIABLES.iter().any(|(v, _)| *v == base) {
                problems.push(ConfigProblem::new(
                    "MCP_OAUTH_*",
                    format!("unknown variable `{name}`"),
                ));
            }
        }
        let mut read = |name: &'static str| -> Option<String> { value(&vars, name, &mut problems) };

        let mut read_list = |name: &'static str| read(name).map(|v| list(&v)).unwrap_or_default();
        let mut b = McpOAuthBuilder {
            authorization_servers: read_list("MCP_OAUTH_AUTHORIZATION_SERVERS")
                .into_iter()
                .map(AuthorizationServer::new)
                .collect(),
            audiences: read_list("MCP_OAUTH_AUDIENCE"),
            required_scopes: read_list("MCP_OAUTH_REQUIRED_SCOPES"),
            scopes_supported: read_list("MCP_OAUTH_SCOPES_SUPPORTED"),
            public_paths: read_list("MCP_OAUTH_PUBLIC_PATHS"),
            allowed_origins: read_list("MCP_OAUTH_ALLOWED_ORIGINS"),
            opaque_token_prefixes: read_list("MCP_OAUTH_OPAQUE_TOKEN_PREFIX"),
            ..McpOAuthBuilder::default()
        };
        b.resource = read("MCP_OAUTH_RESOURCE");
        b.issuer = read("MCP_OAUTH_ISSUER");
        b.jwks_uri = read("MCP_OAUTH_JWKS_URI");
        b.hs256_secret =
            read("MCP_OAUTH_HS256_SECRET").map(|s| crate::secret::Secret(s.into_bytes()));
        b.resource_name = read("MCP_OAUTH_RESOURCE_NAME");
        b.resource_documentation = read("MCP_OAUTH_RESOURCE_DOCUMENTATION");
        b.scope_claim = read("MCP_OAUTH_SCOPE_CLAIM");
        b.introspection_endpoint = read("MCP_OAUTH_INTROSPECTION_ENDPOINT");
        b.introspection_client_id = read("MCP_OAUTH_INTROSPECTION_CLIENT_ID");
        b.introspection_client_secret = read("MCP_OAUTH_INTROSPECTION_CLIENT_SECRET")
            .map(|s| crate::secret::Secret(s.into_bytes()));
        b.diagnostics_path = read("MCP_OAUTH_DIAGNOSTICS_PATH");
        let validation = read("MCP_OAUTH_VALIDATION");
        let auth_method = read("MCP_OAUTH_INTROSPECTION_AUTH_METHOD");
        let strictness = read("MCP_OAUTH_DISCOVERY_STRICTNESS");
        let retry = read("MCP_OAUTH_DISCOVERY_RETRY");
        let algorithms = read("MCP_OAUTH_ALGORITHMS");
        let leeway = read("MCP_OAUTH_LEEWAY_SECS");
        let typ = read("MCP_OAUTH_TYP");
        let dpop = read("MCP_OAUTH_DPOP");
        let dpop_window = read("MCP_OAUTH_DPOP_WINDOW_SECS");
        let unbound = read("MCP_OAUTH_DPOP_ACCEPT_UNBOUND");
        let redis = super::shared::RedisVars {
            url: read("MCP_OAUTH_REDIS_URL"),
            prefix: read("MCP_OAUTH_REDIS_PREFIX"),
            timeout_ms: read("MCP_OAUTH_REDIS_TIMEOUT_MS"),
            on_failure: read("MCP_OAUTH_REDIS_ON_FAILURE"),
            secret: read("MCP_OAUTH_REDIS_SECRET"),
            ca: read("MCP_OAUTH_REDIS_CA"),
            revocation_on_failure: read("MCP_OAUTH_REDIS_REVOCATION_ON_FAILURE"),
        };
        let revocation_ttl = read("MCP_OAUTH_REVOCATION_TTL_SECS");
        let nonce = read("MCP_OAUTH_DPOP_NONCE");
        let nonce_lifetime = read("MCP_OAUTH_DPOP_NONCE_LIFETIME_SECS");
        b.dpop_nonce_secret =
            read("MCP_OAUTH_DPOP_NONCE_SECRET").map(|s| crate::secret::Secret(s.into_bytes()));
        let cache_ttl = read("MCP_OAUTH_CACHE_TTL_SECS");
        let cache_max_entries = read("MCP_OAUTH_CACHE_MAX_ENTRIES");
        let max_body = read("MCP_OAUTH_MAX_MCP_BODY_BYTES");
        let batch = read("MCP_OAUTH_MAX_MCP_BATCH_LEN");
        let names = read("MCP_OAUTH_MAX_MCP_NAMES");
        let body_timeout = read("MCP_OAUTH_BODY_TIMEOUT_SECS");
        let negative_ttl = read("MCP_OAUTH_INTROSPECTION_NEGATIVE_TTL_SECS");
        let max_concurrent = read("MCP_OAUTH_INTROSPECTION_MAX_CONCURRENT");
        let api_keys = read("MCP_OAUTH_API_KEYS");
        let api_key_prefix = read("MCP_OAUTH_API_KEY_PREFIX");
        let dev_tokens = read("MCP_OAUTH_DEV_TOKENS");

        if let Some(names) = algorithms {
            let mut algs = Vec::new();
            for name in list(&names) {
                match jwt::algorithm_named(&name) {
                    Some(a) => algs.push(a),
                    None => problems.push(ConfigProblem::new(
                        "MCP_OAUTH_ALGORITHMS",
                        format!("unknown algorithm `{name}` (names are case-sensitive, e.g. RS256, ES256, EdDSA)"),
                    )),
                }
            }
            b.algorithms = Some(algs);
        }
        if let Some(d) = seconds(leeway, "MCP_OAUTH_LEEWAY_SECS", &mut problems) {
            b.leeway = d;
        }
        if let Some(d) = seconds(cache_ttl, "MCP_OAUTH_CACHE_TTL_SECS", &mut problems) {
            b.cache_ttl = d;
        }
        if let Some(n) = whole_number(
            cache_max_entries,
            "MCP_OAUTH_CACHE_MAX_ENTRIES",
            &mut problems,
        ) {
            b.cache_max_entries = n;
        }
        if let Some(n) = whole_number(max_body, "MCP_OAUTH_MAX_MCP_BODY_BYTES", &mut problems) {
            b.max_mcp_body_bytes = n;
        }
        if let Some(n) = whole_number(batch, "MCP_OAUTH_MAX_MCP_BATCH_LEN", &mut problems) {
            b.mcp_body_limits.max_batch_len = n;
        }
        if let Some(n) = whole_number(names, "MCP_OAUTH_MAX_MCP_NAMES", &mut problems) {
            b.mcp_body_limits.max_names = n;
        }
        if let Some(d) = seconds(body_timeout, "MCP_OAUTH_BODY_TIMEOUT_SECS", &mut problems) {
            b.body_timeout = d;
        }
        let negative_ttl = seconds(
            negative_ttl,
            "MCP_OAUTH_INTROSPECTION_NEGATIVE_TTL_SECS",
            &mut problems,
        );
        if let Some(d) = negative_ttl {
            b.introspection_limits.negative_ttl = d;
        }
        let max_concurrent = whole_number(
            max_concurrent,
            "MCP_OAUTH_INTROSPECTION_MAX_CONCURRENT",
            &mut problems,
        );
        if let Some(n) = max_concurrent {
            b.introspection_limits.max_concurrent = n;
        }
        parse_into(
            &mut b.validation,
            validation,
            "MCP_OAUTH_VALIDATION",
            &mut problems,
        );
        parse_into(
            &mut b.introspection_auth,
            auth_method,
            "MCP_OAUTH_INTROSPECTION_AUTH_METHOD",
            &mut problems,
        );
        parse_into(
            &mut b.strictness,
            strictness,
            "MCP_OAUTH_DISCOVERY_STRICTNESS",
            &mut problems,
        );
        if let Some(on) = flag(retry, "MCP_OAUTH_DISCOVERY_RETRY", &mut problems) {
            b.retry_discovery = on;
        }
        if let Some(on) = flag(unbound, "MCP_OAUTH_DPOP_ACCEPT_UNBOUND", &mut problems) {
            b.dpop_accept_unbound = on;
        }
        parse_into(&mut b.typ, typ, "MCP_OAUTH_TYP", &mut problems);
        parse_into(&mut b.dpop, dpop, "MCP_OAUTH_DPOP", &mut problems);
        if let Some(d) = seconds(dpop_window, "MCP_OAUTH_DPOP_WINDOW_SECS", &mut problems) {
            b.dpop_window = d;
        }
        b.shared = redis.shared_state(&mut problems);
        let name = "MCP_OAUTH_REVOCATION_TTL_SECS";
        if let Some(d) = seconds(revocation_ttl, name, &mut problems) {
            b.revocation_ttl = d;
        }
        if let Some(on) = flag(nonce, "MCP_OAUTH_DPOP_NONCE", &mut problems) {
            b.dpop_nonce = on;
        }
        let lifetime = "MCP_OAUTH_DPOP_NONCE_LIFETIME_SECS";
        if let Some(d) = seconds(nonce_lifetime, lifetime, &mut problems) {
            b.dpop_nonce_lifetime = d;
        }
        let selected = match value(&vars, "MCP_OAUTH_PROVIDER", &mut problems) {
            None => None,
            Some(name) => match providers::find(&name) {
                Some(p) => Some(p),
                None => {
                    let known: Vec<&str> = providers::all().iter().map(|p| p.name()).collect();
                    problems.push(ConfigProblem::new(
                        "MCP_OAUTH_PROVIDER",
                        format!("unknown provider `{name}` (one of {})", known.join(", ")),
                    ));
                    None
                }
            },
        };
        b.rate_limits_from(&vars, &mut problems);
        stray_variables(selected, &vars, &mut problems);
        if let Some(p) = selected {
            b.apply_provider(p, &vars, &mut problems);
        }
        b.problems = problems;
        if let Some(prefix) = api_key_prefix {
            b.api_key_prefix = prefix;
        }
        if let Some(lines) = api_keys {
            b = b.api_keys(&lines);
        }
        if let Some(json) = dev_tokens {
            b = dev_tokens_from(b, &json);
        }
        b
    }
}

/// `MCP_OAUTH_DEV_TOKENS`: a JSON object, each member a token and its claims.
fn dev_tokens_from(mut b: McpOAuthBuilder, json: &str) -> McpOAuthBuilder {
    match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(json) {
        Ok(tokens) => tokens
            .into_iter()
            .fold(b, |b, (token, claims)| b.dev_token(token, claims)),
        Err(e) => {
            // serde_json's message is not used: it may quote a token.
            b.problems.push(ConfigProblem::new(
                "MCP_OAUTH_DEV_TOKENS",
                format!(
                    "must be a JSON object of token -> claims, e.g. {{\"dev-alice\":{{\"sub\":\"alice\",\"scope\":\"tools:call\"}}}} (error at column {})",
                    e.column()
                ),
            ));
            b
        }
    }
}

/// A count: a problem naming `name` unless `value` is a whole number.
fn whole_number(
    value: Option<String>,
    name: &'static str,
    problems: &mut Vec<ConfigProblem>,
) -> Option<usize> {
    let value = value?;
    let parsed = value.parse().ok();
    if parsed.is_none() {
        problems.push(ConfigProblem::new(
            name,
            format!("`{value}` is not a whole number"),
        ));
    }
    parsed
}

/// A duration: a problem naming `name` unless `value` is a whole number of seconds.
fn seconds(
    value: Option<String>,
    name: &'static str,
    problems: &mut Vec<ConfigProblem>,
) -> Option<Duration> {
    let value = value?;
    let parsed = value.parse().ok().map(Duration::from_secs);
    if parsed.is_none() {
        problems.push(ConfigProblem::new(
            name,
            format!("`{value}` is not a whole number of seconds"),
        ));
    }
    parsed
}

/// Parses a setting with its `FromStr`, whose error says what is accepted.
/// `true` / `false` (or `1`/`0`, `yes`/`no`, any case).
fn flag(
    value: Option<String>,
    name: &'static str,
    problems: &mut Vec<ConfigProblem>,
) -> Option<bool> {
    let v = value?;
    match v.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Some(true),
        "false" | "0" | "no" => Some(false),
        _ => {
            problems.push(ConfigProblem::new(
                name,
                format!("`{v}` is neither `true` nor `false`"),
            ));
            None
        }
    }
}

fn parse_into<T: std::str::FromStr<Err = String>>(
    slot: &mut T,
    value: Option<String>,
    name: &'static str,
    problems: &mut Vec<ConfigProblem>,
) {
    if let Some(v) = value {
        match v.parse() {
            Ok(parsed) => *slot = parsed,
            Err(why) => problems.push(ConfigProblem::new(name, why)),
        }
    }
}
