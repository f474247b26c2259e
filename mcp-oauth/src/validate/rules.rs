//! The claim rules every strategy applies to a token it has authenticated, whether the
//! claims came from a verified JWT (RFC 9068 §4) or an introspection response
//! (RFC 7662 §2.2): the audience (RFC 9068 §4, RFC 8707 §2) and the times with a
//! bounded leeway (RFC 9068 §4, RFC 7519 §4.1.4-4.1.6); and, for JWTs not typed
//! `at+jwt`, that the token is not an OpenID Connect ID token (RFC 9068 §5).

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use crate::refusal::{Refusal, TokenRejection};
use crate::resource::ResourceParts;

/// Audience equality: exact, or equal once the scheme and host are lower-cased and an
/// empty path is read as `/` (MCP authorization §Canonical Server URI; RFC 3986
/// §6.2.2.1, §6.2.3). `/mcp` and `/mcp/` stay different.
pub(crate) fn audience_eq(token_aud: &str, ours: &str) -> bool {
    if token_aud == ours {
        return true;
    }
    let is_web = |s: &str| {
        let lower = s.get(..8).unwrap_or(s).to_ascii_lowercase();
        lower.starts_with("https://") || lower.starts_with("http://")
    };
    if !(is_web(token_aud) && is_web(ours)) {
        return false;
    }
    let (a, b) = (ResourceParts::split(token_aud), ResourceParts::split(ours));
    let path = |raw: &str, p: &ResourceParts<'_>| {
        // `split` strips one terminating `/`; only an all-empty path is the root.
        let after_origin = &raw[p.origin.len()..];
        let path_only = after_origin.split('?').next().unwrap_or("");
        if path_only.is_empty() {
            "/".to_owned()
        } else {
            path_only.to_owned()
        }
    };
    a.origin.eq_ignore_ascii_case(b.origin)
        && path(token_aud, &a) == path(ours, &b)
        && a.query == b.query
}

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

/// Claims defined for OpenID Connect ID tokens: `nonce` (OpenID Connect Core §2, echoed
/// from the authentication request), `at_hash` (§3.1.3.6, §3.2.2.10), `c_hash` (§3.3.2.11)
/// and `auth_time` (§2). RFC 9068 §2.2 defines none of them for access tokens except
/// `auth_time` (§2.2.1), and some servers put `nonce` in access tokens too: a marker alone
/// does not decide, see [`not_an_id_token`].
const ID_TOKEN_CLAIMS: [&str; 4] = ["nonce", "at_hash", "c_hash", "auth_time"];

/// Claims an access token carries and an ID token does not: `client_id` (RFC 9068 §2.2,
/// required), `scope` (RFC 9068 §2.2.3) and `scp` (its common array form).
const ACCESS_TOKEN_CLAIMS: [&str; 3] = ["client_id", "scope", "scp"];

/// Refuses an OpenID Connect ID token presented as an access token (RFC 9068 §4: an
/// ID token issued to a client whose id is an accepted audience must not pass).
///
/// The rule, for a JWT whose `typ` is not `at+jwt` (an explicitly typed access token is
/// one by its issuer's word, RFC 8725 §3.11): it is an ID token when it carries at least
/// one of [`ID_TOKEN_CLAIMS`] and none of [`ACCESS_TOKEN_CLAIMS`] nor `scope_claim` (the
/// configured scope claim, e.g. `permissions`). An ID token without any of those claims
/// cannot be told from a minimal access token by its claims: `TypPolicy::Strict` (only
/// `at+jwt`) closes that gap.
pub(crate) fn not_an_id_token(
    claims: &Map<String, Value>,
    scope_claim: Option<&str>,
) -> Result<(), Refusal> {
    let has = |name: &str| claims.contains_key(name);
    let marked = ID_TOKEN_CLAIMS.iter().any(|c| has(c));
    let for_access = ACCESS_TOKEN_CLAIMS.iter().any(|c| has(c)) || scope_claim.is_some_and(has);
    if marked && !for_access {
        return Err(Refusal::InvalidToken(TokenRejection::IdToken));
    }
    Ok(())
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

    // MCP authorization §Canonical Server URI; RFC 3986 §6.2.2.1, §6.2.3.
    #[test]
    fn audiences_fold_scheme_and_host_case_and_the_root_slash_only() {
        assert!(audience_eq(
            "https://mcp.example.com/mcp",
            "https://mcp.example.com/mcp"
        ));
        assert!(audience_eq(
            "HTTPS://MCP.EXAMPLE.COM/mcp",
            "https://mcp.example.com/mcp"
        ));
        assert!(audience_eq(
            "https://mcp.example.com/",
            "https://mcp.example.com"
        ));
        assert!(!audience_eq(
            "https://mcp.example.com/MCP",
            "https://mcp.example.com/mcp"
        ));
        assert!(!audience_eq(
            "https://mcp.example.com/mcp/",
            "https://mcp.example.com/mcp"
        ));
        assert!(!audience_eq(
            "https://other.example.com/mcp",
            "https://mcp.example.com/mcp"
        ));
        assert!(!audience_eq("api://mcp", "API://MCP"));
    }

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
    fn an_id_token_marker_without_an_access_token_claim_is_an_id_token() {
        let id_token = Err(Refusal::InvalidToken(TokenRejection::IdToken));
        for marker in ["nonce", "at_hash", "c_hash", "auth_time"] {
            let claims = map(json!({"sub": "alice", marker: "x"}));
            assert_eq!(not_an_id_token(&claims, None), id_token, "{marker}");
            for evidence in ["client_id", "scope", "scp"] {
                let claims = map(json!({"sub": "alice", marker: "x", evidence: "y"}));
                assert_eq!(
                    not_an_id_token(&claims, None),
                    Ok(()),
                    "{marker} {evidence}"
                );
            }
            let claims = map(json!({marker: "x", "permissions": ["mcp"]}));
            assert_eq!(not_an_id_token(&claims, Some("permissions")), Ok(()));
            assert_eq!(not_an_id_token(&claims, None), id_token);
        }
        // No marker: nothing tells it from a minimal access token (Entra app-only tokens
        // carry `roles` and none of the access-token claims either).
        let claims = map(json!({"sub": "alice", "roles": ["Files.Read"]}));
        assert_eq!(not_an_id_token(&claims, None), Ok(()));
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
