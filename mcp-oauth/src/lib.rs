#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod admit;
mod bearer;
mod body;
mod builder;
mod client;
mod discovery;
#[doc(hidden)]
pub mod explain;
mod http;
pub mod httpauth;
mod layer;
mod limit;
mod names;
mod origin;
mod policy;
pub mod providers;
mod refusal;
mod resource;
mod revoke;
mod scope;
mod secret;
mod session;
mod shared;
mod sync;
mod telemetry;
mod url_policy;
mod validate;

#[cfg(feature = "rmcp")]
#[cfg_attr(docsrs, doc(cfg(feature = "rmcp")))]
pub mod rmcp;

#[cfg(feature = "cors")]
#[cfg_attr(docsrs, doc(cfg(feature = "cors")))]
pub mod cors;

#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;

pub use builder::AuthorizationServer;
pub use builder::ENV_VARIABLES;
pub use builder::{ConfigError, ConfigProblem};
pub use builder::{DEFAULT_LEEWAY, MAX_LEEWAY, MIN_HS256_SECRET_BYTES, McpOAuthBuilder};
pub use client::{AuthenticatedClient, BearerToken};
pub use discovery::report::{
    AuthorizationServerReport, Check, DiscoveryStatus, Finding, Severity, StartupError,
    StartupReport, Strictness,
};
pub use layer::{McpOAuth, McpOAuthMiddleware};
pub use limit::Rate;
pub use refusal::{AuthError, McpBodyProblem, Refusal, TokenRejection};
pub use refusal::{DpopRejection, HeaderMismatch};
pub use resource::dpop::DpopMode;
pub use shared::{DEFAULT_SHARED_PREFIX, OnFailure, SharedState};
pub use shared::{RevocationOnFailure, RevokeError};
#[cfg(feature = "metrics")]
#[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
pub use telemetry::describe_metrics;
pub use telemetry::{METRICS, MetricInfo, MetricKind};
pub use validate::Recognition;
pub use validate::api_key::{ApiKey, DEFAULT_API_KEY_PREFIX};
pub use validate::claims::Credential;
pub use validate::claims::VerifiedClaims;
pub use validate::dpop::DEFAULT_DPOP_WINDOW;
pub use validate::first_of::{FirstOf, first_of};
pub use validate::introspection::ClientAuthMethod;
pub use validate::jwt::TypPolicy;
pub use validate::router::Validation;
pub use validate::{LocalBoxFuture, TokenValidator};

/// JWS signing algorithms (re-exported from `jsonwebtoken`), for
/// [`McpOAuthBuilder::algorithms`].
pub use jsonwebtoken::Algorithm;

/// Requires OAuth scopes for an actix-web handler or an rmcp tool or prompt: a client without them
/// gets a 403 `insufficient_scope` step-up challenge naming what it needs.
///
/// On actix-web handlers (`async fn` with a return type), put the route attribute on top.
/// The handler need not take an [`AuthenticatedClient`] itself; `return` and `?` in its
/// body keep their meaning:
///
/// ```no_run,standalone_crate
/// use actix_web::{App, HttpResponse, HttpServer, Responder, get, post, web};
/// use mcp_oauth::{AuthenticatedClient, McpOAuth, require_scope};
///
/// #[get("/files")]
/// #[require_scope("files:read")]
/// async fn list_files() -> impl Responder {
///     HttpResponse::Ok().json(["a.txt", "b.txt"])
/// }
///
/// #[post("/files/{name}/delete")]
/// #[require_scope(any("files:delete", "files:admin"))] // either one
/// async fn delete_file(
///     name: web::Path<String>,
///     client: AuthenticatedClient,
/// ) -> Result<HttpResponse, actix_web::Error> {
///     let who = client.subject().unwrap_or("?");
///     Ok(HttpResponse::Ok().body(format!("{name} deleted by {who}")))
/// }
///
/// #[actix_web::main]
/// async fn main() -> Result<(), Box<dyn std::error::Error>> {
///     let oauth = McpOAuth::from_env()?;
///     HttpServer::new(move || {
///         App::new()
///             .wrap(oauth.clone()) // without it, guarded handlers answer 500
///             .service(list_files)
///             .service(delete_file)
///     })
///     .bind(("127.0.0.1", 8080))?
///     .run()
///     .await?;
///     Ok(())
/// }
/// ```
///
/// On rmcp tools (feature `rmcp`), `#[require_scope]` goes **above** `#[tool]`. The
/// middleware then refuses a `tools/call` of the tool with an HTTP 403 before the MCP
/// service runs, and `scopes_supported` lists the scopes.
///
/// ```no_run,standalone_crate
/// use mcp_oauth::require_scope;
/// use rmcp::{ServerHandler, tool, tool_handler, tool_router};
///
/// #[derive(Clone)]
/// struct Files;
///
/// #[tool_router]
/// impl Files {
///     #[require_scope("files:delete")]
///     #[tool(description = "Deletes every file")]
///     fn delete_all(&self) -> String {
///         "deleted".to_owned()
///     }
///
///     #[require_scope(any("files:read", "files:admin"))]
///     #[tool(name = "list", description = "Lists the files")]
///     async fn list_files(&self) -> String {
///         "a.txt b.txt".to_owned()
///     }
/// }
///
/// #[tool_handler]
/// impl ServerHandler for Files {}
/// ```
///
/// On rmcp prompts, the same: above `#[prompt]`; a `prompts/get` of it is refused with
/// an HTTP 403 before the MCP service runs, and checked again inside.
///
/// ```no_run,standalone_crate
/// use mcp_oauth::require_scope;
/// use rmcp::model::{PromptMessage, Role};
/// use rmcp::{ServerHandler, prompt, prompt_handler, prompt_router};
///
/// #[derive(Clone)]
/// struct Prompts;
///
/// #[prompt_router]
/// impl Prompts {
///     #[require_scope("incidents:read")]
///     #[prompt(name = "incident-summary")]
///     async fn incidents(&self) -> Vec<PromptMessage> {
///         vec![PromptMessage::new_text(Role::User, "Summarise today's incidents")]
///     }
/// }
///
/// #[prompt_handler]
/// impl ServerHandler for Prompts {}
/// ```
pub use mcp_oauth_macros::require_scope;

/// Internals the benchmarks time. Not public API: no stability promise.
#[cfg(feature = "testing")]
#[doc(hidden)]
pub mod __bench {
    /// The scope policy's read of a JSON-RPC body with the default bounds: the number of
    /// distinct method and tool names, or `None` when it is refused.
    pub fn policy_names(body: &[u8]) -> Option<usize> {
        crate::policy::jsonrpc::operations(body, crate::policy::jsonrpc::BodyLimits::default())
            .ok()
            .map(|ops| ops.methods.len() + ops.tools.len())
    }
}

/// What `#[require_scope]` expands to. Not public API: no stability promise.
#[doc(hidden)]
pub mod __private {
    #[cfg(feature = "rmcp")]
    pub use crate::policy::guard::check_tool;
    pub use crate::policy::guard::{GuardedPrompt, GuardedScopes, GuardedTool, check};
    pub use actix_web;
    pub use inventory;
    #[cfg(feature = "rmcp")]
    pub use rmcp;
}
