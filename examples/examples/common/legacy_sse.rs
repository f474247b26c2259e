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
//! Streamable HTTP. Build the middleware with `.mcp_endpoint("/message")` so its
//! per-method and per-tool scope policy also reads the bodies posted here.
//!
//! Resource and audience: a server with both transports is still one protected resource,
//! identified by its `/mcp` URL (the one in the metadata at
//! `/.well-known/oauth-protected-resource/mcp`). A token issued for that resource is
//! accepted on `/mcp`, `/sse` and `/message` alike: audience binding (RFC 8707/9068) is
//! per server, not per path, and the 401 challenges of `/sse` and `/message` point to
//! that same metadata.
//!
//! This file is self-contained (the `tests` package includes it with `#[path]`): it is
//! generic over the rmcp server handler.

use std::collections::HashMap;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

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
/// Where clients post their messages (give it to `McpOAuthBuilder::mcp_endpoint`).
pub(crate) const MESSAGE_PATH: &str = "/message";

/// Messages waiting for the MCP server of one session (client → server).
const INBOX_CAPACITY: usize = 32;
/// Messages waiting for the event stream of one session (server → client).
const OUTBOX_CAPACITY: usize = 64;
/// The largest message body (larger: 413).
const MAX_BODY_BYTES: usize = 4 << 20;
/// How long a POST waits for room in a busy session before answering 503.
const INBOX_WAIT: Duration = Duration::from_secs(5);

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
    keep_alive: Duration,
}

impl<S> Clone for LegacySse<S> {
    fn clone(&self) -> Self {
        Self {
            factory: self.factory.clone(),
            sessions: self.sessions.clone(),
            max_sessions: self.max_sessions,
            keep_alive: self.keep_alive,
        }
    }
}

impl<S> std::fmt::Debug for LegacySse<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LegacySse")
            .field("sessions", &self.sessions.lock().len())
            .field("max_sessions", &self.max_sessions)
            .field("keep_alive", &self.keep_alive)
            .finish_non_exhaustive()
    }
}

impl<S: ServerHandler> LegacySse<S> {
    /// At most 1000 sessions at a time, a keep-alive comment every 15 s; `factory` makes
    /// the MCP server of each new session.
    pub(crate) fn new(factory: impl Fn() -> S + Send + Sync + 'static) -> Self {
        Self {
            factory: Arc::new(factory),
            sessions: Arc::default(),
            max_sessions: 1000,
            keep_alive: Duration::from_secs(15),
        }
    }

    /// At most `max` open sessions; `GET /sse` beyond that answers 503.
    pub(crate) fn max_sessions(mut self, max: usize) -> Self {
        self.max_sessions = max;
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
        let (outbox_tx, outbox_rx) = mpsc::channel(OUTBOX_CAPACITY);
        {
            let mut map = self.sessions.lock();
            if map.len() >= self.max_sessions {
                tracing::warn!(max = self.max_sessions, "legacy SSE session limit reached");
                return error(
                    HttpResponse::ServiceUnavailable().insert_header(("Retry-After", "30")),
                    "too_many_sessions",
                    "Too many open sessions, try again later",
                );
            }
            map.insert(
                id.clone(),
                Session {
                    principal,
                    inbox: inbox_tx,
                },
            );
        }
        // Removes the session when the stream is dropped (the client went away). That
        // drops its inbox, so the MCP server's transport ends and the server stops.
        let guard = SessionGuard {
            sessions: self.sessions.clone(),
            id: id.clone(),
        };
        let server = (self.factory)();
        let transport = SessionTransport {
            inbox: inbox_rx,
            outbox: outbox_tx,
        };
        tokio::spawn(async move {
            match server.serve(transport).await {
                Ok(running) => {
                    let _ = running.waiting().await;
                }
                Err(err) => tracing::debug!(%err, "legacy SSE session ended before initialization"),
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
        let inbox = match self.sessions.lock().get(&query.session_id) {
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
    map: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Session>> {
        // A panic while holding the lock leaves the map consistent (single inserts and
        // removes), so keep serving.
        self.map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
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
        self.sessions.lock().remove(&self.id);
    }
}

/// rmcp's side of a session: messages posted to it in, messages for the stream out.
struct SessionTransport {
    inbox: mpsc::Receiver<ClientJsonRpcMessage>,
    outbox: mpsc::Sender<ServerJsonRpcMessage>,
}

impl Transport<RoleServer> for SessionTransport {
    type Error = mpsc::error::SendError<ServerJsonRpcMessage>;

    fn send(
        &mut self,
        item: ServerJsonRpcMessage,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let outbox = self.outbox.clone();
        async move { outbox.send(item).await }
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
/// Ends when the session's server stops; dropping it ends the session.
struct EventStream {
    endpoint: Option<Bytes>,
    outbox: mpsc::Receiver<ServerJsonRpcMessage>,
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
