//! The strategy (`jwt`, `introspection`, `hybrid`) and the RFC 7662 introspection
//! client: endpoint, credentials, and the bounds on calls (negative cache, concurrency,
//! opaque-token prefixes).

use std::time::Duration;

use crate::secret::Secret;
use crate::validate::introspection::ClientAuthMethod;
use crate::validate::router::Validation;

use super::McpOAuthBuilder;

impl McpOAuthBuilder {
    /// How tokens are validated: locally as JWTs (the default), by RFC 7662
    /// introspection, or both (`Hybrid`: JWTs from issuers with keys locally, the rest
    /// introspected). Introspection needs
    /// [`introspection_client`](Self::introspection_client) credentials.
    /// (`MCP_OAUTH_VALIDATION`: `jwt`, `introspection` or `hybrid`)
    ///
    /// ```
    /// use mcp_oauth::Validation;
    /// # let builder = mcp_oauth::McpOAuth::builder()
    /// #     .resource("https://mcp.example.com/mcp")
    /// #     .authorization_server("https://auth.example.com");
    ///
    /// let err = builder.clone().validation(Validation::Introspection).build().unwrap_err();
    /// assert_eq!(err.problems()[0].setting(), "MCP_OAUTH_INTROSPECTION_CLIENT_ID");
    /// let oauth = builder
    ///     .validation(Validation::Introspection)
    ///     .introspection_client("mcp-resource", "a secret from a file")
    ///     .build()?; // the introspection endpoint is discovered
    /// # let _ = oauth;
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn validation(mut self, validation: Validation) -> Self {
        self.validation = validation;
        self
    }

    /// The introspection endpoint, when the metadata's `introspection_endpoint` should
    /// not be used (by default it is discovered). With several authorization servers it
    /// belongs to the [`issuer`](Self::issuer). `https` only, except on loopback hosts.
    /// (`MCP_OAUTH_INTROSPECTION_ENDPOINT`)
    ///
    /// ```
    /// let oauth = mcp_oauth::McpOAuth::builder()
    ///     .resource("https://mcp.example.com/mcp")
    ///     .authorization_server("https://auth.example.com")
    ///     .validation(mcp_oauth::Validation::Introspection)
    ///     .introspection_endpoint("https://auth.example.com/oauth2/introspect")
    ///     .introspection_client("mcp-resource", "a secret from a file")
    ///     .build()?;
    /// # let _ = oauth;
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn introspection_endpoint(mut self, uri: impl Into<String>) -> Self {
        self.introspection_endpoint = Some(uri.into());
        self
    }

    /// The client id and secret this resource server authenticates to the introspection
    /// endpoint with (RFC 7662 §2.1 requires it). The secret never appears in errors,
    /// logs or `Debug` output. (`MCP_OAUTH_INTROSPECTION_CLIENT_ID`,
    /// `MCP_OAUTH_INTROSPECTION_CLIENT_SECRET` or `_FILE`)
    ///
    /// ```
    /// let builder = mcp_oauth::McpOAuth::builder()
    ///     .introspection_client("mcp-resource", "s3cr3t-value");
    /// assert!(!format!("{builder:?}").contains("s3cr3t-value"));
    /// ```
    pub fn introspection_client(
        mut self,
        client_id: impl Into<String>,
        secret: impl AsRef<[u8]>,
    ) -> Self {
        self.introspection_client_id = Some(client_id.into());
        self.introspection_client_secret = Some(Secret(secret.as_ref().to_vec()));
        self
    }

    /// How the introspection client authenticates: `client_secret_basic` (the default)
    /// or `client_secret_post`. (`MCP_OAUTH_INTROSPECTION_AUTH_METHOD`)
    ///
    /// ```
    /// use mcp_oauth::ClientAuthMethod;
    ///
    /// let builder = mcp_oauth::McpOAuth::builder()
    ///     .introspection_client("mcp-resource", "secret")
    ///     .introspection_auth_method(ClientAuthMethod::ClientSecretPost);
    /// # let _ = builder;
    /// ```
    pub fn introspection_auth_method(mut self, method: ClientAuthMethod) -> Self {
        self.introspection_auth = method;
        self
    }

    /// How long a definite refusal from an introspection endpoint is remembered (the
    /// negative cache): `active: false`, an active token that fails a check, or a 400
    /// refusing the token. The same token again within this time is refused without a
    /// call, so replaying a bad token is not amplified onto the authorization server.
    /// Keyed by the token's SHA-256, at most 16,384 entries per authorization server (the
    /// oldest make room); outages (503s) are never remembered. Default 5 s;
    /// `Duration::ZERO` turns it off. (`MCP_OAUTH_INTROSPECTION_NEGATIVE_TTL_SECS`)
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let builder = mcp_oauth::McpOAuth::builder()
    ///     .validation(mcp_oauth::Validation::Introspection)
    ///     .introspection_client("mcp-resource", "secret")
    ///     .introspection_negative_ttl(Duration::from_secs(2));
    /// # let _ = builder;
    /// ```
    pub fn introspection_negative_ttl(mut self, ttl: Duration) -> Self {
        self.introspection_limits.negative_ttl = ttl;
        self
    }

    /// Most introspection calls in flight to one authorization server. A new token that
    /// would need one more gets 503 `temporarily_unavailable` with `Retry-After: 1` at
    /// once (never a queue), so a flood of distinct tokens reaches the authorization
    /// server at this concurrency at most. Default 32; must be more than zero.
    /// (`MCP_OAUTH_INTROSPECTION_MAX_CONCURRENT`)
    ///
    /// ```
    /// # let builder = mcp_oauth::McpOAuth::builder()
    /// #     .resource("https://mcp.example.com/mcp")
    /// #     .authorization_server("https://auth.example.com")
    /// #     .validation(mcp_oauth::Validation::Introspection)
    /// #     .introspection_client("mcp-resource", "secret");
    /// let oauth = builder.clone().introspection_max_concurrent(8).build()?;
    /// let err = builder.introspection_max_concurrent(0).build().unwrap_err();
    /// assert_eq!(err.problems()[0].setting(), "MCP_OAUTH_INTROSPECTION_MAX_CONCURRENT");
    /// # let _ = oauth;
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn introspection_max_concurrent(mut self, calls: usize) -> Self {
        self.introspection_limits.max_concurrent = calls;
        self
    }

    /// A prefix every opaque token of the [`issuer`](Self::issuer) starts with (e.g.
    /// `at_`); call again for several. Opaque tokens are then introspected only by the
    /// issuer whose prefix they have, and a token matching no prefix (while every
    /// introspecting issuer declared some) is a 401 without any call. For several issuers,
    /// give each its own with
    /// [`AuthorizationServer::opaque_token_prefix`](crate::AuthorizationServer::opaque_token_prefix). Prefixes are token characters (RFC
    /// 6750 §2.1). (`MCP_OAUTH_OPAQUE_TOKEN_PREFIX`, a list)
    ///
    /// ```
    /// let builder = mcp_oauth::McpOAuth::builder()
    ///     .resource("https://mcp.example.com/mcp")
    ///     .authorization_server("https://auth.example.com")
    ///     .validation(mcp_oauth::Validation::Introspection)
    ///     .introspection_client("mcp-resource", "secret");
    /// let oauth = builder.clone().opaque_token_prefix("at_").build()?;
    /// let err = builder.opaque_token_prefix("at ").build().unwrap_err();
    /// assert_eq!(err.problems()[0].setting(), "MCP_OAUTH_OPAQUE_TOKEN_PREFIX");
    /// # let _ = oauth;
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn opaque_token_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.opaque_token_prefixes.push(prefix.into());
        self
    }
}
