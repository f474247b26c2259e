//! Setters for API keys and development tokens beside OAuth, and the validator `build()`
//! puts in front of the OAuth one when there are any ([`crate::first_of`]).

use std::sync::Arc;

use serde_json::{Map, Value};

use super::McpOAuthBuilder;
use super::error::ConfigProblem;
use crate::url_policy::{is_loopback, secure_url};
use crate::validate::TokenValidator;
use crate::validate::api_key::dev::DevTokens;
use crate::validate::api_key::{ApiKey, ApiKeys, file};
use crate::validate::first_of::first_of;

/// A development token and its claims; prints neither.
#[derive(Clone)]
pub(crate) struct DevToken {
    pub(crate) token: String,
    pub(crate) claims: Value,
}

impl std::fmt::Debug for DevToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DevToken(..)")
    }
}

/// RFC 6750 §2.1: what a bearer token may be made of (b64token, `=` only at the end).
fn is_token_text(s: &str) -> bool {
    let body = s.trim_end_matches('=');
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

impl McpOAuthBuilder {
    /// Accepts `key` beside OAuth tokens (`MCP_OAUTH_API_KEYS`). A token starting with the
    /// [`api_key_prefix`](Self::api_key_prefix) is judged by the key table alone: it never
    /// reaches an authorization server, and a bad one is a 401 `invalid_token` with the
    /// usual challenge. The key's scopes meet the same per-request and per-tool rules as
    /// a token's; [`AuthenticatedClient::principal`](crate::AuthenticatedClient::principal)
    /// is `api-key:<principal>`.
    ///
    /// ```
    /// use mcp_oauth::{ApiKey, McpOAuth};
    ///
    /// // Minted once, handed to the CI runner; only its hash is configured.
    /// let key = ApiKey::generate(mcp_oauth::DEFAULT_API_KEY_PREFIX);
    /// let oauth = McpOAuth::builder()
    ///     .resource("https://mcp.example.com/mcp")
    ///     .authorization_server("https://auth.example.com")
    ///     .api_key(ApiKey::new("ci-bot", ApiKey::hash(&key)).scopes(["tools:call"]))
    ///     .build()?;
    ///
    /// let client = actix_web::rt::System::new().block_on(oauth.authenticate(&key))?;
    /// assert_eq!(client.principal().as_deref(), Some("api-key:ci-bot"));
    /// assert!(client.has_scope("tools:call"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn api_key(mut self, key: ApiKey) -> Self {
        self.api_keys.push(key);
        self
    }

    /// Accepts the keys listed in `lines`, in the key-file format (`MCP_OAUTH_API_KEYS`,
    /// usually as `MCP_OAUTH_API_KEYS_FILE`): one JSON object per line,
    /// `{"principal":"ci-bot","sha256":"<hex>","scopes":["tools:call"],"expires_at":"2027-01-01T00:00:00Z"}`,
    /// `scopes` and `expires_at` optional, blank and `#` lines skipped. Each bad line is a
    /// problem `build()` reports with its line number (never its content). Reading a file
    /// is yours to do: `build()` does no I/O.
    ///
    /// ```
    /// use mcp_oauth::{ApiKey, McpOAuth};
    ///
    /// let lines = format!(
    ///     "# ci\n{}\n{{\"principal\":\"ops\"}}\n",
    ///     ApiKey::new("ci-bot", ApiKey::hash("mcp_sk_example")).to_line(),
    /// );
    /// let err = McpOAuth::builder()
    ///     .resource("https://mcp.example.com/mcp")
    ///     .authorization_server("https://auth.example.com")
    ///     .api_keys(&lines)
    ///     .build()
    ///     .unwrap_err();
    /// assert_eq!(err.problems()[0].to_string(), "MCP_OAUTH_API_KEYS: line 3: `sha256` is required");
    /// ```
    pub fn api_keys(mut self, lines: &str) -> Self {
        let (keys, problems) = file::parse(lines);
        self.api_keys.extend(keys);
        self.problems.extend(
            problems
                .into_iter()
                .map(|p| ConfigProblem::new("MCP_OAUTH_API_KEYS", p)),
        );
        self
    }

    /// What every API key starts with (`MCP_OAUTH_API_KEY_PREFIX`, default
    /// [`DEFAULT_API_KEY_PREFIX`](crate::DEFAULT_API_KEY_PREFIX), `mcp_sk_`): how a token is
    /// known to be a key without looking it up, and how a leaked key is recognised by
    /// secret scanners. At least 4 token characters; not the start of a JWT (`eyJ`), nor
    /// overlapping an [`opaque_token_prefix`](Self::opaque_token_prefix).
    ///
    /// ```
    /// use mcp_oauth::{ApiKey, McpOAuth};
    ///
    /// let key = ApiKey::generate("acme_sk_");
    /// let oauth = McpOAuth::builder()
    ///     .resource("https://mcp.example.com/mcp")
    ///     .authorization_server("https://auth.example.com")
    ///     .api_key_prefix("acme_sk_")
    ///     .api_key(ApiKey::new("ci-bot", ApiKey::hash(&key)))
    ///     .build()?;
    /// assert!(actix_web::rt::System::new().block_on(oauth.authenticate(&key)).is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn api_key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.api_key_prefix = prefix.into();
        self
    }

    /// A static development token (`MCP_OAUTH_DEV_TOKENS`): `token` is accepted as if it
    /// were an access token with `claims` (a JSON object; `sub` and `scope` are what
    /// matter; an `exp` is honoured). Only for a resource on a loopback host
    /// (`http://127.0.0.1`, `http://localhost`): with any other resource `build()`
    /// refuses it, so it cannot be shipped by accident.
    ///
    /// ```
    /// use mcp_oauth::McpOAuth;
    /// use serde_json::json;
    ///
    /// let dev = McpOAuth::builder()
    ///     .authorization_server("https://auth.example.com")
    ///     .dev_token("dev-alice", json!({"sub": "alice", "scope": "tools:call"}));
    /// let oauth = dev.clone().resource("http://127.0.0.1:8080/mcp").build()?;
    /// let alice = actix_web::rt::System::new().block_on(oauth.authenticate("dev-alice"))?;
    /// assert_eq!(alice.subject(), Some("alice"));
    ///
    /// let err = dev.resource("https://mcp.example.com/mcp").build().unwrap_err();
    /// assert_eq!(err.problems()[0].setting(), "MCP_OAUTH_DEV_TOKENS");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn dev_token(mut self, token: impl Into<String>, claims: Value) -> Self {
        self.dev_tokens.push(DevToken {
            token: token.into(),
            claims,
        });
        self
    }

    /// `oauth` alone, or behind the API keys and development tokens when there are any;
    /// every problem with them pushed to `problem`.
    pub(super) fn beside_keys(
        &self,
        oauth: Arc<dyn TokenValidator>,
        resource: Option<&str>,
        problem: &mut impl FnMut(&'static str, String),
    ) -> Arc<dyn TokenValidator> {
        if self.api_keys.is_empty() && self.dev_tokens.is_empty() {
            return oauth;
        }
        let prefix = self.api_key_prefix.as_str();
        self.check_prefix(problem);
        let mut hashes = Vec::with_capacity(self.api_keys.len());
        for key in &self.api_keys {
            let who = key.principal().escape_debug();
            match key.check() {
                Err(why) => problem("MCP_OAUTH_API_KEYS", format!("the key of `{who}`: {why}")),
                Ok(hash) => match hashes.iter().find(|(h, _)| *h == hash) {
                    Some((_, first)) => problem(
                        "MCP_OAUTH_API_KEYS",
                        format!("the keys of `{first}` and `{who}` have the same sha256"),
                    ),
                    None => hashes.push((hash, who.to_string())),
                },
            }
        }
        if hashes.len() > crate::validate::api_key::MAX_API_KEYS {
            problem(
                "MCP_OAUTH_API_KEYS",
                format!("more than {} keys", crate::validate::api_key::MAX_API_KEYS),
            );
        }
        let mut validators: Vec<Arc<dyn TokenValidator>> = Vec::new();
        if !self.api_keys.is_empty() {
            validators.push(Arc::new(ApiKeys::new(prefix, &self.api_keys)));
        }
        let dev = self.dev_tokens(resource, problem);
        if !dev.is_empty() {
            tracing::warn!(target: "mcp_oauth", tokens = self.dev_tokens.len(), "development tokens are accepted: never configure them in production");
            validators.push(Arc::new(dev));
        }
        validators.push(oauth);
        Arc::new(first_of(validators))
    }

    fn check_prefix(&self, problem: &mut impl FnMut(&'static str, String)) {
        let prefix = self.api_key_prefix.as_str();
        let shown = prefix.escape_debug();
        if prefix.len() < 4 || !is_token_text(prefix) || prefix.ends_with('=') {
            problem(
                "MCP_OAUTH_API_KEY_PREFIX",
                format!(
                    "`{shown}`: at least 4 token characters (letters, digits, -._~+/; RFC 6750 §2.1)"
                ),
            );
        }
        // RFC 7515 §7.1: a compact JWS starts with its base64url header, `{"` = `eyJ`.
        if prefix.starts_with("eyJ") {
            problem(
                "MCP_OAUTH_API_KEY_PREFIX",
                format!("`{shown}`: JWTs start with `eyJ`; API keys must not look like one"),
            );
        }
        let opaque = self.opaque_token_prefixes.iter().chain(
            self.authorization_servers
                .iter()
                .flat_map(|s| &s.opaque_token_prefixes),
        );
        for p in opaque.filter(|p| p.starts_with(prefix) || prefix.starts_with(p.as_str())) {
            problem(
                "MCP_OAUTH_API_KEY_PREFIX",
                format!(
                    "`{shown}` overlaps the opaque-token prefix `{}`: a token must be either a key or a token",
                    p.escape_debug()
                ),
            );
        }
    }

    /// The development tokens, when the resource is on loopback; problems otherwise.
    fn dev_tokens(
        &self,
        resource: Option<&str>,
        problem: &mut impl FnMut(&'static str, String),
    ) -> DevTokens {
        let mut tokens: Vec<(&str, &Map<String, Value>)> = Vec::new();
        if self.dev_tokens.is_empty() {
            return DevTokens::new(tokens);
        }
        let loopback = resource
            .and_then(|r| secure_url(r).ok())
            .is_some_and(|u| is_loopback(&u));
        if !loopback {
            problem(
                "MCP_OAUTH_DEV_TOKENS",
                format!(
                    "development tokens are accepted only when the resource is on a loopback host \
                     (http://127.0.0.1, http://localhost), not `{}`",
                    resource.unwrap_or("")
                ),
            );
        }
        for (i, dev) in self.dev_tokens.iter().enumerate() {
            let n = i + 1;
            if !is_token_text(&dev.token) {
                problem(
                    "MCP_OAUTH_DEV_TOKENS",
                    format!(
                        "token {n}: a bearer token is letters, digits and -._~+/ (RFC 6750 §2.1)"
                    ),
                );
            } else if dev.token.starts_with(&self.api_key_prefix) {
                problem(
                    "MCP_OAUTH_DEV_TOKENS",
                    format!("token {n}: starts with the API key prefix"),
                );
            }
            match &dev.claims {
                Value::Object(claims) => tokens.push((&dev.token, claims)),
                _ => problem(
                    "MCP_OAUTH_DEV_TOKENS",
                    format!("token {n}: its claims must be a JSON object"),
                ),
            }
        }
        if loopback {
            DevTokens::new(tokens)
        } else {
            DevTokens::new([])
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::layer::McpOAuth;
    use crate::validate::api_key::ApiKey;
    use crate::validate::router::Validation;

    fn problems(b: super::McpOAuthBuilder) -> Vec<String> {
        let err = b.build().map(|_| ()).unwrap_err();
        err.problems().iter().map(ToString::to_string).collect()
    }

    #[test]
    fn every_key_problem_is_reported_and_none_shows_a_key() {
        let hash = ApiKey::hash("mcp_sk_one");
        let found = problems(
            McpOAuth::builder()
                .resource("https://mcp.example.com/mcp")
                .authorization_server("https://auth.example.com")
                .validation(Validation::Hybrid)
                .introspection_client("rs", "secret")
                .opaque_token_prefix("mcp_")
                .api_key(ApiKey::new("a", &hash))
                .api_key(ApiKey::new("b", &hash))
                .api_key(ApiKey::new("c", "mcp_sk_pasted_by_mistake")),
        );
        assert_eq!(found.len(), 3, "{found:#?}");
        assert!(found[0].starts_with("MCP_OAUTH_API_KEY_PREFIX: `mcp_sk_` overlaps"));
        assert_eq!(
            found[1],
            "MCP_OAUTH_API_KEYS: the keys of `a` and `b` have the same sha256"
        );
        assert!(found[2].starts_with("MCP_OAUTH_API_KEYS: the key of `c`: `sha256` must be"));
        assert!(!found.concat().contains("pasted"));
    }

    #[test]
    fn a_prefix_is_long_enough_and_never_a_jwt_start() {
        let key = ApiKey::new("a", ApiKey::hash("x"));
        let with = |prefix: &str| {
            problems(
                McpOAuth::builder()
                    .resource("https://mcp.example.com/mcp")
                    .authorization_server("https://auth.example.com")
                    .api_key_prefix(prefix)
                    .api_key(key.clone()),
            )
        };
        assert!(with("sk_")[0].contains("at least 4 token characters"));
        assert!(with("eyJhb")[0].contains("JWTs start with `eyJ`"));
        assert!(with("mcp sk")[0].contains("at least 4 token characters"));
    }
}
