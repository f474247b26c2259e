//! `mcp_oauth::httpauth`: mcp-oauth's validation behind actix-web-httpauth's
//! `HttpAuthentication`, over real HTTP. The refusals are the middleware's, byte for byte
//! (the same canonical challenges as every other module here).
//!
//! The `as_parsed` halves find out what actix-web-httpauth's `BearerAuth` alone accepts
//! (an application's validator that authenticates `BearerAuth::token()`), beside what
//! `mcp_oauth::httpauth` answers to the same request: the header rules of RFC 6750 §2.1
//! and OAuth 2.1 §5.1 that `McpOAuth` applies.

use mcp_oauth::testing::JwksFault;
use serde_json::json;

use crate::common::*;

fn httpauth() -> TestServer {
    httpauth_with(|b| b)
}

fn httpauth_with(
    f: impl FnOnce(mcp_oauth::McpOAuthBuilder) -> mcp_oauth::McpOAuthBuilder,
) -> TestServer {
    Setup::new()
        .guard(Guard::HttpAuth)
        .start(|auth, resource| f(auth.configure(resource)))
}

/// `HttpAuthentication::bearer` with a validator that trusts `BearerAuth`'s parse.
fn as_parsed() -> TestServer {
    Setup::new()
        .guard(Guard::BearerAuthAsParsed)
        .start(|auth, resource| auth.configure(resource))
}

/// What actix-web-httpauth answers itself when `BearerAuth` finds no credentials: a bare
/// challenge, no `resource_metadata` (RFC 9728 §5.1), empty body.
fn assert_bare_bearer_401(reply: &Reply) {
    assert_eq!(reply.status, 401, "{}", reply.text());
    assert_eq!(reply.challenge(), "Bearer");
    assert!(reply.body.is_empty());
}

#[actix_web::test]
async fn a_valid_token_reaches_the_handler_as_an_authenticated_client() {
    let srv = httpauth();
    let token = srv
        .token()
        .subject("alice")
        .scope("mcp:tools files:read")
        .sign();
    let body = assert_admitted(&srv.post_mcp(&token).await);
    assert_eq!(body["subject"], "alice");
    assert_eq!(body["scopes"], json!(["mcp:tools", "files:read"]));
    assert_eq!(body["audiences"], json!([srv.resource]));
    assert_eq!(body["token_exposed"], false);
}

// RFC 9728 §5.1: the 401 without credentials names the metadata; actix-web-httpauth's own
// bare challenge does not.
#[actix_web::test]
async fn no_token_is_our_401_challenge() {
    let srv = httpauth();
    srv.assert_no_token(&srv.post_mcp_anonymous().await);
    let srv = httpauth_with(|b| b.required_scopes(["mcp:tools", "mcp:read"]));
    assert_refusal(
        &srv.post_mcp_anonymous().await,
        401,
        &srv.no_token_challenge(Some("mcp:tools mcp:read")),
        "unauthorized",
        "A bearer token is required",
    );
}

// RFC 6750 §3.1: invalid and expired tokens get the middleware's `invalid_token` challenges.
#[actix_web::test]
async fn invalid_and_expired_tokens_are_our_401_invalid_token() {
    let srv = httpauth();
    srv.assert_invalid_token(
        &srv.post_mcp("not-a-jwt").await,
        "The access token is malformed",
    );
    let forged = srv.token().signed_by_unpublished_key().sign();
    srv.assert_invalid_token(
        &srv.post_mcp(&forged).await,
        "The token signature is invalid",
    );
    let expired = srv.token().expired().sign();
    srv.assert_invalid_token(&srv.post_mcp(&expired).await, "The access token expired");
    let elsewhere = srv
        .auth
        .token()
        .audience("https://elsewhere.example")
        .sign();
    srv.assert_invalid_token(
        &srv.post_mcp(&elsewhere).await,
        "The token audience does not include this resource",
    );
}

// RFC 6750 §3.1 (`insufficient_scope`): the required scopes are checked (403 step-up), and a handler's own step-up
// names the resource too: the client carries it.
#[actix_web::test]
async fn missing_scopes_are_our_403_step_up() {
    let srv = httpauth_with(|b| b.required_scopes(["mcp:tools"]));
    let reply = srv.post_mcp(&srv.token().scope("other").sign()).await;
    assert_refusal(
        &reply,
        403,
        &srv.insufficient_scope_challenge("mcp:tools", "Required scope missing: mcp:tools"),
        "insufficient_scope",
        "Required scope missing: mcp:tools",
    );
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
}

// MCP authorization §Error Handling: an authorization server that cannot be asked is a 503, never a 401.
#[actix_web::test]
async fn an_authorization_server_outage_is_503_not_401() {
    let srv = httpauth();
    srv.auth.set_jwks_fault(JwksFault::Status(500));
    srv.assert_unavailable(&srv.post_mcp(&srv.valid_token()).await);
}

// RFC 9728 §5.1: `HttpAuthentication::bearer` answers a request without credentials itself,
// before any validator runs: why `mcp_oauth::httpauth` takes `Option<BearerAuth>`.
#[actix_web::test]
async fn bearer_auth_alone_answers_no_credentials_with_a_bare_challenge() {
    let parsed = as_parsed();
    assert_bare_bearer_401(&parsed.post_mcp_anonymous().await);
    let srv = httpauth();
    srv.assert_no_token(&srv.post_mcp_anonymous().await);
}

// RFC 6750 §2.1: `BearerAuth` takes the first of two `Authorization` headers.
#[actix_web::test]
async fn two_authorization_headers_are_400_where_bearer_auth_takes_the_first() {
    let two = |srv: &TestServer| {
        srv.post("/mcp")
            .append_header(("Authorization", format!("Bearer {}", srv.valid_token())))
            .append_header(("Authorization", "Bearer someone-elses"))
    };
    let parsed = as_parsed();
    assert_admitted(&send(two(&parsed)).await);
    let srv = httpauth();
    srv.assert_invalid_request(&send(two(&srv)).await, "More than one Authorization header");
}

// RFC 6750 §2.1: `BearerAuth` passes anything after `Bearer ` on as the token.
#[actix_web::test]
async fn characters_outside_token68_are_400_where_bearer_auth_passes_them_on() {
    let (parsed, srv) = (as_parsed(), httpauth());
    for value in ["Bearer abc def", "Bearer abc\"def", "Bearer abc,def"] {
        // Judged as a token: it reached the validator.
        let reply = send(parsed.post("/mcp").insert_header(("Authorization", value))).await;
        parsed.assert_invalid_token(&reply, "The access token is malformed");
        let reply = send(srv.post("/mcp").insert_header(("Authorization", value))).await;
        srv.assert_invalid_request(&reply, "The bearer token has characters outside token68");
    }
}

// RFC 6750 §2 and OAuth 2.1 §5.1: a query token beside the header is two methods; `BearerAuth` never
// looks at the query.
#[actix_web::test]
async fn a_query_token_beside_the_header_is_400_where_bearer_auth_ignores_it() {
    let with_query = |srv: &TestServer| {
        let token = srv.valid_token();
        srv.get(&format!("/mcp?access_token={token}"))
            .bearer(&token)
    };
    let parsed = as_parsed();
    assert_admitted(&send(with_query(&parsed)).await);
    let srv = httpauth();
    srv.assert_invalid_request(
        &send(with_query(&srv)).await,
        "A token was sent by more than one method",
    );
    // Alone, a query token is no credential (and is never validated).
    let token = srv.valid_token();
    srv.assert_no_token(&send(srv.get(&format!("/mcp?access_token={token}"))).await);
}

// RFC 6750 §2.2: a form-body token beside the header is two methods.
#[actix_web::test]
async fn a_form_body_token_beside_the_header_is_400_where_bearer_auth_ignores_it() {
    let form = |srv: &TestServer| {
        let req = srv
            .post("/mcp/echo")
            .bearer(&srv.valid_token())
            .insert_header(("Content-Type", "application/x-www-form-urlencoded"));
        send_body(req, "a=1&access_token=another".to_owned())
    };
    let parsed = as_parsed();
    assert_eq!(form(&parsed).await.status, 200);
    let srv = httpauth();
    srv.assert_invalid_request(
        &form(&srv).await,
        "A token was sent by more than one method",
    );
}

// RFC 7235 §2.1: the scheme is case-insensitive; `BearerAuth` wants `Bearer`.
#[actix_web::test]
async fn a_lowercase_scheme_is_admitted_where_bearer_auth_refuses_it() {
    let lowercase = |srv: &TestServer| {
        srv.post("/mcp")
            .insert_header(("Authorization", format!("bearer {}", srv.valid_token())))
    };
    let parsed = as_parsed();
    assert_bare_bearer_401(&send(lowercase(&parsed)).await);
    let srv = httpauth();
    assert_admitted(&send(lowercase(&srv)).await);
}

// What `McpOAuth` does and this path does not: serve the RFC 9728 metadata document.
#[actix_web::test]
async fn the_metadata_document_is_not_served_on_this_path() {
    let srv = httpauth();
    let reply = send(srv.client.get(&srv.metadata_url)).await;
    srv.assert_no_token(&reply);
}
