//! Tokens and subjects revoked while their tokens may still validate (a JWT keeps
//! verifying after its authorization server revoked it, RFC 7009 §2.2; a cached
//! introspection answer keeps serving): this process's own memory of them, and, with
//! shared state, the fleet's records.
//!
//! - a token is known by its SHA-256 and remembered until its `exp` (plus the largest
//!   leeway), at most the revocation TTL;
//! - a subject is known by the SHA-256 of its `sub` and the time of its revocation: a
//!   token of that subject issued at or before that time (`iat`; every token of it when
//!   the token carries no `iat`) is refused, for the revocation TTL (by then every token
//!   issued before the revocation has expired, if the TTL is at least the longest
//!   access-token lifetime the authorization server issues);
//! - at most [`MAX_REVOKED`] of each; when full of live ones, a new revocation is
//!   refused here ([`RevokeError::Full`]), never an older one forgotten early;
//! - only a validation asks: after the validator accepted a token (a cache miss), and
//!   before its result is cached. A cache hit is never slowed: a revocation drops the
//!   entries it names from the cache instead (see `cache.rs`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::refusal::{Refusal, TokenRejection};
use crate::shared::revocation::{self, Notice, Revoked};
use crate::shared::{RevocationOnFailure, RevokeError, SharedState};
use crate::sync;
use crate::validate::claims::VerifiedClaims;

/// How long a revocation is remembered, at most (`MCP_OAUTH_REVOCATION_TTL_SECS`): a day,
/// the longest default access-token lifetime among the provider presets (Auth0 issues
/// 86,400 s tokens; Okta, Entra ID and Keycloak an hour or less).
pub(crate) const DEFAULT_REVOCATION_TTL: Duration = Duration::from_secs(24 * 3600);
/// The most tokens, and the most subjects, remembered as revoked.
pub(crate) const MAX_REVOKED: usize = 1 << 16;

/// The revocations this process knows, and how it hears of the fleet's.
#[derive(Debug)]
pub(crate) struct Revocations {
    tokens: Mutex<HashMap<[u8; 32], Instant>>,
    /// Subject hash → (revoked at, Unix ms; remembered until).
    subjects: Mutex<HashMap<[u8; 32], (u64, Instant)>>,
    shared: Option<SharedState>,
    ttl: Duration,
    /// Whether the fleet's revocations are being heard (always, without shared state).
    listening: AtomicBool,
    /// Moves with every revocation noted and every change of `listening`: a validation
    /// that began before it is not cached.
    generation: AtomicU64,
}

impl Revocations {
    pub(crate) fn new(shared: Option<SharedState>, ttl: Duration) -> Self {
        Self {
            tokens: Mutex::default(),
            subjects: Mutex::default(),
            listening: AtomicBool::new(shared.is_none()),
            shared,
            ttl,
            generation: AtomicU64::new(0),
        }
    }

    pub(crate) fn shared(&self) -> Option<&SharedState> {
        self.shared.as_ref()
    }

    /// The longest a revocation is remembered.
    pub(crate) fn ttl(&self) -> Duration {
        self.ttl
    }

    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Says whether the fleet's revocations are heard; returns what it was before.
    pub(crate) fn set_listening(&self, up: bool) -> bool {
        let was = self.listening.swap(up, Ordering::AcqRel);
        if was != up {
            self.generation.fetch_add(1, Ordering::AcqRel);
        }
        was
    }

    /// Whether the cache is to be bypassed now: not listening, under `closed`.
    pub(crate) fn bypass_cache(&self) -> bool {
        self.shared.as_ref().is_some_and(|s| {
            s.revocation_failure_policy() == RevocationOnFailure::Closed
                && !self.listening.load(Ordering::Acquire)
        })
    }

    /// Whether a result validated since `generation` may be cached.
    pub(crate) fn cacheable(&self, generation: u64) -> bool {
        generation == self.generation() && !self.bypass_cache()
    }

    /// Remembers `notice` for its TTL (at most this process's). A token or subject
    /// revoked again is kept for the longer of the two, a subject from the later time.
    pub(crate) fn note(&self, notice: &Notice) -> Result<(), RevokeError> {
        let now = Instant::now();
        let until = now + notice.ttl.min(self.ttl);
        let noted = match notice.what {
            Revoked::Token(hash) => {
                let mut tokens = sync::lock(&self.tokens);
                make_room(&mut tokens, &hash, now, |until| *until).map(|()| {
                    let kept = tokens.entry(hash).or_insert(until);
                    *kept = (*kept).max(until);
                })
            }
            Revoked::Subject { hash, at_ms } => {
                let mut subjects = sync::lock(&self.subjects);
                make_room(&mut subjects, &hash, now, |(_, until)| *until).map(|()| {
                    let kept = subjects.entry(hash).or_insert((at_ms, until));
                    *kept = (kept.0.max(at_ms), kept.1.max(until));
                })
            }
        };
        self.generation.fetch_add(1, Ordering::AcqRel);
        noted
    }

    /// Refuses the token hashed to `key` with `claims` if it is revoked: this process's
    /// memory first, then (with shared state) the fleet's records, one round trip. When
    /// the records do not answer, the token is served on what this process knows (logged
    /// and counted, `use="revocation"`): never a 401, and no 503 either.
    pub(crate) async fn check(
        &self,
        key: &[u8; 32],
        claims: &VerifiedClaims,
    ) -> Result<(), Refusal> {
        let revoked = || Err(Refusal::InvalidToken(TokenRejection::Revoked));
        let now = Instant::now();
        let subject = claims.subject().map(revocation::hash);
        if sync::lock(&self.tokens).get(key).is_some_and(|u| *u > now) {
            return revoked();
        }
        if let Some(hash) = &subject {
            let at = sync::lock(&self.subjects)
                .get(hash)
                .filter(|(_, until)| *until > now)
                .map(|(at, _)| *at);
            if at.is_some_and(|at| issued_by(claims, at)) {
                return revoked();
            }
        }
        let Some(shared) = &self.shared else {
            return Ok(());
        };
        match shared.standing(key, subject.as_ref()).await {
            Ok(standing) if standing.token_revoked => revoked(),
            Ok(standing)
                if standing
                    .subject_revoked_at
                    .is_some_and(|at| issued_by(claims, at)) =>
            {
                revoked()
            }
            Ok(_) => Ok(()),
            Err(why) => {
                // Never a 401 nor a 503 for want of the records: the token was judged
                // valid; what this process knows was checked above. (Under `closed` its
                // result is not cached while the subscription is down either, so it is
                // checked again on its next use.)
                crate::shared::report(crate::shared::SharedUse::Revocation, &why);
                Ok(())
            }
        }
    }
}

/// Whether a token with `claims` was issued at or before `at_ms` (Unix milliseconds):
/// its `iat`, or always when it has none (nothing says it is newer).
pub(crate) fn issued_by(claims: &VerifiedClaims, at_ms: u64) -> bool {
    match claims
        .claims()
        .get("iat")
        .and_then(serde_json::Value::as_f64)
    {
        Some(iat) => iat * 1000.0 <= at_ms as f64,
        None => true,
    }
}

/// Room for `key` in `map`: there already, or a free place (expired entries dropped
/// first); none when full of live ones.
fn make_room<V>(
    map: &mut HashMap<[u8; 32], V>,
    key: &[u8; 32],
    now: Instant,
    until_of: impl Fn(&V) -> Instant,
) -> Result<(), RevokeError> {
    if map.len() < MAX_REVOKED || map.contains_key(key) {
        return Ok(());
    }
    map.retain(|_, v| until_of(v) > now);
    if map.len() < MAX_REVOKED {
        Ok(())
    } else {
        Err(RevokeError::Full)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn claims(value: serde_json::Value) -> VerifiedClaims {
        VerifiedClaims::from_claims(value.as_object().cloned().unwrap_or_default())
    }

    fn check(revocations: &Revocations, key: &[u8; 32], c: &VerifiedClaims) -> Result<(), Refusal> {
        actix_web::rt::System::new().block_on(revocations.check(key, c))
    }

    #[test]
    fn a_revoked_token_and_the_older_tokens_of_a_revoked_subject_are_refused() {
        let revocations = Revocations::new(None, DEFAULT_REVOCATION_TTL);
        let ttl = Duration::from_secs(60);
        let alice = claims(json!({"sub": "alice", "iat": 1_700_000_000}));
        let (one, two) = ([1; 32], [2; 32]);
        check(&revocations, &one, &alice).unwrap();
        revocations
            .note(&Notice {
                what: Revoked::Token(one),
                ttl,
            })
            .unwrap();
        let refused = Err(Refusal::InvalidToken(TokenRejection::Revoked));
        assert_eq!(check(&revocations, &one, &alice), refused);
        check(&revocations, &two, &alice).unwrap();

        let at_ms = 1_700_000_000_000;
        let what = Revoked::Subject {
            hash: revocation::hash("alice"),
            at_ms,
        };
        revocations.note(&Notice { what, ttl }).unwrap();
        assert_eq!(check(&revocations, &two, &alice), refused);
        // Issued after the revocation, or another subject: served.
        let newer = claims(json!({"sub": "alice", "iat": 1_700_000_001}));
        check(&revocations, &two, &newer).unwrap();
        check(&revocations, &two, &claims(json!({"sub": "bob"}))).unwrap();
        // No `iat`: nothing says it is newer.
        assert_eq!(
            check(&revocations, &two, &claims(json!({"sub": "alice"}))),
            refused
        );
    }

    #[test]
    fn memory_is_bounded_and_a_full_table_refuses_rather_than_forgets() {
        let revocations = Revocations::new(None, DEFAULT_REVOCATION_TTL);
        let ttl = Duration::from_secs(60);
        for i in 0..MAX_REVOKED as u32 {
            let mut hash = [0; 32];
            hash[..4].copy_from_slice(&i.to_le_bytes());
            revocations
                .note(&Notice {
                    what: Revoked::Token(hash),
                    ttl,
                })
                .unwrap();
        }
        let more = Notice {
            what: Revoked::Token([0xff; 32]),
            ttl,
        };
        assert_eq!(revocations.note(&more), Err(RevokeError::Full));
        assert_eq!(sync::lock(&revocations.tokens).len(), MAX_REVOKED);
    }
}
