//! [`AuthError`]: a [`Refusal`] rendered for the protected resource it was refused for:
//! the status, the `WWW-Authenticate` challenge ([`super::challenge`]), the JSON body and
//! the headers every refusal carries. The only place refusals become HTTP responses.

use std::fmt;
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};

use super::{HeaderMismatch, Refusal};
use actix_web_httpauth::headers::www_authenticate::WwwAuthenticate;

use super::challenge::{self, BearerChallenge};
use crate::resource::ProtectedResource;

impl Refusal {
    /// Renders this refusal for `resource`, ready to be returned by a handler.
    pub(crate) fn for_resource(self, resource: Arc<ProtectedResource>) -> AuthError {
        AuthError {
            refusal: self,
            resource: Some(resource),
            request_scopes: None,
            dpop_presented: false,
        }
    }

    /// Like [`for_resource`](Self::for_resource), for a request that needs `scopes`.
    pub(crate) fn for_request(
        self,
        resource: Arc<ProtectedResource>,
        scopes: Vec<String>,
    ) -> AuthError {
        AuthError {
            refusal: self,
            resource: Some(resource),
            request_scopes: Some(scopes),
            dpop_presented: false,
        }
    }
}

/// A [`Refusal`] rendered for a protected resource: the error type handlers return.
///
/// It implements [`ResponseError`]: the response carries the status, exactly one
/// `WWW-Authenticate: Bearer …` challenge with `resource_metadata`, a JSON body
/// `{"error": …, "error_description": …}`, `Cache-Control: no-store` and
/// `Access-Control-Expose-Headers: WWW-Authenticate`.
///
/// ```
/// use actix_web::ResponseError;
/// use mcp_oauth::{AuthError, Refusal};
///
/// let err = AuthError::from(Refusal::MissingToken);
/// assert_eq!(err.error_response().status().as_u16(), 401);
/// ```
#[derive(Debug, Clone)]
pub struct AuthError {
    refusal: Refusal,
    resource: Option<Arc<ProtectedResource>>,
    /// What this request needs, when it needs more than the global scopes (a guarded
    /// tool): named by the `scope` of a 401 challenge.
    request_scopes: Option<Vec<String>>,
    /// Whether the credentials came with the `DPoP` scheme: its challenge names the error.
    dpop_presented: bool,
}

impl AuthError {
    /// The same refusal, for credentials presented with the `DPoP` scheme (RFC 9449 §7.1):
    /// the error goes in the `DPoP` challenge.
    pub(crate) fn presented_with_dpop(mut self, dpop: bool) -> Self {
        self.dpop_presented = dpop;
        self
    }

    /// The refusal inside.
    ///
    /// ```
    /// use mcp_oauth::{AuthError, Refusal, TokenRejection};
    ///
    /// let err = AuthError::from(Refusal::InvalidToken(TokenRejection::Expired));
    /// assert!(matches!(err.refusal(), Refusal::InvalidToken(TokenRejection::Expired)));
    /// ```
    pub fn refusal(&self) -> &Refusal {
        &self.refusal
    }

    /// The `WWW-Authenticate` value this error answers with, if it has one: every
    /// refusal but [`Refusal::MiddlewareNotInstalled`] (a server bug, not the client's).
    ///
    /// ```
    /// use mcp_oauth::{AuthError, Refusal, TokenRejection};
    ///
    /// let err = AuthError::from(Refusal::InvalidToken(TokenRejection::Expired));
    /// assert_eq!(
    ///     err.challenge().unwrap(),
    ///     r#"Bearer error="invalid_token", error_description="The access token expired""#
    /// );
    /// assert!(AuthError::from(Refusal::MiddlewareNotInstalled).challenge().is_none());
    /// ```
    pub fn challenge(&self) -> Option<HeaderValue> {
        self.challenges()
            .into_iter()
            .next()
            .map(BearerChallenge::into_value)
    }

    /// Every challenge this error answers with, in order: the first is
    /// [`challenge`](Self::challenge)'s; with DPoP allowed a 401 has a `DPoP` one too.
    fn challenges(&self) -> Vec<BearerChallenge> {
        if matches!(
            self.refusal,
            Refusal::MiddlewareNotInstalled
                | Refusal::PayloadTooLarge
                | Refusal::MalformedMcpBody(_)
                | Refusal::HeaderMismatch(_)
                | Refusal::UnsupportedEncoding
                | Refusal::BodyTimeout
                | Refusal::RateLimited { .. }
        ) {
            return Vec::new();
        }
        BearerChallenge::all(
            &self.refusal,
            self.resource.as_deref(),
            self.request_scopes.as_deref(),
            self.dpop_presented,
        )
    }
}

impl From<Refusal> for AuthError {
    /// A refusal with no resource attached: its challenge has no `resource_metadata`.
    /// The middleware and the extractor always attach one.
    fn from(refusal: Refusal) -> Self {
        Self {
            refusal,
            resource: None,
            request_scopes: None,
            dpop_presented: false,
        }
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.refusal, f)
    }
}

impl std::error::Error for AuthError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.refusal)
    }
}

impl ResponseError for AuthError {
    fn status_code(&self) -> StatusCode {
        self.refusal.status()
    }

    fn error_response(&self) -> HttpResponse {
        log(&self.refusal);
        let mut res = HttpResponse::build(self.status_code());
        let mut challenges = self.challenges().into_iter();
        if let Some(challenge) = challenges.next() {
            res.insert_header(WwwAuthenticate(challenge));
        }
        // RFC 9110 §11.6.1: one field line per challenge.
        for more in challenges {
            res.append_header((header::WWW_AUTHENTICATE, more.into_value()));
        }
        if let Refusal::MalformedMcpBody(problem) = self.refusal {
            // JSON-RPC 2.0 §5: an error response with a null id (none could be read).
            return res.json(serde_json::json!({
                "jsonrpc": "2.0",
                "id": null,
                "error": { "code": problem.json_rpc_code(), "message": problem.description() },
            }));
        }
        if let Refusal::HeaderMismatch(m) = &self.refusal {
            // MCP 2026-07-28 transports §Server Validation: 400 + JSON-RPC -32020.
            return res.json(serde_json::json!({
                "jsonrpc": "2.0",
                "id": m.id(),
                "error": { "code": HeaderMismatch::JSON_RPC_CODE, "message": m.message() },
            }));
        }
        if let Refusal::RateLimited { retry_after } = &self.refusal {
            // RFC 6585 §4: 429 + Retry-After. The body is a JSON-RPC error without `id`
            // (JSON-RPC 2.0 §5: none was read), as for a refused Origin, so MCP clients
            // show its message; the code is implementation-defined (MCP 2026-07-28 basic
            // §Error Codes: -32000 to -32019).
            let secs = retry_after_secs(*retry_after);
            return res
                .insert_header((header::RETRY_AFTER, secs))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .insert_header((header::ACCESS_CONTROL_EXPOSE_HEADERS, "Retry-After"))
                .json(serde_json::json!({
                    "jsonrpc": "2.0",
                    "error": {
                        "code": RATE_LIMITED_JSON_RPC_CODE,
                        "message": format!("Too many requests: retry after {secs} s"),
                    },
                }));
        }
        if let Refusal::Overloaded { retry_after } = &self.refusal {
            res.insert_header((header::RETRY_AFTER, retry_after_secs(*retry_after)));
        }
        let mut exposed = "WWW-Authenticate";
        if let Refusal::UseDpopNonce { nonce } = &self.refusal {
            // RFC 9449 §9: the nonce the next proof carries.
            res.insert_header((DPOP_NONCE, nonce.as_str()));
            exposed = "WWW-Authenticate, DPoP-Nonce";
        }
        let description = challenge::sanitize_description(&self.refusal.description());
        res.insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::ACCESS_CONTROL_EXPOSE_HEADERS, exposed))
            .json(serde_json::json!({
                "error": self.refusal.body_error(),
                "error_description": description,
            }))
    }
}

/// RFC 9449 §8.1: where a server gives the nonce a proof must carry.
pub(crate) const DPOP_NONCE: &str = "dpop-nonce";

/// The JSON-RPC error code of a 429 (implementation-defined range, MCP 2026-07-28 basic
/// §Error Codes).
const RATE_LIMITED_JSON_RPC_CODE: i32 = -32010;

/// RFC 9110 §10.2.3: delay-seconds, a whole number, rounded up; never 0 (an immediate
/// retry is what a limit is there to slow down).
fn retry_after_secs(wait: std::time::Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

/// One log line per refusal, under one target. Never includes the token.
fn log(refusal: &Refusal) {
    match refusal {
        Refusal::Unavailable(_) | Refusal::MiddlewareNotInstalled => {
            tracing::error!(target: "mcp_oauth", status = refusal.status().as_u16(), "{refusal}")
        }
        _ => tracing::debug!(target: "mcp_oauth", status = refusal.status().as_u16(), "{refusal}"),
    }
}
