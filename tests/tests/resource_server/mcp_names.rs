//! Per-name rules beyond tools: `prompts/get` by prompt name and `resources/read` by URI
//! pattern (MCP "Prompts", "Resources"), refused with an HTTP 403 step-up before the MCP
//! service runs (MCP authorization §Runtime Insufficient Scope Errors). Resource URIs are
//! compared after RFC 3986 §6.2.2 normalisation, so no other spelling of a guarded URI
//! slips past its rule; a URI with no single reading is refused (400, JSON-RPC -32602).
//! `/mcp/echo` echoes the body it received.

use mcp_oauth::McpOAuthBuilder;

use crate::common::*;

fn rules(b: McpOAuthBuilder) -> McpOAuthBuilder {
    b.require_scope_for_resource("file:///secrets/*", ["secrets:read"])
        .require_scope_for_resource("secret://vault/token", ["vault:read"])
        .require_scope_for_prompt("incident_report", ["incidents:read"])
}

fn read(uri: &str) -> String {
    serde_json::json!({"jsonrpc": "2.0", "id": 3, "method": "resources/read", "params": {"uri": uri}})
        .to_string()
}

async fn call(srv: &TestServer, token: &str, body: &str) -> Reply {
    let req = srv
        .post("/mcp/echo")
        .insert_header(("content-type", "application/json"))
        .bearer(token);
    send_body(req, body.to_owned()).await
}

#[actix_web::test]
async fn a_resource_under_a_guarded_prefix_needs_its_scope() {
    let srv = TestServer::with(rules);
    let token = srv.token().sign();
    let reply = call(&srv, &token, &read("file:///secrets/key")).await;
    assert_eq!(reply.status, 403, "{}", reply.text());
    assert_eq!(
        reply.challenge(),
        srv.insufficient_scope_challenge("secrets:read", "Required scope missing: secrets:read")
    );
    // Outside the prefix, and the exact rule's neighbours: nothing needed.
    for uri in [
        "file:///public/readme",
        "file:///secrets",
        "secret://vault/token2",
    ] {
        let reply = call(&srv, &token, &read(uri)).await;
        assert_eq!(reply.status, 200, "{uri}: {}", reply.text());
        assert_eq!(reply.text(), read(uri));
    }
    assert_eq!(
        call(&srv, &token, &read("secret://vault/token"))
            .await
            .status,
        403
    );
    let token = srv.token().scope("secrets:read").sign();
    let reply = call(&srv, &token, &read("file:///secrets/key")).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.text(), read("file:///secrets/key"));
}

// RFC 3986 §5.2.4 dot segments, §6.2.2.2 percent-encoded unreserved characters, §6.2.2.1
// case of scheme and host, RFC 8089 §2 `localhost` as a file URI's host: each spelling names the guarded resource, so each needs the
// scope, and the body reaches the server unchanged once it is held.
#[actix_web::test]
async fn other_spellings_of_a_guarded_uri_need_the_same_scope() {
    let srv = TestServer::with(rules);
    let without = srv.token().sign();
    let with = srv.token().scope("secrets:read vault:read").sign();
    for uri in [
        "file:///public/../secrets/key",
        "file:///public/%2e%2e/secrets/key",
        "file:///public/%2E%2E/secrets/key",
        "file:///%73ecrets/key",
        "file:///./secrets/./key",
        "FILE:///secrets/key",
        "Secret://VAULT/token",
        "secret://vault/a/../token",
        "file://localhost/secrets/key",
    ] {
        let reply = call(&srv, &without, &read(uri)).await;
        assert_eq!(reply.status, 403, "{uri}: {}", reply.text());
        let reply = call(&srv, &with, &read(uri)).await;
        assert_eq!(reply.status, 200, "{uri}");
        assert_eq!(reply.text(), read(uri));
    }
}

// What servers read in different ways has no rule to match: refused whatever the token.
#[actix_web::test]
async fn a_uri_with_no_single_reading_is_400() {
    let srv = TestServer::with(rules);
    let token = srv.token().scope("secrets:read vault:read").sign();
    for uri in [
        "file:///secrets%2Fkey",
        "file:///public%2f..%2fsecrets/key",
        "file:///public\\..\\secrets\\key",
        "file:///../secrets/key",
        "file:///%2e%2e/secrets/key",
        "/secrets/key",
        "file:///secrets/%zz",
        "file://elsewhere/secrets/key",
    ] {
        let reply = call(&srv, &token, &read(uri)).await;
        assert_eq!(reply.status, 400, "{uri}: {}", reply.text());
        assert_eq!(reply.json()["error"]["code"], -32602, "{uri}");
    }
    // Without resource rules, URIs are not the middleware's business.
    let srv = TestServer::with(|b| b.require_scope_for_prompt("p", ["p"]));
    let token = srv.token().sign();
    let reply = call(&srv, &token, &read("file:///../x")).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
}

// Every rule a URI matches applies (their union), and so does the method's own rule;
// `resources/subscribe` names the resource as `resources/read` does.
#[actix_web::test]
async fn every_matching_rule_applies_and_subscribe_is_guarded_too() {
    let srv = TestServer::with(|b| {
        rules(b)
            .require_scope_for_resource("file:///*", ["files:read"])
            .require_scope_for_method("resources/read", ["resources"])
    });
    let token = srv.token().scope("secrets:read resources").sign();
    let reply = call(&srv, &token, &read("file:///secrets/key")).await;
    assert_eq!(reply.status, 403);
    assert!(
        reply
            .challenge()
            .contains(r#"scope="resources secrets:read files:read""#),
        "{}",
        reply.challenge()
    );
    let token = srv
        .token()
        .scope("secrets:read resources files:read")
        .sign();
    assert_eq!(
        call(&srv, &token, &read("file:///secrets/key"))
            .await
            .status,
        200
    );
    let subscribe = r#"{"jsonrpc":"2.0","id":4,"method":"resources/subscribe","params":{"uri":"file:///secrets/key"}}"#;
    let token = srv.token().scope("files:read").sign();
    assert_eq!(call(&srv, &token, subscribe).await.status, 403);
    // A `uri` of another method is not a resource read.
    let other = r#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"x","uri":"file:///secrets/key"}}"#;
    assert_eq!(call(&srv, &token, other).await.status, 200);
}

#[actix_web::test]
async fn a_guarded_prompt_needs_its_scope() {
    let srv = TestServer::with(rules);
    let get = |name: &str| {
        format!(r#"{{"jsonrpc":"2.0","id":6,"method":"prompts/get","params":{{"name":"{name}"}}}}"#)
    };
    let token = srv.token().sign();
    let reply = call(&srv, &token, &get("incident_report")).await;
    assert_eq!(reply.status, 403, "{}", reply.text());
    assert_eq!(
        reply.challenge(),
        srv.insufficient_scope_challenge(
            "incidents:read",
            "Required scope missing: incidents:read"
        )
    );
    assert_eq!(call(&srv, &token, &get("other")).await.status, 200);
    // A tool of the same name is another thing.
    let tool =
        r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"incident_report"}}"#;
    assert_eq!(call(&srv, &token, tool).await.status, 200);
    let token = srv.token().scope("incidents:read").sign();
    assert_eq!(
        call(&srv, &token, &get("incident_report")).await.status,
        200
    );
}

// MCP authorization §Protected Resource Metadata Discovery Requirements: the 401 names
// what the request needs, read from the MCP 2026-07-28 `Mcp-Method` / `Mcp-Name` headers
// (the body is not read before a valid token), for prompts and resources as for tools.
#[actix_web::test]
async fn a_401_names_the_scopes_the_headers_announce_for_prompts_and_resources() {
    let srv = TestServer::with(|b| rules(b).required_scopes(["mcp"]));
    let announced = |method: &str, name: &str, body: String| {
        let req = srv
            .post("/mcp/echo")
            .insert_header(("content-type", "application/json"))
            .insert_header(("mcp-method", method.to_owned()))
            .insert_header(("mcp-name", name.to_owned()));
        send_body(req, body)
    };
    let reply = announced(
        "resources/read",
        "file:///public/../secrets/key",
        read("file:///public/../secrets/key"),
    )
    .await;
    assert_eq!(reply.status, 401);
    assert_eq!(
        reply.challenge(),
        srv.no_token_challenge(Some("mcp secrets:read"))
    );
    let body =
        r#"{"jsonrpc":"2.0","id":1,"method":"prompts/get","params":{"name":"incident_report"}}"#;
    let reply = announced("prompts/get", "incident_report", body.to_owned()).await;
    assert_eq!(reply.status, 401);
    assert_eq!(
        reply.challenge(),
        srv.no_token_challenge(Some("mcp incidents:read"))
    );
    // An unguarded resource, or one with no single reading: the global scopes.
    let reply = announced(
        "resources/read",
        "file:///public/a",
        read("file:///public/a"),
    )
    .await;
    assert_eq!(reply.challenge(), srv.no_token_challenge(Some("mcp")));
    let reply = announced("resources/read", "file:///a%2Fb", read("file:///a%2Fb")).await;
    assert_eq!(reply.challenge(), srv.no_token_challenge(Some("mcp")));
}

#[test]
fn bad_resource_patterns_are_configuration_errors() {
    for pattern in ["file:///*/key", "no-scheme/*", "file:///a%2Fb"] {
        let err = mcp_oauth::McpOAuth::builder()
            .resource("https://mcp.example.com/mcp")
            .authorization_server("https://auth.example.com")
            .jwks_uri("https://auth.example.com/jwks")
            .require_scope_for_resource(pattern, ["s"])
            .build()
            .unwrap_err();
        let settings: Vec<_> = err.problems().iter().map(|p| p.setting()).collect();
        assert_eq!(settings, ["require_scope_for_resource"], "{pattern}: {err}");
    }
}

// RFC 9728 §2 `scopes_supported`: the prompt and resource rules' scopes are offered.
#[actix_web::test]
async fn prompt_and_resource_scopes_are_offered_in_scopes_supported() {
    let srv = TestServer::with(rules);
    let reply = send(srv.get(&format!("{WELL_KNOWN}/mcp"))).await;
    let supported = reply.json()["scopes_supported"].clone();
    for s in ["secrets:read", "vault:read", "incidents:read"] {
        assert!(
            supported.as_array().unwrap().iter().any(|x| x == s),
            "{s} in {supported}"
        );
    }
}
