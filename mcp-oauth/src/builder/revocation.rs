//! How long a revocation is remembered.

use std::time::Duration;

use super::McpOAuthBuilder;

impl McpOAuthBuilder {
    /// The longest a revocation ([`McpOAuth::revoke_token`],
    /// [`McpOAuth::revoke_subject`], or one heard from the fleet) is remembered (default
    /// 24 hours; `MCP_OAUTH_REVOCATION_TTL_SECS`). A revoked token is remembered until
    /// its own `exp` when it is a JWT (never longer than this); a revoked subject for
    /// this long. Set it to at least the longest access-token lifetime your authorization
    /// server issues: a token issued before the revocation is expired by then, so
    /// forgetting the revocation lets nothing back in. The default is Auth0's default
    /// lifetime (86,400 s), the longest of the presets' providers.
    ///
    /// ```
    /// use std::time::Duration;
    /// let oauth = mcp_oauth::McpOAuth::builder()
    ///     .resource("https://mcp.example.com/mcp")
    ///     .authorization_server("https://auth.example.com")
    ///     .jwks_uri("https://auth.example.com/jwks")
    ///     .revocation_ttl(Duration::from_secs(3600))
    ///     .build()?;
    /// # let _ = oauth;
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    ///
    /// [`McpOAuth::revoke_token`]: crate::McpOAuth::revoke_token
    /// [`McpOAuth::revoke_subject`]: crate::McpOAuth::revoke_subject
    pub fn revocation_ttl(mut self, ttl: Duration) -> Self {
        self.revocation_ttl = ttl;
        self
    }
}

/// What `cargo mcp-oauth revoke` needs of a configuration: its shared state, its
/// revocation TTL, and the problems of those settings.
pub(crate) struct RevocationSettings {
    pub(crate) shared: Option<crate::SharedState>,
    pub(crate) ttl: Duration,
    pub(crate) problems: Vec<super::ConfigProblem>,
}

impl McpOAuthBuilder {
    /// The revocation settings of a builder read from the environment
    /// ([`from_vars`](Self::from_vars)); the other settings are not needed.
    pub(crate) fn revocation_settings(self) -> RevocationSettings {
        let mut problems = self
            .problems
            .iter()
            .filter(|p| {
                p.setting().starts_with("MCP_OAUTH_REDIS_")
                    || p.setting() == "MCP_OAUTH_REVOCATION_TTL_SECS"
            })
            .cloned()
            .collect::<Vec<_>>();
        if self.revocation_ttl.is_zero() {
            problems.push(super::ConfigProblem::new(
                "MCP_OAUTH_REVOCATION_TTL_SECS",
                "must be at least one second",
            ));
        }
        RevocationSettings {
            shared: self.shared,
            ttl: self.revocation_ttl,
            problems,
        }
    }
}
