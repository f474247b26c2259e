//! [`AuthorizationServer`]: one trusted issuer and its own settings, for resources that
//! accept tokens from several authorization servers.

use jsonwebtoken::Algorithm;

use crate::secret::Secret;
use crate::validate::profile::ClaimRules;

/// An authorization server this resource trusts: its issuer identifier and, where it
/// differs from the defaults, its own endpoints, audiences, algorithms and introspection
/// credentials. Whatever is not set is discovered (endpoints) or taken from the
/// [`McpOAuthBuilder`](crate::McpOAuthBuilder) (everything else).
///
/// A plain issuer string converts into one, so
/// `.authorization_server("https://auth.example.com")` works too.
///
/// ```
/// use mcp_oauth::{Algorithm, AuthorizationServer, McpOAuth};
///
/// let oauth = McpOAuth::builder()
///     .resource("https://mcp.example.com/mcp")
///     // Everything discovered from the issuer's metadata.
///     .authorization_server("https://login.example.com")
///     // A second issuer, with its own audience and algorithms.
///     .authorization_server(
///         AuthorizationServer::new("https://sts.partner.example")
///             .audience("api://mcp")
///             .algorithms([Algorithm::ES256]),
///     )
///     .build()?;
/// # let _ = oauth;
/// # Ok::<(), mcp_oauth::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct AuthorizationServer {
    pub(crate) issuer: String,
    pub(crate) jwks_uri: Option<String>,
    pub(crate) introspection_endpoint: Option<String>,
    pub(crate) audiences: Vec<String>,
    pub(crate) algorithms: Option<Vec<Algorithm>>,
    pub(crate) introspection_client: Option<(String, Secret)>,
    pub(crate) opaque_token_prefixes: Vec<String>,
    /// A provider preset's claim rules for this issuer's tokens (default: none).
    pub(crate) rules: ClaimRules,
}

impl AuthorizationServer {
    /// An authorization server by its issuer identifier: what its metadata's `issuer`
    /// and its tokens' `iss` say, code point for code point.
    ///
    /// ```
    /// let server = mcp_oauth::AuthorizationServer::new("https://auth.example.com");
    /// assert_eq!(server.issuer(), "https://auth.example.com");
    /// ```
    pub fn new(issuer: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            jwks_uri: None,
            introspection_endpoint: None,
            audiences: Vec::new(),
            algorithms: None,
            introspection_client: None,
            opaque_token_prefixes: Vec::new(),
            rules: ClaimRules::default(),
        }
    }

    /// The issuer identifier.
    ///
    /// ```
    /// let server: mcp_oauth::AuthorizationServer = "https://auth.example.com".into();
    /// assert_eq!(server.issuer(), "https://auth.example.com");
    /// ```
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// This issuer's JWKS, instead of the metadata's `jwks_uri`.
    ///
    /// ```
    /// let server = mcp_oauth::AuthorizationServer::new("https://auth.example.com")
    ///     .jwks_uri("https://auth.example.com/keys");
    /// # let _ = server;
    /// ```
    pub fn jwks_uri(mut self, uri: impl Into<String>) -> Self {
        self.jwks_uri = Some(uri.into());
        self
    }

    /// This issuer's introspection endpoint, instead of the metadata's
    /// `introspection_endpoint`.
    ///
    /// ```
    /// let server = mcp_oauth::AuthorizationServer::new("https://auth.example.com")
    ///     .introspection_endpoint("https://auth.example.com/oauth2/introspect");
    /// # let _ = server;
    /// ```
    pub fn introspection_endpoint(mut self, uri: impl Into<String>) -> Self {
        self.introspection_endpoint = Some(uri.into());
        self
    }

    /// An audience accepted in this issuer's tokens, besides the resource and the
    /// builder's [`audience`](crate::McpOAuthBuilder::audience)s.
    ///
    /// ```
    /// let server = mcp_oauth::AuthorizationServer::new("https://login.microsoftonline.com/t/v2.0")
    ///     .audience("api://mcp-server");
    /// # let _ = server;
    /// ```
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// The algorithms accepted in this issuer's tokens, instead of the builder's
    /// [`algorithms`](crate::McpOAuthBuilder::algorithms).
    ///
    /// ```
    /// use mcp_oauth::{Algorithm, AuthorizationServer};
    ///
    /// let server = AuthorizationServer::new("https://auth.example.com").algorithms([Algorithm::EdDSA]);
    /// # let _ = server;
    /// ```
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algorithms = Some(algorithms.into_iter().collect());
        self
    }

    /// The client credentials this resource introspects with at this issuer, instead of
    /// the builder's [`introspection_client`](crate::McpOAuthBuilder::introspection_client).
    ///
    /// ```
    /// let secret = std::env::var("PARTNER_SECRET").unwrap_or_default();
    /// let server = mcp_oauth::AuthorizationServer::new("https://sts.partner.example")
    ///     .introspection_client("mcp-resource", secret);
    /// assert!(!format!("{server:?}").contains("PARTNER_SECRET"));
    /// ```
    pub fn introspection_client(
        mut self,
        client_id: impl Into<String>,
        secret: impl AsRef<[u8]>,
    ) -> Self {
        self.introspection_client = Some((client_id.into(), Secret(secret.as_ref().to_vec())));
        self
    }

    /// A prefix every opaque token of this issuer starts with (e.g. `at_`), instead of the
    /// builder's [`opaque_token_prefix`](crate::McpOAuthBuilder::opaque_token_prefix); call
    /// again for several. An opaque token is then introspected only by the issuers whose
    /// prefix it has, or, when it has none of theirs, by the issuers that declared no
    /// prefix: with a prefix on every issuer, a token that matches none is a 401 without
    /// any introspection call. JWTs are routed by their `iss`, not by prefix.
    ///
    /// ```
    /// use mcp_oauth::{AuthorizationServer, McpOAuth, Validation};
    ///
    /// let oauth = McpOAuth::builder()
    ///     .resource("https://mcp.example.com/mcp")
    ///     .validation(Validation::Introspection)
    ///     .introspection_client("mcp-resource", "a secret from a file")
    ///     .authorization_server(AuthorizationServer::new("https://login.example.com").opaque_token_prefix("lgn_"))
    ///     .authorization_server(AuthorizationServer::new("https://sts.partner.example").opaque_token_prefix("ptr_"))
    ///     .build()?;
    /// // `lgn_…` goes to login.example.com only, `ptr_…` to the partner only, `xyz…` nowhere.
    /// # let _ = oauth;
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn opaque_token_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.opaque_token_prefixes.push(prefix.into());
        self
    }
}

impl From<&str> for AuthorizationServer {
    fn from(issuer: &str) -> Self {
        Self::new(issuer)
    }
}

impl From<String> for AuthorizationServer {
    fn from(issuer: String) -> Self {
        Self::new(issuer)
    }
}

impl From<&String> for AuthorizationServer {
    fn from(issuer: &String) -> Self {
        Self::new(issuer.clone())
    }
}
