//! The authorization server's signing keys (RFC 7517) and their cache.
//!
//! Keys come only from the configured `jwks_uri` (RFC 9068 §4; `jku`, `x5u`, `jwk` and
//! `x5c` token headers are never read). Each key is pinned to the algorithms its type
//! and curve allow (RFC 8725 §3.1). The cache refetches on an unknown `kid` at most once
//! per cooldown, one fetch at a time (OpenID Connect Core §10.1.1: an unknown `kid` is
//! how key rotation shows), and keeps the last good key set when a fetch fails.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use aws_lc_rs::signature::{self, ParsedPublicKey};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::{
    AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, KeyOperations, PublicKeyUse,
};

use crate::http::{self, HttpLimits};
use crate::refusal::{Refusal, TokenRejection};
use crate::sync::{self, flight::SingleFlight};
use crate::telemetry::IssuerMetrics;
use crate::validate::clock::Clock;

/// The smallest RSA modulus accepted (RFC 8725 §3.5, NIST SP 800-131A).
const MIN_RSA_BITS: usize = 2048;
/// Keys read from one document; the rest are ignored.
const MAX_KEYS: usize = 64;

/// What a key is, as far as algorithm pinning cares.
/// The algorithms a key type may verify (RFC 7518 §3; RFC 8725 §3.1: a key is used with
/// the algorithms of its type and curve only).
const RSA_ALGORITHMS: [Algorithm; 6] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
];

/// One verification key, pinned to the algorithms it may verify: one public key parsed
/// once per algorithm (parsing an RSA key per verification would cost ~10% of it).
pub(crate) struct VerifyingKey {
    verifiers: Vec<(Algorithm, ParsedPublicKey)>,
}

impl std::fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let algs: Vec<Algorithm> = self.verifiers.iter().map(|(a, _)| *a).collect();
        f.debug_struct("VerifyingKey")
            .field("algorithms", &algs)
            .finish()
    }
}

impl VerifyingKey {
    /// May this key verify a signature made with `alg`?
    pub(crate) fn fits(&self, alg: Algorithm) -> bool {
        self.verifiers.iter().any(|(a, _)| *a == alg)
    }

    /// Does `signature` (raw bytes) sign `message` under `alg`? `false` for an `alg`
    /// this key does not fit.
    pub(crate) fn verifies(&self, alg: Algorithm, message: &[u8], signature: &[u8]) -> bool {
        self.verifiers
            .iter()
            .find(|(a, _)| *a == alg)
            .is_some_and(|(_, key)| key.verify_sig(message, signature).is_ok())
    }

    pub(crate) fn from_jwk(jwk: &Jwk) -> Result<Self, String> {
        if jwk
            .common
            .public_key_use
            .as_ref()
            .is_some_and(|u| *u != PublicKeyUse::Signature)
        {
            return Err("`use` is not `sig`".into());
        }
        if jwk
            .common
            .key_operations
            .as_ref()
            .is_some_and(|ops| !ops.contains(&KeyOperations::Verify))
        {
            return Err("`key_ops` lacks `verify`".into());
        }
        // The JWK's own `alg`, when it names one: then only that algorithm.
        let pinned = match jwk.common.key_algorithm {
            None => None,
            Some(a) => Some(signing_algorithm(a).ok_or("`alg` is not a signature algorithm")?),
        };
        let allowed = |alg: &Algorithm| pinned.is_none_or(|p| p == *alg);
        let decode = |field: &str, value: &str| {
            URL_SAFE_NO_PAD
                .decode(value.trim_end_matches('='))
                .map_err(|_| format!("`{field}` is not base64url"))
        };
        let parse = |alg: &'static dyn signature::VerificationAlgorithm, bytes: &[u8]| {
            ParsedPublicKey::new(alg, bytes).map_err(|e| format!("unusable key: {e}"))
        };
        let mut verifiers = Vec::new();
        match &jwk.algorithm {
            AlgorithmParameters::RSA(rsa) => {
                let n = decode("n", &rsa.n)?;
                let e = decode("e", &rsa.e)?;
                let n = &n[n.iter().take_while(|b| **b == 0).count()..];
                let bits = n.len() * 8;
                if bits < MIN_RSA_BITS {
                    return Err(format!("RSA key of {bits} bits is below {MIN_RSA_BITS}"));
                }
                let components = signature::RsaPublicKeyComponents { n, e: &e[..] };
                for alg in RSA_ALGORITHMS.into_iter().filter(allowed) {
                    let params = match alg {
                        Algorithm::RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
                        Algorithm::RS384 => &signature::RSA_PKCS1_2048_8192_SHA384,
                        Algorithm::RS512 => &signature::RSA_PKCS1_2048_8192_SHA512,
                        Algorithm::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
                        Algorithm::PS384 => &signature::RSA_PSS_2048_8192_SHA384,
                        _ => &signature::RSA_PSS_2048_8192_SHA512,
                    };
                    let key = components
                        .to_parsed_public_key(params)
                        .map_err(|e| format!("unusable RSA key: {e}"))?;
                    verifiers.push((alg, key));
                }
            }
            AlgorithmParameters::EllipticCurve(ec) => {
                let (alg, verification): (_, &'static dyn signature::VerificationAlgorithm) =
                    match ec.curve {
                        EllipticCurve::P256 => {
                            (Algorithm::ES256, &signature::ECDSA_P256_SHA256_FIXED)
                        }
                        EllipticCurve::P384 => {
                            (Algorithm::ES384, &signature::ECDSA_P384_SHA384_FIXED)
                        }
                        _ => return Err("unsupported EC curve".into()),
                    };
                if allowed(&alg) {
                    // SEC 1 uncompressed point: 0x04 || x || y.
                    let mut point = vec![0x04];
                    point.extend(decode("x", &ec.x)?);
                    point.extend(decode("y", &ec.y)?);
                    verifiers.push((alg, parse(verification, &point)?));
                }
            }
            AlgorithmParameters::OctetKeyPair(okp) if okp.curve == EllipticCurve::Ed25519 => {
                if allowed(&Algorithm::EdDSA) {
                    let x = decode("x", &okp.x)?;
                    verifiers.push((Algorithm::EdDSA, parse(&signature::ED25519, &x)?));
                }
            }
            // Symmetric keys never come from a JWKS (RFC 8725 §2.1: no HS* with published keys).
            AlgorithmParameters::OctetKey(_) => {
                return Err("symmetric keys are not accepted".into());
            }
            _ => return Err("unsupported key type".into()),
        }
        if verifiers.is_empty() {
            return Err("`alg` does not match the key type".into());
        }
        Ok(Self { verifiers })
    }
}

fn signing_algorithm(a: KeyAlgorithm) -> Option<Algorithm> {
    Some(match a {
        KeyAlgorithm::RS256 => Algorithm::RS256,
        KeyAlgorithm::RS384 => Algorithm::RS384,
        KeyAlgorithm::RS512 => Algorithm::RS512,
        KeyAlgorithm::PS256 => Algorithm::PS256,
        KeyAlgorithm::PS384 => Algorithm::PS384,
        KeyAlgorithm::PS512 => Algorithm::PS512,
        KeyAlgorithm::ES256 => Algorithm::ES256,
        KeyAlgorithm::ES384 => Algorithm::ES384,
        KeyAlgorithm::EdDSA => Algorithm::EdDSA,
        _ => return None,
    })
}

/// A parsed key set.
/// Counts the key sets that lost a key: the validation cache drops what it remembered
/// from before, so a token signed by a key taken out of the JWKS stops working at the next
/// fetch, not at its cache entry's end. Shared by every `JwksCache` of one middleware.
pub(crate) type KeyEpoch = Arc<AtomicU64>;

#[derive(Debug, Default)]
pub(crate) struct KeySet {
    by_kid: HashMap<String, Arc<VerifyingKey>>,
    all: Vec<Arc<VerifyingKey>>,
}

/// The outcome of looking a key up.
#[derive(Debug)]
pub(crate) enum Lookup {
    Found(Arc<VerifyingKey>),
    /// A key has this `kid` but cannot verify this `alg`.
    Mismatch,
    Unknown,
}

impl KeySet {
    /// Parses a JWKS document. Keys that are malformed, weak, symmetric or for
    /// encryption are skipped one by one (a real JWKS may mix them with good keys);
    /// a document with no usable key is an error, so it never replaces a good set.
    pub(crate) fn parse(body: &[u8]) -> Result<Self, String> {
        #[derive(serde::Deserialize)]
        struct Document {
            keys: Vec<serde_json::Value>,
        }
        let doc: Document =
            serde_json::from_slice(body).map_err(|_| "the JWKS is not a JSON key set")?;
        let mut set = Self::default();
        for value in doc.keys.into_iter().take(MAX_KEYS) {
            let Ok(jwk) = serde_json::from_value::<Jwk>(value) else {
                continue;
            };
            match VerifyingKey::from_jwk(&jwk) {
                Ok(key) => {
                    let key = Arc::new(key);
                    if let Some(kid) = &jwk.common.key_id {
                        set.by_kid.entry(kid.clone()).or_insert_with(|| key.clone());
                    }
                    set.all.push(key);
                }
                Err(why) => {
                    tracing::debug!(target: "mcp_oauth", kid = ?jwk.common.key_id, "skipping JWKS key: {why}")
                }
            }
        }
        if set.all.is_empty() {
            return Err("the JWKS has no usable signing key".into());
        }
        Ok(set)
    }

    /// The key for `kid` (untrusted input: only a map lookup), or without a `kid` the
    /// single key that fits `alg`.
    /// Whether `newer` lacks a key this set has.
    fn loses_keys_in(&self, newer: &KeySet) -> bool {
        self.all.len() > newer.all.len()
            || self
                .by_kid
                .keys()
                .any(|kid| !newer.by_kid.contains_key(kid))
    }

    /// How many usable keys the set holds, and every algorithm one of them may verify
    /// (for `cargo mcp-oauth doctor`).
    pub(crate) fn summary(&self) -> (usize, Vec<Algorithm>) {
        let mut algorithms: Vec<Algorithm> = Vec::new();
        for (alg, _) in self.all.iter().flat_map(|k| &k.verifiers) {
            if !algorithms.contains(alg) {
                algorithms.push(*alg);
            }
        }
        (self.all.len(), algorithms)
    }

    pub(crate) fn select(&self, kid: Option<&str>, alg: Algorithm) -> Lookup {
        match kid {
            Some(kid) => match self.by_kid.get(kid) {
                Some(k) if k.fits(alg) => Lookup::Found(k.clone()),
                Some(_) => Lookup::Mismatch,
                None => Lookup::Unknown,
            },
            None => {
                let mut fitting = self.all.iter().filter(|k| k.fits(alg));
                match (fitting.next(), fitting.next()) {
                    (Some(k), None) => Lookup::Found(k.clone()),
                    _ => Lookup::Unknown,
                }
            }
        }
    }
}

/// How the key cache behaves. Every field has a default; see [`JwksSettings::default`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct JwksSettings {
    pub(crate) limits: HttpLimits,
    /// Least time between two refetches caused by unknown `kid`s.
    pub(crate) refetch_cooldown: Duration,
    /// Least time between attempts after a failed fetch.
    pub(crate) retry_after_failure: Duration,
    /// Freshness when the response has no `Cache-Control`.
    pub(crate) default_ttl: Duration,
    /// `Cache-Control: max-age` is clamped into this range.
    pub(crate) min_ttl: Duration,
    pub(crate) max_ttl: Duration,
}

impl Default for JwksSettings {
    fn default() -> Self {
        Self {
            limits: HttpLimits {
                timeout: Duration::from_secs(5),
                max_body: 256 * 1024,
            },
            refetch_cooldown: Duration::from_secs(30),
            retry_after_failure: Duration::from_secs(2),
            default_ttl: Duration::from_secs(300),
            min_ttl: Duration::from_secs(60),
            max_ttl: Duration::from_secs(24 * 3600),
        }
    }
}

#[derive(Debug, Clone, Default)]
struct Snapshot {
    keys: Option<Arc<KeySet>>,
    /// Bumped by every completed fetch attempt.
    generation: u64,
    fresh_until: Option<Instant>,
    last_failure: Option<Instant>,
    last_unknown_kid_refetch: Option<Instant>,
}

/// The key cache of one `jwks_uri`. Shared by all workers behind an `Arc`.
#[derive(Debug)]
pub(crate) struct JwksCache {
    uri: String,
    settings: JwksSettings,
    state: RwLock<Snapshot>,
    /// At most one fetch at a time; concurrent askers share it.
    fetches: SingleFlight<(), ()>,
    /// A background refresh is scheduled or running: schedule no other.
    refreshing: AtomicBool,
    epoch: KeyEpoch,
    clock: Clock,
    /// The issuer's counters (fetches).
    metrics: Arc<IssuerMetrics>,
}

impl JwksCache {
    /// The JWKS URL this cache fetches.
    pub(crate) fn uri(&self) -> &str {
        &self.uri
    }

    /// The timeout and size cap this cache fetches with.
    pub(crate) fn limits(&self) -> HttpLimits {
        self.settings.limits
    }

    pub(crate) fn new(
        uri: String,
        settings: JwksSettings,
        epoch: KeyEpoch,
        metrics: Arc<IssuerMetrics>,
    ) -> Self {
        Self {
            metrics,
            uri,
            settings,
            state: RwLock::new(Snapshot::default()),
            fetches: SingleFlight::new(1),
            refreshing: AtomicBool::new(false),
            epoch,
            clock: Clock::default(),
        }
    }

    /// The same cache on another clock (tests step it past TTLs, cooldowns and back-offs).
    #[cfg(test)]
    fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    fn snapshot(&self) -> Snapshot {
        sync::read(&self.state).clone()
    }

    fn update(&self, f: impl FnOnce(&mut Snapshot)) {
        f(&mut sync::write(&self.state))
    }

    /// The key to verify a token with header `kid` and `alg`.
    pub(crate) async fn key_for(
        self: &Arc<Self>,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> Result<Arc<VerifyingKey>, Refusal> {
        let seen = self.snapshot();
        if let Some(keys) = &seen.keys {
            match keys.select(kid, alg) {
                Lookup::Found(key) => {
                    if seen.fresh_until.is_none_or(|t| self.clock.now() >= t) {
                        self.refresh_in_background();
                    }
                    return Ok(key);
                }
                Lookup::Mismatch => return Err(Refusal::InvalidToken(TokenRejection::KeyMismatch)),
                Lookup::Unknown => {}
            }
        }
        // Slow path: no keys yet, or an unknown kid. One request fetches; the rest share
        // that fetch and then look again. A request arriving after a fetch it did not see
        // start (the generation moved) looks at its result without fetching again.
        self.fetches
            .run((), || async {
                let now = self.snapshot();
                if now.generation == seen.generation && self.may_fetch(&now) {
                    if now.keys.is_some() {
                        self.update(|s| s.last_unknown_kid_refetch = Some(self.clock.now()));
                    }
                    self.fetch().await;
                }
            })
            .await;
        let now = self.snapshot();
        match &now.keys {
            None => Err(Refusal::Unavailable(format!(
                "no signing keys: the JWKS at {} could not be fetched",
                self.uri
            ))),
            Some(keys) => match keys.select(kid, alg) {
                Lookup::Found(key) => Ok(key),
                Lookup::Mismatch => Err(Refusal::InvalidToken(TokenRejection::KeyMismatch)),
                // The key may be new and the JWKS unreachable: the token cannot be judged,
                // and a 401 would send the client to re-authorize in a loop: 503
                // (RFC 9110 §15.6.4).
                Lookup::Unknown if now.last_failure.is_some() => {
                    Err(Refusal::Unavailable(format!(
                        "unknown key id and the JWKS at {} could not be refreshed",
                        self.uri
                    )))
                }
                Lookup::Unknown => Err(Refusal::InvalidToken(TokenRejection::UnknownKey)),
            },
        }
    }

    /// The rate limits: never fetch in a loop, whatever tokens arrive.
    fn may_fetch(&self, s: &Snapshot) -> bool {
        let now = self.clock.now();
        let since = |t: Option<Instant>| t.map(|t| now.saturating_duration_since(t));
        if since(s.last_failure).is_some_and(|d| d < self.settings.retry_after_failure) {
            return false;
        }
        if s.keys.is_some()
            && since(s.last_unknown_kid_refetch).is_some_and(|d| d < self.settings.refetch_cooldown)
        {
            return false;
        }
        true
    }

    /// Fetches once, then stores the new set, or keeps the old one on failure.
    async fn fetch(&self) {
        let result = http::get_json(&self.uri, self.settings.limits)
            .await
            .map_err(|e| e.to_string())
            .and_then(|fetched| KeySet::parse(&fetched.body).map(|keys| (keys, fetched.max_age)));
        let s = &self.settings;
        self.metrics.jwks_fetch(result.is_ok());
        match result {
            Ok((keys, max_age)) => {
                let ttl = max_age.unwrap_or(s.default_ttl).clamp(s.min_ttl, s.max_ttl);
                tracing::debug!(target: "mcp_oauth", uri = %self.uri, keys = keys.all.len(), ?ttl, "JWKS fetched");
                if self
                    .snapshot()
                    .keys
                    .is_some_and(|old| old.loses_keys_in(&keys))
                {
                    tracing::info!(target: "mcp_oauth", uri = %self.uri, "a signing key was removed: cached validations are dropped");
                    self.epoch.fetch_add(1, Ordering::AcqRel);
                }
                self.update(|snap| {
                    snap.keys = Some(Arc::new(keys));
                    snap.generation += 1;
                    snap.fresh_until = Some(self.clock.now() + ttl);
                    snap.last_failure = None;
                });
            }
            Err(why) => {
                tracing::warn!(target: "mcp_oauth", uri = %self.uri, "JWKS fetch failed: {why}");
                self.update(|snap| {
                    snap.generation += 1;
                    snap.last_failure = Some(self.clock.now());
                });
            }
        }
    }

    /// Refreshes stale keys without making the current request wait for it.
    fn refresh_in_background(self: &Arc<Self>) {
        if !self.may_fetch(&self.snapshot()) || self.refreshing.swap(true, Ordering::AcqRel) {
            return;
        }
        let this = self.clone();
        actix_web::rt::spawn(async move {
            let refresh = || async {
                let s = this.snapshot();
                if s.fresh_until.is_none_or(|t| this.clock.now() >= t) && this.may_fetch(&s) {
                    this.fetch().await;
                }
            };
            // A fetch already in flight refreshes the keys for us.
            this.fetches.run_unless_flying((), refresh).await;
            this.refreshing.store(false, Ordering::Release);
        });
    }
}

#[cfg(test)]
mod tests;
