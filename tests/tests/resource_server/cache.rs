//! The validation cache: a repeated valid token is validated once, never served past its `exp`, never when the cache is off; refusals are not
//! cached; a flood of distinct valid tokens stays within the configured bound.
//! Proven with validators that count their calls, not with timings.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mcp_oauth::{
    LocalBoxFuture, McpOAuth, McpOAuthBuilder, Refusal, TokenRejection, TokenValidator,
    VerifiedClaims,
};
use serde_json::json;

use crate::common::*;

/// A validator the test can watch and steer: counts its calls; accepts every token not
/// revoked, with scope `mcp:read`; a token `exp-<secs>` gets that `exp` (seconds since
/// the epoch, fractional allowed; accepted even past it: the cache alone must stop
/// serving it); the first `fail_first` calls are refused with `failure`.
#[derive(Clone, Default)]
struct Watched {
    calls: Arc<AtomicUsize>,
    revoked: Arc<Mutex<HashSet<String>>>,
    fail_first: usize,
    failure: Option<Refusal>,
}

impl Watched {
    fn failing_once(failure: Refusal) -> Self {
        Self {
            fail_first: 1,
            failure: Some(failure),
            ..Self::default()
        }
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    fn revoke(&self, token: &str) {
        self.revoked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(token.to_owned());
    }
}

impl TokenValidator for Watched {
    fn validate<'a>(
        &'a self,
        token: &'a str,
    ) -> LocalBoxFuture<'a, Result<VerifiedClaims, Refusal>> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            if call < self.fail_first
                && let Some(failure) = &self.failure
            {
                return Err(failure.clone());
            }
            let revoked = self
                .revoked
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .contains(token);
            if revoked {
                return Err(Refusal::InvalidToken(TokenRejection::Other(
                    "The access token was revoked".into(),
                )));
            }
            let mut claims = json!({"sub": "watched-user", "scope": "mcp:read"});
            if let Some(exp) = token
                .strip_prefix("exp-")
                .and_then(|e| e.parse::<f64>().ok())
            {
                claims["exp"] = json!(exp);
            }
            Ok(VerifiedClaims::from_claims(
                claims.as_object().cloned().unwrap_or_default(),
            ))
        })
    }
}

/// A resource server judging tokens with `validator`, adjusted by `f`.
fn watched_server(
    validator: &Watched,
    f: impl FnOnce(McpOAuthBuilder) -> McpOAuthBuilder,
) -> TestServer {
    let validator = validator.clone();
    Setup::new().start(move |auth, resource| {
        f(McpOAuth::builder()
            .resource(resource)
            .authorization_server(auth.issuer())
            .validator(validator))
    })
}

#[actix_web::test]
async fn a_repeated_valid_token_is_validated_once() {
    let validator = Watched::default();
    let srv = watched_server(&validator, |b| b);
    for _ in 0..5 {
        let body = assert_admitted(&srv.post_mcp("token-a").await);
        assert_eq!(body["subject"], "watched-user");
        assert_eq!(body["scopes"], json!(["mcp:read"]));
    }
    assert_eq!(validator.calls(), 1);
    // Another token is validated on its own.
    assert_admitted(&srv.post_mcp("token-b").await);
    assert_admitted(&srv.post_mcp("token-b").await);
    assert_eq!(validator.calls(), 2);
}

// The JWT strategy is cached too: a cached token is not verified again, so a JWKS
// outage does not reach it (the JWKS is not even asked).
#[actix_web::test]
async fn a_cached_jwt_is_not_verified_again() {
    let srv = TestServer::start();
    let token = srv.valid_token();
    assert_admitted(&srv.post_mcp(&token).await);
    srv.auth
        .set_jwks_fault(mcp_oauth::testing::JwksFault::Status(500));
    assert_admitted(&srv.post_mcp(&token).await);
    assert_eq!(srv.auth.jwks_requests(), 1);

    // Without the cache the same token meets the outage.
    let srv = TestServer::with(|b| b.cache_ttl(Duration::ZERO));
    let token = srv.valid_token();
    assert_admitted(&srv.post_mcp(&token).await);
    srv.auth
        .set_jwks_fault(mcp_oauth::testing::JwksFault::Status(500));
    srv.auth.rotate_keys();
    let reply = srv.post_mcp(&srv.valid_token()).await;
    srv.assert_unavailable(&reply);
}

// A key removed from the JWKS ends what the cache remembers of the tokens it signed: the
// next fetch that sees the key gone drops the cached validations (RFC 9068 §4: only the
// authorization server's keys).
#[actix_web::test]
async fn a_cached_jwt_stops_working_once_its_key_leaves_the_jwks() {
    let srv = TestServer::start();
    let old = srv.valid_token();
    assert_admitted(&srv.post_mcp(&old).await);
    srv.auth.rotate_keys();
    assert_admitted(&srv.post_mcp(&old).await); // cached: the JWKS is not asked
    assert_eq!(srv.auth.jwks_requests(), 1);
    // A token with the new kid makes the middleware refetch: the old key is gone.
    assert_admitted(&srv.post_mcp(&srv.valid_token()).await);
    assert_eq!(srv.auth.jwks_requests(), 2);
    srv.assert_invalid_token(
        &srv.post_mcp(&old).await,
        "The token signing key is unknown",
    );
}

// Scope checks are not cached: they run on every request, on the cached claims.
#[actix_web::test]
async fn scope_checks_still_run_for_a_cached_token() {
    let validator = Watched::default();
    let srv = watched_server(&validator, |b| b.required_scopes(["mcp:tools"]));
    for _ in 0..3 {
        let reply = srv.post_mcp("token-read-only").await;
        assert_eq!(reply.status, 403, "{}", reply.text());
    }
    // The token itself was valid: validated once, refused for its scopes every time.
    assert_eq!(validator.calls(), 1);
}

/// How long before its `exp` a token of the tests below is first presented: the time
/// the requests before `exp` may take, however loaded the machine. The wait past `exp`
/// that follows is a sleep, which only ever overshoots: not a race.
const BEFORE_EXP: Duration = Duration::from_secs(3);

/// Now + [`BEFORE_EXP`], as a fractional NumericDate, and as a `SystemTime`.
fn exp_soon() -> (f64, SystemTime) {
    let exp = SystemTime::now() + BEFORE_EXP;
    (exp.duration_since(UNIX_EPOCH).unwrap().as_secs_f64(), exp)
}

/// Sleeps until `exp` has passed.
async fn sleep_past(exp: SystemTime) {
    let wait = exp.duration_since(SystemTime::now()).unwrap_or_default();
    actix_web::rt::time::sleep(wait + Duration::from_millis(100)).await;
}

// A cached result never outlives the token's `exp`, whatever the TTL. The validator
// accepts the token even after `exp`: only the cache can have stopped serving it. (The
// cache's own unit tests step a clock instead; here it is the whole middleware.)
#[actix_web::test]
async fn a_token_expiring_while_cached_is_validated_again_from_its_exp() {
    let validator = Watched::default();
    let srv = watched_server(&validator, |b| b.cache_ttl(Duration::from_secs(60)));
    let (exp, exp_at) = exp_soon();
    let token = format!("exp-{exp}");
    assert_admitted(&srv.post_mcp(&token).await);
    assert_admitted(&srv.post_mcp(&token).await);
    assert_eq!(validator.calls(), 1);
    sleep_past(exp_at).await;
    assert_admitted(&srv.post_mcp(&token).await);
    assert_eq!(validator.calls(), 2);
}

// The same with the JWT strategy and no leeway: accepted (and cached) before `exp`,
// refused from `exp` on although the cache TTL is 60 s.
#[actix_web::test]
async fn a_cached_jwt_is_refused_from_its_exp() {
    let srv = TestServer::with(|b| b.cache_ttl(Duration::from_secs(60)).leeway(Duration::ZERO));
    let (exp, exp_at) = exp_soon();
    let token = srv.token().claim("exp", json!(exp)).sign();
    assert_admitted(&srv.post_mcp(&token).await);
    assert_admitted(&srv.post_mcp(&token).await);
    sleep_past(exp_at).await;
    srv.assert_invalid_token(&srv.post_mcp(&token).await, "The access token expired");
}

#[actix_web::test]
async fn cache_ttl_zero_validates_every_request() {
    let validator = Watched::default();
    let srv = watched_server(&validator, |b| b.cache_ttl(Duration::ZERO));
    for _ in 0..4 {
        assert_admitted(&srv.post_mcp("token-a").await);
    }
    assert_eq!(validator.calls(), 4);
}

// `MCP_OAUTH_CACHE_TTL_SECS=0`: a revocation takes effect at once. With a cache, a
// revoked token is served until its entry ends (at most the TTL).
#[actix_web::test]
async fn a_revocation_takes_effect_at_once_without_the_cache_and_within_the_ttl_with_it() {
    let uncached = Watched::default();
    let srv = watched_server(&uncached, |b| b.cache_ttl(Duration::ZERO));
    assert_admitted(&srv.post_mcp("token-r").await);
    uncached.revoke("token-r");
    srv.assert_invalid_token(
        &srv.post_mcp("token-r").await,
        "The access token was revoked",
    );

    // A TTL long enough for the "still cached" request on a loaded machine; the sleep
    // past it only ever overshoots.
    let ttl = Duration::from_secs(3);
    let cached = Watched::default();
    let srv = watched_server(&cached, |b| b.cache_ttl(ttl));
    assert_admitted(&srv.post_mcp("token-r").await);
    cached.revoke("token-r");
    assert_admitted(&srv.post_mcp("token-r").await); // still cached
    actix_web::rt::time::sleep(ttl + Duration::from_millis(100)).await;
    srv.assert_invalid_token(
        &srv.post_mcp("token-r").await,
        "The access token was revoked",
    );
    assert_eq!(cached.calls(), 2);
}

// A refusal is never remembered: the next request with the same token is validated again.
#[actix_web::test]
async fn an_outage_is_not_cached() {
    let validator = Watched::failing_once(Refusal::Unavailable("backend down".into()));
    let srv = watched_server(&validator, |b| b);
    srv.assert_unavailable(&srv.post_mcp("token-a").await);
    assert_admitted(&srv.post_mcp("token-a").await);
    assert_admitted(&srv.post_mcp("token-a").await);
    assert_eq!(validator.calls(), 2);
}

#[actix_web::test]
async fn an_invalid_token_verdict_is_not_cached() {
    let validator = Watched::failing_once(Refusal::InvalidToken(TokenRejection::BadSignature));
    let srv = watched_server(&validator, |b| b);
    srv.assert_invalid_token(
        &srv.post_mcp("token-a").await,
        TokenRejection::BadSignature.description(),
    );
    assert_admitted(&srv.post_mcp("token-a").await);
    assert_eq!(validator.calls(), 2);
}

// Memory stays bounded: 100,000 distinct valid tokens (HS256: cheap to sign) through a
// cache of 1,000 entries; the cache is full, never over, and the middleware keeps working.
// 100,000 distinct invalid ones leave it as it was.
#[actix_web::test]
async fn a_hundred_thousand_distinct_valid_tokens_stay_within_max_entries() {
    const SECRET: &[u8] = b"cache-test-secret-of-32-bytes-or-more";
    const MAX: usize = 1_000;
    let auth = mcp_oauth::testing::TestAuthServer::start();
    let resource = "http://127.0.0.1:8080/mcp";
    let oauth = McpOAuth::builder()
        .resource(resource)
        .authorization_server(auth.issuer())
        .hs256_secret(SECRET)
        .cache_max_entries(MAX)
        .build()
        .unwrap();
    assert_eq!(oauth.cache_len(), Some(0));
    let template = auth.token().audience(resource).hs256(SECRET);
    for i in 0..100_000u32 {
        let token = template.clone().claim("jti", json!(i)).sign();
        let client = oauth.authenticate(&token).await;
        assert!(client.is_ok(), "token {i}: {client:?}");
        if i % 10_000 == 0 {
            assert!(oauth.cache_len().unwrap() <= MAX);
        }
    }
    let len = oauth.cache_len().unwrap();
    assert!((MAX * 9 / 10..=MAX).contains(&len), "{len}");

    // 100,000 distinct invalid tokens (another secret): every one refused, none kept.
    let forged = auth
        .token()
        .audience(resource)
        .hs256(b"not-the-secret-not-the-secret-not-the");
    for i in 0..100_000u32 {
        let token = forged.clone().claim("jti", json!(i)).sign();
        assert!(oauth.authenticate(&token).await.is_err(), "token {i}");
    }
    assert_eq!(oauth.cache_len().unwrap(), len);

    // And through HTTP, with the same bound, counting validations: of 50 tokens through
    // a cache of 10, the last one is still remembered and the first was evicted.
    let validator = Watched::default();
    let srv = watched_server(&validator, |b| b.cache_max_entries(10));
    for i in 0..50u32 {
        assert_admitted(&srv.post_mcp(&format!("token-{i}")).await);
    }
    assert_eq!(validator.calls(), 50);
    assert_admitted(&srv.post_mcp("token-49").await); // cached: not validated again
    assert_eq!(validator.calls(), 50);
    assert_admitted(&srv.post_mcp("token-0").await); // evicted long ago: validated again
    assert_eq!(validator.calls(), 51);
    assert_eq!(srv.oauth.cache_len(), Some(10));
}

#[test]
fn the_cache_settings_come_from_the_environment() {
    let base = [
        ("MCP_OAUTH_RESOURCE", "https://mcp.example.com/mcp"),
        (
            "MCP_OAUTH_AUTHORIZATION_SERVERS",
            "https://auth.example.com",
        ),
        ("MCP_OAUTH_JWKS_URI", "https://auth.example.com/jwks"),
    ];
    let build = |extra: &[(&'static str, &'static str)]| {
        McpOAuthBuilder::from_vars(base.iter().chain(extra).copied()).build()
    };
    assert_eq!(build(&[]).unwrap().cache_len(), Some(0)); // on by default
    let off = build(&[("MCP_OAUTH_CACHE_TTL_SECS", "0")]).unwrap();
    assert_eq!(off.cache_len(), None);
    let on = build(&[
        ("MCP_OAUTH_CACHE_TTL_SECS", "300"),
        ("MCP_OAUTH_CACHE_MAX_ENTRIES", "50000"),
    ])
    .unwrap();
    assert_eq!(on.cache_len(), Some(0));

    // Parse errors and a zero bound are reported, all at once.
    let err = build(&[
        ("MCP_OAUTH_CACHE_TTL_SECS", "1m"),
        ("MCP_OAUTH_CACHE_MAX_ENTRIES", "-5"),
    ])
    .unwrap_err();
    let settings: Vec<&str> = err.problems().iter().map(|p| p.setting()).collect();
    assert_eq!(
        settings,
        ["MCP_OAUTH_CACHE_TTL_SECS", "MCP_OAUTH_CACHE_MAX_ENTRIES"]
    );
    assert!(
        err.to_string()
            .contains("`1m` is not a whole number of seconds")
    );
    assert!(err.to_string().contains("`-5` is not a whole number"));
    let err = build(&[("MCP_OAUTH_CACHE_MAX_ENTRIES", "0")]).unwrap_err();
    assert_eq!(err.problems()[0].setting(), "MCP_OAUTH_CACHE_MAX_ENTRIES");
    assert!(
        mcp_oauth::ENV_VARIABLES
            .iter()
            .any(|(name, _)| *name == "MCP_OAUTH_CACHE_TTL_SECS")
    );
    assert!(
        mcp_oauth::ENV_VARIABLES
            .iter()
            .any(|(name, _)| *name == "MCP_OAUTH_CACHE_MAX_ENTRIES")
    );
}
