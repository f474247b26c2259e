#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod challenge;
mod claims;
mod client;
mod config;
mod env;
mod error;
mod guard;
mod http;
mod jsonrpc;
mod jwks;
mod jwt;
mod metadata;
mod middleware;
mod policy;
mod refusal;
mod resource;
mod scope;
mod session;
mod token;
mod url_policy;
mod validator;

#[cfg(feature = "rmcp")]
#[cfg_attr(docsrs, doc(cfg(feature = "rmcp")))]
pub mod rmcp;

#[cfg(feature = "cors")]
#[cfg_attr(docsrs, doc(cfg(feature = "cors")))]
pub mod cors;

#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;

pub use claims::VerifiedClaims;
pub use client::{AuthenticatedClient, BearerToken};
pub use config::{DEFAULT_LEEWAY, MAX_LEEWAY, MIN_HS256_SECRET_BYTES, McpOAuthBuilder};
pub use env::ENV_VARIABLES;
pub use error::{ConfigError, ConfigProblem};
pub use jwt::TypPolicy;
pub use middleware::{McpOAuth, McpOAuthMiddleware};
pub use refusal::{AuthError, Refusal, TokenRejection};
pub use validator::{LocalBoxFuture, TokenValidator};

/// JWS signing algorithms (re-exported from `jsonwebtoken`), for
/// [`McpOAuthBuilder::algorithms`].
pub use jsonwebtoken::Algorithm;

/// What `#[require_scope]` expands to. Not public API: no stability promise.
#[doc(hidden)]
pub mod __private {
    #[cfg(feature = "rmcp")]
    pub use crate::guard::check_tool;
    pub use crate::guard::{GuardedScopes, GuardedTool, check};
    pub use actix_web;
    pub use inventory;
    #[cfg(feature = "rmcp")]
    pub use rmcp;
}
