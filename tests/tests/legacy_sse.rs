//! The legacy MCP HTTP+SSE transport (2024-11-05) of the examples
//! (`examples/examples/common/legacy_sse.rs`, included below) behind mcp-oauth: a raw SSE
//! client (awc) against `GET /sse` + `POST /message`, with tokens from the loopback
//! `TestAuthServer`.
//!
//! Each test runs in its own actix system, as in `mcp_e2e.rs`.

#![allow(clippy::unwrap_used)]

#[path = "../../examples/examples/common/legacy_sse.rs"]
mod legacy_sse;

use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::web::Bytes;
use actix_web::{App, HttpServer};
use futures_util::StreamExt as _;
use futures_util::stream::LocalBoxStream;
use legacy_sse::{LegacySse, MESSAGE_PATH, SSE_PATH};
use mcp_oauth::McpOAuthBuilder;
use mcp_oauth::testing::TestAuthServer;
use serde_json::{Value, json};

mod support;

use support::Tools;

/// An authorization server, and an MCP server whose resource is its origin,
/// `http://127.0.0.1:<port>` (scope `mcp:tools` required), serving the legacy transport at
/// `/sse` + `/message`: the resource a server offering both transports uses (the module
/// docs of `legacy_sse` say why).
struct Servers {
    auth: TestAuthServer,
    base: String,
    resource: String,
    handle: ServerHandle,
}

impl Servers {
    fn start() -> Self {
        Self::start_with(|b| b, |l| l)
    }

    /// With the middleware and the adapter configured further (after the test's short
    /// keep-alive).
    fn start_with(
        configure: impl FnOnce(McpOAuthBuilder) -> McpOAuthBuilder,
        legacy: impl FnOnce(LegacySse<Tools>) -> LegacySse<Tools>,
    ) -> Self {
        let auth = TestAuthServer::start();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let resource = base.clone();
        let oauth = configure(auth.configure(&resource).required_scopes(["mcp:tools"]))
            .build()
            .unwrap();
        // A short keep-alive, so a closed connection is noticed quickly.
        let legacy = legacy(LegacySse::new(|| Tools).keep_alive(Duration::from_millis(100)));
        let server =
            HttpServer::new(move || App::new().wrap(oauth.clone()).service(legacy.services()))
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
            base,
            resource,
            handle,
        }
    }

    /// A token for this resource, for `sub`, with `scope`.
    fn token(&self, sub: &str, scope: &str) -> String {
        self.auth
            .token()
            .audience(&self.resource)
            .subject(sub)
            .client_id("sse-client")
            .scope(scope)
            .sign()
    }

    fn metadata_url(&self) -> String {
        format!("{}/.well-known/oauth-protected-resource", self.base)
    }

    /// `GET /sse`, as it comes.
    async fn get_sse(&self, token: Option<&str>) -> SseResponse {
        let mut req = awc::Client::default()
            .get(format!("{}{SSE_PATH}", self.base))
            .insert_header(("accept", "text/event-stream"));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.unwrap();
        SseResponse {
            status: res.status().as_u16(),
            headers: res.headers().clone(),
            body: res.boxed_local(),
        }
    }

    /// Opens the event stream and reads its `endpoint` event.
    async fn open(&self, token: &str) -> Sse {
        let res = self.get_sse(Some(token)).await;
        assert_eq!(res.status, 200);
        let content_type = res.headers.get("content-type").unwrap().to_str().unwrap();
        assert!(
            content_type.starts_with("text/event-stream"),
            "{content_type}"
        );
        let mut sse = Sse {
            body: res.body,
            buf: Vec::new(),
            endpoint: String::new(),
        };
        let first = sse.event().await;
        assert_eq!(first.event, "endpoint");
        let id = first
            .data
            .strip_prefix("/message?sessionId=")
            .unwrap_or_else(|| panic!("unexpected endpoint {:?}", first.data));
        assert!(
            id.len() >= 32 && id.bytes().all(|b| b.is_ascii_hexdigit()),
            "session id of 16+ random bytes expected: {id}"
        );
        sse.endpoint = format!("{}{}", self.base, first.data);
        sse
    }

    /// `POST` a raw body to `url` (`/message?...`): the status, the headers' challenge and
    /// the body as JSON (`Null` when empty or not JSON).
    async fn post_raw(&self, url: &str, token: Option<&str>, body: &str) -> Reply {
        // Longer than the adapter's wait for room in a busy session (5 s): its 503 is an
        // answer to see, not a client timeout.
        let mut req = awc::Client::builder()
            .timeout(Duration::from_secs(30))
            .finish()
            .post(url)
            .insert_header(("content-type", "application/json"));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let mut res = req.send_body(body.to_owned()).await.unwrap();
        let challenge = res
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap().to_owned());
        let bytes = res.body().await.unwrap();
        Reply {
            status: res.status().as_u16(),
            challenge,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        }
    }

    async fn post(&self, url: &str, token: Option<&str>, message: Value) -> Reply {
        self.post_raw(url, token, &message.to_string()).await
    }

    async fn stop(self) {
        self.handle.stop(false).await;
    }
}

type LocalBoxStreamBody = LocalBoxStream<'static, Result<Bytes, awc::error::PayloadError>>;

/// The answer to `GET /sse`, its body unread.
struct SseResponse {
    status: u16,
    headers: awc::http::header::HeaderMap,
    body: LocalBoxStreamBody,
}

impl SseResponse {
    /// The whole body (a refusal's), as JSON.
    async fn json(mut self) -> Value {
        let mut bytes = Vec::new();
        while let Some(chunk) = self.body.next().await {
            bytes.extend_from_slice(&chunk.unwrap());
        }
        serde_json::from_slice(&bytes).unwrap()
    }
}

/// The answer to a POST.
#[derive(Debug)]
struct Reply {
    status: u16,
    challenge: Option<String>,
    body: Value,
}

/// One server-sent event.
#[derive(Debug)]
struct Event {
    event: String,
    data: String,
}

/// A minimal SSE reader: events are split on blank lines; comments (keep-alives) skipped.
struct Sse {
    body: LocalBoxStreamBody,
    buf: Vec<u8>,
    /// The absolute `/message?sessionId=…` URL of this session.
    endpoint: String,
}

impl Sse {
    /// The next event within `wait`, or `None` (nothing came, or the stream ended).
    async fn next_within(&mut self, wait: Duration) -> Option<Event> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            while let Some(end) = self.buf.windows(2).position(|w| w == b"\n\n") {
                let block: Vec<u8> = self.buf.drain(..end + 2).collect();
                let block = String::from_utf8(block).unwrap();
                let mut event = Event {
                    event: "message".to_owned(),
                    data: String::new(),
                };
                let mut fields = 0;
                for line in block
                    .lines()
                    .filter(|l| !l.is_empty() && !l.starts_with(':'))
                {
                    let (name, value) = line.split_once(':').unwrap_or((line, ""));
                    let value = value.strip_prefix(' ').unwrap_or(value);
                    match name {
                        "event" => event.event = value.to_owned(),
                        "data" if event.data.is_empty() => event.data = value.to_owned(),
                        "data" => event.data = format!("{}\n{value}", event.data),
                        _ => {}
                    }
                    fields += 1;
                }
                if fields > 0 {
                    return Some(event);
                }
            }
            match tokio::time::timeout_at(deadline, self.body.next()).await {
                Ok(Some(Ok(chunk))) => self.buf.extend_from_slice(&chunk),
                Ok(Some(Err(err))) => panic!("event stream failed: {err}"),
                Ok(None) | Err(_) => return None,
            }
        }
    }

    /// Whether the stream ends within `wait`, whatever comes before its end (events and
    /// keep-alives are read and dropped).
    async fn ends_within(&mut self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.body.next()).await {
                Ok(Some(Ok(_chunk))) => {}
                Ok(Some(Err(err))) => panic!("event stream failed: {err}"),
                Ok(None) => return true,
                Err(_elapsed) => return false,
            }
        }
    }

    async fn event(&mut self) -> Event {
        self.next_within(Duration::from_secs(10))
            .await
            .expect("an event on the stream")
    }

    /// The next `message` event, as JSON.
    async fn message(&mut self) -> Value {
        let event = self.event().await;
        assert_eq!(event.event, "message", "{event:?}");
        serde_json::from_str(&event.data).unwrap()
    }

    /// POSTs `body` to this session with `token`, expects 202, and returns the next
    /// message on the stream.
    async fn ask(&mut self, servers: &Servers, token: &str, body: Value) -> Value {
        let reply = servers
            .post(&self.endpoint.clone(), Some(token), body)
            .await;
        assert_eq!(reply.status, 202, "{reply:?}");
        self.message().await
    }

    /// Nothing but keep-alives for a while.
    async fn assert_quiet(&mut self) {
        if let Some(event) = self.next_within(Duration::from_millis(500)).await {
            panic!("no event expected, got {event:?}");
        }
    }

    /// `initialize` (2024-11-05) and `notifications/initialized`.
    async fn initialize(&mut self, servers: &Servers, token: &str) {
        let reply = servers
            .post(
                &self.endpoint.clone(),
                Some(token),
                json!({
                    "jsonrpc": "2.0", "id": 1, "method": "initialize",
                    "params": {
                        "protocolVersion": "2024-11-05",
                        "capabilities": {},
                        "clientInfo": {"name": "awc-sse", "version": "1"}
                    }
                }),
            )
            .await;
        assert_eq!(reply.status, 202, "{reply:?}");
        let result = self.message().await;
        assert_eq!(result["id"], 1, "{result}");
        assert_eq!(
            result["result"]["protocolVersion"], "2024-11-05",
            "{result}"
        );
        assert!(
            result["result"]["capabilities"]["tools"].is_object(),
            "{result}"
        );

        let reply = servers
            .post(
                &self.endpoint.clone(),
                Some(token),
                json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
            )
            .await;
        assert_eq!(reply.status, 202, "{reply:?}");
    }
}

fn call(id: u64, name: &str, arguments: Value) -> Value {
    json!({
        "jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {"name": name, "arguments": arguments}
    })
}

fn assert_resource_metadata_challenge(servers: &Servers, challenge: Option<&str>) {
    let challenge = challenge.expect("a WWW-Authenticate challenge");
    assert!(challenge.starts_with("Bearer "), "{challenge}");
    assert!(
        challenge.contains(&format!("resource_metadata=\"{}\"", servers.metadata_url())),
        "{challenge}"
    );
}

#[actix_web::test]
async fn without_a_token_both_endpoints_answer_401_pointing_to_the_metadata() {
    let servers = Servers::start();

    let res = servers.get_sse(None).await;
    assert_eq!(res.status, 401);
    let challenge = res
        .headers
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    assert_resource_metadata_challenge(&servers, challenge.as_deref());

    let url = format!("{}{MESSAGE_PATH}?sessionId=abc", servers.base);
    let reply = servers
        .post(
            &url,
            None,
            json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}),
        )
        .await;
    assert_eq!(reply.status, 401, "{reply:?}");
    assert_resource_metadata_challenge(&servers, reply.challenge.as_deref());
    servers.stop().await;
}

#[actix_web::test]
async fn with_a_token_a_session_initializes_lists_the_tools_and_whoami_names_the_caller() {
    let servers = Servers::start();
    let token = servers.token("alice", "mcp:tools");
    let mut sse = servers.open(&token).await;

    sse.initialize(&servers, &token).await;

    let listed = sse
        .ask(
            &servers,
            &token,
            json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
        )
        .await;
    assert_eq!(listed["id"], 2, "{listed}");
    let mut names: Vec<&str> = listed["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["delete_note", "echo", "whoami"]);

    let whoami = sse
        .ask(&servers, &token, call(3, "whoami", json!({})))
        .await;
    assert_eq!(whoami["id"], 3, "{whoami}");
    assert_eq!(
        whoami["result"]["structuredContent"],
        json!({"subject": "alice", "client_id": "sse-client", "scopes": ["mcp:tools"]})
    );

    // The tool sees the caller of each POST, not of the GET: the same principal with a
    // new token (more scopes) is seen with that token's scopes.
    let wider = servers.token("alice", "mcp:tools files:read");
    let whoami = sse
        .ask(&servers, &wider, call(4, "whoami", json!({})))
        .await;
    assert_eq!(whoami["id"], 4, "{whoami}");
    assert_eq!(
        whoami["result"]["structuredContent"]["scopes"],
        json!(["mcp:tools", "files:read"])
    );
    servers.stop().await;
}

#[actix_web::test]
async fn a_batch_is_forwarded_and_every_answer_comes_on_the_stream() {
    let servers = Servers::start();
    let token = servers.token("alice", "mcp:tools");
    let mut sse = servers.open(&token).await;
    sse.initialize(&servers, &token).await;

    let reply = servers
        .post(
            &sse.endpoint,
            Some(&token),
            json!([
                {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
                call(3, "echo", json!({"message": "over SSE"})),
            ]),
        )
        .await;
    assert_eq!(reply.status, 202, "{reply:?}");
    let mut answers = [sse.message().await, sse.message().await];
    answers.sort_by_key(|a| a["id"].as_u64());
    assert!(answers[0]["result"]["tools"].is_array(), "{}", answers[0]);
    assert_eq!(
        answers[1]["result"]["content"][0]["text"], "over SSE",
        "{}",
        answers[1]
    );
    servers.stop().await;
}

// MCP Security Best Practices §Session Hijacking: a session is bound to the principal that
// created it.
#[actix_web::test]
async fn another_principal_posting_to_a_session_gets_404_and_nothing_reaches_it() {
    let servers = Servers::start();
    let alice = servers.token("alice", "mcp:tools");
    let bob = servers.token("bob", "mcp:tools");
    let mut sse = servers.open(&alice).await;
    sse.initialize(&servers, &alice).await;

    let stolen = servers
        .post(&sse.endpoint, Some(&bob), call(2, "whoami", json!({})))
        .await;
    assert_eq!(stolen.status, 404, "{stolen:?}");
    // Exactly what an unknown session gets: nothing tells bob the session exists.
    let unknown_url = format!(
        "{}{MESSAGE_PATH}?sessionId={}",
        servers.base,
        "0".repeat(64)
    );
    let unknown = servers
        .post(&unknown_url, Some(&bob), call(2, "whoami", json!({})))
        .await;
    assert_eq!(unknown.status, 404, "{unknown:?}");
    assert_eq!(stolen.body, unknown.body);
    assert_eq!(
        stolen.body,
        json!({"error": "session_not_found", "error_description": "No such MCP session"})
    );
    sse.assert_quiet().await;

    // Alice's session is unharmed.
    let whoami = sse
        .ask(&servers, &alice, call(3, "whoami", json!({})))
        .await;
    assert_eq!(whoami["id"], 3, "{whoami}");
    assert_eq!(whoami["result"]["structuredContent"]["subject"], "alice");
    servers.stop().await;
}

#[actix_web::test]
async fn a_session_id_never_authenticates() {
    let servers = Servers::start();
    let token = servers.token("alice", "mcp:tools");
    let mut sse = servers.open(&token).await;
    sse.initialize(&servers, &token).await;

    let reply = servers
        .post(&sse.endpoint, None, call(2, "whoami", json!({})))
        .await;
    assert_eq!(reply.status, 401, "{reply:?}");
    assert_resource_metadata_challenge(&servers, reply.challenge.as_deref());
    sse.assert_quiet().await;
    servers.stop().await;
}

#[actix_web::test]
async fn an_unknown_or_missing_session_id_and_a_body_that_is_not_json_rpc_are_refused() {
    let servers = Servers::start();
    let token = servers.token("alice", "mcp:tools");

    let unknown = format!("{}{MESSAGE_PATH}?sessionId=does-not-exist", servers.base);
    let reply = servers
        .post(
            &unknown,
            Some(&token),
            json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}),
        )
        .await;
    assert_eq!(reply.status, 404, "{reply:?}");
    assert_eq!(reply.body["error"], "session_not_found");

    let missing = format!("{}{MESSAGE_PATH}", servers.base);
    let reply = servers
        .post(
            &missing,
            Some(&token),
            json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}),
        )
        .await;
    assert_eq!(reply.status, 400, "{reply:?}");

    let mut sse = servers.open(&token).await;
    for body in [
        "not json",
        r#"{"jsonrpc":"2.0"}"#,
        r#"{"id":1,"method":"ping"}"#,
        "[]",
    ] {
        let reply = servers.post_raw(&sse.endpoint, Some(&token), body).await;
        assert_eq!(reply.status, 400, "{body}: {reply:?}");
        assert_eq!(reply.body["error"], "invalid_request", "{body}");
    }
    sse.assert_quiet().await;
    servers.stop().await;
}

#[actix_web::test]
async fn the_middleware_applies_the_tool_scope_policy_to_message_bodies() {
    let servers = Servers::start_with(|b| b.require_scope_for_tool("echo", ["echo:call"]), |l| l);
    let token = servers.token("alice", "mcp:tools");
    let mut sse = servers.open(&token).await;
    sse.initialize(&servers, &token).await;

    let reply = servers
        .post(
            &sse.endpoint,
            Some(&token),
            call(2, "echo", json!({"message": "hi"})),
        )
        .await;
    assert_eq!(reply.status, 403, "{reply:?}");
    let challenge = reply.challenge.unwrap();
    assert!(
        challenge.contains("error=\"insufficient_scope\""),
        "{challenge}"
    );
    assert!(challenge.contains("echo:call"), "{challenge}");
    sse.assert_quiet().await;

    // Same principal, stepped-up token: the same session runs the tool.
    let stepped_up = servers.token("alice", "mcp:tools echo:call");
    let echoed = sse
        .ask(
            &servers,
            &stepped_up,
            call(3, "echo", json!({"message": "hi"})),
        )
        .await;
    assert_eq!(echoed["result"]["content"][0]["text"], "hi", "{echoed}");
    servers.stop().await;
}

#[actix_web::test]
async fn sessions_are_bounded_and_a_closed_stream_frees_its_session() {
    let servers = Servers::start_with(|b| b, |l| l.max_sessions(1));
    let token = servers.token("alice", "mcp:tools");
    let sse = servers.open(&token).await;
    let endpoint = sse.endpoint.clone();

    let refused = servers.get_sse(Some(&token)).await;
    assert_eq!(refused.status, 503);
    assert!(refused.headers.contains_key("retry-after"));
    drop(refused);

    // The client goes away: the session ends (its id is unknown) and its slot is free.
    drop(sse);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let res = servers.get_sse(Some(&token)).await;
        if res.status == 200 {
            break;
        }
        assert_eq!(res.status, 503);
        assert!(
            tokio::time::Instant::now() < deadline,
            "the closed stream's session was never freed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let reply = servers
        .post(
            &endpoint,
            Some(&token),
            json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}),
        )
        .await;
    assert_eq!(reply.status, 404, "{reply:?}");
    servers.stop().await;
}

#[actix_web::test]
async fn streams_are_bounded_per_principal_with_a_429_and_a_closed_stream_frees_its_slot() {
    let servers = Servers::start_with(|b| b, |l| l.max_streams_per_principal(2));
    let alice = servers.token("alice", "mcp:tools");
    let first = servers.open(&alice).await;
    let _second = servers.open(&alice).await;

    // A third stream, with this token or another of the same principal: 429, JSON body.
    let other_token = servers.token("alice", "mcp:tools files:read");
    for token in [&alice, &other_token] {
        let refused = servers.get_sse(Some(token)).await;
        assert_eq!(refused.status, 429);
        assert!(refused.headers.contains_key("retry-after"));
        let content_type = refused
            .headers
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap();
        assert!(
            content_type.starts_with("application/json"),
            "{content_type}"
        );
        assert_eq!(
            refused.json().await,
            json!({
                "error": "too_many_streams",
                "error_description": "Too many open event streams for this caller: close one first"
            })
        );
    }

    // Another principal is not limited by alice's streams.
    let bob = servers.token("bob", "mcp:tools");
    let mut bobs = servers.open(&bob).await;
    bobs.initialize(&servers, &bob).await;

    // Alice closes one: her slot comes back once the server notices.
    drop(first);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let res = servers.get_sse(Some(&alice)).await;
        if res.status == 200 {
            break;
        }
        assert_eq!(res.status, 429);
        assert!(
            tokio::time::Instant::now() < deadline,
            "the closed stream's slot was never freed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    servers.stop().await;
}

#[actix_web::test]
async fn a_reader_that_falls_too_far_behind_is_dropped_instead_of_blocking_its_session() {
    let servers = Servers::start_with(|b| b, |l| l.max_backlog(4));
    let token = servers.token("alice", "mcp:tools");
    let mut sse = servers.open(&token).await;
    sse.initialize(&servers, &token).await;

    // From here on the client reads nothing. Each answer is 1 MiB: once the socket
    // buffers are full, answers queue for the stream, and the fifth one waiting ends the
    // session. Before that, every POST is accepted at once.
    let message = "x".repeat(1 << 20);
    let mut accepted = 0;
    loop {
        let reply = servers
            .post(
                &sse.endpoint,
                Some(&token),
                call(accepted + 2, "echo", json!({"message": message})),
            )
            .await;
        match reply.status {
            202 => accepted += 1,
            404 => {
                assert_eq!(reply.body["error"], "session_not_found", "{reply:?}");
                break;
            }
            // 503 `session_busy`: the MCP server waited for the reader, and so did the POST.
            _ => panic!("after {accepted} answers unread: {reply:?}"),
        }
        // Without a bound, rmcp sends each answer from a task of its own: the answers
        // pile up in memory and every POST is accepted.
        assert!(
            accepted < 256,
            "256 MiB of answers unread, and the session still accepts more"
        );
    }

    // The stream is closed: what was written before arrives, then its end.
    assert!(
        sse.ends_within(Duration::from_secs(60)).await,
        "the slow reader's stream was never closed"
    );
    // Its slot is free: the same caller opens a new session.
    let mut again = servers.open(&token).await;
    again.initialize(&servers, &token).await;
    servers.stop().await;
}

#[actix_web::test]
async fn a_stream_ends_when_the_token_that_opened_it_expires() {
    let servers = Servers::start();
    // Valid for a few seconds: the stream must not outlive it.
    let short = servers
        .auth
        .token()
        .audience(&servers.resource)
        .subject("alice")
        .client_id("sse-client")
        .scope("mcp:tools")
        .expires_in(Duration::from_secs(5))
        .sign();
    // A control, opened at the same time by the same principal with a long-lived token.
    let long = servers.token("alice", "mcp:tools");
    let mut expiring = servers.open(&short).await;
    expiring.initialize(&servers, &short).await;
    let mut lasting = servers.open(&long).await;
    lasting.initialize(&servers, &long).await;

    assert!(
        expiring.ends_within(Duration::from_secs(60)).await,
        "the stream outlived the token that opened it"
    );
    // Its session is gone, even for the same principal with a valid token.
    let reply = servers
        .post(
            &expiring.endpoint,
            Some(&long),
            json!({"jsonrpc": "2.0", "id": 9, "method": "ping"}),
        )
        .await;
    assert_eq!(reply.status, 404, "{reply:?}");
    // The control lives on.
    let whoami = lasting
        .ask(&servers, &long, call(3, "whoami", json!({})))
        .await;
    assert_eq!(whoami["result"]["structuredContent"]["subject"], "alice");
    servers.stop().await;
}

#[test]
fn a_resource_covers_the_sse_path_only_when_its_path_is_a_prefix_of_it() {
    // As the official MCP TypeScript SDK decides whether to authorize for `/sse`.
    for resource in [
        "https://mcp.example.com",
        "https://mcp.example.com/",
        "http://127.0.0.1:8080",
        "https://mcp.example.com?tenant=a",
        "https://mcp.example.com/sse",
        "https://mcp.example.com/sse/",
    ] {
        assert!(
            legacy_sse::resource_covers(resource, SSE_PATH),
            "{resource}"
        );
    }
    for resource in [
        "https://mcp.example.com/mcp",
        "https://mcp.example.com/ss",
        "https://mcp.example.com/sse/x",
        "https://mcp.example.com/mcp?x=/",
    ] {
        assert!(
            !legacy_sse::resource_covers(resource, SSE_PATH),
            "{resource}"
        );
    }
}
