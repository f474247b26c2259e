//! End to end over MCP Streamable HTTP: the official rmcp client (reqwest) against an rmcp
//! server (rmcp-actix-web) protected by mcp-oauth, with tokens from the loopback
//! `TestAuthServer`.
//!
//! Each test runs in its own actix system (`#[actix_web::test]`): the HTTP server's workers
//! run actix runtimes, where the middleware can fetch the JWKS with awc (`!Send`), and the
//! rmcp client's tokio tasks run on the test's runtime.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpServer};
use mcp_oauth::McpOAuthBuilder;
use mcp_oauth::testing::TestAuthServer;
use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::{ClientInitializeError, RoleClient, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::{
    InsufficientScopeError, StreamableHttpClientTransportConfig,
};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp_actix_web::transport::StreamableHttpService;
use serde_json::{Value, json};

mod support;

use support::Tools;

/// How the MCP endpoint answers.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Sessions, answers as `text/event-stream` (the rmcp default).
    StatefulSse,
    /// No sessions, answers as `application/json`.
    StatelessJson,
}

/// An authorization server, and an MCP server at `http://127.0.0.1:<port>/mcp` that
/// requires `mcp:tools`.
struct Servers {
    auth: TestAuthServer,
    resource: String,
    handle: ServerHandle,
}

impl Servers {
    fn start(mode: Mode) -> Self {
        Self::start_with(mode, TestAuthServer::start(), |auth, resource| {
            auth.configure(resource).required_scopes(["mcp:tools"])
        })
    }

    /// With the middleware `configure` returns for (authorization server, resource).
    fn start_with(
        mode: Mode,
        auth: TestAuthServer,
        configure: impl FnOnce(&TestAuthServer, &str) -> McpOAuthBuilder,
    ) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let resource = format!("http://{}/mcp", listener.local_addr().unwrap());
        let oauth = configure(&auth, &resource).build().unwrap();
        let mcp = StreamableHttpService::builder()
            .service_factory(Arc::new(|| Ok(Tools)))
            .session_manager(Arc::new(LocalSessionManager::default()))
            .stateful_mode(mode == Mode::StatefulSse)
            .json_response(mode == Mode::StatelessJson)
            .on_request_fn(mcp_oauth::rmcp::forward_client)
            .build();
        let server = HttpServer::new(move || {
            App::new()
                .wrap(oauth.clone())
                .service(mcp.clone().scope_with_path("/mcp"))
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(0)
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        Self {
            auth,
            resource,
            handle,
        }
    }

    /// A token for this resource with `scope`.
    fn token(&self, scope: &str) -> String {
        self.auth
            .token()
            .audience(&self.resource)
            .scope(scope)
            .sign()
    }

    fn metadata_url(&self) -> String {
        self.resource
            .replace("/mcp", "/.well-known/oauth-protected-resource/mcp")
    }

    /// Connects the rmcp client (`initialize` + `notifications/initialized`).
    async fn connect(
        &self,
        token: Option<&str>,
    ) -> Result<RunningService<RoleClient, ()>, ClientInitializeError> {
        let mut config = StreamableHttpClientTransportConfig::with_uri(self.resource.as_str());
        if let Some(token) = token {
            config = config.auth_header(token);
        }
        ().serve(StreamableHttpClientTransport::from_config(config))
            .await
    }

    async fn stop(self) {
        self.handle.stop(false).await;
    }
}

fn call(name: &'static str, arguments: Value) -> CallToolRequestParams {
    let Value::Object(arguments) = arguments else {
        panic!("tool arguments must be an object");
    };
    CallToolRequestParams::new(name).with_arguments(arguments)
}

fn text_of(result: &CallToolResult) -> &str {
    assert_eq!(
        result.content.len(),
        1,
        "one content block expected: {result:?}"
    );
    &result.content[0].as_text().expect("a text block").text
}

/// The `WWW-Authenticate` challenge of a failed `initialize`.
fn challenge_of(err: &ClientInitializeError) -> &str {
    assert!(
        err.is_authorization_required(),
        "expected an authorization error, got {err:?}"
    );
    err.auth_challenge().expect("a WWW-Authenticate challenge")
}

/// The step-up error in `error`'s chain of causes. The rmcp client makes an
/// `InsufficientScopeError` only from an HTTP 403 that carries a `WWW-Authenticate`
/// challenge: a JSON-RPC error saying "insufficient_scope" (what an in-tool guard answers)
/// is a `ServiceError::McpError` instead.
fn step_up_in<'a>(
    error: &'a (dyn std::error::Error + 'static),
) -> Option<&'a InsufficientScopeError> {
    let mut cause = Some(error);
    while let Some(e) = cause {
        if let Some(found) = e.downcast_ref::<InsufficientScopeError>() {
            return Some(found);
        }
        cause = e.source();
    }
    None
}

/// The step-up error of a failed `initialize`, found in its chain of causes.
fn insufficient_scope(err: &ClientInitializeError) -> Option<&InsufficientScopeError> {
    let ClientInitializeError::TransportError { error, .. } = err else {
        return None;
    };
    step_up_in(error.error.as_ref())
}

#[actix_web::test]
async fn without_a_token_the_rmcp_client_cannot_initialize_and_is_pointed_to_the_metadata() {
    let servers = Servers::start(Mode::StatefulSse);

    let err = servers
        .connect(None)
        .await
        .expect_err("initialize must be refused");

    let challenge = challenge_of(&err);
    assert!(challenge.starts_with("Bearer "), "{challenge}");
    assert!(
        challenge.contains(&format!("resource_metadata=\"{}\"", servers.metadata_url())),
        "{challenge}"
    );
    servers.stop().await;
}

#[actix_web::test]
async fn a_raw_post_without_a_token_gets_401_with_a_resource_metadata_challenge() {
    let servers = Servers::start(Mode::StatefulSse);

    let res = awc::Client::default()
        .post(servers.resource.as_str())
        .insert_header(("content-type", "application/json"))
        .insert_header(("accept", "application/json, text/event-stream"))
        .send_json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
        .await
        .unwrap();

    assert_eq!(res.status().as_u16(), 401);
    let challenge = res
        .headers()
        .get("www-authenticate")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(
        challenge.contains(&format!("resource_metadata=\"{}\"", servers.metadata_url())),
        "{challenge}"
    );
    servers.stop().await;
}

#[actix_web::test]
async fn with_a_token_the_rmcp_client_lists_the_tools_and_calls_them_as_the_token_says() {
    let servers = Servers::start(Mode::StatefulSse);
    let token = servers
        .auth
        .token()
        .audience(&servers.resource)
        .subject("alice")
        .client_id("e2e-client")
        .scope("mcp:tools files:read")
        .sign();

    let client = servers.connect(Some(&token)).await.unwrap();

    let mut names: Vec<String> = client
        .list_all_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name.into())
        .collect();
    names.sort();
    assert_eq!(names, ["delete_note", "echo", "whoami"]);

    let echoed = client
        .call_tool(call("echo", json!({"message": "hello through OAuth"})))
        .await
        .unwrap();
    assert_eq!(text_of(&echoed), "hello through OAuth");

    let whoami = client.call_tool(call("whoami", json!({}))).await.unwrap();
    assert_eq!(
        whoami.structured_content,
        Some(
            json!({"subject": "alice", "client_id": "e2e-client", "scopes": ["mcp:tools", "files:read"]})
        )
    );

    client.cancel().await.unwrap();
    servers.stop().await;
}

#[actix_web::test]
async fn a_token_for_another_audience_is_refused() {
    let servers = Servers::start(Mode::StatefulSse);
    let token = servers
        .auth
        .token()
        .audience("http://127.0.0.1:9/another-mcp")
        .scope("mcp:tools")
        .sign();

    let err = servers
        .connect(Some(&token))
        .await
        .expect_err("initialize must be refused");

    let challenge = challenge_of(&err);
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    assert!(challenge.contains("resource_metadata="), "{challenge}");
    servers.stop().await;
}

#[actix_web::test]
async fn a_token_without_the_required_scope_is_refused_with_a_step_up_challenge() {
    let servers = Servers::start(Mode::StatefulSse);
    let token = servers.token("files:read");

    let err = servers
        .connect(Some(&token))
        .await
        .expect_err("initialize must be refused");

    // A 403 the rmcp client understands: it reads the scope to ask for.
    let step_up = insufficient_scope(&err)
        .unwrap_or_else(|| panic!("expected insufficient_scope, got {err:?}"));
    assert_eq!(step_up.required_scope.as_deref(), Some("mcp:tools"));
    let challenge = &step_up.www_authenticate_header;
    assert!(
        challenge.contains("error=\"insufficient_scope\""),
        "{challenge}"
    );
    assert!(
        challenge.contains(&format!("resource_metadata=\"{}\"", servers.metadata_url())),
        "{challenge}"
    );
    servers.stop().await;
}

#[actix_web::test]
async fn in_json_response_mode_a_tool_call_reaches_the_tool_with_the_caller() {
    let servers = Servers::start(Mode::StatelessJson);
    let token = servers.token("mcp:tools");

    // The wire format: a plain JSON body, no event stream, no session.
    let res = awc::Client::default()
        .post(servers.resource.as_str())
        .bearer_auth(&token)
        .insert_header(("accept", "application/json, text/event-stream"))
        .send_json(&json!({
            "jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "awc", "version": "1"}}
        }))
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let content_type = res.headers().get("content-type").unwrap().to_str().unwrap();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    assert!(res.headers().get("mcp-session-id").is_none());

    // And the rmcp client works against it.
    let client = servers.connect(Some(&token)).await.unwrap();
    let whoami = client.call_tool(call("whoami", json!({}))).await.unwrap();
    assert_eq!(
        whoami.structured_content,
        Some(json!({"subject": "test-user", "client_id": "test-client", "scopes": ["mcp:tools"]}))
    );

    client.cancel().await.unwrap();
    servers.stop().await;
}

/// A raw Streamable HTTP POST with an optional token and session id: the status and the
/// `Mcp-Session-Id` of the answer.
async fn raw_post(
    servers: &Servers,
    token: Option<&str>,
    session: Option<&str>,
    body: Value,
) -> (u16, Option<String>) {
    let mut req = awc::Client::default()
        .post(servers.resource.as_str())
        .insert_header(("content-type", "application/json"))
        .insert_header(("accept", "application/json, text/event-stream"));
    if let Some(t) = token {
        req = req.insert_header(("authorization", format!("Bearer {t}")));
    }
    if let Some(s) = session {
        req = req.insert_header(("mcp-session-id", s));
    }
    let res = req.send_json(&body).await.unwrap();
    let session = res
        .headers()
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (res.status().as_u16(), session)
}

// MCP Security Best Practices §Session Hijacking: a session is bound to the principal that
// created it; a session id never authenticates.
#[actix_web::test]
async fn another_principal_cannot_use_a_session_and_a_session_id_never_authenticates() {
    let servers = Servers::start(Mode::StatefulSse);
    let token_of = |sub: &str| {
        servers
            .auth
            .token()
            .audience(&servers.resource)
            .subject(sub)
            .scope("mcp:tools")
            .sign()
    };
    let (alice, mallory) = (token_of("alice"), token_of("mallory"));
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    let (status, session) = raw_post(&servers, Some(&alice), None, init).await;
    assert_eq!(status, 200);
    let session = session.expect("initialize opens a session");
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let (status, _) = raw_post(&servers, Some(&alice), Some(&session), initialized).await;
    assert_eq!(status, 202);

    let list = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"});
    // Mallory, with a valid token of her own, names Alice's session: like an unknown one.
    let (status, _) = raw_post(&servers, Some(&mallory), Some(&session), list.clone()).await;
    assert_eq!(status, 404);
    // Without a token the session id is worth nothing.
    let (status, _) = raw_post(&servers, None, Some(&session), list.clone()).await;
    assert_eq!(status, 401);
    // Alice keeps using it.
    let (status, _) = raw_post(&servers, Some(&alice), Some(&session), list).await;
    assert_eq!(status, 200);
    servers.stop().await;
}

/// A raw `tools/call` of `tool` with `token` (and the session, if any): the status and
/// the `WWW-Authenticate` header of the answer.
async fn raw_tool_call(
    servers: &Servers,
    token: &str,
    session: Option<&str>,
    tool: &str,
) -> (u16, Option<String>) {
    let mut req = awc::Client::default()
        .post(servers.resource.as_str())
        .insert_header(("authorization", format!("Bearer {token}")))
        .insert_header(("accept", "application/json, text/event-stream"));
    if let Some(s) = session {
        req = req.insert_header(("mcp-session-id", s));
    }
    let body = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
        "params": {"name": tool, "arguments": {}}});
    let res = req.send_json(&body).await.unwrap();
    let challenge = res
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (res.status().as_u16(), challenge)
}

/// Opens a session for `token` with raw requests (`initialize`, then `initialized`).
async fn raw_session(servers: &Servers, token: &str) -> String {
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    let (status, session) = raw_post(servers, Some(token), None, init).await;
    assert_eq!(status, 200);
    let session = session.expect("initialize opens a session");
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let (status, _) = raw_post(servers, Some(token), Some(&session), initialized).await;
    assert_eq!(status, 202);
    session
}

// RFC 6750 §3.1, MCP authorization §Runtime Insufficient Scope Errors: a guarded tool is
// refused with a real HTTP 403 step-up challenge in both response modes, and a wider token
// then succeeds. The HTTP status and the challenge are asserted, not words of an error
// text: the tool's own guard answers a JSON-RPC error with the same words, which must not
// pass for the 403.
#[actix_web::test]
async fn a_guarded_tool_is_a_403_step_up_then_succeeds_with_a_wider_token() {
    for mode in [Mode::StatefulSse, Mode::StatelessJson] {
        let servers = Servers::start(mode);
        // RFC 6750 §3.1, MCP authorization §Runtime Insufficient Scope Errors: the scopes
        // to ask for (required ∪ granted), where the metadata is, and why.
        let step_up = format!(
            "Bearer error=\"insufficient_scope\", scope=\"mcp:tools notes:delete\", \
             resource_metadata=\"{}\", error_description=\"Required scope missing: notes:delete\"",
            servers.metadata_url()
        );
        let narrow_token = servers.token("mcp:tools");
        let narrow = servers.connect(Some(&narrow_token)).await.unwrap();
        // Unguarded tools work with the narrow token.
        narrow
            .call_tool(call("echo", json!({"message": "hi"})))
            .await
            .unwrap();
        let err = narrow
            .call_tool(call("delete_note", json!({})))
            .await
            .expect_err("the guarded tool must be refused");
        let found =
            step_up_in(&err).unwrap_or_else(|| panic!("no HTTP 403 challenge behind {err:?}"));
        assert_eq!(found.www_authenticate_header, step_up);
        assert_eq!(err.auth_challenge(), Some(step_up.as_str()));
        narrow.cancel().await.unwrap();

        // The same over raw HTTP: the status itself.
        let session = match mode {
            Mode::StatefulSse => Some(raw_session(&servers, &narrow_token).await),
            Mode::StatelessJson => None,
        };
        let (status, challenge) =
            raw_tool_call(&servers, &narrow_token, session.as_deref(), "delete_note").await;
        assert_eq!(status, 403);
        assert_eq!(challenge.as_deref(), Some(step_up.as_str()));

        let wide = servers
            .connect(Some(&servers.token("mcp:tools notes:delete")))
            .await
            .unwrap();
        let result = wide
            .call_tool(call("delete_note", json!({})))
            .await
            .unwrap();
        assert_eq!(text_of(&result), "deleted");
        wide.cancel().await.unwrap();
        servers.stop().await;
    }
}

// The same MCP server works in all three strategies configured from the environment with
// only the resource, the issuer and (to introspect) the client credentials: everything
// else is discovered.
#[actix_web::test]
async fn the_mcp_server_works_in_every_strategy_with_only_the_issuer_configured() {
    for validation in ["jwt", "introspection", "hybrid"] {
        let auth = TestAuthServer::start();
        auth.introspection_client("mcp-resource", "introspection secret");
        let servers = Servers::start_with(Mode::StatefulSse, auth, |auth, resource| {
            let mut vars = vec![
                ("MCP_OAUTH_RESOURCE", resource.to_owned()),
                ("MCP_OAUTH_AUTHORIZATION_SERVERS", auth.issuer().to_owned()),
                ("MCP_OAUTH_REQUIRED_SCOPES", "mcp:tools".to_owned()),
                ("MCP_OAUTH_VALIDATION", validation.to_owned()),
            ];
            if validation != "jwt" {
                vars.push(("MCP_OAUTH_INTROSPECTION_CLIENT_ID", "mcp-resource".into()));
                vars.push((
                    "MCP_OAUTH_INTROSPECTION_CLIENT_SECRET",
                    "introspection secret".into(),
                ));
            }
            McpOAuthBuilder::from_vars(vars)
        });
        let builder = || {
            servers
                .auth
                .token()
                .audience(&servers.resource)
                .subject("alice")
                .scope("mcp:tools")
        };
        let tokens = match validation {
            "jwt" => vec![builder().sign()],
            "introspection" => vec![builder().opaque()],
            _ => vec![builder().sign(), builder().opaque()],
        };
        for token in tokens {
            let client = servers.connect(Some(&token)).await.unwrap();
            let echoed = client
                .call_tool(call("echo", json!({"message": validation})))
                .await
                .unwrap();
            assert_eq!(text_of(&echoed), validation);
            let whoami = client.call_tool(call("whoami", json!({}))).await.unwrap();
            assert_eq!(
                whoami.structured_content.as_ref().map(|w| &w["subject"]),
                Some(&json!("alice")),
                "{validation}"
            );
            client.cancel().await.unwrap();
        }
        let introspected = servers.auth.introspection_requests();
        let expected = if validation == "jwt" { 0 } else { 1 };
        assert_eq!(introspected, expected, "{validation}");
        servers.stop().await;
    }
}

/// A 2026-07-28 request (MCP 2026-07-28 transports §Standard Request Headers, changelog
/// "Make MCP stateless"): no `initialize` before it, no session, its version in
/// `MCP-Protocol-Version` and `_meta`, its method and name mirrored in headers. The
/// status and the JSON-RPC body of the answer.
async fn stateless_call(
    http: &awc::Client,
    servers: &Servers,
    token: Option<&str>,
    tool: &str,
) -> (u16, Value) {
    let mut req = http
        .post(servers.resource.as_str())
        .insert_header(("accept", "application/json, text/event-stream"))
        .insert_header(("mcp-protocol-version", "2026-07-28"))
        .insert_header(("mcp-method", "tools/call"))
        .insert_header(("mcp-name", tool));
    if let Some(t) = token {
        req = req.insert_header(("authorization", format!("Bearer {t}")));
    }
    let body = json!({"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": {
        "name": tool, "arguments": {"message": "hi"},
        "_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {}}}});
    let mut res = req.send_json(&body).await.unwrap();
    let status = res.status().as_u16();
    let body = res.body().await.unwrap();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

// MCP 2026-07-28 drops sessions and `initialize`: every request carries its token and is
// judged alone. Against a stateless rmcp service, with session binding on (the default),
// one request after another from different callers: each reaches the tool as its own
// caller, none needs a session, and each is refused or stepped up on its own token. One
// HTTP client, so the requests share a kept-alive connection: nothing is remembered per
// connection either.
#[actix_web::test]
async fn stateless_requests_are_each_judged_alone_on_their_own_token() {
    let servers = Servers::start(Mode::StatelessJson);
    let http = awc::Client::default();
    let alice = servers
        .auth
        .token()
        .audience(&servers.resource)
        .subject("alice")
        .scope("mcp:tools")
        .sign();
    let bob = servers
        .auth
        .token()
        .audience(&servers.resource)
        .subject("bob")
        .scope("mcp:tools notes:delete")
        .sign();
    for (token, subject) in [(&alice, "alice"), (&bob, "bob"), (&alice, "alice")] {
        let (status, body) = stateless_call(&http, &servers, Some(token), "whoami").await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["id"], 9, "{body}");
        assert_eq!(
            body["result"]["structuredContent"]["subject"], subject,
            "{body}"
        );
    }
    // The guarded tool: alice's token lacks `notes:delete` (403 step-up), bob's has it.
    let (status, _) = stateless_call(&http, &servers, Some(&alice), "delete_note").await;
    assert_eq!(status, 403);
    let (status, body) = stateless_call(&http, &servers, Some(&bob), "delete_note").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("result").is_some(), "{body}");
    // No token: 401, whatever came before.
    let (status, _) = stateless_call(&http, &servers, None, "whoami").await;
    assert_eq!(status, 401);
    servers.stop().await;
}
