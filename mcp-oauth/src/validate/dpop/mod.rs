//! DPoP (RFC 9449) on the resource server: proofs checked (RFC 9449 §4.3, [`proof`]),
//! keys named by their RFC 7638 thumbprint ([`thumbprint`]), identifiers remembered for
//! the proof window ([`replay`]), and the token's binding (`cnf.jkt`, §6) compared.
//!
//! Like the rest of `validate`, nothing here knows a request: the caller says what the
//! proof must match ([`Expected`]). A proof is checked on every request and never cached;
//! the token's claims (and so its `cnf.jkt`) come through the validation cache.

mod htu;
mod members;
pub(crate) mod nonce;
pub(crate) mod proof;
pub(crate) mod replay;
pub(crate) mod thumbprint;

#[cfg(test)]
mod tests;

use std::time::{Duration, UNIX_EPOCH};

use jsonwebtoken::Algorithm;
use url::Url;

pub(crate) use htu::RequestUri;
use nonce::{NonceCheck, Nonces};
pub(crate) use proof::{Expected, ProofRules};
use replay::{ReplayCache, Seen};

use crate::refusal::{DpopRejection, Refusal};
use crate::shared::{OnFailure, SharedState};
use crate::validate::claims::VerifiedClaims;
use crate::validate::clock::Clock;

/// The default window around now in which a proof's `iat` is accepted, either way
/// (RFC 9449 §11.1: "a few seconds or minutes"); the clock leeway is added to it.
///
/// ```
/// assert_eq!(mcp_oauth::DEFAULT_DPOP_WINDOW.as_secs(), 60);
/// ```
pub const DEFAULT_DPOP_WINDOW: Duration = Duration::from_secs(60);

/// The proof algorithms accepted by default: every asymmetric JWS algorithm this crate
/// verifies (RFC 9449 §4.3 check 5: never `none`, never a MAC).
pub(crate) const DEFAULT_DPOP_ALGORITHMS: [Algorithm; 9] = [
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
];

/// Checks proofs for one protected resource: the rules, the replay cache, the clock.
#[derive(Debug)]
pub(crate) struct ProofChecker {
    rules: ProofRules,
    /// The configured resource's origin: what `htu` is compared with (never the
    /// request's `Host`, which a proxy may rewrite and a client may forge).
    origin: Url,
    replay: ReplayCache,
    /// Server-provided nonces (RFC 9449 §9), when turned on.
    nonces: Option<Nonces>,
    /// The fleet's record of proofs seen, behind the local one; `None`: this process only.
    shared: Option<SharedState>,
    clock: Clock,
}

/// A proof accepted.
#[derive(Debug)]
pub(crate) struct Checked {
    /// The RFC 7638 thumbprint of the proof's key.
    pub(crate) jkt: String,
    /// A new nonce to offer on the response (RFC 9449 §8.2), when the proof's is ageing.
    pub(crate) next_nonce: Option<String>,
}

impl ProofChecker {
    pub(crate) fn new(rules: ProofRules, origin: Url, max_proofs: usize) -> Self {
        Self {
            rules,
            origin,
            replay: ReplayCache::new(max_proofs),
            nonces: None,
            shared: None,
            clock: Clock::default(),
        }
    }

    /// Remembers proofs in `shared` too, so a proof is good once per fleet.
    pub(crate) fn with_shared(mut self, shared: SharedState) -> Self {
        self.shared = Some(shared);
        self
    }

    /// Requires every proof to carry a nonce this resource made (RFC 9449 §9).
    pub(crate) fn with_nonces(mut self, nonces: Nonces) -> Self {
        self.nonces = Some(nonces);
        self
    }

    #[cfg(test)]
    fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The URI a request to `path` has as this resource is reached: the configured
    /// origin and the path.
    pub(crate) fn uri_for<'a>(&'a self, path: &'a str) -> RequestUri<'a> {
        RequestUri {
            origin: &self.origin,
            path,
        }
    }

    /// Checks `proof` against the request and, when nonces are on, its `nonce`; then
    /// (the proof good) remembers its `jti`. The refusal: 401 `invalid_dpop_proof`, 401
    /// `use_dpop_nonce` with a fresh nonce, or 503 when the replay cache is full of live
    /// proofs and cannot vouch for a new one.
    pub(crate) async fn check(
        &self,
        proof: &str,
        expected: &Expected<'_>,
    ) -> Result<Checked, Refusal> {
        let now = self
            .clock
            .wall()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut next_nonce = None;
        let nonce_first = |read: &proof::Proof| -> Result<(), Refusal> {
            let Some(nonces) = &self.nonces else {
                return Ok(());
            };
            match nonces.check(read.nonce.as_deref(), now, self.leeway()) {
                NonceCheck::Fresh => Ok(()),
                NonceCheck::Renew => {
                    next_nonce = Some(nonces.issue(now));
                    Ok(())
                }
                NonceCheck::Invalid => Err(Refusal::UseDpopNonce {
                    nonce: nonces.issue(now),
                }),
            }
        };
        let proof = self.rules.verify(proof, expected, now, nonce_first)?;
        let until = self.rules.last_second(proof.iat);
        match self.replay.first_use(&proof.jkt, &proof.jti, until, now) {
            Seen::First => {}
            Seen::Again => return Err(Refusal::InvalidDpopProof(DpopRejection::Replayed)),
            Seen::Full => {
                return Err(Refusal::Overloaded {
                    retry_after: Duration::from_secs(1),
                });
            }
        }
        if let Some(shared) = &self.shared {
            self.first_in_fleet(shared, &proof.jkt, &proof.jti, until.saturating_sub(now))
                .await?;
        }
        Ok(Checked {
            jkt: proof.jkt,
            next_nonce,
        })
    }

    /// The fleet's answer to "seen before?" (one `SET NX`, kept as long as the proof is
    /// accepted); without an answer, the failure policy decides.
    async fn first_in_fleet(
        &self,
        shared: &SharedState,
        jkt: &str,
        jti: &str,
        live_for: u64,
    ) -> Result<(), Refusal> {
        let key = shared.key("dpop-jti", &replay::hash(jkt, jti));
        let ttl = Duration::from_secs(live_for.saturating_add(1));
        match shared.store().insert_new(&key, ttl).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(Refusal::InvalidDpopProof(DpopRejection::Replayed)),
            Err(why) => {
                crate::shared::report(crate::shared::SharedUse::DpopReplay, &why);
                match shared.failure_policy() {
                    OnFailure::Local => Ok(()),
                    _ => Err(Refusal::Unavailable(format!(
                        "the DPoP replay check needs the shared state: {why}"
                    ))),
                }
            }
        }
    }

    fn leeway(&self) -> u64 {
        self.rules.leeway.as_secs()
    }
}

/// The key thumbprint a token is bound to: its `cnf.jkt` (RFC 9449 §6.1 for JWTs, §6.2
/// for introspection answers, which the claims hold alike). `Some("")` for a `cnf.jkt`
/// that is not a string: bound, to no key a proof can match.
pub(crate) fn bound_key(claims: &VerifiedClaims) -> Option<&str> {
    let jkt = claims.claims().get("cnf")?.as_object()?.get("jkt")?;
    Some(jkt.as_str().unwrap_or_default())
}

/// Does the proof's key (`jkt`) match the token's binding? Compared in constant time
/// (RFC 9449 §7: the thumbprints are equal).
fn matches_binding(bound: &str, jkt: &str) -> bool {
    !bound.is_empty()
        && aws_lc_rs::constant_time::verify_slices_are_equal(bound.as_bytes(), jkt.as_bytes())
            .is_ok()
}
