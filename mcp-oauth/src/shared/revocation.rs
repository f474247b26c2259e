//! Revocation fleet-wide: what the shared tier records and publishes when a token or a
//! subject is revoked (RFC 7009 §2.2: once revoked, a token is refused by every instance
//! that might hold it in a cache).
//!
//! A record is a key with an expiry (`<prefix>:revoked-token:<SHA-256 of the token>` =
//! `1`, `<prefix>:revoked-subject:<SHA-256 of sub>` = the revocation time in Unix
//! milliseconds), written together with a message on `<prefix>:revocations` (one
//! `MULTI`/`EXEC`): every instance subscribes, and one that was not listening finds the
//! record on its next validation. Neither holds a token or a subject, only their hashes.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::digest;

use super::{SharedState, Unavailable};

/// The largest leeway a validator may allow past `exp` (`MAX_LEEWAY`, 300 s).
const MAX_LEEWAY: Duration = Duration::from_secs(300);
/// The key kind of a revoked token.
const TOKEN_KIND: &str = "revoked-token";
/// The key kind of a revoked subject.
const SUBJECT_KIND: &str = "revoked-subject";

/// SHA-256 of `text`: how a revocation names a token or a subject.
pub(crate) fn hash(text: &str) -> [u8; 32] {
    let digest = digest::digest(&digest::SHA256, text.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

/// Milliseconds since the Unix epoch, now.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// What was revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Revoked {
    /// One token, by its SHA-256.
    Token([u8; 32]),
    /// Every token of a subject issued at or before `at_ms` (Unix milliseconds), by the
    /// SHA-256 of its `sub`.
    Subject { hash: [u8; 32], at_ms: u64 },
}

/// A revocation and how long it is remembered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Notice {
    pub(crate) what: Revoked,
    pub(crate) ttl: Duration,
}

impl Notice {
    /// The message on the channel: `token <hex> <ttl ms>` or
    /// `subject <hex> <at ms> <ttl ms>`.
    pub(crate) fn encode(&self) -> String {
        let ttl = ttl_ms(self.ttl);
        match self.what {
            Revoked::Token(hash) => format!("token {} {ttl}", Hex(&hash)),
            Revoked::Subject { hash, at_ms } => format!("subject {} {at_ms} {ttl}", Hex(&hash)),
        }
    }

    /// A message read back; `None` for anything else (never trusted beyond its shape).
    pub(crate) fn decode(text: &str) -> Option<Self> {
        let mut parts = text.split(' ');
        let kind = parts.next()?;
        let hash = unhex(parts.next()?)?;
        let what = match kind {
            "token" => Revoked::Token(hash),
            "subject" => Revoked::Subject {
                hash,
                at_ms: parts.next()?.parse().ok()?,
            },
            _ => return None,
        };
        let ttl = Duration::from_millis(parts.next()?.parse().ok()?);
        parts.next().is_none().then_some(Self { what, ttl })
    }
}

fn ttl_ms(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

struct Hex<'a>(&'a [u8]);

impl fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

fn unhex(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// What the shared tier knows of one validated token: revoked itself, and when its
/// subject was revoked (Unix milliseconds).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Standing {
    pub(crate) token_revoked: bool,
    pub(crate) subject_revoked_at: Option<u64>,
}

impl SharedState {
    /// The channel every instance listens on.
    pub(crate) fn revocation_channel(&self) -> String {
        format!("{}:revocations", self.prefix)
    }

    /// Records `notice` with its expiry and publishes it, in one round trip.
    pub(crate) async fn publish_revocation(&self, notice: &Notice) -> Result<(), Unavailable> {
        let (key, value) = match notice.what {
            Revoked::Token(hash) => (self.key(TOKEN_KIND, &hash), "1".to_owned()),
            Revoked::Subject { hash, at_ms } => (self.key(SUBJECT_KIND, &hash), at_ms.to_string()),
        };
        let channel = self.revocation_channel();
        let message = notice.encode();
        self.store()
            .record_and_publish(&key, &value, notice.ttl, &channel, &message)
            .await
    }

    /// What the records say of the token hashed to `token` and of the subject hashed to
    /// `subject` (one round trip).
    pub(crate) async fn standing(
        &self,
        token: &[u8; 32],
        subject: Option<&[u8; 32]>,
    ) -> Result<Standing, Unavailable> {
        let mut keys = vec![self.key(TOKEN_KIND, token)];
        keys.extend(subject.map(|s| self.key(SUBJECT_KIND, s)));
        let values = self.store().get_many(&keys).await?;
        Ok(Standing {
            token_revoked: values.first().is_some_and(Option::is_some),
            subject_revoked_at: values
                .get(1)
                .and_then(|v| v.as_deref())
                .and_then(|v| v.parse().ok()),
        })
    }

    /// Revokes `token` in every instance of the fleet that shares this state, from a
    /// process that serves no requests itself (an administration tool: what
    /// `cargo mcp-oauth revoke --token` runs). The record lives until the token's `exp`
    /// when it is a JWT carrying one (read, not verified: a forged `exp` only shortens
    /// the record of a token no instance accepts), never longer than `max_ttl`, and
    /// `max_ttl` when the token says nothing (an opaque token). Servers revoke with
    /// [`McpOAuth::revoke_token`](crate::McpOAuth::revoke_token), which also acts at once
    /// on their own cache.
    ///
    /// ```no_run
    /// # #[cfg(feature = "redis")]
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    /// let shared = mcp_oauth::SharedState::redis("redis://127.0.0.1:6379")?;
    /// shared
    ///     .revoke_token("eyJhbGciOi...", Duration::from_secs(24 * 3600))
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// [`RevokeError::Unavailable`] when the shared tier did not take the record.
    pub async fn revoke_token(&self, token: &str, max_ttl: Duration) -> Result<(), RevokeError> {
        let notice = Notice {
            what: Revoked::Token(hash(token)),
            ttl: token_ttl(token, max_ttl, SystemTime::now()),
        };
        self.publish_revocation(&notice)
            .await
            .map_err(|why| RevokeError::Unavailable(why.0))
    }

    /// Revokes every token of `subject` (its `sub` claim) issued until now, in every
    /// instance of the fleet, for `ttl` (the longest an access token of it can live:
    /// a token issued before now is then expired). What `cargo mcp-oauth revoke
    /// --subject` runs; servers use
    /// [`McpOAuth::revoke_subject`](crate::McpOAuth::revoke_subject).
    ///
    /// ```no_run
    /// # #[cfg(feature = "redis")]
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    /// let shared = mcp_oauth::SharedState::redis("redis://127.0.0.1:6379")?;
    /// shared.revoke_subject("alice", Duration::from_secs(24 * 3600)).await?;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// [`RevokeError::Unavailable`] when the shared tier did not take the record.
    pub async fn revoke_subject(&self, subject: &str, ttl: Duration) -> Result<(), RevokeError> {
        let notice = Notice {
            what: Revoked::Subject {
                hash: hash(subject),
                at_ms: now_ms(),
            },
            ttl,
        };
        self.publish_revocation(&notice)
            .await
            .map_err(|why| RevokeError::Unavailable(why.0))
    }
}

/// How long the record of a revoked `token` lives: until its `exp` (plus the largest
/// leeway, `MAX_LEEWAY`, as a validator may accept it that long
/// past `exp`) when it is a JWT carrying one, at most `max_ttl`; `max_ttl` otherwise.
pub(crate) fn token_ttl(token: &str, max_ttl: Duration, now: SystemTime) -> Duration {
    use base64::Engine as _;
    let exp = token
        .split('.')
        .nth(1)
        .and_then(|payload| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .ok()
        })
        .and_then(|json| serde_json::from_slice::<serde_json::Value>(&json).ok())
        .and_then(|claims| claims.get("exp")?.as_f64())
        .filter(|exp| exp.is_finite() && *exp > 0.0);
    let Some(exp) = exp else { return max_ttl };
    let until = UNIX_EPOCH + Duration::from_secs_f64(exp.min(1e12)) + MAX_LEEWAY;
    until
        .duration_since(now)
        .unwrap_or(Duration::from_secs(1))
        .clamp(Duration::from_secs(1), max_ttl.max(Duration::from_secs(1)))
}

/// Why a revocation did not reach the fleet.
///
/// ```
/// let err = mcp_oauth::RevokeError::Unavailable("127.0.0.1:6379: timed out".into());
/// assert!(err.to_string().contains("timed out"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RevokeError {
    /// The shared tier did not take the record (the revocation then holds in this
    /// process only: try again).
    Unavailable(String),
    /// This process remembers as many revocations as it may (see
    /// [`McpOAuthBuilder::revocation_ttl`](crate::McpOAuthBuilder::revocation_ttl)): the
    /// token's cache entries are dropped, but it is not refused here until an older
    /// revocation expires.
    Full,
}

impl fmt::Display for RevokeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unavailable(why) => {
                write!(f, "the shared state did not take the revocation: {why}")
            }
            Self::Full => f.write_str("this process holds as many revocations as it may"),
        }
    }
}

impl std::error::Error for RevokeError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_back_as_written_and_nothing_else_reads() {
        for what in [
            Revoked::Token([7; 32]),
            Revoked::Subject {
                hash: [0xab; 32],
                at_ms: 1_700_000_000_123,
            },
        ] {
            let notice = Notice {
                what,
                ttl: Duration::from_millis(86_400_000),
            };
            assert_eq!(Notice::decode(&notice.encode()), Some(notice));
        }
        for bad in ["", "token", "token zz 1", "subject 00 1 2", "token {} 1 2"] {
            assert_eq!(Notice::decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_token_record_lives_until_exp_and_leeway_within_the_cap() {
        use base64::Engine as _;
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let jwt = |exp: u64| {
            let claims = format!(r#"{{"exp":{exp}}}"#);
            let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
            format!("e30.{}.sig", b64.encode(claims))
        };
        let day = Duration::from_secs(86_400);
        assert_eq!(
            token_ttl(&jwt(1_700_000_600), day, now),
            Duration::from_secs(600) + MAX_LEEWAY
        );
        assert_eq!(token_ttl(&jwt(1_800_000_000), day, now), day);
        assert_eq!(token_ttl("opaque-token", day, now), day);
    }
}
