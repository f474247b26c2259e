//! Attacks on the middleware, each run against real servers on 127.0.0.1: the examples'
//! rmcp MCP server (`ExampleServer`, from `examples/examples/common/`, whose `echo` needs
//! `tools:call` by `#[require_scope]`; here `whoami` also needs `whoami:read`, by
//! `require_scope_for_tool`) served over Streamable HTTP at `/mcp` and over the legacy
//! HTTP+SSE transport at `/sse` + `/message`, behind `McpOAuth`, with tokens from the
//! loopback `TestAuthServer`. Requests are written byte for byte on a TCP stream, so the
//! exact request target, headers and a body's pace are the attacker's.
//!
//! The binary installs one global `tracing` subscriber that captures every event of every
//! thread (TRACE and up); every token a test sends is recorded, and no recorded token may
//! appear in a captured line (checked at the end of each test, and by
//! `no_token_reaches_the_logs`).
//!
//! Memory is read from the process itself (`/proc/self/status`: the servers run
//! in-process), so the test that measures it runs alone: it holds [`EXCLUSIVE`] for
//! writing, every other test holds it for reading.

#![allow(clippy::unwrap_used)]

#[path = "../../examples/examples/common/mod.rs"]
#[allow(dead_code)]
mod example;

#[path = "resource_server/common.rs"]
#[allow(dead_code)]
mod common;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::ServerHandle;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::{Condition, Next, NormalizePath, from_fn};
use actix_web::rt::net::TcpStream;
use actix_web::{App, HttpMessage as _, HttpServer};
use common::assert_unique_params;
use example::ExampleServer;
use example::legacy_sse::LegacySse;
use futures_util::StreamExt as _;
use mcp_oauth::testing::{TestAuthServer, TokenBuilder};
use mcp_oauth::{McpOAuth, McpOAuthBuilder};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp_actix_web::transport::StreamableHttpService;
use serde_json::{Value, json};
use tokio::sync::RwLock;

/// Held for writing by the test that measures the process's memory, for reading by all
/// others: nothing else runs while memory is measured.
static EXCLUSIVE: RwLock<()> = RwLock::const_new(());

/// What `echo` sends back in these tests: seeing it in an answer means the tool ran.
const MARK: &str = "abuse-echo-ran";

/// The scopes of the server's policy: every request needs `mcp:tools`; `echo` needs
/// `tools:call` (`#[require_scope]` in the example), `whoami` needs `whoami:read`
/// (`require_scope_for_tool`).
const GLOBAL: &str = "mcp:tools";
const ALL_SCOPES: &str = "mcp:tools tools:call whoami:read";

// ---------------------------------------------------------------------------------------
// Log capture and the tokens that must never appear in it.
// ---------------------------------------------------------------------------------------

/// A `tracing` sink writing into memory in chunks of 1 MiB: the log of the whole binary
/// grows to megabytes, and one buffer doubling (and copying) itself while the memory
/// test runs would be counted as the server's.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<Vec<u8>>>>);

const CHUNK: usize = 1 << 20;

impl Capture {
    fn contents(&self) -> String {
        let chunks = self.0.lock().unwrap_or_else(|p| p.into_inner());
        String::from_utf8_lossy(&chunks.concat()).into_owned()
    }
}

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut chunks = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match chunks.last_mut() {
            Some(last) if last.len() + buf.len() <= CHUNK => last.extend_from_slice(buf),
            _ => {
                let mut chunk = Vec::with_capacity(CHUNK.max(buf.len()));
                chunk.extend_from_slice(buf);
                chunks.push(chunk);
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The captured log of the whole process: a global subscriber, installed on first use.
fn logs() -> &'static Capture {
    static LOGS: OnceLock<Capture> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = Capture::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("the only global subscriber");
        buffer
    })
}

/// Every token sent by any test of this binary.
static SECRETS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Records `token` as one that must never be logged, and returns it.
fn secret(token: String) -> String {
    SECRETS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(token.clone());
    token
}

/// Starts a test: the log capture is installed, and the memory test is not running (or,
/// with `exclusive`, nothing else is).
async fn begin(exclusive: bool) -> Guard {
    logs();
    if exclusive {
        Guard::Write(EXCLUSIVE.write().await)
    } else {
        Guard::Read(EXCLUSIVE.read().await)
    }
}

enum Guard {
    Read(#[allow(dead_code)] tokio::sync::RwLockReadGuard<'static, ()>),
    Write(#[allow(dead_code)] tokio::sync::RwLockWriteGuard<'static, ()>),
}

/// No recorded token, nor any of its dot-separated segments of 16 characters or more (a
/// JWT's payload or signature alone), appears in the log captured so far.
///
/// The log is split into words on every character a token cannot contain (tokens here are
/// base64url and `.`), so each check is a set lookup, not a scan of the whole log: the
/// floods record thousands of tokens.
fn assert_no_secret_logged() {
    let logged = logs().contents();
    let words: HashSet<&str> = logged
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .filter(|w| w.len() >= 16)
        .collect();
    let secrets = SECRETS.lock().unwrap_or_else(|p| p.into_inner()).clone();
    for (i, token) in secrets.iter().enumerate() {
        for segment in token.split('.').filter(|s| s.len() >= 16) {
            assert!(
                !words.contains(segment),
                "recorded token #{i} (or a segment of it) was logged"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// Raw HTTP/1.1 on a TCP stream.
// ---------------------------------------------------------------------------------------

/// An answer, as read from the socket.
#[derive(Debug)]
struct Raw {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Raw {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn challenge(&self) -> &str {
        self.header("www-authenticate")
            .unwrap_or_else(|| panic!("no WWW-Authenticate in {self:?}"))
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The JSON body, or the last `data:` of an event stream (rmcp's stateful answers).
    fn json(&self) -> Value {
        self.json_opt()
            .unwrap_or_else(|| panic!("not JSON: {self:?} {:?}", self.text()))
    }

    fn json_opt(&self) -> Option<Value> {
        let text = self.text();
        let is_stream = self
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/event-stream"));
        let json = match is_stream {
            true => text
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .map(str::trim)
                .rfind(|d| d.starts_with('{'))
                .unwrap_or_default()
                .to_owned(),
            false => text.clone(),
        };
        serde_json::from_str(&json).ok()
    }

    /// Everything sent back, to search for leaks and for a tool's output.
    fn everything(&self) -> String {
        let mut out = format!("{}\n", self.status);
        for (n, v) in &self.headers {
            out.push_str(&format!("{n}: {v}\n"));
        }
        out.push_str(&self.text());
        out
    }
}

async fn write_all(stream: &TcpStream, mut bytes: &[u8]) -> std::io::Result<()> {
    while !bytes.is_empty() {
        stream.writable().await?;
        match stream.try_write(bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Reads more bytes into `buf`; 0 at the end of the stream (or on a reset).
async fn read_some(stream: &TcpStream, buf: &mut Vec<u8>) -> usize {
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if stream.readable().await.is_err() {
            return 0;
        }
        match stream.try_read(&mut chunk) {
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                return n;
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(_) => return 0,
        }
    }
}

/// Reads one answer: its head, then (unless `head_only`) a body of its `Content-Length`,
/// or everything until the server closes. Panics if nothing complete arrives within
/// `wait`.
async fn read_answer(stream: &TcpStream, head_only: bool, wait: Duration) -> Raw {
    let read = async {
        let mut buf = Vec::new();
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i;
            }
            if read_some(stream, &mut buf).await == 0 {
                panic!(
                    "the connection ended before an answer: {:?}",
                    String::from_utf8_lossy(&buf)
                );
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("not an HTTP answer: {head:?}"));
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
            .collect();
        let mut body = buf[head_end + 4..].to_vec();
        let mut raw = Raw {
            status,
            headers,
            body: Vec::new(),
        };
        if head_only {
            return raw;
        }
        match raw.header("content-length").and_then(|v| v.parse().ok()) {
            Some(len) => {
                while body.len() < len && read_some(stream, &mut body).await > 0 {}
                body.truncate(len);
            }
            None => while read_some(stream, &mut body).await > 0 {},
        }
        if raw
            .header("transfer-encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
        {
            body = dechunk(&body);
        }
        raw.body = body;
        raw
    };
    tokio::time::timeout(wait, read)
        .await
        .unwrap_or_else(|_| panic!("no answer within {wait:?}"))
}

fn dechunk(mut bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = bytes.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&bytes[..eol])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next().unwrap_or("").trim(), 16).ok())
            .unwrap_or(0);
        let start = eol + 2;
        if size == 0 || start + size > bytes.len() {
            break;
        }
        out.extend_from_slice(&bytes[start..start + size]);
        bytes = &bytes[(start + size + 2).min(bytes.len())..];
    }
    out
}

/// An HTTP/1.1 request head, with `Host`, `Connection: close` and the headers given (a
/// `Content-Length` among them when there is a body).
fn head(addr: SocketAddr, method: &str, target: &str, headers: &[(&str, &str)]) -> String {
    let mut head = format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (n, v) in headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str("\r\n");
    head
}

/// Sends a whole request and reads the whole answer (30 s at most).
async fn exchange(addr: SocketAddr, head: &str, body: &[u8]) -> Raw {
    let stream = TcpStream::connect(addr).await.unwrap();
    // A server may answer (and stop reading) before the body is sent: a failed write is
    // not an answer; what the server sent is.
    if write_all(&stream, head.as_bytes()).await.is_ok() {
        let _ = write_all(&stream, body).await;
    }
    read_answer(&stream, false, Duration::from_secs(30)).await
}

// ---------------------------------------------------------------------------------------
// The servers.
// ---------------------------------------------------------------------------------------

/// Where `actix_web::middleware::NormalizePath::trim()` sits, besides the one rmcp-actix-web
/// installs in its own scope.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Normalize {
    None,
    /// Between `McpOAuth` and the router: the middleware sees the path as sent, the
    /// router the normalised one.
    Inside,
    /// Around `McpOAuth`: both see the normalised path.
    Outside,
}

/// An authorization server, and the example MCP server: Streamable HTTP at `/mcp`
/// (stateful, answers as event streams; or stateless JSON) and the legacy transport at
/// `/sse` + `/message`, all behind `McpOAuth`.
struct Server {
    auth: TestAuthServer,
    addr: SocketAddr,
    base: String,
    resource: String,
    oauth: McpOAuth,
    handle: ServerHandle,
}

impl Drop for Server {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

/// How to start a [`Server`].
struct Setup {
    /// What follows `http://127.0.0.1:<port>` in the resource.
    resource_suffix: &'static str,
    normalize: Normalize,
    stateful: bool,
    /// Decompress gzip request bodies after `McpOAuth`, before the services.
    decompress: bool,
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            resource_suffix: "/mcp",
            normalize: Normalize::None,
            stateful: true,
            decompress: false,
        }
    }
}

/// The hardening settings these tests rely on: a body must arrive within 1 s.
fn hardened(builder: McpOAuthBuilder) -> McpOAuthBuilder {
    builder.body_read_timeout(Duration::from_secs(1))
}

impl Setup {
    /// Starts with the policy above, adjusted by `configure`.
    fn start(self, configure: impl FnOnce(McpOAuthBuilder) -> McpOAuthBuilder) -> Server {
        let auth = TestAuthServer::start();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let base = format!("http://{addr}");
        let resource = format!("{base}{}", self.resource_suffix);
        let builder = auth
            .configure(&resource)
            .required_scopes([GLOBAL])
            .require_scope_for_tool("whoami", ["whoami:read"]);
        let oauth = configure(hardened(builder)).build().unwrap();
        let mcp = StreamableHttpService::builder()
            .service_factory(Arc::new(|| Ok(ExampleServer)))
            .session_manager(Arc::new(LocalSessionManager::default()))
            .stateful_mode(self.stateful)
            .json_response(!self.stateful)
            .on_request_fn(mcp_oauth::rmcp::forward_client)
            .build();
        let legacy = LegacySse::new(|| ExampleServer);
        let (normalize, decompress, app_oauth) = (self.normalize, self.decompress, oauth.clone());
        let server = HttpServer::new(move || {
            App::new()
                .wrap(Condition::new(decompress, from_fn(gunzip_bodies)))
                .wrap(Condition::new(
                    normalize == Normalize::Inside,
                    NormalizePath::trim(),
                ))
                .wrap(app_oauth.clone())
                .wrap(Condition::new(
                    normalize == Normalize::Outside,
                    NormalizePath::trim(),
                ))
                .service(mcp.clone().scope_with_path(example::MCP_PATH))
                .service(legacy.services())
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(0)
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        Server {
            auth,
            addr,
            base,
            resource,
            oauth,
            handle,
        }
    }
}

impl Server {
    /// A token builder for this resource.
    fn token(&self) -> TokenBuilder {
        self.auth.token().audience(&self.resource)
    }

    /// A valid token with the server's scope only: no tool that needs more.
    fn narrow(&self) -> String {
        secret(self.token().scope(GLOBAL).sign())
    }

    /// A valid token with every scope.
    fn full(&self) -> String {
        secret(self.token().scope(ALL_SCOPES).sign())
    }

    /// POSTs a JSON-RPC body to `target` as an MCP client does.
    async fn post(
        &self,
        target: &str,
        token: Option<&str>,
        session: Option<&str>,
        body: &[u8],
    ) -> Raw {
        let bearer = token.map(|t| format!("Bearer {t}"));
        let length = body.len().to_string();
        let mut headers = vec![
            ("Content-Type", "application/json"),
            ("Accept", "application/json, text/event-stream"),
            ("Content-Length", length.as_str()),
        ];
        if let Some(b) = &bearer {
            headers.push(("Authorization", b));
        }
        if let Some(s) = session {
            headers.push(("Mcp-Session-Id", s));
        }
        exchange(self.addr, &head(self.addr, "POST", target, &headers), body).await
    }

    /// A JSON-RPC POST to `/mcp` through a pooled HTTP client, as a flood sends them.
    fn send_mcp(&self, client: &awc::Client, token: &str, body: &str) -> awc::SendClientRequest {
        client
            .post(format!("{}/mcp", self.base))
            .insert_header(("Content-Type", "application/json"))
            .insert_header(("Accept", "application/json, text/event-stream"))
            .insert_header(("Authorization", format!("Bearer {token}")))
            .send_body(body.to_owned())
    }

    /// `initialize` and `notifications/initialized` on `/mcp`: the new session's id.
    async fn open_session(&self, token: &str) -> String {
        let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "abuse", "version": "1"}}});
        let reply = self
            .post("/mcp", Some(token), None, init.to_string().as_bytes())
            .await;
        assert_eq!(reply.status, 200, "{reply:?}");
        let session = reply
            .header("mcp-session-id")
            .expect("initialize opens a session")
            .to_owned();
        let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        let reply = self
            .post(
                "/mcp",
                Some(token),
                Some(&session),
                initialized.to_string().as_bytes(),
            )
            .await;
        assert_eq!(reply.status, 202, "{reply:?}");
        session
    }
}

/// A `tools/call` of `tool` (`echo` sends back [`MARK`]).
fn tools_call(id: u64, tool: &str) -> String {
    let arguments = match tool {
        "echo" => json!({"message": MARK}),
        _ => json!({}),
    };
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {"name": tool, "arguments": arguments}})
    .to_string()
}

/// The scope the policy requires for `tool`.
fn scope_of(tool: &str) -> &'static str {
    match tool {
        "echo" => "tools:call",
        "whoami" => "whoami:read",
        other => panic!("no scope rule for {other}"),
    }
}

/// The answer carries what a tool returns: `echo`'s message or `whoami`'s caller.
fn ran_a_tool(reply: &Raw) -> bool {
    let all = reply.everything();
    all.contains(MARK) || all.contains("structuredContent")
}

/// An HTTP 403 step-up for `tool`, before the MCP service ran.
fn assert_step_up(reply: &Raw, tool: &str, context: &str) {
    assert_eq!(reply.status, 403, "{context}: {reply:?}");
    let challenge = reply.challenge();
    assert!(
        challenge.starts_with("Bearer error=\"insufficient_scope\""),
        "{context}: {challenge}"
    );
    let scope = challenge
        .split("scope=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_default();
    assert!(
        scope.split(' ').any(|s| s == scope_of(tool)),
        "{context}: {challenge}"
    );
    assert_unique_params(challenge);
    assert!(!ran_a_tool(reply), "{context}: the tool ran: {reply:?}");
}

// ---------------------------------------------------------------------------------------
// 1. Repeated members before authentication: memory.
// ---------------------------------------------------------------------------------------

/// One message repeating `"method":"tools/call"` and `"name":""` (in `params`) `n` times
/// each, then naming `echo`: about 32 bytes per repetition. Reading every (method, name)
/// pair of it would make `n * n` operations.
fn repeated_members(n: usize) -> Vec<u8> {
    let mut body = String::from(r#"{"jsonrpc":"2.0","id":1,"#);
    body.push_str(&r#""method":"tools/call","#.repeat(n));
    body.push_str(r#""params":{"#);
    body.push_str(&r#""name":"","#.repeat(n));
    body.push_str(r#""name":"echo"}}"#);
    body.into_bytes()
}

/// A `/proc/self/status` field, in KiB.
fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"))
}

/// The largest resident set of the process while it runs: `VmHWM` once reset (Linux
/// `clear_refs` 5), and a sampler reading `VmRSS` every millisecond in case the reset is
/// not allowed.
struct PeakRss {
    hwm_reset: bool,
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    sampler: std::thread::JoinHandle<()>,
}

impl PeakRss {
    fn start() -> Self {
        let hwm_reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(status_kib("VmRSS:")));
        let sampler = {
            let (stop, peak) = (stop.clone(), peak.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    peak.fetch_max(status_kib("VmRSS:"), Ordering::Relaxed);
                    std::thread::sleep(Duration::from_millis(1));
                }
            })
        };
        Self {
            hwm_reset,
            stop,
            peak,
            sampler,
        }
    }

    /// The peak, in KiB.
    fn finish(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.sampler.join().unwrap();
        let sampled = self.peak.load(Ordering::Relaxed);
        match self.hwm_reset {
            true => sampled.max(status_kib("VmHWM:")),
            false => sampled,
        }
    }
}

/// How much the process may grow while 20 anonymous clients send 96 KB and 1 MB bodies
/// of repeated members, and two authenticated ones have theirs read: the bodies are
/// never held for an anonymous client, and an authenticated body costs its size plus
/// one entry per distinct name, so a few MiB would do; 64 MiB leaves room for the
/// allocator. Reading every (method, name) pair would make 9 * 10^6 operations of the
/// small body (hundreds of MiB) and 9 * 10^8 of the large one.
const MEMORY_BOUND_KIB: u64 = 64 * 1024;

#[actix_web::test]
async fn repeated_members_cost_an_anonymous_client_no_memory_and_bounds_answer_the_rest() {
    let _alone = begin(true).await;
    let srv = Setup::default().start(|b| b);
    let small = repeated_members(3_000);
    let large = repeated_members(30_000);
    assert!((90_000..110_000).contains(&small.len()), "{}", small.len());
    assert!(
        (900_000..1_100_000).contains(&large.len()),
        "{}",
        large.len()
    );
    let narrow = srv.narrow();
    // Warm up: the server, its first connection, the keys.
    assert_eq!(srv.post("/mcp", None, None, b"{}").await.status, 401);
    let session = srv.open_session(&narrow).await;

    let baseline = status_kib("VmRSS:");
    let peak = PeakRss::start();
    for (i, body) in std::iter::repeat_n(&small, 10)
        .chain(std::iter::repeat_n(&large, 10))
        .enumerate()
    {
        let reply = srv.post("/mcp", None, None, body).await;
        assert_eq!(reply.status, 401, "request {i}: {reply:?}");
        let challenge = reply.challenge();
        assert!(challenge.starts_with("Bearer "), "{challenge}");
        assert!(
            !challenge.contains("error="),
            "no token, no error: {challenge}"
        );
        assert!(
            challenge.contains(&format!("resource_metadata=\"{}", srv.base)),
            "{challenge}"
        );
        // Checked after each request: a reader quadratic in the body fails here on a small
        // body, before a large one exhausts the machine.
        let grown = status_kib("VmHWM:").saturating_sub(baseline);
        assert!(
            !peak.hwm_reset || grown < MEMORY_BOUND_KIB,
            "the process grew by {grown} KiB by anonymous request {i}"
        );
    }
    // A valid token without the tool's scope: the body is read, once per distinct name.
    for body in [&small, &large] {
        let reply = srv.post("/mcp", Some(&narrow), Some(&session), body).await;
        assert_step_up(&reply, "echo", "repeated members");
    }
    let grown = peak.finish().saturating_sub(baseline);
    assert!(
        grown < MEMORY_BOUND_KIB,
        "the process grew by {grown} KiB (bound {MEMORY_BOUND_KIB} KiB)"
    );

    // Distinct names past the bound (64 by default), in one message or across a batch
    // longer than its bound (32): 400 with a JSON-RPC error, and no challenge (the token
    // was fine).
    let names: Vec<String> = (0..100).map(|i| format!(r#""name":"tool-{i}""#)).collect();
    let many_names = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{{}}}}}"#,
        names.join(",")
    );
    let long_batch = format!(
        "[{}]",
        (0..33)
            .map(|i| tools_call(i, "echo"))
            .collect::<Vec<_>>()
            .join(",")
    );
    for body in [many_names, long_batch] {
        let reply = srv
            .post("/mcp", Some(&narrow), Some(&session), body.as_bytes())
            .await;
        assert_eq!(reply.status, 400, "{reply:?}");
        assert!(reply.header("www-authenticate").is_none(), "{reply:?}");
        let error = reply.json();
        assert_eq!(error["jsonrpc"], "2.0", "{error}");
        assert_eq!(error["id"], Value::Null, "{error}");
        assert_eq!(error["error"]["code"], -32600, "{error}");
        assert!(!ran_a_tool(&reply));
    }
    // Past the largest body read (`max_mcp_body_bytes`, 4 MiB by default): 413, since
    // what it asks could not be checked.
    let oversized = repeated_members(140_000);
    assert!(oversized.len() > 4 << 20, "{}", oversized.len());
    let reply = srv
        .post("/mcp", Some(&narrow), Some(&session), &oversized)
        .await;
    assert_eq!(reply.status, 413, "{reply:?}");
    assert!(!ran_a_tool(&reply));
    assert_no_secret_logged();
}

// ---------------------------------------------------------------------------------------
// 2. Spellings of a path, resources and transports that could skip the per-tool 403.
// ---------------------------------------------------------------------------------------

/// Request targets that name `/mcp`, or may be routed to it, or not.
const SPELLINGS: [&str; 11] = [
    "/mcp", "/mcp/", "/%6Dcp", "/%6dcp", "/m%63p/", "/mcp/.", "//mcp", "/mcp//", "/./mcp", "/MCP",
    "/mcp?x=1",
];

/// For every spelling: a token without a tool's scope gets the 403 step-up for `echo`
/// (guarded by `#[require_scope]`) and `whoami` (by `require_scope_for_tool`), whether or
/// not the router would have taken it to the MCP service; a token with every scope shows
/// which spellings do reach it (the returned list).
async fn assert_no_spelling_skips_the_403(srv: &Server, context: &str) -> Vec<&'static str> {
    let narrow = srv.narrow();
    let full = srv.full();
    let session = srv.open_session(&narrow).await;
    let mut reached = Vec::new();
    for target in SPELLINGS {
        for tool in ["echo", "whoami"] {
            let reply = srv
                .post(
                    target,
                    Some(&narrow),
                    Some(&session),
                    tools_call(7, tool).as_bytes(),
                )
                .await;
            assert_step_up(&reply, tool, &format!("{context} POST {target} {tool}"));
        }
        let reply = srv
            .post(
                target,
                Some(&full),
                Some(&session),
                tools_call(8, "echo").as_bytes(),
            )
            .await;
        if reply.status == 200 {
            assert!(reply.text().contains(MARK), "{context} {target}: {reply:?}");
            reached.push(target);
        }
    }
    reached
}

#[actix_web::test]
async fn no_spelling_of_the_path_skips_the_per_tool_403() {
    let _shared = begin(false).await;
    for normalize in [Normalize::None, Normalize::Inside, Normalize::Outside] {
        let srv = Setup {
            normalize,
            ..Setup::default()
        }
        .start(|b| b);
        let reached = assert_no_spelling_skips_the_403(&srv, &format!("{normalize:?}")).await;
        // Percent-encoding and a trailing slash do reach the service (the router decodes,
        // rmcp-actix-web trims): a check that compared paths would have let them by.
        for target in ["/mcp", "/mcp/", "/%6Dcp", "/mcp?x=1"] {
            assert!(reached.contains(&target), "{normalize:?}: {reached:?}");
        }
        // Merged slashes too, once normalised before the router.
        if normalize != Normalize::None {
            assert!(reached.contains(&"//mcp"), "{normalize:?}: {reached:?}");
        }
    }
    assert_no_secret_logged();
}

#[actix_web::test]
async fn a_resource_at_the_origin_or_with_a_trailing_slash_still_guards_every_tool() {
    let _shared = begin(false).await;
    for suffix in ["", "/mcp/"] {
        let srv = Setup {
            resource_suffix: suffix,
            ..Setup::default()
        }
        .start(|b| b);
        let reached = assert_no_spelling_skips_the_403(&srv, &format!("resource {suffix:?}")).await;
        assert!(reached.contains(&"/mcp"), "{reached:?}");
    }
    assert_no_secret_logged();
}

/// The legacy transport's event stream, read with awc.
struct Sse {
    body: futures_util::stream::LocalBoxStream<
        'static,
        Result<actix_web::web::Bytes, awc::error::PayloadError>,
    >,
    buf: Vec<u8>,
}

impl Sse {
    async fn open(srv: &Server, token: &str) -> (Self, String) {
        let res = awc::Client::default()
            .get(format!("{}/sse", srv.base))
            .insert_header(("Accept", "text/event-stream"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 200);
        let mut sse = Self {
            body: res.boxed_local(),
            buf: Vec::new(),
        };
        let (event, data) = sse.event().await;
        assert_eq!(event, "endpoint");
        let id = data
            .strip_prefix("/message?sessionId=")
            .unwrap_or_else(|| panic!("unexpected endpoint {data}"))
            .to_owned();
        (sse, id)
    }

    /// The next event (name, data), within 10 s.
    async fn event(&mut self) -> (String, String) {
        let next = async {
            loop {
                if let Some(end) = self.buf.windows(2).position(|w| w == b"\n\n") {
                    let block: Vec<u8> = self.buf.drain(..end + 2).collect();
                    let block = String::from_utf8(block).unwrap();
                    let (mut event, mut data) = ("message".to_owned(), String::new());
                    let mut fields = 0;
                    for line in block
                        .lines()
                        .filter(|l| !l.is_empty() && !l.starts_with(':'))
                    {
                        let (name, value) = line.split_once(':').unwrap_or((line, ""));
                        let value = value.strip_prefix(' ').unwrap_or(value).to_owned();
                        match name {
                            "event" => event = value,
                            "data" => data.push_str(&value),
                            _ => {}
                        }
                        fields += 1;
                    }
                    if fields > 0 {
                        return (event, data);
                    }
                    continue;
                }
                let chunk = self.body.next().await.expect("the stream goes on").unwrap();
                self.buf.extend_from_slice(&chunk);
            }
        };
        tokio::time::timeout(Duration::from_secs(10), next)
            .await
            .expect("an event within 10 s")
    }

    async fn message(&mut self) -> Value {
        let (event, data) = self.event().await;
        assert_eq!(event, "message", "{data}");
        serde_json::from_str(&data).unwrap()
    }
}

#[actix_web::test]
async fn the_legacy_message_endpoint_guards_tools_under_any_spelling() {
    let _shared = begin(false).await;
    // A server with both transports uses its origin as the resource.
    let srv = Setup {
        resource_suffix: "",
        ..Setup::default()
    }
    .start(|b| b);
    let narrow = srv.narrow();
    let full = srv.full();
    let (mut sse, id) = Sse::open(&srv, &narrow).await;
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2024-11-05", "capabilities": {},
        "clientInfo": {"name": "abuse", "version": "1"}}});
    let target = format!("/message?sessionId={id}");
    let reply = srv
        .post(&target, Some(&narrow), None, init.to_string().as_bytes())
        .await;
    assert_eq!(reply.status, 202, "{reply:?}");
    assert_eq!(sse.message().await["id"], 1);
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let reply = srv
        .post(
            &target,
            Some(&narrow),
            None,
            initialized.to_string().as_bytes(),
        )
        .await;
    assert_eq!(reply.status, 202, "{reply:?}");

    let spellings = [
        format!("/message?sessionId={id}"),
        format!("/messag%65?sessionId={id}"),
        format!("/%6Dessage?sessionId={id}"),
        format!("/message/?sessionId={id}"),
        format!("//message?sessionId={id}"),
    ];
    for target in &spellings {
        for tool in ["echo", "whoami"] {
            let reply = srv
                .post(target, Some(&narrow), None, tools_call(7, tool).as_bytes())
                .await;
            assert_step_up(&reply, tool, &format!("POST {target} {tool}"));
        }
    }
    // Nothing of the above reached the session: the next answer on its stream is the
    // one to this call, made with every scope through a spelling the router takes.
    let reply = srv
        .post(
            &format!("/messag%65?sessionId={id}"),
            Some(&full),
            None,
            tools_call(9, "echo").as_bytes(),
        )
        .await;
    assert_eq!(reply.status, 202, "{reply:?}");
    let answer = sse.message().await;
    assert_eq!(answer["id"], 9, "{answer}");
    assert_eq!(answer["result"]["content"][0]["text"], MARK, "{answer}");
    assert_no_secret_logged();
}

// ---------------------------------------------------------------------------------------
// 3. Bodies before authentication, and slow bodies after it.
// ---------------------------------------------------------------------------------------

#[actix_web::test]
async fn no_body_is_awaited_before_authentication_and_a_stalled_body_is_408() {
    let _shared = begin(false).await;
    let srv = Setup::default().start(|b| b);
    let stalled = |token: Option<&str>| {
        let bearer = token.map(|t| format!("Bearer {t}"));
        let mut headers = vec![
            ("Content-Type", "application/json"),
            ("Accept", "application/json, text/event-stream"),
            ("Content-Length", "4000000"),
        ];
        if let Some(b) = &bearer {
            headers.push(("Authorization", b.as_str()));
        }
        head(srv.addr, "POST", "/mcp", &headers)
    };

    // No token: 4 MB announced, a few bytes sent, and the 401 comes at once, the rest of
    // the body unsent (the wait bounds a server that would wait for it).
    let stream = TcpStream::connect(srv.addr).await.unwrap();
    write_all(&stream, stalled(None).as_bytes()).await.unwrap();
    write_all(&stream, br#"{"jsonrpc":"#).await.unwrap();
    let reply = read_answer(&stream, false, Duration::from_secs(10)).await;
    assert_eq!(reply.status, 401, "{reply:?}");
    assert!(
        reply.challenge().contains("resource_metadata="),
        "{reply:?}"
    );
    drop(stream);

    // A valid token and a JSON body that stops coming: 408 once the body read timeout
    // (1 s here) passes; the bound is the test's, not the server's.
    let token = srv.full();
    for sent in [&br#"{"jsonrpc":"2.0","#[..], b""] {
        let stream = TcpStream::connect(srv.addr).await.unwrap();
        write_all(&stream, stalled(Some(&token)).as_bytes())
            .await
            .unwrap();
        write_all(&stream, sent).await.unwrap();
        let reply = read_answer(&stream, false, Duration::from_secs(30)).await;
        assert_eq!(reply.status, 408, "{reply:?}");
        assert_eq!(reply.json()["error"], "request_timeout", "{reply:?}");
        assert!(reply.header("www-authenticate").is_none(), "{reply:?}");
    }

    // The server still serves.
    let session = srv.open_session(&token).await;
    let reply = srv
        .post(
            "/mcp",
            Some(&token),
            Some(&session),
            tools_call(2, "echo").as_bytes(),
        )
        .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert!(reply.text().contains(MARK));
    assert_no_secret_logged();
}

// ---------------------------------------------------------------------------------------
// 4. Compressed bodies.
// ---------------------------------------------------------------------------------------

/// CRC-32 of RFC 1952 §8.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// `data` as a gzip member (RFC 1952) of stored deflate blocks (RFC 1951 §3.2.4).
fn gzip(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
    let blocks: Vec<&[u8]> = data.chunks(0xffff).collect();
    for (i, block) in blocks.iter().enumerate() {
        out.push(u8::from(i + 1 == blocks.len()));
        let len = block.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    out.extend_from_slice(&crc32(data).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

/// What [`gzip`] made, decompressed (`None` for anything else).
fn gunzip(member: &[u8]) -> Option<Vec<u8>> {
    let blocks = member.strip_prefix(&[0x1f, 0x8b, 8, 0][..])?.get(6..)?;
    let (mut out, mut at) = (Vec::new(), 0);
    loop {
        let flags = *blocks.get(at)?;
        if flags & 0b110 != 0 {
            return None;
        }
        let len = usize::from(u16::from_le_bytes([
            *blocks.get(at + 1)?,
            *blocks.get(at + 2)?,
        ]));
        out.extend_from_slice(blocks.get(at + 5..at + 5 + len)?);
        at += 5 + len;
        if flags & 1 == 1 {
            break;
        }
    }
    (blocks.get(at..at + 4)? == crc32(&out).to_le_bytes()).then_some(out)
}

/// Request bodies sent with `Content-Encoding: gzip` reach the services decompressed, as
/// actix-web's extractors do with its `compress-gzip` feature (this workspace builds
/// actix-web without it): a compressed body the middleware let by unread would run.
async fn gunzip_bodies(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let gzip = req
        .headers()
        .get_all(header::CONTENT_ENCODING)
        .flat_map(|v| v.to_str().unwrap_or("").split(','))
        .any(|c| c.trim().eq_ignore_ascii_case("gzip"));
    if gzip {
        let mut payload = req.take_payload();
        let mut bytes = Vec::new();
        while let Some(chunk) = payload.next().await {
            bytes.extend_from_slice(&chunk?);
        }
        let inflated =
            gunzip(&bytes).ok_or_else(|| actix_web::error::ErrorBadRequest("not a gzip body"))?;
        let headers = req.headers_mut();
        headers.remove(header::CONTENT_ENCODING);
        headers.insert(header::CONTENT_LENGTH, inflated.len().into());
        req.set_payload(Payload::from(actix_web::web::Bytes::from(inflated)));
    }
    next.call(req).await
}

#[actix_web::test]
async fn a_compressed_tool_call_is_415_and_never_reaches_the_tool() {
    let _shared = begin(false).await;
    // Stateless: one POST is a whole tool call. The services see gzip bodies decompressed.
    let srv = Setup {
        stateful: false,
        decompress: true,
        ..Setup::default()
    }
    .start(|b| b);
    let (narrow, full) = (srv.narrow(), srv.full());
    for tool in ["whoami", "echo"] {
        let call = tools_call(3, tool);
        let compressed = gzip(call.as_bytes());
        assert_eq!(gunzip(&compressed).as_deref(), Some(call.as_bytes()));
        // What its scopes are cannot be read, whoever sends it; a server whose actix-web
        // decompresses request bodies (its default features) would run it.
        for (token, encoding) in [
            (&narrow, "gzip"),
            (&full, "gzip"),
            (&narrow, "identity, gzip"),
        ] {
            let length = compressed.len().to_string();
            let bearer = format!("Bearer {token}");
            let headers = [
                ("Content-Type", "application/json"),
                ("Accept", "application/json, text/event-stream"),
                ("Content-Encoding", encoding),
                ("Content-Length", length.as_str()),
                ("Authorization", bearer.as_str()),
            ];
            let reply = exchange(
                srv.addr,
                &head(srv.addr, "POST", "/mcp", &headers),
                &compressed,
            )
            .await;
            assert!(!ran_a_tool(&reply), "the tool ran: {reply:?}");
            assert_eq!(reply.status, 415, "{tool} {encoding}: {reply:?}");
            // Refused by the middleware, not by the service after the fact.
            assert_eq!(
                reply.json_opt().map(|j| j["error"].clone()),
                Some(json!("unsupported_media_type")),
                "{reply:?} {}",
                reply.text()
            );
        }
        // The same call, sent as it is, runs for a token with every scope.
        let reply = srv.post("/mcp", Some(&full), None, call.as_bytes()).await;
        assert_eq!(reply.status, 200, "{tool}: {reply:?}");
        assert!(ran_a_tool(&reply), "{reply:?}");
    }
    assert_no_secret_logged();
}

// ---------------------------------------------------------------------------------------
// 5. Requests dressed as CORS preflights.
// ---------------------------------------------------------------------------------------

#[actix_web::test]
async fn only_a_real_cors_preflight_passes_without_a_token() {
    let _shared = begin(false).await;
    // An allowed origin: what is tested here is the token, not the Origin check.
    let srv = Setup::default().start(|b| b.allowed_origins(["https://app.example"]));
    let call = tools_call(4, "echo");
    let length = call.len().to_string();
    let origin = ("Origin", "https://app.example");
    let method = ("Access-Control-Request-Method", "POST");
    let json = ("Content-Type", "application/json");
    let options = |headers: &[(&str, &str)]| head(srv.addr, "OPTIONS", "/mcp", headers);
    let content_length = ("Content-Length", length.as_str());
    let chunked = ("Transfer-Encoding", "chunked");
    let attempts = [
        ("no Origin", options(&[method]), &b""[..]),
        (
            "no Origin, a body",
            options(&[method, json, content_length]),
            call.as_bytes(),
        ),
        (
            "a body",
            options(&[origin, method, json, content_length]),
            call.as_bytes(),
        ),
        (
            "a chunked body",
            options(&[origin, method, json, chunked]),
            b"5\r\n{\"a\":\r\n0\r\n\r\n",
        ),
    ];
    for (what, request, body) in attempts {
        let reply = exchange(srv.addr, &request, body).await;
        assert_eq!(reply.status, 401, "{what}: {reply:?}");
        assert!(
            reply.challenge().contains("resource_metadata="),
            "{what}: {reply:?}"
        );
        assert!(!ran_a_tool(&reply), "{what}: {reply:?}");
    }
    // A real preflight (Origin, Access-Control-Request-Method, no body) carries no
    // credentials by design and is not challenged.
    let preflight = head(
        srv.addr,
        "OPTIONS",
        "/mcp",
        &[
            origin,
            method,
            ("Access-Control-Request-Headers", "authorization"),
        ],
    );
    let reply = exchange(srv.addr, &preflight, b"").await;
    assert_ne!(reply.status, 401, "{reply:?}");
    assert!(reply.header("www-authenticate").is_none(), "{reply:?}");
    assert_no_secret_logged();
}

// MCP transports §Security Warning (DNS rebinding): a page whose name now resolves to
// 127.0.0.1 sends a loopback Host and its own Origin. With a valid token it still gets
// 403, before the token is validated (no JWKS fetched, nothing cached), and no tool runs,
// on either transport.
#[actix_web::test]
async fn a_rebinding_page_cannot_call_a_tool_even_with_a_token() {
    let _shared = begin(false).await;
    // Both transports: the resource is the origin.
    let srv = Setup {
        resource_suffix: "",
        ..Setup::default()
    }
    .start(|b| b);
    let token = srv.full();
    let call = tools_call(5, "echo");
    let length = call.len().to_string();
    let bearer = format!("Bearer {token}");
    let attacker = format!("http://attacker.example:{}", srv.addr.port());
    let mut headers = vec![
        ("Authorization", bearer.as_str()),
        ("Content-Type", "application/json"),
        ("Accept", "application/json, text/event-stream"),
        ("Content-Length", length.as_str()),
    ];
    headers.push(("Origin", attacker.as_str()));
    let rebound = head(srv.addr, "POST", "/mcp", &headers);
    let reply = exchange(srv.addr, &rebound, call.as_bytes()).await;
    assert_eq!(reply.status, 403, "{reply:?}");
    assert!(!ran_a_tool(&reply), "{reply:?}");
    assert_eq!(srv.auth.jwks_requests(), 0);
    assert_eq!(srv.oauth.cache_len(), Some(0));
    // The legacy transport too: neither the stream nor a message to a live session.
    let (mut sse, id) = Sse::open(&srv, &token).await;
    let stream = head(
        srv.addr,
        "GET",
        "/sse",
        &[
            ("Authorization", bearer.as_str()),
            ("Accept", "text/event-stream"),
            ("Origin", attacker.as_str()),
        ],
    );
    let reply = exchange(srv.addr, &stream, b"").await;
    assert_eq!(reply.status, 403, "GET /sse: {reply:?}");
    let message = head(
        srv.addr,
        "POST",
        &format!("/message?sessionId={id}"),
        &headers,
    );
    let reply = exchange(srv.addr, &message, call.as_bytes()).await;
    assert_eq!(reply.status, 403, "POST /message: {reply:?}");
    // The same token from a non-browser client (no Origin) runs the tool, on both
    // transports; the refused message never reached the session (this is its first answer).
    let session = srv.open_session(&token).await;
    let reply = srv
        .post("/mcp", Some(&token), Some(&session), call.as_bytes())
        .await;
    assert!(ran_a_tool(&reply), "{reply:?}");
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2024-11-05", "capabilities": {},
        "clientInfo": {"name": "abuse", "version": "1"}}});
    let target = format!("/message?sessionId={id}");
    let reply = srv
        .post(&target, Some(&token), None, init.to_string().as_bytes())
        .await;
    assert_eq!(reply.status, 202, "{reply:?}");
    assert_eq!(sse.message().await["id"], 1);
    assert_no_secret_logged();
}

// ---------------------------------------------------------------------------------------
// 6. Floods against one server.
// ---------------------------------------------------------------------------------------

/// Cache entries at most, for the flood of valid tokens.
const CACHE_MAX: usize = 64;

#[actix_web::test]
async fn floods_cost_bounded_upstream_calls_and_cache() {
    let _shared = begin(false).await;
    let srv = Setup {
        stateful: false,
        ..Setup::default()
    }
    .start(|b| b.cache_max_entries(CACHE_MAX));
    let client = common::client();
    let post = |token: &str, body: &str| srv.send_mcp(&client, token, body);
    let call = tools_call(5, "echo");
    let res = post(&srv.full(), &call).await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(srv.auth.jwks_requests(), 1);
    assert_eq!(srv.oauth.cache_len(), Some(1));

    // 2,000 distinct garbage tokens, each with a guarded call: 401, no key fetched,
    // nothing cached, and the challenge names only the server's scope: the body of an
    // unauthenticated request is never read (it would have named `tools:call`).
    let expected = format!(
        "Bearer error=\"invalid_token\", error_description=\"The access token is malformed\", resource_metadata=\"{}\", scope=\"{GLOBAL}\"",
        srv.oauth.resource_metadata_url()
    );
    for i in 0..2_000 {
        let garbage = secret(format!("gArBaGe{i:05}x{}", "Zq9_-".repeat(8)));
        let res = post(&garbage, &call).await.unwrap();
        assert_eq!(res.status().as_u16(), 401, "garbage {i}");
        let challenge = res.headers().get("www-authenticate").unwrap();
        assert_eq!(challenge.to_str().unwrap(), expected, "garbage {i}");
    }
    assert_eq!(srv.auth.jwks_requests(), 1);
    assert_eq!(srv.oauth.cache_len(), Some(1));

    // 1,000 distinct valid tokens: served, and the cache never holds more than its bound.
    let mut max_len = 0;
    for i in 0..1_000 {
        let token = secret(
            srv.token()
                .subject(&format!("user-{i}"))
                .scope(ALL_SCOPES)
                .sign(),
        );
        let res = post(&token, &call).await.unwrap();
        assert_eq!(res.status().as_u16(), 200, "valid {i}");
        max_len = max_len.max(srv.oauth.cache_len().unwrap_or(usize::MAX));
    }
    assert!(max_len <= CACHE_MAX, "{max_len}");
    assert_eq!(srv.auth.jwks_requests(), 1);

    // 500 unknown key ids: 401, and at most one refetch of the JWKS in the cooldown
    // (30 s by default; the whole flood takes less).
    for i in 0..500 {
        let token = secret(
            srv.token()
                .scope(ALL_SCOPES)
                .kid(&format!("kid-{i}"))
                .sign(),
        );
        let res = post(&token, &call).await.unwrap();
        assert_eq!(res.status().as_u16(), 401, "kid {i}");
    }
    assert!(
        srv.auth.jwks_requests() <= 2,
        "{}",
        srv.auth.jwks_requests()
    );

    // Huge headers: a 64 KiB Authorization, and 100 of them.
    let huge = secret(format!("{}{}", srv.full(), "A".repeat(64 * 1024)));
    let bearer = format!("Bearer {huge}");
    let length = call.len().to_string();
    let one = head(
        srv.addr,
        "POST",
        "/mcp",
        &[
            ("Content-Type", "application/json"),
            ("Content-Length", length.as_str()),
            ("Authorization", bearer.as_str()),
        ],
    );
    let valid = srv.full();
    let many_bearer = format!("Bearer {valid}");
    let mut many: Vec<(&str, &str)> = vec![
        ("Content-Type", "application/json"),
        ("Content-Length", length.as_str()),
    ];
    many.extend(std::iter::repeat_n(
        ("Authorization", many_bearer.as_str()),
        100,
    ));
    let many = head(srv.addr, "POST", "/mcp", &many);
    for (what, request) in [("64 KiB", one), ("100 headers", many)] {
        let reply = exchange(srv.addr, &request, call.as_bytes()).await;
        assert!(
            [400, 401, 431].contains(&reply.status),
            "{what}: {}",
            reply.status
        );
        assert!(!ran_a_tool(&reply), "{what}");
    }

    // And the server still serves.
    let res = post(&srv.full(), &call).await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_no_secret_logged();
}

/// Concurrent introspection calls allowed per issuer in the opaque-token flood.
const INTROSPECTION_CAP: usize = 4;

// Random opaque tokens, introspected (`hybrid` mode): each distinct one may cost one call, never
// more than the cap at once (the excess is a 503 with Retry-After, not a queue), and a
// token refused once is refused again from the negative cache without a call.
#[actix_web::test]
async fn a_flood_of_random_opaque_tokens_is_bounded_upstream() {
    let _shared = begin(false).await;
    let srv = Setup {
        stateful: false,
        ..Setup::default()
    }
    .start(|b| {
        b.validation(mcp_oauth::Validation::Hybrid)
            .introspection_client("abuse-rs", "abuse secret")
            .introspection_max_concurrent(INTROSPECTION_CAP)
            .introspection_negative_ttl(Duration::from_secs(600))
    });
    srv.auth.introspection_client("abuse-rs", "abuse secret");
    let client = common::client();
    let call = tools_call(6, "echo");
    let tokens: Vec<String> = (0..400)
        .map(|i| secret(format!("opaque{i:04}{}", "R4nd0m_-".repeat(4))))
        .collect();
    let send = |token: &str| srv.send_mcp(&client, token, &call);
    let mut refused = Vec::new();
    let mut overloaded = 0;
    for batch in tokens.chunks(50) {
        let replies = futures_util::future::join_all(batch.iter().map(|t| send(t))).await;
        for (token, reply) in batch.iter().zip(replies) {
            let reply = reply.unwrap();
            match reply.status().as_u16() {
                401 => refused.push(token.clone()),
                503 => {
                    overloaded += 1;
                    assert!(reply.headers().contains_key("retry-after"));
                }
                other => panic!("a random opaque token got {other}"),
            }
        }
    }
    let calls = srv.auth.introspection_requests();
    assert!(
        calls <= tokens.len(),
        "{calls} calls for {} tokens",
        tokens.len()
    );
    assert_eq!(
        calls,
        refused.len(),
        "one call per token refused, none for the overloaded"
    );
    assert!(
        srv.auth.max_concurrent_introspections() <= INTROSPECTION_CAP,
        "{} at once",
        srv.auth.max_concurrent_introspections()
    );
    assert_eq!(refused.len() + overloaded, tokens.len());
    // Again: every token already refused costs no call.
    for token in &refused {
        assert_eq!(send(token).await.unwrap().status().as_u16(), 401);
    }
    assert_eq!(srv.auth.introspection_requests(), calls);
    assert_no_secret_logged();
}

// ---------------------------------------------------------------------------------------
// 7. Sessions.
// ---------------------------------------------------------------------------------------

/// The middleware's answer to a session the caller does not own (never the service's).
fn assert_session_refused(reply: &Raw, context: &str) {
    assert_eq!(reply.status, 404, "{context}: {reply:?}");
    // Answered by the middleware: the MCP service never saw the request.
    assert_eq!(
        reply.json_opt(),
        Some(json!({"error": "session_not_found", "error_description": "No such MCP session"})),
        "{context}: {:?}",
        reply.text()
    );
}

/// `GET`/`DELETE` of `/mcp` naming `session`.
async fn session_request(srv: &Server, method: &str, token: &str, session: &str) -> Raw {
    let bearer = format!("Bearer {token}");
    let headers = [
        ("Accept", "text/event-stream"),
        ("Authorization", bearer.as_str()),
        ("Mcp-Session-Id", session),
    ];
    exchange(srv.addr, &head(srv.addr, method, "/mcp", &headers), b"").await
}

#[actix_web::test]
async fn sessions_fail_closed_for_unknown_ended_and_foreign_ids() {
    let _shared = begin(false).await;
    let srv = Setup::default().start(|b| b);
    let token_of = |sub: &str| secret(srv.token().subject(sub).scope(ALL_SCOPES).sign());
    let (alice, mallory) = (token_of("alice"), token_of("mallory"));
    let list = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}).to_string();

    // Never seen: refused by the middleware, never handed to the MCP service.
    let unknown = "0123456789abcdef0123456789abcdef";
    let reply = srv
        .post("/mcp", Some(&alice), Some(unknown), list.as_bytes())
        .await;
    assert_session_refused(&reply, "unknown");

    let session = srv.open_session(&alice).await;
    for method in ["GET", "DELETE"] {
        let reply = session_request(&srv, method, &mallory, &session).await;
        assert_session_refused(&reply, &format!("mallory {method}"));
    }
    let reply = srv
        .post(
            "/mcp",
            Some(&mallory),
            Some(&session),
            tools_call(3, "echo").as_bytes(),
        )
        .await;
    assert_session_refused(&reply, "mallory POST");

    // The owner's session still works: her stream opens, her calls run.
    let stream = TcpStream::connect(srv.addr).await.unwrap();
    let bearer = format!("Bearer {alice}");
    let get = head(
        srv.addr,
        "GET",
        "/mcp",
        &[
            ("Accept", "text/event-stream"),
            ("Authorization", bearer.as_str()),
            ("Mcp-Session-Id", session.as_str()),
        ],
    );
    write_all(&stream, get.as_bytes()).await.unwrap();
    let opened = read_answer(&stream, true, Duration::from_secs(10)).await;
    assert_eq!(opened.status, 200, "{opened:?}");
    drop(stream);
    let reply = srv
        .post(
            "/mcp",
            Some(&alice),
            Some(&session),
            tools_call(4, "echo").as_bytes(),
        )
        .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert!(reply.text().contains(MARK), "{reply:?}");

    // Ended: refused like an unknown session, to its owner too.
    let reply = session_request(&srv, "DELETE", &alice, &session).await;
    assert!((200..300).contains(&reply.status), "{reply:?}");
    let reply = srv
        .post("/mcp", Some(&alice), Some(&session), list.as_bytes())
        .await;
    assert_session_refused(&reply, "ended");
    assert_no_secret_logged();
}

#[actix_web::test]
async fn a_session_belongs_to_a_tagged_principal_and_needs_one() {
    let _shared = begin(false).await;
    let srv = Setup::default().start(|b| b);
    // A user, and a client (client credentials: no `sub`) whose id is that user's `sub`.
    let user = secret(
        srv.token()
            .subject("alice")
            .client_id("some-app")
            .scope(ALL_SCOPES)
            .sign(),
    );
    let client = secret(
        srv.token()
            .without_claim("sub")
            .client_id("alice")
            .scope(ALL_SCOPES)
            .sign(),
    );
    let session = srv.open_session(&user).await;
    let reply = srv
        .post(
            "/mcp",
            Some(&client),
            Some(&session),
            tools_call(3, "echo").as_bytes(),
        )
        .await;
    assert_session_refused(&reply, "client POST");
    for method in ["GET", "DELETE"] {
        let reply = session_request(&srv, method, &client, &session).await;
        assert_session_refused(&reply, &format!("client {method}"));
    }
    let reply = srv
        .post(
            "/mcp",
            Some(&user),
            Some(&session),
            tools_call(4, "echo").as_bytes(),
        )
        .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    // The client opens sessions of its own.
    srv.open_session(&client).await;

    // Neither `sub` nor `client_id`: nobody could be told apart from this caller, so it
    // opens no session, on either transport.
    let nobody = secret(
        srv.token()
            .without_claim("sub")
            .without_claim("client_id")
            .scope(ALL_SCOPES)
            .sign(),
    );
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "abuse", "version": "1"}}});
    let reply = srv
        .post("/mcp", Some(&nobody), None, init.to_string().as_bytes())
        .await;
    assert_eq!(reply.status, 403, "{reply:?}");
    assert_eq!(reply.json()["error"], "session_not_allowed", "{reply:?}");
    assert!(reply.header("mcp-session-id").is_none(), "{reply:?}");
    let bearer = format!("Bearer {nobody}");
    let sse = head(
        srv.addr,
        "GET",
        "/sse",
        &[
            ("Accept", "text/event-stream"),
            ("Authorization", bearer.as_str()),
        ],
    );
    let reply = exchange(srv.addr, &sse, b"").await;
    assert_eq!(reply.status, 403, "{reply:?}");
    assert_eq!(reply.json()["error"], "session_not_allowed", "{reply:?}");
    assert_no_secret_logged();
}

// ---------------------------------------------------------------------------------------
// 8. Nothing in the logs.
// ---------------------------------------------------------------------------------------

#[actix_web::test]
async fn no_token_reaches_the_logs() {
    let _shared = begin(false).await;
    let srv = Setup::default().start(|b| b);
    let valid = srv.full();
    let session = srv.open_session(&valid).await;
    let expired = secret(srv.token().scope(ALL_SCOPES).expired().sign());
    let forged = secret(
        srv.token()
            .scope(ALL_SCOPES)
            .signed_by_unpublished_key()
            .sign(),
    );
    let garbage = secret("gArBaGeLoGtEsT0123456789abcdef".to_owned());
    let too_large = secret(format!("{valid}{}", "B".repeat(17 * 1024)));
    let narrow = srv.narrow();
    let nobody = secret(
        srv.token()
            .without_claim("sub")
            .without_claim("client_id")
            .scope(ALL_SCOPES)
            .sign(),
    );
    let in_query = srv.full();

    let call = tools_call(6, "echo");
    let mut replies = Vec::new();
    for token in [&valid, &expired, &forged, &garbage, &too_large, &narrow] {
        replies.push(
            srv.post("/mcp", Some(token), Some(&session), call.as_bytes())
                .await,
        );
    }
    // A token where a session id goes, in the query, in a form body beside the header
    // one, as a tool name, and one that may not open a session.
    replies.push(
        srv.post("/mcp", Some(&valid), Some(&in_query), call.as_bytes())
            .await,
    );
    replies.push(
        srv.post(
            &format!("/mcp?access_token={in_query}"),
            None,
            None,
            call.as_bytes(),
        )
        .await,
    );
    let form = format!("access_token={in_query}");
    let length = form.len().to_string();
    let bearer = format!("Bearer {valid}");
    let form_request = head(
        srv.addr,
        "POST",
        "/mcp",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Content-Length", length.as_str()),
            ("Authorization", bearer.as_str()),
        ],
    );
    replies.push(exchange(srv.addr, &form_request, form.as_bytes()).await);
    let names: Vec<String> = (0..70)
        .map(|i| format!(r#""name":"{in_query}{i}""#))
        .collect();
    let named = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{{}}}}}"#,
        names.join(",")
    );
    replies.push(
        srv.post("/mcp", Some(&valid), Some(&session), named.as_bytes())
            .await,
    );
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "abuse", "version": "1"}}});
    replies.push(
        srv.post("/mcp", Some(&nobody), None, init.to_string().as_bytes())
            .await,
    );

    let statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [200, 401, 401, 401, 401, 403, 404, 401, 400, 400, 403]
    );

    let logged = logs().contents();
    // The capture sees the middleware's events: refusals, the session refusals.
    assert!(logged.contains("The access token expired"), "{logged}");
    assert!(
        logged.contains("refused a request naming an MCP session this caller does not own"),
        "{logged}"
    );
    assert!(
        logged.contains("refused an MCP session to a token with neither"),
        "{logged}"
    );
    let everything_sent_back: String = replies.iter().map(Raw::everything).collect();
    for token in [
        &valid, &expired, &forged, &garbage, &too_large, &narrow, &nobody, &in_query,
    ] {
        let signature = token.rsplit('.').next().unwrap_or(token);
        for needle in [token.as_str(), signature] {
            assert!(!logged.contains(needle), "a token leaked into the logs");
            assert!(
                !everything_sent_back.contains(needle),
                "a token leaked into an answer"
            );
        }
    }
    assert_no_secret_logged();
}

// ---------------------------------------------------------------------------------------
// 8. Headers that contradict the body (MCP 2026-07-28 transports §Server Validation).
// ---------------------------------------------------------------------------------------

/// A `POST` of `call` to `target` with every scope and `Mcp-Method` / `Mcp-Name` headers
/// naming the open tool `whoami`, and the session header if any.
async fn post_claiming_whoami(
    srv: &Server,
    target: &str,
    session: Option<&str>,
    call: &str,
) -> Raw {
    let bearer = format!("Bearer {}", srv.full());
    let length = call.len().to_string();
    let mut headers = vec![
        ("Authorization", bearer.as_str()),
        ("Content-Type", "application/json"),
        ("Accept", "application/json, text/event-stream"),
        ("Content-Length", length.as_str()),
        ("Mcp-Method", "tools/call"),
        ("Mcp-Name", "whoami"),
    ];
    if let Some(session) = session {
        headers.push(("Mcp-Session-Id", session));
    }
    exchange(
        srv.addr,
        &head(srv.addr, "POST", target, &headers),
        call.as_bytes(),
    )
    .await
}

/// The 400 of §Server Validation: a JSON-RPC `-32020` error with the request's id, and
/// no tool run.
fn assert_header_mismatch(reply: &Raw, context: &str) {
    assert_eq!(reply.status, 400, "{context}: {reply:?}");
    let body = reply.json();
    assert_eq!(body["error"]["code"], -32020, "{context}: {body}");
    assert_eq!(body["id"], 11, "{context}: {body}");
    assert!(!ran_a_tool(reply), "{context}: the tool ran: {reply:?}");
}

// An intermediary routes on `Mcp-Name: whoami` while the body calls `echo`: the example
// server refuses the request on both transports, whatever the token may do, and the
// session it was sent in goes on working.
#[actix_web::test]
async fn headers_that_contradict_the_body_are_refused_on_both_transports() {
    let _shared = begin(false).await;
    let srv = Setup {
        resource_suffix: "",
        ..Setup::default()
    }
    .start(|b| b);
    let full = srv.full();
    let call = tools_call(11, "echo");

    // Streamable HTTP.
    let session = srv.open_session(&full).await;
    let reply = post_claiming_whoami(&srv, "/mcp", Some(&session), &call).await;
    assert_header_mismatch(&reply, "/mcp");
    let reply = srv
        .post("/mcp", Some(&full), Some(&session), call.as_bytes())
        .await;
    assert!(ran_a_tool(&reply), "{reply:?}");

    // The legacy HTTP+SSE transport: `/message` answers on the stream, a refusal at once.
    let (mut sse, id) = Sse::open(&srv, &full).await;
    let target = format!("/message?sessionId={id}");
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2024-11-05", "capabilities": {},
        "clientInfo": {"name": "abuse", "version": "1"}}});
    let reply = srv
        .post(&target, Some(&full), None, init.to_string().as_bytes())
        .await;
    assert_eq!(reply.status, 202, "{reply:?}");
    assert_eq!(sse.message().await["id"], 1);
    let reply = post_claiming_whoami(&srv, &target, None, &call).await;
    assert_header_mismatch(&reply, "/message");
    // Nothing reached the session: the next answer on its stream is this call's.
    let reply = srv
        .post(
            &target,
            Some(&full),
            None,
            tools_call(12, "echo").as_bytes(),
        )
        .await;
    assert_eq!(reply.status, 202, "{reply:?}");
    let answer = sse.message().await;
    assert_eq!(answer["id"], 12, "{answer}");
    assert_eq!(answer["result"]["content"][0]["text"], MARK, "{answer}");
    assert_no_secret_logged();
}
