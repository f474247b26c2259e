//! The rate limits of a fleet: three `McpOAuth` instances of one public resource sharing
//! a real `redis-server` on loopback (feature `redis`) count one budget, by an atomic GCRA
//! step in Redis (`mcp-oauth/src/shared/gcra.rs`); with Redis gone each instance falls
//! back to its own limiter (the per-process limits), never refusing a request for it.
#![allow(clippy::unwrap_used)]

#[path = "resource_server/common.rs"]
#[allow(dead_code)]
mod common;
#[allow(dead_code)]
mod redis_server;

use mcp_oauth::{McpOAuthBuilder, Rate, SharedState};

use crate::common::*;
use crate::redis_server::{Redis, fleet_with};

/// Three instances of one public resource sharing `shared`, each configured by `configure`.
fn fleet(
    shared: &SharedState,
    configure: impl Fn(McpOAuthBuilder) -> McpOAuthBuilder + Clone + 'static,
) -> Vec<TestServer> {
    fleet_with(None, shared, configure)
}

/// A 429 and its `Retry-After`, in seconds.
fn limited(reply: &Reply) -> u64 {
    assert_eq!(reply.status, 429, "{reply:?} {}", reply.text());
    reply.header("retry-after").unwrap().parse().unwrap()
}

/// The keys under `pattern`, each checked: `<prefix>:limit:<which>:` then a SHA-256 in
/// hex, with an expiry of at most `most` milliseconds.
fn hashed_keys(redis: &Redis, prefix: &str, most: u64) -> Vec<String> {
    let keys = redis.cli(&["--scan", "--pattern", "*"]).unwrap();
    let keys: Vec<String> = keys.lines().map(str::to_owned).collect();
    for k in &keys {
        let hash = k.strip_prefix(prefix).unwrap_or_else(|| panic!("{k}"));
        assert!(
            hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()),
            "{k}"
        );
        let ttl: i64 = redis.cli(&["PTTL", k]).unwrap().parse().unwrap();
        assert!(ttl > 0 && ttl as u64 <= most, "{k}: {ttl} ms");
    }
    keys
}

// A refusal budget of 3/hour per address holds across the fleet: three refused requests
// in all (one per instance), then the fourth, on any instance, is 429 with the wait the
// script answered (an hour / 3); per process, each instance would still have two left.
#[actix_web::test]
async fn the_refusal_budget_is_the_fleets() {
    let Some(redis) = Redis::start() else { return };
    let shared = SharedState::redis(&redis.url())
        .unwrap()
        .with_prefix("fleet-c");
    let fleet = fleet(&shared, |b| b.rate_limit_refusals(Rate::per_hour(3)));
    for instance in &fleet {
        assert_eq!(instance.post_mcp_anonymous().await.status, 401);
    }
    for instance in fleet.iter().rev() {
        let wait = limited(&instance.post_mcp_anonymous().await);
        assert!((1190..=1200).contains(&wait), "Retry-After {wait}");
    }
    // The budget is spent before token work: a new token from there waits too.
    let token = fleet[0].valid_token();
    limited(&fleet[1].post_mcp(&token).await);

    // One key: the address hashed, expiring when the budget is full again (3 × 20 min).
    let keys = hashed_keys(&redis, "fleet-c:limit:refusals:", 3_600_000);
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(!keys[0].contains("127.0.0.1"));
}

// The metadata budget per address is the fleet's too: three documents in all, then 429
// on every instance.
#[actix_web::test]
async fn the_metadata_budget_is_the_fleets() {
    let Some(redis) = Redis::start() else { return };
    let shared = SharedState::redis(&redis.url()).unwrap();
    let fleet = fleet(&shared, |b| b.rate_limit_metadata(Rate::per_hour(3)));
    let metadata =
        async |instance: &TestServer| send(instance.client.get(&instance.metadata_url)).await;
    for instance in &fleet {
        assert_eq!(metadata(instance).await.status, 200);
    }
    for instance in &fleet {
        limited(&metadata(instance).await);
    }
    let keys = hashed_keys(&redis, "mcp-oauth:limit:metadata:", 3_600_000);
    assert_eq!(keys.len(), 1, "{keys:?}");
}

// A principal quota of 3/hour is the fleet's: alice's fourth request, on any instance,
// is 429; bob has his own; the key is the principal's hash, never a token or a subject.
#[actix_web::test]
async fn the_principal_quota_is_the_fleets() {
    let Some(redis) = Redis::start() else { return };
    let shared = SharedState::redis(&redis.url())
        .unwrap()
        .with_prefix("fleet-c");
    let fleet = fleet(&shared, |b| b.rate_limit_principal(Rate::per_hour(3)));
    let alice = fleet[0].token().subject("alice").sign();
    for instance in &fleet {
        assert_admitted(&instance.post_mcp(&alice).await);
    }
    // Another token of alice's, on the instance that has served her once.
    let alice_again = fleet[0]
        .token()
        .subject("alice")
        .claim("jti", "2".into())
        .sign();
    let wait = limited(&fleet[2].post_mcp(&alice_again).await);
    assert!((1190..=1200).contains(&wait), "Retry-After {wait}");
    limited(&fleet[0].post_mcp(&alice).await);
    let bob = fleet[0].token().subject("bob").sign();
    assert_admitted(&fleet[1].post_mcp(&bob).await);

    let keys = hashed_keys(&redis, "fleet-c:limit:principal:", 3_600_000);
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert!(
        !keys
            .iter()
            .any(|k| k.contains("alice") || k.contains(&alice))
    );
}

// Redis killed: each instance is limited by its own limiters, as one process would be
// (three of alice's requests per instance, the fourth there 429; three refusals per
// instance, the first spent validating alice's token), and valid tokens are served:
// never a 401 nor a 503 for Redis; the failure is logged, naming its use.
#[actix_web::test]
async fn with_redis_down_each_instance_has_its_own_limits() {
    let Some(mut redis) = Redis::start() else {
        return;
    };
    let shared = SharedState::redis(&redis.url()).unwrap();
    let logs = LogBuffer::default();
    let fleet = fleet_with(Some(&logs), &shared, |b| {
        b.rate_limit_refusals(Rate::per_hour(3))
            .rate_limit_principal(Rate::per_hour(3))
    });
    redis.kill();
    let alice = fleet[0].token().subject("alice").sign();
    for instance in &fleet {
        for _ in 0..3 {
            assert_admitted(&instance.post_mcp(&alice).await);
        }
        limited(&instance.post_mcp(&alice).await);
        for _ in 0..2 {
            assert_eq!(instance.post_mcp_anonymous().await.status, 401);
        }
        limited(&instance.post_mcp_anonymous().await);
    }
    let logs = logs.contents();
    let warned = logs
        .lines()
        .find(|l| l.contains("shared state unavailable"))
        .unwrap_or_else(|| panic!("no warning in:\n{logs}"));
    assert!(
        warned.contains("WARN") && warned.contains("rate_limit"),
        "{warned}"
    );
}

/// How many times Redis ran the limit script (`EVALSHA` calls that did not fail: the
/// first one, before the script is loaded, fails with `NOSCRIPT`), from `INFO
/// commandstats`.
fn script_calls(redis: &Redis) -> u64 {
    let stats = redis.cli(&["INFO", "commandstats"]).unwrap();
    let Some(line) = stats
        .lines()
        .find_map(|l| l.strip_prefix("cmdstat_evalsha:"))
    else {
        return 0;
    };
    let field = |name: &str| -> u64 {
        line.split(',')
            .find_map(|f| f.strip_prefix(name)?.strip_prefix('='))
            .map_or(0, |v| v.trim().parse().unwrap())
    };
    field("calls") - field("failed_calls") - field("rejected_calls")
}

// What costs a round trip: a request answered from the validation cache with no
// principal quota costs none (the refusal budget is spent only before token work); a
// key the local limiter already refuses costs none either (only the two requests this
// instance's own budget still let through were asked about, and the fleet refused them).
#[actix_web::test]
async fn the_local_state_answers_first_without_a_round_trip() {
    let Some(redis) = Redis::start() else { return };
    let shared = SharedState::redis(&redis.url()).unwrap();
    let fleet = fleet(&shared, |b| b.rate_limit_refusals(Rate::per_hour(3)));
    let token = fleet[0].valid_token();
    assert_admitted(&fleet[0].post_mcp(&token).await);
    let after_validation = script_calls(&redis);
    assert_eq!(after_validation, 1, "one step for the one validation");
    for _ in 0..10 {
        assert_admitted(&fleet[0].post_mcp(&token).await);
    }
    assert_eq!(script_calls(&redis), 1, "cache hits never ask Redis");

    // Two more spend the fleet's budget (three in all), then instance 0 has one left of
    // its own: one round trip, refused by the fleet; then its own limiter refuses alone.
    for instance in &fleet[1..] {
        assert_eq!(instance.post_mcp_anonymous().await.status, 401);
    }
    for _ in 0..10 {
        limited(&fleet[0].post_mcp_anonymous().await);
    }
    assert_eq!(script_calls(&redis), 3 + 2);
}
