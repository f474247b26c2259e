//! The loopback authorization server.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::http::header;
use actix_web::{App, HttpResponse, HttpServer, web};
use serde_json::json;

use super::keys::KeyRing;
use super::token::TokenBuilder;
use crate::McpOAuthBuilder;

/// How the JWKS endpoint misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum JwksFault {
    /// Serve the keys.
    #[default]
    None,
    /// Answer with this HTTP status and no keys.
    Status(u16),
    /// Answer 200 with a body that is not a key set.
    Garbage,
    /// Answer 200 with a body larger than any sane JWKS (1 MiB).
    Huge,
    /// Wait this long before answering.
    Delay(Duration),
}

pub(crate) struct State {
    pub(crate) ring: Arc<KeyRing>,
    rotations: u32,
    fault: JwksFault,
    jwks_max_age: Option<u64>,
}

pub(crate) struct Shared {
    state: Mutex<State>,
    jwks_requests: AtomicUsize,
    issuer: String,
}

impl Shared {
    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// An OAuth 2.1 authorization server for tests, listening on 127.0.0.1.
///
/// Stops when dropped.
pub struct TestAuthServer {
    shared: Arc<Shared>,
    handle: ServerHandle,
}

impl std::fmt::Debug for TestAuthServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestAuthServer").field("issuer", &self.shared.issuer).finish_non_exhaustive()
    }
}

impl TestAuthServer {
    /// Generates keys and starts listening on an ephemeral port of 127.0.0.1.
    ///
    /// # Panics
    /// If no loopback port can be bound or key generation fails.
    pub fn start() -> Self {
        let ring = Arc::new(KeyRing::generate());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("mcp-oauth-test-auth-server".into())
            .spawn(move || {
                actix_web::rt::System::new().block_on(async move {
                    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("bind 127.0.0.1:0");
                    let port = listener.local_addr().expect("local addr").port();
                    let shared = Arc::new(Shared {
                        state: Mutex::new(State {
                            ring,
                            rotations: 1,
                            fault: JwksFault::None,
                            jwks_max_age: None,
                        }),
                        jwks_requests: AtomicUsize::new(0),
                        issuer: format!("http://127.0.0.1:{port}"),
                    });
                    let data = web::Data::from(shared.clone());
                    let server = HttpServer::new(move || {
                        App::new()
                            .app_data(data.clone())
                            .route("/.well-known/oauth-authorization-server", web::get().to(metadata))
                            .route("/.well-known/openid-configuration", web::get().to(metadata))
                            .route("/jwks", web::get().to(jwks))
                            .route("/token", web::post().to(token))
                    })
                    .workers(1)
                    .disable_signals()
                    .shutdown_timeout(0)
                    .listen(listener)
                    .expect("listen")
                    .run();
                    let _ = tx.send((shared, server.handle()));
                    let _ = server.await;
                });
            })
            .expect("spawn the test authorization server thread");
        let (shared, handle) = rx.recv().expect("the test authorization server did not start");
        Self { shared, handle }
    }

    /// The issuer identifier, `http://127.0.0.1:<port>` (no trailing slash).
    pub fn issuer(&self) -> &str {
        &self.shared.issuer
    }

    /// The JWKS URL.
    pub fn jwks_uri(&self) -> String {
        format!("{}/jwks", self.shared.issuer)
    }

    /// The token endpoint (`client_credentials`; `scope` and `resource` honoured).
    pub fn token_endpoint(&self) -> String {
        format!("{}/token", self.shared.issuer)
    }

    /// A builder for the resource `resource`, already pointing at this server:
    /// resource, authorization server and JWKS URI set.
    pub fn configure(&self, resource: &str) -> McpOAuthBuilder {
        crate::McpOAuth::builder()
            .resource(resource)
            .authorization_server(self.issuer())
            .jwks_uri(self.jwks_uri())
    }

    /// A token builder: RS256, `typ: at+jwt`, the current RSA `kid`, this issuer,
    /// `sub` `test-user`, `client_id` `test-client`, issued now, valid for an hour.
    /// Set the audience: by default there is none.
    pub fn token(&self) -> TokenBuilder {
        TokenBuilder::new(self.shared.state().ring.clone(), &self.shared.issuer)
    }

    /// Replaces the RSA key with a new one under a new `kid` (the old key is no longer
    /// published). Returns the new `kid`. Tokens built afterwards use the new key.
    pub fn rotate_keys(&self) -> String {
        let mut state = self.shared.state();
        state.rotations += 1;
        let kid = format!("rsa-{}", state.rotations);
        state.ring = Arc::new(state.ring.rotated(kid.clone()));
        kid
    }

    /// Makes the JWKS endpoint misbehave (or behave again with [`JwksFault::None`]).
    pub fn set_jwks_fault(&self, fault: JwksFault) {
        self.shared.state().fault = fault;
    }

    /// Sends `Cache-Control: max-age=<secs>` with the JWKS (none by default).
    pub fn set_jwks_max_age(&self, secs: Option<u64>) {
        self.shared.state().jwks_max_age = secs;
    }

    /// How many times the JWKS was requested.
    pub fn jwks_requests(&self) -> usize {
        self.shared.jwks_requests.load(Ordering::SeqCst)
    }
}

impl Drop for TestAuthServer {
    fn drop(&mut self) {
        // Sends the stop command now; the server thread then ends on its own.
        drop(self.handle.stop(false));
    }
}

async fn metadata(shared: web::Data<Shared>) -> HttpResponse {
    let issuer = &shared.issuer;
    HttpResponse::Ok().json(json!({
        "issuer": issuer,
        "jwks_uri": format!("{issuer}/jwks"),
        "token_endpoint": format!("{issuer}/token"),
        "response_types_supported": ["code"],
        "grant_types_supported": ["client_credentials"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "subject_types_supported": ["public"],
    }))
}

async fn jwks(shared: web::Data<Shared>) -> HttpResponse {
    shared.jwks_requests.fetch_add(1, Ordering::SeqCst);
    let (fault, body, max_age) = {
        let state = shared.state();
        (state.fault, state.ring.jwks(), state.jwks_max_age)
    };
    match fault {
        JwksFault::None => {}
        JwksFault::Status(code) => {
            let status = actix_web::http::StatusCode::from_u16(code).unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
            return HttpResponse::build(status).body("unavailable");
        }
        JwksFault::Garbage => return HttpResponse::Ok().content_type("application/json").body("{\"keys\": \"not keys\""),
        JwksFault::Huge => {
            return HttpResponse::Ok()
                .content_type("application/json")
                .body(format!("{{\"keys\": [], \"pad\": \"{}\"}}", "x".repeat(1 << 20)));
        }
        JwksFault::Delay(d) => actix_web::rt::time::sleep(d).await,
    }
    let mut res = HttpResponse::Ok();
    if let Some(secs) = max_age {
        res.insert_header((header::CACHE_CONTROL, format!("max-age={secs}")));
    }
    res.content_type("application/json").body(body.to_string())
}

#[derive(serde::Deserialize)]
struct TokenRequest {
    grant_type: String,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    resource: Option<String>,
}

/// `client_credentials` only: enough for the quickstart and for clients under test.
async fn token(shared: web::Data<Shared>, form: web::Form<TokenRequest>) -> HttpResponse {
    if form.grant_type != "client_credentials" {
        return HttpResponse::BadRequest().json(json!({"error": "unsupported_grant_type"}));
    }
    let Some(resource) = form.resource.clone() else {
        return HttpResponse::BadRequest()
            .json(json!({"error": "invalid_target", "error_description": "resource (RFC 8707) is required"}));
    };
    let client_id = form.client_id.clone().unwrap_or_else(|| "test-client".to_owned());
    let scope = form.scope.clone().unwrap_or_default();
    let ring = shared.state().ring.clone();
    let token = TokenBuilder::new(ring, &shared.issuer)
        .subject(&client_id)
        .client_id(&client_id)
        .audience(&resource)
        .scope(&scope)
        .sign();
    HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(json!({
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": 3600,
        "scope": scope,
    }))
}

