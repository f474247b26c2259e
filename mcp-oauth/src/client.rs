//! [`AuthenticatedClient`]: who is calling, as the middleware proved it.

use std::future::{Ready, ready};
use std::sync::Arc;
use std::time::SystemTime;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

#[cfg(feature = "rmcp")]
use crate::names::Kind;
use crate::names::Rules;
use crate::refusal::{AuthError, Refusal};
use crate::resource::ProtectedResource;
use crate::validate::claims::{Credential, VerifiedClaims};

/// The caller of a request the [`McpOAuth`](crate::McpOAuth) middleware admitted.
///
/// An actix extractor: take it as a handler argument. It can only be made by the
/// middleware or by [`McpOAuth::authenticate`](crate::McpOAuth::authenticate), so
/// holding one proves the token was validated.
///
/// ```
/// use actix_web::HttpResponse;
/// use mcp_oauth::{AuthError, AuthenticatedClient};
///
/// async fn delete_file(client: AuthenticatedClient) -> Result<HttpResponse, AuthError> {
///     client.require_scopes(&["files:delete"])?; // 403 step-up challenge when missing
///     Ok(HttpResponse::Ok().body(format!("deleted by {}", client.subject().unwrap_or("?"))))
/// }
/// ```
///
/// Used on a route the middleware does not wrap, it answers 500 and logs why: a
/// missing middleware is a server bug, not the client's missing credentials.
#[derive(Clone)]
pub struct AuthenticatedClient {
    inner: Arc<ClientInner>,
}

struct ClientInner {
    /// Shared with the validation cache: a cache hit clones no claims.
    claims: Arc<VerifiedClaims>,
    resource: Arc<ProtectedResource>,
    /// Present only with `expose_token_to_handlers(true)`.
    token: Option<BearerToken>,
    /// The middleware's per-method and per-name rules, for the list filter.
    #[cfg_attr(not(feature = "rmcp"), allow(dead_code))]
    rules: Arc<Rules>,
    /// The RFC 7638 thumbprint of the DPoP key the request proved it holds.
    dpop_thumbprint: Option<String>,
}

/// The raw bearer token, for the rare handler that must exchange it (RFC 8693).
/// Its `Debug` never prints it.
///
/// Handlers get one only with
/// [`expose_token_to_handlers(true)`](crate::McpOAuthBuilder::expose_token_to_handlers):
///
/// ```
/// # use mcp_oauth::testing::TestAuthServer;
/// # let auth = TestAuthServer::start();
/// let resource = "http://127.0.0.1:8080/mcp";
/// let oauth = auth.configure(resource).expose_token_to_handlers(true).build()?;
/// let token = auth.token().audience(resource).sign();
/// let client = actix_web::rt::System::new().block_on(oauth.authenticate(&token))?;
///
/// let bearer = client.bearer_token().expect("exposed");
/// assert_eq!(format!("{bearer:?}"), "BearerToken(..)");
/// assert_eq!(bearer.secret(), token);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct BearerToken(String);

impl BearerToken {
    /// The token itself. Never log it, never forward it to another API.
    ///
    /// ```
    /// # use mcp_oauth::AuthenticatedClient;
    /// /// The form of an RFC 8693 token exchange, to post to the authorization server.
    /// fn exchange_form(client: &AuthenticatedClient) -> Option<Vec<(&'static str, &str)>> {
    ///     Some(vec![
    ///         ("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange"),
    ///         ("subject_token", client.bearer_token()?.secret()),
    ///         ("subject_token_type", "urn:ietf:params:oauth:token-type:access_token"),
    ///     ])
    /// }
    /// ```
    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BearerToken(..)")
    }
}

impl AuthenticatedClient {
    pub(crate) fn new(
        claims: Arc<VerifiedClaims>,
        resource: Arc<ProtectedResource>,
        token: Option<String>,
        rules: Arc<Rules>,
        dpop_thumbprint: Option<String>,
    ) -> Self {
        Self {
            inner: Arc::new(ClientInner {
                claims,
                resource,
                token: token.map(BearerToken),
                rules,
                dpop_thumbprint,
            }),
        }
    }

    /// Whether the request was sender-constrained: it came with the `DPoP` scheme, a valid
    /// proof, and a token bound to the proof's key (RFC 9449 §7.1).
    ///
    /// ```
    /// # use mcp_oauth::testing::TestAuthServer;
    /// # let auth = TestAuthServer::start();
    /// let resource = "http://127.0.0.1:8080/mcp";
    /// let oauth = auth.configure(resource).build()?;
    /// let token = auth.token().audience(resource).sign();
    /// let client = actix_web::rt::System::new().block_on(oauth.authenticate(&token))?;
    /// assert!(!client.is_sender_constrained());
    /// assert_eq!(client.dpop_thumbprint(), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_sender_constrained(&self) -> bool {
        self.inner.dpop_thumbprint.is_some()
    }

    /// The RFC 7638 SHA-256 thumbprint of the DPoP key the request proved it holds (the
    /// token's `cnf.jkt`), for a sender-constrained request.
    ///
    /// ```
    /// # fn f(client: mcp_oauth::AuthenticatedClient) {
    /// if let Some(jkt) = client.dpop_thumbprint() {
    ///     assert_eq!(jkt.len(), 43);
    /// }
    /// # }
    /// ```
    pub fn dpop_thumbprint(&self) -> Option<&str> {
        self.inner.dpop_thumbprint.as_deref()
    }

    /// Whether the middleware would let this client use the tool, prompt or resource
    /// `name`: the rules of its method and its own (configured or `#[require_scope]`).
    #[cfg(feature = "rmcp")]
    pub(crate) fn may_use(&self, kind: Kind, name: &str) -> bool {
        let hierarchy = self.inner.resource.scope_hierarchy();
        self.inner
            .rules
            .allows(kind, name, self.scopes(), hierarchy)
    }

    /// Whether the middleware would let this client read some URI of the resource
    /// template `template` (see `Rules::allows_template`).
    #[cfg(feature = "rmcp")]
    pub(crate) fn may_use_template(&self, template: &str) -> bool {
        let hierarchy = self.inner.resource.scope_hierarchy();
        self.inner
            .rules
            .allows_template(template, self.scopes(), hierarchy)
    }

    /// `sub`: the resource owner (or the client, for client-credentials tokens).
    ///
    /// ```
    /// # use mcp_oauth::AuthenticatedClient;
    /// async fn whoami(client: AuthenticatedClient) -> String {
    ///     format!("hello {}", client.subject().unwrap_or("anonymous"))
    /// }
    /// ```
    pub fn subject(&self) -> Option<&str> {
        self.inner.claims.subject()
    }

    /// Who this is, for binding state such as MCP sessions to a caller: the issuer and
    /// the subject, or failing that the client id, each tagged with the claim it came
    /// from, so a client whose `client_id` equals a user's `sub` is not that user, and
    /// joined so that no two callers share one. A session created by one principal must
    /// not be used by another.
    ///
    /// `None` when the token names neither a subject nor a client: such a caller cannot
    /// be told apart from others with the same issuer, so it owns no state.
    ///
    /// An API key's principal is `api-key:<its principal>`, a development token's
    /// `dev-token:` and then what a token's would be: an OAuth principal starts with a
    /// digit, so none of them can be taken for another (an API key `ci-bot` is not the
    /// OAuth client `ci-bot`).
    ///
    /// ```
    /// # fn f(a: mcp_oauth::AuthenticatedClient, b: mcp_oauth::AuthenticatedClient) {
    /// let same_caller = a.principal().is_some() && a.principal() == b.principal();
    /// # let _ = same_caller; }
    /// ```
    ///
    /// It is the key for state kept across calls, too. MCP 2026-07-28 has no sessions:
    /// a server that remembers something hands out a handle passed back in later tool
    /// arguments (changelog, SEP-2567). Keep the state under `<principal>:<handle>` and a
    /// handle another caller guesses or is shown finds nothing. Give handles one fixed
    /// shape and refuse others, so that no (principal, handle) pair spells another's key:
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use mcp_oauth::AuthenticatedClient;
    ///
    /// /// A note, if this caller created it: handles are 32 lowercase hex digits.
    /// fn note(client: &AuthenticatedClient, notes: &HashMap<String, String>, handle: &str) -> Option<String> {
    ///     let well_formed = handle.len() == 32 && handle.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    ///     let key = format!("{}:{handle}", client.principal()?);
    ///     well_formed.then(|| notes.get(&key).cloned()).flatten()
    /// }
    /// ```
    pub fn principal(&self) -> Option<String> {
        let mut principal = String::new();
        self.inner.claims.write_principal(&mut principal)?.ok()?;
        Some(principal)
    }

    /// What the client presented: an OAuth access token, an API key or a development
    /// token.
    ///
    /// ```
    /// use mcp_oauth::{AuthenticatedClient, Credential};
    ///
    /// /// Machines with API keys may not manage users.
    /// fn may_manage_users(client: &AuthenticatedClient) -> bool {
    ///     client.credential() == Credential::AccessToken && client.has_scope("users:admin")
    /// }
    /// ```
    pub fn credential(&self) -> Credential {
        self.inner.claims.credential()
    }

    /// `client_id`, or `azp`.
    ///
    /// ```
    /// # use mcp_oauth::AuthenticatedClient;
    /// /// Rate limits apply per OAuth client, whoever the user is.
    /// fn rate_limit_key(client: &AuthenticatedClient) -> String {
    ///     format!("client:{}", client.client_id().unwrap_or("unknown"))
    /// }
    /// ```
    pub fn client_id(&self) -> Option<&str> {
        self.inner.claims.client_id()
    }

    /// The granted scopes, deduplicated, in token order.
    ///
    /// ```
    /// # use mcp_oauth::AuthenticatedClient;
    /// async fn my_scopes(client: AuthenticatedClient) -> String {
    ///     client.scopes().join(" ")
    /// }
    /// ```
    pub fn scopes(&self) -> &[String] {
        self.inner.claims.scopes()
    }

    /// `aud`, as a list.
    ///
    /// ```
    /// # use mcp_oauth::AuthenticatedClient;
    /// /// Was the token also issued for the files API (an extra accepted audience)?
    /// fn for_files_api(client: &AuthenticatedClient) -> bool {
    ///     client.audiences().iter().any(|aud| aud == "api://files")
    /// }
    /// ```
    pub fn audiences(&self) -> &[String] {
        self.inner.claims.audiences()
    }

    /// `iss` (with the built-in JWT strategy, always the configured issuer).
    ///
    /// ```
    /// # use mcp_oauth::AuthenticatedClient;
    /// fn audit_line(client: &AuthenticatedClient) -> String {
    ///     format!("{} via {}", client.subject().unwrap_or("?"), client.issuer().unwrap_or("?"))
    /// }
    /// ```
    pub fn issuer(&self) -> Option<&str> {
        self.inner.claims.issuer()
    }

    /// `exp`.
    ///
    /// ```
    /// # use mcp_oauth::AuthenticatedClient;
    /// use std::time::{Duration, SystemTime};
    ///
    /// /// Long jobs need a token that outlives them.
    /// fn valid_for_at_least(client: &AuthenticatedClient, job: Duration) -> bool {
    ///     client.expires_at().is_some_and(|exp| exp >= SystemTime::now() + job)
    /// }
    /// ```
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.inner.claims.expires_at()
    }

    /// Every claim of the token.
    ///
    /// ```
    /// # use mcp_oauth::AuthenticatedClient;
    /// /// The claim names, for a debugging endpoint (never the values: they may be personal).
    /// fn claim_names(client: &AuthenticatedClient) -> Vec<&str> {
    ///     client.claim_map().keys().map(String::as_str).collect()
    /// }
    /// ```
    pub fn claim_map(&self) -> &Map<String, Value> {
        self.inner.claims.claims()
    }

    /// One claim.
    ///
    /// ```
    /// # use mcp_oauth::AuthenticatedClient;
    /// fn tenant(client: &AuthenticatedClient) -> Option<&str> {
    ///     client.claim("tenant_id")?.as_str()
    /// }
    /// ```
    pub fn claim(&self, name: &str) -> Option<&Value> {
        self.inner.claims.claims().get(name)
    }

    /// The claims as your own type.
    ///
    /// ```
    /// # use mcp_oauth::testing::TestAuthServer;
    /// # let auth = TestAuthServer::start();
    /// # let resource = "http://127.0.0.1:8080/mcp";
    /// # let oauth = auth.configure(resource).build()?;
    /// let token = auth.token().audience(resource).claim("tenant_id", "acme".into()).sign();
    /// let client = actix_web::rt::System::new().block_on(oauth.authenticate(&token))?;
    ///
    /// #[derive(serde::Deserialize)]
    /// struct Tenant { tenant_id: String }
    /// let tenant: Tenant = client.claims()?;
    /// assert_eq!(tenant.tenant_id, "acme");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// When the claims do not deserialize into `T`.
    pub fn claims<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_value(Value::Object(self.inner.claims.claims().clone()))
    }

    /// Was `scope` granted? (Case-sensitive, RFC 6749 §3.3.)
    ///
    /// ```
    /// # use mcp_oauth::testing::TestAuthServer;
    /// # let auth = TestAuthServer::start();
    /// # let resource = "http://127.0.0.1:8080/mcp";
    /// # let oauth = auth.configure(resource).build()?;
    /// let token = auth.token().audience(resource).scope("files:read").sign();
    /// let client = actix_web::rt::System::new().block_on(oauth.authenticate(&token))?;
    ///
    /// assert!(client.has_scope("files:read"));
    /// assert!(!client.has_scope("Files:Read"));
    /// assert!(!client.has_scope("files:write"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn has_scope(&self, scope: &str) -> bool {
        crate::scope::grants(self.scopes(), scope, self.inner.resource.scope_hierarchy())
    }

    /// Succeeds when every scope in `scopes` was granted; otherwise an error that
    /// renders as 403 `insufficient_scope` with a step-up challenge naming what this
    /// request needs (the middleware's required scopes plus these), followed by the
    /// granted scopes the resource advertises, so the client does not lose them.
    ///
    /// ```
    /// # use mcp_oauth::testing::TestAuthServer;
    /// # let auth = TestAuthServer::start();
    /// let resource = "http://127.0.0.1:8080/mcp";
    /// let oauth = auth.configure(resource).required_scopes(["mcp"]).build()?;
    /// let token = auth.token().audience(resource).scope("mcp files:read").sign();
    /// let client = actix_web::rt::System::new().block_on(oauth.authenticate(&token))?;
    ///
    /// assert!(client.require_scopes(&["files:read"]).is_ok());
    /// let err = client.require_scopes(&["files:delete"]).unwrap_err();
    /// assert_eq!(err.refusal().status().as_u16(), 403);
    /// assert!(err.challenge().unwrap().to_str()?.contains(r#"scope="mcp files:delete""#));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// The 403 [`AuthError`].
    pub fn require_scopes(&self, scopes: &[&str]) -> Result<(), AuthError> {
        if scopes.iter().all(|s| self.has_scope(s)) {
            return Ok(());
        }
        Err(self.insufficient(scopes))
    }

    /// Succeeds when at least one scope in `scopes` was granted; otherwise the 403
    /// step-up error, whose challenge names all of them (any one would do).
    ///
    /// ```
    /// # fn f(client: mcp_oauth::AuthenticatedClient) -> Result<(), mcp_oauth::AuthError> {
    /// client.require_any_scope(&["files:write", "files:admin"])?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// The 403 [`AuthError`].
    pub fn require_any_scope(&self, scopes: &[&str]) -> Result<(), AuthError> {
        if scopes.is_empty() || scopes.iter().any(|s| self.has_scope(s)) {
            return Ok(());
        }
        Err(self.insufficient(scopes))
    }

    /// The 403 for this request: the middleware's required scopes plus `scopes`.
    fn insufficient(&self, scopes: &[&str]) -> AuthError {
        let mut required: Vec<String> = self.inner.resource.required_scopes().to_vec();
        crate::scope::extend_unique(&mut required, scopes.iter().copied());
        let hierarchy = self.inner.resource.scope_hierarchy();
        Refusal::insufficient_scope(required, self.scopes(), hierarchy)
            .for_resource(self.inner.resource.clone())
    }

    /// The raw token, only when the middleware was built with
    /// [`expose_token_to_handlers(true)`](crate::McpOAuthBuilder::expose_token_to_handlers).
    ///
    /// ```
    /// # use mcp_oauth::testing::TestAuthServer;
    /// # let auth = TestAuthServer::start();
    /// let resource = "http://127.0.0.1:8080/mcp";
    /// let oauth = auth.configure(resource).build()?; // the default: not exposed
    /// let token = auth.token().audience(resource).sign();
    /// let client = actix_web::rt::System::new().block_on(oauth.authenticate(&token))?;
    /// assert!(client.bearer_token().is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn bearer_token(&self) -> Option<&BearerToken> {
        self.inner.token.as_ref()
    }
}

impl std::fmt::Debug for AuthenticatedClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthenticatedClient")
            .field("issuer", &self.issuer())
            .field("subject", &self.subject())
            .field("client_id", &self.client_id())
            .field("scopes", &self.scopes())
            .finish_non_exhaustive()
    }
}

impl FromRequest for AuthenticatedClient {
    type Error = AuthError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            req.extensions()
                .get::<AuthenticatedClient>()
                .cloned()
                .ok_or_else(|| AuthError::from(Refusal::MiddlewareNotInstalled)),
        )
    }
}
