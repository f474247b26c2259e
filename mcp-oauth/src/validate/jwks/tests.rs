//! Unit tests of [`super`].

use super::*;
use serde_json::json;

fn rsa_jwk(bits: usize, extra: serde_json::Value) -> serde_json::Value {
    let mut n = vec![0xC5u8; bits / 8];
    n[bits / 8 - 1] |= 1;
    let mut k = json!({"kty": "RSA", "n": URL_SAFE_NO_PAD.encode(n), "e": "AQAB"});
    if let (Some(o), Some(e)) = (k.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    k
}

fn parse(keys: serde_json::Value) -> Result<KeySet, String> {
    KeySet::parse(json!({ "keys": keys }).to_string().as_bytes())
}

#[test]
fn rsa_keys_below_2048_bits_are_skipped() {
    assert!(parse(json!([rsa_jwk(1024, json!({"kid": "weak"}))])).is_err());
    let set = parse(json!([
        rsa_jwk(1024, json!({"kid": "weak"})),
        rsa_jwk(2048, json!({"kid": "ok"}))
    ]));
    let set = set.unwrap();
    assert!(matches!(
        set.select(Some("weak"), Algorithm::RS256),
        Lookup::Unknown
    ));
    assert!(matches!(
        set.select(Some("ok"), Algorithm::RS256),
        Lookup::Found(_)
    ));
}

#[test]
fn keys_are_pinned_to_their_type_and_declared_alg() {
    let set = parse(json!([rsa_jwk(2048, json!({"kid": "r", "alg": "PS256"}))])).unwrap();
    assert!(matches!(
        set.select(Some("r"), Algorithm::PS256),
        Lookup::Found(_)
    ));
    assert!(matches!(
        set.select(Some("r"), Algorithm::RS256),
        Lookup::Mismatch
    ));
    assert!(matches!(
        set.select(Some("r"), Algorithm::ES256),
        Lookup::Mismatch
    ));
    assert!(matches!(
        set.select(Some("r"), Algorithm::HS256),
        Lookup::Mismatch
    ));
}

#[test]
fn symmetric_encryption_and_unknown_keys_never_enter_the_set() {
    let set = parse(json!([
        {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},
        rsa_jwk(2048, json!({"kid": "enc", "use": "enc"})),
        rsa_jwk(2048, json!({"kid": "wrap", "key_ops": ["wrapKey"]})),
        {"kty": "RSA", "kid": "odd", "alg": "RSA-OAEP", "n": "AQAB", "e": "AQAB"},
        {"kty": "weird"},
        rsa_jwk(2048, json!({"kid": "good", "use": "sig"})),
    ]))
    .unwrap();
    for kid in ["hmac", "enc", "wrap", "odd"] {
        assert!(
            matches!(set.select(Some(kid), Algorithm::RS256), Lookup::Unknown),
            "{kid}"
        );
    }
    assert!(matches!(
        set.select(Some("good"), Algorithm::RS256),
        Lookup::Found(_)
    ));
}

#[test]
fn without_kid_only_a_single_fitting_key_is_chosen() {
    let one = parse(json!([rsa_jwk(2048, json!({}))])).unwrap();
    assert!(matches!(
        one.select(None, Algorithm::RS256),
        Lookup::Found(_)
    ));
    let two = parse(json!([rsa_jwk(2048, json!({})), rsa_jwk(3072, json!({}))])).unwrap();
    assert!(matches!(
        two.select(None, Algorithm::RS256),
        Lookup::Unknown
    ));
}

#[test]
fn garbage_is_not_a_key_set() {
    assert!(KeySet::parse(b"<html>").is_err());
    assert!(KeySet::parse(b"{\"keys\": 3}").is_err());
    assert!(KeySet::parse(b"{\"keys\": []}").is_err());
}

/// The cache's time rules against a real JWKS on 127.0.0.1, on a clock the test
/// steps forward: no sleeps, and each bound checked from both sides.
mod timing {
    use std::future::Future;

    use super::*;
    use crate::testing::{JwksFault, TestAuthServer};

    fn run<F: Future>(f: F) -> F::Output {
        actix_web::rt::System::new().block_on(f)
    }

    fn cache_of(auth: &TestAuthServer, clock: &Clock) -> Arc<JwksCache> {
        let cache = JwksCache::new(
            auth.jwks_uri(),
            JwksSettings::default(),
            KeyEpoch::default(),
            Arc::new(IssuerMetrics::new(auth.issuer())),
        );
        Arc::new(cache.with_clock(clock.clone()))
    }

    /// Looks `kid` up for RS256, then says whether a background refresh was started:
    /// the flag is set before the refresh is spawned, and the spawned task cannot run
    /// before this returns (nothing awaits in between).
    async fn lookup(cache: &Arc<JwksCache>, kid: &str) -> (Result<(), Refusal>, bool) {
        let found = cache.key_for(Some(kid), Algorithm::RS256).await.map(drop);
        (found, cache.refreshing.load(Ordering::Acquire))
    }

    const HOUR: Duration = Duration::from_secs(3600);

    // RFC 9111 §5.2.2.1: `Cache-Control: max-age` is honoured within
    // [`min_ttl`, `max_ttl`] (60 s, 24 h by default).
    #[test]
    fn max_age_is_clamped_into_the_configured_bounds() {
        let auth = TestAuthServer::start();
        let clock = Clock::manual();
        for (max_age, fresh_for) in [
            (Some(0), Duration::from_secs(60)),
            (Some(10 * 24 * 3600), 24 * HOUR),
            (None, Duration::from_secs(300)),
        ] {
            auth.set_jwks_max_age(max_age);
            let cache = cache_of(&auth, &clock);
            run(async {
                assert_eq!(lookup(&cache, "rsa-1").await, (Ok(()), false));
                // Fresh until `fresh_for`, give or take the real time the test takes.
                clock.advance(fresh_for / 2);
                assert_eq!(
                    lookup(&cache, "rsa-1").await,
                    (Ok(()), false),
                    "{max_age:?}"
                );
                clock.advance(fresh_for / 2 + Duration::from_secs(1));
                assert_eq!(lookup(&cache, "rsa-1").await, (Ok(()), true), "{max_age:?}");
            });
        }
    }

    // After a failed fetch, at most one attempt per 2 s.
    #[test]
    fn after_a_failed_fetch_the_next_attempt_waits_for_the_back_off() {
        let auth = TestAuthServer::start();
        let clock = Clock::manual();
        let cache = cache_of(&auth, &clock);
        auth.set_jwks_fault(JwksFault::Status(500));
        run(async {
            let (found, _) = lookup(&cache, "rsa-1").await;
            assert!(matches!(found, Err(Refusal::Unavailable(_))), "{found:?}");
            assert_eq!(auth.jwks_requests(), 1);
            auth.set_jwks_fault(JwksFault::None);
            clock.advance(Duration::from_secs(1));
            let (found, _) = lookup(&cache, "rsa-1").await;
            assert!(matches!(found, Err(Refusal::Unavailable(_))), "{found:?}");
            assert_eq!(
                auth.jwks_requests(),
                1,
                "nothing fetched within the back-off"
            );
            clock.advance(Duration::from_millis(1500));
            assert_eq!(lookup(&cache, "rsa-1").await, (Ok(()), false));
            assert_eq!(auth.jwks_requests(), 2);
        });
    }

    // OpenID Connect Core §10.1.1: an unknown `kid` refetches the keys, at most once
    // per cooldown (30 s).
    #[test]
    fn unknown_kids_refetch_at_most_once_per_cooldown() {
        let auth = TestAuthServer::start();
        let clock = Clock::manual();
        let cache = cache_of(&auth, &clock);
        let unknown = Err(Refusal::InvalidToken(TokenRejection::UnknownKey));
        run(async {
            assert_eq!(lookup(&cache, "rsa-1").await, (Ok(()), false));
            assert_eq!(lookup(&cache, "unknown-1").await.0, unknown);
            assert_eq!(auth.jwks_requests(), 2);
            clock.advance(Duration::from_secs(20));
            assert_eq!(lookup(&cache, "unknown-2").await.0, unknown);
            assert_eq!(
                auth.jwks_requests(),
                2,
                "nothing fetched within the cooldown"
            );
            clock.advance(Duration::from_secs(11));
            assert_eq!(lookup(&cache, "unknown-3").await.0, unknown);
            assert_eq!(auth.jwks_requests(), 3);
        });
    }
}
