//! Rate limits (RFC 6585 §4: 429 + `Retry-After`, RFC 9110 §10.2.3): per client address
//! on the RFC 9728 metadata and the diagnostics endpoint, per client address on token
//! work (spent before any token work, never by a cached valid token), per principal; the
//! address from a trusted header only when configured; the state bounded.
//!
//! Every rate is per hour, so no budget refills while a test runs.

use futures_util::future::join_all;
use mcp_oauth::{McpOAuth, McpOAuthBuilder, Rate};

use crate::common::*;

/// The 429: `Retry-After` in whole seconds (≥ 1, at most an hour: one request of a
/// per-hour rate), a
/// JSON-RPC error without `id`, no challenge (it says nothing about credentials), not
/// cached, `Retry-After` readable by browser clients.
fn assert_limited(reply: &Reply) {
    assert_eq!(reply.status, 429, "{reply:?} {}", reply.text());
    let secs: u64 = reply
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("delay-seconds");
    assert!((1..=3600).contains(&secs), "Retry-After {secs}");
    assert!(reply.header("www-authenticate").is_none(), "{reply:?}");
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(
        reply.header("access-control-expose-headers"),
        Some("Retry-After")
    );
    let body = reply.json();
    assert_eq!(body["jsonrpc"], "2.0", "{body}");
    assert_eq!(body["error"]["code"], -32010, "{body}");
    assert!(body.get("id").is_none(), "{body}");
}

/// `GET` of the metadata as `from` (through `header`).
async fn metadata_as(srv: &TestServer, header: &str, from: &str) -> Reply {
    send(
        srv.client
            .get(&srv.metadata_url)
            .insert_header((header, from)),
    )
    .await
}

// Behind a proxy that appends the peer it saw to `X-Forwarded-For`, the rightmost address
// is the client: each has its own budget for the metadata and the diagnostics together,
// and what a client writes to the left of it changes nothing.
#[actix_web::test]
async fn a_metadata_flood_is_429_for_that_address_only() {
    let xff = "X-Forwarded-For";
    let srv = TestServer::with(|b| {
        b.rate_limit_metadata(Rate::per_hour(3))
            .rate_limit_trusted_header(xff)
            .diagnostics_path("/diag")
    });
    for _ in 0..3 {
        assert_eq!(metadata_as(&srv, xff, "203.0.113.1").await.status, 200);
    }
    let limited = metadata_as(&srv, xff, "203.0.113.1").await;
    assert_limited(&limited);
    // Readable cross-origin, like the metadata (RFC 9728 §3: fetched by browser clients).
    assert_eq!(limited.header("access-control-allow-origin"), Some("*"));
    assert_limited(&metadata_as(&srv, xff, "198.51.100.9, 203.0.113.1").await);
    let diag = srv.get("/diag").insert_header((xff, "203.0.113.1"));
    assert_limited(&send(diag.bearer(&srv.valid_token())).await);
    // Other addresses, including one the client put left of its own.
    assert_eq!(metadata_as(&srv, xff, "203.0.113.2").await.status, 200);
    assert_eq!(
        metadata_as(&srv, xff, "203.0.113.1, 203.0.113.3")
            .await
            .status,
        200
    );
    let diag = srv.get("/diag").insert_header((xff, "203.0.113.4"));
    assert_eq!(send(diag.bearer(&srv.valid_token())).await.status, 200);
}

// Without a trusted header, the TCP peer is the client: headers naming other addresses
// are the client's own words and are ignored.
#[actix_web::test]
async fn a_spoofed_address_header_is_ignored_unless_configured() {
    let srv = TestServer::with(|b| b.rate_limit_metadata(Rate::per_hour(3)));
    for i in 0..3 {
        let reply = metadata_as(&srv, "X-Forwarded-For", &format!("192.0.2.{i}")).await;
        assert_eq!(reply.status, 200);
    }
    assert_limited(&metadata_as(&srv, "X-Forwarded-For", "192.0.2.200").await);
    assert_limited(&metadata_as(&srv, "X-Real-IP", "192.0.2.201").await);
}

/// Introspection (every validation is a counted call), refusals limited to 3/hour per
/// address, the address from `X-Real-IP`.
fn introspected_with_refusal_limit() -> TestServer {
    Setup::new().start_introspecting(|b| {
        b.rate_limit_refusals(Rate::per_hour(3))
            .rate_limit_trusted_header("X-Real-IP")
    })
}

async fn post_as(srv: &TestServer, from: &str, token: Option<&str>) -> Reply {
    let req = srv.post("/mcp").insert_header(("X-Real-IP", from));
    send(match token {
        Some(t) => req.bearer(t),
        None => req,
    })
    .await
}

// Token guessing: once an address has spent its budget, its requests are 429 before any
// token work (no introspection call), whatever they carry; a token already verified
// keeps working (it costs nothing), a new one waits for the budget; other addresses are
// unaffected.
#[actix_web::test]
async fn a_refusal_flood_is_429_before_any_token_work() {
    let srv = introspected_with_refusal_limit();
    let known = srv.token().subject("alice").opaque();
    let nat = "203.0.113.7";
    assert_admitted(&post_as(&srv, nat, Some(&known)).await);
    for i in 0..2 {
        let guess = format!("guess-{i}");
        srv.assert_invalid_token(
            &post_as(&srv, nat, Some(&guess)).await,
            "The access token is not active",
        );
    }
    assert_eq!(srv.auth.introspection_requests(), 3);
    for i in 2..20 {
        assert_limited(&post_as(&srv, nat, Some(&format!("guess-{i}"))).await);
    }
    assert_limited(&post_as(&srv, nat, None).await);
    let malformed = srv.post("/mcp").insert_header(("X-Real-IP", nat));
    let malformed = malformed.insert_header(("Authorization", "Bearer a b"));
    assert_limited(&send(malformed).await);
    assert_eq!(srv.auth.introspection_requests(), 3, "no token work");
    // A neighbour behind the same address with a verified token is served.
    for _ in 0..5 {
        assert_admitted(&post_as(&srv, nat, Some(&known)).await);
    }
    // A new token from there waits; from elsewhere it is served.
    let new = srv.token().subject("bob").opaque();
    assert_limited(&post_as(&srv, nat, Some(&new)).await);
    assert_eq!(srv.auth.introspection_requests(), 3);
    assert_admitted(&post_as(&srv, "203.0.113.8", Some(&new)).await);
    assert_eq!(srv.auth.introspection_requests(), 4);
}

// A quota per principal (issuer + subject), whatever the token and the address: the
// fourth request of alice in the hour is 429, bob is unaffected.
#[actix_web::test]
async fn each_principal_has_its_own_quota() {
    let srv = TestServer::with(|b| b.rate_limit_principal(Rate::per_hour(3)));
    let alice = srv.token().subject("alice").sign();
    for _ in 0..3 {
        assert_admitted(&srv.post_mcp(&alice).await);
    }
    assert_limited(&srv.post_mcp(&alice).await);
    let alice_again = srv.token().subject("alice").claim("jti", "2".into()).sign();
    assert_limited(&srv.post_mcp(&alice_again).await);
    assert_admitted(&srv.post_mcp(&srv.token().subject("bob").sign()).await);
    assert_eq!(srv.oauth.rate_limit_keys(), [None, None, Some(2)]);
}

// The variables alone configure every limit (the issuer's keys found by discovery).
#[actix_web::test]
async fn the_limits_come_from_the_environment() {
    let srv = Setup::new().start(|auth, resource| {
        McpOAuthBuilder::from_vars([
            ("MCP_OAUTH_RESOURCE", resource.to_owned()),
            ("MCP_OAUTH_AUTHORIZATION_SERVERS", auth.issuer().to_owned()),
            ("MCP_OAUTH_RATE_LIMIT_METADATA", "2/hour".to_owned()),
            ("MCP_OAUTH_RATE_LIMIT_REFUSALS", "1/hour".to_owned()),
            ("MCP_OAUTH_RATE_LIMIT_PRINCIPAL", "2/h".to_owned()),
            (
                "MCP_OAUTH_RATE_LIMIT_TRUSTED_HEADER",
                "X-Real-IP".to_owned(),
            ),
            ("MCP_OAUTH_RATE_LIMIT_MAX_KEYS", "50".to_owned()),
        ])
    });
    for _ in 0..2 {
        assert_eq!(
            metadata_as(&srv, "X-Real-IP", "192.0.2.1").await.status,
            200
        );
    }
    assert_limited(&metadata_as(&srv, "X-Real-IP", "192.0.2.1").await);
    srv.assert_no_token(&post_as(&srv, "192.0.2.1", None).await);
    assert_limited(&post_as(&srv, "192.0.2.1", None).await);
    let token = srv.valid_token();
    assert_admitted(&post_as(&srv, "192.0.2.2", Some(&token)).await);
    assert_admitted(&post_as(&srv, "192.0.2.2", Some(&token)).await);
    assert_limited(&post_as(&srv, "192.0.2.2", Some(&token)).await);
}

#[test]
fn bad_limits_are_reported_naming_their_variable() {
    let base = [
        ("MCP_OAUTH_RESOURCE", "https://mcp.example.com/mcp"),
        (
            "MCP_OAUTH_AUTHORIZATION_SERVERS",
            "https://auth.example.com",
        ),
        ("MCP_OAUTH_JWKS_URI", "https://auth.example.com/jwks"),
    ];
    for (name, bad) in [
        ("MCP_OAUTH_RATE_LIMIT_METADATA", "60"),
        ("MCP_OAUTH_RATE_LIMIT_METADATA", "60/fortnight"),
        ("MCP_OAUTH_RATE_LIMIT_REFUSALS", "0/minute"),
        ("MCP_OAUTH_RATE_LIMIT_PRINCIPAL", "lots"),
        ("MCP_OAUTH_RATE_LIMIT_TRUSTED_HEADER", "X Real IP"),
        ("MCP_OAUTH_RATE_LIMIT_MAX_KEYS", "many"),
        ("MCP_OAUTH_RATE_LIMIT_MAX_KEYS", "0"),
    ] {
        let vars = base.iter().copied().chain([(name, bad)]);
        let err = McpOAuthBuilder::from_vars(vars).build().unwrap_err();
        let problems = err.problems();
        assert_eq!(problems.len(), 1, "{name}={bad}: {err}");
        assert_eq!(problems[0].setting(), name, "{name}={bad}: {err}");
    }
    let off = base
        .iter()
        .copied()
        .chain([("MCP_OAUTH_RATE_LIMIT_METADATA", "off")]);
    let oauth = McpOAuthBuilder::from_vars(off).build().unwrap();
    assert_eq!(oauth.rate_limit_keys(), [None, None, None]);
    let err = McpOAuth::builder()
        .resource("https://mcp.example.com/mcp")
        .authorization_server("https://auth.example.com")
        .jwks_uri("https://auth.example.com/jwks")
        .rate_limit_principal(Rate::per_second(0))
        .build()
        .unwrap_err();
    assert_eq!(
        err.problems()[0].setting(),
        "MCP_OAUTH_RATE_LIMIT_PRINCIPAL"
    );
}

// Many addresses (one attacker with a botnet, or spoofed headers behind a trusting
// proxy) cannot grow the state past `max_keys`, nor reset an address already limited:
// new addresses beyond the cap share one budget.
#[actix_web::test]
async fn a_flood_of_addresses_stays_within_max_keys_and_resets_no_one() {
    const MAX: usize = 500;
    let srv = TestServer::with(|b| {
        b.rate_limit_metadata(Rate::per_hour(3))
            .rate_limit_trusted_header("X-Real-IP")
            .rate_limit_max_keys(MAX)
    });
    let victim = "203.0.113.1";
    while metadata_as(&srv, "X-Real-IP", victim).await.status == 200 {}
    let addresses: Vec<String> = (0..5_000u32)
        .map(|i| std::net::Ipv4Addr::from(0x0a00_0000 + i).to_string())
        .collect();
    let mut statuses = Vec::new();
    for chunk in addresses.chunks(100) {
        let replies = join_all(chunk.iter().map(|a| metadata_as(&srv, "X-Real-IP", a))).await;
        statuses.extend(replies.iter().map(|r| r.status));
        let [held, _, _] = srv.oauth.rate_limit_keys();
        assert!(held.unwrap() <= MAX, "{held:?} keys");
    }
    let served = statuses.iter().filter(|s| **s == 200).count();
    // The first MAX - 1 addresses found room; the rest shared one budget of 3.
    assert_eq!(served, MAX - 1 + 3, "{served}");
    assert_limited(&metadata_as(&srv, "X-Real-IP", victim).await);
    assert_limited(&metadata_as(&srv, "X-Real-IP", "192.0.2.99").await);
    assert_eq!(
        metadata_as(&srv, "X-Real-IP", "10.0.0.1").await.status,
        200,
        "an address with room keeps its own budget"
    );
}

// Behind actix-web-httpauth (`mcp_oauth::httpauth`) the refusal budget and the principal
// quota hold as under the middleware: garbage spends the address's budget and then gets
// 429s with no token work, a token already validated is still served, and a caller past
// its quota gets 429 too.
#[actix_web::test]
async fn behind_httpauth_the_refusal_and_principal_limits_hold() {
    let srv = Setup::new().guard(Guard::HttpAuth).start(|auth, resource| {
        auth.configure(resource)
            .rate_limit_refusals(Rate::per_hour(3))
            .rate_limit_principal(Rate::per_hour(4))
    });
    let known = srv.valid_token();
    assert_admitted(&srv.post_mcp(&known).await);
    // One unit spent by `known`'s first verification; two garbage tokens, then 429s.
    for i in 0..2 {
        assert_eq!(srv.post_mcp(&format!("garbage-{i}")).await.status, 401);
    }
    assert_limited(&srv.post_mcp("garbage-2").await);
    assert_limited(&srv.post_mcp_anonymous().await);
    // The cached token is neither charged nor limited by the refusal budget...
    for _ in 0..3 {
        assert_admitted(&srv.post_mcp(&known).await);
    }
    // ... but its principal has had its four requests.
    assert_limited(&srv.post_mcp(&known).await);
}

/// `GET /dpop` with `token` (DPoP scheme) and `proof`.
async fn get_dpop(srv: &TestServer, token: &str, proof: &str) -> Reply {
    send(
        srv.get("/dpop")
            .insert_header(("Authorization", format!("DPoP {token}")))
            .insert_header(("DPoP", proof.to_owned())),
    )
    .await
}

// A stolen bound token is valid and cached: each refused DPoP proof spends the address's
// refusal budget (a 429 once gone), and every request with the token, proof good or not,
// spends its principal's quota before the proof is checked.
#[actix_web::test]
async fn refused_dpop_proofs_spend_the_refusal_budget_and_every_request_the_principals() {
    use mcp_oauth::testing::DpopKey;
    let srv = TestServer::with(|b| b.rate_limit_refusals(Rate::per_hour(3)));
    let key = DpopKey::generate();
    let token = srv.token().subject("victim").dpop_bound(&key).sign();
    let good = || {
        key.proof("GET", &srv.url("/dpop"))
            .access_token(&token)
            .sign()
    };
    // The first use validates the token (one unit of token work); then it is cached.
    assert_admitted(&get_dpop(&srv, &token, &good()).await);
    let thief = DpopKey::generate();
    let forged = || {
        thief
            .proof("GET", &srv.url("/dpop"))
            .access_token(&token)
            .sign()
    };
    for _ in 0..2 {
        let reply = get_dpop(&srv, &token, &forged()).await;
        assert_eq!(reply.status, 401, "{}", reply.text());
        assert_eq!(reply.json()["error"], "invalid_dpop_proof");
    }
    assert_limited(&get_dpop(&srv, &token, &forged()).await);
    // Good proofs are not refusals: the owner goes on.
    assert_admitted(&get_dpop(&srv, &token, &good()).await);

    let srv = TestServer::with(|b| b.rate_limit_principal(Rate::per_hour(3)));
    let token = srv.token().subject("victim").dpop_bound(&key).sign();
    let good = || {
        key.proof("GET", &srv.url("/dpop"))
            .access_token(&token)
            .sign()
    };
    let forged = || {
        thief
            .proof("GET", &srv.url("/dpop"))
            .access_token(&token)
            .sign()
    };
    assert_admitted(&get_dpop(&srv, &token, &good()).await);
    assert_eq!(get_dpop(&srv, &token, &forged()).await.status, 401);
    assert_eq!(get_dpop(&srv, &token, &forged()).await.status, 401);
    // Three spent: the fourth is refused before its proof is looked at.
    assert_limited(&get_dpop(&srv, &token, &good()).await);
}
