//! DPoP settings (RFC 9449): which schemes the resource accepts, how old a proof may be.

use std::sync::Arc;
use std::time::Duration;

use url::Url;

use super::McpOAuthBuilder;
use crate::DpopMode;
use crate::resource::ResourceParts;
use crate::resource::dpop::DpopAdvert;
use crate::validate::dpop::replay::DEFAULT_MAX_PROOFS;
use crate::validate::dpop::{DEFAULT_DPOP_ALGORITHMS, ProofChecker, ProofRules};

/// The longest proof window accepted (RFC 9449 §11.1: seconds or minutes).
pub(crate) const MAX_DPOP_WINDOW: Duration = Duration::from_secs(600);

impl McpOAuthBuilder {
    /// Which token schemes are accepted (RFC 9449 §7): [`DpopMode::Allowed`] (the
    /// default: `Bearer` for unbound tokens, `DPoP` with a proof for bound ones),
    /// [`DpopMode::Required`] (`DPoP` only) or [`DpopMode::Off`] (`Bearer` only, no proof
    /// read, and the `cnf` claim not looked at: the behaviour before DPoP support).
    /// `MCP_OAUTH_DPOP`.
    ///
    /// Proofs are checked against the configured resource's origin, never the request's
    /// `Host`: behind a proxy that rewrites the path, `htu` cannot match. The replay
    /// cache is per process.
    ///
    /// ```
    /// use mcp_oauth::{DpopMode, McpOAuth};
    ///
    /// let oauth = McpOAuth::builder()
    ///     .resource("https://mcp.example.com/mcp")
    ///     .authorization_server("https://auth.example.com")
    ///     .jwks_uri("https://auth.example.com/jwks")
    ///     .dpop(DpopMode::Required)
    ///     .build()?;
    /// # let _ = oauth;
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn dpop(mut self, mode: DpopMode) -> Self {
        self.dpop = mode;
        self
    }

    /// How far a DPoP proof's `iat` may be from now, either way, before the clock
    /// [`leeway`](Self::leeway) (default [`DEFAULT_DPOP_WINDOW`](crate::DEFAULT_DPOP_WINDOW),
    /// 60 s; 1 s to 600 s). Its `jti` is remembered as long. `MCP_OAUTH_DPOP_WINDOW_SECS`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use mcp_oauth::McpOAuth;
    ///
    /// let builder = McpOAuth::builder()
    ///     .resource("https://mcp.example.com/mcp")
    ///     .authorization_server("https://auth.example.com")
    ///     .jwks_uri("https://auth.example.com/jwks");
    /// assert!(builder.clone().dpop_proof_window(Duration::from_secs(30)).build().is_ok());
    /// assert!(builder.dpop_proof_window(Duration::ZERO).build().is_err());
    /// ```
    pub fn dpop_proof_window(mut self, window: Duration) -> Self {
        self.dpop_window = window;
        self
    }

    /// Accept a token bound to no key (no `cnf.jkt`) with the `DPoP` scheme, its proof
    /// checked all the same (default `false`: 401 `invalid_token`, the client should use
    /// `Bearer`). Such a request is not sender-constrained: the token works without the
    /// key too. `MCP_OAUTH_DPOP_ACCEPT_UNBOUND`.
    ///
    /// ```
    /// use mcp_oauth::McpOAuth;
    ///
    /// let oauth = McpOAuth::builder()
    ///     .resource("https://mcp.example.com/mcp")
    ///     .authorization_server("https://auth.example.com")
    ///     .jwks_uri("https://auth.example.com/jwks")
    ///     .dpop_accept_unbound_tokens(true)
    ///     .build()?;
    /// # let _ = oauth;
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn dpop_accept_unbound_tokens(mut self, accept: bool) -> Self {
        self.dpop_accept_unbound = accept;
        self
    }
}

impl McpOAuthBuilder {
    /// What is wrong with the DPoP settings, if anything.
    pub(crate) fn dpop_problem(&self) -> Option<String> {
        let secs = self.dpop_window.as_secs();
        (self.dpop_window < Duration::from_secs(1) || self.dpop_window > MAX_DPOP_WINDOW)
            .then(|| format!("{secs} s is outside 1 s to {} s", MAX_DPOP_WINDOW.as_secs()))
    }

    /// What the challenges and metadata say, and the proof checker (`None` when off or
    /// when `resource` has no origin, which `build` refuses anyway).
    pub(crate) fn dpop_parts(&self, resource: &str) -> (DpopAdvert, Option<Arc<ProofChecker>>) {
        let algorithms = DEFAULT_DPOP_ALGORITHMS.to_vec();
        let advert = DpopAdvert {
            mode: self.dpop,
            // `Algorithm`'s `Debug` is its JWA name (RFC 7518 §3.1) for every one listed.
            algorithms: algorithms.iter().map(|a| format!("{a:?}")).collect(),
        };
        let origin = Url::parse(ResourceParts::split(resource).origin).ok();
        let checker = origin.filter(|_| self.dpop != DpopMode::Off).map(|origin| {
            let rules = ProofRules {
                algorithms,
                window: self.dpop_window,
                leeway: self.leeway,
            };
            Arc::new(ProofChecker::new(rules, origin, DEFAULT_MAX_PROOFS))
        });
        (advert, checker)
    }
}
