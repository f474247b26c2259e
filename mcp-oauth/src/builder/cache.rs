//! The validation cache: how long an accepted token is remembered, and how many.

use std::time::Duration;

use super::McpOAuthBuilder;

impl McpOAuthBuilder {
    /// How long an accepted token is remembered, so that a repeated token costs a hash
    /// and a lookup instead of a signature verification (or your validator's call).
    /// Default 60 s. An entry never outlives the token's `exp`, refusals are never
    /// cached, and the token itself is never stored (the key is its SHA-256).
    /// `Duration::ZERO` turns the cache off: every request is validated, so a revocation
    /// your [`validator`](Self::validator) sees, or a key removed from the JWKS, takes
    /// effect at once rather than within the TTL. (`MCP_OAUTH_CACHE_TTL_SECS`)
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::time::Duration;
    /// use mcp_oauth::{LocalBoxFuture, McpOAuth, Refusal, TokenValidator, VerifiedClaims};
    ///
    /// /// Accepts every token, counting its calls.
    /// struct Counting(Arc<AtomicUsize>);
    /// impl TokenValidator for Counting {
    ///     fn validate<'a>(&'a self, _: &'a str) -> LocalBoxFuture<'a, Result<VerifiedClaims, Refusal>> {
    ///         self.0.fetch_add(1, Ordering::SeqCst);
    ///         Box::pin(async { Ok(VerifiedClaims::from_claims(Default::default())) })
    ///     }
    /// }
    /// let calls = Arc::new(AtomicUsize::new(0));
    /// let builder = McpOAuth::builder()
    ///     .resource("https://mcp.example.com/mcp")
    ///     .authorization_server("https://auth.example.com")
    ///     .validator(Counting(calls.clone()));
    /// let cached = builder.clone().cache_ttl(Duration::from_secs(30)).build()?;
    /// let uncached = builder.cache_ttl(Duration::ZERO).build()?;
    /// actix_web::rt::System::new().block_on(async {
    ///     for _ in 0..3 {
    ///         cached.authenticate("some-token").await?;
    ///     }
    ///     assert_eq!(calls.load(Ordering::SeqCst), 1); // validated once
    ///     for _ in 0..3 {
    ///         uncached.authenticate("some-token").await?;
    ///     }
    ///     assert_eq!(calls.load(Ordering::SeqCst), 4); // every time
    ///     Ok::<_, mcp_oauth::AuthError>(())
    /// })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn cache_ttl(mut self, ttl: Duration) -> Self {
        self.cache_ttl = ttl;
        self
    }

    /// Most tokens the validation cache remembers. Default 10,000. When full, the oldest
    /// entry makes room, so a flood of distinct tokens cannot grow memory (invalid tokens
    /// are never cached at all). Must be more than zero: turn the cache off with
    /// [`cache_ttl(Duration::ZERO)`](Self::cache_ttl). (`MCP_OAUTH_CACHE_MAX_ENTRIES`)
    ///
    /// ```
    /// # let builder = mcp_oauth::McpOAuth::builder()
    /// #     .resource("https://mcp.example.com/mcp")
    /// #     .authorization_server("https://auth.example.com")
    /// #     .jwks_uri("https://auth.example.com/jwks");
    /// let oauth = builder.clone().cache_max_entries(100_000).build()?; // many clients
    /// let err = builder.cache_max_entries(0).build().unwrap_err();
    /// assert_eq!(err.problems()[0].setting(), "MCP_OAUTH_CACHE_MAX_ENTRIES");
    /// # let _ = oauth;
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn cache_max_entries(mut self, entries: usize) -> Self {
        self.cache_max_entries = entries;
        self
    }
}
