//! [`ClaimRules`]: what one issuer's access tokens look like beyond RFC 9068, set by a
//! provider preset (`mcp_oauth::providers`) and applied by both strategies after the shared
//! rules of `rules.rs`: claims that must hold a value (Cognito `token_use`, Keycloak
//! `typ`, Entra `ver`), claims one of which an access token always carries (Entra `scp`
//! or `roles`), the explicit client-id alternative for tokens without `aud`, and the
//! further claims that grant scopes (Entra `roles`).

use serde_json::{Map, Value};

use crate::refusal::{Refusal, TokenRejection};
use crate::validate::claims::VerifiedClaims;
use crate::validate::rules;

/// A claim that must hold exactly `value` (a string), else the token is refused with
/// `refusal`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RequiredClaim {
    pub(crate) name: &'static str,
    pub(crate) value: &'static str,
    pub(crate) refusal: TokenRejection,
}

/// One issuer's own claim rules; the default adds nothing to the shared rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ClaimRules {
    /// Claims that must hold a given value.
    pub(crate) required: Vec<RequiredClaim>,
    /// An access token of this issuer carries at least one of these claims (an ID token
    /// none): refused as [`TokenRejection::IdToken`] otherwise. Empty: no such rule.
    pub(crate) one_of: &'static [&'static str],
    /// A token with no `aud` at all is accepted when its `client_id` is one of these
    /// (configured by name, e.g. `MCP_OAUTH_COGNITO_CLIENT_IDS`); a token with an `aud`
    /// is judged by its `aud` only (RFC 9068 §4).
    pub(crate) client_ids: Vec<String>,
    /// Claims whose values are scopes too, besides the scope claim (e.g. Entra `roles`
    /// in app-only tokens).
    pub(crate) scope_claims: &'static [&'static str],
}

impl ClaimRules {
    /// The issuer's own rules, then the audience: `aud` against `accepted`
    /// ([`rules::audience`]), or, only when there is no `aud` and client ids were
    /// configured, `client_id` against those.
    pub(crate) fn check(
        &self,
        claims: &Map<String, Value>,
        accepted: &[String],
    ) -> Result<(), Refusal> {
        for rule in &self.required {
            if claims.get(rule.name).and_then(Value::as_str) != Some(rule.value) {
                return Err(Refusal::InvalidToken(rule.refusal.clone()));
            }
        }
        if !self.one_of.is_empty() && !self.one_of.iter().any(|c| claims.contains_key(*c)) {
            return Err(Refusal::InvalidToken(TokenRejection::IdToken));
        }
        if !claims.contains_key("aud") && !self.client_ids.is_empty() {
            let client = claims.get("client_id").and_then(Value::as_str);
            return match client {
                Some(id) if self.client_ids.iter().any(|c| c == id) => Ok(()),
                Some(_) => Err(Refusal::InvalidToken(TokenRejection::WrongAudience)),
                None => Err(Refusal::InvalidToken(TokenRejection::MissingAudience)),
            };
        }
        rules::audience(claims, accepted)
    }

    /// `verified` with the scopes of [`scope_claims`](Self::scope_claims) added.
    pub(crate) fn scopes(&self, verified: VerifiedClaims) -> VerifiedClaims {
        if self.scope_claims.is_empty() {
            return verified;
        }
        verified.with_scopes_from(self.scope_claims)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn client_ids_stand_in_for_a_missing_aud_only() {
        let rules = ClaimRules {
            client_ids: vec!["app".into()],
            ..ClaimRules::default()
        };
        let ours = ["https://mcp.example.com/mcp".to_owned()];
        assert!(
            rules
                .check(&claims(json!({"client_id": "app"})), &ours)
                .is_ok()
        );
        let other = rules.check(&claims(json!({"client_id": "other"})), &ours);
        assert_eq!(
            other,
            Err(Refusal::InvalidToken(TokenRejection::WrongAudience))
        );
        // An `aud` is judged as an `aud`, whatever the client.
        let with_aud = rules.check(&claims(json!({"client_id": "app", "aud": "app"})), &ours);
        assert_eq!(
            with_aud,
            Err(Refusal::InvalidToken(TokenRejection::WrongAudience))
        );
        // Without configured client ids, no `aud` is no audience.
        let plain = ClaimRules::default().check(&claims(json!({"client_id": "app"})), &ours);
        assert_eq!(
            plain,
            Err(Refusal::InvalidToken(TokenRejection::MissingAudience))
        );
    }

    #[test]
    fn required_values_and_one_of() {
        let rules = ClaimRules {
            required: vec![RequiredClaim {
                name: "token_use",
                value: "access",
                refusal: TokenRejection::IdToken,
            }],
            one_of: &["scp", "roles"],
            ..ClaimRules::default()
        };
        let ours = ["api".to_owned()];
        let ok = json!({"token_use": "access", "aud": "api", "roles": ["r"]});
        assert!(rules.check(&claims(ok), &ours).is_ok());
        for bad in [
            json!({"token_use": "id", "aud": "api", "scp": "a"}),
            json!({"aud": "api", "scp": "a"}),
            json!({"token_use": "access", "aud": "api"}),
        ] {
            assert_eq!(
                rules.check(&claims(bad), &ours),
                Err(Refusal::InvalidToken(TokenRejection::IdToken))
            );
        }
    }
}
