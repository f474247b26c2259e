//! The authorization servers this resource trusts, and which of them judges a token.
//!
//! Routing: a JWT goes to the issuer its `iss` names, and only to that issuer's keys or
//! introspection endpoint (RFC 8725 §3.8: never the union of several issuers' keys). A
//! JWT from an issuer not configured is a 401 before anything is fetched. Under the
//! `hybrid` strategy, a JWT whose issuer has keys is verified locally and every other
//! token is introspected. An opaque token is offered to the issuers its prefix names
//! (`opaque_token_prefix`), else to those that declared no prefix, in configuration
//! order, until one says it is active; a token no issuer may have issued is a 401
//! without any call ([`Authorities::offered`]).

use std::sync::Arc;

use tracing::Instrument as _;

use crate::discovery::Discovery;
use crate::discovery::report::StartupReport;
use crate::refusal::{Refusal, TokenRejection};
use crate::telemetry;
use crate::validate::claims::VerifiedClaims;
use crate::validate::introspection::Introspector;
use crate::validate::jwt::{Jws, JwtValidator};
use crate::validate::{LocalBoxFuture, TokenValidator};

/// How tokens are validated. (`MCP_OAUTH_VALIDATION`)
///
/// ```
/// use mcp_oauth::Validation;
///
/// assert_eq!(Validation::default(), Validation::Jwt);
/// assert_eq!("hybrid".parse(), Ok(Validation::Hybrid));
/// assert!("opaque".parse::<Validation>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Validation {
    /// JWT access tokens (RFC 9068), verified locally with the issuer's JWKS (configured
    /// or discovered) or a shared secret.
    #[default]
    Jwt,
    /// Every token is sent to the issuer's RFC 7662 introspection endpoint (configured or
    /// discovered). Needs introspection client credentials.
    Introspection,
    /// JWTs from issuers with keys are verified locally; every other token is
    /// introspected.
    Hybrid,
}

impl std::str::FromStr for Validation {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "jwt" => Ok(Self::Jwt),
            "introspection" => Ok(Self::Introspection),
            "hybrid" => Ok(Self::Hybrid),
            _ => Err(format!(
                "`{s}` is not one of `jwt`, `introspection`, `hybrid`"
            )),
        }
    }
}

impl Validation {
    pub(crate) fn verifies_jwts(self) -> bool {
        matches!(self, Self::Jwt | Self::Hybrid)
    }

    pub(crate) fn introspects(self) -> bool {
        matches!(self, Self::Introspection | Self::Hybrid)
    }
}

/// One trusted issuer: its discovery, and how it judges tokens.
#[derive(Debug)]
pub(crate) struct Authority {
    pub(crate) discovery: Arc<Discovery>,
    pub(crate) jwt: Option<JwtValidator>,
    pub(crate) introspection: Option<Introspector>,
}

impl Authority {
    fn issuer(&self) -> &str {
        self.discovery.issuer()
    }

    async fn judge_jwt(&self, token: &str, jws: Jws<'_>) -> Result<VerifiedClaims, Refusal> {
        match (&self.jwt, &self.introspection) {
            (Some(jwt), None) => jwt.check_jws(jws).await,
            (None, Some(introspection)) => introspection.introspect(token).await,
            (Some(jwt), Some(introspection)) => {
                if jwt.keys.available().await? {
                    jwt.check_jws(jws).await
                } else {
                    introspection.introspect(token).await
                }
            }
            (None, None) => Err(Refusal::InvalidToken(TokenRejection::WrongIssuer)),
        }
    }
}

/// Every trusted issuer, in configuration order.
#[derive(Debug)]
pub(crate) struct Authorities {
    pub(crate) list: Vec<Authority>,
}

impl Authorities {
    pub(crate) fn find(&self, issuer: &str) -> Option<&Authority> {
        // Code point for code point (RFC 9068 §4, RFC 8414 §4).
        self.list.iter().find(|a| a.issuer() == issuer)
    }

    async fn check(&self, token: &str) -> Result<VerifiedClaims, Refusal> {
        let jws = match Jws::parse(token) {
            Ok(jws) => jws,
            Err(_) if self.introspects() => return self.introspect(token).await,
            Err(why) => return Err(Refusal::InvalidToken(why)),
        };
        let issuer = jws.issuer();
        let has_issuer = issuer.is_some();
        if let Some(authority) = issuer.and_then(|i| self.find(i)) {
            // The configured issuer, never the token's unverified text.
            tracing::Span::current().record("issuer", authority.issuer());
            return authority.judge_jwt(token, jws).await;
        }
        if !has_issuer && self.introspects() {
            return self.introspect(token).await;
        }
        // Not one of ours. With a single JWT issuer, its validator says precisely what is
        // wrong (alg, typ, crit, then iss), still before any key fetch.
        let mut verifiers = self.list.iter().filter_map(|a| a.jwt.as_ref());
        match (verifiers.next(), verifiers.next()) {
            (Some(only), None) => only.check_jws(jws).await,
            _ => Err(Refusal::InvalidToken(TokenRejection::WrongIssuer)),
        }
    }

    fn introspects(&self) -> bool {
        self.list.iter().any(|a| a.introspection.is_some())
    }

    /// The introspecting issuers an opaque token is offered to, in configuration order:
    /// those with a prefix the token starts with; when it has none of theirs, those that
    /// declared no prefix (so none at all when every issuer declared prefixes). An opaque
    /// token carries no issuer; its prefix is the only thing that says whose it is.
    fn offered<'a>(&'a self, token: &'a str) -> impl Iterator<Item = &'a Introspector> + 'a {
        let introspectors = self.list.iter().filter_map(|a| a.introspection.as_ref());
        let claimed = introspectors.clone().any(|i| i.claims_prefix(token));
        introspectors.filter(move |i| {
            if claimed {
                i.claims_prefix(token)
            } else {
                i.prefixes.is_empty()
            }
        })
    }

    /// Asks each issuer [`offered`](Self::offered) the token in turn. The first `active`
    /// answer wins; if none is, one that could not answer makes it a 503; no issuer at
    /// all is a 401 without any call.
    async fn introspect(&self, token: &str) -> Result<VerifiedClaims, Refusal> {
        let cannot_judge =
            |r: &Refusal| matches!(r, Refusal::Unavailable(_) | Refusal::Overloaded { .. });
        let mut refusal = None;
        for introspector in self.offered(token) {
            match introspector.introspect(token).await {
                Ok(claims) => return Ok(claims),
                Err(e) if !refusal.as_ref().is_some_and(cannot_judge) || cannot_judge(&e) => {
                    refusal = Some(e);
                }
                Err(_) => {}
            }
        }
        Err(refusal.unwrap_or(Refusal::InvalidToken(TokenRejection::WrongIssuer)))
    }

    /// The latest report of every issuer, without fetching anything.
    pub(crate) fn report(&self) -> StartupReport {
        StartupReport {
            authorization_servers: self.list.iter().map(|a| a.discovery.report()).collect(),
        }
    }

    /// Discovers every issuer not yet discovered, concurrently.
    pub(crate) async fn discover(&self) -> StartupReport {
        let tasks: Vec<_> = self
            .list
            .iter()
            .map(|a| {
                let discovery = a.discovery.clone();
                actix_web::rt::spawn(async move { discovery.discover().await })
            })
            .collect();
        let mut reports = Vec::with_capacity(tasks.len());
        for (task, authority) in tasks.into_iter().zip(&self.list) {
            reports.push(match task.await {
                Ok(report) => report,
                Err(_) => authority.discovery.report(),
            });
        }
        StartupReport {
            authorization_servers: reports,
        }
    }

    pub(crate) fn discoveries(&self) -> impl Iterator<Item = &Arc<Discovery>> {
        self.list.iter().map(|a| &a.discovery)
    }
}

impl TokenValidator for Authorities {
    fn validate<'a>(
        &'a self,
        token: &'a str,
    ) -> LocalBoxFuture<'a, Result<VerifiedClaims, Refusal>> {
        Box::pin(async move {
            // The issuer (a configured one, once routed) and the outcome; never the token.
            let span = tracing::debug_span!(target: "mcp_oauth", "validate", issuer = tracing::field::Empty, outcome = tracing::field::Empty, kind = tracing::field::Empty);
            let verdict = self.check(token).instrument(span.clone()).await;
            telemetry::record(&span, verdict.as_ref().map(|_| ()));
            verdict
        })
    }
}
