//! DPoP settings (RFC 9449): which schemes the resource accepts, how old a proof may be.

use std::sync::Arc;
use std::time::Duration;

use url::Url;

use super::McpOAuthBuilder;
use crate::DpopMode;
use crate::resource::ResourceParts;
use crate::resource::dpop::DpopAdvert;
use crate::validate::dpop::nonce::{MIN_NONCE_SECRET_BYTES, Nonces};
use crate::validate::dpop::replay::DEFAULT_MAX_PROOFS;
use crate::validate::dpop::{DEFAULT_DPOP_ALGORITHMS, ProofChecker, ProofRules};

/// The longest proof window accepted (RFC 9449 §11.1: seconds or minutes).
pub(crate) const MAX_DPOP_WINDOW: Duration = Duration::from_secs(600);
/// The nonce lifetimes accepted: long enough for a client's round trip, short enough
/// that a nonce is not a standing credential.
const NONCE_LIFETIMES: std::ops::RangeInclusive<Duration> =
    Duration::from_secs(10)..=Duration::from_secs(3600);

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

    /// Require server-provided nonces in DPoP proofs (RFC 9449 §9; default off). A proof
    /// without a current nonce is refused with 401 `use_dpop_nonce` and a `DPoP-Nonce`
    /// header naming the one to use; past half its lifetime a nonce is replaced on the
    /// successful response. This bounds how far ahead a stolen key's holder can make
    /// proofs. Nonces are made with an HMAC, not stored: give every instance of a fleet
    /// the same [`dpop_nonce_secret`](Self::dpop_nonce_secret) (without one, each process
    /// makes a random key and accepts only its own nonces). `MCP_OAUTH_DPOP_NONCE`.
    ///
    /// ```
    /// use mcp_oauth::McpOAuth;
    ///
    /// let oauth = McpOAuth::builder()
    ///     .resource("https://mcp.example.com/mcp")
    ///     .authorization_server("https://auth.example.com")
    ///     .jwks_uri("https://auth.example.com/jwks")
    ///     .dpop_nonces(true)
    ///     .build()?;
    /// # let _ = oauth;
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn dpop_nonces(mut self, on: bool) -> Self {
        self.dpop_nonce = on;
        self
    }

    /// The key DPoP nonces are made with: at least 32 bytes, the same on every instance
    /// that must accept the others' nonces. `MCP_OAUTH_DPOP_NONCE_SECRET` (or `_FILE`).
    ///
    /// ```
    /// use mcp_oauth::McpOAuth;
    ///
    /// let builder = McpOAuth::builder()
    ///     .resource("https://mcp.example.com/mcp")
    ///     .authorization_server("https://auth.example.com")
    ///     .jwks_uri("https://auth.example.com/jwks")
    ///     .dpop_nonces(true);
    /// assert!(builder.clone().dpop_nonce_secret([7u8; 32]).build().is_ok());
    /// assert!(builder.dpop_nonce_secret(*b"too short").build().is_err());
    /// ```
    pub fn dpop_nonce_secret(mut self, secret: impl Into<Vec<u8>>) -> Self {
        self.dpop_nonce_secret = Some(crate::secret::Secret(secret.into()));
        self
    }

    /// How long a DPoP nonce is accepted (default 300 s; 10 s to 3600 s).
    /// `MCP_OAUTH_DPOP_NONCE_LIFETIME_SECS`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use mcp_oauth::McpOAuth;
    ///
    /// let oauth = McpOAuth::builder()
    ///     .resource("https://mcp.example.com/mcp")
    ///     .authorization_server("https://auth.example.com")
    ///     .jwks_uri("https://auth.example.com/jwks")
    ///     .dpop_nonces(true)
    ///     .dpop_nonce_lifetime(Duration::from_secs(120))
    ///     .build()?;
    /// # let _ = oauth;
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn dpop_nonce_lifetime(mut self, lifetime: Duration) -> Self {
        self.dpop_nonce_lifetime = lifetime;
        self
    }
}

impl McpOAuthBuilder {
    /// What is wrong with the DPoP settings, if anything: the variable and why.
    pub(crate) fn dpop_problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        let secs = self.dpop_window.as_secs();
        if self.dpop_window < Duration::from_secs(1) || self.dpop_window > MAX_DPOP_WINDOW {
            problems.push((
                "MCP_OAUTH_DPOP_WINDOW_SECS",
                format!("{secs} s is outside 1 s to {} s", MAX_DPOP_WINDOW.as_secs()),
            ));
        }
        let lifetime = self.dpop_nonce_lifetime;
        if !(NONCE_LIFETIMES).contains(&lifetime) {
            problems.push((
                "MCP_OAUTH_DPOP_NONCE_LIFETIME_SECS",
                format!(
                    "{} s is outside {} s to {} s",
                    lifetime.as_secs(),
                    NONCE_LIFETIMES.start().as_secs(),
                    NONCE_LIFETIMES.end().as_secs()
                ),
            ));
        }
        if let Some(secret) = &self.dpop_nonce_secret {
            if !self.dpop_nonce {
                problems.push((
                    "MCP_OAUTH_DPOP_NONCE_SECRET",
                    "is set but DPoP nonces are off (MCP_OAUTH_DPOP_NONCE)".to_owned(),
                ));
            } else if secret.0.len() < MIN_NONCE_SECRET_BYTES {
                problems.push((
                    "MCP_OAUTH_DPOP_NONCE_SECRET",
                    format!("must be at least {MIN_NONCE_SECRET_BYTES} bytes"),
                ));
            }
        }
        if self.dpop_nonce && self.dpop == DpopMode::Off {
            problems.push((
                "MCP_OAUTH_DPOP_NONCE",
                "DPoP nonces need DPoP (MCP_OAUTH_DPOP is off)".to_owned(),
            ));
        }
        problems
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
            let mut checker = ProofChecker::new(rules, origin.clone(), DEFAULT_MAX_PROOFS);
            if let Some(shared) = &self.shared {
                checker = checker.with_shared(shared.clone());
            }
            let checker = match self.dpop_nonce {
                true => checker.with_nonces(Nonces::new(
                    self.dpop_nonce_secret.as_ref().map(|s| &s.0[..]),
                    self.dpop_nonce_lifetime,
                    origin.as_str(),
                )),
                false => checker,
            };
            Arc::new(checker)
        });
        (advert, checker)
    }
}
