//! RFC 7662 token introspection, opaque tokens and revocation.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Map, Value, json};

use super::keys::{self, KeyRing};
use super::server::{MAX_ENTRIES, Shared, TestAuthServer, fault_status, merge_patch};
use super::token::unix_now;

/// How the introspection endpoint misbehaves (after authenticating the caller, whose
/// wrong credentials are still refused with 401). Set for every request with
/// [`TestAuthServer::set_introspection_fault`], for the next few with
/// [`set_introspection_fault_for_next`](TestAuthServer::set_introspection_fault_for_next),
/// or for one token with
/// [`set_introspection_fault_for_token`](TestAuthServer::set_introspection_fault_for_token).
///
/// ```
/// use mcp_oauth::testing::{IntrospectionFault, TestAuthServer};
/// use serde_json::json;
///
/// let auth = TestAuthServer::start();
/// auth.introspection_client("rs", "rs-secret");
/// auth.set_introspection_fault(IntrospectionFault::Patch(json!({"token_type": "refresh_token"})));
/// let token = auth.token().opaque();
/// let body: serde_json::Value = actix_web::rt::System::new().block_on(async {
///     let mut res = awc::Client::default()
///         .post(auth.introspection_endpoint())
///         .basic_auth("rs", "rs-secret")
///         .send_form(&[("token", token.as_str())])
///         .await?;
///     Ok::<_, Box<dyn std::error::Error>>(res.json().await?)
/// })?;
/// assert_eq!(body["active"], true);
/// assert_eq!(body["token_type"], "refresh_token"); // a resource server must refuse it
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum IntrospectionFault {
    /// Answer truthfully.
    #[default]
    None,
    /// Answer with this HTTP status (500 if it is not a valid status) and no
    /// introspection response.
    Status(u16),
    /// Answer with this HTTP status (500 if it is not a valid status) and this JSON body,
    /// e.g. `Error(400, json!({"error": "invalid_client"}))`: an OAuth error response
    /// (RFC 6749 §5.2) instead of an introspection response.
    ///
    /// ```
    /// use mcp_oauth::testing::{IntrospectionFault, TestAuthServer};
    /// use serde_json::json;
    ///
    /// let auth = TestAuthServer::start();
    /// auth.introspection_client("rs", "rs-secret");
    /// auth.set_introspection_fault(IntrospectionFault::Error(400, json!({"error": "invalid_token"})));
    /// let (status, body) = actix_web::rt::System::new().block_on(async {
    ///     let mut res = awc::Client::default()
    ///         .post(auth.introspection_endpoint())
    ///         .basic_auth("rs", "rs-secret")
    ///         .send_form(&[("token", "anything")])
    ///         .await?;
    ///     let body: serde_json::Value = res.json().await?;
    ///     Ok::<_, Box<dyn std::error::Error>>((res.status().as_u16(), body))
    /// })?;
    /// assert_eq!((status, body), (400, json!({"error": "invalid_token"})));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    Error(u16, Value),
    /// Answer 200, `Content-Type: application/json`, with a body that is not JSON.
    Garbage,
    /// Answer with `"active": "true"` (a string, not a boolean), whether or not the
    /// token is active; the other members as they would be.
    NonBooleanActive,
    /// Wait this long, then answer truthfully.
    Delay(Duration),
    /// Merge the members of this JSON object into every *active* response (a `null`
    /// member removes the field), e.g. `{"aud": "https://other"}`; inactive responses
    /// stay `{"active": false}`.
    Patch(Value),
}

/// At most this many opaque tokens, and as many revocations, are remembered; beyond
/// that the oldest entry is forgotten (an opaque token then introspects inactive, a
/// revoked JWT active again).
const MAX_TOKENS: usize = 1 << 17;

/// SHA-256 of a token: the server keeps no token itself.
type Digest = [u8; 32];

fn digest(token: &str) -> Digest {
    let mut out = [0; 32];
    out.copy_from_slice(
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes()).as_ref(),
    );
    out
}

/// A map bounded to [`MAX_TOKENS`] entries, forgetting the oldest first (O(1)).
struct Fifo<V> {
    map: HashMap<Digest, V>,
    order: VecDeque<Digest>,
}

impl<V> Default for Fifo<V> {
    fn default() -> Self {
        Self {
            map: HashMap::new(),
            order: VecDeque::new(),
        }
    }
}

impl<V> Fifo<V> {
    fn insert(&mut self, key: Digest, value: V) {
        if self.map.insert(key, value).is_none() {
            self.order.push_back(key);
            while self.order.len() > MAX_TOKENS {
                if let Some(oldest) = self.order.pop_front() {
                    self.map.remove(&oldest);
                }
            }
        }
    }
}

/// Opaque access and refresh tokens issued (digest → claims as JSON text), tokens
/// revoked, and faults that apply to one token.
#[derive(Default)]
pub(super) struct TokenStore {
    opaque: Fifo<Box<str>>,
    refresh: Fifo<Box<str>>,
    revoked: Fifo<()>,
    faults: Fifo<IntrospectionFault>,
}

/// What an opaque token of this server stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum OpaqueKind {
    /// An access token (`token_type: Bearer`).
    Access,
    /// A refresh token (`token_type: refresh_token`): never good at a resource server.
    Refresh,
}

impl OpaqueKind {
    fn token_type(self) -> &'static str {
        match self {
            Self::Access => "Bearer",
            Self::Refresh => "refresh_token",
        }
    }
}

impl Shared {
    /// Registers `claims` under a new opaque token of this kind and returns it: the
    /// server's [opaque-token prefix](super::TestAuthServerBuilder::opaque_token_prefix),
    /// then 32 random bytes, base64url.
    pub(super) fn issue_opaque(&self, claims: Map<String, Value>, kind: OpaqueKind) -> String {
        use aws_lc_rs::rand::SecureRandom as _;
        let mut random = [0u8; 32];
        let _ = aws_lc_rs::rand::SystemRandom::new().fill(&mut random);
        let token = format!("{}{}", self.opaque_prefix, keys::b64(&random));
        let text = Value::Object(claims).to_string().into_boxed_str();
        let mut state = self.state();
        let store = match kind {
            OpaqueKind::Access => &mut state.tokens.opaque,
            OpaqueKind::Refresh => &mut state.tokens.refresh,
        };
        store.insert(digest(&token), text);
        token
    }

    /// The claims and `token_type` of `token` if it is active: issued here (an opaque
    /// access or refresh token, or a JWT signed with a published key), not revoked, not
    /// expired, not before its `nbf`. The `token_type_hint` says where to look first
    /// (RFC 7662 §2.1); when the token is not there, the search goes on everywhere.
    fn active_claims(
        &self,
        token: &str,
        hint: Option<&str>,
    ) -> Option<(Map<String, Value>, &'static str)> {
        let key = digest(token);
        let (stored, ring) = {
            let state = self.state();
            if state.tokens.revoked.map.contains_key(&key) {
                return None;
            }
            let find = |kind: OpaqueKind| {
                let store = match kind {
                    OpaqueKind::Access => &state.tokens.opaque,
                    OpaqueKind::Refresh => &state.tokens.refresh,
                };
                store.map.get(&key).map(|text| (text.clone(), kind))
            };
            let order = match hint {
                Some("refresh_token") => [OpaqueKind::Refresh, OpaqueKind::Access],
                _ => [OpaqueKind::Access, OpaqueKind::Refresh],
            };
            (order.into_iter().find_map(find), state.ring.clone())
        };
        let (claims, kind) = match stored {
            Some((text, kind)) => (serde_json::from_str(&text).ok()?, kind),
            None => (verified_jwt_claims(&ring, token)?, OpaqueKind::Access),
        };
        // RFC 9449 §6.2: a bound access token is introspected as `token_type: DPoP`.
        let bound = claims.get("cnf").and_then(|c| c.get("jkt")).is_some();
        let token_type = match kind {
            OpaqueKind::Access if bound => "DPoP",
            kind => kind.token_type(),
        };
        current(&claims).then_some((claims, token_type))
    }

    /// The fault for a request about `token`: its own, else one of the next-N faults
    /// (used up by this request), else the server's.
    fn fault_for(&self, token: &str) -> IntrospectionFault {
        let mut state = self.state();
        if let Some(own) = state.tokens.faults.map.get(&digest(token)) {
            return own.clone();
        }
        if let Some((fault, left)) = &mut state.next_introspection_faults {
            let fault = fault.clone();
            *left -= 1;
            if *left == 0 {
                state.next_introspection_faults = None;
            }
            return fault;
        }
        state.introspection_fault.clone()
    }
}

/// Whether `token` looks like a JWT to oidc-provider: three (JWS) or five (JWE)
/// `.`-separated segments, the first a base64url JSON object (whatever the rest is, so
/// an unsigned `header.payload.` counts too).
fn is_structured(token: &str) -> bool {
    let segments = token.split('.').count();
    (segments == 3 || segments == 5)
        && token
            .split('.')
            .next()
            .and_then(|header| URL_SAFE_NO_PAD.decode(header).ok())
            .and_then(|bytes| serde_json::from_slice::<Map<String, Value>>(&bytes).ok())
            .is_some()
}

/// The claims of a compact JWS whose signature verifies with a published key (chosen
/// by `alg`, whatever the `kid`).
fn verified_jwt_claims(ring: &KeyRing, token: &str) -> Option<Map<String, Value>> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let input = token.get(..header.len() + 1 + payload.len())?;
    let header: Map<String, Value> =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
    let alg = header.get("alg")?.as_str()?;
    let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
    if !ring.verify(alg, input.as_bytes(), &signature) {
        return None;
    }
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
}

/// Not expired (`exp`, if present, a number in the future) and not early (`nbf`, if
/// present, a number not in the future).
fn current(claims: &Map<String, Value>) -> bool {
    let now = unix_now() as f64;
    let exp_ok = claims
        .get("exp")
        .is_none_or(|v| v.as_f64().is_some_and(|exp| exp > now));
    let nbf_ok = claims
        .get("nbf")
        .is_none_or(|v| v.as_f64().is_some_and(|nbf| nbf <= now));
    exp_ok && nbf_ok
}

impl TestAuthServer {
    /// The introspection endpoint (RFC 7662), `{issuer}/introspect`: `POST` a form with
    /// `token` (and optionally `token_type_hint`: `refresh_token` looks among refresh
    /// tokens first, anything else among access tokens first; either way the search goes
    /// on everywhere), authenticated as an [introspection client](Self::introspection_client).
    ///
    /// A token is active when it is an [opaque token](super::TokenBuilder::opaque) or
    /// [refresh token](super::TokenBuilder::refresh_token) of this server, or a JWT
    /// whose signature verifies with one of the keys this server publishes now (the key
    /// chosen by `alg`; HS* and `none` never verify), and is not [revoked](Self::revoke),
    /// not expired (`exp`, if present, in the future) and not before its `nbf`. The active
    /// response is the token's claims with `"active": true` and `"token_type"`
    /// (`"Bearer"`, or `"refresh_token"` for a refresh token); any other is exactly
    /// `{"active": false}`. The token is never echoed. With
    /// [`set_jwt_introspection(false)`](Self::set_jwt_introspection), JWTs are refused
    /// instead, as oidc-provider does.
    ///
    /// Errors: 401 `invalid_client` with `WWW-Authenticate: Basic realm="introspection"`
    /// for missing or wrong client credentials, 400 `invalid_request` for a missing
    /// `token`, a repeated parameter, or both Basic and form credentials.
    ///
    /// ```
    /// # let auth = mcp_oauth::testing::TestAuthServer::start();
    /// auth.introspection_client("rs", "rs-secret");
    /// let token = auth.token().subject("alice").sign(); // a JWT works too
    /// let form = [("client_id", "rs"), ("client_secret", "rs-secret"), ("token", &token)];
    /// let body: serde_json::Value = actix_web::rt::System::new().block_on(async {
    ///     let mut res = awc::Client::default().post(auth.introspection_endpoint()).send_form(&form).await?;
    ///     Ok::<_, Box<dyn std::error::Error>>(res.json().await?)
    /// })?;
    /// assert_eq!(body["active"], true);
    /// assert_eq!(body["sub"], "alice");
    /// assert_eq!(body["iss"], auth.issuer());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn introspection_endpoint(&self) -> String {
        format!("{}/introspect", self.shared().base)
    }

    /// Registers a client allowed to call the introspection endpoint with
    /// `client_secret_basic` or `client_secret_post` (RFC 6749 §2.3.1). Several may be
    /// registered; registering an id again replaces its secret. With Basic, the id and
    /// secret are each form-urlencoded before base64, as RFC 6749 requires, so any
    /// characters (`:`, `%`, spaces, ...) work.
    ///
    /// ```
    /// # let auth = mcp_oauth::testing::TestAuthServer::start();
    /// auth.introspection_client("rs", "rs-secret");
    /// let status = actix_web::rt::System::new().block_on(async {
    ///     let res = awc::Client::default()
    ///         .post(auth.introspection_endpoint())
    ///         .basic_auth("rs", "wrong")
    ///         .send_form(&[("token", "anything")])
    ///         .await?;
    ///     Ok::<_, Box<dyn std::error::Error>>(res.status().as_u16())
    /// })?;
    /// assert_eq!(status, 401);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Panics
    /// When 1024 clients are already registered and `client_id` is a new one.
    pub fn introspection_client(&self, client_id: &str, client_secret: &str) {
        let mut state = self.shared().state();
        let clients = &mut state.introspection_clients;
        assert!(
            clients.len() < MAX_ENTRIES || clients.contains_key(client_id),
            "at most {MAX_ENTRIES} introspection clients"
        );
        clients.insert(client_id.to_owned(), client_secret.to_owned());
    }

    /// The client authentication method of the last introspection request:
    /// `Some("client_secret_basic")` or `Some("client_secret_post")`, whether or not
    /// the credentials were right; `None` before any request, or when the last one
    /// presented neither (or both).
    ///
    /// ```
    /// # let auth = mcp_oauth::testing::TestAuthServer::start();
    /// auth.introspection_client("rs", "rs-secret");
    /// assert_eq!(auth.last_introspection_auth(), None);
    /// let form = [("client_id", "rs"), ("client_secret", "rs-secret"), ("token", "t")];
    /// actix_web::rt::System::new().block_on(async {
    ///     let _ = awc::Client::default().post(auth.introspection_endpoint()).send_form(&form).await;
    /// });
    /// assert_eq!(auth.last_introspection_auth(), Some("client_secret_post"));
    /// ```
    pub fn last_introspection_auth(&self) -> Option<&'static str> {
        self.shared().state().last_introspection_auth
    }

    /// How many times the introspection endpoint was called (refused calls included).
    ///
    /// ```
    /// # let auth = mcp_oauth::testing::TestAuthServer::start();
    /// actix_web::rt::System::new().block_on(async {
    ///     let _ = awc::Client::default().post(auth.introspection_endpoint()).send_form(&[("token", "t")]).await;
    /// });
    /// assert_eq!(auth.introspection_requests(), 1); // refused (no credentials), but counted
    /// ```
    pub fn introspection_requests(&self) -> usize {
        self.shared().introspection_requests.load(Ordering::SeqCst)
    }

    /// Makes the introspection endpoint misbehave (or behave again with
    /// [`IntrospectionFault::None`]).
    ///
    /// ```
    /// use mcp_oauth::testing::{IntrospectionFault, TestAuthServer};
    ///
    /// let auth = TestAuthServer::start();
    /// auth.introspection_client("rs", "rs-secret");
    /// auth.set_introspection_fault(IntrospectionFault::NonBooleanActive);
    /// let body: serde_json::Value = actix_web::rt::System::new().block_on(async {
    ///     let mut res = awc::Client::default()
    ///         .post(auth.introspection_endpoint())
    ///         .basic_auth("rs", "rs-secret")
    ///         .send_form(&[("token", "not a token")])
    ///         .await?;
    ///     Ok::<_, Box<dyn std::error::Error>>(res.json().await?)
    /// })?;
    /// assert_eq!(body["active"], "true"); // a string: not active
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_introspection_fault(&self, fault: IntrospectionFault) {
        self.shared().state().introspection_fault = fault;
    }

    /// Revokes a token: from now on introspection reports it inactive. Works for
    /// opaque tokens and JWTs alike (the server keeps a SHA-256 of the JWT, at most
    /// 131 072 revocations, the oldest forgotten first). A JWT still validates
    /// locally against the JWKS: only introspection knows about revocation.
    ///
    /// ```
    /// # let auth = mcp_oauth::testing::TestAuthServer::start();
    /// # auth.introspection_client("rs", "rs-secret");
    /// # let active = |token: &str| -> Result<serde_json::Value, Box<dyn std::error::Error>> {
    /// #     actix_web::rt::System::new().block_on(async {
    /// #         let mut res = awc::Client::default()
    /// #             .post(auth.introspection_endpoint())
    /// #             .basic_auth("rs", "rs-secret")
    /// #             .send_form(&[("token", token)])
    /// #             .await?;
    /// #         let body: serde_json::Value = res.json().await?;
    /// #         Ok(body["active"].clone())
    /// #     })
    /// # };
    /// let token = auth.token().opaque();
    /// assert_eq!(active(&token)?, true);
    /// auth.revoke(&token);
    /// assert_eq!(active(&token)?, false);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn revoke(&self, token: &str) {
        let key = digest(token);
        let mut state = self.shared().state();
        let issued = state.tokens.opaque.map.remove(&key).is_some()
            | state.tokens.refresh.map.remove(&key).is_some();
        if !issued {
            state.tokens.revoked.insert(key, ());
        }
    }

    /// When on, the token endpoint issues [opaque](super::TokenBuilder::opaque) access
    /// tokens (with the claims its JWTs would have) instead of JWTs. Off by default.
    ///
    /// ```
    /// # let auth = mcp_oauth::testing::TestAuthServer::start();
    /// auth.set_opaque_tokens(true);
    /// let form = [("grant_type", "client_credentials"), ("resource", "http://127.0.0.1:8080/mcp")];
    /// let body: serde_json::Value = actix_web::rt::System::new().block_on(async {
    ///     let mut res = awc::Client::default().post(auth.token_endpoint()).send_form(&form).await?;
    ///     Ok::<_, Box<dyn std::error::Error>>(res.json().await?)
    /// })?;
    /// let token = body["access_token"].as_str().unwrap_or_default();
    /// assert!(!token.is_empty() && !token.contains('.'));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_opaque_tokens(&self, on: bool) {
        self.shared().state().opaque_tokens = on;
    }

    /// Whether JWTs can be introspected (on by default). Off, the endpoint behaves like
    /// oidc-provider (an OpenID Certified authorization server): a JWT-shaped token
    /// (three or five `.`-separated segments, the first a base64url JSON object: signed or
    /// not, published key or not) gets `400 {"error": "unsupported_token_type"}`, and
    /// only opaque tokens are introspected.
    ///
    /// ```
    /// # let auth = mcp_oauth::testing::TestAuthServer::start();
    /// auth.introspection_client("rs", "rs-secret");
    /// auth.set_jwt_introspection(false);
    /// let introspect = |token: String| {
    ///     actix_web::rt::System::new().block_on(async {
    ///         let mut res = awc::Client::default()
    ///             .post(auth.introspection_endpoint())
    ///             .basic_auth("rs", "rs-secret")
    ///             .send_form(&[("token", token.as_str())])
    ///             .await?;
    ///         let body: serde_json::Value = res.json().await?;
    ///         Ok::<_, Box<dyn std::error::Error>>((res.status().as_u16(), body))
    ///     })
    /// };
    /// let (status, body) = introspect(auth.token().sign())?;
    /// assert_eq!((status, &body["error"]), (400, &serde_json::json!("unsupported_token_type")));
    /// let (status, body) = introspect(auth.token().opaque())?;
    /// assert_eq!((status, &body["active"]), (200, &serde_json::json!(true)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_jwt_introspection(&self, on: bool) {
        self.shared().state().jwt_introspection = on;
    }

    /// Makes the next `requests` introspection requests (those that get past client
    /// authentication and carry a token) misbehave with `fault`, then the endpoint goes
    /// back to the fault set by [`set_introspection_fault`](Self::set_introspection_fault).
    /// Replaces an earlier call's remainder; a token's own fault
    /// ([`set_introspection_fault_for_token`](Self::set_introspection_fault_for_token))
    /// comes first and uses none of them.
    ///
    /// ```
    /// use mcp_oauth::testing::{IntrospectionFault, TestAuthServer};
    /// use serde_json::json;
    ///
    /// let auth = TestAuthServer::start();
    /// auth.introspection_client("rs", "rs-secret");
    /// auth.set_introspection_fault_for_next(1, IntrospectionFault::Error(400, json!({"error": "invalid_client"})));
    /// let token = auth.token().opaque();
    /// let statuses: Vec<u16> = actix_web::rt::System::new().block_on(async {
    ///     let mut statuses = Vec::new();
    ///     for _ in 0..2 {
    ///         let res = awc::Client::default()
    ///             .post(auth.introspection_endpoint())
    ///             .basic_auth("rs", "rs-secret")
    ///             .send_form(&[("token", token.as_str())])
    ///             .await?;
    ///         statuses.push(res.status().as_u16());
    ///     }
    ///     Ok::<_, Box<dyn std::error::Error>>(statuses)
    /// })?;
    /// assert_eq!(statuses, [400, 200]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_introspection_fault_for_next(&self, requests: usize, fault: IntrospectionFault) {
        self.shared().state().next_introspection_faults =
            (requests > 0).then_some((fault, requests));
    }

    /// Makes introspection of this one token misbehave with `fault`, whatever the other
    /// faults; [`IntrospectionFault::None`] makes it answer truthfully again. At most
    /// 131 072 tokens have faults of their own (the oldest forgotten first); the server
    /// keeps a SHA-256 of the token, not the token.
    ///
    /// ```
    /// use mcp_oauth::testing::{IntrospectionFault, TestAuthServer};
    /// use serde_json::json;
    ///
    /// let auth = TestAuthServer::start();
    /// auth.introspection_client("rs", "rs-secret");
    /// let (refused, fine) = (auth.token().opaque(), auth.token().opaque());
    /// let unsupported = json!({"error": "unsupported_token_type"});
    /// auth.set_introspection_fault_for_token(&refused, IntrospectionFault::Error(400, unsupported));
    /// let status = |token: String| {
    ///     actix_web::rt::System::new().block_on(async {
    ///         let res = awc::Client::default()
    ///             .post(auth.introspection_endpoint())
    ///             .basic_auth("rs", "rs-secret")
    ///             .send_form(&[("token", token.as_str())])
    ///             .await?;
    ///         Ok::<_, Box<dyn std::error::Error>>(res.status().as_u16())
    ///     })
    /// };
    /// assert_eq!(status(refused)?, 400);
    /// assert_eq!(status(fine)?, 200);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_introspection_fault_for_token(&self, token: &str, fault: IntrospectionFault) {
        self.shared()
            .state()
            .tokens
            .faults
            .insert(digest(token), fault);
    }

    /// The `token_type_hint` of the last introspection request that got past client
    /// authentication (`None` when it had none; at most 64 bytes are kept).
    ///
    /// ```
    /// # let auth = mcp_oauth::testing::TestAuthServer::start();
    /// auth.introspection_client("rs", "rs-secret");
    /// let form = [("token", "t"), ("token_type_hint", "refresh_token")];
    /// actix_web::rt::System::new().block_on(async {
    ///     let _ = awc::Client::default()
    ///         .post(auth.introspection_endpoint())
    ///         .basic_auth("rs", "rs-secret")
    ///         .send_form(&form)
    ///         .await;
    /// });
    /// assert_eq!(auth.last_introspection_token_type_hint().as_deref(), Some("refresh_token"));
    /// ```
    pub fn last_introspection_token_type_hint(&self) -> Option<String> {
        self.shared().state().last_introspection_hint.clone()
    }

    /// The most introspection requests this server was handling at the same time, since
    /// it started (each counted from its arrival to its answer, refused ones included):
    /// what a resource server's cap on concurrent calls must keep low.
    ///
    /// ```
    /// # let auth = mcp_oauth::testing::TestAuthServer::start();
    /// assert_eq!(auth.max_concurrent_introspections(), 0);
    /// actix_web::rt::System::new().block_on(async {
    ///     let _ = awc::Client::default().post(auth.introspection_endpoint()).send_form(&[("token", "t")]).await;
    /// });
    /// assert_eq!(auth.max_concurrent_introspections(), 1);
    /// ```
    pub fn max_concurrent_introspections(&self) -> usize {
        self.shared().introspections_peak.load(Ordering::SeqCst)
    }

    /// How many introspection requests this server is handling right now (held ones
    /// included, see [`hold_introspections`](Self::hold_introspections)).
    ///
    /// ```
    /// # let auth = mcp_oauth::testing::TestAuthServer::start();
    /// assert_eq!(auth.introspections_in_flight(), 0);
    /// ```
    pub fn introspections_in_flight(&self) -> usize {
        self.shared()
            .introspections_in_flight
            .load(Ordering::SeqCst)
    }

    /// Holds every introspection answer (after client authentication) until the returned
    /// guard is dropped or [released](IntrospectionHold::release): requests pile up, in
    /// flight, so a test can count how many a resource server lets through at once,
    /// without racing a timer.
    ///
    /// ```
    /// use std::time::Duration;
    /// # let auth = mcp_oauth::testing::TestAuthServer::start();
    /// auth.introspection_client("rs", "rs-secret");
    /// let token = auth.token().opaque();
    /// let status = actix_web::rt::System::new().block_on(async {
    ///     let hold = auth.hold_introspections();
    ///     let call = awc::Client::default()
    ///         .post(auth.introspection_endpoint())
    ///         .basic_auth("rs", "rs-secret")
    ///         .send_form(&[("token", token.as_str())]);
    ///     let call = actix_web::rt::spawn(call);
    ///     while auth.introspections_in_flight() < 1 {
    ///         actix_web::rt::time::sleep(Duration::from_millis(5)).await;
    ///     }
    ///     hold.release(); // the held request is answered now
    ///     Ok::<_, Box<dyn std::error::Error>>(call.await??.status().as_u16())
    /// })?;
    /// assert_eq!(status, 200);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn hold_introspections(&self) -> IntrospectionHold {
        self.shared().state().introspection_holds += 1;
        IntrospectionHold {
            shared: self.shared().clone(),
        }
    }
}

/// Introspection answers are held while this lives; see
/// [`TestAuthServer::hold_introspections`].
#[must_use = "introspection answers are held only while the guard lives"]
pub struct IntrospectionHold {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for IntrospectionHold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntrospectionHold").finish_non_exhaustive()
    }
}

impl IntrospectionHold {
    /// Lets the held requests (and every later one) be answered; the same as dropping
    /// the guard.
    ///
    /// ```
    /// # let auth = mcp_oauth::testing::TestAuthServer::start();
    /// let hold = auth.hold_introspections();
    /// hold.release();
    /// ```
    pub fn release(self) {}
}

impl Drop for IntrospectionHold {
    fn drop(&mut self) {
        {
            let mut state = self.shared.state();
            state.introspection_holds = state.introspection_holds.saturating_sub(1);
        }
        self.shared.introspection_released.notify_waiters();
    }
}

/// Counts one request in flight, and the peak, until dropped (answered or abandoned).
struct InFlight<'a>(&'a Shared);

impl<'a> InFlight<'a> {
    fn enter(shared: &'a Shared) -> Self {
        let now = shared
            .introspections_in_flight
            .fetch_add(1, Ordering::SeqCst)
            + 1;
        shared.introspections_peak.fetch_max(now, Ordering::SeqCst);
        Self(shared)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0
            .introspections_in_flight
            .fetch_sub(1, Ordering::SeqCst);
    }
}

/// Waits while introspection answers are [held](TestAuthServer::hold_introspections).
async fn wait_while_held(shared: &Shared) {
    loop {
        // Made before the check: a release between the check and the wait still wakes it.
        let released = shared.introspection_released.notified();
        if shared.state().introspection_holds == 0 {
            return;
        }
        released.await;
    }
}

/// `application/x-www-form-urlencoded` decoding of one component (`+` is a space).
fn form_decode(text: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text.bytes();
    while let Some(b) = rest.next() {
        bytes.push(match b {
            b'+' => b' ',
            b'%' => {
                let hex = [rest.next()?, rest.next()?];
                u8::from_str_radix(std::str::from_utf8(&hex).ok()?, 16).ok()?
            }
            other => other,
        });
    }
    String::from_utf8(bytes).ok()
}

/// `client_secret_basic` credentials (RFC 6749 §2.3.1): base64 of the form-urlencoded
/// id, `:`, the form-urlencoded secret.
fn basic_credentials(credentials: &str) -> Option<(String, String)> {
    let decoded = String::from_utf8(STANDARD.decode(credentials.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((form_decode(id)?, form_decode(secret)?))
}

fn invalid_client() -> HttpResponse {
    HttpResponse::Unauthorized()
        .insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"introspection\""))
        .json(json!({"error": "invalid_client"}))
}

fn invalid_request(description: &str) -> HttpResponse {
    HttpResponse::BadRequest()
        .json(json!({"error": "invalid_request", "error_description": description}))
}

/// `POST {issuer}/introspect` (RFC 7662 §2).
pub(super) async fn introspect(
    shared: web::Data<Shared>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    shared.introspection_requests.fetch_add(1, Ordering::SeqCst);
    let _in_flight = InFlight::enter(&shared);
    let mut params: HashMap<String, Vec<String>> = HashMap::new();
    for (name, value) in url::form_urlencoded::parse(&body) {
        params
            .entry(name.into_owned())
            .or_default()
            .push(value.into_owned());
    }
    let repeated = ["token", "token_type_hint", "client_id", "client_secret"]
        .iter()
        .any(|name| params.get(*name).is_some_and(|v| v.len() > 1));
    let param = |name: &str| params.get(name).and_then(|v| v.first()).map(String::as_str);

    let authorization = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.split_once(' ').unwrap_or((v, ""));
            scheme.eq_ignore_ascii_case("basic").then_some(rest)
        });
    let (method, credentials) = match (authorization, param("client_secret")) {
        (Some(_), Some(_)) => {
            shared.state().last_introspection_auth = None;
            return invalid_request("use one client authentication method");
        }
        (Some(basic), None) => (Some("client_secret_basic"), basic_credentials(basic)),
        (None, Some(secret)) => (
            Some("client_secret_post"),
            param("client_id").map(|id| (id.to_owned(), secret.to_owned())),
        ),
        (None, None) => (None, None),
    };
    let known = {
        let mut state = shared.state();
        state.last_introspection_auth = method;
        credentials.is_some_and(|(id, secret)| {
            state
                .introspection_clients
                .get(&id)
                .is_some_and(|expected| {
                    aws_lc_rs::constant_time::verify_slices_are_equal(
                        expected.as_bytes(),
                        secret.as_bytes(),
                    )
                    .is_ok()
                })
        })
    };
    if !known {
        return invalid_client();
    }
    let hint = param("token_type_hint");
    shared.state().last_introspection_hint = hint.filter(|h| h.len() <= 64).map(str::to_owned);
    if repeated {
        return invalid_request("a parameter is repeated");
    }
    let Some(token) = param("token").filter(|t| !t.is_empty()) else {
        return invalid_request("token is required");
    };

    wait_while_held(&shared).await;
    let fault = shared.fault_for(token);
    match &fault {
        IntrospectionFault::Status(code) => return fault_status(*code),
        IntrospectionFault::Error(code, body) => {
            let status = actix_web::http::StatusCode::from_u16(*code)
                .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
            return HttpResponse::build(status)
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .json(body);
        }
        IntrospectionFault::Garbage => {
            return HttpResponse::Ok()
                .content_type("application/json")
                .body("<html>this is not JSON</html>");
        }
        IntrospectionFault::Delay(d) => actix_web::rt::time::sleep(*d).await,
        _ => {}
    }

    // oidc-provider refuses structured tokens before looking anything up.
    if !shared.state().jwt_introspection && is_structured(token) {
        return HttpResponse::BadRequest()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(json!({
                "error": "unsupported_token_type",
                "error_description": "Structured JWT Tokens cannot be introspected via the introspection_endpoint",
            }));
    }

    let mut response = match shared.active_claims(token, hint) {
        Some((claims, token_type)) => {
            let mut response = claims;
            response.insert("active".into(), json!(true));
            response.insert("token_type".into(), json!(token_type));
            if let IntrospectionFault::Patch(Value::Object(patch)) = &fault {
                merge_patch(&mut response, patch.clone());
            }
            response
        }
        None => {
            let mut response = Map::new();
            response.insert("active".into(), json!(false));
            response
        }
    };
    if fault == IntrospectionFault::NonBooleanActive {
        response.insert("active".into(), json!("true"));
    }
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(Value::Object(response))
}

#[cfg(test)]
mod tests {
    use super::{Fifo, MAX_TOKENS};

    #[test]
    fn the_fifo_forgets_the_oldest_beyond_its_bound() {
        let mut fifo = Fifo::default();
        let key = |i: usize| {
            let mut k = [0u8; 32];
            k[..8].copy_from_slice(&i.to_le_bytes());
            k
        };
        for i in 0..=MAX_TOKENS {
            fifo.insert(key(i), ());
        }
        fifo.insert(key(MAX_TOKENS), ()); // again: not counted twice
        assert_eq!(fifo.map.len(), MAX_TOKENS);
        assert_eq!(fifo.order.len(), MAX_TOKENS);
        assert!(!fifo.map.contains_key(&key(0)));
        assert!(fifo.map.contains_key(&key(1)));
        assert!(fifo.map.contains_key(&key(MAX_TOKENS)));
    }
}
