//! Which browser origins may call the MCP endpoint (MCP 2025-11-25 transports §Security
//! Warning: `Origin` validation against DNS rebinding).

use super::McpOAuthBuilder;
use crate::origin::AllowedOrigins;

impl McpOAuthBuilder {
    /// Adds origins whose browser pages may call the protected endpoints. A request whose
    /// `Origin` header is present and not allowed gets a 403 with a JSON-RPC error (no
    /// `id`) before its token is read: this is what stops a DNS-rebinding page from
    /// driving a local server (MCP transports §Security Warning). Requests without
    /// `Origin` (non-browser clients) are unaffected, and the resource's own origin is
    /// always allowed. Each entry is an exact origin, `scheme://host[:port]` (scheme and
    /// host compared without regard to case, a default port the same as none: RFC 6454
    /// §4-§5), `null` (refused unless listed), or one of the loopback-port wildcards
    /// `http://localhost:*`, `http://127.0.0.1:*`, `http://[::1]:*` (also `https`) for
    /// local development; any other wildcard is a build error. The metadata endpoint
    /// and public paths are not checked. `cors::for_oauth` (feature `cors`) uses the same
    /// list. (`MCP_OAUTH_ALLOWED_ORIGINS`)
    ///
    /// ```
    /// let builder = mcp_oauth::McpOAuth::builder()
    ///     .resource("https://mcp.example.com/mcp")
    ///     .authorization_server("https://auth.example.com")
    ///     .jwks_uri("https://auth.example.com/jwks");
    /// let oauth = builder
    ///     .clone()
    ///     .allowed_origins(["https://inspector.example.com", "http://localhost:*"])
    ///     .build()?;
    /// # let _ = oauth;
    /// let err = builder.allowed_origins(["https://*.example.com"]).build().unwrap_err();
    /// assert_eq!(err.problems()[0].setting(), "MCP_OAUTH_ALLOWED_ORIGINS");
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn allowed_origins<I, S>(mut self, origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.allowed_origins
            .extend(origins.into_iter().map(Into::into));
        self
    }

    /// The configured origins, each bad entry reported.
    pub(super) fn origins(&self, problem: &mut impl FnMut(&'static str, String)) -> AllowedOrigins {
        AllowedOrigins::parse(&self.allowed_origins).unwrap_or_else(|bad| {
            for message in bad {
                problem("MCP_OAUTH_ALLOWED_ORIGINS", message);
            }
            AllowedOrigins::default()
        })
    }
}
