//! The `jwt` strategy: local validation of JWT access tokens (RFC 9068 §4, RFC 8725).
//!
//! Steps, in order, each failure a 401 `invalid_token` (RFC 9068 §4):
//! format → header (`alg` allow-list, `typ`, `crit`) → claims decoded → `iss` →
//! key (by `kid`, from this issuer only, pinned to `alg`) → signature →
//! not an ID token (unless typed `at+jwt`) → `aud` → `exp` / `nbf` / `iat` with bounded
//! leeway.

use std::sync::{Arc, OnceLock};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::discovery::Discovery;
use crate::refusal::{Refusal, TokenRejection};
use crate::validate::claims::VerifiedClaims;
use crate::validate::jwks::{JwksCache, JwksSettings, KeyEpoch, VerifyingKey};
use crate::validate::profile::ClaimRules;
use crate::validate::rules::{self, Expiry};
use crate::validate::{LocalBoxFuture, TokenValidator};

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
    /// Any other explicit type (`id_token+jwt`, `dpop+jwt`, ...) is rejected, and so is a
    /// `JWT` or untyped token whose claims are an OpenID Connect ID token's (`nonce`,
    /// `at_hash`, `c_hash` or `auth_time`, and none of `scope`, `scp`, `client_id`).
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
    pub(crate) fn accepts(self, typ: Option<&str>) -> bool {
        let Some(typ) = typ else {
            return self == Self::Lenient;
        };
        if is_at_jwt(typ) {
            return true;
        }
        // Media types compare case-insensitively; `application/` may be omitted (RFC 7515 §4.1.9).
        let lower = typ.to_ascii_lowercase();
        let bare = lower.strip_prefix("application/").unwrap_or(&lower);
        bare == "jwt" && self == Self::Lenient
    }
}

/// Whether `typ` is `at+jwt`, the RFC 9068 §2.1 access-token type (`application/` may
/// be omitted and case does not matter, RFC 7515 §4.1.9).
pub(crate) fn is_at_jwt(typ: &str) -> bool {
    let bare = match typ.get(..12) {
        Some(prefix) if prefix.eq_ignore_ascii_case("application/") => &typ[12..],
        _ => typ,
    };
    bare.eq_ignore_ascii_case("at+jwt")
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
    pub(crate) async fn jwks(&self) -> Result<Option<&Arc<JwksCache>>, Refusal> {
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
                    let metrics = discovery.metrics().clone();
                    Arc::new(JwksCache::new(uri, *settings, epoch.clone(), metrics))
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
    /// The issuer's own claim rules (a provider preset's), the audience among them.
    pub(crate) rules: ClaimRules,
}

/// The header members this validator reads; all others (`jku`, `x5u`, `jwk`, `x5c`, ...)
/// are ignored by construction.
#[derive(Deserialize)]
pub(crate) struct Header {
    pub(crate) alg: String,
    #[serde(default)]
    pub(crate) typ: Option<String>,
    #[serde(default)]
    pub(crate) kid: Option<String>,
    #[serde(default)]
    pub(crate) crit: Option<Value>,
}

/// A compact JWS cut into its parts.
pub(crate) struct Compact<'a> {
    pub(crate) header: &'a str,
    pub(crate) payload: &'a str,
    pub(crate) signature: &'a str,
    /// `header.payload`: what the signature covers.
    pub(crate) signing_input: &'a str,
}

impl<'a> Compact<'a> {
    /// Exactly three non-empty base64url segments (8725bis "Check JWT Format Type");
    /// five segments (a JWE) are malformed here.
    pub(crate) fn split(token: &'a str) -> Result<Self, TokenRejection> {
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

        match self.keys.jwks().await? {
            Some(cache) => {
                let key = cache.key_for(header.kid.as_deref(), alg).await?;
                verify_signature(&key, alg, &jws).map_err(invalid)?;
            }
            None => {
                let verified = match &self.keys {
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
                };
                if !verified {
                    return Err(invalid(TokenRejection::BadSignature));
                }
            }
        }

        // An ID token is not an access token (RFC 9068 §4, OpenID Connect Core §2); one
        // typed `at+jwt` is an access token by its issuer's word (RFC 8725 §3.11).
        if !header.typ.as_deref().is_some_and(is_at_jwt) {
            rules::not_an_id_token(&claims, self.scope_claim.as_deref())?;
        }
        self.rules.check(&claims, &self.audiences)?;
        rules::times(&claims, self.leeway_secs, Expiry::Required)?;
        Ok(self
            .rules
            .scopes(VerifiedClaims::from_claims_with_scope_claim(
                claims,
                self.scope_claim.as_deref(),
            )))
    }
}

/// Checks the signature of `jws` with a key from a JWKS: the signature segment decoded
/// (base64url, no padding), then verified over `header.payload` (RFC 7515 §5.2 steps
/// 7-8) with the key's verifier for `alg`.
pub(crate) fn verify_signature(
    key: &VerifyingKey,
    alg: Algorithm,
    jws: &Compact<'_>,
) -> Result<(), TokenRejection> {
    let signature = URL_SAFE_NO_PAD
        .decode(jws.signature)
        .map_err(|_| TokenRejection::Malformed)?;
    if key.verifies(alg, jws.signing_input.as_bytes(), &signature) {
        Ok(())
    } else {
        Err(TokenRejection::BadSignature)
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
    pub(crate) parts: Compact<'a>,
    pub(crate) header: Header,
    pub(crate) claims: Result<Map<String, Value>, TokenRejection>,
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

pub(crate) fn decode_json<T: serde::de::DeserializeOwned>(
    segment: &str,
) -> Result<T, TokenRejection> {
    let bytes = URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| TokenRejection::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| TokenRejection::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::jwks::{KeySet, Lookup};

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

    #[test]
    fn only_three_base64url_segments_form_a_jws() {
        assert!(Compact::split("a.b.c").is_ok());
        for bad in ["a.b", "a.b.c.d.e", "a..c", "a.b.", "a.b+.c", "a.b.c=", ""] {
            assert!(Compact::split(bad).is_err(), "{bad}");
        }
    }

    /// A JWS made by someone else, and the public key it was published with.
    struct Vector {
        source: &'static str,
        jwk: &'static str,
        jws: &'static str,
    }

    /// The examples of RFC 7515 Appendix A.2 (RS256) and A.3 (ES256), whose payload is
    /// `{"iss":"joe",\r\n "exp":1300819380,\r\n "http://example.com/is_root":true}`,
    /// and RFC 8037 Appendix A.4 (Ed25519), whose payload is `Example of Ed25519 signing`.
    /// Copied from the RFCs byte for byte (line breaks removed, private members dropped).
    const VECTORS: [Vector; 3] = [
        Vector {
            source: "RFC 7515 A.2",
            jwk: r#"{"kty":"RSA","n":"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ","e":"AQAB"}"#,
            jws: "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw",
        },
        Vector {
            source: "RFC 7515 A.3",
            jwk: r#"{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#,
            jws: "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q",
        },
        Vector {
            source: "RFC 8037 A.4",
            jwk: r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#,
            jws: "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg",
        },
    ];

    /// The key `vector` was published with, picked the way a token's key is: the JWK
    /// parsed into a key set, then selected for the JWS's `kid` (none) and `alg`.
    fn key_of(vector: &Vector, jws: &Jws<'_>) -> (Arc<VerifyingKey>, Algorithm) {
        let keys = KeySet::parse(format!(r#"{{"keys":[{}]}}"#, vector.jwk).as_bytes())
            .unwrap_or_else(|e| panic!("{}: {e}", vector.source));
        let alg = algorithm_named(&jws.header.alg).unwrap();
        match keys.select(jws.header.kid.as_deref(), alg) {
            Lookup::Found(key) => (key, alg),
            other => panic!("{}: {other:?}", vector.source),
        }
    }

    // Independent crypto: signatures made by the RFCs' authors, not by this crate's test
    // signer, verify through the path tokens take; one flipped bit anywhere does not.
    #[test]
    fn the_published_jws_examples_verify_and_no_flipped_bit_does() {
        for vector in &VECTORS {
            let jws = Jws::parse(vector.jws).unwrap();
            let (key, alg) = key_of(vector, &jws);
            assert_eq!(
                verify_signature(&key, alg, &jws.parts),
                Ok(()),
                "{}",
                vector.source
            );

            let signature = URL_SAFE_NO_PAD.decode(jws.parts.signature).unwrap();
            let payload = URL_SAFE_NO_PAD.decode(jws.parts.payload).unwrap();
            let header = jws.parts.header;
            // One bit of each byte, of the signature and of the payload.
            let flipped = |bytes: &[u8], i: usize| {
                let mut bytes = bytes.to_vec();
                bytes[i] ^= 1 << (i % 8);
                URL_SAFE_NO_PAD.encode(bytes)
            };
            let signature_b64 = URL_SAFE_NO_PAD.encode(&signature);
            let payload_b64 = URL_SAFE_NO_PAD.encode(&payload);
            let tampered = (0..signature.len())
                .map(|i| format!("{header}.{payload_b64}.{}", flipped(&signature, i)))
                .chain(
                    (0..payload.len())
                        .map(|i| format!("{header}.{}.{signature_b64}", flipped(&payload, i))),
                );
            for token in tampered {
                let bad = Jws::parse(&token).unwrap();
                assert_eq!(
                    verify_signature(&key, alg, &bad.parts),
                    Err(TokenRejection::BadSignature),
                    "{}: {token}",
                    vector.source
                );
            }
        }
        // The RFC 7515 payload is what the RFC says it is.
        let jws = Jws::parse(VECTORS[0].jws).unwrap();
        assert_eq!(jws.issuer(), Some("joe"));
    }

    // The same keys never verify another example's signature, nor another algorithm.
    #[test]
    fn a_published_key_verifies_only_its_own_example() {
        for (i, vector) in VECTORS.iter().enumerate() {
            let own = Jws::parse(vector.jws).unwrap();
            let (key, alg) = key_of(vector, &own);
            for other in VECTORS.iter().enumerate().filter(|(j, _)| *j != i) {
                let other = Jws::parse(other.1.jws).unwrap();
                assert_ne!(verify_signature(&key, alg, &other.parts), Ok(()));
            }
            let other_alg = if alg == Algorithm::RS256 {
                Algorithm::PS256
            } else {
                Algorithm::RS256
            };
            assert_eq!(
                verify_signature(&key, other_alg, &own.parts),
                Err(TokenRejection::BadSignature)
            );
        }
    }

    #[test]
    fn at_jwt_is_recognised_in_any_case_with_or_without_the_media_type_prefix() {
        for typ in [
            "at+jwt",
            "AT+JWT",
            "application/at+jwt",
            "Application/At+Jwt",
        ] {
            assert!(is_at_jwt(typ), "{typ}");
        }
        for typ in [
            "jwt",
            "at+jwt ",
            "application/",
            "app/at+jwt",
            "at+jwt/application",
            "",
        ] {
            assert!(!is_at_jwt(typ), "{typ}");
        }
    }
}
