//! Scopes (OAuth 2.1 §1.4.1, §5.2; MCP authorization §Runtime Insufficient Scope Errors)
//! and the `AuthenticatedClient` extractor (MCP authorization §Access Token Privilege
//! Restriction: no token passthrough by default).

use serde_json::json;

use crate::common::*;

// RFC 6750 §3.1, MCP authorization §Runtime Insufficient Scope Errors
#[actix_web::test]
async fn missing_required_scope_is_403_naming_it() {
    let srv = TestServer::with(|b| b.required_scopes(["mcp:tools"]));
    let reply = srv.post_mcp(&srv.token().scope("other").sign()).await;
    assert_refusal(
        &reply,
        403,
        &srv.insufficient_scope_challenge("mcp:tools", "Required scope missing: mcp:tools"),
        "insufficient_scope",
        "Required scope missing: mcp:tools",
    );
}

// RFC 6750 §3.1: no scope claim at all.
#[actix_web::test]
async fn token_without_any_scope_is_403_when_scopes_are_required() {
    let srv = TestServer::with(|b| b.required_scopes(["mcp:tools", "mcp:read"]));
    let reply = srv.post_mcp(&srv.valid_token()).await;
    assert_refusal(
        &reply,
        403,
        &srv.insufficient_scope_challenge(
            "mcp:tools mcp:read",
            "Required scope missing: mcp:tools mcp:read",
        ),
        "insufficient_scope",
        "Required scope missing: mcp:tools mcp:read",
    );
}

// MCP authorization §Runtime Insufficient Scope Errors, the recommended approach: required ∪
// granted-and-known, so a step-up never asks the client to drop a scope it holds.
#[actix_web::test]
async fn insufficient_scope_challenge_keeps_granted_known_scopes() {
    let srv = TestServer::with(|b| {
        b.required_scopes(["mcp:tools"])
            .scopes_supported(["files:read"])
    });
    let reply = srv
        .post_mcp(&srv.token().scope("files:read unrelated").sign())
        .await;
    assert_refusal(
        &reply,
        403,
        &srv.insufficient_scope_challenge(
            "mcp:tools files:read",
            "Required scope missing: mcp:tools",
        ),
        "insufficient_scope",
        "Required scope missing: mcp:tools",
    );
}

// OAuth 2.1 §1.4.1: scope tokens are case-sensitive.
#[actix_web::test]
async fn scopes_compare_case_sensitively() {
    let srv = TestServer::with(|b| b.required_scopes(["mcp:tools"]));
    assert_eq!(
        srv.post_mcp(&srv.token().scope("MCP:TOOLS").sign())
            .await
            .status,
        403
    );
    let body = assert_admitted(
        &srv.post_mcp(&srv.token().scope("other mcp:tools").sign())
            .await,
    );
    assert_eq!(body["scopes"], json!(["other", "mcp:tools"]));
}

// MCP authorization §Runtime Insufficient Scope Errors: a handler's step-up names the
// global and the new scope.
#[actix_web::test]
async fn require_scopes_in_a_handler_is_a_403_step_up_challenge() {
    let srv = TestServer::with(|b| b.required_scopes(["mcp:tools"]));
    let token = srv.token().scope("mcp:tools").sign();
    let reply = send(srv.delete("/mcp/files").bearer(&token)).await;
    assert_refusal(
        &reply,
        403,
        &srv.insufficient_scope_challenge(
            "mcp:tools files:delete",
            "Required scope missing: files:delete",
        ),
        "insufficient_scope",
        "Required scope missing: files:delete",
    );

    let token = srv.token().scope("mcp:tools files:delete").sign();
    let reply = send(srv.delete("/mcp/files").bearer(&token)).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json(), json!({"deleted": true}));
}

// A missing middleware is a server bug: 500, not a 401 that would send clients to log in.
#[actix_web::test]
async fn authenticated_client_without_the_middleware_is_500() {
    let srv = Setup::new()
        .without_middleware()
        .start(|auth, r| auth.configure(r));
    let reply = srv.post_mcp(&srv.valid_token()).await;
    assert_eq!(reply.status, 500);
    assert!(reply.header("www-authenticate").is_none());
    assert_eq!(
        reply.json(),
        json!({"error": "server_error", "error_description": "Server misconfiguration"})
    );
}

#[actix_web::test]
async fn extractor_exposes_the_verified_claims() {
    let srv = TestServer::start();
    let token = srv
        .token()
        .subject("alice")
        .client_id("inspector")
        .scope("mcp:tools files:read")
        .claim("tenant_id", json!("acme"))
        .sign();
    let body = assert_admitted(&srv.post_mcp(&token).await);
    assert_eq!(
        body,
        json!({
            "subject": "alice",
            "client_id": "inspector",
            "scopes": ["mcp:tools", "files:read"],
            "audiences": [srv.resource],
            "issuer": srv.auth.issuer(),
            "token_exposed": false,
        })
    );
    let reply = send(srv.get("/tenant").bearer(&token)).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json(), json!({"tenant_id": "acme", "sub": "alice"}));
}

// MCP authorization §Access Token Privilege Restriction: no raw token for handlers by default.
#[actix_web::test]
async fn raw_token_is_not_available_by_default() {
    let srv = TestServer::start();
    let reply = send(srv.get("/token").bearer(&srv.valid_token())).await;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.text(), "not exposed");
}

// MCP authorization §Access Token Privilege Restriction: explicit opt-in for token exchange.
#[actix_web::test]
async fn raw_token_is_available_with_expose_token_to_handlers() {
    let srv = TestServer::with(|b| b.expose_token_to_handlers(true));
    let token = srv.valid_token();
    assert_eq!(
        assert_admitted(&srv.post_mcp(&token).await)["token_exposed"],
        true
    );
    let reply = send(srv.get("/token").bearer(&token)).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.text(), token);
}

// MCP authorization §Token Theft: Debug output never shows the token, even when it is exposed.
#[actix_web::test]
async fn debug_of_the_client_never_contains_the_token() {
    let srv = TestServer::with(|b| b.expose_token_to_handlers(true));
    let token = srv.token().scope("mcp:tools").sign();
    let reply = send(srv.get("/debug").bearer(&token)).await;
    assert_eq!(reply.status, 200);
    let debug = reply.text();
    assert!(debug.starts_with("AuthenticatedClient"), "{debug}");
    assert!(
        debug.contains("test-user") && debug.contains("mcp:tools"),
        "{debug}"
    );
    assert!(debug.contains("BearerToken(..)"), "{debug}");
    assert!(!debug.contains(&token));
    let signature = token.rsplit('.').next().unwrap();
    assert!(!debug.contains(signature));
}

// `McpOAuth::authenticate` applies the same checks outside a request.
#[actix_web::test]
async fn authenticate_outside_a_request_applies_the_same_checks() {
    let auth = mcp_oauth::testing::TestAuthServer::start();
    let resource = "http://127.0.0.1:9/mcp";
    let oauth = auth
        .configure(resource)
        .required_scopes(["mcp:tools"])
        .build()
        .unwrap();
    let good = auth.token().audience(resource).scope("mcp:tools").sign();
    let client = oauth.authenticate(&good).await.unwrap();
    assert_eq!(client.subject(), Some("test-user"));
    let err = oauth
        .authenticate(&auth.token().audience(resource).sign())
        .await
        .unwrap_err();
    assert_eq!(err.refusal().status().as_u16(), 403);
    let err = oauth
        .authenticate(
            &auth
                .token()
                .audience(resource)
                .scope("mcp:tools")
                .expired()
                .sign(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.refusal().error_code(), Some("invalid_token"));
}
