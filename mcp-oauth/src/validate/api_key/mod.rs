//! API keys beside OAuth: [`ApiKey`] (what the configuration says of one key) and
//! [`ApiKeys`], the validator of the key table; [`dev::DevTokens`], static development
//! tokens.
//!
//! A key is known only by its SHA-256 (the table never holds a key), found by a
//! constant-time scan ([`table::KeyTable`]), and judged only when the token starts with
//! the key prefix (`mcp_sk_` by default): an API key never reaches an authorization
//! server, and a JWT never reaches the table ([`crate::first_of`] routes by
//! [`Recognition`]). An API key is a bearer credential like an access token (RFC 6750
//! §1.2): a bad one is a 401 `invalid_token` with the same challenge.

pub(crate) mod dev;
pub(crate) mod file;
pub(crate) mod table;
pub(crate) mod time;

use std::time::SystemTime;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use crate::refusal::{Refusal, TokenRejection};
use crate::scope;
use crate::validate::cache::{Key, key_of};
use crate::validate::claims::{Credential, VerifiedClaims};
use crate::validate::clock::Clock;
use crate::validate::{LocalBoxFuture, Recognition, TokenValidator};
use table::KeyTable;

/// The prefix API keys start with unless configured otherwise
/// (`MCP_OAUTH_API_KEY_PREFIX`): a token with it is judged by the key table alone.
///
/// ```
/// assert_eq!(mcp_oauth::DEFAULT_API_KEY_PREFIX, "mcp_sk_");
/// ```
pub const DEFAULT_API_KEY_PREFIX: &str = "mcp_sk_";

/// The most keys one configuration may list.
pub(crate) const MAX_API_KEYS: usize = 10_000;

/// The longest principal name of a key.
const MAX_PRINCIPAL_CHARS: usize = 256;

/// One API key as the configuration knows it: who uses it (its principal), the SHA-256
/// of the key (never the key), its scopes and an optional expiry. Add it with
/// [`McpOAuthBuilder::api_key`](crate::McpOAuthBuilder::api_key), or list keys in the
/// file format read by [`McpOAuthBuilder::api_keys`](crate::McpOAuthBuilder::api_keys)
/// (`MCP_OAUTH_API_KEYS_FILE`), one [`to_line`](Self::to_line) per key.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use mcp_oauth::ApiKey;
///
/// let key = ApiKey::generate(mcp_oauth::DEFAULT_API_KEY_PREFIX); // give this to the client, once
/// let entry = ApiKey::new("ci-bot", ApiKey::hash(&key))           // keep only this
///     .scopes(["tools:call"])
///     .expires_at(SystemTime::UNIX_EPOCH + Duration::from_secs(1_798_761_600));
/// assert_eq!(entry.principal(), "ci-bot");
/// assert!(!format!("{entry:?}").contains(&ApiKey::hash(&key)));
/// assert!(entry.to_line().ends_with(r#""scopes":["tools:call"],"expires_at":"2027-01-01T00:00:00Z"}"#));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey {
    principal: String,
    sha256: String,
    scopes: Vec<String>,
    expires_at: Option<SystemTime>,
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKey")
            .field("principal", &self.principal)
            .field("scopes", &self.scopes)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl ApiKey {
    /// The key whose SHA-256 is `sha256_hex` (64 hexadecimal digits, as
    /// [`hash`](Self::hash) and `sha256sum` write it), used by `principal`. No scopes,
    /// no expiry. Checked by `build()`.
    ///
    /// ```
    /// let entry = mcp_oauth::ApiKey::new("ci-bot", mcp_oauth::ApiKey::hash("mcp_sk_example"));
    /// assert_eq!(entry.principal(), "ci-bot");
    /// ```
    pub fn new(principal: impl Into<String>, sha256_hex: impl Into<String>) -> Self {
        Self {
            principal: principal.into(),
            sha256: sha256_hex.into(),
            scopes: Vec::new(),
            expires_at: None,
        }
    }

    /// The scopes the key grants (RFC 6749 §3.3 scope tokens).
    ///
    /// ```
    /// let entry = mcp_oauth::ApiKey::new("ci-bot", "00".repeat(32)).scopes(["a", "b"]);
    /// assert!(entry.to_line().contains(r#""scopes":["a","b"]"#));
    /// ```
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// When the key stops working (also the `exp` its clients see).
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    /// let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_798_761_600);
    /// let entry = mcp_oauth::ApiKey::new("ci-bot", "00".repeat(32)).expires_at(at);
    /// assert!(entry.to_line().contains(r#""expires_at":"2027-01-01T00:00:00Z""#));
    /// ```
    pub fn expires_at(mut self, at: SystemTime) -> Self {
        self.expires_at = Some(at);
        self
    }

    /// Who uses the key.
    ///
    /// ```
    /// assert_eq!(mcp_oauth::ApiKey::new("ci-bot", "").principal(), "ci-bot");
    /// ```
    pub fn principal(&self) -> &str {
        &self.principal
    }

    /// The SHA-256 of `key`, in lowercase hexadecimal: what the key file keeps instead
    /// of the key. The same as `printf %s "$KEY" | sha256sum`.
    ///
    /// ```
    /// assert_eq!(
    ///     mcp_oauth::ApiKey::hash("mcp_sk_example"),
    ///     "5ae1272ab0188666426214ab2d1b2cb58730ff05277f3fb5802b8c45d41daaa0",
    /// );
    /// assert_eq!(mcp_oauth::ApiKey::hash("").len(), 64);
    /// ```
    pub fn hash(key: &str) -> String {
        key_of(key).iter().map(|b| format!("{b:02x}")).collect()
    }

    /// A new random key: `prefix` and 32 bytes from the system's secure random
    /// generator, base64url (43 characters). Hand it to the client once; keep only its
    /// [`hash`](Self::hash).
    ///
    /// ```
    /// let key = mcp_oauth::ApiKey::generate("mcp_sk_");
    /// assert!(key.starts_with("mcp_sk_") && key.len() == 7 + 43);
    /// assert_ne!(key, mcp_oauth::ApiKey::generate("mcp_sk_"));
    /// ```
    ///
    /// # Panics
    /// If the operating system has no random numbers to give.
    pub fn generate(prefix: &str) -> String {
        let mut bytes = [0u8; 32];
        aws_lc_rs::rand::fill(&mut bytes).expect("the system random number generator");
        format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
    }

    /// This key as a line of the key file (one JSON object).
    ///
    /// ```
    /// let entry = mcp_oauth::ApiKey::new("ci-bot", "ab".repeat(32)).scopes(["tools:call"]);
    /// assert_eq!(
    ///     entry.to_line(),
    ///     format!(r#"{{"principal":"ci-bot","sha256":"{}","scopes":["tools:call"]}}"#, "ab".repeat(32)),
    /// );
    /// ```
    pub fn to_line(&self) -> String {
        let mut line = Map::new();
        line.insert("principal".into(), json!(self.principal));
        line.insert("sha256".into(), json!(self.sha256));
        line.insert("scopes".into(), json!(self.scopes));
        if let Some(at) = self.expires_at {
            line.insert("expires_at".into(), json!(time::format(at)));
        }
        Value::Object(line).to_string()
    }

    /// The stored hash, or what is wrong with this key (never its hash's value).
    pub(crate) fn check(&self) -> Result<Key, String> {
        let p = &self.principal;
        if p.is_empty()
            || p.chars().count() > MAX_PRINCIPAL_CHARS
            || p.chars().any(char::is_control)
        {
            return Err(format!(
                "`principal` must be 1 to {MAX_PRINCIPAL_CHARS} characters, none a control character"
            ));
        }
        if let Some(n) = self.scopes.iter().position(|s| !scope::is_scope_token(s)) {
            return Err(format!(
                "scope number {} is not a scope token (RFC 6749 §3.3)",
                n + 1
            ));
        }
        decode_hex(&self.sha256).ok_or_else(|| {
            "`sha256` must be 64 hexadecimal digits: the SHA-256 of the key, never the key itself"
                .to_owned()
        })
    }

    /// The claims a client using this key gets: `sub` = the principal, `scope`, `exp`.
    fn claims(&self) -> VerifiedClaims {
        let mut claims = Map::new();
        claims.insert("sub".into(), json!(self.principal));
        claims.insert("scope".into(), json!(self.scopes.join(" ")));
        if let Some(at) = self.expires_at {
            let secs = at
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            claims.insert("exp".into(), json!(secs));
        }
        VerifiedClaims::from_claims(claims).with_credential(Credential::ApiKey)
    }
}

fn decode_hex(hex: &str) -> Option<Key> {
    let bytes = hex.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut key = [0u8; 32];
    for (i, pair) in bytes.chunks(2).enumerate() {
        let digit = |c: u8| char::from(c).to_digit(16);
        key[i] = u8::try_from(digit(pair[0])? * 16 + digit(pair[1])?).ok()?;
    }
    Some(key)
}

/// The key table as a [`TokenValidator`]: tokens starting with the prefix are its own
/// ([`Recognition::Mine`]), every other token is [`Recognition::NotMine`].
pub(crate) struct ApiKeys {
    prefix: String,
    table: KeyTable<(VerifiedClaims, Option<SystemTime>)>,
    clock: Clock,
}

impl std::fmt::Debug for ApiKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeys")
            .field("prefix", &self.prefix)
            .field("keys", &self.table.len())
            .finish()
    }
}

impl ApiKeys {
    /// The table of `keys` (already [`check`](ApiKey::check)ed: a key that is not is
    /// left out, and so is a second key with the same hash).
    pub(crate) fn new<'a>(prefix: &str, keys: impl IntoIterator<Item = &'a ApiKey>) -> Self {
        let mut table = KeyTable::default();
        for key in keys {
            if let Ok(hash) = key.check() {
                table.insert(hash, (key.claims(), key.expires_at));
            }
        }
        Self {
            prefix: prefix.to_owned(),
            table,
            clock: Clock::default(),
        }
    }

    #[cfg(test)]
    fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    fn check(&self, token: &str) -> Result<VerifiedClaims, Refusal> {
        let refuse =
            |why: &'static str| Err(Refusal::InvalidToken(TokenRejection::Other(why.into())));
        let Some((claims, expires_at)) = self.table.find(token) else {
            return refuse("The API key is not known");
        };
        if expires_at.is_some_and(|at| self.clock.wall() >= at) {
            return refuse("The API key expired");
        }
        Ok(claims.clone())
    }
}

impl TokenValidator for ApiKeys {
    fn validate<'a>(
        &'a self,
        token: &'a str,
    ) -> LocalBoxFuture<'a, Result<VerifiedClaims, Refusal>> {
        let result = self.check(token);
        Box::pin(async move { result })
    }

    fn recognizes(&self, token: &str) -> Recognition {
        if token.starts_with(&self.prefix) {
            Recognition::Mine
        } else {
            Recognition::NotMine
        }
    }
}

#[cfg(test)]
mod tests;
