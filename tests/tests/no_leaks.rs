//! MCP authorization §Token Theft, OAuth 2.1 §5.1: tokens are secrets. They never appear in
//! logs (at any level), response bodies or response headers, whatever went wrong.
//!
//! A binary of its own: it captures `tracing` output, whose per-callsite interest cache is
//! process-wide, and other tests running beside it in one process made the capture miss
//! events now and then.
#![allow(clippy::unwrap_used)]

#[path = "resource_server/common.rs"]
#[allow(dead_code)]
mod common;

use std::time::Duration;

use mcp_oauth::ApiKey;
use mcp_oauth::testing::JwksFault;

use crate::common::*;

const SECRET: &str = "introspection-client-secret-never-logged";
const WRONG_SECRET: &str = "a-wrong-secret-never-logged-either";

#[actix_web::test]
async fn tokens_never_appear_in_logs_bodies_or_headers() {
    let logs = LogBuffer::default();
    let dispatch = logs.dispatch();
    // The test thread logs into the buffer, and so does every worker of the server.
    let _guard = tracing::dispatcher::set_default(&dispatch);
    let srv = Setup::new()
        .log_to(dispatch.clone())
        .start(|auth, resource| auth.configure(resource).required_scopes(["mcp:tools"]));

    // tracing caches per-callsite interest; a callsite first hit by a concurrent test while
    // this dispatcher was being registered may have cached "never". Recompute it now.
    tracing::callsite::rebuild_interest_cache();

    let good = srv.token().scope("mcp:tools").sign();
    let expired = srv.token().scope("mcp:tools").expired().sign();
    let bad_signature = srv
        .token()
        .scope("mcp:tools")
        .signed_by_unpublished_key()
        .sign();
    let wrong_audience = srv
        .auth
        .token()
        .audience("https://elsewhere.example.com")
        .sign();
    let no_scope = srv.token().sign();
    let unknown_kid = srv.token().scope("mcp:tools").kid("unknown").sign();
    let in_query = srv.token().scope("mcp:tools").sign();
    let garbage = "gArBaGe1.gArBaGe2.gArBaGe3".to_owned();
    let too_large = format!("{}{}", good, "A".repeat(17 * 1024));

    let mut replies = vec![
        srv.post_mcp(&good).await,
        srv.post_mcp(&expired).await,
        srv.post_mcp(&bad_signature).await,
        srv.post_mcp(&wrong_audience).await,
        srv.post_mcp(&no_scope).await,
        srv.post_mcp(&unknown_kid).await,
        send(srv.get(&format!("/mcp?access_token={in_query}"))).await,
        send(
            srv.get(&format!("/mcp?access_token={in_query}"))
                .bearer(&good),
        )
        .await,
        srv.post_mcp(&garbage).await,
        srv.post_mcp(&too_large).await,
    ];

    // JWKS down, on a second server that has no keys yet.
    let down = Setup::new()
        .log_to(dispatch.clone())
        .start(|auth, resource| auth.configure(resource));
    down.auth.set_jwks_fault(JwksFault::Status(500));
    tracing::callsite::rebuild_interest_cache();
    let unjudgeable = down.valid_token();
    replies.push(down.post_mcp(&unjudgeable).await);

    // Introspection (RFC 7662): opaque tokens and the client secret, through discovery, an
    // active and an inactive answer, an authorization server error and refused credentials.
    let introspecting = |secret: &'static str| {
        let auth = mcp_oauth::testing::TestAuthServer::start();
        auth.introspection_client("leak-test", SECRET);
        Setup::new()
            .auth(auth)
            .log_to(dispatch.clone())
            .start(move |auth, resource| {
                mcp_oauth::McpOAuth::builder()
                    .resource(resource)
                    .authorization_server(auth.issuer())
                    .validation(mcp_oauth::Validation::Introspection)
                    .introspection_client("leak-test", secret)
            })
    };
    let opaque_srv = introspecting(SECRET);
    tracing::callsite::rebuild_interest_cache();
    let active = opaque_srv.token().opaque();
    let revoked = opaque_srv.token().opaque();
    opaque_srv.auth.revoke(&revoked);
    replies.push(opaque_srv.post_mcp(&active).await);
    replies.push(opaque_srv.post_mcp(&revoked).await);
    opaque_srv
        .auth
        .set_introspection_fault(mcp_oauth::testing::IntrospectionFault::Status(500));
    let during_outage = opaque_srv.token().opaque();
    replies.push(opaque_srv.post_mcp(&during_outage).await);
    let refused_srv = introspecting(WRONG_SECRET);
    let with_refused_credentials = refused_srv.token().opaque();
    replies.push(refused_srv.post_mcp(&with_refused_credentials).await);

    // API keys beside OAuth: accepted, unknown, expired; and a development token.
    let api_key = ApiKey::generate(mcp_oauth::DEFAULT_API_KEY_PREFIX);
    let unknown_key = ApiKey::generate(mcp_oauth::DEFAULT_API_KEY_PREFIX);
    let expired_key = ApiKey::generate(mcp_oauth::DEFAULT_API_KEY_PREFIX);
    let dev_token = "dev-token-never-logged".to_owned();
    let keys_srv = Setup::new()
        .log_to(dispatch.clone())
        .start(|auth, resource| {
            auth.configure(resource)
                .api_key(ApiKey::new("leak-bot", ApiKey::hash(&api_key)))
                .api_key(
                    ApiKey::new("old-bot", ApiKey::hash(&expired_key))
                        .expires_at(std::time::SystemTime::now() - Duration::from_secs(60)),
                )
                .dev_token(&dev_token, serde_json::json!({"sub": "dev"}))
        });
    tracing::callsite::rebuild_interest_cache();
    for key in [&api_key, &unknown_key, &expired_key, &dev_token] {
        replies.push(keys_srv.post_mcp(key).await);
    }

    let statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [
            200, 401, 401, 401, 403, 401, 401, 400, 401, 401, 503, 200, 401, 503, 503, 200, 401,
            401, 200
        ]
    );

    let logged = logs.contents();
    // The capture works: the refusals, the JWKS failure, discovery and the introspection
    // failures were logged.
    assert!(logged.contains("The access token expired"), "{logged}");
    assert!(logged.contains("JWKS fetch failed"), "{logged}");
    assert!(
        logged.contains("authorization server discovered"),
        "{logged}"
    );
    assert!(logged.contains("introspection failed"), "{logged}");
    assert!(logged.contains("credentials were refused"), "{logged}");
    assert!(logged.contains("The API key is not known"), "{logged}");
    assert!(logged.contains("The API key expired"), "{logged}");
    for secret in [SECRET, WRONG_SECRET] {
        assert!(
            !logged.contains(secret),
            "a client secret leaked into the logs"
        );
    }

    let tokens = [
        &good,
        &expired,
        &bad_signature,
        &wrong_audience,
        &no_scope,
        &unknown_kid,
        &in_query,
        &garbage,
        &too_large,
        &unjudgeable,
        &active,
        &revoked,
        &during_outage,
        &with_refused_credentials,
        &api_key,
        &unknown_key,
        &expired_key,
        &dev_token,
    ];
    let everything_sent_back: String = replies.iter().map(Reply::everything).collect();
    for token in tokens {
        // The whole token, and its signature alone (the part that makes it usable).
        let signature = token.rsplit('.').next().unwrap_or(token);
        for needle in [token.as_str(), signature] {
            assert!(!logged.contains(needle), "a token leaked into the logs");
            assert!(
                !everything_sent_back.contains(needle),
                "a token leaked into a response"
            );
        }
    }
}
