//! One DPoP proof read and verified on its own (RFC 9449 §4.2, §4.3 checks 2-12 but the
//! replay check): the JOSE header, the key it carries, the signature, then the claims
//! against the request.

use std::time::Duration;

use aws_lc_rs::digest;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::Jwk;
use serde::Deserialize as _;
use serde_json::Value;

use super::htu::{self, RequestUri};
use super::members::{Claims, Header};
use super::thumbprint::thumbprint;
use crate::refusal::DpopRejection;
use crate::validate::jwks::VerifyingKey;
use crate::validate::jwt::{self, Compact};

/// The largest proof read (a proof is a few hundred bytes; an RSA key makes it ~1 KiB).
pub(crate) const MAX_PROOF_BYTES: usize = 8 * 1024;
/// The longest `jti` kept (RFC 9449 §4.2 suggests 96 bits of randomness or more).
const MAX_JTI_BYTES: usize = 256;
/// JWK members that only a private key has (RFC 7518 §6.2.2, §6.3.2, §6.4.1; RFC 8037 §2).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// What the request says the proof must match.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Expected<'a> {
    /// The request method (`htm`), compared exactly (RFC 9110 §9.1: case-sensitive).
    pub(crate) method: &'a str,
    /// The request URI as reached through the configured resource (`htu`).
    pub(crate) uri: RequestUri<'a>,
    /// The access token the proof comes with (`ath`), when there is one.
    pub(crate) token: Option<&'a str>,
    /// The thumbprint the proof's key must have (the token's `cnf.jkt`), when bound.
    pub(crate) key: Option<&'a str>,
}

/// The rules every proof meets.
#[derive(Debug, Clone)]
pub(crate) struct ProofRules {
    /// Asymmetric algorithms only (RFC 9449 §4.3 check 5).
    pub(crate) algorithms: Vec<Algorithm>,
    /// How far `iat` may be from now, either way (RFC 9449 §11.1).
    pub(crate) window: Duration,
    /// The clock leeway added to the window.
    pub(crate) leeway: Duration,
}

/// A proof that passed every check but the replay check.
#[derive(Debug)]
pub(crate) struct Proof {
    /// The RFC 7638 thumbprint of the proof's key.
    pub(crate) jkt: String,
    pub(crate) jti: String,
    /// Unix seconds.
    pub(crate) iat: u64,
    /// The `nonce` claim, if a string (RFC 9449 §4.2, §9).
    pub(crate) nonce: Option<String>,
}

/// One base64url segment's bytes (RFC 7515 §7.1).
fn decode(segment: &str) -> Result<Vec<u8>, DpopRejection> {
    URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| DpopRejection::Malformed)
}

impl ProofRules {
    /// Checks `proof` against the request `expected`, at `now` (Unix seconds). Every
    /// check that needs no signature runs first, then `before_signature` (the nonce),
    /// and only a proof that passes them all costs a signature verification: a stolen
    /// token's holder without the key gets no work done for a proof by another key.
    pub(crate) fn verify<E>(
        &self,
        proof: &str,
        expected: &Expected<'_>,
        now: u64,
        before_signature: impl FnOnce(&Proof) -> Result<(), E>,
    ) -> Result<Proof, E>
    where
        E: From<DpopRejection>,
    {
        if proof.len() > MAX_PROOF_BYTES {
            return Err(DpopRejection::Malformed.into());
        }
        let parts = Compact::split(proof).map_err(|_| DpopRejection::Malformed)?;
        let header_bytes = decode(parts.header)?;
        let header: Header<'_> =
            serde_json::from_slice(&header_bytes).map_err(|_| DpopRejection::Malformed)?;
        // RFC 9449 §4.2: `typ` is `dpop+jwt` (media types compare case-insensitively).
        if !header
            .typ
            .get()
            .is_some_and(|t| t.eq_ignore_ascii_case("dpop+jwt"))
        {
            return Err(DpopRejection::WrongType.into());
        }
        let alg = header
            .alg
            .get()
            .and_then(jwt::algorithm_named)
            .filter(|a| !jwt::is_hmac(*a) && self.algorithms.contains(a))
            .ok_or(DpopRejection::DisallowedAlgorithm)?;
        if header.crit {
            return Err(DpopRejection::UnsupportedCritical.into());
        }
        let jwk_value = header.jwk.as_ref().ok_or(DpopRejection::BadKey)?;
        let jwk = jwk_value.as_object().ok_or(DpopRejection::BadKey)?;
        if PRIVATE_MEMBERS.iter().any(|m| jwk.contains_key(*m)) {
            return Err(DpopRejection::PrivateKey.into());
        }
        let jkt = thumbprint(jwk).ok_or(DpopRejection::BadKey)?;
        let claims_bytes = decode(parts.payload)?;
        let claims: Claims<'_> =
            serde_json::from_slice(&claims_bytes).map_err(|_| DpopRejection::Malformed)?;
        let iat = self.check_claims(&claims, expected, now)?;
        // RFC 9449 §7: the proof's key is the one the token is bound to.
        if let Some(bound) = expected.key
            && !super::matches_binding(bound, &jkt)
        {
            return Err(DpopRejection::KeyMismatch.into());
        }
        let read = Proof {
            jkt,
            jti: claims.jti.get().unwrap_or_default().to_owned(),
            iat,
            nonce: claims.nonce.get().map(str::to_owned),
        };
        before_signature(&read)?;
        let parsed = Jwk::deserialize(jwk_value).map_err(|_| DpopRejection::BadKey)?;
        let key = VerifyingKey::from_jwk(&parsed).map_err(|_| DpopRejection::BadKey)?;
        if !key.fits(alg) {
            return Err(DpopRejection::BadKey.into());
        }
        jwt::verify_signature(&key, alg, &parts).map_err(|_| DpopRejection::BadSignature)?;
        Ok(read)
    }

    /// RFC 9449 §4.3 checks 8-12 (the nonce aside): `jti`, `htm`, `htu`, `iat`, `ath`.
    /// The proof's `iat`.
    fn check_claims(
        &self,
        claims: &Claims<'_>,
        expected: &Expected<'_>,
        now: u64,
    ) -> Result<u64, DpopRejection> {
        match claims.jti.get() {
            Some(jti) if !jti.is_empty() && jti.len() <= MAX_JTI_BYTES => {}
            _ => return Err(DpopRejection::MissingJti),
        }
        if claims.htm.get() != Some(expected.method) {
            return Err(DpopRejection::WrongMethod);
        }
        if !claims
            .htu
            .get()
            .is_some_and(|u| htu::same_uri(u, &expected.uri))
        {
            return Err(DpopRejection::WrongUri);
        }
        let iat = claims
            .iat
            .as_ref()
            .and_then(Value::as_u64)
            .ok_or(DpopRejection::StaleOrFuture)?;
        let slack = self.window.saturating_add(self.leeway).as_secs();
        if iat.abs_diff(now) > slack {
            return Err(DpopRejection::StaleOrFuture);
        }
        if let Some(token) = expected.token {
            let hash = digest::digest(&digest::SHA256, token.as_bytes());
            let mut ath = [0u8; 43];
            let written = URL_SAFE_NO_PAD.encode_slice(hash.as_ref(), &mut ath);
            if written.ok() != Some(ath.len())
                || claims.ath.get().map(str::as_bytes) != Some(&ath[..])
            {
                return Err(DpopRejection::WrongTokenHash);
            }
        }
        Ok(iat)
    }

    /// The last second at which a proof issued at `iat` is still accepted.
    pub(crate) fn last_second(&self, iat: u64) -> u64 {
        iat.saturating_add(self.window.saturating_add(self.leeway).as_secs())
    }
}
