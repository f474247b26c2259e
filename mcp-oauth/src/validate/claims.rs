//! What a validator proves about a token: [`VerifiedClaims`].

use std::fmt;
use std::hash::{BuildHasher, Hasher, RandomState};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use crate::scope;

/// The claims of a token a [`TokenValidator`](crate::TokenValidator) accepted.
///
/// Built from a claim set with [`VerifiedClaims::from_claims`], which reads the
/// standard members: `iss`, `sub`, `client_id` (or `azp`), `aud` (string or array),
/// `exp`, and the scopes from `scope` (space-separated string) or `scp` (string or
/// array). Custom validators can override the scopes with [`VerifiedClaims::with_scopes`].
///
/// ```
/// use mcp_oauth::VerifiedClaims;
/// use serde_json::json;
///
/// let claims = json!({"iss": "https://as.example", "sub": "alice", "scope": "a b"});
/// let verified = VerifiedClaims::from_claims(claims.as_object().unwrap().clone());
/// assert_eq!(verified.subject(), Some("alice"));
/// assert_eq!(verified.scopes(), ["a", "b"]);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedClaims {
    issuer: Option<String>,
    subject: Option<String>,
    client_id: Option<String>,
    scopes: Vec<String>,
    audiences: Vec<String>,
    expires_at: Option<SystemTime>,
    claims: Map<String, Value>,
    credential: Credential,
    /// The principal's keyed hash, once asked for.
    principal_key: Memo,
}

/// A value computed once from the claims. Not part of what they say: equal claims
/// compare equal whatever it holds, and it prints as `..`.
#[derive(Clone, Default)]
struct Memo(OnceLock<Option<u64>>);

impl PartialEq for Memo {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl fmt::Debug for Memo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("..")
    }
}

/// Feeds what is written into a hasher: the principal's hash without its string.
struct HashWriter<H>(H);

impl<H: Hasher> fmt::Write for HashWriter<H> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.write(s.as_bytes());
        Ok(())
    }
}

/// What kind of credential a client presented: an OAuth access token, an API key, or a
/// static development token. Set only by this crate's own validators; a custom
/// [`TokenValidator`](crate::TokenValidator)'s claims are an
/// [`AccessToken`](Self::AccessToken).
///
/// ```
/// use mcp_oauth::{Credential, VerifiedClaims};
///
/// let claims = VerifiedClaims::from_claims(Default::default());
/// assert_eq!(claims.credential(), Credential::AccessToken);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Credential {
    /// An OAuth access token (or whatever a custom validator accepted).
    #[default]
    AccessToken,
    /// A key from the API-key table ([`ApiKey`](crate::ApiKey)).
    ApiKey,
    /// A static development token (loopback resources only).
    DevToken,
}

impl VerifiedClaims {
    /// Reads the standard claims out of `claims` (scopes from `scope`, else `scp`).
    /// A member of the wrong JSON type reads as absent; every claim stays available
    /// through [`claims`](Self::claims).
    ///
    /// ```
    /// use mcp_oauth::VerifiedClaims;
    /// use serde_json::json;
    ///
    /// let claims = json!({"azp": "app", "aud": "https://mcp.example.com/mcp", "scp": ["a", "b"]});
    /// let verified = VerifiedClaims::from_claims(claims.as_object().cloned().unwrap_or_default());
    /// assert_eq!(verified.client_id(), Some("app"));
    /// assert_eq!(verified.audiences(), ["https://mcp.example.com/mcp"]);
    /// assert_eq!(verified.scopes(), ["a", "b"]);
    /// assert_eq!(verified.subject(), None);
    /// ```
    pub fn from_claims(claims: Map<String, Value>) -> Self {
        Self::from_claims_with_scope_claim(claims, None)
    }

    /// Like [`from_claims`](Self::from_claims), reading scopes from `scope_claim`
    /// (a space-separated string or an array of strings) when it is given.
    pub(crate) fn from_claims_with_scope_claim(
        claims: Map<String, Value>,
        scope_claim: Option<&str>,
    ) -> Self {
        let text = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_owned);
        let scopes = match scope_claim {
            Some(name) => claims.get(name).map(scopes_of).unwrap_or_default(),
            None => claims
                .get("scope")
                .or_else(|| claims.get("scp"))
                .map(scopes_of)
                .unwrap_or_default(),
        };
        let audiences = match claims.get("aud") {
            Some(Value::String(a)) => vec![a.clone()],
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            _ => Vec::new(),
        };
        let expires_at = claims
            .get("exp")
            .and_then(Value::as_f64)
            .filter(|e| e.is_finite() && *e >= 0.0)
            .map(|e| UNIX_EPOCH + Duration::from_secs_f64(e.min(u32::MAX as f64 * 4.0)));
        Self {
            issuer: text("iss"),
            subject: text("sub"),
            client_id: text("client_id").or_else(|| text("azp")),
            scopes,
            audiences,
            expires_at,
            claims,
            credential: Credential::AccessToken,
            principal_key: Memo::default(),
        }
    }

    /// The same claims, marked as coming from `credential` (the API-key and
    /// development-token validators only).
    pub(crate) fn with_credential(mut self, credential: Credential) -> Self {
        self.credential = credential;
        self.principal_key = Memo::default();
        self
    }

    /// Writes [`AuthenticatedClient::principal`](crate::AuthenticatedClient::principal)
    /// to `out`; `None` when there is none. The one rule of what a principal is.
    pub(crate) fn write_principal(&self, out: &mut impl fmt::Write) -> Option<fmt::Result> {
        let issuer = self.issuer().unwrap_or("");
        let (tag, who) = match (self.subject(), self.client_id()) {
            (Some(sub), _) => ("sub", sub),
            (None, Some(client)) => ("client", client),
            (None, None) => return None,
        };
        Some(match self.credential() {
            Credential::ApiKey => write!(out, "api-key:{who}"),
            Credential::DevToken => write!(out, "dev-token:{}:{issuer}{tag}:{who}", issuer.len()),
            // Length-prefixed, so ("a b", "c") and ("a", "b c") never collide.
            _ => write!(out, "{}:{issuer}{tag}:{who}", issuer.len()),
        })
    }

    /// The principal hashed with SipHash under this process's random key (so nobody can
    /// choose principals that collide), computed on first use: a cached token's is
    /// computed once.
    pub(crate) fn principal_key(&self) -> Option<u64> {
        static SEED: OnceLock<RandomState> = OnceLock::new();
        *self.principal_key.0.get_or_init(|| {
            let mut hasher = HashWriter(SEED.get_or_init(RandomState::new).build_hasher());
            self.write_principal(&mut hasher)?.ok()?;
            Some(hasher.0.finish())
        })
    }

    /// The kind of credential these claims were proved by.
    ///
    /// ```
    /// # use mcp_oauth::{Credential, VerifiedClaims};
    /// let claims = VerifiedClaims::from_claims(Default::default());
    /// assert_eq!(claims.credential(), Credential::AccessToken);
    /// ```
    pub fn credential(&self) -> Credential {
        self.credential
    }

    /// The granted scopes plus those of each claim in `names` (a space-separated string
    /// or an array of strings), for issuers that grant scopes in more than one claim.
    pub(crate) fn with_scopes_from(mut self, names: &[&str]) -> Self {
        for name in names {
            if let Some(value) = self.claims.get(*name) {
                let more = scopes_of(value);
                scope::extend_unique(&mut self.scopes, more.iter().map(String::as_str));
            }
        }
        self
    }

    /// Replaces the granted scopes.
    ///
    /// ```
    /// # use mcp_oauth::VerifiedClaims;
    /// let v = VerifiedClaims::from_claims(Default::default()).with_scopes(["mcp:read"]);
    /// assert_eq!(v.scopes(), ["mcp:read"]);
    /// ```
    pub fn with_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let given: Vec<String> = scopes.into_iter().map(Into::into).collect();
        self.scopes.clear();
        scope::extend_unique(&mut self.scopes, given.iter().map(String::as_str));
        self
    }

    /// `iss`.
    ///
    /// ```
    /// # use serde_json::json;
    /// # let verified = |c: serde_json::Value| {
    /// #     mcp_oauth::VerifiedClaims::from_claims(c.as_object().cloned().unwrap_or_default())
    /// # };
    /// let v = verified(json!({"iss": "https://auth.example.com"}));
    /// assert_eq!(v.issuer(), Some("https://auth.example.com"));
    /// assert_eq!(verified(json!({"iss": 42})).issuer(), None); // not a string
    /// ```
    pub fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }
    /// `sub`.
    ///
    /// ```
    /// # use serde_json::json;
    /// # let verified = |c: serde_json::Value| {
    /// #     mcp_oauth::VerifiedClaims::from_claims(c.as_object().cloned().unwrap_or_default())
    /// # };
    /// assert_eq!(verified(json!({"sub": "alice"})).subject(), Some("alice"));
    /// assert_eq!(verified(json!({})).subject(), None);
    /// ```
    pub fn subject(&self) -> Option<&str> {
        self.subject.as_deref()
    }
    /// `client_id`, or `azp` when there is no `client_id`.
    ///
    /// ```
    /// # use serde_json::json;
    /// # let verified = |c: serde_json::Value| {
    /// #     mcp_oauth::VerifiedClaims::from_claims(c.as_object().cloned().unwrap_or_default())
    /// # };
    /// assert_eq!(verified(json!({"client_id": "c", "azp": "app"})).client_id(), Some("c"));
    /// assert_eq!(verified(json!({"azp": "app"})).client_id(), Some("app"));
    /// ```
    pub fn client_id(&self) -> Option<&str> {
        self.client_id.as_deref()
    }
    /// The granted scopes, deduplicated, in token order.
    ///
    /// ```
    /// # use serde_json::json;
    /// # let verified = |c: serde_json::Value| {
    /// #     mcp_oauth::VerifiedClaims::from_claims(c.as_object().cloned().unwrap_or_default())
    /// # };
    /// assert_eq!(verified(json!({"scope": "b a b"})).scopes(), ["b", "a"]);
    /// assert_eq!(verified(json!({"scp": ["x", "y"]})).scopes(), ["x", "y"]); // Okta's shape
    /// assert!(verified(json!({})).scopes().is_empty());
    /// ```
    pub fn scopes(&self) -> &[String] {
        &self.scopes
    }
    /// `aud`, always as a list.
    ///
    /// ```
    /// # use serde_json::json;
    /// # let verified = |c: serde_json::Value| {
    /// #     mcp_oauth::VerifiedClaims::from_claims(c.as_object().cloned().unwrap_or_default())
    /// # };
    /// assert_eq!(verified(json!({"aud": "r"})).audiences(), ["r"]);
    /// assert_eq!(verified(json!({"aud": ["r", "s"]})).audiences(), ["r", "s"]);
    /// ```
    pub fn audiences(&self) -> &[String] {
        &self.audiences
    }
    /// `exp`.
    ///
    /// ```
    /// # use std::time::{Duration, UNIX_EPOCH};
    /// # use serde_json::json;
    /// # let verified = |c: serde_json::Value| {
    /// #     mcp_oauth::VerifiedClaims::from_claims(c.as_object().cloned().unwrap_or_default())
    /// # };
    /// let v = verified(json!({"exp": 1_700_000_000}));
    /// assert_eq!(v.expires_at(), Some(UNIX_EPOCH + Duration::from_secs(1_700_000_000)));
    /// assert_eq!(verified(json!({"exp": "tomorrow"})).expires_at(), None);
    /// ```
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.expires_at
    }
    /// Every claim, as sent.
    ///
    /// ```
    /// # use serde_json::json;
    /// # let verified = |c: serde_json::Value| {
    /// #     mcp_oauth::VerifiedClaims::from_claims(c.as_object().cloned().unwrap_or_default())
    /// # };
    /// let v = verified(json!({"sub": "alice", "tenant": "acme"}));
    /// assert_eq!(v.claims()["tenant"], "acme");
    /// assert_eq!(v.claims().len(), 2);
    /// ```
    pub fn claims(&self) -> &Map<String, Value> {
        &self.claims
    }
}

/// A scope claim as a list: a space-separated string (RFC 9068 `scope`, Entra `scp`)
/// or an array of strings (Okta `scp`).
fn scopes_of(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => scope::split(s),
        Value::Array(items) => {
            let mut out = Vec::new();
            scope::extend_unique(&mut out, items.iter().filter_map(Value::as_str));
            out
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn verified(v: Value) -> VerifiedClaims {
        VerifiedClaims::from_claims(v.as_object().cloned().unwrap_or_default())
    }

    #[test]
    fn scopes_come_from_scope_string_or_scp_string_or_array() {
        assert_eq!(verified(json!({"scope": "a b a"})).scopes(), ["a", "b"]);
        assert_eq!(verified(json!({"scp": "a b"})).scopes(), ["a", "b"]);
        assert_eq!(verified(json!({"scp": ["a", "b", 3]})).scopes(), ["a", "b"]);
        assert!(verified(json!({"scope": 7})).scopes().is_empty());
    }

    #[test]
    fn client_id_falls_back_to_azp_and_aud_is_always_a_list() {
        let v = verified(json!({"azp": "app", "aud": "r"}));
        assert_eq!(v.client_id(), Some("app"));
        assert_eq!(v.audiences(), ["r"]);
        let v = verified(json!({"client_id": "c", "azp": "app", "aud": ["r", "s"]}));
        assert_eq!(v.client_id(), Some("c"));
        assert_eq!(v.audiences(), ["r", "s"]);
    }

    #[test]
    fn a_custom_scope_claim_replaces_the_defaults() {
        let v = VerifiedClaims::from_claims_with_scope_claim(
            json!({"scope": "a", "permissions": ["x"]})
                .as_object()
                .cloned()
                .unwrap_or_default(),
            Some("permissions"),
        );
        assert_eq!(v.scopes(), ["x"]);
    }
}
