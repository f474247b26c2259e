//! The decision for one request: bearer token → claims (through the cache) → the
//! resource's scopes → the request's own scopes (the policy) → an [`AuthenticatedClient`],
//! or the [`AuthError`] to answer with. Routing, sessions and rendering are the layer's.
//!
//! Order matters for an anonymous client's cost: nothing of the body is read before the
//! token is valid (RFC 6750 §3.1 status for each failure; OAuth 2.1 §5.2, §5.3).

use std::sync::Arc;

use actix_web::HttpMessage as _;
use actix_web::dev::ServiceRequest;

use crate::bearer::{self, Scheme};
use crate::client::AuthenticatedClient;
use crate::limit::RateLimits;
use crate::origin::AllowedOrigins;
use crate::policy::{Claimed, McpPolicy, Requirement};
use crate::refusal::{AuthError, Refusal, TokenRejection};
use crate::resource::ProtectedResource;
use crate::resource::dpop::DpopMode;
use crate::scope;
use crate::session::SessionOwners;
use crate::telemetry;
use crate::validate::TokenValidator;
use crate::validate::cache::CachedValidator;
use crate::validate::claims::VerifiedClaims;
use crate::validate::dpop::{self, Expected, ProofChecker};
use crate::validate::revoked::Revocations;
use crate::validate::router::Authorities;

/// What a request's DPoP proof established.
#[derive(Debug, Default)]
struct Binding {
    /// The thumbprint of the proven key, for a sender-constrained request.
    jkt: Option<String>,
    /// A nonce to offer on the response.
    next_nonce: Option<String>,
}

/// The nonce the response to an admitted request offers for the next proof (RFC 9449
/// §8.2), left in the request's extensions by [`Inner::admit`].
#[derive(Debug, Clone)]
pub(crate) struct NextDpopNonce(pub(crate) String);

/// What one [`McpOAuth`](crate::McpOAuth) shares across workers: the resource, the
/// judges, the policy and the session bindings.
pub(crate) struct Inner {
    pub(crate) resource: Arc<ProtectedResource>,
    /// What judges the tokens (the authorization servers, or the application's own).
    pub(crate) validator: Arc<dyn TokenValidator>,
    /// The validation cache in front of `validator`, which requests then go through;
    /// `None` when turned off.
    pub(crate) cache: Option<Arc<CachedValidator>>,
    pub(crate) public_paths: Vec<String>,
    pub(crate) max_token_bytes: usize,
    pub(crate) expose_token: bool,
    pub(crate) policy: McpPolicy,
    /// `None` when session binding is turned off.
    pub(crate) sessions: Option<SessionOwners>,
    pub(crate) authorities: Arc<Authorities>,
    pub(crate) retry_discovery: bool,
    pub(crate) diagnostics_path: Option<String>,
    /// The `Origin`s served (the layer checks them before any token work).
    pub(crate) origins: Arc<AllowedOrigins>,
    /// Rate limits (all off unless configured): the refusal budget is spent here, before
    /// token work; the principal's once the token is valid.
    pub(crate) limits: RateLimits,
    /// DPoP proofs (RFC 9449); `None` when DPoP is off.
    pub(crate) dpop: Option<Arc<ProofChecker>>,
    /// Whether an unbound token may come with the `DPoP` scheme (its proof checked).
    pub(crate) dpop_accept_unbound: bool,
    /// Tokens and subjects revoked (the cache asks them too, before caching).
    pub(crate) revoked: Arc<Revocations>,
}

impl Inner {
    /// Admits the request or says how to refuse it.
    ///
    /// The token is judged first: no body is read for a request that is not
    /// authenticated, so an anonymous client costs a header parse and (for a new token)
    /// one validation, never a buffered body. A 401 names the global scopes plus what the
    /// `Mcp-Method`/`Mcp-Name` headers announce (free to read); the body's operations
    /// decide the 403 once the token is valid.
    pub(crate) async fn admit(
        &self,
        req: &mut ServiceRequest,
    ) -> Result<AuthenticatedClient, AuthError> {
        let decision = self.decide(req).await;
        telemetry::request(decision.as_ref().map(|_| ()).map_err(AuthError::refusal));
        decision
    }

    /// The decision [`admit`](Self::admit) counts.
    async fn decide(&self, req: &mut ServiceRequest) -> Result<AuthenticatedClient, AuthError> {
        let claimed = Claimed::of(req.headers());
        let announced = self.policy.announced(&claimed);
        let announced_scopes = (!announced.is_empty()).then(|| self.request_scopes(&announced));
        let refuse = |r: Refusal, scopes: &Option<Vec<String>>| match scopes {
            Some(scopes) => r.for_request(self.resource.clone(), scopes.clone()),
            None => r.for_resource(self.resource.clone()),
        };
        // Refused without token work: the refusal budget is spent first (a 429 once gone).
        let mode = self.resource.dpop().mode;
        let (scheme, token) = match bearer::credentials(req, self.max_token_bytes, mode) {
            Ok(found) => found,
            Err(r) => {
                let r = self.limits.charge_refusal(req, r).await;
                return Err(refuse(r, &announced_scopes));
            }
        };
        // From here the challenge of the scheme the token came with names the error.
        let dpop = scheme == Scheme::Dpop;
        let refuse =
            |r: Refusal, scopes: &Option<Vec<String>>| refuse(r, scopes).presented_with_dpop(dpop);
        let claims = self
            .validate(token, async || self.limits.refusals(req).await)
            .await
            .map_err(|r| refuse(r, &announced_scopes))?;
        // A valid token spends its principal's quota, before any proof work.
        self.limits
            .principal(&claims)
            .await
            .map_err(|r| refuse(r, &None))?;
        // After the token (its claims may come from the cache), the proof: every request.
        // A refused proof spends the address's refusal budget too (a 429 once gone).
        let binding = match self.bind(req, scheme, token, &claims).await {
            Ok(binding) => binding,
            Err(r @ Refusal::InvalidDpopProof(_)) => {
                let r = self.limits.charge_refusal(req, r).await;
                return Err(refuse(r, &announced_scopes));
            }
            Err(r) => return Err(refuse(r, &announced_scopes)),
        };
        if let Some(nonce) = binding.next_nonce {
            // For the layer to send on the response (RFC 9449 §8.2).
            req.extensions_mut().insert(NextDpopNonce(nonce));
        }
        let raw = self.expose_token.then(|| token.to_owned());
        let client = self.client(claims.clone(), raw, binding.jkt);
        let hierarchy = self.resource.scope_hierarchy();
        let global = self.resource.required_scopes();
        let granted = claims.scopes();
        let insufficient = |scopes: &Option<Vec<String>>| {
            let required = scopes.clone().unwrap_or_else(|| global.to_vec());
            refuse(
                Refusal::insufficient_scope(required, granted, hierarchy),
                scopes,
            )
        };
        if !scope::grants_all(global, granted, hierarchy) {
            return Err(insufficient(&announced_scopes));
        }
        let (cap, timeout) = (self.policy.max_body, self.policy.body_timeout);
        bearer::reject_form_body_token(req, cap, timeout)
            .await
            .map_err(|r| refuse(r, &None))?;
        let needs = self
            .policy
            .requirements(req, &claimed)
            .await
            .map_err(|r| refuse(r, &None))?;
        if !needs.iter().all(|r| r.is_met(granted, hierarchy)) {
            // One challenge naming everything this request needs (SEP-2350).
            return Err(insufficient(&Some(self.request_scopes(&needs))));
        }
        Ok(client)
    }

    /// The token's binding against the scheme it came with (RFC 9449 §7): a bound token
    /// needs the `DPoP` scheme and a proof by its key; the `DPoP` scheme needs a bound
    /// token. With DPoP off nothing is read (the `DPoP` scheme never got this far).
    async fn bind(
        &self,
        req: &ServiceRequest,
        scheme: Scheme,
        token: &str,
        claims: &VerifiedClaims,
    ) -> Result<Binding, Refusal> {
        let Some(checker) = &self.dpop else {
            return Ok(Binding::default());
        };
        let bound = dpop::bound_key(claims);
        if scheme == Scheme::Bearer {
            return match bound {
                Some(_) => Err(Refusal::InvalidToken(TokenRejection::DpopBound)),
                None => Ok(Binding::default()),
            };
        }
        // A token bound to no key gains nothing from a proof: refused before any proof
        // work, unless configured to accept it (then not sender-constrained).
        if bound.is_none() && !self.dpop_accept_unbound {
            return Err(Refusal::InvalidToken(TokenRejection::NotDpopBound));
        }
        let proof = bearer::dpop_proof(req.headers()).map_err(Refusal::InvalidDpopProof)?;
        let expected = Expected {
            method: req.method().as_str(),
            uri: checker.uri_for(req.path()),
            token: Some(token),
            key: bound,
        };
        let checked = checker.check(proof, &expected).await?;
        Ok(Binding {
            jkt: bound.is_some().then_some(checked.jkt),
            next_nonce: checked.next_nonce,
        })
    }

    /// The global scopes plus those of this request's operations, each once.
    fn request_scopes(&self, needs: &[Requirement]) -> Vec<String> {
        let mut scopes = self.resource.required_scopes().to_vec();
        scope::extend_unique(
            &mut scopes,
            needs.iter().flat_map(|r| &r.scopes).map(String::as_str),
        );
        scopes
    }

    /// The token's claims: from the cache, or else, once `gate` (the refusal budget)
    /// allows it, from the validator.
    async fn validate(
        &self,
        token: &str,
        gate: impl AsyncFnOnce() -> Result<(), Refusal>,
    ) -> Result<Arc<VerifiedClaims>, Refusal> {
        if token.len() > self.max_token_bytes {
            gate().await?;
            return Err(Refusal::InvalidToken(crate::TokenRejection::TooLarge));
        }
        match &self.cache {
            Some(cache) => cache.claims_or_gate(token, gate).await,
            None => {
                gate().await?;
                let claims = self.validator.validate(token).await?;
                let key = crate::validate::cache::key_of(token);
                self.revoked.check(&key, &claims).await?;
                Ok(Arc::new(claims))
            }
        }
    }

    /// A token alone judged: validated, the global scopes checked. With the request it
    /// came in (`req`), the rate limits apply as under the middleware: the refusal budget
    /// before token work, the principal's quota once the token is valid.
    pub(crate) async fn admit_token(
        &self,
        token: &str,
        req: Option<&ServiceRequest>,
    ) -> Result<AuthenticatedClient, Refusal> {
        let gate = async || match req {
            Some(req) => self.limits.refusals(req).await,
            None => Ok(()),
        };
        let claims = self.validate(token, gate).await?;
        let (required, hierarchy) = (
            self.resource.required_scopes(),
            self.resource.scope_hierarchy(),
        );
        // A token alone proves no key: a DPoP-bound one is refused (RFC 9449 §7.2).
        if self.resource.dpop().mode != DpopMode::Off && dpop::bound_key(&claims).is_some() {
            return Err(Refusal::InvalidToken(TokenRejection::DpopBound));
        }
        if req.is_some() {
            self.limits.principal(&claims).await?;
        }
        let client = self.client(claims, self.expose_token.then(|| token.to_owned()), None);
        if !scope::grants_all(required, client.scopes(), hierarchy) {
            return Err(Refusal::insufficient_scope(
                required.to_vec(),
                client.scopes(),
                hierarchy,
            ));
        }
        Ok(client)
    }

    fn client(
        &self,
        claims: Arc<VerifiedClaims>,
        raw: Option<String>,
        dpop_thumbprint: Option<String>,
    ) -> AuthenticatedClient {
        AuthenticatedClient::new(
            claims,
            self.resource.clone(),
            raw,
            self.policy.rules.clone(),
            dpop_thumbprint,
        )
    }
}
