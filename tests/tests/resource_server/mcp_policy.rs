//! The MCP-aware scope policy: once the token is valid, the middleware reads the JSON-RPC
//! body of every protected POST and refuses with an HTTP 403 step-up challenge before the
//! MCP service runs (OAuth 2.1 §5.2, MCP authorization §Runtime Insufficient Scope Errors).
//! `/mcp/echo` echoes the body it received: proof that it is handed on intact.

use mcp_oauth::McpOAuthBuilder;

use crate::common::*;

const TOOL_CALL_DELETE: &str = r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"delete_file","arguments":{"path":"/tmp/x"}}}"#;

fn policy(b: McpOAuthBuilder) -> McpOAuthBuilder {
    b.require_scope_for_tool("delete_file", ["files:delete"])
        .require_scope_for_method("tools/call", ["tools:call"])
}

async fn call(srv: &TestServer, token: Option<&str>, body: &str) -> Reply {
    let mut req = srv
        .post("/mcp/echo")
        .insert_header(("content-type", "application/json"));
    if let Some(t) = token {
        req = req.bearer(t);
    }
    send_body(req, body.to_owned()).await
}

// MCP authorization §Runtime Insufficient Scope Errors: a guarded tool without its scope is
// an HTTP 403 whose `scope` names everything this request needs.
#[actix_web::test]
async fn tools_call_of_a_guarded_tool_without_its_scope_is_403_before_the_service() {
    let srv = TestServer::with(policy);
    let token = srv.token().scope("tools:call").sign();
    let reply = call(&srv, Some(&token), TOOL_CALL_DELETE).await;
    assert_eq!(reply.status, 403, "{}", reply.text());
    assert_eq!(
        reply.challenge(),
        srv.insufficient_scope_challenge(
            "tools:call files:delete",
            "Required scope missing: files:delete"
        )
    );
    assert_eq!(reply.json()["error"], "insufficient_scope");
}

#[actix_web::test]
async fn with_the_tool_scope_the_body_reaches_the_service_intact() {
    let srv = TestServer::with(policy);
    let token = srv.token().scope("tools:call files:delete").sign();
    let reply = call(&srv, Some(&token), TOOL_CALL_DELETE).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.text(), TOOL_CALL_DELETE);
}

#[actix_web::test]
async fn method_scopes_apply_per_method() {
    let srv = TestServer::with(policy);
    let token = srv.token().sign();
    let list = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#;
    assert_eq!(call(&srv, Some(&token), list).await.status, 200);
    let echo_call = r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo"}}"#;
    let reply = call(&srv, Some(&token), echo_call).await;
    assert_eq!(reply.status, 403);
    assert!(
        reply.challenge().contains("scope=\"tools:call\""),
        "{}",
        reply.challenge()
    );
}

// One element of a batch is enough to need the scope.
#[actix_web::test]
async fn a_batch_needs_the_scopes_of_every_element() {
    let srv = TestServer::with(policy);
    let token = srv.token().scope("tools:call").sign();
    let batch = format!(r#"[{{"jsonrpc":"2.0","id":1,"method":"tools/list"}},{TOOL_CALL_DELETE}]"#);
    assert_eq!(call(&srv, Some(&token), &batch).await.status, 403);
    let token = srv.token().scope("tools:call files:delete").sign();
    let reply = call(&srv, Some(&token), &batch).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.text(), batch);
}

// JSON escapes resolve exactly as the MCP server (serde_json) will read them.
#[actix_web::test]
async fn escaped_method_and_tool_names_are_still_guarded() {
    let srv = TestServer::with(policy);
    let token = srv.token().scope("tools:call").sign();
    let body = r#"{"jsonrpc":"2.0","id":1,"meth\u006fd":"tools\u002fcall","params":{"name":"delete\u005ffile"}}"#;
    assert_eq!(call(&srv, Some(&token), body).await.status, 403);
}

// Whatever value of a duplicated member the server keeps, its scopes were required.
#[actix_web::test]
async fn duplicate_members_cannot_smuggle_a_guarded_call() {
    let srv = TestServer::with(policy);
    let token = srv.token().scope("tools:call").sign();
    for body in [
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","method":"tools/call","params":{"name":"delete_file"}}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","name":"delete_file"}}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"delete_file"},"params":{"name":"echo"}}"#,
    ] {
        assert_eq!(call(&srv, Some(&token), body).await.status, 403, "{body}");
    }
}

// A notification (no id) is executed too, so it is guarded the same way.
#[actix_web::test]
async fn notifications_are_guarded_like_requests() {
    let srv = TestServer::with(|b| {
        policy(b).require_scope_for_method("notifications/cancelled", ["admin"])
    });
    let token = srv.token().scope("tools:call").sign();
    let body = r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}"#;
    assert_eq!(call(&srv, Some(&token), body).await.status, 403);
}

// A body that begins like JSON and is not cannot be checked: 400 with a JSON-RPC parse
// error (JSON-RPC 2.0 §5.1), never handed on unchecked.
#[actix_web::test]
async fn a_body_that_begins_like_json_and_is_not_is_400() {
    let srv = TestServer::with(policy);
    let token = srv.token().sign();
    let garbage = r#"{"method":"tools/call","params":{"name":"delete_file"}"#; // unterminated
    let reply = call(&srv, Some(&token), garbage).await;
    assert_eq!(reply.status, 400);
    assert!(reply.header("www-authenticate").is_none());
    assert_eq!(reply.json()["jsonrpc"], "2.0");
    assert_eq!(reply.json()["error"]["code"], -32700);
    assert_eq!(reply.json()["id"], serde_json::Value::Null);
}

// A body that is not JSON at all (a form, an upload) asks the MCP server for nothing: it is
// handed on untouched, unread past its first byte.
#[actix_web::test]
async fn a_body_that_is_not_json_is_passed_on_untouched() {
    let srv = TestServer::with(|b| policy(b).max_mcp_body_bytes(16));
    let token = srv.token().sign();
    let upload = format!(
        "  plain text, far longer than the cap: {}",
        "x".repeat(100_000)
    );
    let reply = call(&srv, Some(&token), &upload).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.text(), upload);
}

// A compressed body cannot be read before the service decompresses it: 415, so a gzipped
// `tools/call` never looks like "not JSON, pass it on".
#[actix_web::test]
async fn a_compressed_body_is_415() {
    let srv = TestServer::with(policy);
    let token = srv.token().scope("tools:call files:delete").sign();
    for encoding in ["gzip", "br", "deflate", "zstd", "identity, gzip"] {
        let req = srv
            .post("/mcp/echo")
            .bearer(&token)
            .insert_header(("content-type", "application/json"))
            .insert_header(("content-encoding", encoding));
        let reply = send_body(req, TOOL_CALL_DELETE.to_owned()).await;
        assert_eq!(reply.status, 415, "{encoding}");
        assert_eq!(reply.json()["error"], "unsupported_media_type");
    }
    let req = srv
        .post("/mcp/echo")
        .bearer(&token)
        .insert_header(("content-encoding", "identity"));
    assert_eq!(
        send_body(req, TOOL_CALL_DELETE.to_owned()).await.status,
        200
    );
}

// Bounds on what one body may ask: a long batch, or many distinct names, is 400 with a
// JSON-RPC invalid-request error, before any scope lookup.
#[actix_web::test]
async fn bodies_over_the_policy_bounds_are_400() {
    let srv = TestServer::with(|b| policy(b).max_mcp_batch_len(4).max_mcp_names(8));
    let token = srv.token().scope("tools:call files:delete").sign();
    let batch = |n: usize| {
        format!(
            "[{}]",
            vec![r#"{"jsonrpc":"2.0","method":"ping"}"#; n].join(",")
        )
    };
    assert_eq!(call(&srv, Some(&token), &batch(4)).await.status, 200);
    let reply = call(&srv, Some(&token), &batch(5)).await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.json()["error"]["code"], -32600);
    let names: Vec<String> = (0..8).map(|i| format!(r#""name":"t{i}""#)).collect();
    let body = format!(
        r#"{{"method":"tools/call","params":{{{}}}}}"#,
        names.join(",")
    );
    let reply = call(&srv, Some(&token), &body).await;
    assert_eq!(reply.status, 400, "{}", reply.text());
    assert_eq!(reply.json()["error"]["code"], -32600);
    // The same name repeated is one name.
    let body = format!(
        r#"{{"method":"tools/call","params":{{{}}}}}"#,
        vec![r#""name":"echo""#; 1000].join(",")
    );
    assert_eq!(call(&srv, Some(&token), &body).await.status, 200);
}

// A body that cannot be inspected is refused rather than passed on unchecked.
#[actix_web::test]
async fn a_body_over_the_cap_is_413() {
    let srv = TestServer::with(|b| policy(b).max_mcp_body_bytes(1024));
    let token = srv.token().scope("tools:call files:delete").sign();
    let big = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"echo","arguments":{{"pad":"{}"}}}}}}"#,
        "x".repeat(2000)
    );
    let reply = call(&srv, Some(&token), &big).await;
    assert_eq!(reply.status, 413);
    assert!(reply.header("www-authenticate").is_none());
    assert_eq!(reply.json()["error"], "payload_too_large");
}

// MCP authorization §Protected Resource Metadata Discovery Requirements (`scope` on a 401):
// a 401 names what *this* request needs, so the client asks for the right scopes up front.
// No body is read before the token is valid, so what the request needs is taken from the
// MCP 2026-07-28 `Mcp-Method` / `Mcp-Name` headers when present.
#[actix_web::test]
async fn a_401_for_a_guarded_tool_call_names_its_scopes() {
    let srv = TestServer::with(|b| policy(b).required_scopes(["mcp"]));
    let announced = |method: &str, name: Option<&str>| {
        let mut req = srv
            .post("/mcp/echo")
            .insert_header(("content-type", "application/json"))
            .insert_header(("mcp-method", method.to_owned()));
        if let Some(name) = name {
            req = req.insert_header(("mcp-name", name.to_owned()));
        }
        req
    };
    let reply = send_body(
        announced("tools/call", Some("delete_file")),
        TOOL_CALL_DELETE.to_owned(),
    )
    .await;
    assert_eq!(reply.status, 401);
    assert_eq!(
        reply.challenge(),
        srv.no_token_challenge(Some("mcp tools:call files:delete"))
    );
    // Other requests name the global scopes only.
    let list = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#;
    let reply = send_body(announced("tools/list", None), list.to_owned()).await;
    assert_eq!(reply.challenge(), srv.no_token_challenge(Some("mcp")));
    // Without the headers, the body is not read: the global scopes.
    let reply = call(&srv, None, TOOL_CALL_DELETE).await;
    assert_eq!(reply.challenge(), srv.no_token_challenge(Some("mcp")));
}

// MCP 2026-07-28 authorization §Step-Up Authorization Flow: scope hierarchies, opt-in.
#[actix_web::test]
async fn a_wildcard_scope_covers_its_subtree_only_with_the_hierarchy_on() {
    let token_for = |srv: &TestServer| srv.token().scope("tools:* files:*").sign();
    let srv = TestServer::with(policy);
    assert_eq!(
        call(&srv, Some(&token_for(&srv)), TOOL_CALL_DELETE)
            .await
            .status,
        403
    );
    let srv = TestServer::with(|b| policy(b).scope_hierarchy(true));
    assert_eq!(
        call(&srv, Some(&token_for(&srv)), TOOL_CALL_DELETE)
            .await
            .status,
        200
    );
    // What is missing is named through the same rule: `tools:*` holds `tools:call`, so only
    // `files:delete` is missing.
    let token = srv.token().scope("tools:*").sign();
    let reply = call(&srv, Some(&token), TOOL_CALL_DELETE).await;
    assert_eq!(reply.status, 403);
    assert_eq!(
        reply.json()["error_description"],
        "Required scope missing: files:delete"
    );
}

// Every protected JSON POST is read, whatever its path: no endpoint has to be listed, so
// no spelling of a path reaches an MCP service unchecked.
#[actix_web::test]
async fn every_protected_json_post_is_inspected_whatever_its_path() {
    let srv = TestServer::with(|b| b.require_scope_for_tool("delete_file", ["files:delete"]));
    let token = srv.token().scope("tools:call").sign();
    // `/mcp/echo` is not listed as an MCP endpoint in this configuration.
    let reply = call(&srv, Some(&token), TOOL_CALL_DELETE).await;
    assert_eq!(reply.status, 403);
    let token = srv.token().scope("files:delete").sign();
    let reply = call(&srv, Some(&token), TOOL_CALL_DELETE).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.text(), TOOL_CALL_DELETE);
}

// The scopes of the policy are advertised (RFC 9728 §2 `scopes_supported`), once each.
#[actix_web::test]
async fn policy_scopes_are_offered_in_scopes_supported() {
    let srv = TestServer::with(|b| policy(b).required_scopes(["mcp"]));
    let reply = send(srv.get(&format!("{WELL_KNOWN}/mcp"))).await;
    let supported: Vec<String> =
        serde_json::from_value(reply.json()["scopes_supported"].clone()).unwrap();
    for s in ["mcp", "tools:call", "files:delete"] {
        assert_eq!(
            supported.iter().filter(|x| *x == s).count(),
            1,
            "{s} in {supported:?}"
        );
    }
}
