//! [`AuthenticatedClient`]: who is calling, as the middleware proved it.

use std::future::{Ready, ready};
use std::sync::Arc;
use std::time::SystemTime;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::claims::VerifiedClaims;
use crate::refusal::{AuthError, Refusal};
use crate::resource::ProtectedResource;

/// The caller of a request the [`McpOAuth`](crate::McpOAuth) middleware admitted.
///
/// An actix extractor: take it as a handler argument. It can only be made by the
/// middleware (or, with the `testing` feature, by test code), so holding one proves
/// the token was validated.
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
    claims: VerifiedClaims,
    resource: Arc<ProtectedResource>,
    /// Present only with `expose_token_to_handlers(true)`.
    token: Option<BearerToken>,
}

/// The raw bearer token, for the rare handler that must exchange it (RFC 8693).
/// Its `Debug` never prints it.
#[derive(Clone)]
pub struct BearerToken(String);

impl BearerToken {
    /// The token itself. Never log it, never forward it to another API.
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
        claims: VerifiedClaims,
        resource: Arc<ProtectedResource>,
        token: Option<String>,
    ) -> Self {
        Self {
            inner: Arc::new(ClientInner {
                claims,
                resource,
                token: token.map(BearerToken),
            }),
        }
    }

    /// `sub`: the resource owner (or the client, for client-credentials tokens).
    pub fn subject(&self) -> Option<&str> {
        self.inner.claims.subject()
    }

    /// `client_id`, or `azp`.
    pub fn client_id(&self) -> Option<&str> {
        self.inner.claims.client_id()
    }

    /// The granted scopes.
    pub fn scopes(&self) -> &[String] {
        self.inner.claims.scopes()
    }

    /// `aud`, as a list.
    pub fn audiences(&self) -> &[String] {
        self.inner.claims.audiences()
    }

    /// `iss`.
    pub fn issuer(&self) -> Option<&str> {
        self.inner.claims.issuer()
    }

    /// `exp`.
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.inner.claims.expires_at()
    }

    /// Every claim of the token.
    pub fn claim_map(&self) -> &Map<String, Value> {
        self.inner.claims.claims()
    }

    /// One claim.
    pub fn claim(&self, name: &str) -> Option<&Value> {
        self.inner.claims.claims().get(name)
    }

    /// The claims as your own type.
    ///
    /// ```
    /// # fn f(client: mcp_oauth::AuthenticatedClient) -> Result<(), serde_json::Error> {
    /// #[derive(serde::Deserialize)]
    /// struct Tenant { tenant_id: String }
    /// let tenant: Tenant = client.claims()?;
    /// # let _ = tenant.tenant_id; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// When the claims do not deserialize into `T`.
    pub fn claims<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_value(Value::Object(self.inner.claims.claims().clone()))
    }

    /// Was `scope` granted? (Case-sensitive, RFC 6749 §3.3.)
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes().iter().any(|s| s == scope)
    }

    /// Succeeds when every scope in `scopes` was granted; otherwise an error that
    /// renders as 403 `insufficient_scope` with a step-up challenge naming what this
    /// request needs (the middleware's required scopes plus these).
    ///
    /// # Errors
    /// The 403 [`AuthError`].
    pub fn require_scopes(&self, scopes: &[&str]) -> Result<(), AuthError> {
        if scopes.iter().all(|s| self.has_scope(s)) {
            return Ok(());
        }
        let mut required: Vec<String> = self.inner.resource.required_scopes().to_vec();
        for s in scopes {
            if !required.iter().any(|r| r == s) {
                required.push((*s).to_owned());
            }
        }
        Err(Refusal::InsufficientScope {
            required,
            granted: self.scopes().to_vec(),
        }
        .for_resource(self.inner.resource.clone()))
    }

    /// The raw token, only when the middleware was built with
    /// [`expose_token_to_handlers(true)`](crate::McpOAuthBuilder::expose_token_to_handlers).
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
