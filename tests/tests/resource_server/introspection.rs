//! The `introspection` and `hybrid` strategies against a real RFC 7662 endpoint
//! (RFC 7662 §2): what an answer means, and how many calls a flood of tokens can cost the
//! authorization server.

use std::time::Duration;

use futures_util::StreamExt as _;
use futures_util::future::join_all;
use futures_util::stream::FuturesUnordered;
use mcp_oauth::testing::{IntrospectionFault, TestAuthServer};
use mcp_oauth::{AuthorizationServer, ClientAuthMethod, McpOAuth, McpOAuthBuilder, Validation};
use serde_json::{Value, json};

use crate::common::*;

const CLIENT_ID: &str = "mcp-resource:1";
const SECRET: &str = "s3cret with % and :";

/// Introspection with the endpoint discovered and the given adjustments.
fn introspecting(adjust: impl FnOnce(McpOAuthBuilder) -> McpOAuthBuilder) -> TestServer {
    let auth = TestAuthServer::start();
    auth.introspection_client(CLIENT_ID, SECRET);
    Setup::new().workers(2).auth(auth).start(|auth, resource| {
        adjust(
            McpOAuth::builder()
                .resource(resource)
                .authorization_server(auth.issuer())
                .validation(Validation::Introspection)
                .introspection_client(CLIENT_ID, SECRET),
        )
    })
}

// §5.1-5.3: an opaque token, introspected at the discovered endpoint with
// client_secret_basic (form-urlencoded id and secret), is admitted with its claims.
#[actix_web::test]
async fn an_active_opaque_token_is_admitted_with_its_claims() {
    let srv = introspecting(|b| b);
    let token = srv
        .token()
        .subject("alice")
        .scope("mcp:tools files:read")
        .opaque();
    assert!(!token.contains('.'), "opaque");
    let who = assert_admitted(&srv.post_mcp(&token).await);
    assert_eq!(who["subject"], "alice");
    assert_eq!(who["scopes"], json!(["mcp:tools", "files:read"]));
    assert_eq!(who["issuer"], srv.auth.issuer());
    assert_eq!(srv.auth.introspection_requests(), 1);
    assert_eq!(
        srv.auth.last_introspection_auth(),
        Some("client_secret_basic")
    );
    // Cached: the second request does not introspect.
    assert_admitted(&srv.post_mcp(&token).await);
    assert_eq!(srv.auth.introspection_requests(), 1);
}

#[actix_web::test]
async fn client_secret_post_is_used_when_configured() {
    let srv = introspecting(|b| b.introspection_auth_method(ClientAuthMethod::ClientSecretPost));
    assert_admitted(&srv.post_mcp(&srv.token().opaque()).await);
    assert_eq!(
        srv.auth.last_introspection_auth(),
        Some("client_secret_post")
    );
}

// §5.4: active:false (unknown, revoked, expired) is 401 invalid_token, without detail.
#[actix_web::test]
async fn an_inactive_token_is_401_invalid_token() {
    let srv = introspecting(|b| b);
    let reply = srv
        .post_mcp("an-opaque-token-the-server-never-issued")
        .await;
    srv.assert_invalid_token(&reply, "The access token is not active");
    let expired = srv.token().expired().opaque();
    srv.assert_invalid_token(
        &srv.post_mcp(&expired).await,
        "The access token is not active",
    );
}

// §5.5: our credentials refused is the server's fault: 503, never 401, never cached.
#[actix_web::test]
async fn refused_client_credentials_are_503_and_not_cached() {
    let srv = introspecting(|b| b.introspection_client(CLIENT_ID, "the wrong secret"));
    let token = srv.token().opaque();
    srv.assert_unavailable(&srv.post_mcp(&token).await);
    srv.assert_unavailable(&srv.post_mcp(&token).await);
    assert_eq!(srv.auth.introspection_requests(), 2);
}

// §5.5: an authorization server error, a body that is not JSON, a timeout: 503, and the
// next request asks again (nothing cached).
#[actix_web::test]
async fn authorization_server_faults_are_503_and_not_cached() {
    let srv = introspecting(|b| b.http_timeout(Duration::from_millis(300)));
    let token = srv.token().opaque();
    let faults = [
        IntrospectionFault::Status(500),
        IntrospectionFault::Garbage,
        IntrospectionFault::Delay(Duration::from_secs(2)),
    ];
    for (i, fault) in faults.into_iter().enumerate() {
        srv.auth.set_introspection_fault(fault);
        srv.assert_unavailable(&srv.post_mcp(&token).await);
        assert_eq!(srv.auth.introspection_requests(), i + 1);
    }
    srv.auth.set_introspection_fault(IntrospectionFault::None);
    assert_admitted(&srv.post_mcp(&token).await);
}

// §5.3 fail closed, §5.6: an answer is trusted only when active is the boolean true, and
// an active token is still checked (audience, token type). One token meets every answer
// in turn, so the negative cache (which would repeat the first refusal) is off.
#[actix_web::test]
async fn an_active_answer_is_checked_like_a_jwt() {
    let srv = introspecting(|b| b.introspection_negative_ttl(Duration::ZERO));
    let token = srv.token().opaque();
    srv.auth
        .set_introspection_fault(IntrospectionFault::NonBooleanActive);
    srv.assert_invalid_token(
        &srv.post_mcp(&token).await,
        "The access token is not active",
    );
    srv.auth.set_introspection_fault(IntrospectionFault::Patch(
        json!({"aud": "https://other.example.com/mcp"}),
    ));
    srv.assert_invalid_token(
        &srv.post_mcp(&token).await,
        "The token audience does not include this resource",
    );
    srv.auth
        .set_introspection_fault(IntrospectionFault::Patch(json!({"aud": null})));
    srv.assert_invalid_token(&srv.post_mcp(&token).await, "The token has no audience");
    srv.auth.set_introspection_fault(IntrospectionFault::Patch(
        json!({"token_type": "refresh_token"}),
    ));
    srv.assert_invalid_token(
        &srv.post_mcp(&token).await,
        "The token is not an access token",
    );
    srv.auth.set_introspection_fault(IntrospectionFault::Patch(
        json!({"iss": "https://evil.example.com"}),
    ));
    srv.assert_invalid_token(
        &srv.post_mcp(&token).await,
        "The token issuer is not accepted",
    );
    srv.auth.set_introspection_fault(IntrospectionFault::None);
    assert_admitted(&srv.post_mcp(&token).await);
}

// Single flight: 1,000 concurrent requests with one new token make one introspection.
#[actix_web::test]
async fn a_thousand_concurrent_requests_with_one_new_token_introspect_once() {
    let srv = introspecting(|b| b);
    srv.auth
        .set_introspection_fault(IntrospectionFault::Delay(Duration::from_millis(200)));
    let token = srv.token().opaque();
    let replies = join_all((0..1000).map(|_| srv.post_mcp(&token))).await;
    let statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(srv.auth.introspection_requests(), 1);
}

// A token revoked at the authorization server stops working within the cache TTL, and at
// once with the cache off.
#[actix_web::test]
async fn a_revoked_token_stops_working_within_the_ttl() {
    // A TTL wide enough that "still cached" never races it on a loaded machine.
    let srv = introspecting(|b| b.cache_ttl(Duration::from_secs(3)));
    let token = srv.token().opaque();
    assert_admitted(&srv.post_mcp(&token).await);
    srv.auth.revoke(&token);
    assert_admitted(&srv.post_mcp(&token).await); // still cached
    actix_web::rt::time::sleep(Duration::from_millis(3_200)).await;
    srv.assert_invalid_token(
        &srv.post_mcp(&token).await,
        "The access token is not active",
    );

    let srv = introspecting(|b| b.cache_ttl(Duration::ZERO));
    let token = srv.token().opaque();
    assert_admitted(&srv.post_mcp(&token).await);
    srv.auth.revoke(&token);
    srv.assert_invalid_token(
        &srv.post_mcp(&token).await,
        "The access token is not active",
    );
}

// A configured endpoint needs no discovery.
#[actix_web::test]
async fn a_configured_endpoint_is_used_without_discovery() {
    let auth = TestAuthServer::start();
    auth.introspection_client(CLIENT_ID, SECRET);
    let srv = Setup::new().auth(auth).start(|auth, resource| {
        McpOAuth::builder()
            .resource(resource)
            .authorization_server(auth.issuer())
            .validation(Validation::Introspection)
            .introspection_endpoint(format!("{}/introspect", auth.issuer()))
            .introspection_client(CLIENT_ID, SECRET)
    });
    assert_admitted(&srv.post_mcp(&srv.token().opaque()).await);
    assert_eq!(srv.auth.metadata_requests(), 0);
}

// Hybrid: a JWT from an issuer with keys is verified locally; an opaque token introspected.
#[actix_web::test]
async fn hybrid_verifies_jwts_locally_and_introspects_the_rest() {
    let srv = introspecting(|b| b.validation(Validation::Hybrid));
    assert_admitted(&srv.post_mcp(&srv.valid_token()).await);
    assert_eq!(srv.auth.introspection_requests(), 0);
    assert_eq!(srv.auth.jwks_requests(), 1);
    assert_admitted(&srv.post_mcp(&srv.token().opaque()).await);
    assert_eq!(srv.auth.introspection_requests(), 1);
}

// Hybrid, when the metadata has no jwks_uri: JWTs are introspected too.
#[actix_web::test]
async fn hybrid_introspects_jwts_of_an_issuer_without_keys() {
    let auth = TestAuthServer::start();
    auth.introspection_client(CLIENT_ID, SECRET);
    auth.patch_metadata(json!({"jwks_uri": null}));
    let srv = Setup::new().auth(auth).start(|auth, resource| {
        McpOAuth::builder()
            .resource(resource)
            .authorization_server(auth.issuer())
            .validation(Validation::Hybrid)
            .introspection_client(CLIENT_ID, SECRET)
    });
    assert_admitted(&srv.post_mcp(&srv.valid_token()).await);
    assert_eq!(srv.auth.introspection_requests(), 1);
    assert_eq!(srv.auth.jwks_requests(), 0);
}

// Environment only: resource, issuer and the client credentials (secret from a file).
#[actix_web::test]
async fn the_environment_needs_only_the_resource_the_issuer_and_credentials() {
    let dir = std::env::temp_dir().join(format!("mcp-oauth-introspection-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let secret_file = dir.join("secret");
    std::fs::write(&secret_file, format!("{SECRET}\n")).unwrap();
    let auth = TestAuthServer::start();
    auth.introspection_client(CLIENT_ID, SECRET);
    let secret_path = secret_file.to_str().unwrap().to_owned();
    let srv = Setup::new().auth(auth).start(|auth, resource| {
        McpOAuthBuilder::from_vars([
            ("MCP_OAUTH_RESOURCE", resource),
            ("MCP_OAUTH_AUTHORIZATION_SERVERS", auth.issuer()),
            ("MCP_OAUTH_VALIDATION", "introspection"),
            ("MCP_OAUTH_INTROSPECTION_CLIENT_ID", CLIENT_ID),
            (
                "MCP_OAUTH_INTROSPECTION_CLIENT_SECRET_FILE",
                secret_path.as_str(),
            ),
            ("MCP_OAUTH_INTROSPECTION_AUTH_METHOD", "client_secret_post"),
        ])
    });
    srv.oauth
        .discover()
        .await
        .expect("introspection endpoint discovered");
    assert_admitted(&srv.post_mcp(&srv.token().opaque()).await);
    assert_eq!(
        srv.auth.last_introspection_auth(),
        Some("client_secret_post")
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn introspection_settings_are_checked_at_build() {
    let base = || {
        McpOAuth::builder()
            .resource("https://mcp.example.com/mcp")
            .authorization_server("https://auth.example.com")
            .validation(Validation::Introspection)
    };
    let settings = |b: McpOAuthBuilder| -> Vec<&'static str> {
        b.build()
            .unwrap_err()
            .problems()
            .iter()
            .map(|p| p.setting())
            .collect()
    };
    assert_eq!(settings(base()), ["MCP_OAUTH_INTROSPECTION_CLIENT_ID"]);
    assert_eq!(
        settings(
            base()
                .introspection_client("id", "s")
                .introspection_endpoint("http://auth.example.com/i")
        ),
        ["MCP_OAUTH_INTROSPECTION_ENDPOINT"]
    );
    assert_eq!(
        settings(
            base()
                .introspection_client("id", "s")
                .jwks_uri("https://auth.example.com/jwks")
        ),
        ["MCP_OAUTH_JWKS_URI"]
    );
    let err = McpOAuthBuilder::from_vars([
        ("MCP_OAUTH_RESOURCE", "https://mcp.example.com/mcp"),
        (
            "MCP_OAUTH_AUTHORIZATION_SERVERS",
            "https://auth.example.com",
        ),
        ("MCP_OAUTH_VALIDATION", "opaque"),
        ("MCP_OAUTH_INTROSPECTION_AUTH_METHOD", "private_key_jwt"),
    ])
    .build()
    .unwrap_err();
    let named: Vec<&str> = err.problems().iter().map(|p| p.setting()).collect();
    assert_eq!(
        named,
        [
            "MCP_OAUTH_VALIDATION",
            "MCP_OAUTH_INTROSPECTION_AUTH_METHOD"
        ]
    );
}

// ---------------------------------------------------------------------------------------
// Error answers: a refusal of the token is "not active here" (401), anything else an
// outage (503). RFC 7662 §2.3, RFC 6749 §5.2.
// ---------------------------------------------------------------------------------------

// oidc-provider (OpenID Certified) answers 400 unsupported_token_type for any JWT-shaped
// token: a JWT of its own, a forged one, an unsigned one, an alg-confused one. Each is 401
// invalid_token, not a 503 the client would retry forever.
#[actix_web::test]
async fn a_jwt_an_oidc_provider_refuses_to_introspect_is_401_not_503() {
    let srv = introspecting(|b| b);
    srv.auth.set_jwt_introspection(false);
    let jwts = [
        srv.valid_token(),
        srv.token().signed_by_unpublished_key().sign(),
        srv.token().alg_none("none").sign(),
        srv.token().hs256_with_rsa_public_key().sign(),
    ];
    for (i, jwt) in jwts.iter().enumerate() {
        srv.assert_invalid_token(&srv.post_mcp(jwt).await, "The access token is not active");
        assert_eq!(srv.auth.introspection_requests(), i + 1, "asked once each");
    }
    // Its opaque tokens are introspected as before.
    assert_admitted(&srv.post_mcp(&srv.token().opaque()).await);
}

// Every error answer, read by the one rule. Neither cache is on, so each request asks
// again: a refusal is never remembered as valid, an outage never at all.
#[actix_web::test]
async fn an_error_answer_is_401_only_when_a_400_refuses_the_token() {
    let srv = introspecting(|b| {
        b.cache_ttl(Duration::ZERO)
            .introspection_negative_ttl(Duration::ZERO)
    });
    let token = srv.token().opaque();
    let error = |status, body: Value| IntrospectionFault::Error(status, body);
    let refusals = [
        error(400, json!({"error": "unsupported_token_type"})),
        error(400, json!({"error": "invalid_token"})),
        error(400, json!({"error": "invalid_grant"})),
        error(
            400,
            json!({"error": "invalid_request", "error_description": "the token is malformed"}),
        ),
    ];
    let outages = [
        // Our credentials refused.
        error(400, json!({"error": "invalid_client"})),
        error(400, json!({"error": "unauthorized_client"})),
        error(401, json!({"error": "invalid_client"})),
        error(403, json!({"error": "unsupported_token_type"})),
        // Our request refused, or no OAuth error at all.
        error(
            400,
            json!({"error": "invalid_request", "error_description": "client authentication failed"}),
        ),
        error(400, json!({"error": "invalid_scope"})),
        error(400, json!({"message": "no OAuth error object"})),
        IntrospectionFault::Status(400),
        // The server failed.
        error(500, json!({"error": "invalid_token"})),
        IntrospectionFault::Status(502),
        IntrospectionFault::Garbage,
    ];
    let mut calls = 0;
    for (fault, refused) in refusals
        .into_iter()
        .map(|f| (f, true))
        .chain(outages.into_iter().map(|f| (f, false)))
    {
        srv.auth.set_introspection_fault_for_next(1, fault.clone());
        let reply = srv.post_mcp(&token).await;
        if refused {
            srv.assert_invalid_token(&reply, "The access token is not active");
        } else {
            srv.assert_unavailable(&reply);
        }
        // The fault was for one request: the next one asks again and is admitted.
        assert_admitted(&srv.post_mcp(&token).await);
        calls += 2;
        assert_eq!(srv.auth.introspection_requests(), calls, "{fault:?}");
    }
}

// token_type_hint=access_token is sent; a refresh token, found anyway (RFC 7662 §2.1: the
// search extends beyond the hint), is refused as not an access token.
#[actix_web::test]
async fn a_refresh_token_is_refused_whatever_the_hint() {
    let srv = introspecting(|b| b);
    let refresh = srv.token().refresh_token();
    srv.assert_invalid_token(
        &srv.post_mcp(&refresh).await,
        "The token is not an access token",
    );
    assert_eq!(
        srv.auth.last_introspection_token_type_hint().as_deref(),
        Some("access_token")
    );
}

// ---------------------------------------------------------------------------------------
// Amplification: what a flood of tokens costs the authorization server.
// ---------------------------------------------------------------------------------------

// The negative cache: a refused token sent again and again is introspected once within
// the TTL (the TTL is long here so that no timing matters). Definite refusals only.
#[actix_web::test]
async fn a_refused_token_is_introspected_once_within_the_negative_ttl() {
    let srv = introspecting(|b| b.introspection_negative_ttl(Duration::from_secs(600)));
    let never_issued = "a-random-token-the-authorization-server-never-issued";
    for _ in 0..20 {
        srv.assert_invalid_token(
            &srv.post_mcp(never_issued).await,
            "The access token is not active",
        );
    }
    assert_eq!(srv.auth.introspection_requests(), 1);

    // A 400 refusing the token is remembered too, under that token only.
    let refused = srv.token().opaque();
    srv.auth.set_introspection_fault_for_token(
        &refused,
        IntrospectionFault::Error(400, json!({"error": "unsupported_token_type"})),
    );
    for _ in 0..5 {
        srv.assert_invalid_token(
            &srv.post_mcp(&refused).await,
            "The access token is not active",
        );
    }
    assert_eq!(srv.auth.introspection_requests(), 2);

    // An active token that fails our checks (another resource's) is a definite refusal.
    let elsewhere = srv
        .auth
        .token()
        .audience("https://other.example.com/mcp")
        .opaque();
    for _ in 0..5 {
        srv.assert_invalid_token(
            &srv.post_mcp(&elsewhere).await,
            "The token audience does not include this resource",
        );
    }
    assert_eq!(srv.auth.introspection_requests(), 3);

    // An outage is not remembered: the next request asks again, and is admitted.
    let good = srv.token().opaque();
    srv.auth
        .set_introspection_fault_for_next(1, IntrospectionFault::Status(503));
    srv.assert_unavailable(&srv.post_mcp(&good).await);
    assert_admitted(&srv.post_mcp(&good).await);
    assert_eq!(srv.auth.introspection_requests(), 5);
}

// A refusal is forgotten after the TTL; with a TTL of 0 nothing is remembered.
#[actix_web::test]
async fn the_negative_cache_forgets_after_its_ttl_and_is_off_at_zero() {
    let srv = introspecting(|b| b.introspection_negative_ttl(Duration::from_secs(3)));
    let token = "never-issued";
    srv.assert_invalid_token(&srv.post_mcp(token).await, "The access token is not active");
    srv.assert_invalid_token(&srv.post_mcp(token).await, "The access token is not active");
    assert_eq!(srv.auth.introspection_requests(), 1);
    // Sleeping past the TTL (never racing it): the entry is gone.
    actix_web::rt::time::sleep(Duration::from_millis(3_200)).await;
    srv.assert_invalid_token(&srv.post_mcp(token).await, "The access token is not active");
    assert_eq!(srv.auth.introspection_requests(), 2);

    let srv = introspecting(|b| b.introspection_negative_ttl(Duration::ZERO));
    for _ in 0..5 {
        srv.assert_invalid_token(&srv.post_mcp(token).await, "The access token is not active");
    }
    assert_eq!(srv.auth.introspection_requests(), 5);
}

/// Sends `flood` distinct unknown tokens at once while the authorization server holds
/// every answer, and waits until each request is either answered or held there (no
/// timing involved). Asserts that at most `cap` calls were ever in flight, that every
/// other request got a 503 with `Retry-After`, and, once released, that the held ones get
/// their answer (401: never issued).
async fn flood_with_held_answers(srv: &TestServer, cap: usize, flood: usize) {
    let tokens: Vec<String> = (0..flood)
        .map(|i| format!("flood-{i}-never-issued"))
        .collect();
    let hold = srv.auth.hold_introspections();
    let mut pending: FuturesUnordered<_> = tokens.iter().map(|t| srv.post_mcp(t)).collect();
    let mut answered = Vec::new();
    while answered.len() + srv.auth.introspections_in_flight() < flood {
        // A tick to look at the counter again; nothing is asserted about time.
        if let Ok(Some(reply)) =
            actix_web::rt::time::timeout(Duration::from_millis(20), pending.next()).await
        {
            answered.push(reply);
        }
    }
    let held = srv.auth.introspections_in_flight();
    assert_eq!(held, cap, "calls in flight at once");
    assert_eq!(answered.len(), flood - cap);
    for reply in &answered {
        srv.assert_unavailable(reply);
        assert_eq!(reply.header("retry-after"), Some("1"));
    }
    drop(hold);
    let mut rest = 0;
    while let Some(reply) = pending.next().await {
        srv.assert_invalid_token(&reply, "The access token is not active");
        rest += 1;
    }
    assert_eq!(rest, cap);
    assert_eq!(srv.auth.max_concurrent_introspections(), cap);
}

// The cap: distinct new tokens, more at once than the cap, never put more than the cap of
// calls in flight; the excess gets 503 + Retry-After at once (no queue), and the resource
// serves again as soon as the calls complete.
#[actix_web::test]
async fn a_flood_of_new_tokens_never_has_more_calls_in_flight_than_the_cap() {
    let srv = introspecting(|b| {
        b.introspection_max_concurrent(4)
            .http_timeout(Duration::from_secs(60))
    });
    srv.oauth.discover().await.expect("discovered");
    flood_with_held_answers(&srv, 4, 24).await;
    assert_eq!(srv.auth.introspection_requests(), 4);
    assert_admitted(&srv.post_mcp(&srv.token().opaque()).await);
}

// Prefix routing: each issuer is offered only the opaque tokens with its prefix; a token
// with no configured prefix is offered to no one (401, no call anywhere).
#[actix_web::test]
async fn an_opaque_token_goes_only_to_the_issuer_its_prefix_names() {
    let a = TestAuthServer::builder().opaque_token_prefix("a_").start();
    let b = TestAuthServer::builder().opaque_token_prefix("b_").start();
    for auth in [&a, &b] {
        auth.introspection_client(CLIENT_ID, SECRET);
    }
    let b_issuer = b.issuer().to_owned();
    let srv = Setup::new().auth(a).start(move |a, resource| {
        McpOAuth::builder()
            .resource(resource)
            .validation(Validation::Introspection)
            .introspection_client(CLIENT_ID, SECRET)
            .authorization_server(AuthorizationServer::new(a.issuer()).opaque_token_prefix("a_"))
            .authorization_server(AuthorizationServer::new(b_issuer).opaque_token_prefix("b_"))
    });
    srv.oauth.discover().await.expect("both discovered");
    let calls = || {
        (
            srv.auth.introspection_requests(),
            b.introspection_requests(),
        )
    };

    let from_b = b.token().audience(&srv.resource).opaque();
    assert_eq!(
        assert_admitted(&srv.post_mcp(&from_b).await)["issuer"],
        b.issuer()
    );
    assert_eq!(calls(), (0, 1), "A was never offered B's token");
    let from_a = srv.token().opaque();
    assert_eq!(
        assert_admitted(&srv.post_mcp(&from_a).await)["issuer"],
        srv.auth.issuer()
    );
    assert_eq!(calls(), (1, 1));

    for nobodys in ["c_no-such-prefix", "A_case-matters", "xa_not-at-the-start"] {
        srv.assert_invalid_token(
            &srv.post_mcp(nobodys).await,
            "The token issuer is not accepted",
        );
    }
    assert_eq!(calls(), (1, 1), "no call for a token nobody issues");
}

// An issuer without a prefix still gets the tokens no prefix claims.
#[actix_web::test]
async fn an_issuer_without_a_prefix_gets_what_no_prefix_claims() {
    let b = TestAuthServer::builder().opaque_token_prefix("b_").start();
    b.introspection_client(CLIENT_ID, SECRET);
    let b_issuer = b.issuer().to_owned();
    let auth = TestAuthServer::start();
    auth.introspection_client(CLIENT_ID, SECRET);
    let srv = Setup::new().auth(auth).start(move |a, resource| {
        McpOAuth::builder()
            .resource(resource)
            .validation(Validation::Introspection)
            .introspection_client(CLIENT_ID, SECRET)
            .authorization_server(a.issuer())
            .authorization_server(AuthorizationServer::new(b_issuer).opaque_token_prefix("b_"))
    });
    assert_admitted(&srv.post_mcp(&srv.token().opaque()).await);
    assert_admitted(
        &srv.post_mcp(&b.token().audience(&srv.resource).opaque())
            .await,
    );
    assert_eq!(
        (
            srv.auth.introspection_requests(),
            b.introspection_requests()
        ),
        (1, 1)
    );
}

// The three settings from the environment: prefix, negative TTL and cap.
#[actix_web::test]
async fn the_amplification_limits_come_from_the_environment() {
    let auth = TestAuthServer::builder().opaque_token_prefix("at_").start();
    auth.introspection_client(CLIENT_ID, SECRET);
    let srv = Setup::new().auth(auth).start(|auth, resource| {
        McpOAuthBuilder::from_vars([
            ("MCP_OAUTH_RESOURCE", resource),
            ("MCP_OAUTH_AUTHORIZATION_SERVERS", auth.issuer()),
            ("MCP_OAUTH_VALIDATION", "introspection"),
            ("MCP_OAUTH_INTROSPECTION_CLIENT_ID", CLIENT_ID),
            ("MCP_OAUTH_INTROSPECTION_CLIENT_SECRET", SECRET),
            ("MCP_OAUTH_OPAQUE_TOKEN_PREFIX", "at_"),
            ("MCP_OAUTH_INTROSPECTION_NEGATIVE_TTL_SECS", "600"),
            ("MCP_OAUTH_INTROSPECTION_MAX_CONCURRENT", "2"),
        ])
        .http_timeout(Duration::from_secs(60))
    });
    srv.oauth.discover().await.expect("discovered");
    srv.assert_invalid_token(
        &srv.post_mcp("gho_not-ours").await,
        "The token issuer is not accepted",
    );
    assert_eq!(srv.auth.introspection_requests(), 0);
    for _ in 0..3 {
        srv.assert_invalid_token(
            &srv.post_mcp("at_unknown").await,
            "The access token is not active",
        );
    }
    assert_eq!(srv.auth.introspection_requests(), 1);
    assert_admitted(&srv.post_mcp(&srv.token().opaque()).await);
    // The flood's tokens have no `at_` prefix: give them one through a second server.
    let flood = Setup::new().start(|auth, resource| {
        auth.introspection_client(CLIENT_ID, SECRET);
        McpOAuthBuilder::from_vars([
            ("MCP_OAUTH_RESOURCE", resource),
            ("MCP_OAUTH_AUTHORIZATION_SERVERS", auth.issuer()),
            ("MCP_OAUTH_VALIDATION", "introspection"),
            ("MCP_OAUTH_INTROSPECTION_CLIENT_ID", CLIENT_ID),
            ("MCP_OAUTH_INTROSPECTION_CLIENT_SECRET", SECRET),
            ("MCP_OAUTH_INTROSPECTION_MAX_CONCURRENT", "2"),
        ])
        .http_timeout(Duration::from_secs(60))
    });
    flood.oauth.discover().await.expect("discovered");
    flood_with_held_answers(&flood, 2, 6).await;
}

#[test]
fn the_amplification_settings_are_checked_at_build() {
    let base = || {
        McpOAuthBuilder::from_vars([
            ("MCP_OAUTH_RESOURCE", "https://mcp.example.com/mcp"),
            (
                "MCP_OAUTH_AUTHORIZATION_SERVERS",
                "https://auth.example.com",
            ),
            ("MCP_OAUTH_VALIDATION", "introspection"),
            ("MCP_OAUTH_INTROSPECTION_CLIENT_ID", "id"),
            ("MCP_OAUTH_INTROSPECTION_CLIENT_SECRET", "secret"),
        ])
    };
    assert!(base().build().is_ok());
    let named = |b: McpOAuthBuilder| -> Vec<&'static str> {
        b.build()
            .unwrap_err()
            .problems()
            .iter()
            .map(|p| p.setting())
            .collect()
    };
    let err = McpOAuthBuilder::from_vars([
        ("MCP_OAUTH_RESOURCE", "https://mcp.example.com/mcp"),
        (
            "MCP_OAUTH_AUTHORIZATION_SERVERS",
            "https://auth.example.com",
        ),
        ("MCP_OAUTH_VALIDATION", "introspection"),
        ("MCP_OAUTH_INTROSPECTION_CLIENT_ID", "id"),
        ("MCP_OAUTH_INTROSPECTION_CLIENT_SECRET", "secret"),
        ("MCP_OAUTH_INTROSPECTION_NEGATIVE_TTL_SECS", "5s"),
        ("MCP_OAUTH_INTROSPECTION_MAX_CONCURRENT", "lots"),
        ("MCP_OAUTH_OPAQUE_TOKEN_PREFIX", "at% ok_"),
    ])
    .build()
    .unwrap_err();
    let settings: Vec<&str> = err.problems().iter().map(|p| p.setting()).collect();
    assert_eq!(
        settings,
        [
            "MCP_OAUTH_INTROSPECTION_NEGATIVE_TTL_SECS",
            "MCP_OAUTH_INTROSPECTION_MAX_CONCURRENT",
            "MCP_OAUTH_OPAQUE_TOKEN_PREFIX"
        ]
    );
    assert!(err.to_string().contains("`at%`"), "{err}");
    assert_eq!(
        named(base().introspection_max_concurrent(0)),
        ["MCP_OAUTH_INTROSPECTION_MAX_CONCURRENT"]
    );
    // A prefix is for introspection, and belongs to one issuer.
    assert_eq!(
        named(
            McpOAuth::builder()
                .resource("https://mcp.example.com/mcp")
                .authorization_server("https://auth.example.com")
                .opaque_token_prefix("at_")
        ),
        ["MCP_OAUTH_OPAQUE_TOKEN_PREFIX"]
    );
    assert_eq!(
        named(
            base()
                .authorization_server("https://other.example.com")
                .opaque_token_prefix("at_")
        ),
        ["MCP_OAUTH_ISSUER"]
    );
    for name in [
        "MCP_OAUTH_INTROSPECTION_NEGATIVE_TTL_SECS",
        "MCP_OAUTH_INTROSPECTION_MAX_CONCURRENT",
        "MCP_OAUTH_OPAQUE_TOKEN_PREFIX",
    ] {
        assert!(
            mcp_oauth::ENV_VARIABLES.iter().any(|(n, _)| *n == name),
            "{name}"
        );
    }
}
