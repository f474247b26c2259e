//! A custom `TokenValidator` keeps the middleware's extraction, statuses and challenges;
//! its texts are sanitised before they reach a header (RFC 6750 §3).

use mcp_oauth::{
    LocalBoxFuture, McpOAuth, Refusal, TokenRejection, TokenValidator, VerifiedClaims,
};
use serde_json::json;

use crate::common::*;

/// Accepts one API key; refuses others with a hostile description; "down" is a backend fault.
struct ApiKeys;

impl TokenValidator for ApiKeys {
    fn validate<'a>(
        &'a self,
        token: &'a str,
    ) -> LocalBoxFuture<'a, Result<VerifiedClaims, Refusal>> {
        Box::pin(async move {
            match token {
                "key-good" => {
                    let claims = json!({"sub": "api-user", "scope": "mcp:tools"});
                    Ok(VerifiedClaims::from_claims(
                        claims.as_object().cloned().unwrap_or_default(),
                    ))
                }
                "key-down" => Err(Refusal::Unavailable(
                    "database password=hunter2 unreachable".into(),
                )),
                _ => Err(Refusal::InvalidToken(TokenRejection::Other(
                    "Unknown \"API\" key\\ caf\u{e9}\r\nInjected: x".into(),
                ))),
            }
        })
    }
}

fn api_key_server() -> TestServer {
    Setup::new().start(|auth, resource| {
        McpOAuth::builder()
            .resource(resource)
            .authorization_server(auth.issuer())
            .validator(ApiKeys)
            .required_scopes(["mcp:tools"])
    })
}

#[actix_web::test]
async fn custom_validator_admits_what_it_accepts() {
    let srv = api_key_server();
    let body = assert_admitted(&srv.post_mcp("key-good").await);
    assert_eq!(body["subject"], "api-user");
    assert_eq!(body["scopes"], json!(["mcp:tools"]));
}

// RFC 6750 §3: no `"`, `\`, control or non-ASCII characters in the challenge.
#[actix_web::test]
async fn custom_rejection_text_is_sanitised_in_challenge_and_body() {
    let srv = api_key_server();
    let reply = srv.post_mcp("key-bad").await;
    let description = "Unknown 'API' key/ caf  Injected: x";
    assert_refusal(
        &reply,
        401,
        &srv.invalid_token_challenge(description, Some("mcp:tools")),
        "invalid_token",
        description,
    );
    assert!(reply.header("injected").is_none());
}

// RFC 9110 §15.6.4: the backend's detail goes to the log, never to the client.
#[actix_web::test]
async fn custom_validator_outage_is_503_without_its_detail() {
    let srv = api_key_server();
    let reply = srv.post_mcp("key-down").await;
    assert_refusal(
        &reply,
        503,
        &srv.no_token_challenge(Some("mcp:tools")),
        "temporarily_unavailable",
        "The token cannot be validated right now; try again later",
    );
    assert!(!reply.everything().contains("hunter2"));
}

// The middleware still decides extraction: a malformed header never reaches the validator.
#[actix_web::test]
async fn custom_validator_keeps_the_extraction_rules() {
    let srv = api_key_server();
    let reply = send(
        srv.post("/mcp")
            .insert_header(("Authorization", "Bearer key good")),
    )
    .await;
    srv.assert_invalid_request(&reply, "The bearer token has characters outside token68");
}
