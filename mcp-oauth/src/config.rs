//! [`McpOAuthBuilder`]: every setting, its default, and the one `build()` that checks
//! them all and reports every problem at once.

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey};

use crate::authority::{Authorities, Authority, Validation};
use crate::authorization_server::AuthorizationServer;
use crate::body::DEFAULT_BODY_TIMEOUT;
use crate::cache::{CachedValidator, DEFAULT_CACHE_MAX_ENTRIES, DEFAULT_CACHE_TTL};
use crate::discovery::{Discovery, Needs};
use crate::error::{ConfigError, ConfigProblem};
use crate::introspection::{
    CallLimit, ClientAuthMethod, ClientCredentials, IntrospectionLimits, Introspector, RefusedCache,
};
use crate::jsonrpc::BodyLimits;
use crate::jwks::{JwksCache, JwksSettings, KeyEpoch};
use crate::jwt::{self, JwtValidator, KeySource, TypPolicy};
use crate::middleware::{Inner, McpOAuth};
use crate::policy::{DEFAULT_MAX_BODY_BYTES, McpPolicy, Requirement};
use crate::report::Strictness;
use crate::resource::MetadataDocument;
use crate::resource::ProtectedResource;
use crate::scope;
use crate::secret::Secret;
use crate::session::{DEFAULT_MAX_SESSIONS, SessionOwners};
use crate::token::DEFAULT_MAX_TOKEN_BYTES;
use crate::url_policy::secure_url;
use crate::validator::TokenValidator;

/// The default clock leeway for `exp`, `nbf` and `iat`.
///
/// ```
/// use std::time::Duration;
///
/// assert_eq!(mcp_oauth::DEFAULT_LEEWAY, Duration::from_secs(60));
/// assert!(mcp_oauth::DEFAULT_LEEWAY <= mcp_oauth::MAX_LEEWAY);
/// ```
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(60);
/// The largest clock leeway accepted (RFC 9068 §4: "a few minutes").
///
/// ```
/// use std::time::Duration;
/// use mcp_oauth::MAX_LEEWAY;
/// # let builder = mcp_oauth::McpOAuth::builder()
/// #     .resource("https://mcp.example.com/mcp")
/// #     .authorization_server("https://auth.example.com")
/// #     .jwks_uri("https://auth.example.com/jwks");
///
/// assert!(builder.clone().leeway(MAX_LEEWAY).build().is_ok());
/// let err = builder.leeway(MAX_LEEWAY + Duration::from_secs(1)).build().unwrap_err();
/// assert_eq!(err.problems()[0].setting(), "MCP_OAUTH_LEEWAY_SECS");
/// ```
pub const MAX_LEEWAY: Duration = Duration::from_secs(300);
/// The shortest HMAC secret accepted: 256 bits, the output size of SHA-256 (RFC 7518 §3.2).
///
/// ```
/// use mcp_oauth::{McpOAuth, MIN_HS256_SECRET_BYTES};
///
/// let builder = McpOAuth::builder()
///     .resource("https://mcp.example.com/mcp")
///     .authorization_server("https://auth.example.com");
/// assert!(builder.clone().hs256_secret([7u8; MIN_HS256_SECRET_BYTES]).build().is_ok());
/// let err = builder.hs256_secret("a short password").build().unwrap_err();
/// assert_eq!(err.problems()[0].setting(), "MCP_OAUTH_HS256_SECRET");
/// ```
pub const MIN_HS256_SECRET_BYTES: usize = 32;

/// Where an [`McpOAuth`] comes from: a builder, or the environment.
impl McpOAuth {
    /// An empty builder. See [`McpOAuthBuilder`] for the settings.
    ///
    /// ```
    /// let oauth = mcp_oauth::McpOAuth::builder()
    ///     .resource("https://mcp.example.com/mcp")
    ///     .authorization_server("https://auth.example.com")
    ///     .jwks_uri("https://auth.example.com/jwks")
    ///     .build()?;
    /// assert_eq!(oauth.resource(), "https://mcp.example.com/mcp");
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn builder() -> McpOAuthBuilder {
        McpOAuthBuilder::default()
    }

    /// A builder configured from the `MCP_OAUTH_*` environment variables, to adjust
    /// further before [`build`](McpOAuthBuilder::build). Problems with the variables are
    /// reported by `build`, with any others.
    ///
    /// ```no_run
    /// // Deployment settings from the environment; what the code relies on, in code.
    /// let oauth = mcp_oauth::McpOAuth::builder_from_env()
    ///     .required_scopes(["mcp:tools"])
    ///     .public_path("/health")
    ///     .build()?;
    /// # let _ = oauth;
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn builder_from_env() -> McpOAuthBuilder {
        McpOAuthBuilder::from_env()
    }

    /// The middleware configured from the `MCP_OAUTH_*` environment variables
    /// (listed in [`ENV_VARIABLES`](crate::ENV_VARIABLES); each may also be given as
    /// `NAME_FILE`).
    ///
    /// ```no_run
    /// let oauth = match mcp_oauth::McpOAuth::from_env() {
    ///     Ok(oauth) => oauth,
    ///     Err(err) => {
    ///         eprintln!("{err}"); // every problem, one per line, naming its variable
    ///         std::process::exit(2);
    ///     }
    /// };
    /// # let _ = oauth;
    /// ```
    ///
    /// # Errors
    /// A [`ConfigError`] listing every problem, when the configuration is missing,
    /// incomplete or invalid.
    pub fn from_env() -> Result<Self, ConfigError> {
        McpOAuthBuilder::from_env().build()
    }
}

/// Builds an [`McpOAuth`]. Start from [`McpOAuth::builder`] or [`McpOAuth::builder_from_env`].
///
/// Decisions, in order:
/// 1. the **resource**: the URL clients use for your MCP endpoint (required);
/// 2. the **authorization servers** advertised in the metadata (at least one);
/// 3. how tokens are judged: a **JWKS URI** (asymmetric JWTs), a shared **HS256
///    secret** (symmetric JWTs), or your own [`TokenValidator`];
/// 4. optional policy: required scopes, accepted audiences, algorithms, leeway, `typ`.
///
/// ```
/// use mcp_oauth::McpOAuth;
///
/// let oauth = McpOAuth::builder()
///     .resource("https://mcp.example.com/mcp")
///     .authorization_server("https://auth.example.com")
///     .jwks_uri("https://auth.example.com/.well-known/jwks.json")
///     .required_scopes(["mcp:tools"])
///     .build()?;
/// # let _ = oauth;
/// # Ok::<(), mcp_oauth::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct McpOAuthBuilder {
    pub(crate) resource: Option<String>,
    pub(crate) authorization_servers: Vec<AuthorizationServer>,
    pub(crate) issuer: Option<String>,
    pub(crate) audiences: Vec<String>,
    pub(crate) jwks_uri: Option<String>,
    pub(crate) algorithms: Option<Vec<Algorithm>>,
    pub(crate) hs256_secret: Option<Secret>,
    pub(crate) required_scopes: Vec<String>,
    pub(crate) scopes_supported: Vec<String>,
    pub(crate) leeway: Duration,
    pub(crate) typ: TypPolicy,
    pub(crate) scope_claim: Option<String>,
    pub(crate) resource_name: Option<String>,
    pub(crate) resource_documentation: Option<String>,
    pub(crate) public_paths: Vec<String>,
    pub(crate) validator: Option<ValidatorSlot>,
    pub(crate) jwks: JwksSettings,
    pub(crate) max_token_bytes: usize,
    pub(crate) expose_token: bool,
    /// Per JSON-RPC method and per tool requirements.
    pub(crate) method_scopes: Vec<(String, Requirement)>,
    pub(crate) tool_scopes: Vec<(String, Requirement)>,
    pub(crate) mcp_endpoints: Vec<String>,
    pub(crate) max_mcp_body_bytes: usize,
    pub(crate) mcp_body_limits: BodyLimits,
    pub(crate) body_timeout: Duration,
    pub(crate) scope_hierarchy: bool,
    pub(crate) session_binding: bool,
    /// How long an accepted token is remembered; zero turns the cache off.
    pub(crate) cache_ttl: Duration,
    pub(crate) cache_max_entries: usize,
    pub(crate) validation: Validation,
    pub(crate) introspection_endpoint: Option<String>,
    pub(crate) introspection_client_id: Option<String>,
    pub(crate) introspection_client_secret: Option<Secret>,
    pub(crate) introspection_auth: ClientAuthMethod,
    /// The negative cache's TTL and the cap on concurrent calls per issuer.
    pub(crate) introspection_limits: IntrospectionLimits,
    /// The [`issuer`](Self::issuer)'s opaque-token prefixes.
    pub(crate) opaque_token_prefixes: Vec<String>,
    pub(crate) strictness: Strictness,
    pub(crate) retry_discovery: bool,
    pub(crate) diagnostics_path: Option<String>,
    /// Problems found while reading the environment, reported by `build()`.
    pub(crate) problems: Vec<ConfigProblem>,
}

/// A user validator, kept apart so the builder stays `Debug` + `Clone`.
#[derive(Clone)]
pub(crate) struct ValidatorSlot(pub(crate) Arc<dyn TokenValidator>);

impl std::fmt::Debug for ValidatorSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenValidator(..)")
    }
}

impl Default for McpOAuthBuilder {
    fn default() -> Self {
        Self {
            resource: None,
            authorization_servers: Vec::new(),
            issuer: None,
            audiences: Vec::new(),
            jwks_uri: None,
            algorithms: None,
            hs256_secret: None,
            required_scopes: Vec::new(),
            scopes_supported: Vec::new(),
            leeway: DEFAULT_LEEWAY,
            typ: TypPolicy::default(),
            scope_claim: None,
            resource_name: None,
            resource_documentation: None,
            public_paths: Vec::new(),
            validator: None,
            jwks: JwksSettings::default(),
            max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
            expose_token: false,
            method_scopes: Vec::new(),
            tool_scopes: Vec::new(),
            mcp_endpoints: Vec::new(),
            max_mcp_body_bytes: DEFAULT_MAX_BODY_BYTES,
            mcp_body_limits: BodyLimits::default(),
            body_timeout: DEFAULT_BODY_TIMEOUT,
            scope_hierarchy: false,
            session_binding: true,
            cache_ttl: DEFAULT_CACHE_TTL,
            cache_max_entries: DEFAULT_CACHE_MAX_ENTRIES,
            validation: Validation::default(),
            introspection_endpoint: None,
            introspection_client_id: None,
            introspection_client_secret: None,
            introspection_auth: ClientAuthMethod::default(),
            introspection_limits: IntrospectionLimits::default(),
            opaque_token_prefixes: Vec::new(),
            strictness: Strictness::default(),
            retry_discovery: false,
            diagnostics_path: None,
            problems: Vec::new(),
        }
    }
}

impl McpOAuthBuilder {
    /// The resource identifier: the absolute URL of the MCP endpoint, e.g.
    /// `https://mcp.example.com/mcp`. Required. Kept byte for byte: it is what the
    /// metadata's `resource` says and, by default, the audience tokens must carry.
    /// `https` only, except on loopback hosts. (`MCP_OAUTH_RESOURCE`)
    ///
    /// ```
    /// let builder = mcp_oauth::McpOAuth::builder()
    ///     .authorization_server("https://auth.example.com")
    ///     .jwks_uri("https://auth.example.com/jwks");
    /// let oauth = builder.clone().resource("https://mcp.example.com/mcp").build()?;
    /// assert_eq!(oauth.resource(), "https://mcp.example.com/mcp");
    /// assert!(builder.clone().resource("http://127.0.0.1:8080/mcp").build().is_ok());
    /// assert!(builder.resource("http://mcp.example.com/mcp").build().is_err()); // not https
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn resource(mut self, resource: impl Into<String>) -> Self {
        self.resource = Some(resource.into());
        self
    }

    /// Adds a trusted authorization server: its RFC 8414 issuer identifier, or an
    /// [`AuthorizationServer`] with settings of its own. It is listed in the metadata's
    /// `authorization_servers`, its tokens are accepted (a JWT is judged only by the
    /// issuer its `iss` names), and whatever endpoint is not configured is discovered
    /// from its metadata. At least one is required. (`MCP_OAUTH_AUTHORIZATION_SERVERS`)
    ///
    /// ```
    /// # fn metadata(oauth: mcp_oauth::McpOAuth) -> serde_json::Value {
    /// #     use actix_web::{App, test};
    /// #     actix_web::rt::System::new().block_on(async {
    /// #         let app = test::init_service(App::new().wrap(oauth)).await;
    /// #         let uri = "/.well-known/oauth-protected-resource/mcp";
    /// #         test::call_and_read_body_json(&app, test::TestRequest::get().uri(uri).to_request()).await
    /// #     })
    /// # }
    /// let oauth = mcp_oauth::McpOAuth::builder()
    ///     .resource("https://mcp.example.com/mcp")
    ///     .authorization_server("https://auth.example.com")
    ///     .jwks_uri("https://auth.example.com/jwks")
    ///     .build()?;
    /// let doc = metadata(oauth); // GET /.well-known/oauth-protected-resource/mcp
    /// assert_eq!(doc["authorization_servers"], serde_json::json!(["https://auth.example.com"]));
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn authorization_server(mut self, issuer: impl Into<AuthorizationServer>) -> Self {
        self.authorization_servers.push(issuer.into());
        self
    }

    /// Which authorization server the builder's [`jwks_uri`](Self::jwks_uri),
    /// [`hs256_secret`](Self::hs256_secret),
    /// [`introspection_endpoint`](Self::introspection_endpoint) and
    /// [`opaque_token_prefix`](Self::opaque_token_prefix) belong to. Default: the
    /// authorization server, when exactly one is configured. It must be one of them, and
    /// is required when several are and one of those settings is given; for settings of
    /// several issuers, use [`AuthorizationServer`]. (`MCP_OAUTH_ISSUER`)
    ///
    /// ```
    /// let builder = mcp_oauth::McpOAuth::builder()
    ///     .resource("https://mcp.example.com/mcp")
    ///     .authorization_server("https://login.example.com")
    ///     .authorization_server("https://login-eu.example.com")
    ///     .jwks_uri("https://login.example.com/jwks");
    /// let err = builder.clone().build().unwrap_err(); // which one issues the tokens?
    /// assert_eq!(err.problems()[0].setting(), "MCP_OAUTH_ISSUER");
    /// assert!(builder.issuer("https://login.example.com").build().is_ok());
    /// ```
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Adds an accepted audience, besides the resource (which is always accepted).
    /// Some providers put a client id or an `api://…` URI in `aud`; list it here.
    /// (`MCP_OAUTH_AUDIENCE`)
    ///
    /// ```
    /// # use mcp_oauth::testing::TestAuthServer;
    /// # let auth = TestAuthServer::start();
    /// let resource = "http://127.0.0.1:8080/mcp";
    /// let oauth = auth.configure(resource).audience("api://mcp").build()?;
    /// let token = auth.token().audience("api://mcp").sign();
    /// let client = actix_web::rt::System::new().block_on(oauth.authenticate(&token))?;
    /// assert_eq!(client.audiences(), ["api://mcp"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// Where the issuer publishes its signing keys, when its metadata's `jwks_uri` should
    /// not be used (by default it is discovered). `https` only, except on loopback hosts.
    /// Nothing is fetched before the first token or [`McpOAuth::discover`].
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

    /// Scopes every request must carry, all of them; otherwise 403
    /// `insufficient_scope`. Also advertised in `scopes_supported`.
    /// (`MCP_OAUTH_REQUIRED_SCOPES`)
    ///
    /// ```
    /// use mcp_oauth::Refusal;
    /// # use mcp_oauth::testing::TestAuthServer;
    /// # let auth = TestAuthServer::start();
    /// let resource = "http://127.0.0.1:8080/mcp";
    /// let oauth = auth.configure(resource).required_scopes(["mcp:tools"]).build()?;
    /// let token = auth.token().audience(resource).scope("mcp:read").sign();
    /// let err = actix_web::rt::System::new().block_on(oauth.authenticate(&token)).unwrap_err();
    /// assert_eq!(err.refusal().status().as_u16(), 403);
    /// assert!(matches!(err.refusal(), Refusal::InsufficientScope { .. }));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn required_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.required_scopes
            .extend(scopes.into_iter().map(Into::into));
        self
    }

    /// Further scopes to advertise in the metadata's `scopes_supported`. Keep it
    /// minimal (MCP Security Best Practices, scope minimization).
    /// (`MCP_OAUTH_SCOPES_SUPPORTED`)
    ///
    /// ```
    /// # let builder = mcp_oauth::McpOAuth::builder()
    /// #     .resource("https://mcp.example.com/mcp")
    /// #     .authorization_server("https://auth.example.com")
    /// #     .jwks_uri("https://auth.example.com/jwks");
    /// # fn metadata(oauth: mcp_oauth::McpOAuth) -> serde_json::Value {
    /// #     use actix_web::{App, test};
    /// #     actix_web::rt::System::new().block_on(async {
    /// #         let app = test::init_service(App::new().wrap(oauth)).await;
    /// #         let uri = "/.well-known/oauth-protected-resource/mcp";
    /// #         test::call_and_read_body_json(&app, test::TestRequest::get().uri(uri).to_request()).await
    /// #     })
    /// # }
    /// let oauth = builder.required_scopes(["mcp:tools"]).scopes_supported(["files:read"]).build()?;
    /// let doc = metadata(oauth); // GET /.well-known/oauth-protected-resource/mcp
    /// assert_eq!(doc["scopes_supported"], serde_json::json!(["mcp:tools", "files:read"]));
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn scopes_supported<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes_supported
            .extend(scopes.into_iter().map(Into::into));
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

    /// The human-readable `resource_name` of the metadata. (`MCP_OAUTH_RESOURCE_NAME`)
    ///
    /// ```
    /// # let builder = mcp_oauth::McpOAuth::builder()
    /// #     .resource("https://mcp.example.com/mcp")
    /// #     .authorization_server("https://auth.example.com")
    /// #     .jwks_uri("https://auth.example.com/jwks");
    /// # fn metadata(oauth: mcp_oauth::McpOAuth) -> serde_json::Value {
    /// #     use actix_web::{App, test};
    /// #     actix_web::rt::System::new().block_on(async {
    /// #         let app = test::init_service(App::new().wrap(oauth)).await;
    /// #         let uri = "/.well-known/oauth-protected-resource/mcp";
    /// #         test::call_and_read_body_json(&app, test::TestRequest::get().uri(uri).to_request()).await
    /// #     })
    /// # }
    /// let oauth = builder.resource_name("Example Files").build()?;
    /// let doc = metadata(oauth); // GET /.well-known/oauth-protected-resource/mcp
    /// assert_eq!(doc["resource_name"], "Example Files");
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn resource_name(mut self, name: impl Into<String>) -> Self {
        self.resource_name = Some(name.into());
        self
    }

    /// The metadata's `resource_documentation` URL: `https` only, except on loopback
    /// hosts. (`MCP_OAUTH_RESOURCE_DOCUMENTATION`)
    ///
    /// ```
    /// # let builder = mcp_oauth::McpOAuth::builder()
    /// #     .resource("https://mcp.example.com/mcp")
    /// #     .authorization_server("https://auth.example.com")
    /// #     .jwks_uri("https://auth.example.com/jwks");
    /// # fn metadata(oauth: mcp_oauth::McpOAuth) -> serde_json::Value {
    /// #     use actix_web::{App, test};
    /// #     actix_web::rt::System::new().block_on(async {
    /// #         let app = test::init_service(App::new().wrap(oauth)).await;
    /// #         let uri = "/.well-known/oauth-protected-resource/mcp";
    /// #         test::call_and_read_body_json(&app, test::TestRequest::get().uri(uri).to_request()).await
    /// #     })
    /// # }
    /// let oauth = builder.resource_documentation("https://docs.example.com/mcp").build()?;
    /// let doc = metadata(oauth); // GET /.well-known/oauth-protected-resource/mcp
    /// assert_eq!(doc["resource_documentation"], "https://docs.example.com/mcp");
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn resource_documentation(mut self, url: impl Into<String>) -> Self {
        self.resource_documentation = Some(url.into());
        self
    }

    /// A path served without authentication (e.g. `/health`): the path itself and
    /// everything below it (`/health/live`), nothing else. (`MCP_OAUTH_PUBLIC_PATHS`)
    ///
    /// ```
    /// use actix_web::{App, test, web};
    /// # let builder = mcp_oauth::McpOAuth::builder()
    /// #     .resource("https://mcp.example.com/mcp")
    /// #     .authorization_server("https://auth.example.com")
    /// #     .jwks_uri("https://auth.example.com/jwks");
    /// let oauth = builder.public_path("/health").build()?;
    /// # actix_web::rt::System::new().block_on(async {
    /// let app = App::new().wrap(oauth).default_service(web::to(|| async { "ok" }));
    /// let app = test::init_service(app).await;
    /// let get = |uri: &str| test::TestRequest::get().uri(uri).to_request();
    /// assert_eq!(test::call_service(&app, get("/health")).await.status(), 200);
    /// assert_eq!(test::call_service(&app, get("/health/live")).await.status(), 200);
    /// assert_eq!(test::call_service(&app, get("/healthz")).await.status(), 401); // token needed
    /// # });
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn public_path(mut self, path: impl Into<String>) -> Self {
        self.public_paths.push(path.into());
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

    /// Scopes every JSON-RPC request with this `method` needs (all of them), on top of the
    /// required scopes: e.g. `tools/call`. The middleware reads the body of POSTs to the
    /// MCP endpoint (single messages and batches) and answers 403 with a step-up
    /// challenge before the MCP service runs.
    ///
    /// ```
    /// let oauth = mcp_oauth::McpOAuth::builder()
    ///     .resource("https://mcp.example.com/mcp")
    ///     .authorization_server("https://auth.example.com")
    ///     .jwks_uri("https://auth.example.com/jwks")
    ///     .require_scope_for_method("tools/call", ["tools:call"])
    ///     .build()?;
    /// # let _ = oauth;
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn require_scope_for_method<I, S>(mut self, method: &str, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let scopes = scopes.into_iter().map(Into::into).collect();
        self.method_scopes
            .push((method.to_owned(), Requirement { scopes, any: false }));
        self
    }

    /// Scopes a `tools/call` of the tool `name` needs (all of them). Tools guarded with
    /// `#[require_scope]` register themselves; this is for tools you cannot annotate.
    ///
    /// ```
    /// let oauth = mcp_oauth::McpOAuth::builder()
    ///     .resource("https://mcp.example.com/mcp")
    ///     .authorization_server("https://auth.example.com")
    ///     .jwks_uri("https://auth.example.com/jwks")
    ///     .require_scope_for_tool("delete_file", ["files:delete"])
    ///     .build()?;
    /// # let _ = oauth;
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn require_scope_for_tool<I, S>(mut self, name: &str, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let scopes = scopes.into_iter().map(Into::into).collect();
        self.tool_scopes
            .push((name.to_owned(), Requirement { scopes, any: false }));
        self
    }

    /// Another request path that receives MCP JSON-RPC POSTs (e.g. the legacy
    /// transport's `/message`). Kept for compatibility and no longer needed: the scope
    /// policy reads every protected POST whose body is a JSON object or array, whatever
    /// its path, so no endpoint has to be listed (and none can be forgotten). The path
    /// must still start with `/`.
    ///
    /// ```
    /// let oauth = mcp_oauth::McpOAuth::builder()
    ///     .resource("https://mcp.example.com/mcp")
    ///     .authorization_server("https://auth.example.com")
    ///     .jwks_uri("https://auth.example.com/jwks")
    ///     .mcp_endpoint("/message")
    ///     .build()?;
    /// # let _ = oauth;
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn mcp_endpoint(mut self, path: impl Into<String>) -> Self {
        self.mcp_endpoints.push(path.into());
        self
    }

    /// Largest JSON request body read to decide its scopes. Default 4 MiB; a larger
    /// JSON body is refused with 413 (it could not be checked). Bodies that are not
    /// JSON are never held. (`MCP_OAUTH_MAX_MCP_BODY_BYTES`)
    ///
    /// ```
    /// let oauth = mcp_oauth::McpOAuth::builder()
    ///     .resource("https://mcp.example.com/mcp")
    ///     .authorization_server("https://auth.example.com")
    ///     .jwks_uri("https://auth.example.com/jwks")
    ///     .max_mcp_body_bytes(1 << 20)
    ///     .build()?;
    /// # let _ = oauth;
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn max_mcp_body_bytes(mut self, bytes: usize) -> Self {
        self.max_mcp_body_bytes = bytes;
        self
    }

    /// Most messages in one JSON-RPC batch the scope policy reads; a longer batch is
    /// refused with 400 and a JSON-RPC `-32600` error. Default 32 (MCP 2025-06-18 and
    /// later send no batches). (`MCP_OAUTH_MAX_MCP_BATCH_LEN`)
    ///
    /// ```
    /// let oauth = mcp_oauth::McpOAuth::builder()
    ///     .resource("https://mcp.example.com/mcp")
    ///     .authorization_server("https://auth.example.com")
    ///     .jwks_uri("https://auth.example.com/jwks")
    ///     .max_mcp_batch_len(8)
    ///     .build()?;
    /// # let _ = oauth;
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn max_mcp_batch_len(mut self, messages: usize) -> Self {
        self.mcp_body_limits.max_batch_len = messages;
        self
    }

    /// Most distinct method and tool names one body may name (a message repeating a
    /// member counts each distinct value); more is refused with 400 and a JSON-RPC
    /// `-32600` error. Default 64. (`MCP_OAUTH_MAX_MCP_NAMES`)
    ///
    /// ```
    /// let oauth = mcp_oauth::McpOAuth::builder()
    ///     .resource("https://mcp.example.com/mcp")
    ///     .authorization_server("https://auth.example.com")
    ///     .jwks_uri("https://auth.example.com/jwks")
    ///     .max_mcp_names(16)
    ///     .build()?;
    /// # let _ = oauth;
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn max_mcp_names(mut self, names: usize) -> Self {
        self.mcp_body_limits.max_names = names;
        self
    }

    /// How long a request body read before the service runs (the scope policy's JSON,
    /// a form checked for a second token) may take; a slower body is answered 408.
    /// Default 5 s. Only authenticated requests' bodies are ever read.
    /// (`MCP_OAUTH_BODY_TIMEOUT_SECS`)
    ///
    /// ```
    /// let oauth = mcp_oauth::McpOAuth::builder()
    ///     .resource("https://mcp.example.com/mcp")
    ///     .authorization_server("https://auth.example.com")
    ///     .jwks_uri("https://auth.example.com/jwks")
    ///     .body_read_timeout(std::time::Duration::from_secs(2))
    ///     .build()?;
    /// # let _ = oauth;
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn body_read_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.body_timeout = timeout;
        self
    }

    /// Scope hierarchy (MCP 2026-07-28): a granted `prefix:*` covers every
    /// `prefix:…` scope, e.g. `tools:*` grants `tools:call`. Off by default.
    ///
    /// ```
    /// # use mcp_oauth::testing::TestAuthServer;
    /// # let auth = TestAuthServer::start();
    /// let resource = "http://127.0.0.1:8080/mcp";
    /// let oauth = auth.configure(resource).required_scopes(["tools:call"]).scope_hierarchy(true).build()?;
    /// let token = auth.token().audience(resource).scope("tools:*").sign();
    /// assert!(actix_web::rt::System::new().block_on(oauth.authenticate(&token)).is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn scope_hierarchy(mut self, on: bool) -> Self {
        self.scope_hierarchy = on;
        self
    }

    /// Binds each MCP session (`Mcp-Session-Id`) to the principal that created it: a
    /// request of another principal naming it is answered 404 and never reaches the MCP
    /// service. On by default (MCP Security Best Practices, session hijacking).
    ///
    /// ```
    /// let oauth = mcp_oauth::McpOAuth::builder()
    ///     .resource("https://mcp.example.com/mcp")
    ///     .authorization_server("https://auth.example.com")
    ///     .jwks_uri("https://auth.example.com/jwks")
    ///     .session_binding(false) // e.g. when a gateway in front already binds sessions
    ///     .build()?;
    /// # let _ = oauth;
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn session_binding(mut self, on: bool) -> Self {
        self.session_binding = on;
        self
    }

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
    /// [`AuthorizationServer::opaque_token_prefix`]. Prefixes are token characters (RFC
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

    /// Which discovery findings stop [`McpOAuth::discover`] (see [`Strictness`]).
    /// Default: [`Strictness::Standard`], which refuses only what would make every client
    /// fail. (`MCP_OAUTH_DISCOVERY_STRICTNESS`: `lenient`, `standard` or `strict`)
    ///
    /// ```
    /// let builder = mcp_oauth::McpOAuth::builder()
    ///     .discovery_strictness(mcp_oauth::Strictness::Strict);
    /// # let _ = builder;
    /// ```
    pub fn discovery_strictness(mut self, strictness: Strictness) -> Self {
        self.strictness = strictness;
        self
    }

    /// When an authorization server whose metadata is needed cannot be reached (or
    /// serves no usable metadata) at [`McpOAuth::discover`]: `false` (the default)
    /// makes `discover` fail, naming each URL tried and why; `true` lets it succeed and
    /// keeps retrying in the background, with back-off from 1 s to 60 s, while requests
    /// that need that server get a 503. (`MCP_OAUTH_DISCOVERY_RETRY`: `true` or `false`)
    ///
    /// ```
    /// let builder = mcp_oauth::McpOAuth::builder().retry_discovery_in_background(true);
    /// # let _ = builder;
    /// ```
    pub fn retry_discovery_in_background(mut self, retry: bool) -> Self {
        self.retry_discovery = retry;
        self
    }

    /// Serves the latest [`StartupReport`](crate::StartupReport) as JSON at this path, to
    /// requests with a valid token (and the required scopes) only, and redacted: each
    /// finding's check and severity without its message, whose error text can name
    /// internal hosts. Off by default. (`MCP_OAUTH_DIAGNOSTICS_PATH`)
    ///
    /// ```
    /// # use mcp_oauth::testing::TestAuthServer;
    /// use actix_web::{App, test};
    ///
    /// # let auth = TestAuthServer::start();
    /// let resource = "http://127.0.0.1:8080/mcp";
    /// let oauth = auth
    ///     .configure(resource)
    ///     .diagnostics_path("/.well-known/mcp-oauth/report")
    ///     .build()?;
    /// let token = auth.token().audience(resource).sign();
    /// actix_web::rt::System::new().block_on(async {
    ///     oauth.discover().await?;
    ///     let app = test::init_service(App::new().wrap(oauth)).await;
    ///     let anonymous = test::TestRequest::get().uri("/.well-known/mcp-oauth/report");
    ///     assert_eq!(test::call_service(&app, anonymous.to_request()).await.status(), 401);
    ///     let req = test::TestRequest::get()
    ///         .uri("/.well-known/mcp-oauth/report")
    ///         .insert_header(("authorization", format!("Bearer {token}")))
    ///         .to_request();
    ///     let report: serde_json::Value = test::call_and_read_body_json(&app, req).await;
    ///     assert_eq!(report["authorization_servers"][0]["status"], "ready");
    ///     Ok::<_, Box<dyn std::error::Error>>(())
    /// })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn diagnostics_path(mut self, path: impl Into<String>) -> Self {
        self.diagnostics_path = Some(path.into());
        self
    }

    /// Checks everything and builds the middleware. Does no I/O: metadata and keys are
    /// fetched by [`McpOAuth::discover`] or on first use, and the last good keys keep
    /// serving when a refresh fails.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let err = mcp_oauth::McpOAuth::builder()
    ///     .resource("http://mcp.example.com/mcp") // not https
    ///     .leeway(Duration::from_secs(900))
    ///     .build()
    ///     .unwrap_err();
    /// let settings: Vec<&str> = err.problems().iter().map(|p| p.setting()).collect();
    /// assert_eq!(settings, [
    ///     "MCP_OAUTH_RESOURCE",
    ///     "MCP_OAUTH_AUTHORIZATION_SERVERS",
    ///     "MCP_OAUTH_LEEWAY_SECS",
    /// ]);
    /// ```
    ///
    /// # Errors
    /// A [`ConfigError`] listing every problem found.
    pub fn build(self) -> Result<McpOAuth, ConfigError> {
        let mut problems = self.problems.clone();
        let mut problem = |setting: &'static str, message: String| {
            problems.push(ConfigProblem::new(setting, message))
        };

        // Resource (RFC 9728 §1.2, MCP authorization §Canonical Server URI).
        let resource = match &self.resource {
            None => {
                problem(
                    "MCP_OAUTH_RESOURCE",
                    "required: the absolute URL of the MCP endpoint".into(),
                );
                None
            }
            Some(r) => match secure_url(r) {
                Ok(url) => {
                    if url.query().is_some() {
                        tracing::warn!(target: "mcp_oauth", resource = %r, "the resource identifier SHOULD NOT have a query (RFC 8707 §2)");
                    }
                    Some(r.clone())
                }
                Err(e) => {
                    problem("MCP_OAUTH_RESOURCE", e);
                    None
                }
            },
        };

        // Authorization servers (MCP authorization §Authorization Server Location) and the
        // issuer the top-level endpoints belong to.
        let issuers: Vec<&str> = self
            .authorization_servers
            .iter()
            .map(|s| s.issuer.as_str())
            .collect();
        if issuers.is_empty() {
            problem(
                "MCP_OAUTH_AUTHORIZATION_SERVERS",
                "required: at least one authorization server issuer URL".into(),
            );
        }
        for (i, issuer) in issuers.iter().enumerate() {
            match secure_url(issuer) {
                Ok(url) if url.query().is_some() => problem(
                    "MCP_OAUTH_AUTHORIZATION_SERVERS",
                    format!("`{issuer}`: an issuer has no query"),
                ),
                Ok(_) => {}
                Err(e) => problem("MCP_OAUTH_AUTHORIZATION_SERVERS", e),
            }
            if issuers[..i].contains(issuer) {
                problem(
                    "MCP_OAUTH_AUTHORIZATION_SERVERS",
                    format!("`{issuer}` is listed twice"),
                );
            }
        }
        let top_level_endpoints = self.jwks_uri.is_some()
            || self.hs256_secret.is_some()
            || self.introspection_endpoint.is_some()
            || !self.opaque_token_prefixes.is_empty();
        let issuer = match (&self.issuer, issuers.as_slice()) {
            (Some(i), servers) => {
                if !servers.is_empty() && !servers.contains(&i.as_str()) {
                    problem(
                        "MCP_OAUTH_ISSUER",
                        format!("`{i}` is not one of the authorization servers advertised"),
                    );
                }
                Some(i.clone())
            }
            (None, [one]) => Some((*one).to_owned()),
            (None, [_, _, ..]) if top_level_endpoints => {
                problem(
                    "MCP_OAUTH_ISSUER",
                    "required when several authorization servers are configured: it names \
                     the one MCP_OAUTH_JWKS_URI, MCP_OAUTH_HS256_SECRET, \
                     MCP_OAUTH_INTROSPECTION_ENDPOINT or MCP_OAUTH_OPAQUE_TOKEN_PREFIX \
                     belongs to"
                        .into(),
                );
                None
            }
            (None, _) => None,
        };

        // Scopes.
        for (setting, scopes) in [
            ("MCP_OAUTH_REQUIRED_SCOPES", &self.required_scopes),
            ("MCP_OAUTH_SCOPES_SUPPORTED", &self.scopes_supported),
        ] {
            for s in scopes.iter().filter(|s| !scope::is_scope_token(s)) {
                problem(
                    setting,
                    format!("`{s}` is not a scope token (RFC 6749 §3.3)"),
                );
            }
        }

        for (what, rules) in [
            ("require_scope_for_method", &self.method_scopes),
            ("require_scope_for_tool", &self.tool_scopes),
        ] {
            for (name, rule) in rules {
                if name.is_empty() || rule.scopes.is_empty() {
                    problem(
                        what,
                        format!("`{name}` needs a name and at least one scope"),
                    );
                }
                for s in rule.scopes.iter().filter(|s| !scope::is_scope_token(s)) {
                    problem(what, format!("`{s}` is not a scope token (RFC 6749 §3.3)"));
                }
            }
        }
        for p in self.mcp_endpoints.iter().filter(|p| !p.starts_with('/')) {
            problem("mcp_endpoint", format!("`{p}` must start with `/`"));
        }
        if self.leeway > MAX_LEEWAY {
            problem(
                "MCP_OAUTH_LEEWAY_SECS",
                format!(
                    "{} s is more than the maximum of {} s",
                    self.leeway.as_secs(),
                    MAX_LEEWAY.as_secs()
                ),
            );
        }
        if let Some(Err(e)) = self.resource_documentation.as_deref().map(secure_url) {
            problem("MCP_OAUTH_RESOURCE_DOCUMENTATION", e);
        }
        for p in &self.public_paths {
            if !p.starts_with('/') || p == "/" {
                problem(
                    "MCP_OAUTH_PUBLIC_PATHS",
                    format!("`{p}` must start with `/` and not be the root"),
                );
            }
        }
        if self.max_token_bytes == 0 {
            problem("max_token_bytes", "must be more than zero".into());
        }
        if self.introspection_limits.max_concurrent == 0 {
            problem(
                "MCP_OAUTH_INTROSPECTION_MAX_CONCURRENT",
                "must be more than zero".into(),
            );
        }
        if self.cache_max_entries == 0 {
            problem(
                "MCP_OAUTH_CACHE_MAX_ENTRIES",
                "must be more than zero (a TTL of 0 turns the cache off)".into(),
            );
        }

        if self
            .audiences
            .iter()
            .chain(self.authorization_servers.iter().flat_map(|s| &s.audiences))
            .any(|a| a.trim().is_empty())
        {
            problem("MCP_OAUTH_AUDIENCE", "an audience cannot be empty".into());
        }
        if let Some(p) = &self.diagnostics_path
            && (!p.starts_with('/') || p == "/")
        {
            problem(
                "MCP_OAUTH_DIAGNOSTICS_PATH",
                format!("`{p}` must start with `/` and not be the root"),
            );
        }

        // How tokens are judged: each authorization server by itself, unless the
        // application brings its own validator.
        let epoch = KeyEpoch::default();
        let authorities = Arc::new(Authorities {
            list: self
                .authorization_servers
                .iter()
                .map(|server| {
                    self.authority(
                        server,
                        issuer.as_deref(),
                        resource.as_deref(),
                        &epoch,
                        &mut problem,
                    )
                })
                .collect(),
        });
        let validator: Arc<dyn TokenValidator> = match &self.validator {
            Some(ValidatorSlot(v)) => v.clone(),
            None => authorities.clone(),
        };

        // The same problem found for several authorization servers is reported once.
        let mut unique: Vec<ConfigProblem> = Vec::with_capacity(problems.len());
        for p in problems {
            if !unique.contains(&p) {
                unique.push(p);
            }
        }
        let (Some(resource), true) = (resource, unique.is_empty()) else {
            return Err(ConfigError::new(unique));
        };
        // The cache wraps whichever validator judges the tokens.
        let cache = (!self.cache_ttl.is_zero()).then(|| {
            Arc::new(CachedValidator::new(
                validator.clone(),
                self.cache_ttl,
                self.cache_max_entries,
                epoch.clone(),
            ))
        });
        // scopes_supported: required, configured, and those guards and per-method/per-tool
        // rules use (the scopes a client needs to use this server; nothing more).
        let policy = self.mcp_policy();
        let mut supported = self.required_scopes.clone();
        let mut extra: Vec<String> = self.scopes_supported.clone();
        extra.extend(crate::guard::guarded_scopes().map(str::to_owned));
        for rule in policy
            .methods
            .values()
            .chain(policy.tools.values())
            .flatten()
        {
            extra.extend(rule.scopes.iter().cloned());
        }
        scope::extend_unique(&mut supported, extra.iter().map(String::as_str));
        let issuers: Vec<String> = issuers.iter().map(|i| (*i).to_owned()).collect();
        let document = MetadataDocument {
            resource: &resource,
            authorization_servers: &issuers,
            scopes_supported: &supported,
            bearer_methods_supported: ["header"],
            resource_name: self.resource_name.as_deref(),
            resource_documentation: self.resource_documentation.as_deref(),
        };
        let protected = ProtectedResource::new(
            &resource,
            &document,
            self.required_scopes.clone(),
            &supported,
        )
        .with_scope_hierarchy(self.scope_hierarchy);
        Ok(McpOAuth::from_inner(Inner {
            resource: Arc::new(protected),
            validator,
            cache,
            // `/health/` and `/health` mean the same subtree.
            public_paths: self
                .public_paths
                .iter()
                .map(|p| p.trim_end_matches('/').to_owned())
                .collect(),
            max_token_bytes: self.max_token_bytes,
            expose_token: self.expose_token,
            policy,
            sessions: self
                .session_binding
                .then(|| SessionOwners::new(DEFAULT_MAX_SESSIONS)),
            authorities,
            retry_discovery: self.retry_discovery,
            diagnostics_path: self.diagnostics_path.clone(),
        }))
    }

    /// The MCP-aware policy: configured rules, tools registered by `#[require_scope]`,
    /// and the bounds on reading bodies.
    fn mcp_policy(&self) -> McpPolicy {
        let mut policy = McpPolicy {
            max_body: self.max_mcp_body_bytes,
            limits: self.mcp_body_limits,
            body_timeout: self.body_timeout,
            ..McpPolicy::default()
        }
        .with_guarded_tools();
        for (method, r) in &self.method_scopes {
            policy
                .methods
                .entry(method.clone())
                .or_default()
                .push(r.clone());
        }
        for (tool, r) in &self.tool_scopes {
            policy
                .tools
                .entry(tool.clone())
                .or_default()
                .push(r.clone());
        }
        policy
    }

    /// The built-in JWT strategy, or `None` with problems recorded.
    /// One authorization server's validators and discovery, from its own settings, the
    /// builder's defaults and, for the [`issuer`](Self::issuer), the top-level endpoints.
    fn authority(
        &self,
        server: &AuthorizationServer,
        keys_issuer: Option<&str>,
        resource: Option<&str>,
        epoch: &KeyEpoch,
        problem: &mut impl FnMut(&'static str, String),
    ) -> Authority {
        let ours = keys_issuer == Some(server.issuer.as_str());
        let top = |value: &Option<String>| if ours { value.clone() } else { None };
        let jwks_uri = server.jwks_uri.clone().or_else(|| top(&self.jwks_uri));
        let secret = if ours {
            self.hs256_secret.clone()
        } else {
            None
        };
        let introspection_endpoint = server
            .introspection_endpoint
            .clone()
            .or_else(|| top(&self.introspection_endpoint));
        let prefixes = match (&server.opaque_token_prefixes, ours) {
            (own, _) if !own.is_empty() => own.clone(),
            (_, true) => self.opaque_token_prefixes.clone(),
            (_, false) => Vec::new(),
        };
        // A custom validator judges every token: nothing here is needed then.
        let judging = self.validator.is_none();
        let verifies_jwts = judging && self.validation.verifies_jwts();
        let introspects = judging && self.validation.introspects();

        for (setting, uri) in [
            ("MCP_OAUTH_JWKS_URI", &jwks_uri),
            ("MCP_OAUTH_INTROSPECTION_ENDPOINT", &introspection_endpoint),
        ] {
            if let Some(Err(e)) = uri.as_deref().map(secure_url) {
                problem(setting, e);
            }
        }
        if !self.validation.verifies_jwts() && (jwks_uri.is_some() || secret.is_some()) {
            problem(
                if secret.is_some() {
                    "MCP_OAUTH_HS256_SECRET"
                } else {
                    "MCP_OAUTH_JWKS_URI"
                },
                "not used by the `introspection` validation (use `hybrid` to verify JWTs too)"
                    .into(),
            );
        }
        if !prefixes.is_empty() && !self.validation.introspects() {
            problem(
                "MCP_OAUTH_OPAQUE_TOKEN_PREFIX",
                "only used when tokens are introspected (`introspection` or `hybrid`)".into(),
            );
        }
        // RFC 6750 §2.1: a bearer token is b64token characters (`=` only at its end).
        for p in prefixes.iter().filter(|p| {
            p.is_empty()
                || !p
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
        }) {
            problem(
                "MCP_OAUTH_OPAQUE_TOKEN_PREFIX",
                format!(
                    "`{p}`: a prefix is one or more token characters (letters, digits, -._~+/; RFC 6750 §2.1)"
                ),
            );
        }
        if jwks_uri.is_some() && secret.is_some() {
            problem(
                "MCP_OAUTH_HS256_SECRET",
                "set either a JWKS URI or a shared secret, not both (RFC 8725 §2.1)".into(),
            );
        }

        // The resource is always an accepted audience; configured ones are added to it.
        let mut audiences: Vec<String> = resource.iter().map(|r| (*r).to_owned()).collect();
        scope::extend_unique(
            &mut audiences,
            self.audiences
                .iter()
                .chain(&server.audiences)
                .map(String::as_str),
        );

        let discovery = Arc::new(Discovery::new(
            server.issuer.clone(),
            Needs {
                jwks: verifies_jwts && secret.is_none(),
                jwks_uri: jwks_uri.clone().filter(|_| verifies_jwts),
                introspection: introspects,
                introspection_endpoint: introspection_endpoint.clone().filter(|_| introspects),
                introspection_auth: self.introspection_auth.as_str(),
                resource: resource.map(str::to_owned),
            },
            self.strictness,
            self.jwks.limits,
        ));

        let jwt = verifies_jwts.then(|| {
            let keys = match (&secret, &jwks_uri) {
                (Some(secret), _) => {
                    if secret.0.len() < MIN_HS256_SECRET_BYTES {
                        problem(
                            "MCP_OAUTH_HS256_SECRET",
                            format!(
                                "must be at least {MIN_HS256_SECRET_BYTES} bytes (RFC 7518 §3.2)"
                            ),
                        );
                    }
                    KeySource::Secret(DecodingKey::from_secret(&secret.0))
                }
                (None, Some(uri)) => KeySource::Jwks(Arc::new(JwksCache::new(
                    uri.clone(),
                    self.jwks,
                    epoch.clone(),
                ))),
                (None, None) => KeySource::Discovered {
                    discovery: discovery.clone(),
                    cache: std::sync::OnceLock::new(),
                    settings: self.jwks,
                    epoch: epoch.clone(),
                },
            };
            let symmetric = secret.is_some();
            let algorithms = match server.algorithms.as_ref().or(self.algorithms.as_ref()) {
                Some(list) => list.clone(),
                None if symmetric => vec![Algorithm::HS256],
                None => jwt::DEFAULT_ALGORITHMS.to_vec(),
            };
            if algorithms.is_empty() {
                problem(
                    "MCP_OAUTH_ALGORITHMS",
                    "at least one algorithm is required".into(),
                );
            }
            for alg in &algorithms {
                if jwt::is_hmac(*alg) != symmetric {
                    let why = if symmetric {
                        "only HS256, HS384 or HS512 can be used with a shared secret"
                    } else {
                        "HS* algorithms need a shared secret and are never accepted with JWKS keys"
                    };
                    problem("MCP_OAUTH_ALGORITHMS", format!("{alg:?}: {why}"));
                }
            }
            JwtValidator {
                issuer: server.issuer.clone(),
                audiences: audiences.clone(),
                algorithms,
                leeway_secs: self.leeway.as_secs(),
                typ: self.typ,
                scope_claim: self.scope_claim.clone(),
                keys,
            }
        });

        let introspection = if introspects {
            let credentials = match (
                &server.introspection_client,
                &self.introspection_client_id,
                &self.introspection_client_secret,
            ) {
                (Some((id, secret)), _, _) => Some((id.clone(), secret.clone())),
                (None, Some(id), Some(secret)) => Some((id.clone(), secret.clone())),
                (None, Some(_), None) => {
                    problem(
                        "MCP_OAUTH_INTROSPECTION_CLIENT_SECRET",
                        "required with MCP_OAUTH_INTROSPECTION_CLIENT_ID".into(),
                    );
                    None
                }
                (None, None, _) => {
                    problem(
                        "MCP_OAUTH_INTROSPECTION_CLIENT_ID",
                        "required to introspect tokens: the authorization server must \
                         authenticate this resource server (RFC 7662 §2.1)"
                            .into(),
                    );
                    None
                }
            };
            credentials.map(|(id, secret)| Introspector {
                issuer: server.issuer.clone(),
                endpoint: introspection_endpoint,
                discovery: discovery.clone(),
                client: ClientCredentials {
                    id,
                    secret,
                    method: self.introspection_auth,
                },
                audiences,
                leeway_secs: self.leeway.as_secs(),
                scope_claim: self.scope_claim.clone(),
                limits: self.jwks.limits,
                prefixes,
                refused: RefusedCache::new(self.introspection_limits.negative_ttl),
                calls: CallLimit::new(self.introspection_limits.max_concurrent),
            })
        } else {
            None
        };

        Authority {
            discovery,
            jwt,
            introspection,
        }
    }
}
