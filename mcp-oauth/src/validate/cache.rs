//! The validation cache: [`CachedValidator`] remembers what another [`TokenValidator`]
//! accepted, so a repeated token costs a SHA-256 and a map lookup instead of a signature
//! verification (or, later, an introspection call).
//!
//! Rules:
//! - only accepted tokens are cached; a refusal (bad token, 503) is never remembered;
//! - the key is the SHA-256 of the token: the token itself is never stored;
//! - an entry lives min(TTL, time left to the token's `exp`) (the TTL alone without an
//!   `exp`) and is checked on every read, against both the monotonic deadline and the
//!   wall clock: a cached result never outlives `exp`;
//! - at most `max_entries` entries: a flood of distinct valid tokens evicts the oldest
//!   (FIFO), it never grows memory. Invalid tokens never reach the cache at all;
//! - single flight: concurrent requests with the same uncached token share one
//!   validation (one introspection call, one signature check). Its outcome, failure
//!   included, goes to the requests that waited for it, and is then forgotten. The map of
//!   flights in progress is bounded by `max_entries` too; past that, requests validate on
//!   their own;
//! - revocations (`revoked.rs`): a validation asks them before its result is cached (a
//!   revoked token is refused, never cached; one noted while it ran leaves nothing
//!   cached), and a revocation ends the entries it names. A hit asks nothing.
//!
//! # Layout
//! The entries are kept by [`fifo::FifoStore`]: up to 16 `Mutex` shards, each a
//! `HashMap` and a FIFO `VecDeque` (O(1) eviction). `moka` (TinyLFU admission) was
//! measured against it in one run (`benches/cache.rs`) and not taken: see the README's
//! "Dependencies".

mod fifo;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_lc_rs::digest;

use crate::refusal::Refusal;
use crate::shared::revocation::{self, Revoked};
use crate::sync::flight::SingleFlight;
use crate::telemetry;
use crate::validate::TokenValidator;
use crate::validate::claims::VerifiedClaims;
use crate::validate::clock::Clock;
use crate::validate::jwks::KeyEpoch;
use crate::validate::revoked::{DEFAULT_REVOCATION_TTL, Revocations, issued_by};

use fifo::{Entry, FifoStore};

/// How long an accepted token is remembered, at most (`MCP_OAUTH_CACHE_TTL_SECS`).
pub(crate) const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(60);
/// How many accepted tokens are remembered, at most (`MCP_OAUTH_CACHE_MAX_ENTRIES`).
pub(crate) const DEFAULT_CACHE_MAX_ENTRIES: usize = 10_000;

/// The SHA-256 of a token: how every cache of this crate knows a token without keeping it.
pub(crate) type Key = [u8; 32];

/// The key of `token`: its SHA-256.
pub(crate) fn key_of(token: &str) -> Key {
    let digest = digest::digest(&digest::SHA256, token.as_bytes());
    let mut key = [0u8; 32];
    key.copy_from_slice(digest.as_ref());
    key
}

/// How long a result validated at `now` may be served: min(`ttl`, time left to `exp`),
/// or `ttl` without an `exp`. `None` when that is no time at all (the token is expired, or
/// within the leeway past its `exp`: never cached).
fn lifetime(ttl: Duration, exp: Option<SystemTime>, now: SystemTime) -> Option<Duration> {
    let left = match exp {
        None => ttl,
        Some(exp) => exp.duration_since(now).ok()?.min(ttl),
    };
    (!left.is_zero()).then_some(left)
}

/// Remembers what `inner` accepted (see the module docs); the middleware asks it
/// [`claims`](Self::claims) instead of asking `inner`.
pub(crate) struct CachedValidator {
    inner: Arc<dyn TokenValidator>,
    ttl: Duration,
    max_entries: usize,
    store: FifoStore<Arc<VerifiedClaims>>,
    flights: SingleFlight<Key, Result<Arc<VerifiedClaims>, Refusal>>,
    epoch: KeyEpoch,
    clock: Clock,
    /// Asked after each validation, before its result is cached.
    revoked: Arc<Revocations>,
}

impl std::fmt::Debug for CachedValidator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedValidator")
            .field("ttl", &self.ttl)
            .field("max_entries", &self.max_entries)
            .finish_non_exhaustive()
    }
}

impl CachedValidator {
    /// Caches what `inner` accepts for at most `ttl` (and never past `exp`), keeping at
    /// most `max_entries` (at least one).
    pub(crate) fn new(
        inner: Arc<dyn TokenValidator>,
        ttl: Duration,
        max_entries: usize,
        epoch: KeyEpoch,
    ) -> Self {
        let max_entries = max_entries.max(1);
        Self {
            inner,
            ttl,
            max_entries,
            store: FifoStore::new(max_entries),
            flights: SingleFlight::new(max_entries),
            epoch,
            clock: Clock::default(),
            revoked: Arc::new(Revocations::new(None, DEFAULT_REVOCATION_TTL)),
        }
    }

    /// The same cache asking `revoked` after each validation.
    pub(crate) fn with_revocations(mut self, revoked: Arc<Revocations>) -> Self {
        self.revoked = revoked;
        self
    }

    /// The same cache on another clock (tests step it past TTLs and `exp`).
    #[cfg(test)]
    pub(crate) fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    fn epoch(&self) -> u64 {
        self.epoch.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Entries held, live or expired-but-not-yet-dropped: what memory is spent on.
    pub(crate) fn len(&self) -> usize {
        self.store.len()
    }

    /// The cached claims for `key`, when live: one lookup and an `Arc` clone.
    fn get(&self, key: &Key) -> Option<Arc<VerifiedClaims>> {
        let (now, wall) = (self.clock.now(), self.clock.wall());
        self.store.get(key, now, wall, self.epoch())
    }

    /// [`claims_or_gate`](Self::claims_or_gate) without a gate.
    #[cfg(test)]
    pub(crate) async fn claims(&self, token: &str) -> Result<Arc<VerifiedClaims>, Refusal> {
        self.claims_or_gate(token, async || Ok(())).await
    }

    /// What `token` is worth: the cached claims, or else those of one validation by the
    /// inner validator, shared by every request for the same token (single flight) and
    /// remembered when accepted. The token is hashed once. `gate` is asked before any
    /// work on a token that is not cached: its refusal (a spent rate limit) is the
    /// answer, and nothing is validated.
    pub(crate) async fn claims_or_gate(
        &self,
        token: &str,
        gate: impl AsyncFnOnce() -> Result<(), Refusal>,
    ) -> Result<Arc<VerifiedClaims>, Refusal> {
        let key = key_of(token);
        if let Some(claims) = self.get(&key) {
            telemetry::cache_hit();
            return Ok(claims);
        }
        telemetry::cache_miss();
        gate().await?;
        let validate = || async {
            // A flight that just landed may have filled the cache.
            if let Some(claims) = self.get(&key) {
                return Ok(claims);
            }
            // The epoch as validation begins: if a JWKS fetch drops a key while the
            // token is being checked, the result must not outlive that fetch.
            let epoch = self.epoch();
            // Likewise a revocation noted meanwhile.
            let generation = self.revoked.generation();
            // Failures return here, before anything is remembered.
            let claims = Arc::new(self.inner.validate(token).await?);
            self.revoked.check(&key, &claims).await?;
            if self.revoked.cacheable(generation) {
                self.put(key, claims.clone(), epoch);
            }
            Ok(claims)
        };
        self.flights.run(key, validate).await
    }

    /// Drops what `revoked` names from the cache (a cache hit then validates again and
    /// meets the revocation): the token's entry, or every entry of the subject issued by
    /// the revocation time.
    pub(crate) fn forget(&self, revoked: &Revoked) {
        let now = self.clock.now();
        match *revoked {
            Revoked::Token(key) => self.store.expire(&key, now),
            Revoked::Subject { hash, at_ms } => self.store.expire_where(now, |claims| {
                claims
                    .subject()
                    .is_some_and(|sub| revocation::hash(sub) == hash)
                    && issued_by(claims, at_ms)
            }),
        }
    }

    /// Drops every entry (revocations may have been missed): the key epoch moves on.
    pub(crate) fn forget_all(&self) {
        self.epoch.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }

    /// Remembers `claims`, accepted just now for the token hashed to `key` by a validation
    /// that began in key epoch `epoch`. Not at all if the epoch has moved since: a key may
    /// have left the JWKS while the token was being checked with it.
    fn put(&self, key: Key, claims: Arc<VerifiedClaims>, epoch: u64) {
        if epoch != self.epoch() {
            return;
        }
        let (now, wall) = (self.clock.now(), self.clock.wall());
        let exp = claims.expires_at();
        let Some(life) = lifetime(self.ttl, exp, wall) else {
            return;
        };
        // An absurd TTL (centuries) overflows `Instant`: then the result is not cached.
        let Some(deadline) = now.checked_add(life) else {
            return;
        };
        let entry = Entry {
            value: claims,
            deadline,
            exp,
            epoch,
        };
        self.store.put(key, entry, now, wall);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::UNIX_EPOCH;

    use serde_json::json;

    use super::*;
    use crate::refusal::TokenRejection;
    use crate::validate::LocalBoxFuture;

    const TTL: Duration = Duration::from_secs(60);

    /// Accepts tokens starting with `ok` (with `exp` = the rest, when it is a number of
    /// seconds since the epoch), refuses the others; counts its calls.
    #[derive(Default)]
    struct Counting(AtomicUsize);

    impl TokenValidator for Counting {
        fn validate<'a>(
            &'a self,
            token: &'a str,
        ) -> LocalBoxFuture<'a, Result<VerifiedClaims, Refusal>> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Box::pin(async move {
                // Lets concurrent requests meet, as a real (network) validation would.
                actix_web::rt::task::yield_now().await;
                let Some(rest) = token.strip_prefix("ok") else {
                    return Err(Refusal::InvalidToken(TokenRejection::Malformed));
                };
                let mut claims = json!({"sub": "alice", "scope": "mcp"});
                if let Ok(exp) = rest.parse::<f64>() {
                    claims["exp"] = json!(exp);
                }
                Ok(VerifiedClaims::from_claims(
                    claims.as_object().cloned().unwrap_or_default(),
                ))
            })
        }
    }

    fn cached(ttl: Duration, max: usize) -> (Arc<Counting>, CachedValidator) {
        let counting = Arc::new(Counting::default());
        let cache = CachedValidator::new(counting.clone(), ttl, max, KeyEpoch::default());
        (counting, cache)
    }

    fn validate(cache: &CachedValidator, token: &str) -> Result<VerifiedClaims, Refusal> {
        actix_web::rt::System::new()
            .block_on(cache.claims(token))
            .map(|c| VerifiedClaims::clone(&c))
    }

    fn epoch_secs(t: SystemTime) -> f64 {
        t.duration_since(UNIX_EPOCH).unwrap().as_secs_f64()
    }

    /// `n` concurrent validations of `token`, as separate tasks.
    fn burst(cache: &Arc<CachedValidator>, token: &'static str, n: usize) -> usize {
        actix_web::rt::System::new().block_on(async {
            let tasks: Vec<_> = (0..n)
                .map(|_| {
                    let cache = cache.clone();
                    actix_web::rt::spawn(async move { cache.claims(token).await.is_ok() })
                })
                .collect();
            let mut ok = 0;
            for t in tasks {
                ok += usize::from(t.await.unwrap());
            }
            ok
        })
    }

    #[test]
    fn entries_from_before_a_key_removal_are_dead() {
        let counting = Arc::new(Counting::default());
        let epoch = KeyEpoch::default();
        let cache = CachedValidator::new(counting.clone(), TTL, 10, epoch.clone());
        validate(&cache, "ok").unwrap();
        assert!(cache.get(&key_of("ok")).is_some());
        epoch.fetch_add(1, Ordering::AcqRel);
        assert!(cache.get(&key_of("ok")).is_none());
        validate(&cache, "ok").unwrap();
        assert_eq!(counting.0.load(Ordering::SeqCst), 2);
        assert!(cache.get(&key_of("ok")).is_some());
    }

    #[test]
    fn concurrent_requests_for_one_token_share_one_validation() {
        let counting = Arc::new(Counting::default());
        let cache = Arc::new(CachedValidator::new(
            counting.clone(),
            TTL,
            100,
            KeyEpoch::default(),
        ));
        assert_eq!(burst(&cache, "ok", 200), 200);
        assert_eq!(counting.0.load(Ordering::SeqCst), 1);
        // A failure is shared by the burst that waited for it, then forgotten.
        assert_eq!(burst(&cache, "bad", 200), 0);
        assert_eq!(counting.0.load(Ordering::SeqCst), 2);
        assert_eq!(burst(&cache, "bad", 1), 0);
        assert_eq!(counting.0.load(Ordering::SeqCst), 3);
        assert_eq!(cache.flights.len(), 0);
    }

    #[test]
    fn lifetime_is_the_ttl_or_the_time_left_to_exp_whichever_is_shorter() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let secs = Duration::from_secs;
        // No `exp`: the TTL.
        assert_eq!(lifetime(TTL, None, now), Some(TTL));
        // `exp` far away: the TTL.
        assert_eq!(lifetime(TTL, Some(now + secs(3600)), now), Some(TTL));
        // `exp` sooner than the TTL: until `exp`, to the sub-second.
        let soon = now + Duration::from_millis(2500);
        assert_eq!(
            lifetime(TTL, Some(soon), now),
            Some(Duration::from_millis(2500))
        );
        // At or past `exp` (a token accepted within the leeway): not cached.
        assert_eq!(lifetime(TTL, Some(now), now), None);
        assert_eq!(lifetime(TTL, Some(now - secs(30)), now), None);
        // A zero TTL caches nothing.
        assert_eq!(lifetime(Duration::ZERO, None, now), None);
        assert_eq!(lifetime(Duration::ZERO, Some(now + secs(60)), now), None);
    }

    #[test]
    fn a_repeated_token_is_validated_once() {
        let (calls, cache) = cached(TTL, 100);
        for _ in 0..5 {
            let claims = validate(&cache, "ok").unwrap();
            assert_eq!(claims.subject(), Some("alice"));
            assert_eq!(claims.scopes(), ["mcp"]);
        }
        assert_eq!(calls.0.load(Ordering::SeqCst), 1);
        assert_eq!(cache.len(), 1);
        // Another token is another entry.
        validate(&cache, "ok ").unwrap();
        assert_eq!(calls.0.load(Ordering::SeqCst), 2);
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn refusals_are_not_cached() {
        let (calls, cache) = cached(TTL, 100);
        for _ in 0..3 {
            assert!(validate(&cache, "bad").is_err());
        }
        assert_eq!(calls.0.load(Ordering::SeqCst), 3);
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn an_expired_token_is_not_cached_and_an_expiring_one_only_until_exp() {
        let clock = Clock::manual();
        let (calls, cache) = cached(TTL, 100);
        let cache = cache.with_clock(clock.clone());
        let past = format!("ok{}", epoch_secs(clock.wall()) - 1.0);
        validate(&cache, &past).unwrap(); // (the inner validator's leeway accepted it)
        validate(&cache, &past).unwrap();
        assert_eq!(calls.0.load(Ordering::SeqCst), 2);
        assert_eq!(cache.len(), 0);

        // `exp` in 10 s, TTL 60 s: served from the cache until `exp`, then validated again.
        let soon = format!("ok{}", epoch_secs(clock.wall() + Duration::from_secs(10)));
        validate(&cache, &soon).unwrap();
        clock.advance(Duration::from_secs(5));
        validate(&cache, &soon).unwrap();
        assert_eq!(calls.0.load(Ordering::SeqCst), 3);
        clock.advance(Duration::from_secs(6));
        validate(&cache, &soon).unwrap();
        assert_eq!(calls.0.load(Ordering::SeqCst), 4);
    }

    #[test]
    fn entries_end_at_the_ttl() {
        let clock = Clock::manual();
        let (calls, cache) = cached(TTL, 100);
        let cache = cache.with_clock(clock.clone());
        validate(&cache, "ok").unwrap();
        clock.advance(TTL / 2);
        validate(&cache, "ok").unwrap();
        assert_eq!(calls.0.load(Ordering::SeqCst), 1);
        clock.advance(TTL / 2 + Duration::from_secs(1));
        validate(&cache, "ok").unwrap();
        assert_eq!(calls.0.load(Ordering::SeqCst), 2);
        // Validated again: the entry was replaced in place, not added.
        assert_eq!(cache.len(), 1);
    }

    /// Accepts every token, and while doing so a JWKS fetch drops a key (bumps the epoch):
    /// what a validation racing a key removal looks like from the cache.
    struct RacingKeyRemoval {
        epoch: KeyEpoch,
        calls: AtomicUsize,
    }

    impl TokenValidator for RacingKeyRemoval {
        fn validate<'a>(
            &'a self,
            _token: &'a str,
        ) -> LocalBoxFuture<'a, Result<VerifiedClaims, Refusal>> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            Box::pin(async move {
                actix_web::rt::task::yield_now().await;
                self.epoch.fetch_add(1, Ordering::AcqRel);
                actix_web::rt::task::yield_now().await;
                Ok(VerifiedClaims::from_claims(
                    json!({"sub": "alice"})
                        .as_object()
                        .cloned()
                        .unwrap_or_default(),
                ))
            })
        }
    }

    #[test]
    fn a_token_validated_while_a_key_is_removed_is_not_cached() {
        let epoch = KeyEpoch::default();
        let inner = Arc::new(RacingKeyRemoval {
            epoch: epoch.clone(),
            calls: AtomicUsize::new(0),
        });
        let cache = CachedValidator::new(inner.clone(), TTL, 10, epoch.clone());
        // The request itself is answered (its key was there when it was checked)...
        validate(&cache, "ok").unwrap();
        // ...but nothing is remembered: the next request is validated again.
        assert_eq!(cache.len(), 0);
        validate(&cache, "ok").unwrap();
        assert_eq!(inner.calls.load(Ordering::SeqCst), 2);
        assert_eq!(epoch.load(Ordering::Acquire), 2);
    }

    #[test]
    fn a_flood_of_distinct_tokens_stays_within_max_entries() {
        let (calls, cache) = cached(TTL, 1000);
        actix_web::rt::System::new().block_on(async {
            for i in 0..20_000 {
                cache.claims(&format!("ok #{i}")).await.unwrap();
            }
        });
        assert_eq!(calls.0.load(Ordering::SeqCst), 20_000);
        // Full (up to how evenly the keys fell into the shards), never over.
        let len = cache.len();
        assert!((900..=1000).contains(&len), "{len}");
    }

    #[test]
    fn eviction_drops_the_oldest_entry_first() {
        // Below 64 entries: one shard, so the order is global.
        let (calls, cache) = cached(TTL, 3);
        for t in ["ok a", "ok b", "ok c", "ok d"] {
            validate(&cache, t).unwrap();
        }
        assert_eq!(cache.len(), 3);
        assert_eq!(calls.0.load(Ordering::SeqCst), 4);
        // b, c and d are still cached; a was evicted.
        for t in ["ok b", "ok c", "ok d"] {
            validate(&cache, t).unwrap();
        }
        assert_eq!(calls.0.load(Ordering::SeqCst), 4);
        validate(&cache, "ok a").unwrap();
        assert_eq!(calls.0.load(Ordering::SeqCst), 5);
        assert_eq!(cache.len(), 3);
    }

    #[test]
    fn keys_are_sha256_digests_never_the_token() {
        let (_, cache) = cached(TTL, 100);
        let token = "ok-a-secret-token-value";
        validate(&cache, token).unwrap();
        let keys = cache.store.keys();
        assert_eq!(keys.len(), 1);
        let key = keys[0];
        assert_eq!(key.len(), 32);
        // SHA-256("ok-a-secret-token-value"), as `sha256sum` computes it.
        let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "d8d5b5e9cdad2d1a08bfeee107ecc37ebbaa5e461a1fd7ff369c0bc284b77ed9"
        );
        assert!(!key.windows(token.len()).any(|w| w == token.as_bytes()));
        // Nothing of the token in what is kept: not in the key, not in the claims.
        let kept = format!("{:?}", cache.store.entries());
        assert!(!kept.contains(token));
        assert!(!format!("{cache:?}").contains(token));
    }
}
