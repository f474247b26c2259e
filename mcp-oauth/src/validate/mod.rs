//! Judging a token: the [`TokenValidator`] trait (the one extension point) and the
//! built-in judges behind it.
//!
//! - [`router`]: picks the authorization server by the token's `iss` (JWT) or prefix
//!   (opaque) and hands it to that server's JWT and/or introspection judge;
//! - [`jwt`] + [`jwks`]: signature, algorithm allow-list, `typ`, keys by `kid`
//!   (RFC 7515, RFC 7517, RFC 8725);
//! - [`introspection`]: RFC 7662 calls, their limits and their negative cache;
//! - [`rules`]: `iss`, `aud`, `exp`, `nbf`, `iat` and leeway, the one place each time
//!   and audience rule lives (RFC 7519 §4.1, RFC 8707, RFC 9068 §4);
//! - [`claims`]: what a judged token says ([`VerifiedClaims`]);
//! - [`dpop`]: DPoP proofs (RFC 9449): checks, key thumbprints, the replay cache;
//! - [`cache`]: results keyed by the token's SHA-256, single-flight, bounded;
//! - [`revoked`]: tokens and subjects revoked while their tokens would still validate;
//! - [`api_key`]: API keys (SHA-256 hashes, constant-time) and development tokens;
//! - [`first_of`]: several validators on one endpoint, each token routed to one of them
//!   by its shape ([`Recognition`]), never tried on all.
//!
//! This module knows nothing of HTTP requests or responses: a token comes in, claims or a
//! [`Refusal`] go out. Outbound calls go through [`crate::http`]; metadata comes from
//! [`crate::discovery`].

pub(crate) mod api_key;
pub(crate) mod cache;
pub(crate) mod claims;
pub(crate) mod clock;
pub(crate) mod dpop;
pub(crate) mod first_of;
pub(crate) mod introspection;
pub(crate) mod jwks;
pub(crate) mod jwt;
pub(crate) mod profile;
pub(crate) mod revoked;
pub(crate) mod router;
pub(crate) mod rules;

use crate::refusal::Refusal;
use claims::VerifiedClaims;

/// A boxed future that need not be `Send` (`futures_core`'s, re-exported): validators
/// run on actix worker threads, and the HTTP client they use (awc) is `!Send`.
///
/// ```
/// use std::rc::Rc;
/// use mcp_oauth::LocalBoxFuture;
///
/// let shared = Rc::new(6); // `Rc` is `!Send`: fine in a `LocalBoxFuture`
/// let answer: LocalBoxFuture<'_, i32> = Box::pin(async move { *shared * 7 });
/// assert_eq!(actix_web::rt::System::new().block_on(answer), 42);
/// ```
pub use futures_core::future::LocalBoxFuture;

/// Judges a bearer token: the token in, [`VerifiedClaims`] or a typed [`Refusal`] out.
///
/// The built-in JWT strategy implements it; implement it yourself for an opaque-token
/// store or an API-key check, and pass it to
/// [`McpOAuthBuilder::validator`](crate::McpOAuthBuilder::validator). The middleware
/// keeps every other behaviour: extraction, challenges, status codes, metadata and
/// scope checks. Return [`Refusal::InvalidToken`] for a bad token and
/// [`Refusal::Unavailable`] when the token cannot be judged right now.
///
/// ```
/// use mcp_oauth::{LocalBoxFuture, Refusal, TokenRejection, TokenValidator, VerifiedClaims};
/// use serde_json::json;
///
/// /// Accepts one fixed API key, with one scope.
/// struct ApiKey(String);
///
/// impl TokenValidator for ApiKey {
///     fn validate<'a>(&'a self, token: &'a str) -> LocalBoxFuture<'a, Result<VerifiedClaims, Refusal>> {
///         Box::pin(async move {
///             // A real check compares in constant time; see `aws_lc_rs::constant_time`.
///             if token != self.0 {
///                 return Err(Refusal::InvalidToken(TokenRejection::Other("Unknown API key".into())));
///             }
///             let claims = json!({"sub": "api-key-user", "scope": "tools:call"});
///             Ok(VerifiedClaims::from_claims(claims.as_object().cloned().unwrap_or_default()))
///         })
///     }
/// }
/// ```
pub trait TokenValidator: Send + Sync + 'static {
    /// Validates `token` (already extracted from `Authorization: Bearer`).
    fn validate<'a>(
        &'a self,
        token: &'a str,
    ) -> LocalBoxFuture<'a, Result<VerifiedClaims, Refusal>>;

    /// Whether `token` has the shape of what this validator judges, decided from the
    /// token alone, without I/O: [`first_of`](crate::first_of) hands each token to one
    /// validator by this answer. The default, [`Recognition::Possibly`], suits a
    /// validator that judges any token; one that judges only its own prefix says
    /// [`Recognition::Mine`] or [`Recognition::NotMine`].
    ///
    /// ```
    /// use mcp_oauth::{LocalBoxFuture, Recognition, Refusal, TokenValidator, VerifiedClaims};
    ///
    /// struct Partner;
    ///
    /// impl TokenValidator for Partner {
    ///     fn validate<'a>(&'a self, _: &'a str) -> LocalBoxFuture<'a, Result<VerifiedClaims, Refusal>> {
    ///         Box::pin(async { Ok(VerifiedClaims::from_claims(Default::default())) })
    ///     }
    ///     fn recognizes(&self, token: &str) -> Recognition {
    ///         if token.starts_with("partner_") { Recognition::Mine } else { Recognition::NotMine }
    ///     }
    /// }
    /// assert_eq!(Partner.recognizes("partner_123"), Recognition::Mine);
    /// ```
    fn recognizes(&self, token: &str) -> Recognition {
        let _ = token;
        Recognition::Possibly
    }
}

/// What a [`TokenValidator`] can tell from a token's shape alone
/// ([`TokenValidator::recognizes`]).
///
/// ```
/// use mcp_oauth::Recognition;
///
/// assert_ne!(Recognition::Mine, Recognition::Possibly);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recognition {
    /// The token has this validator's own shape (its prefix): only it judges the token.
    Mine,
    /// It may be this validator's: judged by it when no validator says [`Mine`](Self::Mine).
    Possibly,
    /// It cannot be this validator's: never handed to it.
    NotMine,
}
