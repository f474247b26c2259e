//! The shared state of a fleet: given, or read from `MCP_OAUTH_REDIS_*`.

use std::time::Duration;

use super::McpOAuthBuilder;
use super::error::ConfigProblem;
use crate::SharedState;

impl McpOAuthBuilder {
    /// What the instances of a fleet share (default: nothing, each process alone): the
    /// DPoP proofs seen, so a proof replayed to another instance is refused; introspection
    /// answers, so a token is introspected once per fleet; session owners, so a session
    /// is its owner's on every instance; the revocations
    /// ([`McpOAuth::revoke_token`](crate::McpOAuth::revoke_token)), so a token revoked on
    /// one instance is refused by all. Give every
    /// instance a [`SharedState`] on the same store with the same prefix (Redis with the
    /// `redis` feature: `MCP_OAUTH_REDIS_URL`).
    ///
    /// ```
    /// use mcp_oauth::{McpOAuth, SharedState};
    ///
    /// let shared = SharedState::memory();
    /// let oauth = McpOAuth::builder()
    ///     .resource("https://mcp.example.com/mcp")
    ///     .authorization_server("https://auth.example.com")
    ///     .jwks_uri("https://auth.example.com/jwks")
    ///     .shared_state(shared)
    ///     .build()?;
    /// # let _ = oauth;
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn shared_state(mut self, shared: SharedState) -> Self {
        self.shared = Some(shared);
        self
    }
}

/// The `MCP_OAUTH_REDIS_*` variables, read by `from_vars`.
pub(crate) struct RedisVars {
    pub(crate) url: Option<String>,
    pub(crate) prefix: Option<String>,
    pub(crate) timeout_ms: Option<String>,
    pub(crate) on_failure: Option<String>,
    pub(crate) secret: Option<String>,
    pub(crate) ca: Option<String>,
    pub(crate) revocation_on_failure: Option<String>,
}

impl RedisVars {
    /// The shared state they name, or why not.
    pub(crate) fn shared_state(self, problems: &mut Vec<ConfigProblem>) -> Option<SharedState> {
        let Some(url) = self.url else {
            for (name, set) in [
                ("MCP_OAUTH_REDIS_PREFIX", self.prefix.is_some()),
                ("MCP_OAUTH_REDIS_TIMEOUT_MS", self.timeout_ms.is_some()),
                ("MCP_OAUTH_REDIS_ON_FAILURE", self.on_failure.is_some()),
                ("MCP_OAUTH_REDIS_SECRET", self.secret.is_some()),
                ("MCP_OAUTH_REDIS_CA", self.ca.is_some()),
                (
                    "MCP_OAUTH_REDIS_REVOCATION_ON_FAILURE",
                    self.revocation_on_failure.is_some(),
                ),
            ] {
                if set {
                    problems.push(ConfigProblem::new(
                        name,
                        "is set but MCP_OAUTH_REDIS_URL is not",
                    ));
                }
            }
            return None;
        };
        let timeout = match self.timeout_ms.as_deref().map(str::parse::<u64>) {
            None => DEFAULT_TIMEOUT,
            Some(Ok(ms)) if (1..=10_000).contains(&ms) => Duration::from_millis(ms),
            Some(_) => {
                problems.push(ConfigProblem::new(
                    "MCP_OAUTH_REDIS_TIMEOUT_MS",
                    "must be a whole number of milliseconds from 1 to 10000",
                ));
                DEFAULT_TIMEOUT
            }
        };
        let mut shared = open(&url, timeout, self.ca.as_deref(), problems)?;
        if let Some(prefix) = self.prefix {
            shared = shared.with_prefix(&prefix);
        }
        if let Some(secret) = self.secret {
            match shared.clone().with_secret(secret) {
                Ok(sealed) => shared = sealed,
                Err(why) => problems.push(ConfigProblem::new("MCP_OAUTH_REDIS_SECRET", why)),
            }
        }
        if let Some(policy) = self.on_failure {
            match policy.parse() {
                Ok(policy) => shared = shared.on_failure(policy),
                Err(why) => problems.push(ConfigProblem::new("MCP_OAUTH_REDIS_ON_FAILURE", why)),
            }
        }
        if let Some(policy) = self.revocation_on_failure {
            match policy.parse() {
                Ok(policy) => shared = shared.revocation_on_failure(policy),
                Err(why) => problems.push(ConfigProblem::new(
                    "MCP_OAUTH_REDIS_REVOCATION_ON_FAILURE",
                    why,
                )),
            }
        }
        Some(shared)
    }
}

#[cfg(feature = "redis")]
const DEFAULT_TIMEOUT: Duration = crate::shared::redis::DEFAULT_TIMEOUT;
#[cfg(not(feature = "redis"))]
const DEFAULT_TIMEOUT: Duration = Duration::from_millis(50);

#[cfg(feature = "redis")]
fn open(
    url: &str,
    timeout: Duration,
    ca: Option<&str>,
    problems: &mut Vec<ConfigProblem>,
) -> Option<SharedState> {
    let opened = match ca {
        None => SharedState::redis_with_timeout(url, timeout),
        Some(pem) => SharedState::redis_with_ca(url, timeout, pem.as_bytes()),
    };
    let setting = if ca.is_some() {
        "MCP_OAUTH_REDIS_CA"
    } else {
        "MCP_OAUTH_REDIS_URL"
    };
    opened
        .map_err(|why| problems.push(ConfigProblem::new(setting, why)))
        .ok()
}

#[cfg(not(feature = "redis"))]
fn open(
    _: &str,
    _: Duration,
    _: Option<&str>,
    problems: &mut Vec<ConfigProblem>,
) -> Option<SharedState> {
    problems.push(ConfigProblem::new(
        "MCP_OAUTH_REDIS_URL",
        "this build of mcp-oauth has no Redis support: enable its `redis` feature",
    ));
    None
}
