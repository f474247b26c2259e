//! Finding the bearer token: RFC 6750 §2.1 syntax, the status-code matrix for missing and
//! malformed credentials, query tokens, methods, CORS preflight and public paths.

use actix_web::http::header::HeaderValue;

use crate::common::*;

// RFC 6750 §3, §3.1; RFC 9728 §5.1
#[actix_web::test]
async fn no_authorization_header_is_401_without_error() {
    let srv = TestServer::start();
    let reply = srv.post_mcp_anonymous().await;
    srv.assert_no_token(&reply);
    assert!(!reply.challenge().contains("error="));
}

// MCP authorization §Protected Resource Metadata Discovery Requirements: the 401 names the
// scopes this resource requires.
#[actix_web::test]
async fn no_token_challenge_names_the_required_scopes() {
    let srv = TestServer::with(|b| b.required_scopes(["mcp:tools", "mcp:read"]));
    let reply = srv.post_mcp_anonymous().await;
    assert_refusal(
        &reply,
        401,
        &srv.no_token_challenge(Some("mcp:tools mcp:read")),
        "unauthorized",
        "A bearer token is required",
    );
}

// RFC 6750 §3.1: another scheme is no bearer credential.
#[actix_web::test]
async fn basic_scheme_is_401_without_error() {
    let srv = TestServer::start();
    let reply = send(
        srv.post("/mcp")
            .insert_header(("Authorization", "Basic dXNlcjpwYXNz")),
    )
    .await;
    srv.assert_no_token(&reply);
}

// RFC 9110 §11.1, RFC 6750 §2.1: the scheme is case-insensitive.
#[actix_web::test]
async fn lowercase_bearer_scheme_is_accepted() {
    let srv = TestServer::start();
    let token = srv.valid_token();
    let reply = send(
        srv.post("/mcp")
            .insert_header(("Authorization", format!("bearer {token}"))),
    )
    .await;
    assert_eq!(assert_admitted(&reply)["subject"], "test-user");
}

// RFC 9110 §11.1, RFC 6750 §2.1
#[actix_web::test]
async fn uppercase_bearer_scheme_is_accepted() {
    let srv = TestServer::start();
    let token = srv.valid_token();
    let reply = send(
        srv.post("/mcp")
            .insert_header(("Authorization", format!("BEARER {token}"))),
    )
    .await;
    assert_eq!(assert_admitted(&reply)["subject"], "test-user");
}

// RFC 6750 §2.1: `1*SP` before the token.
#[actix_web::test]
async fn several_spaces_after_the_scheme_are_accepted() {
    let srv = TestServer::start();
    let token = srv.valid_token();
    let reply = send(
        srv.post("/mcp")
            .insert_header(("Authorization", format!("Bearer   {token}"))),
    )
    .await;
    assert_admitted(&reply);
}

// RFC 6750 §3.1
#[actix_web::test]
async fn empty_bearer_token_is_400_invalid_request() {
    let srv = TestServer::start();
    for value in ["Bearer ", "Bearer"] {
        let reply = send(srv.post("/mcp").insert_header(("Authorization", value))).await;
        srv.assert_invalid_request(&reply, "The bearer token is empty");
    }
}

// RFC 6750 §3.1, RFC 9110 §5.3
#[actix_web::test]
async fn two_authorization_headers_are_400_invalid_request() {
    let srv = TestServer::start();
    let token = srv.valid_token();
    let req = srv
        .post("/mcp")
        .append_header(("Authorization", format!("Bearer {token}")))
        .append_header(("Authorization", format!("Bearer {token}")));
    let reply = send(req).await;
    srv.assert_invalid_request(&reply, "More than one Authorization header");
}

// OAuth 2.1 §5.1: a query token alone is no credential, and is never validated.
#[actix_web::test]
async fn token_only_in_query_is_401_without_error_and_is_not_validated() {
    let srv = TestServer::start();
    let token = srv.valid_token();
    let reply = send(srv.get(&format!("/mcp?access_token={token}"))).await;
    srv.assert_no_token(&reply);
    // Validating it would have needed the keys.
    assert_eq!(srv.auth.jwks_requests(), 0);
    assert!(!reply.everything().contains(&token));
}

// OAuth 2.1 §5.1, RFC 6750 §2: header and query together are two methods.
#[actix_web::test]
async fn header_token_and_query_token_together_are_400() {
    let srv = TestServer::start();
    let token = srv.valid_token();
    let reply = send(
        srv.get(&format!("/mcp?x=1&access_token={token}"))
            .bearer(&token),
    )
    .await;
    srv.assert_invalid_request(&reply, "A token was sent by more than one method");
}

// RFC 6750 §2.1, §3.1: whitespace inside the token and characters outside token68.
#[actix_web::test]
async fn characters_outside_token68_are_400_invalid_request() {
    let srv = TestServer::start();
    for value in [
        "Bearer abc def",
        "Bearer abc\"def",
        "Bearer abc,def",
        "Bearer a=b",
        "Bearer ==",
        "Bearer abc\tdef",
    ] {
        let reply = send(srv.post("/mcp").insert_header(("Authorization", value))).await;
        srv.assert_invalid_request(&reply, "The bearer token has characters outside token68");
    }
}

// RFC 6750 §2.1, §3.1: bytes that are not visible ASCII.
#[actix_web::test]
async fn non_ascii_authorization_header_is_400_invalid_request() {
    let srv = TestServer::start();
    for bytes in ["Bearer t\u{f6}ken".as_bytes(), b"Bearer caf\xe9"] {
        let value = HeaderValue::from_bytes(bytes).unwrap();
        let reply = send(srv.post("/mcp").insert_header(("Authorization", value))).await;
        srv.assert_invalid_request(&reply, "The Authorization header is not visible ASCII");
    }
}

// A size cap on the token: 401 invalid_token (RFC 6750 §3.1) before any parsing, and the
// server keeps working.
#[actix_web::test]
async fn token_larger_than_16_kib_is_401_invalid_token_and_the_server_survives() {
    let srv = TestServer::start();
    let huge = "a".repeat(16 * 1024 + 1);
    let reply = srv.post_mcp(&huge).await;
    srv.assert_invalid_token(&reply, "The access token is too large");
    assert_eq!(srv.auth.jwks_requests(), 0);
    assert_admitted(&srv.post_mcp(&srv.valid_token()).await);
}

// MCP authorization §Token Requirements: the SSE stream (GET) needs a token too.
#[actix_web::test]
async fn get_needs_a_token_too() {
    let srv = TestServer::start();
    srv.assert_no_token(&send(srv.get("/mcp")).await);
    assert_admitted(&send(srv.get("/mcp").bearer(&srv.valid_token())).await);
}

// MCP authorization §Token Requirements: ending a session (DELETE) needs a token too.
#[actix_web::test]
async fn delete_needs_a_token_too() {
    let srv = TestServer::start();
    srv.assert_no_token(&send(srv.delete("/mcp")).await);
    assert_admitted(&send(srv.delete("/mcp").bearer(&srv.valid_token())).await);
}

// MCP Security Best Practices §Session Hijacking: a session id never stands in for a token.
#[actix_web::test]
async fn session_id_without_a_token_is_401() {
    let srv = TestServer::start();
    let reply = send(
        srv.post("/mcp")
            .insert_header(("Mcp-Session-Id", "0f8e7d6c5b4a")),
    )
    .await;
    srv.assert_no_token(&reply);
    let reply = send(
        srv.post("/mcp")
            .insert_header(("Mcp-Session-Id", "0f8e7d6c5b4a"))
            .bearer("garbage"),
    )
    .await;
    srv.assert_invalid_token(&reply, "The access token is malformed");
}

// Fetch Standard, CORS-preflight request: from an allowed origin (MCP transports
// §Security Warning), it reaches the application unauthenticated.
#[actix_web::test]
async fn cors_preflight_passes_without_a_token() {
    let srv = TestServer::with(|b| b.allowed_origins(["http://localhost:6274"]));
    let req = srv
        .client
        .request(actix_web::http::Method::OPTIONS, srv.url("/mcp"))
        .insert_header(("Origin", "http://localhost:6274"))
        .insert_header(("Access-Control-Request-Method", "POST"))
        .insert_header(("Access-Control-Request-Headers", "authorization"));
    let reply = send(req).await;
    assert_eq!(reply.status, 204);
    assert!(reply.header("www-authenticate").is_none());
    // The application's own preflight answer, so the request really got through.
    assert_eq!(
        reply.header("access-control-allow-methods"),
        Some("GET, POST, DELETE")
    );
}

// Fetch Standard: only a real preflight (with Access-Control-Request-Method) is let by.
#[actix_web::test]
async fn plain_options_without_preflight_headers_needs_a_token() {
    let srv = TestServer::start();
    let reply = send(
        srv.client
            .request(actix_web::http::Method::OPTIONS, srv.url("/mcp")),
    )
    .await;
    srv.assert_no_token(&reply);
}

#[actix_web::test]
async fn public_path_and_paths_below_it_are_open() {
    let srv = TestServer::with(|b| b.public_path("/health"));
    let reply = send(srv.get("/health")).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.text(), "ok");
    assert_eq!(send(srv.get("/health/live")).await.status, 200);
    // Everything else stays protected.
    srv.assert_no_token(&send(srv.post("/mcp")).await);
}

#[actix_web::test]
async fn path_that_only_starts_like_a_public_path_is_protected() {
    let srv = TestServer::with(|b| b.public_path("/health"));
    srv.assert_no_token(&send(srv.get("/healthz")).await);
}

// Every refusal is readable cross-origin (Fetch Standard, CORS protocol) and names exactly one
// metadata URL (RFC 9110 §11.2).
#[actix_web::test]
async fn every_refusal_exposes_www_authenticate_to_browsers() {
    let srv = TestServer::with(|b| b.required_scopes(["mcp:tools"]));
    let replies = [
        srv.post_mcp_anonymous().await,
        send(srv.post("/mcp").insert_header(("Authorization", "Bearer "))).await,
        srv.post_mcp("garbage").await,
        srv.post_mcp(&srv.token().scope("other").sign()).await,
    ];
    let statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [401, 400, 401, 403]);
    for reply in &replies {
        assert_eq!(
            reply.header("access-control-expose-headers"),
            Some("WWW-Authenticate")
        );
        assert!(reply.challenge().starts_with("Bearer "));
        assert_eq!(reply.challenge().matches("resource_metadata=").count(), 1);
        assert!(
            reply
                .challenge()
                .contains(&format!("resource_metadata=\"{}\"", srv.metadata_url))
        );
    }
}

// RFC 6750 §2, §3.1: a form-body token beside a header token is two methods (§2.2).
#[actix_web::test]
async fn header_token_and_form_body_token_together_are_400() {
    let srv = TestServer::start();
    let token = srv.valid_token();
    let req = srv
        .post("/mcp/echo")
        .bearer(&token)
        .insert_header(("Content-Type", "application/x-www-form-urlencoded"));
    let reply = send_body(req, format!("a=1&access_token={token}")).await;
    srv.assert_invalid_request(&reply, "A token was sent by more than one method");
}

// OAuth 2.1 §5.1.2: the form-body method is not supported, so alone it is no credential.
#[actix_web::test]
async fn token_only_in_a_form_body_is_401_without_error() {
    let srv = TestServer::start();
    let token = srv.valid_token();
    let req = srv
        .post("/mcp/echo")
        .insert_header(("Content-Type", "application/x-www-form-urlencoded"));
    let reply = send_body(req, format!("access_token={token}")).await;
    srv.assert_no_token(&reply);
    assert_eq!(srv.auth.jwks_requests(), 0);
}

// Checking a form body for a second token must leave the body intact for the handler.
#[actix_web::test]
async fn form_body_without_a_token_reaches_the_handler_intact() {
    let srv = TestServer::start();
    let req = srv
        .post("/mcp/echo")
        .bearer(&srv.valid_token())
        .insert_header(("Content-Type", "application/x-www-form-urlencoded"));
    let reply = send_body(req, "a=1&b=two".to_owned()).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.text(), "a=1&b=two");
    // And a JSON body (what MCP sends) is passed through as well.
    let req = srv
        .post("/mcp/echo")
        .bearer(&srv.valid_token())
        .insert_header(("Content-Type", "application/json"));
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"ping","access_token":"x"}"#;
    let reply = send_body(req, body.to_owned()).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.text(), body);
}

#[actix_web::test]
async fn configured_token_size_cap_is_enforced() {
    let srv = TestServer::with(|b| b.max_token_bytes(64));
    let token = srv.valid_token();
    assert!(token.len() > 64);
    srv.assert_invalid_token(&srv.post_mcp(&token).await, "The access token is too large");
    assert_eq!(srv.auth.jwks_requests(), 0);
}

// The documented contract of `public_path`: "the path itself and everything below it".
#[actix_web::test]
async fn public_path_configured_with_a_trailing_slash_opens_the_paths_below_it() {
    let srv = TestServer::with(|b| b.public_path("/health/"));
    assert_eq!(send(srv.get("/health/live")).await.status, 200);
    srv.assert_no_token(&send(srv.get("/healthz")).await);
}
