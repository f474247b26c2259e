//! Introspection results shared by a fleet (RFC 7662 §4: a resource server may cache
//! answers, for no longer than the token lives): a token is introspected once per fleet,
//! not once per instance.
//!
//! Between this issuer's negative cache (in front) and the call: on a local miss, the
//! answer stored under `<prefix>:introspection:<SHA-256 of the token>` is judged as a
//! fresh one would be (issuer, audience, times, type), so a stored answer never widens
//! what this instance accepts; otherwise the token is introspected and the answer stored,
//! for min(validation cache TTL, time left to `exp`) when active, for the negative TTL
//! when refused. The value is the answer's claims (`active` and the members the
//! authorization server sent; RFC 7662 §2.2 answers never carry the token); an outage
//! (503) is never stored. The shared tier not answering is never a refusal: the token is
//! introspected here, as without a fleet, and the failure reported.

use std::time::{Duration, SystemTime};

use serde_json::{Map, Value};

use super::Introspector;
use crate::refusal::Refusal;
use crate::shared::{self, SharedState};
use crate::validate::cache::Key;
use crate::validate::claims::VerifiedClaims;

/// The fleet's introspection answers, and how long each kind is kept.
#[derive(Debug)]
pub(crate) struct SharedAnswers {
    state: SharedState,
    /// The validation cache's TTL: an active answer is kept no longer (nor past `exp`).
    ttl: Duration,
    /// How long a refusal is kept (`MCP_OAUTH_INTROSPECTION_NEGATIVE_TTL_SECS`).
    negative_ttl: Duration,
}

impl SharedAnswers {
    pub(crate) fn new(state: SharedState, ttl: Duration, negative_ttl: Duration) -> Self {
        Self {
            state,
            ttl,
            negative_ttl,
        }
    }
}

impl Introspector {
    /// The fleet's answer for the token hashed to `key`, else this issuer's, then shared.
    pub(super) async fn ask_fleet(
        &self,
        shared: &SharedAnswers,
        key: &Key,
        token: &str,
    ) -> Result<VerifiedClaims, Refusal> {
        let name = shared.state.key("introspection", key);
        let store = &shared.state;
        match store.get(&name).await {
            Ok(Some(answer)) => {
                if let Some(verdict) = self.judge_stored(&answer) {
                    tracing::debug!(target: "mcp_oauth", issuer = %self.issuer, "introspection answer found in the shared state");
                    return verdict;
                }
            }
            Ok(None) => {}
            Err(why) => {
                shared::report(crate::shared::SharedUse::Introspection, &why);
                return self.ask(token).await;
            }
        }
        let verdict = self.ask(token).await;
        let stored = match &verdict {
            Ok(claims) => match active_answer(claims, shared.ttl) {
                Some((answer, ttl)) => store.put(&name, &answer, ttl).await,
                None => Ok(()),
            },
            // Never over another issuer's active answer for the same token.
            Err(Refusal::InvalidToken(_)) if !shared.negative_ttl.is_zero() => {
                let answer = serde_json::json!({"active": false, "iss": self.issuer});
                store
                    .put_new(&name, &answer.to_string(), shared.negative_ttl)
                    .await
                    .map(|_| ())
            }
            Err(_) => Ok(()),
        };
        if let Err(why) = stored {
            shared::report(crate::shared::SharedUse::Introspection, &why);
        }
        verdict
    }

    /// A stored answer judged as this issuer's own; `None` when it is not this issuer's
    /// (several may be offered one opaque token) or cannot be read: then ask.
    fn judge_stored(&self, answer: &str) -> Option<Result<VerifiedClaims, Refusal>> {
        let doc: Map<String, Value> = serde_json::from_str(answer).ok()?;
        if doc.get("iss").and_then(Value::as_str) != Some(self.issuer.as_str()) {
            return None;
        }
        Some(self.judge(doc))
    }
}

/// What to store for an accepted token, and for how long: min(`ttl`, time left to
/// `exp`); `None` when that is no time.
fn active_answer(claims: &VerifiedClaims, ttl: Duration) -> Option<(String, Duration)> {
    let life = match claims.expires_at() {
        Some(exp) => exp.duration_since(SystemTime::now()).ok()?.min(ttl),
        None => ttl,
    };
    if life.is_zero() {
        return None;
    }
    let mut doc = claims.claims().clone();
    doc.insert("active".into(), Value::Bool(true));
    Some((serde_json::to_string(&doc).ok()?, life))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn claims(v: Value) -> VerifiedClaims {
        VerifiedClaims::from_claims(v.as_object().cloned().unwrap_or_default())
    }

    #[test]
    fn an_active_answer_lives_no_longer_than_the_token_nor_the_cache() {
        let ttl = Duration::from_secs(60);
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let (answer, life) =
            active_answer(&claims(json!({"sub": "a", "exp": now + 10})), ttl).unwrap_or_default();
        assert!(
            life <= Duration::from_secs(10) && !life.is_zero(),
            "{life:?}"
        );
        assert!(answer.contains("\"active\":true"), "{answer}");
        let (_, life) =
            active_answer(&claims(json!({"sub": "a", "exp": now + 3600})), ttl).unwrap_or_default();
        assert_eq!(life, ttl);
        let (_, life) = active_answer(&claims(json!({"sub": "a"})), ttl).unwrap_or_default();
        assert_eq!(life, ttl);
        assert!(active_answer(&claims(json!({"sub": "a", "exp": now - 1})), ttl).is_none());
        assert!(active_answer(&claims(json!({"sub": "a"})), Duration::ZERO).is_none());
    }
}
