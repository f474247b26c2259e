//! Why a DPoP proof was not accepted (RFC 9449 §4.3, §7.1): always 401
//! `invalid_dpop_proof`.

use std::fmt;

/// Why a DPoP proof (RFC 9449 §4) was rejected: the refusal is 401 with the
/// `invalid_dpop_proof` error code in a `DPoP` challenge (RFC 9449 §7.1).
///
/// The [`description`](DpopRejection::description) is safe to send to the client: it
/// never contains any part of the proof or the token.
///
/// ```
/// use mcp_oauth::DpopRejection;
///
/// assert_eq!(DpopRejection::Replayed.description(), "The DPoP proof was already used");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DpopRejection {
    /// No `DPoP` header beside a DPoP-scheme token.
    Missing,
    /// More than one `DPoP` header (RFC 9449 §4.3 check 1).
    Multiple,
    /// Not a compact JWS with JSON header and claims, or larger than the cap.
    Malformed,
    /// `typ` is not `dpop+jwt` (RFC 9449 §4.2).
    WrongType,
    /// `alg` is not an asymmetric algorithm on the allow-list (RFC 9449 §4.3 check 5).
    DisallowedAlgorithm,
    /// `crit` names an extension this server does not understand (RFC 7515 §4.1.11).
    UnsupportedCritical,
    /// The `jwk` header is missing, not a usable public key, or does not fit `alg`.
    BadKey,
    /// The `jwk` header carries private key members (RFC 9449 §4.3 check 7).
    PrivateKey,
    /// The signature does not verify with the `jwk` of the header (RFC 9449 §4.3 check 6).
    BadSignature,
    /// `jti` is missing or not a short string (RFC 9449 §4.2).
    MissingJti,
    /// `htm` is not the request's method (RFC 9449 §4.3 check 8).
    WrongMethod,
    /// `htu` is not the request's URI (RFC 9449 §4.3 check 9).
    WrongUri,
    /// `iat` is missing, or outside the accepted window (RFC 9449 §4.3 check 11, §11.1).
    StaleOrFuture,
    /// The `jti` was seen before within the window (RFC 9449 §11.1).
    Replayed,
    /// `ath` is missing or is not the hash of the presented token (RFC 9449 §4.3 check
    /// 12, §7).
    WrongTokenHash,
    /// The proof's key is not the one the token is bound to (`cnf.jkt`, RFC 9449 §6, §7).
    KeyMismatch,
}

impl DpopRejection {
    /// A short, client-safe sentence for `error_description`.
    ///
    /// ```
    /// use mcp_oauth::DpopRejection;
    /// assert_eq!(DpopRejection::WrongMethod.description(), "The DPoP proof htm is not the request method");
    /// ```
    pub fn description(self) -> &'static str {
        match self {
            Self::Missing => "A DPoP proof is required with a DPoP-bound token",
            Self::Multiple => "More than one DPoP header",
            Self::Malformed => "The DPoP proof is malformed",
            Self::WrongType => "The DPoP proof typ is not dpop+jwt",
            Self::DisallowedAlgorithm => "The DPoP proof algorithm is not accepted",
            Self::UnsupportedCritical => "The DPoP proof uses an unsupported critical header",
            Self::BadKey => "The DPoP proof jwk is not a usable public key for its alg",
            Self::PrivateKey => "The DPoP proof jwk contains private key material",
            Self::BadSignature => "The DPoP proof signature is invalid",
            Self::MissingJti => "The DPoP proof has no valid jti",
            Self::WrongMethod => "The DPoP proof htm is not the request method",
            Self::WrongUri => "The DPoP proof htu is not the request URI",
            Self::StaleOrFuture => "The DPoP proof iat is outside the accepted window",
            Self::Replayed => "The DPoP proof was already used",
            Self::WrongTokenHash => "The DPoP proof ath does not match the access token",
            Self::KeyMismatch => "The DPoP proof key is not the key the token is bound to",
        }
    }
}

impl fmt::Display for DpopRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}
