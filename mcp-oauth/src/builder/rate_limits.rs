//! Rate limits (all off by default): per client address on the metadata and diagnostics
//! endpoints and on token work, per principal on authenticated requests. The policy is
//! described in `limit/`; these are its settings and their variables.

use std::collections::HashMap;

use super::vars::value;
use super::{ConfigProblem, McpOAuthBuilder};
use crate::layer::McpOAuth;
use crate::limit::{Rate, RateLimits, parse_setting};

impl McpOAuthBuilder {
    /// Limits each client address to `rate` requests to the RFC 9728 metadata (and
    /// unknown paths under `/.well-known/oauth-protected-resource`) and the
    /// [diagnostics](Self::diagnostics_path) endpoint, together; beyond, 429 with
    /// `Retry-After`. `None` turns it off (the default).
    /// (`MCP_OAUTH_RATE_LIMIT_METADATA`, e.g. `60/minute`)
    ///
    /// ```
    /// use mcp_oauth::Rate;
    ///
    /// let oauth = mcp_oauth::McpOAuth::builder()
    ///     .resource("https://mcp.example.com/mcp")
    ///     .authorization_server("https://auth.example.com")
    ///     .jwks_uri("https://auth.example.com/jwks")
    ///     .rate_limit_metadata(Rate::per_minute(60))
    ///     .build()?;
    /// # let _ = oauth;
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn rate_limit_metadata(mut self, rate: impl Into<Option<Rate>>) -> Self {
        self.rate_limits.metadata = rate.into();
        self
    }

    /// Limits each client address to `rate` requests to protected paths that are not
    /// answered from the validation cache: requests without a token or with malformed
    /// credentials, and tokens not yet verified. The budget is spent **before** the token
    /// is looked at; once it is spent, such requests get 429 with `Retry-After` and cost
    /// no signature check and no introspection call. A token already verified (in the
    /// [cache](Self::cache_ttl)) is never charged nor limited, so clients sharing an
    /// address with a token guesser keep being served. With the cache
    /// off, every request is charged: size the rate accordingly. `None` turns it off (the
    /// default). (`MCP_OAUTH_RATE_LIMIT_REFUSALS`, e.g. `30/minute`)
    ///
    /// ```
    /// use mcp_oauth::Rate;
    ///
    /// let oauth = mcp_oauth::McpOAuth::builder()
    ///     .resource("https://mcp.example.com/mcp")
    ///     .authorization_server("https://auth.example.com")
    ///     .jwks_uri("https://auth.example.com/jwks")
    ///     .rate_limit_refusals(Rate::per_minute(30))
    ///     .build()?;
    /// # let _ = oauth;
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn rate_limit_refusals(mut self, rate: impl Into<Option<Rate>>) -> Self {
        self.rate_limits.refusals = rate.into();
        self
    }

    /// Limits each principal ([`AuthenticatedClient::principal`](crate::AuthenticatedClient::principal):
    /// issuer + subject or client id, or the API key's name) to `rate` authenticated
    /// requests, wherever they come from; beyond, 429 with `Retry-After` before the body
    /// is read. A token with neither `sub` nor `client_id` is not limited. `None` turns
    /// it off (the default). (`MCP_OAUTH_RATE_LIMIT_PRINCIPAL`, e.g. `600/minute`)
    ///
    /// ```
    /// use mcp_oauth::Rate;
    ///
    /// let oauth = mcp_oauth::McpOAuth::builder()
    ///     .resource("https://mcp.example.com/mcp")
    ///     .authorization_server("https://auth.example.com")
    ///     .jwks_uri("https://auth.example.com/jwks")
    ///     .rate_limit_principal(Rate::per_minute(600))
    ///     .build()?;
    /// # let _ = oauth;
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn rate_limit_principal(mut self, rate: impl Into<Option<Rate>>) -> Self {
        self.rate_limits.principal = rate.into();
        self
    }

    /// Behind a reverse proxy: the header the proxy writes the client's address into,
    /// which the per-address limits then count by instead of the TCP peer (the proxy).
    /// Only set it when every request comes through a proxy that writes this header:
    /// without this setting such headers are ignored, since clients can send their own.
    /// `X-Forwarded-For`: the **rightmost** address (the one your proxy appended);
    /// `Forwarded` (RFC 7239): the `for` of the rightmost element; any other name
    /// (`X-Real-IP`, `CF-Connecting-IP`...): a single address, present once. A missing or
    /// unreadable value counts as the peer's. IPv6 addresses count per /64.
    /// (`MCP_OAUTH_RATE_LIMIT_TRUSTED_HEADER`)
    ///
    /// ```
    /// let builder = mcp_oauth::McpOAuth::builder()
    ///     .resource("https://mcp.example.com/mcp")
    ///     .authorization_server("https://auth.example.com")
    ///     .jwks_uri("https://auth.example.com/jwks")
    ///     .rate_limit_refusals(mcp_oauth::Rate::per_minute(30));
    /// assert!(builder.clone().rate_limit_trusted_header("X-Forwarded-For").build().is_ok());
    /// let err = builder.rate_limit_trusted_header("X Real IP").build().unwrap_err();
    /// assert_eq!(err.problems()[0].setting(), "MCP_OAUTH_RATE_LIMIT_TRUSTED_HEADER");
    /// ```
    pub fn rate_limit_trusted_header(mut self, name: impl Into<String>) -> Self {
        self.rate_limits.trusted_header = Some(name.into());
        self
    }

    /// The most addresses or principals each limit keeps a budget for (default 100,000;
    /// about 100 bytes each). When one limit's table is full, the entries that have fully
    /// refilled are dropped (that resets nothing), at most once a second; a new key that
    /// still finds no room shares one budget with every other such key. Nothing evicts a
    /// key with budget spent, so many addresses cannot reset one client's limit.
    /// (`MCP_OAUTH_RATE_LIMIT_MAX_KEYS`)
    ///
    /// ```
    /// let oauth = mcp_oauth::McpOAuth::builder()
    ///     .resource("https://mcp.example.com/mcp")
    ///     .authorization_server("https://auth.example.com")
    ///     .jwks_uri("https://auth.example.com/jwks")
    ///     .rate_limit_metadata(mcp_oauth::Rate::per_minute(60))
    ///     .rate_limit_max_keys(10_000)
    ///     .build()?;
    /// # let _ = oauth;
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn rate_limit_max_keys(mut self, max_keys: usize) -> Self {
        self.rate_limits.max_keys = max_keys;
        self
    }

    /// The limiters, each bad setting reported under its variable.
    pub(super) fn limits(&self, problem: &mut impl FnMut(&'static str, String)) -> RateLimits {
        RateLimits::new(&self.rate_limits, self.shared.as_ref()).unwrap_or_else(|bad| {
            for (name, message) in bad {
                problem(name, message);
            }
            RateLimits::default()
        })
    }

    /// Reads the `MCP_OAUTH_RATE_LIMIT_*` variables.
    pub(super) fn rate_limits_from(
        &mut self,
        vars: &HashMap<String, String>,
        problems: &mut Vec<ConfigProblem>,
    ) {
        let s = &mut self.rate_limits;
        for (name, slot) in [
            ("MCP_OAUTH_RATE_LIMIT_METADATA", &mut s.metadata),
            ("MCP_OAUTH_RATE_LIMIT_REFUSALS", &mut s.refusals),
            ("MCP_OAUTH_RATE_LIMIT_PRINCIPAL", &mut s.principal),
        ] {
            if let Some(v) = value(vars, name, problems) {
                match parse_setting(&v) {
                    Ok(rate) => *slot = rate,
                    Err(why) => problems.push(ConfigProblem::new(name, why)),
                }
            }
        }
        if let Some(v) = value(vars, "MCP_OAUTH_RATE_LIMIT_TRUSTED_HEADER", problems) {
            s.trusted_header = Some(v);
        }
        if let Some(v) = value(vars, "MCP_OAUTH_RATE_LIMIT_MAX_KEYS", problems) {
            match v.trim().parse() {
                Ok(n) => s.max_keys = n,
                Err(_) => problems.push(ConfigProblem::new(
                    "MCP_OAUTH_RATE_LIMIT_MAX_KEYS",
                    format!("`{v}` is not a whole number"),
                )),
            }
        }
    }
}

impl McpOAuth {
    /// How many keys each rate limit holds state for: metadata, refusals, principal
    /// (`None`: off). For tests: no stability promise.
    ///
    /// ```
    /// let oauth = mcp_oauth::McpOAuth::builder()
    ///     .resource("https://mcp.example.com/mcp")
    ///     .authorization_server("https://auth.example.com")
    ///     .jwks_uri("https://auth.example.com/jwks")
    ///     .rate_limit_metadata(mcp_oauth::Rate::per_minute(60))
    ///     .build()?;
    /// assert_eq!(oauth.rate_limit_keys(), [Some(0), None, None]);
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    #[doc(hidden)]
    pub fn rate_limit_keys(&self) -> [Option<usize>; 3] {
        self.inner.limits.lens()
    }
}
