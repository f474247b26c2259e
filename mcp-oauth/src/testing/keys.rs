//! Keys generated at start: RSA-2048, EC P-256, EC P-384, Ed25519, and an RSA key that
//! is never published (for "signed by another key" tokens).

use std::sync::Arc;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};

/// One generation of keys. Rotation makes a new ring with a new RSA key.
pub(crate) struct KeyRing {
    pub(crate) rsa_kid: String,
    rsa: Arc<RsaKeyPair>,
    ec256: Arc<EcdsaKeyPair>,
    ec384: Arc<EcdsaKeyPair>,
    ed: Arc<Ed25519KeyPair>,
    unpublished: Arc<RsaKeyPair>,
}

pub(crate) const EC256_KID: &str = "ec256-1";
pub(crate) const EC384_KID: &str = "ec384-1";
pub(crate) const ED_KID: &str = "ed25519-1";

fn rsa() -> RsaKeyPair {
    RsaKeyPair::generate(KeySize::Rsa2048).expect("RSA key generation failed")
}

impl KeyRing {
    pub(crate) fn generate() -> Self {
        Self {
            rsa_kid: "rsa-1".to_owned(),
            rsa: Arc::new(rsa()),
            ec256: Arc::new(
                EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING)
                    .expect("EC key generation failed"),
            ),
            ec384: Arc::new(
                EcdsaKeyPair::generate(&signature::ECDSA_P384_SHA384_FIXED_SIGNING)
                    .expect("EC key generation failed"),
            ),
            ed: Arc::new(Ed25519KeyPair::generate().expect("Ed25519 key generation failed")),
            unpublished: Arc::new(rsa()),
        }
    }

    /// A new ring whose RSA key is fresh, under `kid`; the EC and Ed keys stay.
    pub(crate) fn rotated(&self, kid: String) -> Self {
        Self {
            rsa_kid: kid,
            rsa: Arc::new(rsa()),
            ec256: self.ec256.clone(),
            ec384: self.ec384.clone(),
            ed: self.ed.clone(),
            unpublished: self.unpublished.clone(),
        }
    }

    /// The published key set (RFC 7517).
    pub(crate) fn jwks(&self) -> Value {
        let (x256, y256) = ec_point(self.ec256.public_key().as_ref());
        let (x384, y384) = ec_point(self.ec384.public_key().as_ref());
        json!({ "keys": [
            {
                "kty": "RSA", "use": "sig", "kid": self.rsa_kid,
                "n": b64(self.rsa.public_key().modulus().big_endian_without_leading_zero()),
                "e": b64(self.rsa.public_key().exponent().big_endian_without_leading_zero()),
            },
            { "kty": "EC", "use": "sig", "alg": "ES256", "kid": EC256_KID, "crv": "P-256", "x": x256, "y": y256 },
            { "kty": "EC", "use": "sig", "alg": "ES384", "kid": EC384_KID, "crv": "P-384", "x": x384, "y": y384 },
            { "kty": "OKP", "use": "sig", "alg": "EdDSA", "kid": ED_KID, "crv": "Ed25519", "x": b64(self.ed.public_key().as_ref()) },
        ]})
    }

    /// The RSA public modulus: what an attacker would use as an HMAC key in the
    /// RS/HS confusion attack (RFC 8725 §2.1).
    pub(crate) fn rsa_public_bytes(&self) -> Vec<u8> {
        self.rsa
            .public_key()
            .modulus()
            .big_endian_without_leading_zero()
            .to_vec()
    }

    /// The `kid` published for `alg`.
    pub(crate) fn kid_for(&self, alg: Algorithm) -> &str {
        match alg {
            Algorithm::ES256 => EC256_KID,
            Algorithm::ES384 => EC384_KID,
            Algorithm::EdDSA => ED_KID,
            _ => &self.rsa_kid,
        }
    }

    /// Signs `input` with the published key for `alg` (or the unpublished RSA key).
    pub(crate) fn sign(&self, alg: Algorithm, input: &[u8], unpublished: bool) -> Vec<u8> {
        let rng = SystemRandom::new();
        let rsa_key = if unpublished {
            &self.unpublished
        } else {
            &self.rsa
        };
        let rsa_sign = |padding: &'static dyn signature::RsaEncoding| {
            let mut sig = vec![0; rsa_key.public_modulus_len()];
            rsa_key
                .sign(padding, &rng, input, &mut sig)
                .expect("RSA signing failed");
            sig
        };
        match alg {
            Algorithm::RS256 => rsa_sign(&signature::RSA_PKCS1_SHA256),
            Algorithm::RS384 => rsa_sign(&signature::RSA_PKCS1_SHA384),
            Algorithm::RS512 => rsa_sign(&signature::RSA_PKCS1_SHA512),
            Algorithm::PS256 => rsa_sign(&signature::RSA_PSS_SHA256),
            Algorithm::PS384 => rsa_sign(&signature::RSA_PSS_SHA384),
            Algorithm::PS512 => rsa_sign(&signature::RSA_PSS_SHA512),
            Algorithm::ES256 => self
                .ec256
                .sign(&rng, input)
                .expect("ECDSA signing failed")
                .as_ref()
                .to_vec(),
            Algorithm::ES384 => self
                .ec384
                .sign(&rng, input)
                .expect("ECDSA signing failed")
                .as_ref()
                .to_vec(),
            Algorithm::EdDSA => self.ed.sign(input).as_ref().to_vec(),
            other => panic!("{other:?} is not an asymmetric algorithm; use TokenBuilder::hs256"),
        }
    }
}

impl KeyRing {
    /// Whether `signature` over `input` verifies with the published key for the JWS
    /// `alg` text (RS*, PS*, ES256, ES384, EdDSA; anything else, HS* and `none`
    /// included, never verifies). The unpublished RSA key is not tried.
    pub(crate) fn verify(&self, alg: &str, input: &[u8], signature: &[u8]) -> bool {
        use signature::VerificationAlgorithm;
        let (algorithm, public_key): (&'static dyn VerificationAlgorithm, &[u8]) = match alg {
            "RS256" => (
                &signature::RSA_PKCS1_2048_8192_SHA256,
                self.rsa.public_key().as_ref(),
            ),
            "RS384" => (
                &signature::RSA_PKCS1_2048_8192_SHA384,
                self.rsa.public_key().as_ref(),
            ),
            "RS512" => (
                &signature::RSA_PKCS1_2048_8192_SHA512,
                self.rsa.public_key().as_ref(),
            ),
            "PS256" => (
                &signature::RSA_PSS_2048_8192_SHA256,
                self.rsa.public_key().as_ref(),
            ),
            "PS384" => (
                &signature::RSA_PSS_2048_8192_SHA384,
                self.rsa.public_key().as_ref(),
            ),
            "PS512" => (
                &signature::RSA_PSS_2048_8192_SHA512,
                self.rsa.public_key().as_ref(),
            ),
            "ES256" => (
                &signature::ECDSA_P256_SHA256_FIXED,
                self.ec256.public_key().as_ref(),
            ),
            "ES384" => (
                &signature::ECDSA_P384_SHA384_FIXED,
                self.ec384.public_key().as_ref(),
            ),
            "EdDSA" => (&signature::ED25519, self.ed.public_key().as_ref()),
            _ => return false,
        };
        signature::UnparsedPublicKey::new(algorithm, public_key)
            .verify(input, signature)
            .is_ok()
    }
}

/// HMAC with SHA-2 for HS256/384/512.
pub(crate) fn hmac(alg: Algorithm, secret: &[u8], input: &[u8]) -> Vec<u8> {
    use aws_lc_rs::hmac;
    let algorithm = match alg {
        Algorithm::HS384 => hmac::HMAC_SHA384,
        Algorithm::HS512 => hmac::HMAC_SHA512,
        _ => hmac::HMAC_SHA256,
    };
    hmac::sign(&hmac::Key::new(algorithm, secret), input)
        .as_ref()
        .to_vec()
}

pub(crate) fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Splits an uncompressed point `04 || x || y` into base64url `x`, `y`.
fn ec_point(point: &[u8]) -> (String, String) {
    let coords = &point[1..];
    let (x, y) = coords.split_at(coords.len() / 2);
    (b64(x), b64(y))
}
