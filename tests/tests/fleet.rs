//! A fleet: several `McpOAuth` instances behind one public resource, sharing a real
//! `redis-server` on loopback (feature `redis`). A DPoP proof is good once per fleet
//! (RFC 9449 §11.1); with Redis gone, the configured failure policy decides, loudly; with
//! Redis back, the fleet is one again.
//!
//! Each test starts its own `redis-server` (a free port, no persistence). Where it is not
//! installed the tests say so and pass, unless `MCP_OAUTH_TEST_REQUIRE_REDIS=1` (what
//! `.ci/run` sets, after installing it), where its absence fails them.
#![allow(clippy::unwrap_used)]

#[path = "resource_server/common.rs"]
#[allow(dead_code)]
mod common;
#[allow(dead_code)]
mod redis_server;

use std::time::{Duration, Instant};

use mcp_oauth::testing::DpopKey;
use mcp_oauth::{OnFailure, SharedState};

use crate::common::*;
use crate::redis_server::{Redis, fleet};

/// `GET /dpop` on `instance` with `token` and `proof` (made for the public URL).
async fn get(instance: &TestServer, token: &str, proof: &str) -> Reply {
    send(
        instance
            .get("/dpop")
            .insert_header(("Authorization", format!("DPoP {token}")))
            .insert_header(("DPoP", proof.to_owned())),
    )
    .await
}

fn assert_replayed(reply: &Reply) {
    assert_eq!(reply.status, 401, "{}", reply.text());
    assert_eq!(
        reply.json()["error_description"],
        "The DPoP proof was already used"
    );
}

// RFC 9449 §11.1 across a fleet: a proof accepted by one instance is refused by the others.
#[actix_web::test]
async fn a_dpop_proof_is_good_once_per_fleet() {
    let Some(redis) = Redis::start() else { return };
    let shared = SharedState::redis(&redis.url())
        .unwrap()
        .with_prefix("fleet-a");
    let fleet = fleet(&shared);
    let key = DpopKey::generate();
    let token = fleet[0].token().subject("alice").dpop_bound(&key).sign();
    let public = format!("{}/dpop", fleet[0].base);
    let proof = || key.proof("GET", &public).access_token(&token).sign();

    let once = proof();
    assert_admitted(&get(&fleet[0], &token, &once).await);
    assert_replayed(&get(&fleet[1], &token, &once).await);
    assert_replayed(&get(&fleet[2], &token, &once).await);
    assert_replayed(&get(&fleet[0], &token, &once).await);
    // Fresh proofs work on every instance.
    for instance in &fleet {
        assert_admitted(&get(instance, &token, &proof()).await);
    }

    // What Redis holds: hashed keys under the prefix, each expiring with its proof's
    // window; no token, no proof, no thumbprint.
    let keys = redis.cli(&["--scan", "--pattern", "*"]).unwrap();
    let keys: Vec<&str> = keys.lines().collect();
    assert_eq!(keys.len(), 4, "{keys:?}");
    for k in &keys {
        let hash = k.strip_prefix("fleet-a:dpop-jti:").unwrap();
        assert!(
            hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()),
            "{k}"
        );
        let ttl: u64 = redis.cli(&["PTTL", k]).unwrap().parse().unwrap();
        // Window 60 s + leeway 60 s + 1 s, at most.
        assert!(ttl > 0 && ttl <= 121_000, "{k}: {ttl} ms");
    }
    assert!(!keys.iter().any(|k| k.contains(&key.thumbprint())));
}

// Redis killed mid-run: with the default policy (`local`) every instance goes on with its
// own replay cache (a replay to the same instance is still refused; to another one it is
// not: the hole the policy accepts), never a 401 for a good proof; with Redis back, the
// fleet refuses cross-instance replays again.
#[actix_web::test]
async fn with_redis_down_the_local_policy_goes_on_and_recovers() {
    let Some(mut redis) = Redis::start() else {
        return;
    };
    let shared = SharedState::redis(&redis.url()).unwrap();
    assert_eq!(shared.failure_policy(), OnFailure::Local);
    let fleet = fleet(&shared);
    let key = DpopKey::generate();
    let token = fleet[0].token().dpop_bound(&key).sign();
    let public = format!("{}/dpop", fleet[0].base);
    let proof = || key.proof("GET", &public).access_token(&token).sign();
    assert_admitted(&get(&fleet[0], &token, &proof()).await);

    redis.kill();
    let during = proof();
    assert_admitted(&get(&fleet[0], &token, &during).await);
    assert_replayed(&get(&fleet[0], &token, &during).await);
    assert_admitted(&get(&fleet[1], &token, &during).await);

    assert!(redis.run(), "redis-server restarts");
    // Each instance reconnects within a second of its failed attempt: until then it
    // goes on alone, so wait for one cross-instance replay to be refused.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let probe = proof();
        assert_admitted(&get(&fleet[1], &token, &probe).await);
        let replay = get(&fleet[2], &token, &probe).await;
        if replay.status == 401 {
            assert_replayed(&replay);
            break;
        }
        assert_eq!(replay.status, 200, "{}", replay.text());
        assert!(Instant::now() < deadline, "the fleet never saw Redis again");
        actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    }
}

// `refuse`: without Redis a proof cannot be vouched for fleet-wide, so it is 503 (no
// `invalid_token`, no `invalid_dpop_proof`: the client is not at fault); bearer tokens
// need no shared answer and are served.
#[actix_web::test]
async fn with_redis_down_the_refuse_policy_answers_503() {
    let Some(mut redis) = Redis::start() else {
        return;
    };
    let shared = SharedState::redis(&redis.url())
        .unwrap()
        .on_failure(OnFailure::Refuse);
    let fleet = fleet(&shared);
    let key = DpopKey::generate();
    let token = fleet[0].token().dpop_bound(&key).sign();
    let public = format!("{}/dpop", fleet[0].base);
    assert_admitted(
        &get(
            &fleet[0],
            &token,
            &key.proof("GET", &public).access_token(&token).sign(),
        )
        .await,
    );
    redis.kill();
    let reply = get(
        &fleet[1],
        &token,
        &key.proof("GET", &public).access_token(&token).sign(),
    )
    .await;
    assert_eq!(reply.status, 503, "{}", reply.text());
    assert!(!reply.text().contains("invalid_"), "{}", reply.text());
    assert_admitted(&send(fleet[1].get("/dpop").bearer(&fleet[0].valid_token())).await);
}

// The settings from the environment: the URL, prefix, deadline and policy; values that
// cannot work are refused at build, naming the variable.
#[actix_web::test]
async fn the_redis_settings_come_from_the_environment() {
    let Some(redis) = Redis::start() else { return };
    let srv = Setup::new().start(|auth, resource| {
        mcp_oauth::McpOAuthBuilder::from_vars([
            ("MCP_OAUTH_RESOURCE", resource),
            ("MCP_OAUTH_AUTHORIZATION_SERVERS", auth.issuer()),
            ("MCP_OAUTH_JWKS_URI", &auth.jwks_uri()),
            ("MCP_OAUTH_REDIS_URL", &redis.url()),
            ("MCP_OAUTH_REDIS_PREFIX", "from-env"),
            ("MCP_OAUTH_REDIS_TIMEOUT_MS", "100"),
            ("MCP_OAUTH_REDIS_ON_FAILURE", "refuse"),
        ])
    });
    let key = DpopKey::generate();
    let token = srv.token().dpop_bound(&key).sign();
    let proof = key
        .proof("GET", &srv.url("/dpop"))
        .access_token(&token)
        .sign();
    assert_admitted(&get(&srv, &token, &proof).await);
    let keys = redis
        .cli(&["--scan", "--pattern", "from-env:dpop-jti:*"])
        .unwrap();
    assert_eq!(keys.lines().count(), 1, "{keys}");

    let problems = |vars: &[(&str, &str)]| {
        let mut all = vec![
            ("MCP_OAUTH_RESOURCE", "https://mcp.example.com/mcp"),
            (
                "MCP_OAUTH_AUTHORIZATION_SERVERS",
                "https://auth.example.com",
            ),
            ("MCP_OAUTH_JWKS_URI", "https://auth.example.com/jwks"),
        ];
        all.extend_from_slice(vars);
        let err = mcp_oauth::McpOAuthBuilder::from_vars(all)
            .build()
            .unwrap_err();
        err.problems()
            .iter()
            .map(|p| p.setting())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        problems(&[
            ("MCP_OAUTH_REDIS_URL", "http://not-redis.example"),
            ("MCP_OAUTH_REDIS_TIMEOUT_MS", "0"),
            ("MCP_OAUTH_REDIS_ON_FAILURE", "shrug"),
        ]),
        ["MCP_OAUTH_REDIS_TIMEOUT_MS", "MCP_OAUTH_REDIS_URL"]
    );
    assert_eq!(
        problems(&[("MCP_OAUTH_REDIS_PREFIX", "x")]),
        ["MCP_OAUTH_REDIS_PREFIX"]
    );
}
