//! The MCP 2026-07-28 standard request headers (transports §Standard Request Headers,
//! §Server Validation): once the token is valid, `Mcp-Method` / `Mcp-Name` that disagree
//! with the JSON-RPC body, are malformed, or are missing from a 2026-07-28 request are
//! refused with 400 and a JSON-RPC `-32020` error echoing the request `id`; older clients
//! need no headers. `/mcp/echo` echoes the body it received.

use mcp_oauth::McpOAuthBuilder;
use serde_json::{Value, json};

use crate::common::*;

const CALL: &str = r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"get_weather","arguments":{"name":"x"}}}"#;
const READ: &str = r#"{"jsonrpc":"2.0","id":"r-1","method":"resources/read","params":{"uri":"file:///projects/app/config.json"}}"#;
const NEW: (&str, &str) = ("MCP-Protocol-Version", "2026-07-28");
/// What a Streamable HTTP client's POST accepts (transports §Sending Messages); `call`
/// sends it unless the headers name another `Accept`.
const STREAMABLE: (&str, &str) = ("Accept", "application/json, text/event-stream");

fn policy(b: McpOAuthBuilder) -> McpOAuthBuilder {
    b.require_scope_for_method("tools/call", ["tools:call"])
}

async fn call(
    srv: &TestServer,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: &str,
) -> Reply {
    let mut req = srv
        .post("/mcp/echo")
        .insert_header(("content-type", "application/json"))
        .insert_header(STREAMABLE);
    for h in headers {
        req = req.insert_header(*h);
    }
    if let Some(t) = token {
        req = req.bearer(t);
    }
    send_body(req, body.to_owned()).await
}

/// A server with a per-method rule and a token that meets it.
fn server() -> (TestServer, String) {
    let srv = TestServer::with(policy);
    let token = srv.token().scope("tools:call").sign();
    (srv, token)
}

/// 400 with the JSON-RPC `-32020` error; returns its `id` and `message`.
fn assert_mismatch(reply: &Reply) -> (Value, String) {
    assert_eq!(reply.status, 400, "{}", reply.text());
    assert!(reply.header("www-authenticate").is_none());
    let body = reply.json();
    assert_eq!(body["jsonrpc"], "2.0");
    assert_eq!(body["error"]["code"], -32020, "{body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.starts_with("Header mismatch: "), "{message}");
    (body["id"].clone(), message.to_owned())
}

fn assert_passed(reply: &Reply, body: &str) {
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.text(), body);
}

#[actix_web::test]
async fn matching_headers_reach_the_service_intact() {
    let (srv, token) = server();
    let h = [
        NEW,
        ("Mcp-Method", "tools/call"),
        ("Mcp-Name", "get_weather"),
    ];
    assert_passed(&call(&srv, Some(&token), &h, CALL).await, CALL);
    let h = [
        NEW,
        ("Mcp-Method", "resources/read"),
        ("Mcp-Name", "file:///projects/app/config.json"),
    ];
    assert_passed(&call(&srv, Some(&token), &h, READ).await, READ);
}

#[actix_web::test]
async fn a_method_mismatch_is_400_with_the_request_id() {
    let (srv, token) = server();
    let h = [("Mcp-Method", "tools/list"), ("Mcp-Name", "get_weather")];
    let (id, message) = assert_mismatch(&call(&srv, Some(&token), &h, CALL).await);
    assert_eq!(id, json!(7));
    assert_eq!(
        message,
        "Header mismatch: Mcp-Method header value 'tools/list' does not match body value 'tools/call'"
    );
}

#[actix_web::test]
async fn a_tool_name_mismatch_is_400_worded_as_the_spec() {
    let (srv, token) = server();
    let h = [("Mcp-Method", "tools/call"), ("Mcp-Name", "foo")];
    let (_, message) = assert_mismatch(&call(&srv, Some(&token), &h, CALL).await);
    assert_eq!(
        message,
        "Header mismatch: Mcp-Name header value 'foo' does not match body value 'get_weather'"
    );
}

// `Mcp-Name` is `params.uri` for `resources/read` and `params.name` for `prompts/get`.
#[actix_web::test]
async fn a_resource_uri_or_prompt_name_mismatch_is_400() {
    let (srv, token) = server();
    let h = [
        ("Mcp-Method", "resources/read"),
        ("Mcp-Name", "file:///etc/passwd"),
    ];
    let (id, message) = assert_mismatch(&call(&srv, Some(&token), &h, READ).await);
    assert_eq!(id, json!("r-1"));
    assert!(
        message.contains("'file:///projects/app/config.json'"),
        "{message}"
    );
    let prompt = r#"{"jsonrpc":"2.0","id":3,"method":"prompts/get","params":{"name":"summary"}}"#;
    let h = [("Mcp-Method", "prompts/get"), ("Mcp-Name", "other")];
    assert_mismatch(&call(&srv, Some(&token), &h, prompt).await);
    let h = [("Mcp-Method", "prompts/get"), ("Mcp-Name", "summary")];
    assert_passed(&call(&srv, Some(&token), &h, prompt).await, prompt);
}

// §Value Encoding: `=?base64?...?=` is decoded before comparing; a bad one is malformed.
#[actix_web::test]
async fn a_base64_sentinel_is_decoded_and_a_bad_one_is_400() {
    let (srv, token) = server();
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"Hello, 世界"}}"#;
    let sentinel = |v: &'static str| [NEW, ("Mcp-Method", "tools/call"), ("Mcp-Name", v)];
    let ok = sentinel("=?base64?SGVsbG8sIOS4lueVjA==?=");
    assert_passed(&call(&srv, Some(&token), &ok, body).await, body);
    for bad in [
        "=?base64?SGVsbG8sIOS4lueVjA==",
        "=?base64?*not*base64*?=",
        "Hello",
    ] {
        assert_mismatch(&call(&srv, Some(&token), &sentinel(bad), body).await);
    }
}

// §Server Validation: a required header that is missing is refused; clients of versions
// before 2026-07-28 (or sending no version) are not required to send them.
#[actix_web::test]
async fn missing_headers_are_400_only_for_2026_07_28_clients() {
    let (srv, token) = server();
    let (id, message) = assert_mismatch(&call(&srv, Some(&token), &[NEW], CALL).await);
    assert_eq!(id, json!(7));
    assert_eq!(
        message,
        "Header mismatch: the required Mcp-Method header is missing"
    );
    let h = [NEW, ("Mcp-Method", "tools/call")];
    let (_, message) = assert_mismatch(&call(&srv, Some(&token), &h, CALL).await);
    assert_eq!(
        message,
        "Header mismatch: the required Mcp-Name header is missing"
    );
    let older = [("MCP-Protocol-Version", "2025-11-25")];
    assert_passed(&call(&srv, Some(&token), &older, CALL).await, CALL);
    assert_passed(&call(&srv, Some(&token), &[], CALL).await, CALL);
}

// §Standard Request Headers are Streamable HTTP's: a POST whose `Accept` does not list
// `text/event-stream` is not (the message endpoint of the deprecated HTTP+SSE transport,
// to which a client that negotiated 2026-07-28 sends `MCP-Protocol-Version` alone), so it
// needs no headers; the headers it does send are checked all the same.
#[actix_web::test]
async fn a_2026_07_28_post_that_is_not_streamable_http_needs_no_headers() {
    let (srv, token) = server();
    for accept in ["*/*", "application/json"] {
        let legacy = [NEW, ("Accept", accept)];
        assert_passed(&call(&srv, Some(&token), &legacy, CALL).await, CALL);
        let batch = format!("[{CALL},{CALL}]");
        assert_passed(&call(&srv, Some(&token), &legacy, &batch).await, &batch);
        let wrong = [NEW, ("Accept", accept), ("Mcp-Method", "tools/list")];
        assert_mismatch(&call(&srv, Some(&token), &wrong, CALL).await);
    }
    let case = [NEW, ("Accept", "Text/Event-Stream;q=0.9, application/json")];
    let (_, message) = assert_mismatch(&call(&srv, Some(&token), &case, CALL).await);
    assert_eq!(
        message,
        "Header mismatch: the required Mcp-Method header is missing"
    );
}

// §Sending Messages: a 2026-07-28 body is one message, which the headers mirror; an
// older client's batch with headers must agree with every element.
#[actix_web::test]
async fn a_batch_is_400_for_2026_07_28_and_checked_per_element_before() {
    let (srv, token) = server();
    let batch = format!("[{CALL},{CALL}]");
    let h = [("Mcp-Method", "tools/call"), ("Mcp-Name", "get_weather")];
    assert_passed(&call(&srv, Some(&token), &h, &batch).await, &batch);
    let (id, _) = assert_mismatch(&call(&srv, Some(&token), &[h[0], h[1], NEW], &batch).await);
    assert_eq!(id, Value::Null);
    let mixed = format!(r#"[{CALL},{{"jsonrpc":"2.0","id":8,"method":"tools/list"}}]"#);
    assert_mismatch(&call(&srv, Some(&token), &h, &mixed).await);
    assert_passed(&call(&srv, Some(&token), &[], &mixed).await, &mixed);
}

// JSON-RPC 2.0 §5: the error carries the request's id, string or number; a huge string
// id is not echoed (null).
#[actix_web::test]
async fn the_id_is_echoed_as_a_string_or_a_number() {
    let (srv, token) = server();
    let h = [("Mcp-Method", "ping")];
    for (id, echoed) in [
        (r#""abc-1""#.to_owned(), json!("abc-1")),
        ("42".to_owned(), json!(42)),
        (format!(r#""{}""#, "i".repeat(100_000)), Value::Null),
    ] {
        let body = format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/list"}}"#);
        let (got, _) = assert_mismatch(&call(&srv, Some(&token), &h, &body).await);
        assert_eq!(got, echoed);
    }
}

// The token first: an anonymous client gets the 401, whatever its headers say.
#[actix_web::test]
async fn a_tokenless_request_gets_the_401_before_any_header_check() {
    let (srv, _) = server();
    let h = [NEW, ("Mcp-Method", "tools/list")];
    let reply = call(&srv, None, &h, CALL).await;
    srv.assert_no_token(&reply);
    let forged = "not-a-token";
    assert_eq!(call(&srv, Some(forged), &h, CALL).await.status, 401);
}

// The check needs no per-method rule: the headers alone make the body read.
#[actix_web::test]
async fn without_rules_the_headers_are_still_checked() {
    let srv = TestServer::start();
    let token = srv.valid_token();
    let h = [("Mcp-Method", "tools/list")];
    assert_mismatch(&call(&srv, Some(&token), &h, CALL).await);
    assert_passed(&call(&srv, Some(&token), &[], CALL).await, CALL);
}

// The 401's scope hint reads `Mcp-Name` as the check does: a sentinel is decoded.
#[actix_web::test]
async fn a_401_hint_decodes_a_sentinel_tool_name() {
    let srv =
        TestServer::with(|b| policy(b).require_scope_for_tool("delete_file", ["files:delete"]));
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"delete_file"}}"#;
    let h = [
        ("Mcp-Method", "tools/call"),
        ("Mcp-Name", "=?base64?ZGVsZXRlX2ZpbGU=?="),
    ];
    let reply = call(&srv, None, &h, body).await;
    assert_eq!(reply.status, 401);
    assert_eq!(
        reply.challenge(),
        srv.no_token_challenge(Some("tools:call files:delete"))
    );
}

/// A 2026-07-28 `tools/call` carrying `version` in `_meta`.
fn call_at(version: &str) -> String {
    json!({"jsonrpc": "2.0", "id": 8, "method": "tools/call", "params": {
        "name": "get_weather", "arguments": {},
        "_meta": {"io.modelcontextprotocol/protocolVersion": version}}})
    .to_string()
}

// §Protocol Version Header: `MCP-Protocol-Version` MUST match the body's `_meta` version;
// a mismatch, or a Streamable HTTP POST carrying a `_meta` version without the header,
// is 400 `-32020`. Checked whenever the body is read: with rules, and without them once
// the other headers ask for it.
#[actix_web::test]
async fn the_protocol_version_header_must_match_the_body() {
    let (srv, token) = server();
    let names = [("Mcp-Method", "tools/call"), ("Mcp-Name", "get_weather")];
    let body = call_at("2026-07-28");
    let with = |version| [("MCP-Protocol-Version", version), names[0], names[1]];
    assert_passed(
        &call(&srv, Some(&token), &with("2026-07-28"), &body).await,
        &body,
    );

    let (id, message) =
        assert_mismatch(&call(&srv, Some(&token), &with("2026-09-01"), &body).await);
    assert_eq!(id, 8);
    assert_eq!(
        message,
        "Header mismatch: MCP-Protocol-Version header value '2026-09-01' does not match body value '2026-07-28'"
    );
    // An older version in the header cannot hide a 2026 body from what routes on it.
    assert_mismatch(&call(&srv, Some(&token), &with("2025-11-25"), &body).await);
    // No header at all beside a `_meta` version, on a Streamable HTTP POST.
    let (_, message) = assert_mismatch(&call(&srv, Some(&token), &names, &body).await);
    assert_eq!(
        message,
        "Header mismatch: the required MCP-Protocol-Version header is missing"
    );
    let (_, message) = assert_mismatch(&call(&srv, Some(&token), &[], &body).await);
    assert!(message.contains("MCP-Protocol-Version"), "{message}");
    // A body without the `_meta` member (an older client) needs no header.
    assert_passed(&call(&srv, Some(&token), &[], CALL).await, CALL);

    // Without rules, the other headers make the body read, and the version is compared.
    let open = TestServer::with(|b| b);
    let token = open.token().sign();
    assert_passed(
        &call(&open, Some(&token), &with("2026-07-28"), &body).await,
        &body,
    );
    assert_mismatch(&call(&open, Some(&token), &with("2026-09-01"), &body).await);
}
