//! The loopback authorization server.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use actix_web::dev::ServerHandle;
use actix_web::http::header;
use actix_web::{App, HttpResponse, HttpServer, web};
use serde_json::{Map, Value, json};

use super::discovery::{MetadataDocument, MetadataFault};
use super::introspection::{IntrospectionFault, TokenStore};
use super::keys::{self, KeyRing};
use super::token::TokenBuilder;
use crate::McpOAuthBuilder;

/// How the JWKS endpoint misbehaves. Set with [`TestAuthServer::set_jwks_fault`].
///
/// ```
/// use mcp_oauth::testing::{JwksFault, TestAuthServer};
///
/// let auth = TestAuthServer::start();
/// let resource = "http://127.0.0.1:8080/mcp";
/// let oauth = auth.configure(resource).build()?;
/// auth.set_jwks_fault(JwksFault::Status(500));
/// let token = auth.token().audience(resource).sign();
/// let err = actix_web::rt::System::new().block_on(oauth.authenticate(&token)).unwrap_err();
/// assert_eq!(err.refusal().status().as_u16(), 503); // not 401: the token may be fine
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
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
    /// Answer 200 with the valid key set padded past any sane JWKS size (1 MiB, in a
    /// member a key set reader ignores): only a cap on the body refuses it.
    Huge,
    /// Wait this long before answering.
    Delay(Duration),
    /// Answer `302 Found` to the same keys at another URL (`…/moved/jwks`, counted by
    /// [`TestAuthServer::moved_requests`]): a client that follows redirects gets them.
    Redirect,
}

pub(crate) struct State {
    pub(crate) ring: Arc<KeyRing>,
    /// Public JWKs published beside the ring's (see [`TestAuthServer::publish_key`]).
    extra_keys: Vec<Value>,
    rotations: u32,
    fault: JwksFault,
    jwks_max_age: Option<u64>,
    /// Dynamically registered clients: client id → redirect URIs (RFC 7591).
    clients: HashMap<String, Vec<String>>,
    /// Authorization codes not yet redeemed.
    codes: HashMap<String, PendingCode>,
    /// Per discovery location (indexed by [`MetadataDocument::slot`]).
    pub(super) metadata_faults: [MetadataFault; 3],
    /// Members merged into every metadata document (`null`: removed).
    pub(super) metadata_patch: Map<String, Value>,
    /// Introspection clients: client id → secret.
    pub(super) introspection_clients: HashMap<String, String>,
    pub(super) introspection_fault: IntrospectionFault,
    /// A fault for the next N introspection requests, and N (never 0).
    pub(super) next_introspection_faults: Option<(IntrospectionFault, usize)>,
    pub(super) last_introspection_auth: Option<&'static str>,
    pub(super) last_introspection_hint: Option<String>,
    /// Whether JWTs are introspected (off: `unsupported_token_type`, as oidc-provider).
    pub(super) jwt_introspection: bool,
    /// Live [`IntrospectionHold`](super::introspection::IntrospectionHold) guards.
    pub(super) introspection_holds: usize,
    /// Whether `/token` issues opaque access tokens.
    pub(super) opaque_tokens: bool,
    /// Opaque tokens issued and tokens revoked.
    pub(super) tokens: TokenStore,
}

/// What an authorization code stands for (single use, five minutes).
struct PendingCode {
    client_id: String,
    redirect_uri: String,
    challenge: String,
    scope: String,
    resource: String,
    expires: Instant,
}

/// At most this many registered clients, pending codes and introspection clients are kept.
pub(super) const MAX_ENTRIES: usize = 1024;

pub(crate) struct Shared {
    state: Mutex<State>,
    jwks_requests: AtomicUsize,
    /// Metadata requests per discovery location (indexed by [`MetadataDocument::slot`]).
    pub(super) metadata_requests: [AtomicUsize; 3],
    pub(super) introspection_requests: AtomicUsize,
    /// Requests to the targets of [`JwksFault::Redirect`] and [`MetadataFault::Redirect`].
    pub(super) moved_requests: AtomicUsize,
    pub(super) introspections_in_flight: AtomicUsize,
    pub(super) introspections_peak: AtomicUsize,
    /// Woken when the last introspection hold is released.
    pub(super) introspection_released: tokio::sync::Notify,
    /// What every opaque token issued here starts with.
    pub(super) opaque_prefix: String,
    pub(crate) issuer: String,
    /// `http://127.0.0.1:PORT`.
    pub(super) origin: String,
    /// The issuer without a terminating `/`: endpoint URLs are `{base}/token` etc.
    pub(super) base: String,
    /// The issuer's path without a terminating `/` (empty: no path).
    pub(super) path: String,
    /// The path of the JWKS on the origin (`{path}/jwks` unless chosen).
    pub(super) jwks_path: String,
}

impl Shared {
    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// An OAuth 2.1 authorization server for tests, listening on 127.0.0.1.
///
/// Stops when dropped.
///
/// ```
/// use mcp_oauth::testing::TestAuthServer;
///
/// let auth = TestAuthServer::start();
/// let resource = "http://127.0.0.1:8080/mcp";
/// let oauth = auth.configure(resource).build()?;
/// let token = auth.token().audience(resource).sign();
/// let client = actix_web::rt::System::new().block_on(oauth.authenticate(&token))?;
/// assert_eq!(client.issuer(), Some(auth.issuer()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct TestAuthServer {
    shared: Arc<Shared>,
    handle: ServerHandle,
}

impl std::fmt::Debug for TestAuthServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestAuthServer")
            .field("issuer", &self.shared.issuer)
            .finish_non_exhaustive()
    }
}

impl TestAuthServer {
    /// Generates keys and starts listening on an ephemeral port of 127.0.0.1.
    ///
    /// ```
    /// let auth = mcp_oauth::testing::TestAuthServer::start();
    /// assert!(auth.issuer().starts_with("http://127.0.0.1:"));
    /// ```
    ///
    /// # Panics
    /// If no loopback port can be bound or key generation fails.
    pub fn start() -> Self {
        Self::start_on_port(0)
    }

    /// Like [`start`](Self::start), on a chosen port of 127.0.0.1 (0: any free port).
    ///
    /// ```no_run
    /// // For a client that must be configured with a fixed authorization server URL.
    /// let auth = mcp_oauth::testing::TestAuthServer::start_on_port(9000);
    /// assert_eq!(auth.issuer(), "http://127.0.0.1:9000");
    /// ```
    ///
    /// # Panics
    /// If the port cannot be bound or key generation fails.
    pub fn start_on_port(port: u16) -> Self {
        Self::builder().port(port).start()
    }

    /// A builder, for a fixed port or an issuer with a path.
    ///
    /// ```
    /// let auth = mcp_oauth::testing::TestAuthServer::builder().issuer_path("/realms/test").start();
    /// assert!(auth.issuer().ends_with("/realms/test"));
    /// ```
    pub fn builder() -> TestAuthServerBuilder {
        TestAuthServerBuilder::default()
    }

    pub(super) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// The issuer identifier, `http://127.0.0.1:<port>` (no trailing slash), followed by
    /// the [`issuer_path`](TestAuthServerBuilder::issuer_path) if one was given.
    ///
    /// ```
    /// let auth = mcp_oauth::testing::TestAuthServer::start();
    /// let port: u16 = auth.issuer().trim_start_matches("http://127.0.0.1:").parse()?;
    /// assert_ne!(port, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn issuer(&self) -> &str {
        &self.shared.issuer
    }

    /// The JWKS URL: RSA (`kid` `rsa-1`, then `rsa-2`, ... after rotations), EC P-256,
    /// EC P-384 and Ed25519 public keys, and any [published](Self::publish_key) ones.
    /// `{issuer}/jwks` unless the builder chose another
    /// [path](TestAuthServerBuilder::jwks_path); the metadata's `jwks_uri` names it.
    ///
    /// ```
    /// let auth = mcp_oauth::testing::TestAuthServer::start();
    /// assert_eq!(auth.jwks_uri(), format!("{}/jwks", auth.issuer()));
    /// let body = actix_web::rt::System::new().block_on(async {
    ///     let mut res = awc::Client::default().get(auth.jwks_uri()).send().await?;
    ///     Ok::<_, Box<dyn std::error::Error>>(res.body().await?)
    /// })?;
    /// let jwks: serde_json::Value = serde_json::from_slice(&body)?;
    /// assert_eq!(jwks["keys"].as_array().map(Vec::len), Some(4));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn jwks_uri(&self) -> String {
        format!("{}{}", self.shared.origin, self.shared.jwks_path)
    }

    /// The token endpoint: `client_credentials` (`client_id`, `scope` and `resource`
    /// honoured; no client authentication) and `authorization_code` with PKCE.
    ///
    /// ```
    /// # let auth = mcp_oauth::testing::TestAuthServer::start();
    /// let resource = "http://127.0.0.1:8080/mcp";
    /// let form = [("grant_type", "client_credentials"), ("resource", resource), ("scope", "mcp")];
    /// let oauth = auth.configure(resource).required_scopes(["mcp"]).build()?;
    /// let client = actix_web::rt::System::new().block_on(async {
    ///     let mut res = awc::Client::default().post(auth.token_endpoint()).send_form(&form).await?;
    ///     let body: serde_json::Value = res.json().await?;
    ///     let token = body["access_token"].as_str().unwrap_or_default();
    ///     Ok::<_, Box<dyn std::error::Error>>(oauth.authenticate(token).await?)
    /// })?;
    /// assert_eq!(client.client_id(), Some("test-client"));
    /// assert_eq!(client.scopes(), ["mcp"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn token_endpoint(&self) -> String {
        format!("{}/token", self.shared.base)
    }

    /// A builder for the resource `resource`, already pointing at this server:
    /// resource, authorization server and JWKS URI set.
    ///
    /// ```
    /// let auth = mcp_oauth::testing::TestAuthServer::start();
    /// let oauth = auth.configure("http://127.0.0.1:8080/mcp").required_scopes(["mcp"]).build()?;
    /// assert_eq!(oauth.resource(), "http://127.0.0.1:8080/mcp");
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn configure(&self, resource: &str) -> McpOAuthBuilder {
        self.configure_issuer_only(resource)
            .jwks_uri(self.jwks_uri())
    }

    /// A builder for the resource `resource` that knows only this server's issuer: the
    /// JWKS URI (and the rest) must be discovered from the metadata, as in production.
    ///
    /// ```
    /// use mcp_oauth::testing::TestAuthServer;
    ///
    /// // The keys are not where a guess would look: only discovery finds them.
    /// let auth = TestAuthServer::builder().jwks_path("/keys/2024/jwks.json").start();
    /// let resource = "http://127.0.0.1:8080/mcp";
    /// let oauth = auth.configure_issuer_only(resource).build()?;
    /// let token = auth.token().audience(resource).sign();
    /// let client = actix_web::rt::System::new().block_on(oauth.authenticate(&token))?;
    /// assert_eq!(client.issuer(), Some(auth.issuer()));
    /// assert_eq!((auth.metadata_requests(), auth.jwks_requests()), (1, 1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn configure_issuer_only(&self, resource: &str) -> McpOAuthBuilder {
        crate::McpOAuth::builder()
            .resource(resource)
            .authorization_server(self.issuer())
    }

    /// A token builder: RS256, `typ: at+jwt`, the current RSA `kid`, this issuer,
    /// `sub` `test-user`, `client_id` `test-client`, issued now, valid for an hour.
    /// Set the audience: by default there is none.
    ///
    /// ```
    /// # let auth = mcp_oauth::testing::TestAuthServer::start();
    /// let resource = "http://127.0.0.1:8080/mcp";
    /// let oauth = auth.configure(resource).build()?;
    /// let token = auth.token().audience(resource).sign();
    /// let client = actix_web::rt::System::new().block_on(oauth.authenticate(&token))?;
    /// assert_eq!(client.subject(), Some("test-user"));
    /// assert_eq!(client.client_id(), Some("test-client"));
    /// assert!(client.scopes().is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn token(&self) -> TokenBuilder {
        TokenBuilder::new(self.shared.clone())
    }

    /// Replaces the RSA key with a new one under a new `kid` (the old key is no longer
    /// published). Returns the new `kid`. Builders made by [`token`](Self::token)
    /// afterwards use the new key; the EC and Ed25519 keys stay.
    ///
    /// ```
    /// use mcp_oauth::{Refusal, TokenRejection};
    /// # let auth = mcp_oauth::testing::TestAuthServer::start();
    /// # let resource = "http://127.0.0.1:8080/mcp";
    /// # let oauth = auth.configure(resource).build()?;
    /// let old = auth.token().audience(resource).sign();
    /// assert_eq!(auth.rotate_keys(), "rsa-2");
    /// let new = auth.token().audience(resource).sign();
    /// actix_web::rt::System::new().block_on(async {
    ///     assert!(oauth.authenticate(&new).await.is_ok());
    ///     let err = oauth.authenticate(&old).await.unwrap_err(); // its key is gone
    ///     assert_eq!(err.refusal(), &Refusal::InvalidToken(TokenRejection::UnknownKey));
    /// });
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn rotate_keys(&self) -> String {
        let mut state = self.shared.state();
        state.rotations += 1;
        let kid = format!("rsa-{}", state.rotations);
        state.ring = Arc::new(state.ring.rotated(kid.clone()));
        kid
    }

    /// Publishes `jwk` (a public JWK, as a JSON object) in the JWKS beside the server's
    /// own keys, from the next request on and across rotations: for tokens signed
    /// elsewhere, e.g. by another JOSE library with a key of the test's own. At most 1024
    /// keys are kept; further ones are ignored.
    ///
    /// ```
    /// use serde_json::json;
    ///
    /// let auth = mcp_oauth::testing::TestAuthServer::start();
    /// // RFC 8037 Appendix A.2: an Ed25519 public key.
    /// auth.publish_key(json!({
    ///     "kty": "OKP", "crv": "Ed25519", "kid": "outside",
    ///     "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
    /// }));
    /// let jwks: serde_json::Value = actix_web::rt::System::new().block_on(async {
    ///     let mut res = awc::Client::default().get(auth.jwks_uri()).send().await?;
    ///     Ok::<_, Box<dyn std::error::Error>>(res.json().await?)
    /// })?;
    /// assert_eq!(jwks["keys"][4]["kid"], "outside");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn publish_key(&self, jwk: Value) {
        let mut state = self.shared.state();
        if state.extra_keys.len() < MAX_ENTRIES {
            state.extra_keys.push(jwk);
        }
    }

    /// How many times the target of a redirect ([`JwksFault::Redirect`],
    /// [`MetadataFault::Redirect`]) was requested: zero for a client that follows none.
    ///
    /// ```
    /// use mcp_oauth::testing::{JwksFault, TestAuthServer};
    ///
    /// let auth = TestAuthServer::start();
    /// auth.set_jwks_fault(JwksFault::Redirect);
    /// let (status, location) = actix_web::rt::System::new().block_on(async {
    ///     let res = awc::Client::builder().disable_redirects().finish()
    ///         .get(auth.jwks_uri()).send().await?;
    ///     let location = res.headers().get("location").map(|l| l.to_str()).transpose()?
    ///         .map(str::to_owned);
    ///     Ok::<_, Box<dyn std::error::Error>>((res.status().as_u16(), location))
    /// })?;
    /// assert_eq!(status, 302);
    /// assert_eq!(location, Some(format!("{}/moved/jwks", auth.issuer())));
    /// assert_eq!(auth.moved_requests(), 0); // not followed
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn moved_requests(&self) -> usize {
        self.shared.moved_requests.load(Ordering::SeqCst)
    }

    /// Makes the JWKS endpoint misbehave (or behave again with [`JwksFault::None`]).
    ///
    /// ```
    /// use mcp_oauth::testing::{JwksFault, TestAuthServer};
    /// # let auth = TestAuthServer::start();
    /// # let resource = "http://127.0.0.1:8080/mcp";
    /// # let oauth = auth.configure(resource).build()?;
    /// let token = auth.token().audience(resource).sign();
    /// actix_web::rt::System::new().block_on(async {
    ///     assert!(oauth.authenticate(&token).await.is_ok()); // keys fetched
    ///     auth.set_jwks_fault(JwksFault::Garbage);
    ///     assert!(oauth.authenticate(&token).await.is_ok()); // the cached keys still serve
    /// });
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn set_jwks_fault(&self, fault: JwksFault) {
        self.shared.state().fault = fault;
    }

    /// Sends `Cache-Control: max-age=<secs>` with the JWKS (none by default).
    ///
    /// ```
    /// let auth = mcp_oauth::testing::TestAuthServer::start();
    /// auth.set_jwks_max_age(Some(600));
    /// let res = actix_web::rt::System::new()
    ///     .block_on(async { awc::Client::default().get(auth.jwks_uri()).send().await })?;
    /// let cache_control = res.headers().get("cache-control").map(|v| v.to_str()).transpose()?;
    /// assert_eq!(cache_control, Some("max-age=600"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_jwks_max_age(&self, secs: Option<u64>) {
        self.shared.state().jwks_max_age = secs;
    }

    /// How many times the JWKS was requested (failed requests included).
    ///
    /// ```
    /// # let auth = mcp_oauth::testing::TestAuthServer::start();
    /// # let resource = "http://127.0.0.1:8080/mcp";
    /// # let oauth = auth.configure(resource).build()?;
    /// let token = auth.token().audience(resource).sign();
    /// actix_web::rt::System::new().block_on(async {
    ///     for _ in 0..3 {
    ///         assert!(oauth.authenticate(&token).await.is_ok());
    ///     }
    /// });
    /// assert_eq!(auth.jwks_requests(), 1); // fetched once, then cached
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
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

/// Configures a [`TestAuthServer`] before it starts: the port (or a socket already
/// bound), a path in the issuer, and where the JWKS lives. Made by
/// [`TestAuthServer::builder`].
///
/// ```
/// use mcp_oauth::testing::TestAuthServer;
///
/// let auth = TestAuthServer::builder().issuer_path("/tenant1").start();
/// assert!(auth.issuer().ends_with("/tenant1"));
/// assert_eq!(auth.jwks_uri(), format!("{}/jwks", auth.issuer()));
/// ```
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct TestAuthServerBuilder {
    port: u16,
    path: String,
    opaque_prefix: String,
    jwks_path: Option<String>,
    /// A socket already bound (shared by clones of the builder; duplicated at start).
    listener: Option<Arc<std::net::TcpListener>>,
}

/// Only ASCII letters, digits and `-._~/`, and no empty, `.` or `..` segment (`path`
/// without its terminating `/`, if any).
fn plain_path(path: &str) -> bool {
    let segments_ok = path.is_empty()
        || path
            .split('/')
            .skip(1)
            .all(|seg| !seg.is_empty() && seg != "." && seg != "..");
    segments_ok
        && path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~/".contains(&b))
}

impl TestAuthServerBuilder {
    /// Listen on this port of 127.0.0.1 (default 0: any free port).
    ///
    /// ```
    /// # let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    /// // `port` is free (found by binding port 0 and letting go)
    /// let auth = mcp_oauth::testing::TestAuthServer::builder().port(port).start();
    /// assert_eq!(auth.issuer(), format!("http://127.0.0.1:{port}"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// A path in the issuer identifier: `issuer_path("/tenant1")` makes the issuer
    /// `http://127.0.0.1:PORT/tenant1` (a terminating `/` is kept only if given; a
    /// missing leading `/` is added). Default: no path.
    ///
    /// Every endpoint then lives under the issuer (`{issuer}/jwks`, `/token`,
    /// `/register`, `/authorize`, `/introspect`, a terminating `/` of the issuer
    /// not doubled), and the metadata is served at the three discovery locations of
    /// [`MetadataDocument`]: `/.well-known/oauth-authorization-server/tenant1`,
    /// `/.well-known/openid-configuration/tenant1` and
    /// `/tenant1/.well-known/openid-configuration`.
    ///
    /// ```
    /// use mcp_oauth::testing::{MetadataDocument, TestAuthServer};
    ///
    /// let auth = TestAuthServer::builder().issuer_path("/tenant1").start();
    /// let base = auth.issuer().trim_end_matches("/tenant1");
    /// assert_eq!(
    ///     auth.metadata_url(MetadataDocument::OAuth),
    ///     format!("{base}/.well-known/oauth-authorization-server/tenant1")
    /// );
    /// let metadata: serde_json::Value = actix_web::rt::System::new().block_on(async {
    ///     let url = auth.metadata_url(MetadataDocument::OidcAppended);
    ///     let mut res = awc::Client::default().get(url).send().await?;
    ///     Ok::<_, Box<dyn std::error::Error>>(res.json().await?)
    /// })?;
    /// assert_eq!(metadata["issuer"], auth.issuer());
    /// assert_eq!(metadata["token_endpoint"], format!("{}/token", auth.issuer()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// Only ASCII letters, digits and `-._~/` may appear in `path` (no empty, `.` or
    /// `..` segment); anything else makes [`start`](Self::start) panic.
    pub fn issuer_path(mut self, path: &str) -> Self {
        self.path = if path.is_empty() || path.starts_with('/') {
            path.to_owned()
        } else {
            format!("/{path}")
        };
        self
    }

    /// Serve the JWKS at this path of the server's origin (a missing leading `/` is
    /// added) instead of `{issuer}/jwks`; the metadata's `jwks_uri` follows, so only a
    /// resource server that reads it finds the keys.
    ///
    /// ```
    /// let auth = mcp_oauth::testing::TestAuthServer::builder().jwks_path("/oauth2/v1/keys").start();
    /// let origin = auth.issuer();
    /// assert_eq!(auth.jwks_uri(), format!("{origin}/oauth2/v1/keys"));
    /// let statuses = actix_web::rt::System::new().block_on(async {
    ///     let client = awc::Client::default();
    ///     let keys = client.get(auth.jwks_uri()).send().await?.status().as_u16();
    ///     let guessed = client.get(format!("{origin}/jwks")).send().await?.status().as_u16();
    ///     Ok::<_, Box<dyn std::error::Error>>((keys, guessed))
    /// })?;
    /// assert_eq!(statuses, (200, 404));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// The same characters as [`issuer_path`](Self::issuer_path) are allowed.
    pub fn jwks_path(mut self, path: &str) -> Self {
        self.jwks_path = Some(if path.starts_with('/') {
            path.to_owned()
        } else {
            format!("/{path}")
        });
        self
    }

    /// Listen on this socket, already bound to 127.0.0.1 (instead of binding
    /// [`port`](Self::port)): a test can hold a port from the start, point a resource
    /// server at it, and start the authorization server there later without another
    /// process taking the port in between.
    ///
    /// ```
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let port = listener.local_addr()?.port();
    /// // ... configure something with http://127.0.0.1:{port} ...
    /// let auth = mcp_oauth::testing::TestAuthServer::builder().listener(listener).start();
    /// assert_eq!(auth.issuer(), format!("http://127.0.0.1:{port}"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn listener(mut self, listener: std::net::TcpListener) -> Self {
        self.listener = Some(Arc::new(listener));
        self
    }

    /// A prefix for every opaque token this server issues (access and refresh tokens), as
    /// many authorization servers do (`at_`, `gho_`, ...), to test a resource server's
    /// routing by prefix. Default: none.
    ///
    /// ```
    /// let auth = mcp_oauth::testing::TestAuthServer::builder().opaque_token_prefix("at_").start();
    /// assert!(auth.token().opaque().starts_with("at_"));
    /// ```
    ///
    /// Only ASCII letters, digits and `-._~+/` may appear in `prefix` (token characters,
    /// RFC 6750 §2.1); anything else makes [`start`](Self::start) panic.
    pub fn opaque_token_prefix(mut self, prefix: &str) -> Self {
        self.opaque_prefix = prefix.to_owned();
        self
    }

    /// Generates keys and starts listening on 127.0.0.1.
    ///
    /// ```
    /// let auth = mcp_oauth::testing::TestAuthServer::builder().start();
    /// assert!(auth.issuer().starts_with("http://127.0.0.1:"));
    /// ```
    ///
    /// # Panics
    /// If the port cannot be bound (or the given [`listener`](Self::listener) cannot be
    /// used), key generation fails, the issuer path or the [JWKS path](Self::jwks_path)
    /// has a character or segment [`issuer_path`](Self::issuer_path) does not allow, or
    /// the [opaque-token prefix](Self::opaque_token_prefix) a character it does not allow.
    pub fn start(self) -> TestAuthServer {
        let opaque_prefix = self.opaque_prefix;
        assert!(
            opaque_prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b)),
            "opaque token prefix {opaque_prefix:?}: only ASCII letters, digits and -._~+/"
        );
        let path = self.path;
        let trimmed = path.strip_suffix('/').unwrap_or(&path).to_owned();
        assert!(
            plain_path(&trimmed),
            "issuer path {path:?}: only ASCII letters, digits and -._~/ and no empty, . or .. segment"
        );
        let jwks_path = self.jwks_path.unwrap_or_else(|| format!("{trimmed}/jwks"));
        assert!(
            plain_path(jwks_path.strip_suffix('/').unwrap_or(&jwks_path)),
            "JWKS path {jwks_path:?}: only ASCII letters, digits and -._~/ and no empty, . or .. segment"
        );
        let given = self.listener.map(|l| {
            l.try_clone()
                .expect("the given listener can be shared with the server thread")
        });
        let port = self.port;
        let ring = Arc::new(KeyRing::generate());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("mcp-oauth-test-auth-server".into())
            .spawn(move || {
                actix_web::rt::System::new().block_on(async move {
                    let listener = match given {
                        Some(listener) => listener,
                        None => std::net::TcpListener::bind(("127.0.0.1", port))
                            .expect("bind a loopback port"),
                    };
                    let port = listener.local_addr().expect("local addr").port();
                    let origin = format!("http://127.0.0.1:{port}");
                    let shared = Arc::new(Shared {
                        state: Mutex::new(State {
                            ring,
                            extra_keys: Vec::new(),
                            rotations: 1,
                            fault: JwksFault::None,
                            jwks_max_age: None,
                            clients: HashMap::new(),
                            codes: HashMap::new(),
                            metadata_faults: [MetadataFault::None; 3],
                            metadata_patch: Map::new(),
                            introspection_clients: HashMap::new(),
                            introspection_fault: IntrospectionFault::None,
                            next_introspection_faults: None,
                            last_introspection_auth: None,
                            last_introspection_hint: None,
                            jwt_introspection: true,
                            introspection_holds: 0,
                            opaque_tokens: false,
                            tokens: TokenStore::default(),
                        }),
                        jwks_requests: AtomicUsize::new(0),
                        metadata_requests: Default::default(),
                        introspection_requests: AtomicUsize::new(0),
                        moved_requests: AtomicUsize::new(0),
                        introspections_in_flight: AtomicUsize::new(0),
                        introspections_peak: AtomicUsize::new(0),
                        introspection_released: tokio::sync::Notify::new(),
                        opaque_prefix,
                        issuer: format!("{origin}{path}"),
                        base: format!("{origin}{trimmed}"),
                        origin,
                        path: trimmed.clone(),
                        jwks_path: jwks_path.clone(),
                    });
                    let data = web::Data::from(shared.clone());
                    let server = HttpServer::new(move || {
                        let p = &trimmed;
                        let mut app = App::new().app_data(data.clone());
                        for doc in MetadataDocument::served(!p.is_empty()) {
                            app = app.route(
                                &doc.path(p),
                                web::get()
                                    .to(move |shared| super::discovery::metadata(shared, doc)),
                            );
                        }
                        app.route(&jwks_path, web::get().to(jwks))
                            .route(&format!("{p}/moved/jwks"), web::get().to(moved_jwks))
                            .route(
                                &format!("{p}/moved/metadata"),
                                web::get().to(super::discovery::moved_metadata),
                            )
                            .route(&format!("{p}/token"), web::post().to(token))
                            .route(&format!("{p}/register"), web::post().to(register))
                            .route(&format!("{p}/authorize"), web::get().to(authorize))
                            .route(
                                &format!("{p}/introspect"),
                                web::post().to(super::introspection::introspect),
                            )
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
        let (shared, handle) = rx
            .recv()
            .expect("the test authorization server did not start");
        TestAuthServer { shared, handle }
    }
}

/// The published key set: the ring's keys, then the extra ones.
fn key_set(state: &State) -> Value {
    let mut body = state.ring.jwks();
    if let Some(keys) = body.get_mut("keys").and_then(Value::as_array_mut) {
        keys.extend(state.extra_keys.iter().cloned());
    }
    body
}

async fn jwks(shared: web::Data<Shared>) -> HttpResponse {
    shared.jwks_requests.fetch_add(1, Ordering::SeqCst);
    let (fault, mut body, max_age) = {
        let state = shared.state();
        (state.fault, key_set(&state), state.jwks_max_age)
    };
    match fault {
        JwksFault::None => {}
        JwksFault::Status(code) => return fault_status(code),
        JwksFault::Garbage => {
            return HttpResponse::Ok()
                .content_type("application/json")
                .body("{\"keys\": \"not keys\"");
        }
        JwksFault::Huge => {
            // RFC 7517 §5: members other than `keys` are ignored by readers.
            if let Some(set) = body.as_object_mut() {
                set.insert("pad".into(), json!("x".repeat(1 << 20)));
            }
        }
        JwksFault::Delay(d) => actix_web::rt::time::sleep(d).await,
        JwksFault::Redirect => return found(&format!("{}/moved/jwks", shared.base)),
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
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    redirect_uri: Option<String>,
    #[serde(default)]
    code_verifier: Option<String>,
}

fn oauth_error(code: &str, description: &str) -> HttpResponse {
    HttpResponse::BadRequest().json(json!({"error": code, "error_description": description}))
}

/// `client_credentials` (any client, for the quickstart and tests) and
/// `authorization_code` with PKCE S256 (for clients doing the full MCP flow).
///
/// A request with a `DPoP` proof (RFC 9449 §5) gets a token bound to the proof's key
/// (`cnf.jkt`) and `token_type` `DPoP`; a bad proof, 400 `invalid_dpop_proof`.
async fn token(
    shared: web::Data<Shared>,
    req: actix_web::HttpRequest,
    form: web::Form<TokenRequest>,
) -> HttpResponse {
    let form = form.into_inner();
    let jkt = match super::dpop::token_request_key(&req, &format!("{}/token", shared.base)) {
        Ok(jkt) => jkt,
        Err(why) => return oauth_error("invalid_dpop_proof", why),
    };
    let (subject, client_id, scope, resource) = match form.grant_type.as_str() {
        "client_credentials" => {
            let Some(resource) = form.resource else {
                return oauth_error("invalid_target", "resource (RFC 8707) is required");
            };
            let client_id = form.client_id.unwrap_or_else(|| "test-client".to_owned());
            (
                client_id.clone(),
                client_id,
                form.scope.unwrap_or_default(),
                resource,
            )
        }
        "authorization_code" => {
            let (Some(code), Some(verifier)) = (form.code, form.code_verifier) else {
                return oauth_error("invalid_request", "code and code_verifier are required");
            };
            let Some(pending) = shared.state().codes.remove(&code) else {
                return oauth_error("invalid_grant", "unknown or used code");
            };
            if pending.expires < Instant::now()
                || form.client_id.as_deref() != Some(pending.client_id.as_str())
                || form.redirect_uri.as_deref() != Some(pending.redirect_uri.as_str())
            {
                return oauth_error(
                    "invalid_grant",
                    "code does not match client or redirect_uri",
                );
            }
            if keys::b64(
                aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes()).as_ref(),
            ) != pending.challenge
            {
                return oauth_error("invalid_grant", "PKCE verification failed");
            }
            if form
                .resource
                .as_deref()
                .is_some_and(|r| r != pending.resource)
            {
                return oauth_error(
                    "invalid_target",
                    "resource differs from the authorization request",
                );
            }
            (
                "test-user".to_owned(),
                pending.client_id,
                pending.scope,
                pending.resource,
            )
        }
        _ => {
            return oauth_error(
                "unsupported_grant_type",
                "use client_credentials or authorization_code",
            );
        }
    };
    let opaque = shared.state().opaque_tokens;
    let mut builder = TokenBuilder::new(shared.into_inner())
        .subject(&subject)
        .client_id(&client_id)
        .audience(&resource)
        .scope(&scope);
    if let Some(jkt) = &jkt {
        builder = builder.claim("cnf", json!({ "jkt": jkt }));
    }
    let token = if opaque {
        builder.opaque()
    } else {
        builder.sign()
    };
    let token_type = if jkt.is_some() { "DPoP" } else { "Bearer" };
    let mut body = json!({"access_token": token, "token_type": token_type, "expires_in": 3600});
    if !scope.is_empty() {
        body["scope"] = json!(scope);
    }
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body)
}

/// RFC 7591 Dynamic Client Registration: public clients, any loopback or https redirect URI.
async fn register(shared: web::Data<Shared>, body: web::Json<serde_json::Value>) -> HttpResponse {
    let redirect_uris: Vec<String> = body
        .get("redirect_uris")
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|u| u.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if redirect_uris.is_empty() {
        return HttpResponse::BadRequest()
            .json(json!({"error": "invalid_redirect_uri", "error_description": "redirect_uris is required"}));
    }
    let client_id = format!("client-{}", super::token::random_id());
    {
        let mut state = shared.state();
        if state.clients.len() >= MAX_ENTRIES {
            return HttpResponse::ServiceUnavailable()
                .json(json!({"error": "temporarily_unavailable"}));
        }
        state
            .clients
            .insert(client_id.clone(), redirect_uris.clone());
    }
    let mut response = body.into_inner();
    response["client_id"] = json!(client_id);
    response["client_id_issued_at"] = json!(super::token::unix_now());
    response["redirect_uris"] = json!(redirect_uris);
    response["token_endpoint_auth_method"] = json!("none");
    HttpResponse::Created().json(response)
}

#[derive(serde::Deserialize)]
struct AuthorizeRequest {
    response_type: String,
    client_id: String,
    redirect_uri: String,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    resource: Option<String>,
}

/// The authorization endpoint, approving at once (there is no user to ask): checks the
/// client, the exact redirect URI, PKCE S256 and the resource, then redirects back with
/// `code`, `state` and `iss` (RFC 9207).
async fn authorize(shared: web::Data<Shared>, query: web::Query<AuthorizeRequest>) -> HttpResponse {
    let q = query.into_inner();
    let registered = shared.state().clients.get(&q.client_id).cloned();
    let Some(redirects) = registered else {
        return oauth_error("invalid_client", "unknown client_id");
    };
    if !redirects.contains(&q.redirect_uri) {
        return oauth_error("invalid_request", "redirect_uri is not registered");
    }
    if q.response_type != "code" {
        return oauth_error("unsupported_response_type", "only code");
    }
    let (Some(challenge), Some("S256")) = (q.code_challenge, q.code_challenge_method.as_deref())
    else {
        return oauth_error("invalid_request", "PKCE with S256 is required");
    };
    let Some(resource) = q.resource else {
        return oauth_error("invalid_target", "resource (RFC 8707) is required");
    };
    let code = super::token::random_id();
    {
        let mut state = shared.state();
        let now = Instant::now();
        state.codes.retain(|_, c| c.expires > now);
        if state.codes.len() >= MAX_ENTRIES {
            return HttpResponse::ServiceUnavailable()
                .json(json!({"error": "temporarily_unavailable"}));
        }
        state.codes.insert(
            code.clone(),
            PendingCode {
                client_id: q.client_id,
                redirect_uri: q.redirect_uri.clone(),
                challenge,
                scope: q.scope.unwrap_or_default(),
                resource,
                expires: now + Duration::from_secs(300),
            },
        );
    }
    let mut location = url::Url::parse(&q.redirect_uri)
        .unwrap_or_else(|_| url::Url::parse("http://127.0.0.1/").expect("static URL"));
    location
        .query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("iss", &shared.issuer);
    if let Some(st) = q.state {
        location.query_pairs_mut().append_pair("state", &st);
    }
    HttpResponse::Found()
        .insert_header((header::LOCATION, location.to_string()))
        .finish()
}

/// The target of [`JwksFault::Redirect`]: the keys, counted apart.
async fn moved_jwks(shared: web::Data<Shared>) -> HttpResponse {
    shared.moved_requests.fetch_add(1, Ordering::SeqCst);
    let body = key_set(&shared.state());
    HttpResponse::Ok().json(body)
}

/// `302 Found` to `location`.
pub(super) fn found(location: &str) -> HttpResponse {
    HttpResponse::Found()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// The answer of an endpoint made to fail with `code` (500 if it is not a status).
pub(super) fn fault_status(code: u16) -> HttpResponse {
    let status = actix_web::http::StatusCode::from_u16(code)
        .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
    HttpResponse::build(status).body("unavailable")
}

/// Merges `patch` into `target`: a `null` member removes the field, any other sets it.
pub(super) fn merge_patch(
    target: &mut serde_json::Map<String, serde_json::Value>,
    patch: impl IntoIterator<Item = (String, serde_json::Value)>,
) {
    for (name, value) in patch {
        if value.is_null() {
            target.remove(&name);
        } else {
            target.insert(name, value);
        }
    }
}
