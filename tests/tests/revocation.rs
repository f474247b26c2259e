//! Revocation fleet-wide (RFC 7009 §2.2: a revoked token is refused by every instance that
//! may hold it): three `McpOAuth` instances of one public resource on a real
//! `redis-server`, each holding a token in its validation cache, then the token (or its
//! subject) revoked through the API on one instance, or through what `cargo mcp-oauth
//! revoke` runs: every instance refuses it, found by polling with a bounded deadline (the
//! time it took is printed: the propagation figure). Redis killed and restarted, or the
//! subscriptions cut: the instances listen again and miss nothing.
//!
//! Where `redis-server` is not installed the tests say so and pass, unless
//! `REQUIRE_REDIS_SERVER=1`.
#![allow(clippy::unwrap_used)]

#[path = "resource_server/common.rs"]
#[allow(dead_code)]
mod common;
#[allow(dead_code)]
mod redis_server;

use std::time::{Duration, Instant};

use mcp_oauth::explain::{Revocation, revoke};
use mcp_oauth::{RevocationOnFailure, SharedState};

use crate::common::*;
use crate::redis_server::{Redis, fleet};

/// The longest any instance may take to hear a revocation before the test fails: generous
/// (the target is 100 ms on loopback; the figure is printed, not asserted).
const DEADLINE: Duration = Duration::from_secs(10);

async fn get(instance: &TestServer, token: &str) -> Reply {
    send(instance.get("/mcp").bearer(token)).await
}

/// `token` served by every instance: validated once each, then from each cache.
async fn cached_everywhere(fleet: &[TestServer], token: &str) {
    for instance in fleet {
        assert_admitted(&get(instance, token).await);
        assert_admitted(&get(instance, token).await);
    }
}

fn is_revoked(reply: &Reply) -> bool {
    reply.status == 401
        && reply.json()["error_description"] == "The access token was revoked"
        && reply.challenge().contains("error=\"invalid_token\"")
}

/// Polls every instance until each refuses `token` as revoked; how long the slowest took
/// from `since`. Fails past [`DEADLINE`], or on any other answer than 200 or revoked.
async fn refused_everywhere(fleet: &[TestServer], token: &str, since: Instant) -> Duration {
    let mut slowest = Duration::ZERO;
    for (i, instance) in fleet.iter().enumerate() {
        loop {
            let reply = get(instance, token).await;
            if is_revoked(&reply) {
                slowest = slowest.max(since.elapsed());
                break;
            }
            assert_eq!(reply.status, 200, "instance {i}: {}", reply.text());
            assert!(
                since.elapsed() < DEADLINE,
                "instance {i} still serves the revoked token"
            );
            actix_web::rt::time::sleep(Duration::from_millis(1)).await;
        }
    }
    slowest
}

fn redis_state(redis: &Redis, prefix: &str) -> SharedState {
    SharedState::redis(&redis.url())
        .unwrap()
        .with_prefix(prefix)
}

// A token cached by all three instances, revoked through the API on one: refused by all
// three; recorded in Redis under its hash with an expiry, the token itself nowhere.
#[actix_web::test]
async fn a_token_revoked_on_one_instance_is_refused_by_all() {
    let Some(redis) = Redis::start() else { return };
    let fleet = fleet(&redis_state(&redis, "rev-a"));
    let token = fleet[0].token().subject("alice").sign();
    let other = fleet[0].token().subject("alice").sign();
    cached_everywhere(&fleet, &token).await;
    cached_everywhere(&fleet, &other).await;

    let since = Instant::now();
    fleet[1].oauth.revoke_token(&token).await.unwrap();
    // This instance at once.
    assert!(is_revoked(&get(&fleet[1], &token).await));
    let took = refused_everywhere(&fleet, &token, since).await;
    eprintln!("token revocation reached all three instances in {took:?}");
    // Another token of the same subject is served.
    for instance in &fleet {
        assert_admitted(&get(instance, &other).await);
    }

    let keys = redis.cli(&["--scan", "--pattern", "rev-a:*"]).unwrap();
    let keys: Vec<&str> = keys.lines().collect();
    assert_eq!(keys.len(), 1, "{keys:?}");
    let hash = keys[0].strip_prefix("rev-a:revoked-token:").unwrap();
    assert!(hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()));
    let ttl: u64 = redis.cli(&["PTTL", keys[0]]).unwrap().parse().unwrap();
    // Until the token's `exp` (an hour) plus the largest leeway (300 s), at most.
    assert!(ttl > 0 && ttl <= 3_900_000, "{ttl} ms");
    assert_eq!(redis.cli(&["GET", keys[0]]).unwrap(), "1");
}

// A subject revoked on one instance: every token of it issued until then is refused by
// all three; another subject's token is served; a token issued afterwards is served.
#[actix_web::test]
async fn a_subject_revoked_on_one_instance_is_refused_by_all() {
    let Some(redis) = Redis::start() else { return };
    let fleet = fleet(&redis_state(&redis, "rev-s"));
    let alice = fleet[0].token().subject("alice").sign();
    let bob = fleet[0].token().subject("bob").sign();
    cached_everywhere(&fleet, &alice).await;
    cached_everywhere(&fleet, &bob).await;

    let since = Instant::now();
    fleet[2].oauth.revoke_subject("alice").await.unwrap();
    let took = refused_everywhere(&fleet, &alice, since).await;
    eprintln!("subject revocation reached all three instances in {took:?}");
    let later = fleet[0]
        .token()
        .subject("alice")
        .claim("iat", serde_json::json!(now() + 2))
        .sign();
    for instance in &fleet {
        assert_admitted(&get(instance, &bob).await);
        assert_admitted(&get(instance, &later).await);
    }
    let keys = redis.cli(&["--scan", "--pattern", "rev-s:*"]).unwrap();
    assert!(
        keys.starts_with("rev-s:revoked-subject:") && !keys.contains("alice"),
        "{keys}"
    );
}

// What `cargo mcp-oauth revoke` runs (the binary is the `cli` feature's; the tests crate
// cannot name it): configured by `MCP_OAUTH_REDIS_*` alone, it reaches all three; with
// no Redis configured it refuses, saying why.
#[actix_web::test]
async fn a_revocation_from_the_command_line_reaches_every_instance() {
    let Some(redis) = Redis::start() else { return };
    let fleet = fleet(&redis_state(&redis, "rev-cli"));
    let token = fleet[0].token().subject("carol").sign();
    let dave = fleet[0].token().subject("dave").sign();
    cached_everywhere(&fleet, &token).await;
    cached_everywhere(&fleet, &dave).await;
    let url = redis.url();
    let vars = [
        ("MCP_OAUTH_REDIS_URL", url.as_str()),
        ("MCP_OAUTH_REDIS_PREFIX", "rev-cli"),
    ];

    let since = Instant::now();
    let said = revoke(vars, Revocation::Token(&token)).await.unwrap();
    assert!(!said.contains(&token), "{said}");
    let took = refused_everywhere(&fleet, &token, since).await;
    eprintln!("command-line token revocation reached all three instances in {took:?}");

    let since = Instant::now();
    revoke(vars, Revocation::Subject("dave")).await.unwrap();
    refused_everywhere(&fleet, &dave, since).await;

    let none: [(&str, &str); 0] = [];
    let why = revoke(none, Revocation::Subject("dave")).await.unwrap_err();
    assert!(why.contains("MCP_OAUTH_REDIS_URL"), "{why}");
    let bad = [
        ("MCP_OAUTH_REDIS_URL", url.as_str()),
        ("MCP_OAUTH_REVOCATION_TTL_SECS", "0"),
    ];
    let why = revoke(bad, Revocation::Subject("dave")).await.unwrap_err();
    assert!(why.contains("MCP_OAUTH_REVOCATION_TTL_SECS"), "{why}");
}

/// Revokes a fresh token cached everywhere through `fleet[0]` until one round reaches all
/// three (each instance is listening again, or has emptied its cache on coming back).
async fn until_a_revocation_reaches_all(fleet: &[TestServer], deadline: Instant) {
    loop {
        let token = fleet[0].token().sign();
        cached_everywhere(fleet, &token).await;
        let since = Instant::now();
        if fleet[0].oauth.revoke_token(&token).await.is_ok() {
            let mut all = true;
            for instance in fleet {
                let mut refused = false;
                while !refused && since.elapsed() < Duration::from_secs(1) {
                    refused = is_revoked(&get(instance, &token).await);
                    actix_web::rt::time::sleep(Duration::from_millis(5)).await;
                }
                all &= refused;
            }
            if all {
                return;
            }
        }
        assert!(Instant::now() < deadline, "the fleet never listened again");
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

// Redis killed and restarted: each instance's subscriber reconnects and subscribes again,
// and a revocation made afterwards reaches all three through it.
#[actix_web::test]
async fn after_redis_restarts_a_revocation_reaches_everyone_again() {
    let Some(mut redis) = Redis::start() else {
        return;
    };
    let fleet = fleet(&redis_state(&redis, "rev-r"));
    until_a_revocation_reaches_all(&fleet, Instant::now() + DEADLINE).await;

    redis.kill();
    let token = fleet[0].token().sign();
    // Served meanwhile (the default policy, `open`): never a 401 for a valid token.
    for instance in &fleet {
        assert_admitted(&get(instance, &token).await);
    }
    assert!(redis.run(), "redis-server restarts");
    until_a_revocation_reaches_all(&fleet, Instant::now() + Duration::from_secs(20)).await;
    // Now every instance listens: a token cached everywhere is dropped by the message.
    let token = fleet[0].token().sign();
    cached_everywhere(&fleet, &token).await;
    let since = Instant::now();
    fleet[0].oauth.revoke_token(&token).await.unwrap();
    let took = refused_everywhere(&fleet, &token, since).await;
    eprintln!("after the restart, a revocation reached all three instances in {took:?}");
}

// The subscriptions cut (Redis up) and a revocation recorded before the instances
// subscribe again (they wait 50 ms first): its message is missed, and each instance,
// on listening again, empties its validation cache, so the cached token is validated
// again and meets the record.
#[actix_web::test]
async fn a_revocation_missed_while_not_listening_is_found_on_coming_back() {
    let Some(redis) = Redis::start() else { return };
    let shared = redis_state(&redis, "rev-gap");
    let fleet = fleet(&shared);
    until_a_revocation_reaches_all(&fleet, Instant::now() + DEADLINE).await;
    let token = fleet[0].token().sign();
    cached_everywhere(&fleet, &token).await;

    let killed = redis.cli(&["CLIENT", "KILL", "TYPE", "pubsub"]).unwrap();
    assert_eq!(killed, "3");
    let since = Instant::now();
    shared
        .revoke_token(&token, Duration::from_secs(60))
        .await
        .unwrap();
    let took = refused_everywhere(&fleet, &token, since).await;
    eprintln!("a revocation missed while not listening was applied in {took:?}");
}

// `closed`: while an instance does not hear the fleet's revocations, it serves nothing
// from its validation cache (each request is validated again, here an introspection
// call each); `open` (the other instance) serves its cache as usual.
#[actix_web::test]
async fn closed_validates_every_request_while_not_listening() {
    let Some(mut redis) = Redis::start() else {
        return;
    };
    let closed = redis_state(&redis, "rev-c").revocation_on_failure(RevocationOnFailure::Closed);
    let open = redis_state(&redis, "rev-c");
    let srv = Setup::new().start_introspecting(|b| b.shared_state(closed));
    let auth = &srv.auth;
    let other = Setup::new().start_introspecting(|b| b.shared_state(open));
    let token = srv.token().opaque();
    let token_other = other.token().opaque();
    // Listening: the second request of a token comes from the cache.
    let deadline = Instant::now() + DEADLINE;
    loop {
        let before = auth.introspection_requests();
        assert_admitted(&get(&srv, &token).await);
        assert_admitted(&get(&srv, &token).await);
        if auth.introspection_requests() - before == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the closed instance never cached"
        );
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    assert_admitted(&get(&other, &token_other).await);

    redis.kill();
    // The subscription's loss is noticed at once (the connection closes); until then a
    // request may still be served from the cache: poll for the first introspection.
    let deadline = Instant::now() + DEADLINE;
    loop {
        let before = auth.introspection_requests();
        assert_admitted(&get(&srv, &token).await);
        if auth.introspection_requests() > before {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the closed instance kept its cache"
        );
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    for _ in 0..3 {
        let before = auth.introspection_requests();
        assert_admitted(&get(&srv, &token).await);
        assert_eq!(auth.introspection_requests(), before + 1);
    }
    // `open`: served from the cache without a call.
    let before = other.auth.introspection_requests();
    assert_admitted(&get(&other, &token_other).await);
    assert_eq!(other.auth.introspection_requests(), before);
}

// An instance that was not listening when the revocation was made (started afterwards)
// finds it on its first validation of the token: the records are read on a cache miss.
#[actix_web::test]
async fn an_instance_started_after_a_revocation_finds_the_records() {
    let Some(redis) = Redis::start() else { return };
    let shared = redis_state(&redis, "rev-late");
    let before = TestServer::start();
    let token = before.token().subject("erin").sign();
    let erin = before.token().subject("erin").sign();
    let url = before.resource.clone();
    shared
        .revoke_token(&token, Duration::from_secs(60))
        .await
        .unwrap();
    shared
        .revoke_subject("erin", Duration::from_secs(60))
        .await
        .unwrap();
    let (issuer, jwks) = (before.auth.issuer().to_owned(), before.auth.jwks_uri());
    let late = Setup::new().start(move |_, _| {
        mcp_oauth::McpOAuth::builder()
            .resource(url)
            .authorization_server(issuer)
            .jwks_uri(jwks)
            .shared_state(shared)
    });
    assert!(is_revoked(&get(&late, &token).await));
    assert!(is_revoked(&get(&late, &erin).await));
    let other = before.token().subject("frank").sign();
    assert_admitted(&get(&late, &other).await);
}

// The in-process store (one process, several `McpOAuth`s on one `SharedState::memory()`)
// carries revocations the same way, without Redis.
#[actix_web::test]
async fn the_in_memory_shared_state_carries_revocations_too() {
    let fleet = fleet(&SharedState::memory());
    let token = fleet[0].token().subject("gina").sign();
    cached_everywhere(&fleet, &token).await;
    fleet[2].oauth.revoke_token(&token).await.unwrap();
    for instance in &fleet {
        assert!(is_revoked(&get(instance, &token).await));
    }
}
