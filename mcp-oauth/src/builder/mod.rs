//! [`McpOAuthBuilder`]: every setting, its default, and the one `build()` that checks
//! them all and reports every problem at once.
//!
//! The setters are grouped by concern, one file each (`resource`, `tokens`, `cache`,
//! `introspection`, `policy`, `discovery`); `build` turns the settings into the
//! middleware; `env` reads them from `MCP_OAUTH_*` variables; `authorization_server`
//! holds one issuer's own settings; `error` is what `build` reports. Dependencies point
//! one way: the builder knows every part of the crate, no part knows the builder.

mod api_keys;
mod authorization_server;
mod build;
mod cache;
mod discovery;
mod dpop;
mod env;
mod error;
mod introspection;
mod origins;
mod policy;
mod provider;
mod rate_limits;
mod resource;
mod revocation;
mod shared;
mod tokens;
mod variables;
mod vars;

pub use authorization_server::AuthorizationServer;
pub use error::{ConfigError, ConfigProblem};
pub use variables::ENV_VARIABLES;

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::Algorithm;

use crate::bearer::DEFAULT_MAX_TOKEN_BYTES;
use crate::body::DEFAULT_BODY_TIMEOUT;
use crate::discovery::report::Strictness;
use crate::layer::McpOAuth;
use crate::policy::jsonrpc::BodyLimits;
use crate::policy::{DEFAULT_MAX_BODY_BYTES, Requirement};
use crate::secret::Secret;
use crate::validate::TokenValidator;
use crate::validate::cache::{DEFAULT_CACHE_MAX_ENTRIES, DEFAULT_CACHE_TTL};
use crate::validate::introspection::{ClientAuthMethod, IntrospectionLimits};
use crate::validate::jwks::JwksSettings;
use crate::validate::jwt::TypPolicy;
use crate::validate::router::Validation;

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
    /// (listed in [`ENV_VARIABLES`]; each may also be given as
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
    /// Origins allowed besides the resource's own (`origin.rs`).
    pub(crate) allowed_origins: Vec<String>,
    pub(crate) validator: Option<ValidatorSlot>,
    pub(crate) jwks: JwksSettings,
    pub(crate) max_token_bytes: usize,
    pub(crate) expose_token: bool,
    /// Per JSON-RPC method and per tool requirements.
    pub(crate) method_scopes: Vec<(String, Requirement)>,
    pub(crate) tool_scopes: Vec<(String, Requirement)>,
    pub(crate) prompt_scopes: Vec<(String, Requirement)>,
    /// Per resource URI pattern (exact, or a prefix ending in `*`).
    pub(crate) resource_scopes: Vec<(String, Requirement)>,
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
    /// API keys accepted beside OAuth tokens, and the prefix that routes a token to them.
    pub(crate) api_keys: Vec<crate::validate::api_key::ApiKey>,
    pub(crate) api_key_prefix: String,
    /// Static development tokens (loopback resources only).
    pub(crate) dev_tokens: Vec<api_keys::DevToken>,
    /// Rate limits (`limit/`): all off by default.
    pub(crate) rate_limits: crate::limit::RateLimitSettings,
    /// Which schemes are accepted (RFC 9449 §7) and the proof `iat` window.
    pub(crate) dpop: crate::DpopMode,
    pub(crate) dpop_window: Duration,
    /// Whether an unbound token is accepted with the `DPoP` scheme (and a good proof).
    pub(crate) dpop_accept_unbound: bool,
    /// Server-provided DPoP nonces (RFC 9449 §9): on or off, the key a fleet shares, and
    /// how long one is accepted.
    pub(crate) dpop_nonce: bool,
    pub(crate) dpop_nonce_secret: Option<crate::secret::Secret>,
    pub(crate) dpop_nonce_lifetime: Duration,
    /// What the instances of a fleet share (`None`: nothing; this process alone).
    pub(crate) shared: Option<crate::SharedState>,
    /// The longest a revocation is remembered.
    pub(crate) revocation_ttl: Duration,
    /// Problems found while reading the environment, reported by `build()`.
    pub(crate) problems: Vec<ConfigProblem>,
    /// Whether a provider preset was selected (its problems then explain a missing
    /// authorization server).
    pub(crate) preset: bool,
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
            allowed_origins: Vec::new(),
            validator: None,
            jwks: JwksSettings::default(),
            max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
            expose_token: false,
            method_scopes: Vec::new(),
            tool_scopes: Vec::new(),
            prompt_scopes: Vec::new(),
            resource_scopes: Vec::new(),
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
            api_keys: Vec::new(),
            api_key_prefix: crate::validate::api_key::DEFAULT_API_KEY_PREFIX.to_owned(),
            dev_tokens: Vec::new(),
            rate_limits: crate::limit::RateLimitSettings::default(),
            dpop: crate::DpopMode::default(),
            dpop_window: crate::DEFAULT_DPOP_WINDOW,
            dpop_accept_unbound: false,
            dpop_nonce: false,
            dpop_nonce_secret: None,
            dpop_nonce_lifetime: crate::validate::dpop::nonce::DEFAULT_NONCE_LIFETIME,
            shared: None,
            revocation_ttl: crate::validate::revoked::DEFAULT_REVOCATION_TTL,
            problems: Vec::new(),
            preset: false,
        }
    }
}
