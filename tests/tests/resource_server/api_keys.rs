//! API keys beside OAuth on one endpoint: a key is a bearer credential (RFC 6750 §1.2)
//! judged by the key table alone (it never reaches an authorization server), its scopes
//! meet the same MCP policy as a token's (MCP authorization §Runtime Insufficient Scope
//! Errors), and a bad one is the same 401 `invalid_token` with the same
//! `resource_metadata` challenge (RFC 9728 §5.1). Development tokens work only on
//! loopback resources.

use std::time::{Duration, SystemTime};

use mcp_oauth::testing::TestAuthServer;
use mcp_oauth::{ApiKey, McpOAuthBuilder};
use serde_json::json;

use crate::common::*;

const TOOL_CALL_DELETE: &str = r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"delete_file","arguments":{"path":"/tmp/x"}}}"#;

/// `GET /principal` with `token`: the caller's principal and credential kind.
async fn principal_of(srv: &TestServer, token: &str) -> serde_json::Value {
    assert_admitted(&send(srv.get("/principal").bearer(token)).await)
}

/// A fresh key and its table entry for `principal` with `scopes`.
fn minted(principal: &str, scopes: &[&str]) -> (String, ApiKey) {
    let key = ApiKey::generate(mcp_oauth::DEFAULT_API_KEY_PREFIX);
    let entry = ApiKey::new(principal, ApiKey::hash(&key)).scopes(scopes.iter().copied());
    (key, entry)
}

fn policy(b: McpOAuthBuilder) -> McpOAuthBuilder {
    b.require_scope_for_tool("delete_file", ["files:delete"])
        .require_scope_for_method("tools/call", ["tools:call"])
}

async fn call_tool(srv: &TestServer, key: &str) -> Reply {
    let req = srv
        .post("/mcp/echo")
        .insert_header(("content-type", "application/json"))
        .bearer(key);
    send_body(req, TOOL_CALL_DELETE.to_owned()).await
}

#[actix_web::test]
async fn a_key_is_admitted_with_its_principal_and_scopes() {
    let (key, entry) = minted("ci-bot", &["tools:call", "files:read"]);
    let srv = TestServer::with(|b| b.api_key(entry));
    let body = assert_admitted(&srv.post_mcp(&key).await);
    assert_eq!(body["subject"], "ci-bot");
    assert_eq!(body["scopes"], json!(["tools:call", "files:read"]));
    assert_eq!(body["issuer"], json!(null));
    let who = principal_of(&srv, &key).await;
    assert_eq!(who["credential"], "ApiKey");
    assert_eq!(who["principal"], "api-key:ci-bot");
    // The validation cache fronts the key table too, keyed by the key's hash.
    assert_eq!(srv.oauth.cache_len(), Some(1));
}

// MCP authorization §Runtime Insufficient Scope Errors: the per-tool rule is the same for
// a key as for a token, and so is the step-up challenge.
#[actix_web::test]
async fn per_tool_scopes_apply_to_keys_as_to_tokens() {
    let (narrow, narrow_entry) = minted("reader", &["tools:call"]);
    let (wide, wide_entry) = minted("admin-bot", &["tools:call", "files:delete"]);
    let srv = TestServer::with(|b| policy(b).api_key(narrow_entry).api_key(wide_entry));
    let reply = call_tool(&srv, &narrow).await;
    assert_eq!(reply.status, 403, "{}", reply.text());
    assert_eq!(
        reply.challenge(),
        srv.insufficient_scope_challenge(
            "tools:call files:delete",
            "Required scope missing: files:delete"
        )
    );
    let reply = call_tool(&srv, &wide).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.text(), TOOL_CALL_DELETE);
    // A handler's own `require_scopes` (what `#[require_scope]` calls) too.
    let reply = send(srv.delete("/mcp/files").bearer(&narrow)).await;
    assert_eq!(reply.status, 403);
    assert_eq!(
        send(srv.delete("/mcp/files").bearer(&wide)).await.status,
        200
    );
}

// RFC 6750 §3.1: an unknown, expired or withdrawn key is `invalid_token`, and the
// challenge points at the OAuth metadata like any other.
#[actix_web::test]
async fn unknown_expired_and_withdrawn_keys_are_401_with_the_oauth_challenge() {
    let (kept, kept_entry) = minted("ci-bot", &[]);
    let (withdrawn, _) = minted("ci-bot", &[]);
    let expired = ApiKey::generate(mcp_oauth::DEFAULT_API_KEY_PREFIX);
    let expired_entry = ApiKey::new("old-bot", ApiKey::hash(&expired))
        .expires_at(SystemTime::now() - Duration::from_secs(3600));
    let srv = TestServer::with(|b| b.api_key(kept_entry).api_key(expired_entry));
    assert_admitted(&srv.post_mcp(&kept).await);
    let reply = srv.post_mcp(&withdrawn).await;
    srv.assert_invalid_token(&reply, "The API key is not known");
    let reply = srv.post_mcp(&expired).await;
    srv.assert_invalid_token(&reply, "The API key expired");
    let reply = srv.post_mcp("mcp_sk_").await;
    srv.assert_invalid_token(&reply, "The API key is not known");
    // Only the accepted key was remembered.
    assert_eq!(srv.oauth.cache_len(), Some(1));
}

// Rotation: the old and the new key of one principal, listed together, both work.
#[actix_web::test]
async fn two_keys_of_one_principal_both_work_during_a_rotation() {
    let (old, old_entry) = minted("ci-bot", &["tools:call"]);
    let (new, new_entry) = minted("ci-bot", &["tools:call"]);
    let lines = format!("{}\n{}\n", old_entry.to_line(), new_entry.to_line());
    let srv = TestServer::with(|b| b.api_keys(&lines));
    for key in [&old, &new] {
        assert_admitted(&srv.post_mcp(key).await);
        assert_eq!(principal_of(&srv, key).await["principal"], "api-key:ci-bot");
    }
}

#[actix_web::test]
async fn oauth_tokens_still_work_beside_keys_and_are_other_principals() {
    let (key, entry) = minted("ci-bot", &["tools:call"]);
    let srv = TestServer::with(|b| b.api_key(entry));
    let token = srv.token().subject("ci-bot").scope("tools:call").sign();
    let by_token = assert_admitted(&srv.post_mcp(&token).await);
    let by_key = assert_admitted(&srv.post_mcp(&key).await);
    assert_eq!(by_token["issuer"], srv.auth.issuer());
    assert_eq!(by_token["subject"], by_key["subject"]);
    let (token_who, key_who) = (
        principal_of(&srv, &token).await,
        principal_of(&srv, &key).await,
    );
    assert_eq!(token_who["credential"], "AccessToken");
    // One `sub`, two callers: sessions bound to one are not the other's.
    assert_ne!(token_who["principal"], key_who["principal"]);
    let reply = srv.post_mcp(&srv.token().expired().sign()).await;
    srv.assert_invalid_token(&reply, "The access token expired");
}

// No amplification: a key, good or bad, is never sent to the introspection endpoint.
#[actix_web::test]
async fn a_key_never_reaches_the_introspection_endpoint() {
    let (key, entry) = minted("ci-bot", &[]);
    let srv = Setup::new().start_introspecting(|b| b.api_key(entry));
    assert_admitted(&srv.post_mcp(&key).await);
    let unknown = ApiKey::generate(mcp_oauth::DEFAULT_API_KEY_PREFIX);
    for _ in 0..3 {
        let reply = srv.post_mcp(&unknown).await;
        srv.assert_invalid_token(&reply, "The API key is not known");
    }
    assert_eq!(srv.auth.introspection_requests(), 0);
    // The counter counts: an opaque OAuth token is introspected.
    assert_admitted(&srv.post_mcp(&srv.token().opaque()).await);
    assert_eq!(srv.auth.introspection_requests(), 1);
}

#[actix_web::test]
async fn a_dev_token_works_on_loopback_and_is_refused_at_build_elsewhere() {
    let dev = |b: McpOAuthBuilder| {
        b.dev_token("dev-alice", json!({"sub": "alice", "scope": "tools:call"}))
    };
    let srv = TestServer::with(dev);
    let body = assert_admitted(&srv.post_mcp("dev-alice").await);
    assert_eq!(body["subject"], "alice");
    assert_eq!(
        principal_of(&srv, "dev-alice").await["credential"],
        "DevToken"
    );
    let reply = srv.post_mcp("dev-bob").await;
    assert_eq!(reply.status, 401);

    let auth = TestAuthServer::start();
    let err = dev(auth.configure("https://mcp.example.com/mcp"))
        .build()
        .unwrap_err();
    assert_eq!(err.problems().len(), 1, "{err}");
    assert_eq!(err.problems()[0].setting(), "MCP_OAUTH_DEV_TOKENS");
    assert!(err.problems()[0].message().contains("loopback"), "{err}");
    assert!(!err.to_string().contains("dev-alice"), "{err}");
}

#[actix_web::test]
async fn dev_tokens_configured_by_environment() {
    let srv = Setup::new().start(|auth, resource| {
        McpOAuthBuilder::from_vars([
            ("MCP_OAUTH_RESOURCE", resource),
            ("MCP_OAUTH_AUTHORIZATION_SERVERS", auth.issuer()),
            (
                "MCP_OAUTH_DEV_TOKENS",
                r#"{"dev-alice": {"sub": "alice", "scope": "tools:call"}}"#,
            ),
        ])
    });
    let body = assert_admitted(&srv.post_mcp("dev-alice").await);
    assert_eq!(body["subject"], "alice");
    assert_eq!(body["scopes"], json!(["tools:call"]));

    let err = McpOAuthBuilder::from_vars([
        ("MCP_OAUTH_RESOURCE", "http://127.0.0.1:1/mcp"),
        ("MCP_OAUTH_AUTHORIZATION_SERVERS", "http://127.0.0.1:2"),
        ("MCP_OAUTH_DEV_TOKENS", r#"{"dev-secret-token": "alice"}"#),
    ])
    .build()
    .unwrap_err();
    assert_eq!(err.problems()[0].setting(), "MCP_OAUTH_DEV_TOKENS", "{err}");
    assert!(!err.to_string().contains("dev-secret-token"), "{err}");
}

// What a deployment does: the key file named by MCP_OAUTH_API_KEYS_FILE, nothing in code.
#[actix_web::test]
async fn keys_configured_by_environment_alone() {
    let (key, entry) = minted("ci-bot", &["tools:call"]);
    let file = TempFile::new(&format!("# CI\n{}\n", entry.to_line()));
    let srv = Setup::new().start(|auth, resource| {
        McpOAuthBuilder::from_vars([
            ("MCP_OAUTH_RESOURCE", resource),
            ("MCP_OAUTH_AUTHORIZATION_SERVERS", auth.issuer()),
            ("MCP_OAUTH_JWKS_URI", &auth.jwks_uri()),
            ("MCP_OAUTH_API_KEYS_FILE", file.path()),
            ("MCP_OAUTH_REQUIRED_SCOPES", "tools:call"),
        ])
    });
    assert_admitted(&srv.post_mcp(&key).await);
    assert_eq!(
        principal_of(&srv, &key).await["principal"],
        "api-key:ci-bot"
    );
    assert_admitted(&srv.post_mcp(&srv.token().scope("tools:call").sign()).await);
}

// A key pasted into the file instead of its hash: the line is named, the key never shown.
#[actix_web::test]
async fn a_bad_key_file_names_its_lines_and_never_shows_a_key() {
    let (good, entry) = minted("ci-bot", &[]);
    let pasted = ApiKey::generate(mcp_oauth::DEFAULT_API_KEY_PREFIX);
    let file = TempFile::new(&format!(
        "{}\n\n{{\"principal\":\"ops\",\"sha256\":\"{pasted}\"}}\n{{\"principal\":\"x\",\"key\":\"{pasted}\"}}\n",
        entry.to_line()
    ));
    let auth = TestAuthServer::start();
    let err = McpOAuthBuilder::from_vars([
        ("MCP_OAUTH_RESOURCE", "http://127.0.0.1:1/mcp"),
        ("MCP_OAUTH_AUTHORIZATION_SERVERS", auth.issuer()),
        ("MCP_OAUTH_API_KEYS_FILE", file.path()),
        ("MCP_OAUTH_API_KEY_PREFIX", "eyJ"),
    ])
    .build()
    .unwrap_err();
    let text = err.to_string();
    let lines: Vec<&str> = err.problems().iter().map(|p| p.message()).collect();
    assert!(
        lines[0].starts_with("line 3: `sha256` must be 64 hexadecimal digits"),
        "{text}"
    );
    assert!(lines[1].starts_with("line 4: "), "{text}");
    assert!(text.contains("MCP_OAUTH_API_KEY_PREFIX"), "{text}");
    assert!(!text.contains(&pasted) && !text.contains(&good), "{text}");
}
