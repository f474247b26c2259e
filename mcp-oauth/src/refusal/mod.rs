//! Why a request was refused, and how that refusal renders itself.
//!
//! [`Refusal`] is the single source of truth for the status-code matrix
//! (MCP authorization §Error Handling, RFC 6750 §3.1): every status, OAuth error code
//! and public description the middleware, the extractor and the scope guard can answer
//! with is decided here and nowhere else. [`AuthError`] pairs a refusal with the protected
//! resource it was refused for, so it can write the `WWW-Authenticate`
//! challenge (see [`challenge`]) and the JSON body.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use actix_web::http::StatusCode;

use crate::scope;

mod dpop;
mod mismatch;
pub use dpop::DpopRejection;
pub use mismatch::HeaderMismatch;

pub(crate) mod challenge;
mod response;

pub use response::AuthError;
pub(crate) use response::DPOP_NONCE;

/// Why a request was not admitted.
///
/// Each variant names an RFC 6750 outcome. [`Refusal::status`] and
/// [`Refusal::error_code`] are the status-code matrix of the MCP authorization
/// specification; nothing else in the crate chooses a status.
///
/// A custom [`TokenValidator`](crate::TokenValidator) returns one of these:
///
/// ```
/// use mcp_oauth::{Refusal, TokenRejection};
///
/// let refusal = Refusal::InvalidToken(TokenRejection::Expired);
/// assert_eq!(refusal.status().as_u16(), 401);
/// assert_eq!(refusal.error_code(), Some("invalid_token"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// The request carried no bearer credentials (no `Authorization` header, another
    /// scheme, or a token only in the query string). 401 with a challenge that has
    /// no `error` (RFC 6750 §3.1).
    MissingToken,
    /// The credentials were malformed: an empty token, characters outside token68,
    /// two `Authorization` headers, or two ways of sending a token at once.
    /// 400 `invalid_request` (RFC 6750 §2, §3.1).
    InvalidRequest(&'static str),
    /// A token was presented and is not acceptable. 401 `invalid_token` (RFC 6750 §3.1,
    /// RFC 9068 §4).
    InvalidToken(TokenRejection),
    /// A DPoP proof (RFC 9449 §4) was missing where a bound token needs one, or is not
    /// acceptable. 401 `invalid_dpop_proof` in a `DPoP` challenge (RFC 9449 §7.1).
    ///
    /// ```
    /// use mcp_oauth::{DpopRejection, Refusal};
    ///
    /// let refusal = Refusal::InvalidDpopProof(DpopRejection::Replayed);
    /// assert_eq!(refusal.status().as_u16(), 401);
    /// assert_eq!(refusal.error_code(), Some("invalid_dpop_proof"));
    /// ```
    InvalidDpopProof(DpopRejection),
    /// The DPoP proof has no `nonce`, or one this server did not make or no longer
    /// accepts (RFC 9449 §9). 401 `use_dpop_nonce` in a `DPoP` challenge, with the nonce
    /// to use in a `DPoP-Nonce` header.
    ///
    /// ```
    /// use actix_web::ResponseError;
    /// use mcp_oauth::{AuthError, Refusal};
    ///
    /// let refusal = Refusal::UseDpopNonce { nonce: "n-1".into() };
    /// assert_eq!(refusal.error_code(), Some("use_dpop_nonce"));
    /// let res = AuthError::from(refusal).error_response();
    /// assert_eq!(res.status().as_u16(), 401);
    /// assert_eq!(res.headers().get("dpop-nonce").unwrap(), "n-1");
    /// ```
    UseDpopNonce {
        /// The nonce the next proof must carry.
        nonce: String,
    },
    /// The token is valid but lacks scopes this request needs.
    /// 403 `insufficient_scope` with a step-up `scope` (RFC 6750 §3.1; MCP 2025-11-25
    /// authorization §Runtime Insufficient Scope Errors).
    InsufficientScope {
        /// Every scope this request needs (all of them must be granted).
        required: Vec<String>,
        /// The scopes the token was granted, and the required ones it holds through a
        /// `prefix:*` scope when the scope hierarchy is on.
        granted: Vec<String>,
    },
    /// The token could not be judged because a dependency failed: keys could not
    /// be fetched, an authorization server did not answer. 503 (RFC 9110 §15.6.4)
    /// without `invalid_token`, so clients do not loop on re-authorization.
    /// The detail goes to the log, never to the client.
    Unavailable(String),
    /// The token could not be judged because too many judgements are already in flight
    /// (the cap on concurrent introspection calls to one authorization server). 503
    /// without `invalid_token`, like [`Unavailable`](Self::Unavailable), plus
    /// `Retry-After` (whole seconds, at least 1; RFC 9110 §10.2.3).
    ///
    /// ```
    /// use std::time::Duration;
    /// use actix_web::ResponseError;
    /// use mcp_oauth::{AuthError, Refusal};
    ///
    /// let busy = AuthError::from(Refusal::Overloaded { retry_after: Duration::from_secs(1) });
    /// let res = busy.error_response();
    /// assert_eq!(res.status().as_u16(), 503);
    /// assert_eq!(res.headers().get("retry-after").unwrap(), "1");
    /// ```
    Overloaded {
        /// How long the client should wait before trying again.
        retry_after: Duration,
    },
    /// The MCP request body is larger than the configured cap, so the scopes it needs
    /// cannot be decided. 413, no challenge.
    PayloadTooLarge,
    /// The MCP request body is not a JSON-RPC message this server reads: it looks like
    /// JSON and is not, or asks for more than the policy's bounds (batch length,
    /// distinct method and tool names). 400 with a JSON-RPC error body and no challenge:
    /// the credentials were fine.
    MalformedMcpBody(McpBodyProblem),
    /// The `Mcp-Method` / `Mcp-Name` headers disagree with the body, are malformed, or
    /// are missing where `MCP-Protocol-Version` requires them (MCP 2026-07-28 transports
    /// §Server Validation). 400 with a JSON-RPC `-32020` error echoing the request `id`,
    /// no challenge: the credentials were fine.
    HeaderMismatch(HeaderMismatch),
    /// The MCP request body is compressed (`Content-Encoding` other than `identity`), so
    /// the scopes it needs cannot be read before the service runs. 415, no challenge.
    UnsupportedEncoding,
    /// The request body did not arrive in time to be checked. 408, no challenge.
    BodyTimeout,
    /// A configured rate limit is spent (per client address on the metadata, or on
    /// requests needing token work; per principal). 429 (RFC 6585 §4) with `Retry-After`
    /// (whole seconds, at least 1; RFC 9110 §10.2.3) and a JSON-RPC error without `id`;
    /// no challenge: it says nothing about the credentials.
    ///
    /// ```
    /// use std::time::Duration;
    /// use actix_web::ResponseError;
    /// use mcp_oauth::{AuthError, Refusal};
    ///
    /// let slow_down = AuthError::from(Refusal::RateLimited { retry_after: Duration::from_millis(1500) });
    /// let res = slow_down.error_response();
    /// assert_eq!(res.status().as_u16(), 429);
    /// assert_eq!(res.headers().get("retry-after").unwrap(), "2");
    /// assert!(res.headers().get("www-authenticate").is_none());
    /// ```
    RateLimited {
        /// How long until the limit allows one more request.
        retry_after: Duration,
    },
    /// [`AuthenticatedClient`](crate::AuthenticatedClient) was used on a route the
    /// middleware does not cover. A server bug, answered 500 and logged loudly.
    MiddlewareNotInstalled,
}

/// What is wrong with an MCP request body (see [`Refusal::MalformedMcpBody`]).
///
/// ```
/// use mcp_oauth::{McpBodyProblem, Refusal};
///
/// let refusal = Refusal::MalformedMcpBody(McpBodyProblem::BatchTooLong);
/// assert_eq!(refusal.status().as_u16(), 400);
/// assert_eq!(McpBodyProblem::NotJson.json_rpc_code(), -32700);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum McpBodyProblem {
    /// The body begins like JSON (`{` or `[`) and is not JSON.
    NotJson,
    /// A batch longer than the configured bound.
    BatchTooLong,
    /// More distinct method and tool names than the configured bound.
    TooManyNames,
    /// A `resources/read` or `resources/subscribe` URI with no single reading (no
    /// scheme, a bad or encoded-separator `%` triplet, a character outside RFC 3986, a
    /// `..` above the root, a `file` URI with a host other than `localhost`) while
    /// per-resource rules exist: which rule applies cannot be decided.
    UnclearResourceUri,
}

impl McpBodyProblem {
    /// The JSON-RPC 2.0 error code (§5.1): `-32700` parse error, `-32600` invalid request,
    /// `-32602` invalid params.
    ///
    /// ```
    /// assert_eq!(mcp_oauth::McpBodyProblem::TooManyNames.json_rpc_code(), -32600);
    /// ```
    pub fn json_rpc_code(self) -> i32 {
        match self {
            Self::NotJson => -32700,
            Self::BatchTooLong | Self::TooManyNames => -32600,
            Self::UnclearResourceUri => -32602,
        }
    }

    /// What the client is told.
    ///
    /// ```
    /// assert!(mcp_oauth::McpBodyProblem::NotJson.description().contains("JSON"));
    /// ```
    pub fn description(self) -> &'static str {
        match self {
            Self::NotJson => "Parse error: the request body is not JSON",
            Self::BatchTooLong => {
                "Invalid request: the batch has more messages than this server reads"
            }
            Self::TooManyNames => {
                "Invalid request: the body names more methods and tools than this server reads"
            }
            Self::UnclearResourceUri => {
                "Invalid params: the resource URI has no single reading (RFC 3986 §6.2.2): \
                 no scheme, an encoded `/` or `\\`, a `..` above the root, a character \
                 outside RFC 3986, or a file URI with another host"
            }
        }
    }
}

/// Why a presented token was rejected (always 401 `invalid_token`).
///
/// The [`description`](TokenRejection::description) is safe to send to the
/// client: it never contains any part of the token.
///
/// ```
/// use mcp_oauth::{Refusal, TokenRejection};
///
/// let refusal = Refusal::InvalidToken(TokenRejection::WrongAudience);
/// assert_eq!(refusal.status().as_u16(), 401);
/// assert_eq!(refusal.description(), "The token audience does not include this resource");
/// // `Display` may say more, for logs:
/// assert_eq!(TokenRejection::InvalidClaim("exp").to_string(), "invalid claim `exp`");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenRejection {
    /// Not a compact JWS (three base64url segments), or a segment does not decode.
    Malformed,
    /// Larger than the configured cap.
    TooLarge,
    /// `alg` is not on the allow-list (this includes `none` in any casing; an unsigned
    /// token, with an empty signature segment, is already [`Malformed`](Self::Malformed)).
    DisallowedAlgorithm,
    /// `typ` names something other than an access token.
    WrongType,
    /// An OpenID Connect ID token presented as an access token: it carries claims only
    /// ID tokens carry (`nonce`, `at_hash`, `c_hash`, `auth_time`) and none an access
    /// token carries (`scope`, `scp`, `client_id`, the configured scope claim), and its
    /// `typ` is not `at+jwt` (OpenID Connect Core §2, RFC 9068 §2.2 and §4).
    IdToken,
    /// `crit` lists an extension this server does not understand.
    UnsupportedCritical,
    /// No key of the issuer has this `kid` (after the allowed refetch).
    UnknownKey,
    /// The key found cannot be used with the token's `alg`.
    KeyMismatch,
    /// The signature does not verify.
    BadSignature,
    /// `iss` is missing or is not the configured issuer.
    WrongIssuer,
    /// `aud` is missing.
    MissingAudience,
    /// `aud` does not contain an accepted audience.
    WrongAudience,
    /// `exp` is missing or not a number.
    MissingExpiry,
    /// `exp` has passed (beyond the leeway).
    Expired,
    /// `nbf` is in the future (beyond the leeway).
    NotYetValid,
    /// `iat` is in the future (beyond the leeway).
    IssuedInFuture,
    /// A claim has the wrong JSON type.
    InvalidClaim(&'static str),
    /// The authorization server says the token is not active (RFC 7662).
    Inactive,
    /// The token is bound to a DPoP key (`cnf.jkt`) and came as a `Bearer` token, without
    /// proof of possession (RFC 9449 §7.2).
    DpopBound,
    /// The token came with the `DPoP` scheme and is bound to no key (RFC 9449 §7.1).
    NotDpopBound,
    /// Revoked here, or in the fleet, while it would still validate
    /// ([`McpOAuth::revoke_token`](crate::McpOAuth::revoke_token),
    /// [`revoke_subject`](crate::McpOAuth::revoke_subject); RFC 7009 §2.2).
    Revoked,
    /// A custom validator's reason. Sanitised before it reaches a header.
    Other(Cow<'static, str>),
}

impl TokenRejection {
    /// A short, client-safe sentence for `error_description`.
    ///
    /// ```
    /// assert_eq!(mcp_oauth::TokenRejection::Expired.description(), "The access token expired");
    /// ```
    pub fn description(&self) -> &str {
        match self {
            Self::Malformed => "The access token is malformed",
            Self::TooLarge => "The access token is too large",
            Self::DisallowedAlgorithm => "The token signing algorithm is not accepted",
            Self::WrongType => "The token is not an access token",
            Self::IdToken => "An ID token is not an access token",
            Self::UnsupportedCritical => "The token uses an unsupported critical header",
            Self::UnknownKey => "The token signing key is unknown",
            Self::KeyMismatch => "The token signing key does not match its algorithm",
            Self::BadSignature => "The token signature is invalid",
            Self::WrongIssuer => "The token issuer is not accepted",
            Self::MissingAudience => "The token has no audience",
            Self::WrongAudience => "The token audience does not include this resource",
            Self::MissingExpiry => "The token has no expiry",
            Self::Expired => "The access token expired",
            Self::NotYetValid => "The access token is not yet valid",
            Self::IssuedInFuture => "The access token was issued in the future",
            Self::InvalidClaim(_) => "The token has an invalid claim",
            Self::Inactive => "The access token is not active",
            Self::DpopBound => "The token is DPoP-bound: send it with the DPoP scheme and a proof",
            Self::NotDpopBound => "The token is not DPoP-bound: send it with the Bearer scheme",
            Self::Revoked => "The access token was revoked",
            Self::Other(reason) => reason,
        }
    }
}

impl fmt::Display for TokenRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidClaim(claim) => write!(f, "invalid claim `{claim}`"),
            other => f.write_str(other.description()),
        }
    }
}

impl Refusal {
    /// The HTTP status of this refusal (the MCP status-code matrix).
    ///
    /// ```
    /// use mcp_oauth::Refusal;
    /// assert_eq!(Refusal::MissingToken.status().as_u16(), 401);
    /// assert_eq!(Refusal::InvalidRequest("two tokens").status().as_u16(), 400);
    /// assert_eq!(Refusal::Unavailable("jwks down".into()).status().as_u16(), 503);
    /// ```
    pub fn status(&self) -> StatusCode {
        match self {
            Self::MissingToken
            | Self::InvalidToken(_)
            | Self::InvalidDpopProof(_)
            | Self::UseDpopNonce { .. } => StatusCode::UNAUTHORIZED,
            Self::InvalidRequest(_) => StatusCode::BAD_REQUEST,
            Self::InsufficientScope { .. } => StatusCode::FORBIDDEN,
            Self::Unavailable(_) | Self::Overloaded { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::MalformedMcpBody(_) | Self::HeaderMismatch(_) => StatusCode::BAD_REQUEST,
            Self::UnsupportedEncoding => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::MiddlewareNotInstalled => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The RFC 6750 `error` code of the challenge, if the challenge carries one.
    ///
    /// `None` when the request had no credentials (RFC 6750 §3.1) and for server-side faults.
    ///
    /// ```
    /// use mcp_oauth::Refusal;
    /// assert_eq!(Refusal::MissingToken.error_code(), None);
    /// ```
    pub fn error_code(&self) -> Option<&'static str> {
        match self {
            Self::InvalidRequest(_) => Some("invalid_request"),
            Self::InvalidToken(_) => Some("invalid_token"),
            Self::InvalidDpopProof(_) => Some("invalid_dpop_proof"),
            Self::UseDpopNonce { .. } => Some("use_dpop_nonce"),
            Self::InsufficientScope { .. } => Some("insufficient_scope"),
            Self::MissingToken
            | Self::Unavailable(_)
            | Self::Overloaded { .. }
            | Self::PayloadTooLarge
            | Self::MalformedMcpBody(_)
            | Self::HeaderMismatch(_)
            | Self::UnsupportedEncoding
            | Self::BodyTimeout
            | Self::RateLimited { .. }
            | Self::MiddlewareNotInstalled => None,
        }
    }

    /// The client-safe description: for the challenge's `error_description` and the body.
    ///
    /// ```
    /// use mcp_oauth::Refusal;
    ///
    /// let refusal = Refusal::InsufficientScope {
    ///     required: vec!["mcp".into(), "files:write".into()],
    ///     granted: vec!["mcp".into()],
    /// };
    /// assert_eq!(refusal.description(), "Required scope missing: files:write");
    /// // Server-side details stay in the log:
    /// let down = Refusal::Unavailable("JWKS at https://auth.example.com/jwks: timeout".into());
    /// assert_eq!(down.description(), "The token cannot be validated right now; try again later");
    /// ```
    pub fn description(&self) -> Cow<'_, str> {
        match self {
            Self::MissingToken => "A bearer token is required".into(),
            Self::InvalidRequest(why) => (*why).into(),
            Self::InvalidToken(why) => why.description().into(),
            Self::InvalidDpopProof(why) => why.description().into(),
            Self::UseDpopNonce { .. } => {
                "The resource server requires a nonce in the DPoP proof".into()
            }
            Self::InsufficientScope { required, granted } => {
                let missing: Vec<&str> = required
                    .iter()
                    .filter(|s| !granted.contains(s))
                    .map(String::as_str)
                    .collect();
                format!("Required scope missing: {}", missing.join(" ")).into()
            }
            Self::Unavailable(_) | Self::Overloaded { .. } => {
                "The token cannot be validated right now; try again later".into()
            }
            Self::PayloadTooLarge => "The request body is too large".into(),
            Self::MalformedMcpBody(problem) => problem.description().into(),
            Self::HeaderMismatch(m) => m.message().into(),
            Self::UnsupportedEncoding => {
                "A compressed request body cannot be checked; send it with identity encoding".into()
            }
            Self::BodyTimeout => "The request body did not arrive in time".into(),
            Self::RateLimited { .. } => "Too many requests; retry later".into(),
            Self::MiddlewareNotInstalled => "Server misconfiguration".into(),
        }
    }

    /// The `error` member of the JSON body (the challenge's code, or a generic one).
    fn body_error(&self) -> &'static str {
        match self {
            Self::MissingToken => "unauthorized",
            Self::Unavailable(_) | Self::Overloaded { .. } => "temporarily_unavailable",
            Self::PayloadTooLarge => "payload_too_large",
            Self::MalformedMcpBody(_) | Self::HeaderMismatch(_) => "invalid_request",
            Self::UnsupportedEncoding => "unsupported_media_type",
            Self::BodyTimeout => "request_timeout",
            Self::RateLimited { .. } => "rate_limited",
            Self::MiddlewareNotInstalled => "server_error",
            other => other.error_code().unwrap_or("unauthorized"),
        }
    }
}

impl Refusal {
    /// [`Refusal::InsufficientScope`] for `required`: `granted` as the token holds it, plus
    /// the required scopes it holds through a `prefix:*` when `hierarchy` is on, so the
    /// description names only what is really missing ([`scope::grants`] decides).
    pub(crate) fn insufficient_scope(
        required: Vec<String>,
        granted: &[String],
        hierarchy: bool,
    ) -> Self {
        let mut effective = granted.to_vec();
        let covered = required
            .iter()
            .filter(|r| scope::grants(granted, r, hierarchy));
        scope::extend_unique(&mut effective, covered.map(String::as_str));
        Self::InsufficientScope {
            required,
            granted: effective,
        }
    }
}

impl From<DpopRejection> for Refusal {
    /// 401 `invalid_dpop_proof`.
    fn from(why: DpopRejection) -> Self {
        Self::InvalidDpopProof(why)
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingToken => f.write_str("no bearer token"),
            Self::InvalidRequest(why) => write!(f, "malformed credentials: {why}"),
            Self::InvalidToken(why) => write!(f, "invalid token: {why}"),
            Self::InvalidDpopProof(why) => write!(f, "invalid DPoP proof: {why}"),
            Self::UseDpopNonce { .. } => f.write_str("DPoP proof without a current server nonce"),
            Self::InsufficientScope { .. } => f.write_str(&self.description()),
            Self::Unavailable(detail) => write!(f, "token validation unavailable: {detail}"),
            Self::Overloaded { .. } => {
                f.write_str("token validation overloaded: too many introspection calls in flight")
            }
            Self::PayloadTooLarge => f.write_str("MCP request body over the inspection cap"),
            Self::MalformedMcpBody(problem) => f.write_str(problem.description()),
            // The header name only: the values are the client's text.
            Self::HeaderMismatch(m) => write!(f, "MCP request header mismatch: {}", m.header()),
            Self::UnsupportedEncoding => f.write_str("compressed MCP request body"),
            Self::BodyTimeout => f.write_str("request body read timed out"),
            Self::RateLimited { .. } => f.write_str("rate limit exceeded"),
            Self::MiddlewareNotInstalled => f.write_str(
                "AuthenticatedClient used on a route that the McpOAuth middleware does not wrap",
            ),
        }
    }
}

impl std::error::Error for Refusal {}
