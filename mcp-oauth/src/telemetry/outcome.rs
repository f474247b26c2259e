//! The bounded names of a request's outcome: `admitted`, or why it was refused (one per
//! [`Refusal`] variant, with the [`TokenRejection`] or [`McpBodyProblem`] as `kind`).
//! Each name is written once, in [`outcome`]: the label values of
//! `mcp_oauth_requests_total` and the `outcome` field of the validation spans.

use crate::refusal::{DpopRejection, McpBodyProblem, Refusal, TokenRejection};

/// One outcome's names and, with the feature, its counter's key (built at compile time:
/// counting it allocates nothing).
#[derive(Debug)]
pub(crate) struct Outcome {
    /// `admitted`, `missing`, `invalid_token`, ...
    pub(crate) name: &'static str,
    /// The rejection (`expired`, ...) or body problem (`not_json`, ...), if any.
    pub(crate) kind: Option<&'static str>,
    #[cfg(feature = "metrics")]
    pub(super) key: metrics::Key,
}

/// A `&'static Outcome` for literal names, its key labelled `outcome` (and `kind`).
macro_rules! outcome {
    ($name:literal) => {{
        #[cfg(feature = "metrics")]
        static LABELS: [metrics::Label; 1] = [metrics::Label::from_static_parts("outcome", $name)];
        static OUTCOME: Outcome = Outcome {
            name: $name,
            kind: None,
            #[cfg(feature = "metrics")]
            key: metrics::Key::from_static_parts(super::catalog::REQUESTS, &LABELS),
        };
        &OUTCOME
    }};
    ($name:literal, $kind:literal) => {{
        #[cfg(feature = "metrics")]
        static LABELS: [metrics::Label; 2] = [
            metrics::Label::from_static_parts("outcome", $name),
            metrics::Label::from_static_parts("kind", $kind),
        ];
        static OUTCOME: Outcome = Outcome {
            name: $name,
            kind: Some($kind),
            #[cfg(feature = "metrics")]
            key: metrics::Key::from_static_parts(super::catalog::REQUESTS, &LABELS),
        };
        &OUTCOME
    }};
}

/// The outcome of a judgement: `admitted`, or the refusal's names. The match is
/// exhaustive, so a new refusal or rejection cannot be counted under no name.
pub(crate) fn outcome(result: Result<(), &Refusal>) -> &'static Outcome {
    let refusal = match result {
        Ok(()) => return outcome!("admitted"),
        Err(refusal) => refusal,
    };
    match refusal {
        Refusal::MissingToken => outcome!("missing"),
        Refusal::InvalidRequest(_) => outcome!("invalid_request"),
        Refusal::InvalidToken(why) => rejection(why),
        Refusal::InvalidDpopProof(why) => dpop_rejection(*why),
        Refusal::UseDpopNonce { .. } => outcome!("use_dpop_nonce"),
        Refusal::InsufficientScope { .. } => outcome!("insufficient_scope"),
        Refusal::Unavailable(_) => outcome!("unavailable"),
        Refusal::Overloaded { .. } => outcome!("overloaded"),
        Refusal::PayloadTooLarge => outcome!("payload_too_large"),
        Refusal::MalformedMcpBody(problem) => match problem {
            McpBodyProblem::NotJson => outcome!("malformed_body", "not_json"),
            McpBodyProblem::BatchTooLong => outcome!("malformed_body", "batch_too_long"),
            McpBodyProblem::TooManyNames => outcome!("malformed_body", "too_many_names"),
            McpBodyProblem::UnclearResourceUri => {
                outcome!("malformed_body", "unclear_resource_uri")
            }
        },
        Refusal::HeaderMismatch(_) => outcome!("header_mismatch"),
        Refusal::UnsupportedEncoding => outcome!("unsupported_encoding"),
        Refusal::BodyTimeout => outcome!("body_timeout"),
        Refusal::RateLimited { .. } => outcome!("rate_limited"),
        Refusal::MiddlewareNotInstalled => outcome!("server_error"),
    }
}

/// `invalid_token`, with the rejection's variant name in snake case as `kind` (a custom
/// validator's reason is `other`: its text is never a label).
fn rejection(why: &TokenRejection) -> &'static Outcome {
    match why {
        TokenRejection::Malformed => outcome!("invalid_token", "malformed"),
        TokenRejection::TooLarge => outcome!("invalid_token", "too_large"),
        TokenRejection::DisallowedAlgorithm => outcome!("invalid_token", "disallowed_algorithm"),
        TokenRejection::WrongType => outcome!("invalid_token", "wrong_type"),
        TokenRejection::IdToken => outcome!("invalid_token", "id_token"),
        TokenRejection::UnsupportedCritical => outcome!("invalid_token", "unsupported_critical"),
        TokenRejection::UnknownKey => outcome!("invalid_token", "unknown_key"),
        TokenRejection::KeyMismatch => outcome!("invalid_token", "key_mismatch"),
        TokenRejection::BadSignature => outcome!("invalid_token", "bad_signature"),
        TokenRejection::WrongIssuer => outcome!("invalid_token", "wrong_issuer"),
        TokenRejection::MissingAudience => outcome!("invalid_token", "missing_audience"),
        TokenRejection::WrongAudience => outcome!("invalid_token", "wrong_audience"),
        TokenRejection::MissingExpiry => outcome!("invalid_token", "missing_expiry"),
        TokenRejection::Expired => outcome!("invalid_token", "expired"),
        TokenRejection::NotYetValid => outcome!("invalid_token", "not_yet_valid"),
        TokenRejection::IssuedInFuture => outcome!("invalid_token", "issued_in_future"),
        TokenRejection::InvalidClaim(_) => outcome!("invalid_token", "invalid_claim"),
        TokenRejection::Inactive => outcome!("invalid_token", "inactive"),
        TokenRejection::DpopBound => outcome!("invalid_token", "dpop_bound"),
        TokenRejection::NotDpopBound => outcome!("invalid_token", "not_dpop_bound"),
        TokenRejection::Revoked => outcome!("invalid_token", "revoked"),
        TokenRejection::Other(_) => outcome!("invalid_token", "other"),
    }
}

/// `invalid_dpop_proof`, with the rejection's variant name in snake case as `kind`.
fn dpop_rejection(why: DpopRejection) -> &'static Outcome {
    match why {
        DpopRejection::Missing => outcome!("invalid_dpop_proof", "missing"),
        DpopRejection::Multiple => outcome!("invalid_dpop_proof", "multiple"),
        DpopRejection::Malformed => outcome!("invalid_dpop_proof", "malformed"),
        DpopRejection::WrongType => outcome!("invalid_dpop_proof", "wrong_type"),
        DpopRejection::DisallowedAlgorithm => {
            outcome!("invalid_dpop_proof", "disallowed_algorithm")
        }
        DpopRejection::UnsupportedCritical => {
            outcome!("invalid_dpop_proof", "unsupported_critical")
        }
        DpopRejection::BadKey => outcome!("invalid_dpop_proof", "bad_key"),
        DpopRejection::PrivateKey => outcome!("invalid_dpop_proof", "private_key"),
        DpopRejection::BadSignature => outcome!("invalid_dpop_proof", "bad_signature"),
        DpopRejection::MissingJti => outcome!("invalid_dpop_proof", "missing_jti"),
        DpopRejection::WrongMethod => outcome!("invalid_dpop_proof", "wrong_method"),
        DpopRejection::WrongUri => outcome!("invalid_dpop_proof", "wrong_uri"),
        DpopRejection::StaleOrFuture => outcome!("invalid_dpop_proof", "stale_or_future"),
        DpopRejection::Replayed => outcome!("invalid_dpop_proof", "replayed"),
        DpopRejection::WrongTokenHash => outcome!("invalid_dpop_proof", "wrong_token_hash"),
        DpopRejection::KeyMismatch => outcome!("invalid_dpop_proof", "key_mismatch"),
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;

    #[test]
    fn every_refusal_has_a_fixed_name_and_free_text_never_becomes_a_label() {
        let expired = Refusal::InvalidToken(TokenRejection::Expired);
        assert_eq!(outcome(Ok(())).name, "admitted");
        assert_eq!(outcome(Err(&Refusal::MissingToken)).name, "missing");
        let o = outcome(Err(&expired));
        assert_eq!((o.name, o.kind), ("invalid_token", Some("expired")));
        let custom = Refusal::InvalidToken(TokenRejection::Other(Cow::Owned("sub=alice".into())));
        assert_eq!(outcome(Err(&custom)).kind, Some("other"));
        let down = Refusal::Unavailable("https://as.example/jwks: timeout".into());
        assert_eq!(
            (outcome(Err(&down)).name, outcome(Err(&down)).kind),
            ("unavailable", None)
        );
        let claim = Refusal::InvalidToken(TokenRejection::InvalidClaim("exp"));
        assert_eq!(outcome(Err(&claim)).kind, Some("invalid_claim"));
    }

    #[cfg(feature = "metrics")]
    #[test]
    fn keys_carry_the_names_as_labels() {
        let o = outcome(Err(&Refusal::MalformedMcpBody(McpBodyProblem::NotJson)));
        let labels: Vec<(&str, &str)> = o.key.labels().map(|l| (l.key(), l.value())).collect();
        assert_eq!(o.key.name(), "mcp_oauth_requests_total");
        assert_eq!(
            labels,
            [("outcome", "malformed_body"), ("kind", "not_json")]
        );
    }
}
