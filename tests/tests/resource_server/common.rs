//! Shared harness: a real authorization server, a real actix-web resource server on
//! 127.0.0.1 wrapped with `McpOAuth`, an awc client, and assertion helpers.

use std::io;
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::dev::ServerHandle;
use actix_web::dev::ServiceRequest;
use actix_web::http::header::HeaderMap;
use actix_web::middleware::Condition;
use actix_web::web::{self, Bytes};
use actix_web::{App, HttpMessage, HttpResponse, HttpServer};
use actix_web_httpauth::extractors::bearer::BearerAuth;
use actix_web_httpauth::middleware::HttpAuthentication;
use mcp_oauth::testing::TestAuthServer;
use mcp_oauth::{AuthError, AuthenticatedClient, McpOAuth, McpOAuthBuilder, Validation};
use serde_json::{Value, json};

/// The well-known prefix of RFC 9728, spelled out here independently of the library.
pub(crate) const WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";

/// Where [`TestServer::discovered`]'s authorization server keeps its JWKS: only its
/// metadata says so.
pub(crate) const DISCOVERED_JWKS_PATH: &str = "/oauth2/v1/keys";

/// Seconds since the Unix epoch, for hand-made `exp` / `nbf` claims.
pub(crate) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

// ---------------------------------------------------------------------------------------
// Handlers of the resource server under test.
// ---------------------------------------------------------------------------------------

/// Echoes who the middleware admitted.
async fn whoami(client: AuthenticatedClient) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "subject": client.subject(),
        "client_id": client.client_id(),
        "scopes": client.scopes(),
        "audiences": client.audiences(),
        "issuer": client.issuer(),
        "token_exposed": client.bearer_token().is_some(),
    }))
}

/// Who the caller is, as sessions know it, and with what credential.
async fn principal(client: AuthenticatedClient) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "principal": client.principal(),
        "credential": format!("{:?}", client.credential()),
    }))
}

/// Needs `files:delete` on top of the middleware's required scopes (step-up).
async fn delete_files(client: AuthenticatedClient) -> Result<HttpResponse, AuthError> {
    client.require_scopes(&["files:delete"])?;
    Ok(HttpResponse::Ok().json(json!({"deleted": true})))
}

/// `Debug` of the client (and of its raw token, when exposed).
async fn debug_client(client: AuthenticatedClient) -> String {
    format!("{client:?} {:?}", client.bearer_token())
}

/// The raw token, when the middleware exposes it.
async fn raw_token(client: AuthenticatedClient) -> HttpResponse {
    match client.bearer_token() {
        Some(token) => HttpResponse::Ok().body(token.secret().to_owned()),
        None => HttpResponse::NotFound().body("not exposed"),
    }
}

/// A custom claim, read through `AuthenticatedClient::claims::<T>()`.
async fn tenant(client: AuthenticatedClient) -> HttpResponse {
    #[derive(serde::Deserialize)]
    struct Tenant {
        tenant_id: String,
        sub: String,
    }
    match client.claims::<Tenant>() {
        Ok(t) => HttpResponse::Ok().json(json!({"tenant_id": t.tenant_id, "sub": t.sub})),
        Err(e) => HttpResponse::BadRequest().body(e.to_string()),
    }
}

/// Whether the request was sender-constrained (RFC 9449), and by which key.
async fn dpop_client(client: AuthenticatedClient) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "subject": client.subject(),
        "sender_constrained": client.is_sender_constrained(),
        "jkt": client.dpop_thumbprint(),
    }))
}

/// Echoes the request body, to show the middleware left it intact.
async fn echo(_client: AuthenticatedClient, body: Bytes) -> Bytes {
    body
}

/// Opens an MCP session, as a Streamable HTTP `initialize` answer does: a fresh
/// `Mcp-Session-Id` on the response, which the middleware binds to the caller.
async fn open_session(client: AuthenticatedClient) -> HttpResponse {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let id = format!("{nanos:x}-{}", NEXT.fetch_add(1, Ordering::Relaxed));
    HttpResponse::Ok()
        .insert_header(("Mcp-Session-Id", id))
        .json(json!({"subject": client.subject()}))
}

async fn health() -> &'static str {
    "ok"
}

/// What a CORS layer answers to a preflight; reaching it proves the middleware let it by.
async fn preflight() -> HttpResponse {
    HttpResponse::NoContent()
        .insert_header(("Access-Control-Allow-Origin", "*"))
        .insert_header(("Access-Control-Allow-Methods", "GET, POST, DELETE"))
        .insert_header((
            "Access-Control-Allow-Headers",
            "Authorization, Content-Type",
        ))
        .finish()
}

fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/mcp")
            .route(web::post().to(whoami))
            .route(web::get().to(whoami))
            .route(web::delete().to(whoami))
            .route(web::method(actix_web::http::Method::OPTIONS).to(preflight)),
    )
    .route("/mcp/files", web::delete().to(delete_files))
    .route("/mcp/echo", web::post().to(echo))
    .route("/debug", web::get().to(debug_client))
    .route("/token", web::get().to(raw_token))
    .route("/principal", web::get().to(principal))
    .route("/session", web::post().to(open_session))
    .route("/dpop", web::get().to(dpop_client))
    .route("/dpop", web::post().to(dpop_client))
    .route("/tenant", web::get().to(tenant))
    .route("/health", web::get().to(health))
    .route("/health/live", web::get().to(health))
    .route("/healthz", web::get().to(health));
}

// ---------------------------------------------------------------------------------------
// The server.
// ---------------------------------------------------------------------------------------

/// What protects the routes of a [`TestServer`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Guard {
    /// `.wrap(oauth)`.
    McpOAuth,
    /// Nothing.
    None,
    /// `.wrap(mcp_oauth::httpauth::middleware(oauth))`.
    HttpAuth,
    /// actix-web-httpauth's own `HttpAuthentication::bearer` with a validator that
    /// authenticates whatever `BearerAuth::token()` parsed: what an application writes
    /// without `mcp_oauth::httpauth`.
    BearerAuthAsParsed,
}

/// `HttpAuthentication::bearer`'s validator for [`Guard::BearerAuthAsParsed`].
fn authenticate_as_parsed(
    oauth: McpOAuth,
) -> impl Fn(
    ServiceRequest,
    BearerAuth,
) -> mcp_oauth::LocalBoxFuture<
    'static,
    Result<ServiceRequest, (actix_web::Error, ServiceRequest)>,
> + Clone {
    move |req, credentials| {
        let oauth = oauth.clone();
        Box::pin(async move {
            match oauth.authenticate(credentials.token()).await {
                Ok(client) => {
                    req.extensions_mut().insert(client);
                    Ok(req)
                }
                Err(e) => Err((e.into(), req)),
            }
        })
    }
}

/// How to start a [`TestServer`].
pub(crate) struct Setup {
    resource_suffix: String,
    workers: usize,
    guard: Guard,
    dispatch: Option<tracing::Dispatch>,
    auth: Option<TestAuthServer>,
}

impl Setup {
    pub(crate) fn new() -> Self {
        Self {
            resource_suffix: "/mcp".to_owned(),
            workers: 1,
            guard: Guard::McpOAuth,
            dispatch: None,
            auth: None,
        }
    }

    /// What follows `http://127.0.0.1:<port>` in the resource (default `/mcp`).
    pub(crate) fn resource_suffix(mut self, suffix: &str) -> Self {
        self.resource_suffix = suffix.to_owned();
        self
    }

    pub(crate) fn workers(mut self, n: usize) -> Self {
        self.workers = n;
        self
    }

    /// The same routes, without `.wrap(oauth)`.
    pub(crate) fn without_middleware(mut self) -> Self {
        self.guard = Guard::None;
        self
    }

    /// The same routes behind `guard` instead of `.wrap(oauth)`.
    pub(crate) fn guard(mut self, guard: Guard) -> Self {
        self.guard = guard;
        self
    }

    /// This authorization server instead of a default `TestAuthServer::start()`.
    pub(crate) fn auth(mut self, auth: TestAuthServer) -> Self {
        self.auth = Some(auth);
        self
    }

    /// Every worker thread logs to this dispatcher.
    pub(crate) fn log_to(mut self, dispatch: tracing::Dispatch) -> Self {
        self.dispatch = Some(dispatch);
        self
    }

    /// Starts with the builder `configure` returns for (authorization server, resource).
    /// Must run inside the actix runtime (`#[actix_web::test]`).
    /// Starts with a middleware that validates by introspection only (RFC 7662), as the
    /// authorization server's client `rs` (registered here), so that every validation is
    /// a counted call; `configure` adds to it.
    pub(crate) fn start_introspecting(
        mut self,
        configure: impl FnOnce(McpOAuthBuilder) -> McpOAuthBuilder,
    ) -> TestServer {
        let auth = self.auth.take().unwrap_or_else(TestAuthServer::start);
        auth.introspection_client("rs", "rs-secret");
        self.auth(auth).start(|auth, resource| {
            configure(
                McpOAuth::builder()
                    .resource(resource)
                    .authorization_server(auth.issuer())
                    .validation(Validation::Introspection)
                    .introspection_client("rs", "rs-secret"),
            )
        })
    }

    pub(crate) fn start(
        self,
        configure: impl FnOnce(&TestAuthServer, &str) -> McpOAuthBuilder,
    ) -> TestServer {
        let auth = self.auth.unwrap_or_else(TestAuthServer::start);
        // Bind first, so the resource URL is known before the middleware is built.
        let listener = TcpListener::bind(("127.0.0.1", 0)).expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local addr").port();
        let base = format!("http://127.0.0.1:{port}");
        let resource = format!("{base}{}", self.resource_suffix);
        let oauth = configure(&auth, &resource)
            .build()
            .expect("the test configuration builds");
        let guard = self.guard;
        let dispatch = self.dispatch;
        let kept = oauth.clone();
        let server = HttpServer::new(move || {
            if let Some(d) = &dispatch {
                // The factory runs on each worker thread: make the capture its default for
                // the thread's lifetime (the worker ends with the server).
                std::mem::forget(tracing::dispatcher::set_default(d));
            }
            App::new()
                .wrap(Condition::new(guard == Guard::McpOAuth, oauth.clone()))
                .wrap(Condition::new(
                    guard == Guard::HttpAuth,
                    mcp_oauth::httpauth::middleware(oauth.clone()),
                ))
                .wrap(Condition::new(
                    guard == Guard::BearerAuthAsParsed,
                    HttpAuthentication::bearer(authenticate_as_parsed(oauth.clone())),
                ))
                .configure(routes)
        })
        .workers(self.workers)
        .disable_signals()
        .shutdown_timeout(0)
        .listen(listener)
        .expect("listen")
        .run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        // RFC 9728 §3.1: drop a terminating `/` of the path, insert after the host, keep the query.
        let (path, query) = match self.resource_suffix.split_once('?') {
            Some((p, q)) => (p, format!("?{q}")),
            None => (self.resource_suffix.as_str(), String::new()),
        };
        let path = path.strip_suffix('/').unwrap_or(path);
        TestServer {
            metadata_url: format!("{base}{WELL_KNOWN}{path}{query}"),
            auth,
            resource,
            base,
            client: client(),
            oauth: kept,
            handle,
        }
    }
}

/// An awc client without a connection limit (the concurrency tests open 200 at once).
pub(crate) fn client() -> awc::Client {
    awc::Client::builder()
        .connector(awc::Connector::new().limit(0))
        .timeout(std::time::Duration::from_secs(20))
        .finish()
}

/// A resource server on 127.0.0.1 protected by `McpOAuth`, and its authorization server.
/// Stops when dropped.
pub(crate) struct TestServer {
    pub(crate) auth: TestAuthServer,
    /// `http://127.0.0.1:<port>/mcp` (or the configured suffix), as configured.
    pub(crate) resource: String,
    /// `http://127.0.0.1:<port>`.
    pub(crate) base: String,
    /// The RFC 9728 §3.1 metadata URL, computed by the test (not read from the library).
    pub(crate) metadata_url: String,
    pub(crate) client: awc::Client,
    /// The middleware the server runs (a clone shares its state: discovery, cache).
    pub(crate) oauth: McpOAuth,
    handle: ServerHandle,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        // `stop` sends the command at once; the returned future only waits for it.
        drop(self.handle.stop(false));
    }
}

impl TestServer {
    /// Default configuration: `auth.configure(resource)`.
    pub(crate) fn start() -> Self {
        Setup::new().start(|auth, resource| auth.configure(resource))
    }

    /// `auth.configure(resource)` adjusted by `f`.
    pub(crate) fn with(f: impl FnOnce(McpOAuthBuilder) -> McpOAuthBuilder) -> Self {
        Setup::new().start(|auth, resource| f(auth.configure(resource)))
    }

    /// Configured as in production, with nothing but the resource and the issuer: the
    /// JWKS URI comes from the metadata, and the authorization server keeps its keys at
    /// [`DISCOVERED_JWKS_PATH`], where no guess would look.
    pub(crate) fn discovered() -> Self {
        Self::discovered_with(|b| b)
    }

    /// [`discovered`](Self::discovered), the builder adjusted by `f`.
    pub(crate) fn discovered_with(f: impl FnOnce(McpOAuthBuilder) -> McpOAuthBuilder) -> Self {
        let auth = TestAuthServer::builder()
            .jwks_path(DISCOVERED_JWKS_PATH)
            .start();
        Setup::new()
            .auth(auth)
            .start(|auth, resource| f(auth.configure_issuer_only(resource)))
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A token builder with this resource as audience.
    pub(crate) fn token(&self) -> mcp_oauth::testing::TokenBuilder {
        self.auth.token().audience(&self.resource)
    }

    /// A valid RS256 token for this resource.
    pub(crate) fn valid_token(&self) -> String {
        self.token().sign()
    }

    pub(crate) fn get(&self, path: &str) -> awc::ClientRequest {
        self.client.get(self.url(path))
    }

    pub(crate) fn post(&self, path: &str) -> awc::ClientRequest {
        self.client.post(self.url(path))
    }

    pub(crate) fn delete(&self, path: &str) -> awc::ClientRequest {
        self.client.delete(self.url(path))
    }

    /// `POST /mcp` with `Authorization: Bearer <token>`.
    pub(crate) async fn post_mcp(&self, token: &str) -> Reply {
        send(self.post("/mcp").bearer(token)).await
    }

    /// `POST /mcp` without credentials.
    pub(crate) async fn post_mcp_anonymous(&self) -> Reply {
        send(self.post("/mcp")).await
    }

    // The challenges, parameters in the order of the RFC 6750 §3 and MCP authorization
    // examples, for this server.

    /// 401 without credentials (and 503): no `error` (RFC 6750 §3.1).
    pub(crate) fn no_token_challenge(&self, scope: Option<&str>) -> String {
        let mut c = format!("Bearer resource_metadata=\"{}\"", self.metadata_url);
        if let Some(s) = scope {
            c.push_str(&format!(", scope=\"{s}\""));
        }
        c
    }

    /// 401 `invalid_token`.
    pub(crate) fn invalid_token_challenge(&self, description: &str, scope: Option<&str>) -> String {
        let mut c = format!(
            "Bearer error=\"invalid_token\", error_description=\"{description}\", resource_metadata=\"{}\"",
            self.metadata_url
        );
        if let Some(s) = scope {
            c.push_str(&format!(", scope=\"{s}\""));
        }
        c
    }

    /// 400 `invalid_request`.
    pub(crate) fn invalid_request_challenge(&self, description: &str) -> String {
        format!(
            "Bearer error=\"invalid_request\", error_description=\"{description}\", resource_metadata=\"{}\"",
            self.metadata_url
        )
    }

    /// 403 `insufficient_scope`.
    pub(crate) fn insufficient_scope_challenge(&self, scope: &str, description: &str) -> String {
        format!(
            "Bearer error=\"insufficient_scope\", scope=\"{scope}\", resource_metadata=\"{}\", error_description=\"{description}\"",
            self.metadata_url
        )
    }

    /// Asserts a 401 `invalid_token` with `description` (no global scopes configured).
    pub(crate) fn assert_invalid_token(&self, reply: &Reply, description: &str) {
        assert_refusal(
            reply,
            401,
            &self.invalid_token_challenge(description, None),
            "invalid_token",
            description,
        );
    }

    /// Asserts a 400 `invalid_request` with `description`.
    pub(crate) fn assert_invalid_request(&self, reply: &Reply, description: &str) {
        assert_refusal(
            reply,
            400,
            &self.invalid_request_challenge(description),
            "invalid_request",
            description,
        );
    }

    /// Asserts a 401 without credentials (no global scopes configured).
    pub(crate) fn assert_no_token(&self, reply: &Reply) {
        assert_refusal(
            reply,
            401,
            &self.no_token_challenge(None),
            "unauthorized",
            "A bearer token is required",
        );
    }

    /// Asserts a 503 (RFC 9110 §15.6.4) that tells the client to retry, not to re-authorize.
    pub(crate) fn assert_unavailable(&self, reply: &Reply) {
        assert_refusal(
            reply,
            503,
            &self.no_token_challenge(None),
            "temporarily_unavailable",
            "The token cannot be validated right now; try again later",
        );
        assert!(!reply.challenge().contains("invalid_token"));
    }
}

/// Adds `Authorization: Bearer <token>`.
pub(crate) trait Bearer {
    fn bearer(self, token: &str) -> Self;
}

impl Bearer for awc::ClientRequest {
    fn bearer(self, token: &str) -> Self {
        self.insert_header(("Authorization", format!("Bearer {token}")))
    }
}

// ---------------------------------------------------------------------------------------
// Responses.
// ---------------------------------------------------------------------------------------

/// A response, read completely.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

/// Sends `req` and reads the whole response.
pub(crate) async fn send(req: awc::ClientRequest) -> Reply {
    read(req.send().await.expect("the request reaches the server")).await
}

/// Sends `req` with `body` and reads the whole response.
pub(crate) async fn send_body(req: awc::ClientRequest, body: String) -> Reply {
    read(
        req.send_body(body)
            .await
            .expect("the request reaches the server"),
    )
    .await
}

async fn read<S>(mut res: awc::ClientResponse<S>) -> Reply
where
    S: futures_util::Stream<Item = Result<Bytes, awc::error::PayloadError>> + Unpin,
{
    let body = res
        .body()
        .limit(4 << 20)
        .await
        .expect("the body is readable");
    let mut headers = HeaderMap::new();
    for (name, value) in res.headers() {
        headers.append(name.clone(), value.clone());
    }
    Reply {
        status: res.status().as_u16(),
        headers,
        body,
    }
}

impl Reply {
    /// The only value of `name`; panics if it is repeated.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        let mut values = self.headers.get_all(name);
        let first = values.next()?;
        assert!(
            values.next().is_none(),
            "header {name} is repeated: {:?}",
            self.headers
        );
        Some(first.to_str().expect("a visible-ASCII header value"))
    }

    /// Every `WWW-Authenticate` field, in order (RFC 9449 §7.1: `Bearer` and `DPoP`
    /// challenges may come as two fields).
    pub(crate) fn challenges(&self) -> Vec<&str> {
        self.headers
            .get_all("www-authenticate")
            .map(|v| v.to_str().unwrap())
            .collect()
    }

    /// The first `WWW-Authenticate` field. With DPoP allowed (the default) a 401 has a
    /// second, the `DPoP` challenge (RFC 9449 §7.2); it is checked to be one and no more.
    pub(crate) fn challenge(&self) -> &str {
        let all = self.challenges();
        match all[..] {
            [] => panic!("no WWW-Authenticate in a {} response", self.status),
            [one] => one,
            [first, second] if self.status == 401 && second.starts_with("DPoP algs=") => first,
            _ => panic!("unexpected WWW-Authenticate fields: {all:?}"),
        }
    }

    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {:?}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Every header value and the body, as one string (to search for leaks).
    pub(crate) fn everything(&self) -> String {
        let mut out = String::new();
        for (name, value) in &self.headers {
            out.push_str(name.as_str());
            out.push_str(": ");
            out.push_str(&String::from_utf8_lossy(value.as_bytes()));
            out.push('\n');
        }
        out.push_str(&self.text());
        out
    }
}

/// Asserts a refusal rendered by the middleware (or by `require_scopes`): exact status,
/// exactly one `WWW-Authenticate` equal to `challenge` with one `resource_metadata`
/// (RFC 9110 §11.2), the CORS expose header (Fetch Standard), `Cache-Control: no-store` and
/// the body `{"error", "error_description"}`.
pub(crate) fn assert_refusal(
    reply: &Reply,
    status: u16,
    challenge: &str,
    error: &str,
    description: &str,
) {
    assert_eq!(reply.status, status, "status; body: {}", reply.text());
    assert_eq!(reply.challenge(), challenge);
    assert_eq!(reply.challenge().matches("resource_metadata=").count(), 1);
    assert_unique_params(reply.challenge());
    assert_eq!(
        reply.header("access-control-expose-headers"),
        Some("WWW-Authenticate")
    );
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(
        reply.json(),
        json!({"error": error, "error_description": description})
    );
}

/// RFC 9110 §11.2: each auth-param name at most once; every value quoted.
pub(crate) fn assert_unique_params(challenge: &str) {
    let mut rest = challenge
        .strip_prefix("Bearer ")
        .expect("a Bearer challenge");
    let mut names: Vec<&str> = Vec::new();
    while !rest.is_empty() {
        let (name, after) = rest.split_once("=\"").expect("name=\"value\"");
        let (_value, after) = after.split_once('"').expect("a closing quote");
        assert!(!names.contains(&name), "{name} repeated in {challenge}");
        names.push(name);
        rest = match after.strip_prefix(", ") {
            Some(next) => next,
            None => {
                assert!(after.is_empty(), "junk after a parameter in {challenge}");
                ""
            }
        };
    }
}

/// Asserts the middleware admitted the request: 200 with the whoami body.
pub(crate) fn assert_admitted(reply: &Reply) -> Value {
    assert_eq!(
        reply.status,
        200,
        "expected admission; got {}: {:?} {}",
        reply.status,
        reply.headers,
        reply.text()
    );
    assert!(reply.header("www-authenticate").is_none());
    reply.json()
}

// ---------------------------------------------------------------------------------------
// Log capture.
// ---------------------------------------------------------------------------------------

/// A `tracing` sink writing into memory, shared between threads.
#[derive(Clone, Default)]
pub(crate) struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl LogBuffer {
    pub(crate) fn contents(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(|p| p.into_inner());
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// A dispatcher that formats every event (TRACE and up) into this buffer.
    pub(crate) fn dispatch(&self) -> tracing::Dispatch {
        let buffer = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || buffer.clone())
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .finish();
        tracing::Dispatch::new(subscriber)
    }
}

impl io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A loopback port held for the whole test, where nothing answers: every connection is
/// accepted, counted and closed at once. Unlike a port bound and released, no other
/// process can take it meanwhile; [`into_listener`](Self::into_listener) hands the socket
/// to a real server when the test wants one there.
pub(crate) struct HeldPort {
    port: u16,
    connections: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<TcpListener>>,
}

impl HeldPort {
    pub(crate) fn bind() -> Self {
        let listener = TcpListener::bind(("127.0.0.1", 0)).expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local addr").port();
        let connections = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (count, stopping) = (connections.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                if stream.is_ok() {
                    count.fetch_add(1, Ordering::SeqCst);
                }
            }
            listener
        });
        Self {
            port,
            connections,
            stop,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:<port><path>`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Connections accepted (and closed) so far.
    pub(crate) fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// Stops answering and returns the socket, still bound (connections arriving now wait
    /// in its backlog for whoever listens next).
    pub(crate) fn into_listener(mut self) -> TcpListener {
        self.stop_thread().expect("the accepting thread ends")
    }

    fn stop_thread(&mut self) -> Option<TcpListener> {
        let thread = self.thread.take()?;
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the blocking `accept`; it sees `stop` and ends.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        thread.join().ok()
    }
}

impl Drop for HeldPort {
    fn drop(&mut self) {
        drop(self.stop_thread());
    }
}

/// A file in the temp directory, removed on drop.
pub(crate) struct TempFile(std::path::PathBuf);

impl TempFile {
    pub(crate) fn new(contents: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let unique = format!("mcp-oauth-test-{}-{nanos}-{n}", std::process::id());
        let path = std::env::temp_dir().join(unique);
        std::fs::write(&path, contents).unwrap();
        Self(path)
    }

    pub(crate) fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
