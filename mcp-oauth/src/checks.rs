//! The claim rules every strategy applies to a token it has authenticated, whether the
//! claims came from a verified JWT (RFC 9068 §4) or an introspection response
//! (RFC 7662 §2.2): the audience (spec-checklist §4.9 and §5.6) and the times with a
//! bounded leeway (§4.10-4.11).

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use crate::jwt::audience_eq;
use crate::refusal::{Refusal, TokenRejection};

/// `aud` must be present and contain one of `accepted` (a string or an array of strings).
pub(crate) fn audience(claims: &Map<String, Value>, accepted: &[String]) -> Result<(), Refusal> {
    let matches = |aud: &str| accepted.iter().any(|ours| audience_eq(aud, ours));
    let ok = match claims.get("aud") {
        None => return Err(Refusal::InvalidToken(TokenRejection::MissingAudience)),
        Some(Value::String(aud)) => matches(aud),
        Some(Value::Array(auds)) => auds.iter().filter_map(Value::as_str).any(matches),
        Some(_) => return Err(Refusal::InvalidToken(TokenRejection::InvalidClaim("aud"))),
    };
    if ok {
        Ok(())
    } else {
        Err(Refusal::InvalidToken(TokenRejection::WrongAudience))
    }
}

/// Whether a token must carry `exp`: a JWT must (RFC 9068 §2.2); an introspection
/// response may leave it out (RFC 7662 §2.2), the authorization server having said
/// `active` just now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expiry {
    Required,
    Optional,
}

/// `exp`, `nbf` and `iat` against the clock, each with `leeway_secs` of tolerance.
/// NumericDates may be fractional; anything but a finite number is refused.
pub(crate) fn times(
    claims: &Map<String, Value>,
    leeway_secs: u64,
    expiry: Expiry,
) -> Result<(), Refusal> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    let leeway = leeway_secs as f64;
    let time = |name: &'static str| -> Result<Option<f64>, Refusal> {
        match claims.get(name) {
            None => Ok(None),
            Some(v) => v
                .as_f64()
                .filter(|t| t.is_finite())
                .map(Some)
                .ok_or(Refusal::InvalidToken(TokenRejection::InvalidClaim(name))),
        }
    };
    match (time("exp")?, expiry) {
        (None, Expiry::Required) => {
            return Err(Refusal::InvalidToken(TokenRejection::MissingExpiry));
        }
        (Some(exp), _) if now >= exp + leeway => {
            return Err(Refusal::InvalidToken(TokenRejection::Expired));
        }
        _ => {}
    }
    if time("nbf")?.is_some_and(|nbf| now + leeway < nbf) {
        return Err(Refusal::InvalidToken(TokenRejection::NotYetValid));
    }
    if time("iat")?.is_some_and(|iat| now + leeway < iat) {
        return Err(Refusal::InvalidToken(TokenRejection::IssuedInFuture));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn expiry_is_required_only_when_asked() {
        let none = map(json!({}));
        assert_eq!(
            times(&none, 0, Expiry::Required),
            Err(Refusal::InvalidToken(TokenRejection::MissingExpiry))
        );
        assert_eq!(times(&none, 0, Expiry::Optional), Ok(()));
        let past = map(json!({"exp": 1_000}));
        assert_eq!(
            times(&past, 60, Expiry::Optional),
            Err(Refusal::InvalidToken(TokenRejection::Expired))
        );
    }

    #[test]
    fn audience_accepts_a_string_or_an_array_and_refuses_others() {
        let ours = ["https://mcp.example.com/mcp".to_owned()];
        assert!(audience(&map(json!({"aud": "https://mcp.example.com/mcp"})), &ours).is_ok());
        assert!(
            audience(
                &map(json!({"aud": ["x", "https://mcp.example.com/mcp"]})),
                &ours
            )
            .is_ok()
        );
        assert_eq!(
            audience(&map(json!({"aud": "https://other.example.com"})), &ours),
            Err(Refusal::InvalidToken(TokenRejection::WrongAudience))
        );
        assert_eq!(
            audience(&map(json!({})), &ours),
            Err(Refusal::InvalidToken(TokenRejection::MissingAudience))
        );
        assert_eq!(
            audience(&map(json!({"aud": 7})), &ours),
            Err(Refusal::InvalidToken(TokenRejection::InvalidClaim("aud")))
        );
    }
}
