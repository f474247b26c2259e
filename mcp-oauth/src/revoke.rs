//! Revocation: [`McpOAuth::revoke_token`] and [`McpOAuth::revoke_subject`] act at once on
//! this instance (its cache entries dropped, the token or subject remembered, see
//! `validate/revoked.rs`) and, with shared state, record and publish the revocation for
//! the fleet (`shared/revocation.rs`); every instance listens and does the same with
//! what it hears.
//!
//! The gap while an instance is not listening (Redis down, a reconnect): a token it
//! validates meanwhile is checked against the shared records (when they answer), and
//! when the subscription is back its whole validation cache is dropped, so an entry
//! cached before a revocation it did not hear is validated again, and checked, on its
//! next use. Under `closed`, nothing is served from (or put in) the cache meanwhile.

use std::sync::{Arc, Weak};
use std::time::SystemTime;

use crate::admit::Inner;
use crate::layer::McpOAuth;
use crate::shared::revocation::{self, Notice, Revoked};
use crate::shared::{Event, RevocationOnFailure, RevokeError, Subscriber, Unavailable};
use crate::validate::cache::key_of;

impl McpOAuth {
    /// Revokes `token` (RFC 7009 §2.2: refused from now on, even though it would still
    /// validate, e.g. a JWT whose signature keeps verifying): on this instance at once
    /// (its cache entry dropped; the next request with it gets 401 `invalid_token`,
    /// [`TokenRejection::Revoked`](crate::TokenRejection::Revoked)), and with
    /// [`shared state`](crate::McpOAuthBuilder::shared_state) on every instance of the
    /// fleet (a record in the store, with an expiry, and a message every instance
    /// hears). Call it when your authorization server revokes a token (its revocation
    /// webhook, a logout). The token's hash is remembered until its `exp` (a JWT's), at
    /// most the [revocation TTL](crate::McpOAuthBuilder::revocation_ttl).
    ///
    /// ```
    /// use mcp_oauth::{Refusal, TokenRejection, testing::TestAuthServer};
    ///
    /// let auth = TestAuthServer::start();
    /// let resource = "http://127.0.0.1:8080/mcp";
    /// let oauth = auth.configure(resource).build()?;
    /// let token = auth.token().audience(resource).subject("alice").sign();
    /// actix_web::rt::System::new().block_on(async {
    ///     assert!(oauth.authenticate(&token).await.is_ok());
    ///     oauth.revoke_token(&token).await?;
    ///     let err = oauth.authenticate(&token).await.unwrap_err();
    ///     assert_eq!(err.refusal(), &Refusal::InvalidToken(TokenRejection::Revoked));
    ///     Ok::<_, Box<dyn std::error::Error>>(())
    /// })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`RevokeError::Unavailable`] when the shared state did not take the record (the
    /// token is refused here all the same; try again for the fleet);
    /// [`RevokeError::Full`] when this process remembers too many revocations already.
    pub async fn revoke_token(&self, token: &str) -> Result<(), RevokeError> {
        let ttl = revocation::token_ttl(token, self.inner.revoked.ttl(), SystemTime::now());
        let notice = Notice {
            what: Revoked::Token(key_of(token)),
            ttl,
        };
        self.inner.revoke(&notice).await
    }

    /// Revokes every token of `subject` (its `sub` claim) issued until now (by `iat`; a
    /// token without `iat` is refused as long as the revocation is remembered): on this
    /// instance at once, and with shared state on every instance of the fleet, like
    /// [`revoke_token`](Self::revoke_token). A token the subject is issued afterwards is
    /// served. Remembered for the [revocation TTL](crate::McpOAuthBuilder::revocation_ttl).
    ///
    /// ```
    /// use mcp_oauth::{Refusal, TokenRejection, testing::TestAuthServer};
    ///
    /// let auth = TestAuthServer::start();
    /// let resource = "http://127.0.0.1:8080/mcp";
    /// let oauth = auth.configure(resource).build()?;
    /// let token = auth.token().audience(resource).subject("alice").sign();
    /// actix_web::rt::System::new().block_on(async {
    ///     assert!(oauth.authenticate(&token).await.is_ok());
    ///     oauth.revoke_subject("alice").await?;
    ///     let err = oauth.authenticate(&token).await.unwrap_err();
    ///     assert_eq!(err.refusal(), &Refusal::InvalidToken(TokenRejection::Revoked));
    ///     Ok::<_, Box<dyn std::error::Error>>(())
    /// })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`revoke_token`](Self::revoke_token).
    pub async fn revoke_subject(&self, subject: &str) -> Result<(), RevokeError> {
        let notice = Notice {
            what: Revoked::Subject {
                hash: revocation::hash(subject),
                at_ms: revocation::now_ms(),
            },
            ttl: self.inner.revoked.ttl(),
        };
        self.inner.revoke(&notice).await
    }

    /// Starts listening to the fleet's revocations (with shared state): at build.
    pub(crate) fn listening_to_revocations(self) -> Self {
        if let Some(shared) = self.inner.revoked.shared() {
            let channel = shared.revocation_channel();
            let weak = Arc::downgrade(&self.inner);
            shared.store().subscribe(
                channel,
                Subscriber(Box::new(move |event| hear(&weak, event))),
            );
        }
        self
    }
}

impl Inner {
    /// Here at once, then the fleet.
    async fn revoke(&self, notice: &Notice) -> Result<(), RevokeError> {
        let here = self.apply(notice);
        if let Some(shared) = self.revoked.shared() {
            shared.publish_revocation(notice).await.map_err(|why| {
                crate::shared::report(crate::shared::SharedUse::Revocation, &why);
                RevokeError::Unavailable(why.0)
            })?;
        }
        here
    }

    /// Remembers `notice` and drops the cache entries it names.
    fn apply(&self, notice: &Notice) -> Result<(), RevokeError> {
        let noted = self.revoked.note(notice);
        if let Some(cache) = &self.cache {
            cache.forget(&notice.what);
        }
        noted
    }
}

/// What an instance does with what its subscription tells it; `false` once the instance
/// is gone (the subscription then ends).
fn hear(inner: &Weak<Inner>, event: Event<'_>) -> bool {
    let Some(inner) = inner.upgrade() else {
        return false;
    };
    let forget_all = || {
        if let Some(cache) = &inner.cache {
            cache.forget_all();
        }
    };
    match event {
        Event::Message(text) => {
            if let Some(notice) = Notice::decode(text)
                && inner.apply(&notice).is_err()
            {
                let full = Unavailable("this process holds as many revocations as it may".into());
                crate::shared::report(crate::shared::SharedUse::Revocation, &full);
            }
        }
        Event::Up => {
            // Whatever was missed while not listening is in the records: entries cached
            // meanwhile are validated, and checked, again.
            if !inner.revoked.set_listening(true) {
                forget_all();
            }
        }
        Event::Down(why) => {
            crate::shared::report(crate::shared::SharedUse::Revocation, why);
            let closed = inner
                .revoked
                .shared()
                .is_some_and(|s| s.revocation_failure_policy() == RevocationOnFailure::Closed);
            if inner.revoked.set_listening(false) && closed {
                forget_all();
            }
        }
        Event::Idle => {}
    }
    true
}
