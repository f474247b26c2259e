//! Rate limits: per client address on the metadata and diagnostics endpoints, per client
//! address on token work for requests that are not yet authenticated, and per principal
//! on authenticated requests. Each limit is off unless configured; an exceeded one is a
//! [`Refusal::RateLimited`] (429 + `Retry-After`, RFC 6585 §4).
//!
//! The refusal budget is spent **before** token work, never after: a request whose token
//! is already in the validation cache (verified before, still valid) is neither charged
//! nor limited; every other request to a protected path (no token, malformed
//! credentials, a token to verify or introspect) spends one request of its address's
//! budget first, and once that is spent gets a 429 without any token work. So a flood
//! of guesses costs one budget and then nothing (no signature check, no introspection
//! call), and clients behind the same NAT whose tokens are known keep being served; what
//! the flood delays is a new token from that address, until the budget refills.
//!
//! The state is `governor`'s (GCRA), in maps bounded by `max_keys` ([`keyed`]). With a
//! [`SharedState`] the budgets are the fleet's: what the local limiter lets through is
//! then counted by one atomic step on the shared tier ([`fleet`]).

mod fleet;
mod key;
mod keyed;
mod rate;

pub use rate::Rate;
pub(crate) use rate::parse_setting;

use std::hash::{BuildHasher, Hash};
use std::net::IpAddr;
use std::time::Duration;

use actix_web::dev::ServiceRequest;

use crate::refusal::Refusal;
use crate::shared::SharedState;
use crate::telemetry;
use crate::validate::claims::VerifiedClaims;
use key::ClientIp;
use keyed::{Limiter, Prehashed};

/// The default of [`RateLimitSettings::max_keys`]: keys (addresses or principals) each
/// limiter keeps state for.
pub(crate) const DEFAULT_MAX_KEYS: usize = 100_000;

/// The rate limit settings as the builder holds them (all off by default).
#[derive(Debug, Clone)]
pub(crate) struct RateLimitSettings {
    pub(crate) metadata: Option<Rate>,
    pub(crate) refusals: Option<Rate>,
    pub(crate) principal: Option<Rate>,
    pub(crate) trusted_header: Option<String>,
    pub(crate) max_keys: usize,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self {
            metadata: None,
            refusals: None,
            principal: None,
            trusted_header: None,
            max_keys: DEFAULT_MAX_KEYS,
        }
    }
}

/// Which limit refused a request (the `limit` label of the 429 counter).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Which {
    Metadata,
    Refusals,
    Principal,
}

impl Which {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Metadata => "metadata",
            Self::Refusals => "refusals",
            Self::Principal => "principal",
        }
    }
}

/// The limiters of one middleware, shared by its workers.
#[derive(Default)]
pub(crate) struct RateLimits {
    metadata: Option<Limiter<IpAddr>>,
    refusals: Option<Limiter<IpAddr>>,
    principal: Option<Limiter<u64, Prehashed>>,
    client_ip: ClientIp,
    /// The fleet's budgets, behind the local limiters (with a [`SharedState`]).
    fleet: Option<fleet::Fleet>,
}

impl RateLimits {
    /// The limiters `settings` describe (the fleet's with `shared`), or every problem with
    /// them, each naming its variable.
    pub(crate) fn new(
        settings: &RateLimitSettings,
        shared: Option<&SharedState>,
    ) -> Result<Self, Vec<(&'static str, String)>> {
        let mut problems = Vec::new();
        let max_keys = settings.max_keys;
        if max_keys == 0 {
            problems.push((
                "MCP_OAUTH_RATE_LIMIT_MAX_KEYS",
                "must be at least 1".to_owned(),
            ));
        }
        let (m, p) = (max_keys.max(1), &mut problems);
        let metadata = limiter(settings.metadata, "MCP_OAUTH_RATE_LIMIT_METADATA", m, p);
        let refusals = limiter(settings.refusals, "MCP_OAUTH_RATE_LIMIT_REFUSALS", m, p);
        let principal = limiter(settings.principal, "MCP_OAUTH_RATE_LIMIT_PRINCIPAL", m, p);
        let client_ip = match settings.trusted_header.as_deref().map(ClientIp::parse) {
            None => ClientIp::Peer,
            Some(Ok(ip)) => ip,
            Some(Err(why)) => {
                problems.push(("MCP_OAUTH_RATE_LIMIT_TRUSTED_HEADER", why));
                ClientIp::Peer
            }
        };
        if !problems.is_empty() {
            return Err(problems);
        }
        let quota = |rate: Option<Rate>| rate.and_then(|r| r.quota().ok());
        let fleet = shared.map(|shared| {
            let s = settings;
            let (m, r, p) = (quota(s.metadata), quota(s.refusals), quota(s.principal));
            fleet::Fleet::new(shared.clone(), m, r, p)
        });
        Ok(Self {
            metadata,
            refusals,
            principal,
            client_ip,
            fleet,
        })
    }

    /// Spends one request of the address's metadata budget (the RFC 9728 metadata and
    /// the diagnostics endpoints).
    pub(crate) async fn metadata(&self, req: &ServiceRequest) -> Result<(), Refusal> {
        self.by_address(&self.metadata, req, Which::Metadata).await
    }

    /// Spends one request of the address's refusal budget: called before token work for
    /// every request not answered from the validation cache.
    pub(crate) async fn refusals(&self, req: &ServiceRequest) -> Result<(), Refusal> {
        self.by_address(&self.refusals, req, Which::Refusals).await
    }

    /// A request refused before any token work (no usable credentials) spends the
    /// address's refusal budget as well: `refusal`, or the 429 once the budget is spent.
    pub(crate) async fn charge_refusal(&self, req: &ServiceRequest, refusal: Refusal) -> Refusal {
        self.refusals(req).await.err().unwrap_or(refusal)
    }

    /// Spends one request of the principal's budget (a request with a valid token, spent
    /// before its DPoP proof is checked). A token without a principal (neither `sub` nor
    /// `client_id`) is not limited. The key is the principal's 64-bit keyed hash, computed
    /// once per validated token: the map hashes nothing more. In a fleet, one round trip
    /// per request (keyed by the principal's SHA-256), once the local quota allows it.
    pub(crate) async fn principal(&self, claims: &VerifiedClaims) -> Result<(), Refusal> {
        let (Some(limiter), Some(key)) = (&self.principal, claims.principal_key()) else {
            return Ok(());
        };
        limiter
            .check(&key)
            .map_err(|wait| refused(wait, Which::Principal))?;
        self.in_fleet(Which::Principal, || fleet::principal_id(claims))
            .await
    }

    /// The fleet's budget, once the local one allowed the request (see [`fleet`]).
    async fn in_fleet(
        &self,
        which: Which,
        id: impl FnOnce() -> Option<[u8; 32]>,
    ) -> Result<(), Refusal> {
        let Some(fleet) = &self.fleet else {
            return Ok(());
        };
        fleet
            .check(which, id)
            .await
            .map_err(|wait| refused(wait, which))
    }

    async fn by_address(
        &self,
        limiter: &Option<Limiter<IpAddr>>,
        req: &ServiceRequest,
        which: Which,
    ) -> Result<(), Refusal> {
        let Some(limiter) = limiter else {
            return Ok(());
        };
        // A request with no address at all (not TCP) is not limited.
        let Some(ip) = self.client_ip.key(req) else {
            return Ok(());
        };
        limiter.check(&ip).map_err(|wait| refused(wait, which))?;
        self.in_fleet(which, || Some(fleet::address_id(ip))).await
    }

    /// How many keys each limiter holds (metadata, refusals, principal). For tests.
    pub(crate) fn lens(&self) -> [Option<usize>; 3] {
        [
            self.metadata.as_ref().map(Limiter::len),
            self.refusals.as_ref().map(Limiter::len),
            self.principal.as_ref().map(Limiter::len),
        ]
    }
}

/// The limiter of `rate` (named `name` in a problem), if it is on and a rate.
fn limiter<K: Hash + Eq + Clone, S: BuildHasher + Clone + Default>(
    rate: Option<Rate>,
    name: &'static str,
    max_keys: usize,
    problems: &mut Vec<(&'static str, String)>,
) -> Option<Limiter<K, S>> {
    match rate?.quota() {
        Ok(quota) => Some(Limiter::new(quota, max_keys)),
        Err(why) => {
            problems.push((name, why));
            None
        }
    }
}

fn refused(retry_after: Duration, which: Which) -> Refusal {
    telemetry::rate_limited(which.name());
    Refusal::RateLimited { retry_after }
}
