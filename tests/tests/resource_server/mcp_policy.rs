//! The MCP-aware scope policy: the middleware reads JSON-RPC bodies of POSTs to the MCP
//! endpoint and refuses with an HTTP 403 step-up challenge before the MCP service runs
//! (spec-checklist items 35, 43-46). `/mcp/echo` is made an MCP endpoint so that the
//! handler echoes the body it received: proof that it is handed on intact.

use mcp_oauth::McpOAuthBuilder;

use crate::common::*;

const TOOL_CALL_DELETE: &str = r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"delete_file","arguments":{"path":"/tmp/x"}}}"#;

fn policy(b: McpOAuthBuilder) -> McpOAuthBuilder {
    b.mcp_endpoint("/mcp/echo")
        .require_scope_for_tool("delete_file", ["files:delete"])
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

// spec-checklist items 35, 44: a guarded tool without its scope is an HTTP 403 whose
// `scope` names everything this request needs.
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

// A body that is not JSON executes nothing: it is handed on untouched for the server's error.
#[actix_web::test]
async fn a_body_that_is_not_json_is_passed_on_untouched() {
    let srv = TestServer::with(policy);
    let token = srv.token().sign();
    let garbage = r#"{"method":"tools/call","params":{"name":"delete_file"}"#; // unterminated
    let reply = call(&srv, Some(&token), garbage).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.text(), garbage);
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

// spec-checklist item 27: a 401 names what *this* request needs, so the client asks for
// the right scopes up front.
#[actix_web::test]
async fn a_401_for_a_guarded_tool_call_names_its_scopes() {
    let srv = TestServer::with(|b| policy(b).required_scopes(["mcp"]));
    let reply = call(&srv, None, TOOL_CALL_DELETE).await;
    assert_eq!(reply.status, 401);
    assert_eq!(
        reply.challenge(),
        srv.no_token_challenge(Some("mcp tools:call files:delete"))
    );
    // Other requests name the global scopes only.
    let reply = call(
        &srv,
        None,
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
    )
    .await;
    assert_eq!(reply.challenge(), srv.no_token_challenge(Some("mcp")));
}

// spec-checklist item 45 (2026-07-28): scope hierarchies, opt-in.
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
}

// Only POSTs to MCP endpoints are read.
#[actix_web::test]
async fn other_paths_are_not_inspected() {
    let srv = TestServer::with(|b| b.require_scope_for_tool("delete_file", ["files:delete"]));
    let token = srv.token().sign();
    // `/mcp/echo` is not an MCP endpoint in this configuration.
    let reply = call(&srv, Some(&token), TOOL_CALL_DELETE).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.text(), TOOL_CALL_DELETE);
}

// The scopes of the policy are advertised (spec-checklist item 10), once each.
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
