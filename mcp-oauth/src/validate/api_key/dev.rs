//! Static development tokens: a fixed token stands for fixed claims, so a server can be
//! tried with `curl` before any authorization server is set up. `build()` accepts them
//! only for a resource on a loopback host; like API keys they are known by their
//! SHA-256 only.

use serde_json::{Map, Value};

use super::table::KeyTable;
use crate::refusal::{Refusal, TokenRejection};
use crate::validate::claims::{Credential, VerifiedClaims};
use crate::validate::clock::Clock;
use crate::validate::{LocalBoxFuture, Recognition, TokenValidator};

/// The development tokens as a [`TokenValidator`]: a configured token is its own
/// ([`Recognition::Mine`]); any other token never reaches it.
pub(crate) struct DevTokens {
    table: KeyTable<VerifiedClaims>,
    clock: Clock,
}

impl std::fmt::Debug for DevTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevTokens")
            .field("tokens", &self.table.len())
            .finish()
    }
}

impl DevTokens {
    /// The table of `tokens` (token, claims); a repeated token keeps its first claims.
    pub(crate) fn new<'a>(
        tokens: impl IntoIterator<Item = (&'a str, &'a Map<String, Value>)>,
    ) -> Self {
        let mut table = KeyTable::default();
        for (token, claims) in tokens {
            let claims =
                VerifiedClaims::from_claims(claims.clone()).with_credential(Credential::DevToken);
            table.insert(crate::validate::cache::key_of(token), claims);
        }
        Self {
            table,
            clock: Clock::default(),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.table.is_empty()
    }
}

impl TokenValidator for DevTokens {
    fn validate<'a>(
        &'a self,
        token: &'a str,
    ) -> LocalBoxFuture<'a, Result<VerifiedClaims, Refusal>> {
        let result = match self.table.find(token) {
            // An `exp` in the claims is honoured, to try what clients see when it passes.
            Some(c) if c.expires_at().is_some_and(|exp| exp <= self.clock.wall()) => {
                Err(Refusal::InvalidToken(TokenRejection::Expired))
            }
            Some(claims) => Ok(claims.clone()),
            None => Err(Refusal::InvalidToken(TokenRejection::Other(
                "The development token is not known".into(),
            ))),
        };
        Box::pin(async move { result })
    }

    fn recognizes(&self, token: &str) -> Recognition {
        if self.table.find(token).is_some() {
            Recognition::Mine
        } else {
            Recognition::NotMine
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_dev_token_stands_for_its_claims_and_nothing_else_is_its() {
        let claims = json!({"sub": "alice", "scope": "tools:call"});
        let old = json!({"sub": "bob", "exp": 1});
        let dev = DevTokens::new([
            ("dev-alice", claims.as_object().unwrap()),
            ("dev-old", old.as_object().unwrap()),
        ]);
        assert_eq!(dev.recognizes("dev-alice"), Recognition::Mine);
        assert_eq!(dev.recognizes("eyJhbGciOi.x.y"), Recognition::NotMine);
        let run = |t| actix_web::rt::System::new().block_on(dev.validate(t));
        let alice = run("dev-alice").unwrap();
        assert_eq!(alice.subject(), Some("alice"));
        assert_eq!(alice.credential(), Credential::DevToken);
        assert!(matches!(
            run("dev-old"),
            Err(Refusal::InvalidToken(TokenRejection::Expired))
        ));
        assert!(matches!(run("dev-bob"), Err(Refusal::InvalidToken(_))));
    }
}
