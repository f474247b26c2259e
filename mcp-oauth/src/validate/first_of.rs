//! Several validators on one endpoint: [`FirstOf`] hands each token to exactly one of
//! them, chosen by its shape ([`TokenValidator::recognizes`]), never to each in turn.
//!
//! Trying validators one after another would amplify: an unknown API key would go on to
//! the introspection endpoint, a JWT would be looked up in the key table. Here the
//! choice is made from the token alone, before any validator runs, and the chosen one's
//! answer is final (a refusal included).

use std::sync::Arc;

use crate::refusal::{Refusal, TokenRejection};
use crate::validate::claims::VerifiedClaims;
use crate::validate::{LocalBoxFuture, Recognition, TokenValidator};

/// Validators sharing one endpoint: each token is judged by the first that says it is
/// [`Mine`](Recognition::Mine) (an API key by its prefix), else by the first that says
/// [`Possibly`](Recognition::Possibly) (the OAuth validation), and by no other. A token
/// none of them may judge is a 401 `invalid_token`.
///
/// [`McpOAuthBuilder::api_key`](crate::McpOAuthBuilder::api_key) and
/// [`dev_token`](crate::McpOAuthBuilder::dev_token) make one of these in front of the
/// OAuth validation; build one yourself to combine your own validators.
///
/// ```
/// use std::sync::Arc;
/// use mcp_oauth::{LocalBoxFuture, Recognition, Refusal, TokenValidator, VerifiedClaims};
/// use serde_json::json;
///
/// /// Judges every token (a session store, another OAuth library).
/// struct Sessions;
/// /// Judges only `partner_` tokens.
/// struct Partners;
///
/// fn subject(sub: &str) -> VerifiedClaims {
///     VerifiedClaims::from_claims(json!({ "sub": sub }).as_object().cloned().unwrap_or_default())
/// }
/// impl TokenValidator for Sessions {
///     fn validate<'a>(&'a self, _: &'a str) -> LocalBoxFuture<'a, Result<VerifiedClaims, Refusal>> {
///         Box::pin(async { Ok(subject("session user")) })
///     }
/// }
/// impl TokenValidator for Partners {
///     fn validate<'a>(&'a self, _: &'a str) -> LocalBoxFuture<'a, Result<VerifiedClaims, Refusal>> {
///         Box::pin(async { Ok(subject("partner")) })
///     }
///     fn recognizes(&self, token: &str) -> Recognition {
///         if token.starts_with("partner_") { Recognition::Mine } else { Recognition::NotMine }
///     }
/// }
///
/// let both = mcp_oauth::first_of([Arc::new(Sessions) as Arc<dyn TokenValidator>, Arc::new(Partners)]);
/// let judge = |token| actix_web::rt::System::new().block_on(both.validate(token));
/// assert_eq!(judge("partner_42")?.subject(), Some("partner")); // never asked of `Sessions`
/// assert_eq!(judge("abc")?.subject(), Some("session user"));
/// # Ok::<(), Refusal>(())
/// ```
pub fn first_of<I>(validators: I) -> FirstOf
where
    I: IntoIterator<Item = Arc<dyn TokenValidator>>,
{
    FirstOf {
        validators: validators.into_iter().collect(),
    }
}

/// What [`first_of`] makes: see there.
#[derive(Clone)]
pub struct FirstOf {
    validators: Vec<Arc<dyn TokenValidator>>,
}

impl std::fmt::Debug for FirstOf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FirstOf")
            .field("validators", &self.validators.len())
            .finish()
    }
}

impl FirstOf {
    /// The one validator that judges `token`: the first saying `Mine`, else the first
    /// saying `Possibly`.
    fn judge(&self, token: &str) -> Option<&dyn TokenValidator> {
        let mut possible = None;
        for v in &self.validators {
            match v.recognizes(token) {
                Recognition::Mine => return Some(v.as_ref()),
                Recognition::Possibly if possible.is_none() => possible = Some(v.as_ref()),
                _ => {}
            }
        }
        possible
    }
}

impl TokenValidator for FirstOf {
    fn validate<'a>(
        &'a self,
        token: &'a str,
    ) -> LocalBoxFuture<'a, Result<VerifiedClaims, Refusal>> {
        match self.judge(token) {
            Some(judge) => judge.validate(token),
            None => Box::pin(async {
                Err(Refusal::InvalidToken(TokenRejection::Other(
                    "The credential is not accepted here".into(),
                )))
            }),
        }
    }

    fn recognizes(&self, token: &str) -> Recognition {
        let answers = self.validators.iter().map(|v| v.recognizes(token));
        answers.fold(Recognition::NotMine, |best, r| match (best, r) {
            (Recognition::Mine, _) | (_, Recognition::Mine) => Recognition::Mine,
            (Recognition::Possibly, _) | (_, Recognition::Possibly) => Recognition::Possibly,
            _ => Recognition::NotMine,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Says `Mine` for tokens starting with its prefix (or `Possibly` for every token
    /// without one), accepts everything it is asked, counts the calls.
    struct Judge {
        prefix: Option<&'static str>,
        calls: AtomicUsize,
        name: &'static str,
    }

    fn judge(prefix: Option<&'static str>, name: &'static str) -> Arc<Judge> {
        Arc::new(Judge {
            prefix,
            calls: AtomicUsize::new(0),
            name,
        })
    }

    impl TokenValidator for Judge {
        fn validate<'a>(
            &'a self,
            _: &'a str,
        ) -> LocalBoxFuture<'a, Result<VerifiedClaims, Refusal>> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            let claims = serde_json::json!({ "sub": self.name });
            Box::pin(async move {
                Ok(VerifiedClaims::from_claims(
                    claims.as_object().cloned().unwrap_or_default(),
                ))
            })
        }

        fn recognizes(&self, token: &str) -> Recognition {
            match self.prefix {
                None => Recognition::Possibly,
                Some(p) if token.starts_with(p) => Recognition::Mine,
                Some(_) => Recognition::NotMine,
            }
        }
    }

    fn run(v: &FirstOf, token: &str) -> Result<VerifiedClaims, Refusal> {
        actix_web::rt::System::new().block_on(v.validate(token))
    }

    #[test]
    fn a_prefixed_token_goes_to_its_validator_alone_whatever_the_order() {
        let (oauth, keys) = (judge(None, "oauth"), judge(Some("mcp_sk_"), "keys"));
        let both = first_of([
            oauth.clone() as Arc<dyn TokenValidator>,
            keys.clone() as Arc<dyn TokenValidator>,
        ]);
        assert_eq!(run(&both, "mcp_sk_x").unwrap().subject(), Some("keys"));
        assert_eq!(
            run(&both, "eyJhbGciOi.x.y").unwrap().subject(),
            Some("oauth")
        );
        assert_eq!(oauth.calls.load(Ordering::SeqCst), 1);
        assert_eq!(keys.calls.load(Ordering::SeqCst), 1);
        assert_eq!(both.recognizes("mcp_sk_x"), Recognition::Mine);
        assert_eq!(both.recognizes("other"), Recognition::Possibly);
    }

    #[test]
    fn a_token_nobody_recognizes_is_refused_without_a_call() {
        let keys = judge(Some("mcp_sk_"), "keys");
        let only_keys = first_of([keys.clone() as Arc<dyn TokenValidator>]);
        let refusal = run(&only_keys, "eyJhbGciOi.x.y").unwrap_err();
        assert!(matches!(refusal, Refusal::InvalidToken(_)));
        assert_eq!(keys.calls.load(Ordering::SeqCst), 0);
        assert_eq!(only_keys.recognizes("other"), Recognition::NotMine);
    }
}
