//! CORS for browser MCP clients (feature `cors`), as `actix-cors` configurations.
//!
//! Browsers need: preflights answered without a challenge (the middleware lets
//! preflights through), `Authorization`, `Content-Type`, `Mcp-Protocol-Version`,
//! `Mcp-Session-Id` and `Last-Event-ID` allowed, and `WWW-Authenticate` and
//! `Mcp-Session-Id` exposed so the client can read the challenge and the session
//! (Fetch Standard, CORS protocol: a preflight carries no credentials, and a response
//! header is readable only if exposed). Wrap the CORS layer *outside* `McpOAuth`, so
//! refusals get the CORS headers too:
//!
//! ```
//! use actix_web::App;
//!
//! let oauth = mcp_oauth::McpOAuth::builder()
//!     .resource("https://mcp.example.com/mcp")
//!     .authorization_server("https://auth.example.com")
//!     .jwks_uri("https://auth.example.com/jwks")
//!     .allowed_origins(["https://inspector.example.com"])
//!     .build()?;
//! let app = App::new()
//!     .wrap(oauth.clone())
//!     .wrap(mcp_oauth::cors::for_oauth(&oauth)); // outermost
//! # let _ = app;
//! # Ok::<(), mcp_oauth::ConfigError>(())
//! ```
//!
//! [`for_oauth`] grants CORS to exactly the origins the middleware serves
//! ([`allowed_origins`](crate::McpOAuthBuilder::allowed_origins) and the resource's own),
//! so the two can never disagree: a page from another origin gets its preflight refused
//! by the CORS layer and any other request a 403 from the middleware (MCP transports
//! §Security Warning). With [`for_origins`] or [`any_origin`], the middleware still
//! refuses every origin its own list does not allow.

use actix_cors::Cors;
use actix_web::http::{Method, header};

use crate::McpOAuth;

/// Request headers MCP clients send: the transport's (MCP 2026-07-28 transports §Standard
/// Request Headers; `Mcp-Param-*` names depend on the tools and are not listed) and the
/// DPoP proof (RFC 9449 §4.1).
///
/// ```
/// assert!(mcp_oauth::cors::ALLOWED_HEADERS.contains(&"dpop"));
/// ```
pub const ALLOWED_HEADERS: [&str; 8] = [
    "authorization",
    "content-type",
    "mcp-protocol-version",
    "mcp-session-id",
    "mcp-method",
    "mcp-name",
    "last-event-id",
    "dpop",
];

/// Response headers MCP clients must be able to read, the DPoP nonce (RFC 9449 §9)
/// among them.
///
/// ```
/// assert!(mcp_oauth::cors::EXPOSED_HEADERS.contains(&"dpop-nonce"));
/// ```
pub const EXPOSED_HEADERS: [&str; 4] = [
    "www-authenticate",
    "mcp-session-id",
    "mcp-protocol-version",
    "dpop-nonce",
];

fn base(cors: Cors) -> Cors {
    cors.allowed_methods([Method::GET, Method::POST, Method::DELETE, Method::OPTIONS])
        .allowed_headers(ALLOWED_HEADERS.map(header::HeaderName::from_static))
        .expose_headers(EXPOSED_HEADERS.map(header::HeaderName::from_static))
        .max_age(86_400)
}

/// CORS for the origins `oauth` serves: its
/// [`allowed_origins`](crate::McpOAuthBuilder::allowed_origins) (loopback wildcards and
/// `null` included) and its resource's own origin, compared the same way. Credentials
/// (cookies) are not allowed: MCP clients send bearer tokens.
///
/// ```
/// let oauth = mcp_oauth::McpOAuth::builder()
///     .resource("https://mcp.example.com/mcp")
///     .authorization_server("https://auth.example.com")
///     .jwks_uri("https://auth.example.com/jwks")
///     .allowed_origins(["http://localhost:*"])
///     .build()?;
/// let cors = mcp_oauth::cors::for_oauth(&oauth);
/// # let _ = cors;
/// # Ok::<(), mcp_oauth::ConfigError>(())
/// ```
pub fn for_oauth(oauth: &McpOAuth) -> Cors {
    let origins = oauth.inner.origins.clone();
    base(Cors::default().allowed_origin_fn(move |origin, _| origins.allows(origin)))
}

/// CORS for the listed origins only (e.g. your MCP Inspector deployment). Credentials
/// (cookies) are not allowed: MCP clients send bearer tokens.
///
/// ```
/// let cors = mcp_oauth::cors::for_origins(["https://inspector.example.com", "http://localhost:6274"]);
/// # let _ = cors;
/// ```
pub fn for_origins<'a>(origins: impl IntoIterator<Item = &'a str>) -> Cors {
    let mut cors = Cors::default();
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    base(cors)
}

/// CORS for any origin. Bearer tokens are not sent by browsers on their own (unlike
/// cookies), so this is safe for a token-protected MCP server; prefer
/// [`for_origins`] when you know your clients.
///
/// ```
/// let cors = mcp_oauth::cors::any_origin();
/// # let _ = cors;
/// ```
pub fn any_origin() -> Cors {
    base(Cors::default().allow_any_origin())
}
