//! The `introspection` strategy: RFC 7662 token introspection, as a client of the
//! authorization server (RFC 7662 §2).
//!
//! The request is a form POST of `token` and `token_type_hint=access_token`,
//! authenticated with `client_secret_basic` (id and secret form-urlencoded before base64,
//! RFC 6749 §2.3.1) or `client_secret_post`. The answer is trusted only when `active` is
//! the boolean `true`; then `iss`, `aud`, `exp`, `nbf`, `iat` and `token_type` are
//! checked as for a JWT. An error answer is read by one rule, [`read_error_answer`]: a
//! 400 that refuses the token itself (`unsupported_token_type`, ...) means "not active
//! here", a 401; anything else the authorization server fails to answer (another error
//! status, our credentials refused, a timeout, a body that is not JSON) is a 503: the
//! token may well be good, and a 401 would send the client to re-authorize in a loop.
//!
//! Every new token costs a call, so the calls are bounded: a definite refusal is
//! remembered for a few seconds ([`refused`], the negative cache), and at most
//! [`IntrospectionLimits::max_concurrent`] calls to one authorization server are in
//! flight; the next token gets a 503 with `Retry-After` at once, never a queue.

mod refused;
mod shared;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};
use tracing::Instrument as _;

use crate::discovery::Discovery;
use crate::http::{self, FetchError, HttpLimits};
use crate::refusal::{Refusal, TokenRejection};
use crate::secret::Secret;
use crate::telemetry::{self, Timer};
use crate::validate::claims::VerifiedClaims;
use crate::validate::profile::ClaimRules;
use crate::validate::rules::{self, Expiry};

pub(crate) use refused::RefusedCache;
pub(crate) use shared::SharedAnswers;

/// How long a definite refusal is remembered, by default
/// (`MCP_OAUTH_INTROSPECTION_NEGATIVE_TTL_SECS`).
pub(crate) const DEFAULT_NEGATIVE_TTL: Duration = Duration::from_secs(5);
/// Most introspection calls in flight to one authorization server, by default
/// (`MCP_OAUTH_INTROSPECTION_MAX_CONCURRENT`).
pub(crate) const DEFAULT_MAX_CONCURRENT: usize = 32;
/// What a client refused by the cap is told to wait (`Retry-After`).
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// How many calls introspection may make: the negative cache's TTL and the cap on
/// concurrent calls per authorization server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IntrospectionLimits {
    /// How long a definite refusal is remembered; zero turns the negative cache off.
    pub(crate) negative_ttl: Duration,
    /// Most calls in flight to one authorization server (at least 1).
    pub(crate) max_concurrent: usize,
}

impl Default for IntrospectionLimits {
    fn default() -> Self {
        Self {
            negative_ttl: DEFAULT_NEGATIVE_TTL,
            max_concurrent: DEFAULT_MAX_CONCURRENT,
        }
    }
}

/// How this server authenticates to the introspection endpoint (RFC 7662 §2.1 requires
/// that it does). (`MCP_OAUTH_INTROSPECTION_AUTH_METHOD`)
///
/// ```
/// use mcp_oauth::ClientAuthMethod;
///
/// assert_eq!(ClientAuthMethod::default(), ClientAuthMethod::ClientSecretBasic);
/// assert_eq!("client_secret_post".parse(), Ok(ClientAuthMethod::ClientSecretPost));
/// assert_eq!(ClientAuthMethod::ClientSecretPost.as_str(), "client_secret_post");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ClientAuthMethod {
    /// HTTP Basic with the form-urlencoded client id and secret (RFC 6749 §2.3.1).
    #[default]
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the form body.
    ClientSecretPost,
}

impl ClientAuthMethod {
    /// The RFC 8414 name, as in `introspection_endpoint_auth_methods_supported`.
    ///
    /// ```
    /// assert_eq!(mcp_oauth::ClientAuthMethod::default().as_str(), "client_secret_basic");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
        }
    }
}

impl std::str::FromStr for ClientAuthMethod {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "client_secret_basic" => Ok(Self::ClientSecretBasic),
            "client_secret_post" => Ok(Self::ClientSecretPost),
            _ => Err(format!(
                "`{s}` is neither `client_secret_basic` nor `client_secret_post`"
            )),
        }
    }
}

/// The credentials this server introspects with.
#[derive(Debug, Clone)]
pub(crate) struct ClientCredentials {
    pub(crate) id: String,
    pub(crate) secret: Secret,
    pub(crate) method: ClientAuthMethod,
}

impl ClientCredentials {
    fn basic_header(&self) -> String {
        let encode = |bytes: &[u8]| url::form_urlencoded::byte_serialize(bytes).collect::<String>();
        let pair = format!("{}:{}", encode(self.id.as_bytes()), encode(&self.secret.0));
        format!("Basic {}", STANDARD.encode(pair))
    }
}

/// One issuer's introspection endpoint and what its answers must say.
#[derive(Debug)]
pub(crate) struct Introspector {
    pub(crate) issuer: String,
    pub(crate) endpoint: Option<String>,
    pub(crate) discovery: Arc<Discovery>,
    pub(crate) client: ClientCredentials,
    pub(crate) audiences: Vec<String>,
    pub(crate) leeway_secs: u64,
    pub(crate) scope_claim: Option<String>,
    /// The issuer's own claim rules (a provider preset's), the audience among them.
    pub(crate) rules: ClaimRules,
    pub(crate) limits: HttpLimits,
    /// The prefixes of the opaque tokens this issuer issues (empty: not known).
    pub(crate) prefixes: Vec<String>,
    /// Definite refusals, remembered briefly (`None`: off).
    pub(crate) refused: Option<RefusedCache>,
    /// The calls in flight.
    pub(crate) calls: CallLimit,
    /// The fleet's answers (`None`: this instance alone).
    pub(crate) shared: Option<SharedAnswers>,
}

impl Introspector {
    /// Whether `token` starts with one of this issuer's opaque-token prefixes.
    pub(crate) fn claims_prefix(&self, token: &str) -> bool {
        self.prefixes.iter().any(|p| token.starts_with(p.as_str()))
    }

    async fn endpoint(&self) -> Result<String, Refusal> {
        if let Some(configured) = &self.endpoint {
            return Ok(configured.clone());
        }
        self.discovery
            .metadata()
            .await?
            .introspection_endpoint
            .clone()
            .ok_or_else(|| {
                Refusal::Unavailable(format!(
                    "the authorization server {} has no usable introspection_endpoint",
                    self.issuer
                ))
            })
    }

    /// Judges `token` by this issuer's answer, or by its definite refusal of the same
    /// token less than the negative TTL ago, or by the fleet's answer (`shared.rs`): the
    /// one place where the local negative cache, the shared tier and the call meet.
    pub(crate) async fn introspect(&self, token: &str) -> Result<VerifiedClaims, Refusal> {
        if self.refused.is_none() && self.shared.is_none() {
            return self.ask(token).await;
        }
        let key = refused::key_of(token);
        if let Some(why) = self.refused.as_ref().and_then(|r| r.get(&key)) {
            return Err(Refusal::InvalidToken(why));
        }
        let verdict = match &self.shared {
            Some(shared) => self.ask_fleet(shared, &key, token).await,
            None => self.ask(token).await,
        };
        let Some(refused) = &self.refused else {
            return verdict;
        };
        // Every `InvalidToken` here is the authorization server's definite answer; an
        // outage is `Unavailable` or `Overloaded`, and is asked again next time.
        if let Err(Refusal::InvalidToken(why)) = &verdict {
            refused.put(key, why.clone());
        }
        verdict
    }

    /// One introspection (RFC 7662 §2.1), counted and traced under this issuer.
    async fn ask(&self, token: &str) -> Result<VerifiedClaims, Refusal> {
        let span = tracing::debug_span!(target: "mcp_oauth", "introspect", issuer = self.issuer.as_str(), outcome = tracing::field::Empty, kind = tracing::field::Empty);
        let verdict = self.call(token).instrument(span.clone()).await;
        self.discovery.metrics().introspection(&verdict);
        telemetry::record(&span, verdict.as_ref().map(|_| ()));
        verdict
    }

    /// One introspection call, within the cap.
    async fn call(&self, token: &str) -> Result<VerifiedClaims, Refusal> {
        let endpoint = self.endpoint().await?;
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("token", token)
            .append_pair("token_type_hint", "access_token");
        let authorization = match self.client.method {
            ClientAuthMethod::ClientSecretBasic => Some(self.client.basic_header()),
            ClientAuthMethod::ClientSecretPost => {
                form.append_pair("client_id", &self.client.id).append_pair(
                    "client_secret",
                    &String::from_utf8_lossy(&self.client.secret.0),
                );
                None
            }
        };
        let answer = {
            let _call = self.calls.enter(&self.issuer)?;
            let timer = Timer::start();
            let answer = http::post_form(
                &endpoint,
                form.finish(),
                authorization.as_deref(),
                self.limits,
            )
            .await;
            self.discovery.metrics().introspection_call(timer);
            answer
        };
        let outage = |why: &str| {
            tracing::error!(target: "mcp_oauth", endpoint = %endpoint, "introspection failed: {why}");
            Refusal::Unavailable(format!("introspection at {endpoint} failed: {why}"))
        };
        let answer = match answer {
            Ok(answer) => answer,
            Err(FetchError::Status(status, body)) => {
                return match read_error_answer(status, &body) {
                    ErrorAnswer::TokenRefused => {
                        tracing::debug!(target: "mcp_oauth", endpoint = %endpoint, status, "the authorization server refuses to introspect this token: not active here");
                        Err(Refusal::InvalidToken(TokenRejection::Inactive))
                    }
                    ErrorAnswer::Outage(why) => Err(outage(&why)),
                };
            }
            Err(other) => return Err(outage(&other.to_string())),
        };
        let doc: Map<String, Value> = serde_json::from_slice(&answer.body)
            .map_err(|_| outage("the answer is not a JSON object"))?;
        self.judge(doc)
    }

    /// RFC 7662 §2.2 on an answer: `active` must be the boolean `true` (anything else is
    /// inactive), `iss` this issuer, then the audience and times of an access token
    /// (RFC 9068 §4) and a `token_type`, if any, naming an access token.
    fn judge(&self, mut doc: Map<String, Value>) -> Result<VerifiedClaims, Refusal> {
        let inactive = Refusal::InvalidToken(TokenRejection::Inactive);
        match doc.remove("active") {
            Some(Value::Bool(true)) => {}
            Some(Value::Bool(false)) => return Err(inactive),
            // Fail closed: a missing `active`, `"true"` or `1` is not an active token.
            other => {
                tracing::warn!(target: "mcp_oauth", issuer = %self.issuer, active = ?other, "introspection answer has no boolean `active`; treated as inactive");
                return Err(inactive);
            }
        }
        match doc.get("iss") {
            None => {
                doc.insert("iss".into(), Value::String(self.issuer.clone()));
            }
            Some(Value::String(iss)) if *iss == self.issuer => {}
            Some(_) => return Err(Refusal::InvalidToken(TokenRejection::WrongIssuer)),
        }
        self.rules.check(&doc, &self.audiences)?;
        rules::times(&doc, self.leeway_secs, Expiry::Optional)?;
        if let Some(kind) = doc.get("token_type")
            && !kind.as_str().is_some_and(is_access_token_type)
        {
            return Err(Refusal::InvalidToken(TokenRejection::WrongType));
        }
        Ok(self
            .rules
            .scopes(VerifiedClaims::from_claims_with_scope_claim(
                doc,
                self.scope_claim.as_deref(),
            )))
    }
}

/// At most `max` introspection calls to one authorization server at once. One more is
/// refused at once with [`Refusal::Overloaded`]: it never waits, so nothing queues up.
#[derive(Debug)]
pub(crate) struct CallLimit {
    permits: tokio::sync::Semaphore,
    max: usize,
    /// Set by a refusal, cleared when the calls have drained: one warning per episode.
    saturated: AtomicBool,
}

impl CallLimit {
    pub(crate) fn new(max: usize) -> Self {
        let max = max.clamp(1, tokio::sync::Semaphore::MAX_PERMITS);
        Self {
            permits: tokio::sync::Semaphore::new(max),
            max,
            saturated: AtomicBool::new(false),
        }
    }

    /// A permit for one call, released when dropped; `Overloaded` when all are taken.
    fn enter(&self, issuer: &str) -> Result<tokio::sync::SemaphorePermit<'_>, Refusal> {
        match self.permits.try_acquire() {
            Ok(permit) => {
                if self.permits.available_permits() + 1 == self.max {
                    // The only call in flight: any flood is over.
                    self.saturated.store(false, Ordering::Relaxed);
                }
                Ok(permit)
            }
            Err(_) => {
                if !self.saturated.swap(true, Ordering::Relaxed) {
                    tracing::warn!(target: "mcp_oauth", issuer, max = self.max, "introspection calls at the cap (MCP_OAUTH_INTROSPECTION_MAX_CONCURRENT): new tokens get 503 with Retry-After until calls complete");
                }
                Err(Refusal::Overloaded {
                    retry_after: RETRY_AFTER,
                })
            }
        }
    }
}

/// What an error answer of the introspection endpoint means.
#[derive(Debug, PartialEq, Eq)]
enum ErrorAnswer {
    /// The authorization server refuses to introspect this token: it is not active here
    /// (401 `invalid_token`, remembered by the negative cache).
    TokenRefused,
    /// It refused us, or failed: the token may be good (503, never remembered).
    Outage(String),
}

/// The OAuth error codes an error answer may carry (RFC 6749 §5.2, RFC 6750 §3.1,
/// RFC 7009 §2.2.1, RFC 6749 §4.1.2.1): only these are ever logged, so a server that
/// echoes the token in a made-up code cannot get it into our logs.
const KNOWN_ERRORS: &[&str] = &[
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
    "invalid_token",
    "insufficient_scope",
    "unsupported_token_type",
    "access_denied",
    "server_error",
    "temporarily_unavailable",
];

/// Reads an error answer (`status` other than 2xx, `body` its first bytes). The one place
/// this is decided:
///
/// RFC 7662 §2.3: a well-formed, authorized request about any token, even one the server
/// will not vouch for, gets a 200 (`active: false`); an error answer is about the
/// request. Our request is fixed but for the token, so a 400 whose RFC 6749 §5.2 `error`
/// is about the token is the server refusing *this token*: not active here.
/// - 400 `unsupported_token_type` (RFC 7009 §2.2.1; what oidc-provider answers for a
///   JWT), `invalid_token` (RFC 6750 §3.1), `invalid_grant` (RFC 6749 §5.2: the grant
///   "is invalid, expired, revoked"), or `invalid_request` whose `error_description`
///   speaks of the token and of neither the client nor the hint: **not active**.
/// - 401 and 403 (RFC 7662 §2.3: our client credentials or bearer token refused), 400
///   `invalid_client` or `unauthorized_client` (RFC 6749 §5.2), any other 400 code, a
///   400 without an OAuth error object, 5xx and every other status: **outage**.
fn read_error_answer(status: u16, body: &[u8]) -> ErrorAnswer {
    let object = serde_json::from_slice::<Map<String, Value>>(body).ok();
    let member = |name: &str| {
        object
            .as_ref()
            .and_then(|o| o.get(name))
            .and_then(Value::as_str)
    };
    let error = member("error");
    let about_token = match error {
        Some("unsupported_token_type" | "invalid_token" | "invalid_grant") => true,
        Some("invalid_request") => member("error_description").is_some_and(|d| {
            let d = d.to_ascii_lowercase();
            d.contains("token") && !d.contains("client") && !d.contains("hint")
        }),
        _ => false,
    };
    if status == 400 && about_token {
        return ErrorAnswer::TokenRefused;
    }
    let code = match error {
        Some(code) if KNOWN_ERRORS.contains(&code) => format!(" `{code}`"),
        Some(_) => " with an unregistered error code".to_owned(),
        None => String::new(),
    };
    ErrorAnswer::Outage(match status {
        401 | 403 => format!(
            "answered HTTP {status}{code}: our client credentials were refused (check MCP_OAUTH_INTROSPECTION_CLIENT_ID and _SECRET)"
        ),
        400 if matches!(error, Some("invalid_client" | "unauthorized_client")) => format!(
            "answered HTTP 400{code}: our client credentials were refused (check MCP_OAUTH_INTROSPECTION_CLIENT_ID and _SECRET)"
        ),
        _ => format!("answered HTTP {status}{code}"),
    })
}

/// `token_type` names a bearer access token (RFC 6749 §7.1; RFC 8693 §3 URIs; some
/// servers use `access_token`). Refresh tokens and proof-of-possession types are not.
fn is_access_token_type(kind: &str) -> bool {
    let lower = kind.to_ascii_lowercase();
    // `DPoP`: a DPoP-bound access token (RFC 9449 §6.2); its binding is `cnf.jkt`.
    matches!(
        lower.as_str(),
        "bearer" | "dpop" | "access_token" | "urn:ietf:params:oauth:token-type:access_token"
    )
}

#[cfg(test)]
mod tests;
