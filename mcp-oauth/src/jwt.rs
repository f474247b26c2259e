//! The `jwt` strategy: local validation of JWT access tokens (RFC 9068 §4, RFC 8725).
//!
//! Steps, in order, each failure a 401 `invalid_token` (spec-checklist §4):
//! format → header (`alg` allow-list, `typ`, `crit`) → claims decoded → `iss` →
//! key (by `kid`, from this issuer only, pinned to `alg`) → signature →
//! `aud` → `exp` / `nbf` / `iat` with bounded leeway.

use std::sync::{Arc, OnceLock};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::checks::{self, Expiry};
use crate::claims::VerifiedClaims;
use crate::discovery::Discovery;
use crate::jwks::{JwksCache, JwksSettings, KeyEpoch};
use crate::refusal::{Refusal, TokenRejection};
use crate::resource::ResourceParts;
use crate::validator::{LocalBoxFuture, TokenValidator};

/// Which `typ` header values are accepted (RFC 9068 §4, RFC 8725 §3.11).
///
/// ```
/// use mcp_oauth::{McpOAuth, TypPolicy};
///
/// // Only RFC 9068 access tokens (`typ: at+jwt`); `JWT` and a missing `typ` are refused.
/// let oauth = McpOAuth::builder()
///     .resource("https://mcp.example.com/mcp")
///     .authorization_server("https://auth.example.com")
///     .jwks_uri("https://auth.example.com/jwks")
///     .typ_policy(TypPolicy::Strict)
///     .build()?;
/// # let _ = oauth;
/// # Ok::<(), mcp_oauth::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TypPolicy {
    /// `at+jwt`, `application/at+jwt`, `JWT`, or no `typ` (Entra and Keycloak send `JWT`).
    /// Any other explicit type (`id_token+jwt`, `dpop+jwt`, ...) is rejected.
    #[default]
    Lenient,
    /// Only `at+jwt` / `application/at+jwt`, as RFC 9068 requires.
    Strict,
}

impl std::str::FromStr for TypPolicy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "lenient" => Ok(Self::Lenient),
            "strict" => Ok(Self::Strict),
            _ => Err(format!("`{s}` is neither `lenient` nor `strict`")),
        }
    }
}

impl TypPolicy {
    fn accepts(self, typ: Option<&str>) -> bool {
        let Some(typ) = typ else {
            return self == Self::Lenient;
        };
        // Media types compare case-insensitively; `application/` may be omitted (RFC 7515 §4.1.9).
        let lower = typ.to_ascii_lowercase();
        let bare = lower.strip_prefix("application/").unwrap_or(&lower);
        match bare {
            "at+jwt" => true,
            "jwt" => self == Self::Lenient,
            _ => false,
        }
    }
}

/// The algorithms accepted when none are configured: asymmetric only (RFC 8725 §3.1).
pub(crate) const DEFAULT_ALGORITHMS: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// Parses an algorithm name exactly as JWA spells it (case-sensitive: no `noNE` tricks).
pub(crate) fn algorithm_named(name: &str) -> Option<Algorithm> {
    Some(match name {
        "RS256" => Algorithm::RS256,
        "RS384" => Algorithm::RS384,
        "RS512" => Algorithm::RS512,
        "PS256" => Algorithm::PS256,
        "PS384" => Algorithm::PS384,
        "PS512" => Algorithm::PS512,
        "ES256" => Algorithm::ES256,
        "ES384" => Algorithm::ES384,
        "EdDSA" => Algorithm::EdDSA,
        "HS256" => Algorithm::HS256,
        "HS384" => Algorithm::HS384,
        "HS512" => Algorithm::HS512,
        _ => return None,
    })
}

pub(crate) fn is_hmac(alg: Algorithm) -> bool {
    matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512)
}

/// Where verification keys come from.
pub(crate) enum KeySource {
    /// A configured JWKS URI.
    Jwks(Arc<JwksCache>),
    /// The `jwks_uri` of the issuer's metadata, known once discovery has found it.
    Discovered {
        discovery: Arc<Discovery>,
        cache: OnceLock<Arc<JwksCache>>,
        settings: JwksSettings,
        epoch: KeyEpoch,
    },
    /// A shared secret (HS*).
    Secret(DecodingKey),
}

impl std::fmt::Debug for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Jwks(cache) => f.debug_tuple("Jwks").field(cache).finish(),
            Self::Discovered { discovery, .. } => f
                .debug_tuple("Discovered")
                .field(&discovery.issuer())
                .finish(),
            Self::Secret(_) => f.write_str("Secret(..)"),
        }
    }
}

impl KeySource {
    /// The key set's cache; `None` for a shared secret. Discovering the JWKS URI first
    /// if need be (a 503 while the metadata cannot be had).
    async fn jwks(&self) -> Result<Option<&Arc<JwksCache>>, Refusal> {
        match self {
            Self::Jwks(cache) => Ok(Some(cache)),
            Self::Secret(_) => Ok(None),
            Self::Discovered {
                discovery,
                cache,
                settings,
                epoch,
            } => {
                if let Some(cache) = cache.get() {
                    return Ok(Some(cache));
                }
                let found = discovery.metadata().await?;
                let uri = found.jwks_uri.clone().ok_or_else(|| {
                    Refusal::Unavailable(format!(
                        "the authorization server {} has no usable jwks_uri",
                        discovery.issuer()
                    ))
                })?;
                Ok(Some(cache.get_or_init(|| {
                    Arc::new(JwksCache::new(uri, *settings, epoch.clone()))
                })))
            }
        }
    }

    /// Whether tokens of this issuer can be verified locally (for the hybrid strategy).
    pub(crate) async fn available(&self) -> Result<bool, Refusal> {
        match self {
            Self::Discovered { discovery, .. } => {
                Ok(discovery.metadata().await?.jwks_uri.is_some())
            }
            Self::Jwks(_) | Self::Secret(_) => Ok(true),
        }
    }
}

#[derive(Debug)]
pub(crate) struct JwtValidator {
    pub(crate) issuer: String,
    pub(crate) audiences: Vec<String>,
    pub(crate) algorithms: Vec<Algorithm>,
    pub(crate) leeway_secs: u64,
    pub(crate) typ: TypPolicy,
    pub(crate) scope_claim: Option<String>,
    pub(crate) keys: KeySource,
}

/// The header members this validator reads; all others (`jku`, `x5u`, `jwk`, `x5c`, ...)
/// are ignored by construction.
#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    typ: Option<String>,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    crit: Option<Value>,
}

/// A compact JWS cut into its parts.
struct Compact<'a> {
    header: &'a str,
    payload: &'a str,
    signature: &'a str,
    /// `header.payload`: what the signature covers.
    signing_input: &'a str,
}

impl<'a> Compact<'a> {
    /// Exactly three non-empty base64url segments (8725bis "Check JWT Format Type");
    /// five segments (a JWE) are malformed here.
    fn split(token: &'a str) -> Result<Self, TokenRejection> {
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenRejection::Malformed);
        };
        let b64url = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        if !(b64url(header) && b64url(payload) && b64url(signature)) {
            return Err(TokenRejection::Malformed);
        }
        Ok(Self {
            header,
            payload,
            signature,
            signing_input: &token[..header.len() + 1 + payload.len()],
        })
    }
}

impl JwtValidator {
    pub(crate) async fn check(&self, token: &str) -> Result<VerifiedClaims, Refusal> {
        let jws = Jws::parse(token).map_err(Refusal::InvalidToken)?;
        self.check_jws(jws).await
    }

    /// [`check`](Self::check) of a token already parsed (by the router, which read its
    /// `iss`).
    pub(crate) async fn check_jws(&self, jws: Jws<'_>) -> Result<VerifiedClaims, Refusal> {
        let invalid = Refusal::InvalidToken;
        let Jws {
            parts: jws,
            header,
            claims,
        } = jws;

        let alg = algorithm_named(&header.alg)
            .filter(|a| self.algorithms.contains(a))
            .ok_or(Refusal::InvalidToken(TokenRejection::DisallowedAlgorithm))?;
        if !self.typ.accepts(header.typ.as_deref()) {
            return Err(invalid(TokenRejection::WrongType));
        }
        // No extension is understood, so any `crit` must be rejected (RFC 7515 §4.1.11).
        if header.crit.is_some() {
            return Err(invalid(TokenRejection::UnsupportedCritical));
        }

        let claims = claims.map_err(invalid)?;
        // The issuer picks the keys (RFC 8725 §3.8), so check it before any key is fetched.
        if claims.get("iss").and_then(Value::as_str) != Some(self.issuer.as_str()) {
            return Err(invalid(TokenRejection::WrongIssuer));
        }

        let verified = match self.keys.jwks().await? {
            Some(cache) => {
                let key = cache.key_for(header.kid.as_deref(), alg).await?;
                let signature = URL_SAFE_NO_PAD
                    .decode(jws.signature)
                    .map_err(|_| invalid(TokenRejection::Malformed))?;
                key.verifies(alg, jws.signing_input.as_bytes(), &signature)
            }
            None => match &self.keys {
                KeySource::Secret(key) => matches!(
                    jsonwebtoken::crypto::verify(
                        jws.signature,
                        jws.signing_input.as_bytes(),
                        key,
                        alg
                    ),
                    Ok(true)
                ),
                _ => false,
            },
        };
        if !verified {
            return Err(invalid(TokenRejection::BadSignature));
        }

        checks::audience(&claims, &self.audiences)?;
        checks::times(&claims, self.leeway_secs, Expiry::Required)?;
        Ok(VerifiedClaims::from_claims_with_scope_claim(
            claims,
            self.scope_claim.as_deref(),
        ))
    }
}

impl TokenValidator for JwtValidator {
    fn validate<'a>(
        &'a self,
        token: &'a str,
    ) -> LocalBoxFuture<'a, Result<VerifiedClaims, Refusal>> {
        Box::pin(self.check(token))
    }
}

/// A compact JWS with a JSON header, and its payload decoded when it is a JSON object:
/// read once, by the router (for `iss`) and by the validator.
pub(crate) struct Jws<'a> {
    parts: Compact<'a>,
    header: Header,
    claims: Result<Map<String, Value>, TokenRejection>,
}

impl<'a> Jws<'a> {
    /// Anything that is not three base64url segments with a JSON header naming an `alg`
    /// is `Malformed` here (an opaque token, for introspection).
    pub(crate) fn parse(token: &'a str) -> Result<Self, TokenRejection> {
        let parts = Compact::split(token)?;
        let header = decode_json(parts.header)?;
        let claims = decode_json(parts.payload);
        Ok(Self {
            parts,
            header,
            claims,
        })
    }

    /// The payload's `iss`, not verified: only used to pick whose keys or endpoint judge
    /// the token.
    pub(crate) fn issuer(&self) -> Option<&str> {
        self.claims.as_ref().ok()?.get("iss")?.as_str()
    }
}

fn decode_json<T: serde::de::DeserializeOwned>(segment: &str) -> Result<T, TokenRejection> {
    let bytes = URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| TokenRejection::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| TokenRejection::Malformed)
}

/// Audience equality: exact, or equal once the scheme and host are lower-cased and an
/// empty path is read as `/` (MCP §Canonical Server URI, spec-checklist items 2, 39).
/// `/mcp` and `/mcp/` stay different.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typ_policy_accepts_access_token_types_and_rejects_others() {
        for typ in [
            None,
            Some("at+jwt"),
            Some("application/at+jwt"),
            Some("AT+JWT"),
            Some("JWT"),
            Some("jwt"),
        ] {
            assert!(TypPolicy::Lenient.accepts(typ), "{typ:?}");
        }
        for typ in ["id_token+jwt", "dpop+jwt", "secevent+jwt", "JOSE", ""] {
            assert!(!TypPolicy::Lenient.accepts(Some(typ)), "{typ}");
        }
        assert!(TypPolicy::Strict.accepts(Some("at+jwt")));
        assert!(TypPolicy::Strict.accepts(Some("application/AT+JWT")));
        assert!(!TypPolicy::Strict.accepts(Some("JWT")));
        assert!(!TypPolicy::Strict.accepts(None));
    }

    #[test]
    fn algorithm_names_are_case_sensitive_and_none_does_not_exist() {
        assert_eq!(algorithm_named("RS256"), Some(Algorithm::RS256));
        for name in ["none", "None", "NONE", "nOnE", "rs256", "HS256 ", ""] {
            assert_eq!(algorithm_named(name), None, "{name}");
        }
    }

    // spec-checklist item 2 and 39.
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

    #[test]
    fn only_three_base64url_segments_form_a_jws() {
        assert!(Compact::split("a.b.c").is_ok());
        for bad in ["a.b", "a.b.c.d.e", "a..c", "a.b.", "a.b+.c", "a.b.c=", ""] {
            assert!(Compact::split(bad).is_err(), "{bad}");
        }
    }
}
