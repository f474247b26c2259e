//! Several authorization servers at once: each JWT is judged by the issuer its `iss` names,
//! with that issuer's keys, audiences and algorithms only (RFC 8725 §3.8, RFC 9068 §4).

use mcp_oauth::testing::TestAuthServer;
use mcp_oauth::{Algorithm, AuthorizationServer, McpOAuth};
use serde_json::json;

use crate::common::*;

/// A resource trusting the default test server (A) and `b`, both discovered; `b` gets
/// its own settings through `second`.
fn two_issuers(
    b: &TestAuthServer,
    second: impl FnOnce(AuthorizationServer) -> AuthorizationServer,
) -> TestServer {
    let b_issuer = AuthorizationServer::new(b.issuer());
    let b_server = second(b_issuer);
    Setup::new().start(move |a, resource| {
        McpOAuth::builder()
            .resource(resource)
            .authorization_server(a.issuer())
            .authorization_server(b_server)
    })
}

#[actix_web::test]
async fn tokens_of_each_issuer_are_accepted_with_that_issuers_keys() {
    let b = TestAuthServer::start();
    let srv = two_issuers(&b, |s| s);
    let from_a = assert_admitted(&srv.post_mcp(&srv.valid_token()).await);
    assert_eq!(from_a["issuer"], srv.auth.issuer());
    assert_eq!((srv.auth.jwks_requests(), b.jwks_requests()), (1, 0));
    let token_b = b.token().audience(&srv.resource).sign();
    let from_b = assert_admitted(&srv.post_mcp(&token_b).await);
    assert_eq!(from_b["issuer"], b.issuer());
    assert_eq!((srv.auth.jwks_requests(), b.jwks_requests()), (1, 1));

    // The metadata lists both, in order.
    let doc = send(srv.client.get(&srv.metadata_url)).await.json();
    assert_eq!(
        doc["authorization_servers"],
        json!([srv.auth.issuer(), b.issuer()])
    );
}

// A token signed by B's key but claiming A: judged with A's keys only, so refused.
#[actix_web::test]
async fn a_token_is_never_checked_against_another_issuers_keys() {
    let b = TestAuthServer::start();
    let srv = two_issuers(&b, |s| s);
    let forged = b
        .token()
        .audience(&srv.resource)
        .issuer(srv.auth.issuer())
        .sign();
    let reply = srv.post_mcp(&forged).await;
    assert_eq!(reply.status, 401, "{}", reply.everything());
    assert!(
        reply.challenge().contains("error=\"invalid_token\""),
        "{}",
        reply.challenge()
    );
    assert_eq!(b.jwks_requests(), 0, "B's keys were never consulted");
    assert_eq!(b.metadata_requests(), 0);
}

// An unknown issuer is 401 invalid_token before anything is fetched from anyone.
#[actix_web::test]
async fn an_unknown_issuer_is_401_without_any_fetch() {
    let b = TestAuthServer::start();
    let srv = two_issuers(&b, |s| s);
    let token = srv.token().issuer("https://evil.example.com").sign();
    srv.assert_invalid_token(
        &srv.post_mcp(&token).await,
        "The token issuer is not accepted",
    );
    for auth in [&srv.auth, &b] {
        assert_eq!((auth.metadata_requests(), auth.jwks_requests()), (0, 0));
    }
}

// Each issuer has its own audiences and algorithms.
#[actix_web::test]
async fn each_issuer_has_its_own_audiences_and_algorithms() {
    let b = TestAuthServer::start();
    let srv = two_issuers(&b, |s| s.audience("api://b").algorithms([Algorithm::ES256]));
    let es256 = |aud: &str| b.token().audience(aud).algorithm(Algorithm::ES256).sign();
    assert_admitted(&srv.post_mcp(&es256("api://b")).await);
    assert_admitted(&srv.post_mcp(&es256(&srv.resource)).await);
    srv.assert_invalid_token(
        &srv.post_mcp(&b.token().audience("api://b").sign()).await,
        "The token signing algorithm is not accepted",
    );
    // A's tokens do not get B's audience.
    srv.assert_invalid_token(
        &srv.post_mcp(&srv.token().audience("api://b").sign()).await,
        "The token audience does not include this resource",
    );
}

// MCP_OAUTH_AUTHORIZATION_SERVERS with two issuers and nothing else.
#[actix_web::test]
async fn two_issuers_from_the_environment() {
    let b = TestAuthServer::start();
    let b_issuer = b.issuer().to_owned();
    let srv = Setup::new().start(move |a, resource| {
        mcp_oauth::McpOAuthBuilder::from_vars([
            ("MCP_OAUTH_RESOURCE", resource.to_owned()),
            (
                "MCP_OAUTH_AUTHORIZATION_SERVERS",
                format!("{} {b_issuer}", a.issuer()),
            ),
        ])
    });
    let report = srv.oauth.discover().await.expect("both discovered");
    assert_eq!(report.authorization_servers.len(), 2);
    assert_admitted(&srv.post_mcp(&srv.valid_token()).await);
    assert_admitted(
        &srv.post_mcp(&b.token().audience(&srv.resource).sign())
            .await,
    );
}

#[test]
fn an_issuer_listed_twice_is_a_configuration_error() {
    let err = McpOAuth::builder()
        .resource("https://mcp.example.com/mcp")
        .authorization_server("https://a.example.com")
        .authorization_server("https://a.example.com")
        .build()
        .unwrap_err();
    assert_eq!(
        err.problems()[0].setting(),
        "MCP_OAUTH_AUTHORIZATION_SERVERS"
    );
    assert!(err.to_string().contains("listed twice"), "{err}");
}

// Each issuer has its own introspection endpoint: an opaque token is offered to each
// introspecting issuer in turn until one says it is active; a JWT only to its issuer.
#[actix_web::test]
async fn each_issuer_introspects_at_its_own_endpoint() {
    let b = TestAuthServer::start();
    b.introspection_client("rs-at-b", "secret-at-b");
    let b_server =
        AuthorizationServer::new(b.issuer()).introspection_client("rs-at-b", "secret-at-b");
    let a = TestAuthServer::start();
    a.introspection_client("rs-at-a", "secret-at-a");
    let srv = Setup::new().auth(a).start(move |a, resource| {
        McpOAuth::builder()
            .resource(resource)
            .authorization_server(a.issuer())
            .authorization_server(b_server)
            .validation(mcp_oauth::Validation::Introspection)
            .introspection_client("rs-at-a", "secret-at-a")
    });
    // B's opaque token: A says inactive, B says active.
    let from_b = assert_admitted(
        &srv.post_mcp(&b.token().audience(&srv.resource).opaque())
            .await,
    );
    assert_eq!(from_b["issuer"], b.issuer());
    assert_eq!(
        (
            srv.auth.introspection_requests(),
            b.introspection_requests()
        ),
        (1, 1)
    );
    // A's opaque token: A answers first; B is not asked.
    assert_admitted(&srv.post_mcp(&srv.token().opaque()).await);
    assert_eq!(
        (
            srv.auth.introspection_requests(),
            b.introspection_requests()
        ),
        (2, 1)
    );
    // B's JWT goes to B's endpoint only.
    assert_admitted(
        &srv.post_mcp(&b.token().audience(&srv.resource).sign())
            .await,
    );
    assert_eq!(
        (
            srv.auth.introspection_requests(),
            b.introspection_requests()
        ),
        (2, 2)
    );
    // A token neither knows: inactive at both.
    srv.assert_invalid_token(
        &srv.post_mcp("neither-issuer-knows-this-token").await,
        "The access token is not active",
    );
}
