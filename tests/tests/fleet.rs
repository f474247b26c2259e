//! A fleet: several `McpOAuth` instances behind one public resource, sharing a real
//! `redis-server` on loopback (feature `redis`). A DPoP proof is good once per fleet
//! (RFC 9449 §11.1); with Redis gone, the configured failure policy decides, loudly; with
//! Redis back, the fleet is one again.
//!
//! Each test starts its own `redis-server` (a free port, no persistence). Where it is not
//! installed the tests say so and pass, unless `REQUIRE_REDIS_SERVER=1` (what
//! `.ci/run` sets, after installing it), where its absence fails them.
#![allow(clippy::unwrap_used)]

#[path = "resource_server/common.rs"]
#[allow(dead_code)]
mod common;
#[allow(dead_code)]
mod redis_server;

use std::time::{Duration, Instant};

use mcp_oauth::testing::DpopKey;
use mcp_oauth::{McpOAuth, OnFailure, SharedState};

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

// ---------------------------------------------------------------------------------------
// Introspection results and session owners, fleet-wide.
// ---------------------------------------------------------------------------------------

/// Three instances of one public resource that validate by introspection only (RFC
/// 7662), as the first's authorization server's client `rs`, sharing `shared`.
fn introspecting_fleet(shared: &SharedState) -> Vec<TestServer> {
    let first = Setup::new().start_introspecting(|b| b.shared_state(shared.clone()));
    let issuer = first.auth.issuer().to_owned();
    let mut fleet = vec![first];
    for _ in 0..2 {
        let (public, issuer, shared) = (fleet[0].resource.clone(), issuer.clone(), shared.clone());
        fleet.push(Setup::new().start(move |_, _| {
            McpOAuth::builder()
                .resource(public)
                .authorization_server(issuer)
                .validation(mcp_oauth::Validation::Introspection)
                .introspection_client("rs", "rs-secret")
                .shared_state(shared)
        }));
    }
    fleet
}

/// The keys under `pattern`, each checked to be `<prefix>:<kind>:<64 hex>`.
/// An opaque token of `alice` with 30 s to live, from `instance`'s authorization server.
fn alices_opaque_token(instance: &TestServer) -> String {
    instance
        .token()
        .subject("alice")
        .expires_in(Duration::from_secs(30))
        .opaque()
}

fn hashed_keys(redis: &Redis, prefix_and_kind: &str) -> Vec<String> {
    let keys = redis
        .cli(&["--scan", "--pattern", &format!("{prefix_and_kind}*")])
        .unwrap();
    let keys: Vec<String> = keys.lines().map(str::to_owned).collect();
    for k in &keys {
        let hash = k.strip_prefix(prefix_and_kind).unwrap();
        assert!(
            hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()),
            "{k}"
        );
    }
    keys
}

fn pttl(redis: &Redis, key: &str) -> u64 {
    redis.cli(&["PTTL", key]).unwrap().parse().unwrap()
}

// RFC 7662 §4 across a fleet: one opaque token sent to each of three instances is
// introspected once; a token the authorization server calls inactive too (a flood of
// one bad token costs one call per fleet). Redis holds hashed keys, answers without the
// token, each expiring no later than the token (active) or the negative TTL (inactive).
#[actix_web::test]
async fn a_token_is_introspected_once_per_fleet() {
    let Some(redis) = Redis::start() else { return };
    let shared = SharedState::redis(&redis.url())
        .unwrap()
        .with_prefix("fleet-i");
    let fleet = introspecting_fleet(&shared);
    let auth = &fleet[0].auth;
    let token = alices_opaque_token(&fleet[0]);
    for instance in &fleet {
        let reply = send(instance.get("/mcp").bearer(&token)).await;
        assert_eq!(assert_admitted(&reply)["subject"], "alice");
    }
    assert_eq!(auth.introspection_requests(), 1);

    let inactive = "never-issued-opaque-token";
    for instance in &fleet {
        let reply = send(instance.get("/mcp").bearer(inactive)).await;
        assert_eq!(reply.status, 401, "{}", reply.text());
    }
    assert_eq!(auth.introspection_requests(), 2);

    let keys = hashed_keys(&redis, "fleet-i:introspection:");
    assert_eq!(keys.len(), 2, "{keys:?}");
    let mut ttls: Vec<u64> = keys.iter().map(|k| pttl(&redis, k)).collect();
    ttls.sort_unstable();
    // Inactive: the negative TTL (5 s); active: the token's 30 s left, under the cache's 60 s.
    assert!(ttls[0] > 0 && ttls[0] <= 5_000, "{ttls:?}");
    assert!(ttls[1] > 5_000 && ttls[1] <= 30_000, "{ttls:?}");
    for k in &keys {
        let value = redis.cli(&["GET", k]).unwrap();
        assert!(
            !value.contains(&token) && !value.contains(inactive),
            "{value}"
        );
    }
}

// Redis down: each instance introspects the token itself (the behaviour without a
// fleet), nothing is refused that would be served alone, even under the `refuse` policy
// (the authorization server still vouches for the token), and inactive stays 401 (never
// a 503: the authorization server answered).
#[actix_web::test]
async fn with_redis_down_each_instance_introspects_itself() {
    let Some(mut redis) = Redis::start() else {
        return;
    };
    let shared = SharedState::redis(&redis.url())
        .unwrap()
        .on_failure(OnFailure::Refuse);
    let fleet = introspecting_fleet(&shared);
    let auth = &fleet[0].auth;
    redis.kill();
    let token = fleet[0].token().subject("bob").opaque();
    for instance in &fleet {
        let reply = send(instance.get("/mcp").bearer(&token)).await;
        assert_eq!(assert_admitted(&reply)["subject"], "bob");
    }
    assert_eq!(auth.introspection_requests(), 3);
    for instance in &fleet {
        let reply = send(instance.get("/mcp").bearer("never-issued")).await;
        assert_eq!(reply.status, 401, "{}", reply.text());
    }
    assert_eq!(auth.introspection_requests(), 6);
}

/// `POST /session` on `instance` as `token`: the new session's id.
async fn open_session(instance: &TestServer, token: &str) -> String {
    let reply = send(instance.post("/session").bearer(token)).await;
    assert_admitted(&reply);
    reply.header("mcp-session-id").unwrap().to_owned()
}

/// `method /mcp` on `instance` as `token`, naming `session`.
async fn in_session(instance: &TestServer, method: &str, token: &str, session: &str) -> Reply {
    let req = match method {
        "DELETE" => instance.delete("/mcp"),
        _ => instance.get("/mcp"),
    };
    send(
        req.bearer(token)
            .insert_header(("Mcp-Session-Id", session.to_owned())),
    )
    .await
}

// MCP Security Best Practices §Session Hijacking across a fleet: a session opened on one
// instance is its owner's on the others, and 404 to anyone else there; ended on one, it
// is gone on all. Redis holds the hashed id and the hashed principal, never either.
#[actix_web::test]
async fn a_session_is_its_owners_on_every_instance() {
    let Some(redis) = Redis::start() else { return };
    let shared = SharedState::redis(&redis.url())
        .unwrap()
        .with_prefix("fleet-s");
    let fleet = fleet(&shared);
    let alice = fleet[0].token().subject("alice").sign();
    let mallory = fleet[0].token().subject("mallory").sign();
    let session = open_session(&fleet[0], &alice).await;

    assert_admitted(&in_session(&fleet[1], "GET", &alice, &session).await);
    let refused = in_session(&fleet[2], "GET", &mallory, &session).await;
    assert_eq!(refused.status, 404, "{}", refused.text());
    let refused = in_session(&fleet[1], "GET", &mallory, &session).await;
    assert_eq!(refused.status, 404, "{}", refused.text());

    let keys = hashed_keys(&redis, "fleet-s:session:");
    assert_eq!(keys.len(), 1, "{keys:?}");
    // JWTs validated locally never touch Redis: the session is all it holds.
    let all = redis.cli(&["--scan", "--pattern", "*"]).unwrap();
    assert_eq!(all.lines().count(), 1, "{all}");
    let owner = redis.cli(&["GET", &keys[0]]).unwrap();
    assert!(
        owner.len() == 64 && owner.bytes().all(|b| b.is_ascii_hexdigit()),
        "{owner}"
    );
    assert!(!keys[0].contains(&session));
    let ttl = pttl(&redis, &keys[0]);
    assert!(ttl > 0 && ttl <= 24 * 3_600_000, "{ttl}");

    // Ended on the second instance: gone on the third, which never saw it.
    assert_admitted(&in_session(&fleet[1], "DELETE", &alice, &session).await);
    assert!(hashed_keys(&redis, "fleet-s:session:").is_empty());
    let ended = in_session(&fleet[2], "GET", &alice, &session).await;
    assert_eq!(ended.status, 404, "{}", ended.text());
}

// Redis down: a session this instance does not know cannot be vouched for, so 404 (the
// client opens a new one); the instance that opened it still serves its owner.
#[actix_web::test]
async fn with_redis_down_an_unknown_session_is_404() {
    let Some(mut redis) = Redis::start() else {
        return;
    };
    let shared = SharedState::redis(&redis.url()).unwrap();
    let fleet = fleet(&shared);
    let alice = fleet[0].token().subject("alice").sign();
    let session = open_session(&fleet[0], &alice).await;
    redis.kill();
    let refused = in_session(&fleet[1], "GET", &alice, &session).await;
    assert_eq!(refused.status, 404, "{}", refused.text());
    assert_admitted(&in_session(&fleet[0], "GET", &alice, &session).await);
}

// A fleet secret: an introspection answer written into Redis by someone without it (here:
// the stored answer rewritten to another subject) is not believed, the token is
// introspected again and served as itself; keys name keyed hashes, not the token's SHA-256.
#[actix_web::test]
async fn with_a_fleet_secret_a_forged_value_is_not_believed() {
    let Some(redis) = Redis::start() else { return };
    let shared = SharedState::redis(&redis.url())
        .unwrap()
        .with_prefix("sealed")
        .with_secret(b"a secret all three instances share")
        .unwrap();
    let fleet = introspecting_fleet(&shared);
    let auth = &fleet[0].auth;
    let token = alices_opaque_token(&fleet[0]);
    let reply = send(fleet[0].get("/mcp").bearer(&token)).await;
    assert_eq!(assert_admitted(&reply)["subject"], "alice");
    assert_eq!(auth.introspection_requests(), 1);
    let keys = hashed_keys(&redis, "sealed:introspection:");
    assert_eq!(keys.len(), 1, "{keys:?}");
    let stored = redis.cli(&["GET", &keys[0]]).unwrap();
    assert!(stored.contains("alice"), "{stored}");
    // Believed by another instance as it is.
    let reply = send(fleet[1].get("/mcp").bearer(&token)).await;
    assert_eq!(assert_admitted(&reply)["subject"], "alice");
    assert_eq!(auth.introspection_requests(), 1);
    // Rewritten by someone without the secret: not believed.
    let forged = stored.replace("alice", "mallory");
    redis
        .cli(&["SET", &keys[0], &forged, "PX", "30000"])
        .unwrap();
    let reply = send(fleet[2].get("/mcp").bearer(&token)).await;
    assert_eq!(assert_admitted(&reply)["subject"], "alice");
    assert_eq!(auth.introspection_requests(), 2);
}

/// A TLS-only `redis-server` with a password, its certificate issued by a CA of the test's
/// own (made with `openssl`); killed when dropped. `None` (the test passes, saying why)
/// where `redis-server` or `openssl` is missing and the run does not require them.
struct TlsRedis {
    child: std::process::Child,
    port: u16,
    dir: std::path::PathBuf,
}

const TLS_PASSWORD: &str = "a-redis-password";

impl TlsRedis {
    fn start() -> Option<Self> {
        use std::process::{Command, Stdio};
        let required = std::env::var("REQUIRE_REDIS_SERVER").is_ok_and(|v| v == "1");
        let port = std::net::TcpListener::bind(("127.0.0.1", 0))
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir =
            std::env::temp_dir().join(format!("mcp-oauth-redis-tls-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let openssl = |args: &[&str]| {
            Command::new("openssl")
                .args(args)
                .current_dir(&dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        std::fs::write(dir.join("ext.cnf"), "subjectAltName=IP:127.0.0.1\n").unwrap();
        let made = openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-days",
            "1",
            "-subj",
            "/CN=mcp-oauth test CA",
        ]) && openssl(&[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ]) && openssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "1",
            "-extfile",
            "ext.cnf",
        ]);
        if !made {
            assert!(!required, "openssl is required to test Redis over TLS");
            eprintln!("openssl is not installed: skipping the TLS fleet test");
            return None;
        }
        let child = Command::new("redis-server")
            .args([
                "--port",
                "0",
                "--tls-port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
            ])
            .args([
                "--tls-cert-file",
                "server.crt",
                "--tls-key-file",
                "server.key",
            ])
            .args(["--tls-ca-cert-file", "ca.crt", "--tls-auth-clients", "no"])
            .args([
                "--requirepass",
                TLS_PASSWORD,
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .current_dir(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let Ok(child) = child else {
            assert!(!required, "redis-server is required but not installed");
            eprintln!("redis-server is not installed: skipping the TLS fleet test");
            return None;
        };
        let redis = Self { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(10);
        while redis.ping().as_deref() != Some("PONG") {
            assert!(
                Instant::now() < deadline,
                "redis-server (TLS) did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(redis)
    }

    fn ping(&self) -> Option<String> {
        let out = std::process::Command::new("redis-cli")
            .args(["--tls", "--cacert", "ca.crt", "-p", &self.port.to_string()])
            .args(["-a", TLS_PASSWORD, "--no-auth-warning", "PING"])
            .current_dir(&self.dir)
            .output()
            .ok()?;
        Some(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    fn url(&self, password: &str) -> String {
        format!("rediss://:{password}@127.0.0.1:{}", self.port)
    }
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

// `rediss://` with a private CA (MCP_OAUTH_REDIS_CA_FILE) and a password in the URL: the
// fleet shares over TLS. Without the CA (the webpki roots do not know it) or with a wrong
// password, an instance cannot reach Redis: it goes on alone (a replay passes there), as
// the `local` policy says, never refusing a good proof.
#[actix_web::test]
async fn over_tls_with_a_password_the_fleet_shares_and_nothing_less_connects() {
    let Some(tls) = TlsRedis::start() else { return };
    let ca_file = tls.dir.join("ca.crt").display().to_string();
    let instance = |public: Option<String>,
                    issuer: Option<(String, String)>,
                    url: String,
                    ca: Option<String>| {
        Setup::new().start(move |auth, resource| {
            let resource = public.unwrap_or_else(|| resource.to_owned());
            let (issuer, jwks) =
                issuer.unwrap_or_else(|| (auth.issuer().to_owned(), auth.jwks_uri()));
            let mut vars = vec![
                ("MCP_OAUTH_RESOURCE".to_owned(), resource),
                ("MCP_OAUTH_AUTHORIZATION_SERVERS".to_owned(), issuer),
                ("MCP_OAUTH_JWKS_URI".to_owned(), jwks),
                ("MCP_OAUTH_REDIS_URL".to_owned(), url),
            ];
            if let Some(ca) = ca {
                vars.push(("MCP_OAUTH_REDIS_CA_FILE".to_owned(), ca));
            }
            mcp_oauth::McpOAuthBuilder::from_vars(vars)
        })
    };
    let a = instance(None, None, tls.url(TLS_PASSWORD), Some(ca_file.clone()));
    let issuer = Some((a.auth.issuer().to_owned(), a.auth.jwks_uri()));
    let peer = |url: String, ca: Option<String>| {
        instance(Some(a.resource.clone()), issuer.clone(), url, ca)
    };
    let b = peer(tls.url(TLS_PASSWORD), Some(ca_file.clone()));
    let no_ca = peer(tls.url(TLS_PASSWORD), None);
    let wrong_password = peer(tls.url("not-the-password"), Some(ca_file));

    let key = DpopKey::generate();
    let token = a.token().dpop_bound(&key).sign();
    let public = format!("{}/dpop", a.base);
    let once = key.proof("GET", &public).access_token(&token).sign();
    assert_admitted(&get(&a, &token, &once).await);
    assert_replayed(&get(&b, &token, &once).await);
    assert_admitted(&get(&no_ca, &token, &once).await);
    assert_admitted(&get(&wrong_password, &token, &once).await);
}
