//! How JWTs are verified: keys (JWKS or an HS256 secret) and their cache, algorithms,
//! leeway, `typ`, where scopes are read, the token size cap, and a custom validator.

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::Algorithm;

use super::ValidatorSlot;
use crate::secret::Secret;
use crate::validate::TokenValidator;
use crate::validate::jwt::TypPolicy;

use super::McpOAuthBuilder;

impl McpOAuthBuilder {
    /// Where the issuer publishes its signing keys, when its metadata's `jwks_uri` should
    /// not be used (by default it is discovered). `https` only, except on loopback hosts.
    /// Nothing is fetched before the first token or [`McpOAuth::discover`](crate::McpOAuth::discover).
    /// (`MCP_OAUTH_JWKS_URI`)
    ///
    /// ```
    /// let builder = mcp_oauth::McpOAuth::builder()
    ///     .resource("https://mcp.example.com/mcp")
    ///     .authorization_server("https://auth.example.com");
    /// let err = builder.clone().jwks_uri("http://auth.example.com/jwks").build().unwrap_err();
    /// assert_eq!(err.problems()[0].setting(), "MCP_OAUTH_JWKS_URI"); // not https
    /// let oauth = builder.jwks_uri("https://auth.example.com/.well-known/jwks.json").build()?;
    /// # let _ = oauth;
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn jwks_uri(mut self, uri: impl Into<String>) -> Self {
        self.jwks_uri = Some(uri.into());
        self
    }

    /// The accepted signing algorithms. Default with a JWKS: RS256, RS384, RS512,
    /// PS256, PS384, PS512, ES256, ES384, EdDSA; with a shared secret: HS256.
    /// HS* is never accepted with JWKS keys, and `none` cannot be named.
    /// (`MCP_OAUTH_ALGORITHMS`)
    ///
    /// ```
    /// use mcp_oauth::Algorithm;
    /// # let builder = mcp_oauth::McpOAuth::builder()
    /// #     .resource("https://mcp.example.com/mcp")
    /// #     .authorization_server("https://auth.example.com")
    /// #     .jwks_uri("https://auth.example.com/jwks");
    ///
    /// let oauth = builder.clone().algorithms([Algorithm::ES256, Algorithm::EdDSA]).build()?;
    /// let err = builder.algorithms([Algorithm::HS256]).build().unwrap_err(); // needs a secret
    /// assert_eq!(err.problems()[0].setting(), "MCP_OAUTH_ALGORITHMS");
    /// # let _ = oauth;
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algorithms = Some(algorithms.into_iter().collect());
        self
    }

    /// Symmetric mode: tokens are HS256-signed with this shared secret (at least
    /// 32 bytes; HS384 and HS512 too when named in [`algorithms`](Self::algorithms)).
    /// Excludes a JWKS. (`MCP_OAUTH_HS256_SECRET`, or `_FILE`)
    ///
    /// ```
    /// # use mcp_oauth::testing::TestAuthServer;
    /// # let auth = TestAuthServer::start();
    /// let secret = b"an example secret of 32+ bytes!!"; // read yours from a file
    /// let resource = "http://127.0.0.1:8080/mcp";
    /// let oauth = mcp_oauth::McpOAuth::builder()
    ///     .resource(resource)
    ///     .authorization_server(auth.issuer())
    ///     .hs256_secret(secret)
    ///     .build()?;
    /// let token = auth.token().audience(resource).hs256(secret).sign();
    /// assert!(actix_web::rt::System::new().block_on(oauth.authenticate(&token)).is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn hs256_secret(mut self, secret: impl AsRef<[u8]>) -> Self {
        self.hs256_secret = Some(Secret(secret.as_ref().to_vec()));
        self
    }

    /// Clock leeway for `exp`, `nbf` and `iat`. Default 60 s, at most 300 s.
    /// (`MCP_OAUTH_LEEWAY_SECS`)
    ///
    /// ```
    /// use std::time::Duration;
    /// # let builder = mcp_oauth::McpOAuth::builder()
    /// #     .resource("https://mcp.example.com/mcp")
    /// #     .authorization_server("https://auth.example.com")
    /// #     .jwks_uri("https://auth.example.com/jwks");
    ///
    /// let oauth = builder.clone().leeway(Duration::from_secs(5)).build()?; // well-synced clocks
    /// let err = builder.leeway(Duration::from_secs(600)).build().unwrap_err();
    /// assert!(err.to_string().contains("600 s is more than the maximum of 300 s"));
    /// # let _ = oauth;
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Which `typ` header values are accepted. Default [`TypPolicy::Lenient`].
    /// (`MCP_OAUTH_TYP`: `lenient` or `strict`)
    ///
    /// ```
    /// use mcp_oauth::{Refusal, TokenRejection, TypPolicy};
    /// # use mcp_oauth::testing::TestAuthServer;
    /// # let auth = TestAuthServer::start();
    /// let resource = "http://127.0.0.1:8080/mcp";
    /// let oauth = auth.configure(resource).typ_policy(TypPolicy::Strict).build()?;
    /// let token = auth.token().audience(resource).typ("JWT").sign();
    /// let err = actix_web::rt::System::new().block_on(oauth.authenticate(&token)).unwrap_err();
    /// assert_eq!(err.refusal(), &Refusal::InvalidToken(TokenRejection::WrongType));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn typ_policy(mut self, policy: TypPolicy) -> Self {
        self.typ = policy;
        self
    }

    /// Read scopes from this claim (a space-separated string or an array) instead of
    /// `scope`, then `scp`. (`MCP_OAUTH_SCOPE_CLAIM`)
    ///
    /// ```
    /// # use mcp_oauth::testing::TestAuthServer;
    /// # let auth = TestAuthServer::start();
    /// let resource = "http://127.0.0.1:8080/mcp";
    /// let oauth = auth.configure(resource).scope_claim("permissions").build()?;
    /// let token = auth.token().audience(resource).scope("ignored")
    ///     .claim("permissions", serde_json::json!(["files:read"])).sign();
    /// let client = actix_web::rt::System::new().block_on(oauth.authenticate(&token))?;
    /// assert_eq!(client.scopes(), ["files:read"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn scope_claim(mut self, claim: impl Into<String>) -> Self {
        self.scope_claim = Some(claim.into());
        self
    }

    /// Judge tokens with your own [`TokenValidator`] instead of the JWT strategy.
    /// Challenges, statuses, metadata and scope checks stay the middleware's.
    /// No JWKS URI is needed then, and the JWT settings are not used. What it accepts is
    /// cached like the JWT strategy's results (see [`cache_ttl`](Self::cache_ttl)).
    ///
    /// ```
    /// use mcp_oauth::{LocalBoxFuture, Refusal, TokenValidator, VerifiedClaims};
    ///
    /// struct AnyToken; // for illustration: accepts every token, with the scope `mcp`
    /// impl TokenValidator for AnyToken {
    ///     fn validate<'a>(&'a self, _: &'a str) -> LocalBoxFuture<'a, Result<VerifiedClaims, Refusal>> {
    ///         Box::pin(async { Ok(VerifiedClaims::from_claims(Default::default()).with_scopes(["mcp"])) })
    ///     }
    /// }
    /// let oauth = mcp_oauth::McpOAuth::builder()
    ///     .resource("https://mcp.example.com/mcp")
    ///     .authorization_server("https://auth.example.com")
    ///     .validator(AnyToken)
    ///     .build()?;
    /// let client = actix_web::rt::System::new().block_on(oauth.authenticate("anything"))?;
    /// assert_eq!(client.scopes(), ["mcp"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn validator(mut self, validator: impl TokenValidator) -> Self {
        self.validator = Some(ValidatorSlot(Arc::new(validator)));
        self
    }

    /// Least time between two JWKS refetches caused by tokens with an unknown `kid`.
    /// Default 30 s. A token signed with a rotated key makes the keys be refetched at
    /// once, unless such a refetch already happened within the cooldown: until it ends,
    /// tokens with an unknown `kid` are refused (401 `invalid_token`).
    ///
    /// ```
    /// use std::time::Duration;
    /// use mcp_oauth::{Refusal, TokenRejection};
    /// # use mcp_oauth::testing::TestAuthServer;
    /// # let auth = TestAuthServer::start();
    /// # let resource = "http://127.0.0.1:8080/mcp";
    /// let oauth = auth.configure(resource).jwks_refetch_cooldown(Duration::from_secs(3600)).build()?;
    /// let new_token = || auth.token().audience(resource).sign();
    /// actix_web::rt::System::new().block_on(async {
    ///     assert!(oauth.authenticate(&new_token()).await.is_ok()); // first fetch
    ///     auth.rotate_keys();
    ///     assert!(oauth.authenticate(&new_token()).await.is_ok()); // unknown kid: refetched
    ///     auth.rotate_keys();
    ///     let err = oauth.authenticate(&new_token()).await.unwrap_err(); // within the cooldown
    ///     assert_eq!(err.refusal(), &Refusal::InvalidToken(TokenRejection::UnknownKey));
    /// });
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn jwks_refetch_cooldown(mut self, cooldown: Duration) -> Self {
        self.jwks.refetch_cooldown = cooldown;
        self
    }

    /// Bounds on how long a fetched JWKS is considered fresh: its `Cache-Control:
    /// max-age` (or 5 minutes without one) is clamped into `min..=max`. Default
    /// 60 s to 24 h. Stale keys keep serving while a refresh runs in the background.
    /// A `max` below `min` counts as `min`.
    ///
    /// ```
    /// use std::time::Duration;
    /// # let builder = mcp_oauth::McpOAuth::builder()
    /// #     .resource("https://mcp.example.com/mcp")
    /// #     .authorization_server("https://auth.example.com")
    /// #     .jwks_uri("https://auth.example.com/jwks");
    ///
    /// // Refresh at least hourly, whatever the issuer's Cache-Control says.
    /// let oauth = builder.jwks_cache_ttl(Duration::from_secs(60), Duration::from_secs(3600)).build()?;
    /// # let _ = oauth;
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn jwks_cache_ttl(mut self, min: Duration, max: Duration) -> Self {
        self.jwks.min_ttl = min;
        self.jwks.max_ttl = max.max(min);
        self
    }

    /// Timeout of each outbound call (connect to last byte). Default 5 s.
    ///
    /// ```
    /// use std::time::Duration;
    /// use mcp_oauth::testing::{JwksFault, TestAuthServer};
    ///
    /// let auth = TestAuthServer::start();
    /// # let resource = "http://127.0.0.1:8080/mcp";
    /// let oauth = auth.configure(resource).http_timeout(Duration::from_millis(200)).build()?;
    /// auth.set_jwks_fault(JwksFault::Delay(Duration::from_secs(5)));
    /// let token = auth.token().audience(resource).sign();
    /// let err = actix_web::rt::System::new().block_on(oauth.authenticate(&token)).unwrap_err();
    /// assert_eq!(err.refusal().status().as_u16(), 503); // no keys: not the client's fault
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn http_timeout(mut self, timeout: Duration) -> Self {
        self.jwks.limits.timeout = timeout;
        self
    }

    /// Largest token accepted, in bytes, before any parsing. Default 16 KiB.
    ///
    /// ```
    /// use mcp_oauth::{Refusal, TokenRejection};
    /// # let builder = mcp_oauth::McpOAuth::builder()
    /// #     .resource("https://mcp.example.com/mcp")
    /// #     .authorization_server("https://auth.example.com")
    /// #     .jwks_uri("https://auth.example.com/jwks");
    ///
    /// let oauth = builder.max_token_bytes(4096).build()?;
    /// let huge = "a".repeat(5000);
    /// let err = actix_web::rt::System::new().block_on(oauth.authenticate(&huge)).unwrap_err();
    /// assert_eq!(err.refusal(), &Refusal::InvalidToken(TokenRejection::TooLarge));
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn max_token_bytes(mut self, bytes: usize) -> Self {
        self.max_token_bytes = bytes;
        self
    }

    /// Lets handlers read the raw bearer token through
    /// [`AuthenticatedClient::bearer_token`](crate::AuthenticatedClient::bearer_token).
    /// Off by default: an MCP server must not pass the token through to upstream APIs
    /// (MCP §Access Token Privilege Restriction). Turn it on only for token exchange.
    ///
    /// ```
    /// # use mcp_oauth::testing::TestAuthServer;
    /// # let auth = TestAuthServer::start();
    /// let resource = "http://127.0.0.1:8080/mcp";
    /// let oauth = auth.configure(resource).expose_token_to_handlers(true).build()?;
    /// let token = auth.token().audience(resource).sign();
    /// let client = actix_web::rt::System::new().block_on(oauth.authenticate(&token))?;
    /// assert_eq!(client.bearer_token().map(|t| t.secret()), Some(token.as_str()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn expose_token_to_handlers(mut self, expose: bool) -> Self {
        self.expose_token = expose;
        self
    }
}
