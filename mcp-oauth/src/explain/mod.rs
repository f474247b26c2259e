//! What `cargo mcp-oauth doctor` checks beyond the startup report: each issuer's signing
//! keys, the running server's own metadata (RFC 9728 §3), and one token explained check
//! by check ([`explain_token`]). Not public API: no stability promise.
//!
//! Nothing here prints or returns a token or its signature: a [`Step`] says what was
//! checked and what was found (claims such as `sub` may be named).

mod metadata;
mod revoke;
mod token;

pub use metadata::check_metadata;
pub use revoke::{Revocation, revoke};
pub use token::explain_token;

use crate::http;
use crate::layer::McpOAuth;
use crate::validate::jwks::KeySet;
use crate::validate::jwt::KeySource;

/// How one check came out.
///
/// ```
/// use mcp_oauth::explain::Outcome;
/// assert!(Outcome::Fail.is_failure() && !Outcome::Warn.is_failure());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Fine.
    Pass,
    /// Works, but worth a look.
    Warn,
    /// What makes the server refuse (or the check impossible).
    Fail,
    /// Not checked: an earlier step decided it, or it does not apply.
    Skip,
}

impl Outcome {
    /// Whether this outcome should fail a deployment gate.
    ///
    /// ```
    /// assert!(mcp_oauth::explain::Outcome::Fail.is_failure());
    /// ```
    pub fn is_failure(self) -> bool {
        self == Self::Fail
    }
}

/// One check and what it found.
///
/// ```
/// use mcp_oauth::explain::{Outcome, Step};
/// let step = Step::new("aud", Outcome::Pass, "matches the resource");
/// assert_eq!(step.check, "aud");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// What was checked, short (`header`, `iss`, `aud`, ...).
    pub check: &'static str,
    /// How it came out.
    pub outcome: Outcome,
    /// What was found, for a person; never a token or a signature.
    pub detail: String,
}

impl Step {
    /// A step.
    ///
    /// ```
    /// let step = mcp_oauth::explain::Step::new("exp", mcp_oauth::explain::Outcome::Fail, "expired");
    /// assert_eq!(step.detail, "expired");
    /// ```
    pub fn new(check: &'static str, outcome: Outcome, detail: impl Into<String>) -> Self {
        Self {
            check,
            outcome,
            detail: detail.into(),
        }
    }
}

/// Where one issuer's verification keys come from, and what was found there.
///
/// ```
/// use mcp_oauth::explain::Keys;
/// let keys = Keys::Jwks { uri: "https://a/jwks".into(), keys: 2, algorithms: vec!["RS256".into()] };
/// assert!(matches!(keys, Keys::Jwks { keys: 2, .. }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Keys {
    /// A JWKS fetched now: how many usable keys, and the algorithms they may verify.
    Jwks {
        /// The JWKS URL.
        uri: String,
        /// Usable signing keys (weak, symmetric and encryption keys are not counted).
        keys: usize,
        /// Every algorithm one of them may verify.
        algorithms: Vec<String>,
    },
    /// A shared HS256 secret: nothing to fetch.
    SharedSecret,
    /// This issuer's tokens are introspected, not verified locally.
    Introspected,
}

/// One issuer's keys, or why they could not be had.
///
/// ```
/// use mcp_oauth::explain::{IssuerKeys, Keys};
/// let found = IssuerKeys { issuer: "https://a".into(), keys: Ok(Keys::SharedSecret) };
/// assert!(found.keys.is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerKeys {
    /// The issuer, as configured.
    pub issuer: String,
    /// What was found, or why nothing was (a person's sentence naming the URL).
    pub keys: Result<Keys, String>,
}

/// Fetches every issuer's JWKS now (discovering its `jwks_uri` first if need be) and
/// counts the usable keys. Run it on an actix system: outbound calls use awc.
///
/// ```
/// use mcp_oauth::explain::{self, Keys};
/// use mcp_oauth::testing::TestAuthServer;
///
/// let auth = TestAuthServer::start();
/// let oauth = auth.configure_issuer_only("http://127.0.0.1:8080/mcp").build()?;
/// let found = actix_web::rt::System::new().block_on(explain::keys(&oauth));
/// let Ok(Keys::Jwks { keys, algorithms, .. }) = &found[0].keys else { panic!("{found:?}") };
/// assert_eq!(*keys, 4);
/// assert!(algorithms.iter().any(|a| a == "RS256"));
/// # Ok::<(), mcp_oauth::ConfigError>(())
/// ```
pub async fn keys(oauth: &McpOAuth) -> Vec<IssuerKeys> {
    let mut found = Vec::new();
    for authority in &oauth.inner.authorities.list {
        let keys = match &authority.jwt {
            None => Ok(Keys::Introspected),
            Some(jwt) => match fetch(&jwt.keys).await {
                Ok(None) => Ok(Keys::SharedSecret),
                Ok(Some((uri, set))) => {
                    let (keys, algorithms) = set.summary();
                    Ok(Keys::Jwks {
                        uri,
                        keys,
                        algorithms: algorithms.iter().map(|a| format!("{a:?}")).collect(),
                    })
                }
                Err(why) => Err(why),
            },
        };
        found.push(IssuerKeys {
            issuer: authority.discovery.issuer().to_owned(),
            keys,
        });
    }
    found
}

/// The key set of `source`, fetched now (not from the cache, which may hold older
/// keys) with the cache's own limits, and its URL; `None` for a shared secret.
async fn fetch(source: &KeySource) -> Result<Option<(String, KeySet)>, String> {
    let cache = match source.jwks().await {
        Ok(Some(cache)) => cache,
        Ok(None) => return Ok(None),
        Err(refusal) => return Err(refusal.to_string()),
    };
    let uri = cache.uri().to_owned();
    let fetched = http::get_json(&uri, cache.limits())
        .await
        .map_err(|e| format!("the JWKS at {uri} {e}"))?;
    let set = KeySet::parse(&fetched.body).map_err(|e| format!("{e} ({uri})"))?;
    Ok(Some((uri, set)))
}
