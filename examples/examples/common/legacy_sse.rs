//! The legacy MCP HTTP+SSE transport (protocol 2024-11-05), for clients that do not speak
//! Streamable HTTP yet, served with actix-web on rmcp's generic [`Transport`]: rmcp 3 has
//! no server of its own for it.
//!
//! - `GET /sse` opens a `text/event-stream` and a session with a random id. The first
//!   event is `endpoint` (`/message?sessionId=<id>`), then every message of the server as
//!   a `message` event, with keep-alive comments in between. The session (one instance of
//!   the MCP server) lives as long as the stream.
//! - `POST /message?sessionId=<id>` hands one JSON-RPC message (or a batch) to the
//!   session and answers 202; the answer comes on the stream.
//!
//! Authentication: both paths sit behind the `McpOAuth` middleware, like `/mcp`, so every
//! request carries its own valid token and a session id never stands in for one. A
//! session belongs to the principal that opened it ([`AuthenticatedClient::principal`]);
//! to anyone else it does not exist (404). Each POST's [`AuthenticatedClient`] travels
//! with its message, so tools see the caller of that request (its current scopes), as on
//! Streamable HTTP. The middleware's per-method and per-tool scope policy reads the
//! bodies posted here like any other protected JSON POST.
//!
//! Limits, so that no caller holds the server's memory or tasks without bound:
//!
//! - at most [`max_sessions`](LegacySse::max_sessions) streams in all (beyond: 503) and
//!   [`max_streams_per_principal`](LegacySse::max_streams_per_principal) per principal
//!   (beyond: 429), each refusal with a JSON body;
//! - at most [`max_backlog`](LegacySse::max_backlog) messages waiting for a stream: a
//!   reader too slow to take them is dropped (its stream closed, its session ended, later
//!   POSTs 404) rather than blocking its MCP server or buffering without bound;
//! - a stream lasts no longer than the access token that opened it (its `exp`): then the
//!   stream is closed and the session ended, and the client reconnects with a fresh token.
//!
//! Resource and audience: a server with both transports is one protected resource, and
//! its identifier must cover every URL a client connects to. The official MCP TypeScript
//! SDK checks, before authorizing, that the metadata's `resource` has the origin of the
//! URL it connects to and a path that is a prefix of that URL's path, on a `/` boundary
//! (its `checkResourceAllowed`; the client side of RFC 9728 §3.3 and the MCP
//! authorization spec's "Canonical Server URI"). `https://host/mcp` does not cover
//! `https://host/sse`, so its legacy client refuses that resource. Such a server uses its
//! origin, `https://host` (no trailing slash, as the MCP spec recommends; with one works
//! too), as the resource: the metadata is then at `/.well-known/oauth-protected-resource`,
//! every 401 points there, and one token is accepted on `/mcp`, `/sse` and `/message`
//! alike. [`resource_covers`] is that check, for a startup warning.
//!
//! This file is self-contained (the `tests` package includes it with `#[path]`): it is
//! generic over the rmcp server handler.

use std::collections::HashMap;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use actix_web::body::{BodySize, MessageBody};
use actix_web::dev::HttpServiceFactory;
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use mcp_oauth::AuthenticatedClient;
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::service::RoleServer;
use rmcp::transport::Transport;
use rmcp::{ServerHandler, ServiceExt};
use serde_json::json;
use tokio::sync::mpsc;

/// Where clients open the event stream.
pub(crate) const SSE_PATH: &str = "/sse";
/// Where clients post their messages.
pub(crate) const MESSAGE_PATH: &str = "/message";

/// Messages waiting for the MCP server of one session (client → server).
const INBOX_CAPACITY: usize = 32;
/// The largest message body (larger: 413).
const MAX_BODY_BYTES: usize = 4 << 20;
/// How long a POST waits for room in a busy session before answering 503.
const INBOX_WAIT: Duration = Duration::from_secs(5);

/// Whether a client that connects to `path` on this server accepts `resource` as the
/// protected resource it is about to authorize for: the official MCP TypeScript SDK does
/// only if the resource's path (without a terminating `/`) followed by `/` begins the
/// URL's path followed by `/` (origins are compared too, but only the deployment knows
/// the public one). So `https://h` and `https://h/` cover `/sse`; `https://h/mcp` does
/// not.
///
/// ```ignore
/// assert!(resource_covers("https://h", "/sse"));
/// assert!(!resource_covers("https://h/mcp", "/sse"));
/// ```
pub(crate) fn resource_covers(resource: &str, path: &str) -> bool {
    let after_scheme = resource
        .split_once("://")
        .map_or(resource, |(_, rest)| rest);
    let after_authority = after_scheme
        .find(['/', '?', '#'])
        .map_or("", |i| &after_scheme[i..]);
    let resource_path = after_authority.split(['?', '#']).next().unwrap_or_default();
    let resource_path = resource_path.strip_suffix('/').unwrap_or(resource_path);
    let path = path.strip_suffix('/').unwrap_or(path);
    format!("{path}/").starts_with(&format!("{resource_path}/"))
}

/// The legacy transport: `GET /sse` and `POST /message` (see the module docs).
///
/// Build it once, outside `HttpServer::new`, so every worker shares the sessions, and
/// mount [`services`](Self::services) in each App:
///
/// ```ignore
/// let legacy = LegacySse::new(|| MyServer);
/// HttpServer::new(move || App::new().wrap(oauth.clone()).service(legacy.services()))
/// ```
pub(crate) struct LegacySse<S> {
    factory: Arc<dyn Fn() -> S + Send + Sync>,
    sessions: Arc<Sessions>,
    max_sessions: usize,
    max_streams_per_principal: usize,
    max_backlog: usize,
    keep_alive: Duration,
}

impl<S> Clone for LegacySse<S> {
    fn clone(&self) -> Self {
        Self {
            factory: self.factory.clone(),
            sessions: self.sessions.clone(),
            max_sessions: self.max_sessions,
            max_streams_per_principal: self.max_streams_per_principal,
            max_backlog: self.max_backlog,
            keep_alive: self.keep_alive,
        }
    }
}

impl<S> std::fmt::Debug for LegacySse<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LegacySse")
            .field("sessions", &self.sessions.lock().by_id.len())
            .field("max_sessions", &self.max_sessions)
            .field("max_streams_per_principal", &self.max_streams_per_principal)
            .field("max_backlog", &self.max_backlog)
            .field("keep_alive", &self.keep_alive)
            .finish_non_exhaustive()
    }
}

impl<S: ServerHandler> LegacySse<S> {
    /// At most 1000 sessions at a time and 8 per principal, 256 messages waiting for a
    /// stream, a keep-alive comment every 15 s; `factory` makes the MCP server of each
    /// new session.
    pub(crate) fn new(factory: impl Fn() -> S + Send + Sync + 'static) -> Self {
        Self {
            factory: Arc::new(factory),
            sessions: Arc::default(),
            max_sessions: 1000,
            max_streams_per_principal: 8,
            max_backlog: 256,
            keep_alive: Duration::from_secs(15),
        }
    }

    /// At most `max` open sessions; `GET /sse` beyond that answers 503.
    pub(crate) fn max_sessions(mut self, max: usize) -> Self {
        self.max_sessions = max;
        self
    }

    /// At most `max` open streams per principal (issuer and subject), so that one caller
    /// cannot take every session; `GET /sse` beyond that answers 429 with a JSON body.
    pub(crate) fn max_streams_per_principal(mut self, max: usize) -> Self {
        self.max_streams_per_principal = max;
        self
    }

    /// At most `max` (at least 1) messages of a session's MCP server waiting to be
    /// written to its stream. One more, and the reader is too slow: its stream is closed
    /// and its session ended, rather than the server blocking or buffering without bound.
    pub(crate) fn max_backlog(mut self, max: usize) -> Self {
        self.max_backlog = max.max(1);
        self
    }

    /// How often an idle stream gets a comment. Writing is how a closed connection is
    /// noticed (after one or two comments), and with it the session's end.
    pub(crate) fn keep_alive(mut self, every: Duration) -> Self {
        self.keep_alive = every;
        self
    }

    /// `GET /sse` and `POST /message`, for `App::service`.
    pub(crate) fn services(&self) -> impl HttpServiceFactory + 'static {
        let open = self.clone();
        let post = self.clone();
        (
            web::resource(SSE_PATH).route(web::get().to(move |client: AuthenticatedClient| {
                let this = open.clone();
                async move { this.open(client) }
            })),
            web::resource(MESSAGE_PATH)
                // As large as the middleware's default `max_mcp_body_bytes`: a body it
                // checked is not refused here.
                .app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
                .route(web::post().to(
                    move |req: HttpRequest, client: AuthenticatedClient, body: Bytes| {
                        let this = post.clone();
                        async move { this.post(req, client, body).await }
                    },
                )),
        )
    }

    /// `GET /sse`: a new session, its MCP server, and the event stream that keeps it.
    fn open(&self, client: AuthenticatedClient) -> HttpResponse {
        // A caller that names neither a subject nor a client cannot be told apart from
        // others: a session it opened could be used by any of them.
        let Some(principal) = client.principal() else {
            return error(
                &mut HttpResponse::Forbidden(),
                "session_not_allowed",
                "A session needs a token that names a subject or a client",
            );
        };
        let Some(id) = new_session_id() else {
            tracing::error!("no randomness for a session id");
            return error(
                &mut HttpResponse::InternalServerError(),
                "server_error",
                "No session could be created",
            );
        };
        let (inbox_tx, inbox_rx) = mpsc::channel(INBOX_CAPACITY);
        let (outbox_tx, outbox_rx) = mpsc::channel(self.max_backlog);
        let admitted = self.sessions.admit(
            id.clone(),
            Session {
                principal,
                inbox: inbox_tx,
            },
            self.max_sessions,
            self.max_streams_per_principal,
        );
        match admitted {
            Ok(()) => {}
            Err(Full::Sessions) => {
                tracing::warn!(max = self.max_sessions, "legacy SSE session limit reached");
                return error(
                    HttpResponse::ServiceUnavailable().insert_header(("Retry-After", "30")),
                    "too_many_sessions",
                    "Too many open sessions, try again later",
                );
            }
            Err(Full::Principal) => {
                tracing::warn!(
                    max = self.max_streams_per_principal,
                    "legacy SSE stream limit of a principal reached"
                );
                return error(
                    HttpResponse::TooManyRequests().insert_header(("Retry-After", "30")),
                    "too_many_streams",
                    "Too many open event streams for this caller: close one first",
                );
            }
        }
        // From here on the session is in the map: the guard (dropped with the stream, when
        // the client goes away) or `end` (backlog overflow, token expiry) removes it.
        // Either drops its inbox, so the MCP server's transport ends and the server stops.
        let (close_tx, close_rx) = mpsc::channel(1);
        let end = SessionEnd {
            sessions: self.sessions.clone(),
            id: id.clone().into(),
            close: close_tx,
        };
        let guard = SessionGuard {
            sessions: self.sessions.clone(),
            id: id.clone(),
        };
        let server = (self.factory)();
        let transport = SessionTransport {
            inbox: inbox_rx,
            outbox: outbox_tx,
            end: end.clone(),
        };
        // The token that opened the stream bounds its life (`exp`): the session must not
        // outlive the authorization that created it.
        let lifetime = client
            .expires_at()
            .map(|exp| exp.duration_since(SystemTime::now()).unwrap_or_default());
        tokio::spawn(async move {
            let run = async move {
                match server.serve(transport).await {
                    Ok(running) => {
                        let _ = running.waiting().await;
                    }
                    Err(err) => {
                        tracing::debug!(%err, "legacy SSE session ended before initialization");
                    }
                }
            };
            match lifetime {
                None => run.await,
                // On expiry `run` is dropped, and with it the running server.
                Some(left) => {
                    if tokio::time::timeout(left, run).await.is_err() {
                        end.now("the access token that opened the stream expired");
                    }
                }
            }
        });
        let start = tokio::time::Instant::now() + self.keep_alive;
        let mut keep_alive = tokio::time::interval_at(start, self.keep_alive);
        keep_alive.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        HttpResponse::Ok()
            .content_type("text/event-stream")
            .insert_header(("Cache-Control", "no-cache"))
            // Reverse proxies (nginx) must not buffer the stream.
            .insert_header(("X-Accel-Buffering", "no"))
            .body(EventStream {
                endpoint: Some(Bytes::from(format!(
                    "event: endpoint\ndata: {MESSAGE_PATH}?sessionId={id}\n\n"
                ))),
                outbox: outbox_rx,
                close: close_rx,
                keep_alive,
                _guard: guard,
            })
    }

    /// `POST /message?sessionId=<id>`: hand the message to its session.
    async fn post(
        &self,
        req: HttpRequest,
        client: AuthenticatedClient,
        body: Bytes,
    ) -> HttpResponse {
        let Ok(query) = web::Query::<MessageQuery>::from_query(req.query_string()) else {
            return error(
                &mut HttpResponse::BadRequest(),
                "invalid_request",
                "The sessionId query parameter is missing",
            );
        };
        // Clone the sender out: the lock is never held across an await.
        let inbox = match self.sessions.lock().by_id.get(&query.session_id) {
            None => return session_not_found(),
            Some(session) if client.principal().as_ref() != Some(&session.principal) => {
                // Answered exactly like an unknown session: never reveal another
                // caller's session.
                tracing::warn!("refused a legacy SSE message for another principal's session");
                return session_not_found();
            }
            Some(session) => session.inbox.clone(),
        };
        let Some(messages) = parse_messages(&body) else {
            return error(
                &mut HttpResponse::BadRequest(),
                "invalid_request",
                "The body is not a JSON-RPC message",
            );
        };
        for mut message in messages {
            // Flat in the request's extensions, where `AuthenticatedClient` as a tool
            // argument finds it: the caller of this POST, not of the GET.
            message.insert_extension(client.clone());
            match tokio::time::timeout(INBOX_WAIT, inbox.send(message)).await {
                Ok(Ok(())) => {}
                // The session's server has stopped: the session is going away.
                Ok(Err(_closed)) => return session_not_found(),
                Err(_elapsed) => {
                    return error(
                        HttpResponse::ServiceUnavailable().insert_header(("Retry-After", "1")),
                        "session_busy",
                        "The session is busy, try again later",
                    );
                }
            }
        }
        HttpResponse::Accepted().finish()
    }
}

/// `?sessionId=<id>`.
#[derive(serde::Deserialize)]
struct MessageQuery {
    #[serde(rename = "sessionId")]
    session_id: String,
}

/// One message, or a non-empty batch (2024-11-05 allows batches), read exactly as
/// serde_json reads it, like the middleware's scope policy does.
fn parse_messages(body: &[u8]) -> Option<Vec<ClientJsonRpcMessage>> {
    if let Ok(message) = serde_json::from_slice::<ClientJsonRpcMessage>(body) {
        return Some(vec![message]);
    }
    serde_json::from_slice::<Vec<ClientJsonRpcMessage>>(body)
        .ok()
        .filter(|batch| !batch.is_empty())
}

/// 32 random bytes as hex: unguessable, and never derived from the caller.
fn new_session_id() -> Option<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).ok()?;
    Some(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn error(res: &mut actix_web::HttpResponseBuilder, code: &str, description: &str) -> HttpResponse {
    res.json(json!({"error": code, "error_description": description}))
}

/// The same 404 as the middleware's for Streamable HTTP sessions.
fn session_not_found() -> HttpResponse {
    error(
        &mut HttpResponse::NotFound(),
        "session_not_found",
        "No such MCP session",
    )
}

/// The open sessions, shared by every worker.
#[derive(Default)]
struct Sessions {
    map: Mutex<SessionMap>,
}

/// The sessions by id, and how many each principal has open (an entry per principal with
/// at least one: never more entries than sessions).
#[derive(Default)]
struct SessionMap {
    by_id: HashMap<String, Session>,
    per_principal: HashMap<String, usize>,
}

/// Why a new session was refused.
enum Full {
    /// `max_sessions` in all.
    Sessions,
    /// `max_streams_per_principal` for this principal.
    Principal,
}

impl Sessions {
    fn lock(&self) -> MutexGuard<'_, SessionMap> {
        // A panic while holding the lock leaves the maps consistent (each change is one
        // insert or remove with its count), so keep serving.
        self.map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Adds `session` if neither limit is reached (checked and counted under one lock).
    fn admit(
        &self,
        id: String,
        session: Session,
        max_sessions: usize,
        max_per_principal: usize,
    ) -> Result<(), Full> {
        let mut map = self.lock();
        if map.by_id.len() >= max_sessions {
            return Err(Full::Sessions);
        }
        let open = map
            .per_principal
            .get(&session.principal)
            .copied()
            .unwrap_or(0);
        if open >= max_per_principal {
            return Err(Full::Principal);
        }
        map.per_principal
            .insert(session.principal.clone(), open + 1);
        map.by_id.insert(id, session);
        Ok(())
    }

    /// Forgets session `id` (again: nothing happens).
    fn remove(&self, id: &str) {
        let mut map = self.lock();
        let Some(session) = map.by_id.remove(id) else {
            return;
        };
        if let Some(open) = map.per_principal.get_mut(&session.principal) {
            *open -= 1;
            if *open == 0 {
                map.per_principal.remove(&session.principal);
            }
        }
    }
}

struct Session {
    /// Who opened it: only they may post to it.
    principal: String,
    inbox: mpsc::Sender<ClientJsonRpcMessage>,
}

/// Forgets its session when dropped.
struct SessionGuard {
    sessions: Arc<Sessions>,
    id: String,
}

impl Drop for SessionGuard {
    fn drop(&mut self) {
        self.sessions.remove(&self.id);
    }
}

/// Ends a session from outside its stream (backlog overflow, token expiry): forgets it,
/// so later POSTs get 404 and, its inbox dropped, its MCP server stops; and tells its
/// stream to close at its next poll, without writing what is still queued.
#[derive(Clone)]
struct SessionEnd {
    sessions: Arc<Sessions>,
    id: Arc<str>,
    close: mpsc::Sender<()>,
}

impl SessionEnd {
    fn now(&self, reason: &'static str) {
        tracing::info!(reason, "legacy SSE session ended");
        self.sessions.remove(&self.id);
        // Capacity 1: a second signal finds the first still there, which is as good.
        let _ = self.close.try_send(());
    }
}

/// rmcp's side of a session: messages posted to it in, messages for the stream out.
struct SessionTransport {
    inbox: mpsc::Receiver<ClientJsonRpcMessage>,
    outbox: mpsc::Sender<ServerJsonRpcMessage>,
    end: SessionEnd,
}

/// What the transport answers rmcp once its session has ended.
#[derive(Debug)]
struct SessionEnded;

impl std::fmt::Display for SessionEnded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the legacy SSE session has ended")
    }
}

impl std::error::Error for SessionEnded {}

impl Transport<RoleServer> for SessionTransport {
    type Error = SessionEnded;

    /// Never waits: a full outbox means the reader has fallen `max_backlog` messages
    /// behind, and the session ends.
    fn send(
        &mut self,
        item: ServerJsonRpcMessage,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let sent = match self.outbox.try_send(item) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::warn!("legacy SSE reader too slow: its backlog is full");
                self.end.now("the reader fell too far behind");
                Err(SessionEnded)
            }
            Err(mpsc::error::TrySendError::Closed(_)) => Err(SessionEnded),
        };
        std::future::ready(sent)
    }

    fn receive(&mut self) -> impl Future<Output = Option<ClientJsonRpcMessage>> + Send {
        self.inbox.recv()
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        self.inbox.close();
        Ok(())
    }
}

/// The body of `GET /sse`: the endpoint event, then the server's messages and keep-alives.
/// Ends when the session's server stops or the session is ended ([`SessionEnd`]);
/// dropping it ends the session.
struct EventStream {
    endpoint: Option<Bytes>,
    outbox: mpsc::Receiver<ServerJsonRpcMessage>,
    /// A message here: close now.
    close: mpsc::Receiver<()>,
    keep_alive: tokio::time::Interval,
    _guard: SessionGuard,
}

impl MessageBody for EventStream {
    type Error = Infallible;

    fn size(&self) -> BodySize {
        BodySize::Stream
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let this = self.get_mut();
        // `Ready(None)` (every sender gone) is no request to close: the outbox ends then.
        if let Poll::Ready(Some(())) = this.close.poll_recv(cx) {
            return Poll::Ready(None);
        }
        if let Some(endpoint) = this.endpoint.take() {
            return Poll::Ready(Some(Ok(endpoint)));
        }
        loop {
            match this.outbox.poll_recv(cx) {
                Poll::Ready(Some(message)) => match serde_json::to_string(&message) {
                    // Serialised JSON has no raw newlines: one `data:` line.
                    Ok(json) => {
                        return Poll::Ready(Some(Ok(Bytes::from(format!(
                            "event: message\ndata: {json}\n\n"
                        )))));
                    }
                    Err(err) => tracing::error!(%err, "unserialisable MCP message dropped"),
                },
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => break,
            }
        }
        match this.keep_alive.poll_tick(cx) {
            Poll::Ready(_) => Poll::Ready(Some(Ok(Bytes::from_static(b": keep-alive\n\n")))),
            Poll::Pending => Poll::Pending,
        }
    }
}
