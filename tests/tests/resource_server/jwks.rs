//! What the resource server does when its authorization server's JWKS misbehaves
//! (RFC 9110 §15.6.4, OpenID Connect Core §10.1.1): 503 without `invalid_token`, last good
//! keys kept, no fetch loops, single flight.

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use mcp_oauth::testing::{JwksFault, MetadataDocument, MetadataFault};
use serde_json::json;

use crate::common::*;

/// The failure back-off of the key cache: after a failed fetch, no other attempt for 2 s.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(2);

/// The most JWKS fetches allowed by the failure back-off, `first` of them counted before
/// `since`: one more per back-off period since. (The exact bound, from both sides, is the
/// key cache's unit test on a stepped clock; over real HTTP on a loaded machine, time
/// only ever passes more slowly for the test than for the server, so this never fails a
/// correct server and still catches a loop.)
fn fetches_allowed(first: usize, since: Instant) -> usize {
    let periods = since.elapsed().as_secs_f64() / RETRY_AFTER_FAILURE.as_secs_f64();
    first + periods as usize
}

/// `count` tokens of `srv`, all different (distinct `jti`), so the validation cache
/// cannot merge them: whatever is shared happens in the key cache.
fn distinct_tokens(srv: &TestServer, count: usize) -> Vec<String> {
    (0..count)
        .map(|i| srv.token().claim("jti", json!(format!("burst-{i}"))).sign())
        .collect()
}

/// Sends one concurrent `POST /mcp` per token; returns the statuses.
async fn concurrently(srv: &TestServer, tokens: &[String]) -> Vec<u16> {
    let replies = join_all(tokens.iter().map(|t| srv.post_mcp(t))).await;
    replies.iter().map(|r| r.status).collect()
}

// RFC 9110 §15.6.4: the server cannot judge the token, the token is not bad.
#[actix_web::test]
async fn jwks_down_at_first_request_is_503_without_invalid_token() {
    let srv = TestServer::start();
    srv.auth.set_jwks_fault(JwksFault::Status(500));
    let reply = srv.post_mcp(&srv.valid_token()).await;
    srv.assert_unavailable(&reply);
    assert_eq!(srv.auth.jwks_requests(), 1);
}

// The 503 challenge keeps the required scopes but never an `error` (RFC 6750 §3.1).
#[actix_web::test]
async fn jwks_down_with_required_scopes_still_has_no_error_in_the_challenge() {
    let srv = TestServer::with(|b| b.required_scopes(["mcp:tools"]));
    srv.auth.set_jwks_fault(JwksFault::Status(503));
    let reply = srv.post_mcp(&srv.token().scope("mcp:tools").sign()).await;
    assert_refusal(
        &reply,
        503,
        &srv.no_token_challenge(Some("mcp:tools")),
        "temporarily_unavailable",
        "The token cannot be validated right now; try again later",
    );
}

// Last good keys: a failed refetch does not drop the keys.
#[actix_web::test]
async fn last_good_keys_keep_serving_when_the_jwks_goes_down() {
    let srv = TestServer::start();
    assert_admitted(&srv.post_mcp(&srv.valid_token()).await);
    assert_eq!(srv.auth.jwks_requests(), 1);

    srv.auth.set_jwks_fault(JwksFault::Status(500));
    // An unknown kid forces a refetch, which fails; the token is refused (with which status
    // is the subject of `unknown_kid_while_the_jwks_is_down_is_503_not_invalid_token`).
    let reply = srv
        .post_mcp(&srv.token().kid("stale-or-unknown").sign())
        .await;
    assert!(matches!(reply.status, 401 | 503), "{}", reply.status);
    assert_eq!(srv.auth.jwks_requests(), 2);

    // The keys fetched before still verify valid tokens.
    for _ in 0..3 {
        assert_admitted(&srv.post_mcp(&srv.valid_token()).await);
    }
    assert_eq!(srv.auth.jwks_requests(), 2);
}

#[actix_web::test]
async fn garbage_jwks_is_503_when_no_keys_are_known() {
    let srv = TestServer::start();
    srv.auth.set_jwks_fault(JwksFault::Garbage);
    srv.assert_unavailable(&srv.post_mcp(&srv.valid_token()).await);
    assert_eq!(srv.auth.jwks_requests(), 1);
}

#[actix_web::test]
async fn garbage_jwks_does_not_replace_good_keys() {
    let srv = TestServer::with(|b| b.jwks_refetch_cooldown(Duration::ZERO));
    assert_admitted(&srv.post_mcp(&srv.valid_token()).await);
    srv.auth.set_jwks_fault(JwksFault::Garbage);
    let reply = srv.post_mcp(&srv.token().kid("unknown").sign()).await;
    assert!(matches!(reply.status, 401 | 503), "{}", reply.status);
    assert_eq!(srv.auth.jwks_requests(), 2);
    assert_admitted(&srv.post_mcp(&srv.valid_token()).await);
}

// Key rotation (OpenID Connect Core §10.1.1): while the JWKS is unreachable, a token with
// the new kid cannot be judged. Answering 401 invalid_token sends the client to
// re-authorize, and it comes back with a token under the same kid: a loop. Expected 503
// (RFC 9110 §15.6.4) as for "no keys at all".
#[actix_web::test]
async fn unknown_kid_while_the_jwks_is_down_is_503_not_invalid_token() {
    let srv = TestServer::start();
    assert_admitted(&srv.post_mcp(&srv.valid_token()).await);
    srv.auth.rotate_keys();
    srv.auth.set_jwks_fault(JwksFault::Status(500));
    let rotated = srv.valid_token();
    let failed_at = Instant::now();
    let reply = srv.post_mcp(&rotated).await;
    assert_eq!(srv.auth.jwks_requests(), 2, "the refetch was attempted");
    srv.assert_unavailable(&reply);
    // Within the failure back-off nothing is fetched, and the answer stays "retry later".
    srv.assert_unavailable(&srv.post_mcp(&rotated).await);
    assert!(srv.auth.jwks_requests() <= fetches_allowed(2, failed_at));
}

// Every outbound call has a timeout. The behaviour is about time: the JWKS answers after
// 30 s, the configured timeout is 300 ms (a wide margin either way).
#[actix_web::test]
async fn slow_jwks_is_503_after_the_http_timeout() {
    let srv = TestServer::with(|b| b.http_timeout(Duration::from_millis(300)));
    srv.auth
        .set_jwks_fault(JwksFault::Delay(Duration::from_secs(30)));
    srv.assert_unavailable(&srv.post_mcp(&srv.valid_token()).await);
}

// The body is capped. The body is a valid key set (the keys that sign the token, padded
// with a member readers ignore): only the cap refuses it.
#[actix_web::test]
async fn huge_jwks_is_503() {
    let srv = TestServer::start();
    srv.auth.set_jwks_fault(JwksFault::Huge);
    srv.assert_unavailable(&srv.post_mcp(&srv.valid_token()).await);
    assert_eq!(srv.auth.jwks_requests(), 1);
    // What was refused: over 1 MiB, and a key set with the token's key.
    let mut res = srv.client.get(srv.auth.jwks_uri()).send().await.unwrap();
    let body = res.body().limit(4 << 20).await.unwrap();
    assert!(body.len() > 1 << 20, "{}", body.len());
    let jwks: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(jwks["keys"][0]["kid"], "rsa-1");
}

// Outbound calls follow no redirects (README "Security model"): a JWKS answering 302 is
// an unusable JWKS (503), and the keys it points to are never fetched.
#[actix_web::test]
async fn a_jwks_redirect_is_503_and_not_followed() {
    let srv = TestServer::start();
    srv.auth.set_jwks_fault(JwksFault::Redirect);
    srv.assert_unavailable(&srv.post_mcp(&srv.valid_token()).await);
    assert_eq!(srv.auth.jwks_requests(), 1);
    assert_eq!(srv.auth.moved_requests(), 0, "the redirect was followed");
}

// The same for the metadata: every location answers 302 to the real document, which is
// never fetched; without metadata there are no keys (503), and nothing is guessed.
#[actix_web::test]
async fn a_metadata_redirect_is_503_and_not_followed() {
    let srv = TestServer::discovered();
    for doc in [MetadataDocument::OAuth, MetadataDocument::OidcPathInserted] {
        srv.auth.set_metadata_fault(doc, MetadataFault::Redirect);
    }
    srv.assert_unavailable(&srv.post_mcp(&srv.valid_token()).await);
    assert_eq!(srv.auth.metadata_requests(), 2);
    assert_eq!(srv.auth.moved_requests(), 0, "a redirect was followed");
    assert_eq!(srv.auth.jwks_requests(), 0);
}

// Never fetch in a loop: after a failure, at most one attempt per back-off period.
#[actix_web::test]
async fn repeated_requests_while_the_jwks_is_down_do_not_fetch_in_a_loop() {
    let srv = TestServer::start();
    srv.auth.set_jwks_fault(JwksFault::Status(500));
    let started = Instant::now();
    for _ in 0..20 {
        srv.assert_unavailable(&srv.post_mcp(&srv.valid_token()).await);
    }
    let fetches = srv.auth.jwks_requests();
    assert!(
        (1..=fetches_allowed(1, started)).contains(&fetches),
        "{fetches} JWKS fetches for 20 requests in {:?}",
        started.elapsed()
    );
}

// Unknown kids cannot make the server hammer its authorization server either.
#[actix_web::test]
async fn many_unknown_kids_fetch_at_most_once_per_cooldown() {
    let srv = TestServer::start();
    assert_admitted(&srv.post_mcp(&srv.valid_token()).await);
    for i in 0..20 {
        let reply = srv
            .post_mcp(&srv.token().kid(&format!("random-{i}")).sign())
            .await;
        srv.assert_invalid_token(&reply, "The token signing key is unknown");
    }
    assert_eq!(srv.auth.jwks_requests(), 2);
}

// After the failure back-off (2 s), the next request tries again and recovers. Over
// HTTP the behaviour needs real time: the sleep can only overshoot the back-off, never
// fall short of it, so this is not a race. (That nothing is fetched *before* the back-off
// ends is the key cache's unit test, on a stepped clock.)
#[actix_web::test]
async fn jwks_recovers_after_the_failure_back_off() {
    let srv = TestServer::start();
    srv.auth.set_jwks_fault(JwksFault::Status(500));
    srv.assert_unavailable(&srv.post_mcp(&srv.valid_token()).await);
    srv.auth.set_jwks_fault(JwksFault::None);
    actix_web::rt::time::sleep(RETRY_AFTER_FAILURE + Duration::from_millis(300)).await;
    assert_admitted(&srv.post_mcp(&srv.valid_token()).await);
    assert_eq!(srv.auth.jwks_requests(), 2);
}

/// How long the JWKS takes to answer during a burst: the burst arrives while the one
/// fetch is under way, so every request meets it (a quick fetch could be over before the
/// second request arrives, and prove nothing).
const SLOW_JWKS: JwksFault = JwksFault::Delay(Duration::from_millis(500));

// Single flight: 1,000 concurrent requests with tokens signed by a new kid after rotation
// cause exactly one fetch (even with no refetch cooldown). The tokens are distinct, so the
// validation cache's own single flight cannot hide the key cache's.
#[actix_web::test]
async fn concurrent_requests_with_a_new_kid_cause_exactly_one_jwks_fetch() {
    let srv = Setup::new().workers(2).start(|auth, resource| {
        auth.configure(resource)
            .jwks_refetch_cooldown(Duration::ZERO)
    });
    assert_admitted(&srv.post_mcp(&srv.valid_token()).await);
    assert_eq!(srv.auth.jwks_requests(), 1);

    assert_eq!(srv.auth.rotate_keys(), "rsa-2");
    srv.auth.set_jwks_fault(SLOW_JWKS);
    let statuses = concurrently(&srv, &distinct_tokens(&srv, 1000)).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(srv.auth.jwks_requests(), 2);
}

// Single flight on the very first use too: the keys are loaded once, for a burst of
// distinct tokens.
#[actix_web::test]
async fn concurrent_first_requests_load_the_keys_once() {
    let srv = Setup::new()
        .workers(2)
        .start(|auth, resource| auth.configure(resource));
    srv.auth.set_jwks_fault(SLOW_JWKS);
    let statuses = concurrently(&srv, &distinct_tokens(&srv, 100)).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(srv.auth.jwks_requests(), 1);
}

// Single flight while the JWKS is down: one failed fetch answers the whole burst of
// distinct tokens (and the back-off the stragglers).
#[actix_web::test]
async fn concurrent_requests_while_the_jwks_is_down_cause_one_fetch() {
    let srv = Setup::new()
        .workers(2)
        .start(|auth, resource| auth.configure(resource));
    srv.auth.set_jwks_fault(JwksFault::Status(500));
    let tokens = distinct_tokens(&srv, 100);
    let started = Instant::now();
    let statuses = concurrently(&srv, &tokens).await;
    assert!(statuses.iter().all(|s| *s == 503), "{statuses:?}");
    let fetches = srv.auth.jwks_requests();
    assert!(
        (1..=fetches_allowed(1, started)).contains(&fetches),
        "{fetches}"
    );
}

// RFC 9111 §5.2.2.1: the JWKS cache honours `Cache-Control`, within bounds, and stale keys
// keep serving while one refresh runs in the background.
#[actix_web::test]
async fn stale_keys_keep_serving_while_a_background_refresh_fetches_new_ones() {
    // No validation cache: the second request must consult the (stale) keys.
    let srv = TestServer::with(|b| {
        b.jwks_cache_ttl(Duration::ZERO, Duration::from_secs(3600))
            .cache_ttl(Duration::ZERO)
    });
    srv.auth.set_jwks_max_age(Some(0));
    let token = srv.valid_token();
    assert_admitted(&srv.post_mcp(&token).await);
    assert_eq!(srv.auth.jwks_requests(), 1);
    // max-age=0: the keys are stale at once; the request is still admitted from them.
    assert_admitted(&srv.post_mcp(&token).await);
    // Wait for the refresh by counting, with room for a slow machine.
    let deadline = Instant::now() + Duration::from_secs(20);
    while srv.auth.jwks_requests() < 2 && Instant::now() < deadline {
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(srv.auth.jwks_requests(), 2, "one background refresh");
}

// The same `max-age=0` with the default bounds: clamped to the 60 s minimum, so the keys
// stay fresh and nothing is refetched. The validation cache is off, so every request
// consults the key cache (with it, requests 2-5 would never reach the keys).
#[actix_web::test]
async fn cache_control_max_age_below_the_minimum_is_clamped() {
    let srv = TestServer::with(|b| b.cache_ttl(Duration::ZERO));
    srv.auth.set_jwks_max_age(Some(0));
    let token = srv.valid_token();
    for _ in 0..5 {
        assert_admitted(&srv.post_mcp(&token).await);
    }
    // A refresh, had one been started, is on its way to the JWKS: look for it for a
    // while. (A wrongly started refresh arrives within milliseconds; the unit test of the
    // key cache checks the bound itself, on a stepped clock.)
    let until = Instant::now() + Duration::from_secs(1);
    while srv.auth.jwks_requests() == 1 && Instant::now() < until {
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(srv.auth.jwks_requests(), 1, "60 s minimum freshness");
}
