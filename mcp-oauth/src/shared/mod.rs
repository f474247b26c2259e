//! What the instances of one deployment share, for a fleet behind a load balancer: the
//! DPoP proofs seen (RFC 9449 §11.1), so a proof is good once per fleet; introspection
//! answers (RFC 7662 §4), so a token is introspected once per fleet; session owners, so
//! a session is its owner's on every instance; rate-limit budgets; revocations (RFC 7009
//! §2.2, `revocation.rs`: records, and a channel every instance listens on). Off by default:
//! one process keeps everything in memory, as without this module.
//!
//! A [`SharedState`] is a [`Store`] (one round trip per operation, each with a deadline)
//! and a key prefix. The local state stays in front of it: a request answered from the
//! process's own memory costs no round trip. [`memory`] is the in-process store (one
//! process, and the tests of what uses it); `redis` (feature `redis`) is Redis or Valkey.

pub(crate) mod gcra;
pub(crate) mod memory;
#[cfg(feature = "redis")]
pub(crate) mod redis;
pub(crate) mod revocation;
mod seal;
#[cfg(feature = "redis")]
pub(crate) mod subscription;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

pub(crate) use crate::telemetry::SharedUse;

/// A shared-tier operation in flight (`Send`: a store may run it on any runtime).
pub(crate) type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why the shared tier could not answer: unreachable, too slow, or an unexpected reply.
/// The text is for the log (it never holds a key's value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unavailable(pub(crate) String);

impl fmt::Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The operations the shared tier offers, each one round trip with an expiry, so nothing
/// stored outlives its use.
pub(crate) trait Store: Send + Sync + fmt::Debug {
    /// Stores `key` for `ttl` unless it is there: `true` when it was not (`SET NX PX`).
    fn insert_new<'a>(
        &'a self,
        key: &'a str,
        ttl: Duration,
    ) -> StoreFuture<'a, Result<bool, Unavailable>>;

    // Introspection results and session owners: values under hashed keys, each with an
    // expiry (`validate/introspection/shared.rs`, `session.rs`).

    /// The value at `key`, if any and not expired (`GET`).
    fn get<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Result<Option<String>, Unavailable>>;

    /// Stores `value` at `key` for `ttl`, replacing what was there (`SET PX`).
    fn put<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        ttl: Duration,
    ) -> StoreFuture<'a, Result<(), Unavailable>>;

    /// Stores `value` at `key` for `ttl` unless a value is there: `true` when it was not
    /// (`SET NX PX`).
    fn put_new<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        ttl: Duration,
    ) -> StoreFuture<'a, Result<bool, Unavailable>>;

    /// Removes `key` (`DEL`).
    fn remove<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Result<(), Unavailable>>;

    // Rate limits (`limit/`): the GCRA step of `gcra.rs`.
    /// One GCRA step on `key` ([`gcra`]): `Ok(())` when a request passes (its cell
    /// spent, the key expiring when it is full again), else how long until one does.
    fn gcra<'a>(
        &'a self,
        key: &'a str,
        cells: gcra::Cells,
    ) -> StoreFuture<'a, Result<Result<(), Duration>, Unavailable>>;

    // Revocation (fleet-wide): a record and its message, the records read back, and the
    // subscription every instance holds.

    /// Stores `key` = `value` for `ttl` and publishes `message` on `channel`, as one
    /// (`MULTI` `SET PX` `PUBLISH` `EXEC`).
    fn record_and_publish<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        ttl: Duration,
        channel: &'a str,
        message: &'a str,
    ) -> StoreFuture<'a, Result<(), Unavailable>>;

    /// The values of `keys`, in order (`MGET`).
    fn get_many<'a>(
        &'a self,
        keys: &'a [String],
    ) -> StoreFuture<'a, Result<Vec<Option<String>>, Unavailable>>;

    /// Delivers what is published on `channel` to `subscriber`, from now on, until it
    /// returns `false`; [`Event::Up`] and [`Event::Down`] tell when messages may have been
    /// missed. Returns at once (a store may listen on a thread of its own).
    fn subscribe(&self, channel: String, subscriber: Subscriber);
}

/// What a subscription tells its subscriber (the in-memory store is always up).
#[derive(Debug)]
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
pub(crate) enum Event<'a> {
    /// Listening (again): messages published from now on are delivered.
    Up,
    /// Not listening: messages published from now until the next `Up` are missed.
    Down(&'a Unavailable),
    /// A message.
    Message(&'a str),
    /// Nothing happened for a while: the subscriber may say it is gone.
    Idle,
}

/// The receiving end of a subscription: `false` when it wants no more.
pub(crate) struct Subscriber(pub(crate) Box<dyn Fn(Event<'_>) -> bool + Send + Sync>);

impl fmt::Debug for Subscriber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Subscriber")
    }
}

/// State shared by the instances of one deployment (a fleet behind a load balancer):
/// the DPoP proofs seen, so a proof replayed to another instance is refused; the
/// introspection answers, so a token is introspected once per fleet; the owners of MCP
/// sessions, so a session opened on one instance is its owner's on the others; the rate
/// limits' budgets, so the fleet allows the configured rate, not N times it; the
/// revocations, so a token revoked on one instance is refused by all.
///
/// Build it once and give the same one to [`McpOAuthBuilder::shared_state`]; each
/// instance of the fleet points at the same store with the same prefix.
///
/// ```
/// use mcp_oauth::{McpOAuth, SharedState};
///
/// // One process: the in-memory store (what the tests of a fleet use too).
/// let shared = SharedState::memory();
/// let oauth = McpOAuth::builder()
///     .resource("https://mcp.example.com/mcp")
///     .authorization_server("https://auth.example.com")
///     .jwks_uri("https://auth.example.com/jwks")
///     .shared_state(shared)
///     .build()?;
/// # let _ = oauth;
/// # Ok::<(), mcp_oauth::ConfigError>(())
/// ```
///
/// [`McpOAuthBuilder::shared_state`]: crate::McpOAuthBuilder::shared_state
#[derive(Clone)]
pub struct SharedState {
    store: Arc<dyn Store>,
    prefix: Arc<str>,
    on_failure: OnFailure,
    /// The fleet secret: values tagged, key ids keyed (`seal.rs`); `None`: plain.
    seal: Option<Arc<seal::Seal>>,
    revocation_on_failure: RevocationOnFailure,
}

impl fmt::Debug for SharedState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedState")
            .field("store", &self.store)
            .field("prefix", &self.prefix)
            .field("on_failure", &self.on_failure)
            .field("sealed", &self.seal.is_some())
            .field("revocation_on_failure", &self.revocation_on_failure)
            .finish()
    }
}

/// The default key prefix: every key this crate writes starts with it and a colon.
pub const DEFAULT_SHARED_PREFIX: &str = "mcp-oauth";

impl SharedState {
    /// The in-process store: shared by every `McpOAuth` built with a clone of it in this
    /// process (bounded; entries expire). For one instance, and for tests of a fleet.
    ///
    /// ```
    /// let shared = mcp_oauth::SharedState::memory();
    /// assert_eq!(shared.prefix(), "mcp-oauth");
    /// ```
    pub fn memory() -> Self {
        Self::with_store(Arc::new(memory::MemoryStore::default()))
    }

    /// Redis or Valkey at `url` (feature `redis`): `redis://host:6379/0`, `rediss://` for
    /// TLS, user and password in the URL (`redis://user:secret@host`). Connections are
    /// made on first use, one per worker thread; each operation has a 50 ms deadline.
    /// `MCP_OAUTH_REDIS_URL`.
    ///
    /// ```
    /// let shared = mcp_oauth::SharedState::redis("redis://127.0.0.1:6379").unwrap();
    /// assert!(mcp_oauth::SharedState::redis("http://not-redis").is_err());
    /// # let _ = shared;
    /// ```
    #[cfg(feature = "redis")]
    pub fn redis(url: &str) -> Result<Self, String> {
        Self::redis_with_timeout(url, redis::DEFAULT_TIMEOUT)
    }

    /// [`redis`](Self::redis) with another deadline per operation (1 ms to 10 s).
    /// `MCP_OAUTH_REDIS_TIMEOUT_MS`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let shared = mcp_oauth::SharedState::redis_with_timeout(
    ///     "redis://127.0.0.1:6379",
    ///     Duration::from_millis(20),
    /// );
    /// assert!(shared.is_ok());
    /// ```
    #[cfg(feature = "redis")]
    pub fn redis_with_timeout(url: &str, timeout: Duration) -> Result<Self, String> {
        let store = redis::RedisStore::open(url, timeout, None)?;
        Ok(Self::with_store(Arc::new(store)))
    }

    /// [`redis_with_timeout`](Self::redis_with_timeout) for a `rediss://` server whose
    /// certificate chain leads to `ca_pem` (a private CA) rather than to the webpki roots.
    /// `MCP_OAUTH_REDIS_CA` (usually `MCP_OAUTH_REDIS_CA_FILE`, a PEM file).
    ///
    /// ```
    /// use std::time::Duration;
    /// let not_pem = mcp_oauth::SharedState::redis_with_ca(
    ///     "rediss://redis.internal:6380",
    ///     Duration::from_millis(50),
    ///     b"not a certificate",
    /// );
    /// assert!(not_pem.is_err());
    /// ```
    #[cfg(feature = "redis")]
    pub fn redis_with_ca(url: &str, timeout: Duration, ca_pem: &[u8]) -> Result<Self, String> {
        let store = redis::RedisStore::open(url, timeout, Some(ca_pem))?;
        Ok(Self::with_store(Arc::new(store)))
    }

    pub(crate) fn with_store(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            prefix: DEFAULT_SHARED_PREFIX.into(),
            on_failure: OnFailure::default(),
            seal: None,
            revocation_on_failure: RevocationOnFailure::default(),
        }
    }

    /// A secret every instance of the fleet shares (32 bytes or more), so Redis's contents
    /// are worth nothing to someone who can write or read them but does not hold it: each
    /// value (an introspection answer, a session owner) is stored with an HMAC-SHA256 tag
    /// and one without a good tag is read as absent (never believed), and each key names
    /// a keyed hash of its id (a client address cannot be found by trying them all).
    /// `MCP_OAUTH_REDIS_SECRET` (usually `_FILE`).
    ///
    /// ```
    /// let shared = mcp_oauth::SharedState::memory().with_secret([7u8; 32]).unwrap();
    /// assert!(mcp_oauth::SharedState::memory().with_secret(b"short").is_err());
    /// # let _ = shared;
    /// ```
    pub fn with_secret(mut self, secret: impl AsRef<[u8]>) -> Result<Self, String> {
        self.seal = Some(Arc::new(seal::Seal::new(secret.as_ref())?));
        Ok(self)
    }

    /// Every key starts with `prefix` and a colon (default
    /// [`DEFAULT_SHARED_PREFIX`]): deployments sharing one Redis keep apart by it.
    ///
    /// ```
    /// let shared = mcp_oauth::SharedState::memory().with_prefix("tenant-a");
    /// assert_eq!(shared.prefix(), "tenant-a");
    /// ```
    pub fn with_prefix(mut self, prefix: &str) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// What a request does when the shared tier cannot answer (default
    /// [`OnFailure::Local`]).
    ///
    /// ```
    /// use mcp_oauth::{OnFailure, SharedState};
    ///
    /// let strict = SharedState::memory().on_failure(OnFailure::Refuse);
    /// assert_eq!(strict.failure_policy(), OnFailure::Refuse);
    /// ```
    pub fn on_failure(mut self, policy: OnFailure) -> Self {
        self.on_failure = policy;
        self
    }

    /// The failure policy.
    pub fn failure_policy(&self) -> OnFailure {
        self.on_failure
    }

    /// `<prefix>:<kind>:<hex of id>`: ids are hashes, never a token or a proof; with a
    /// secret, keyed hashes of them.
    pub(crate) fn key(&self, kind: &str, id: &[u8]) -> String {
        let keyed;
        let id = match &self.seal {
            Some(seal) => {
                keyed = seal.id(kind, id);
                &keyed[..]
            }
            None => id,
        };
        let mut key = String::with_capacity(self.prefix.len() + kind.len() + 2 + 2 * id.len());
        key.push_str(&self.prefix);
        key.push(':');
        key.push_str(kind);
        key.push(':');
        for b in id {
            key.push(char::from(HEX[usize::from(b >> 4)]));
            key.push(char::from(HEX[usize::from(b & 15)]));
        }
        key
    }

    pub(crate) fn store(&self) -> &dyn Store {
        &*self.store
    }

    /// The value at `key`; with a secret, only if its tag is good (else absent, logged).
    pub(crate) async fn get(&self, key: &str) -> Result<Option<String>, Unavailable> {
        let Some(stored) = self.store.get(key).await? else {
            return Ok(None);
        };
        let Some(seal) = &self.seal else {
            return Ok(Some(stored));
        };
        let opened = seal.open(key, &stored).map(str::to_owned);
        if opened.is_none() {
            tracing::warn!(target: "mcp_oauth", "a shared-state value without a valid tag was ignored");
        }
        Ok(opened)
    }

    /// Stores `value` at `key` for `ttl` (`SET PX`), tagged when there is a secret.
    pub(crate) async fn put(
        &self,
        key: &str,
        value: &str,
        ttl: Duration,
    ) -> Result<(), Unavailable> {
        self.store.put(key, &self.sealed(key, value), ttl).await
    }

    /// Stores `value` at `key` for `ttl` unless one is there (`SET NX PX`).
    pub(crate) async fn put_new(
        &self,
        key: &str,
        value: &str,
        ttl: Duration,
    ) -> Result<bool, Unavailable> {
        self.store.put_new(key, &self.sealed(key, value), ttl).await
    }

    fn sealed(&self, key: &str, value: &str) -> String {
        match &self.seal {
            Some(seal) => seal.seal(key, value),
            None => value.to_owned(),
        }
    }

    /// What an instance does with its validation cache while it is not listening to the
    /// fleet's revocations (default [`RevocationOnFailure::Open`]).
    /// `MCP_OAUTH_REDIS_REVOCATION_ON_FAILURE`.
    ///
    /// ```
    /// use mcp_oauth::{RevocationOnFailure, SharedState};
    ///
    /// let strict = SharedState::memory().revocation_on_failure(RevocationOnFailure::Closed);
    /// assert_eq!(strict.revocation_failure_policy(), RevocationOnFailure::Closed);
    /// ```
    pub fn revocation_on_failure(mut self, policy: RevocationOnFailure) -> Self {
        self.revocation_on_failure = policy;
        self
    }

    /// The revocation failure policy.
    pub fn revocation_failure_policy(&self) -> RevocationOnFailure {
        self.revocation_on_failure
    }
}

pub use revocation::RevokeError;

/// What an instance does while its subscription to the fleet's revocations is down
/// (Redis unreachable): it cannot hear that a token it holds in its validation cache was
/// revoked elsewhere. Either way a token it validates again is checked against the
/// shared records, when they answer; once listening again, the cache is emptied (a
/// revocation missed meanwhile is then found on the next validation).
///
/// ```
/// use mcp_oauth::RevocationOnFailure;
/// assert_eq!("closed".parse::<RevocationOnFailure>(), Ok(RevocationOnFailure::Closed));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum RevocationOnFailure {
    /// Serve the validation cache as usual: a token revoked elsewhere may be served
    /// here until its entry ends (at most the cache TTL) or the subscription is back.
    #[default]
    Open,
    /// Serve nothing from the validation cache: every request validates its token again
    /// (a signature check, or an introspection call), checked against the shared records.
    Closed,
}

impl FromStr for RevocationOnFailure {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "open" => Ok(Self::Open),
            "closed" => Ok(Self::Closed),
            other => Err(format!("`{other}` is neither `open` nor `closed`")),
        }
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// What a request does when the shared tier does not answer in time (Redis down, slow,
/// or refusing us). Never a 401: a valid token stays valid.
///
/// ```
/// assert_eq!("refuse".parse::<mcp_oauth::OnFailure>(), Ok(mcp_oauth::OnFailure::Refuse));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum OnFailure {
    /// Go on with this process's own state (its replay cache still refuses a proof seen
    /// here), logging a warning and counting the failure.
    #[default]
    Local,
    /// Refuse what needs the shared answer with 503 and `Retry-After` (a replay to
    /// another instance can never pass), logging and counting the same. Rate limits
    /// always fall back to the process's own limiter: a brake, not a proof.
    Refuse,
}

impl FromStr for OnFailure {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "local" => Ok(Self::Local),
            "refuse" => Ok(Self::Refuse),
            other => Err(format!("`{other}` is neither `local` nor `refuse`")),
        }
    }
}

/// One log line per use at most every 5 seconds, and the count: loud, but a
/// dead Redis under load does not write a line per request.
pub(crate) fn report(what: SharedUse, why: &Unavailable) {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::{SystemTime, UNIX_EPOCH};
    /// Each use's last line: one failing loudly does not hide another.
    static LAST: [AtomicU64; SharedUse::COUNT] = [const { AtomicU64::new(0) }; SharedUse::COUNT];
    crate::telemetry::shared_failure(what);
    let slot = &LAST[what as usize];
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let last = slot.load(Ordering::Relaxed);
    if now >= last + 5
        && slot
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    {
        tracing::warn!(target: "mcp_oauth", use_ = what.label(), "shared state unavailable: {why}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_the_prefix_the_kind_and_the_hex_of_a_hash() {
        let shared = SharedState::memory().with_prefix("p");
        assert_eq!(
            shared.key("dpop-jti", &[0x00, 0xab, 0xff]),
            "p:dpop-jti:00abff"
        );
    }
}
