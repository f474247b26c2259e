//! DPoP proofs for tests (RFC 9449 §4): a client key ([`DpopKey`]) and a proof builder
//! ([`DpopProof`]) that makes good proofs and every broken variant a resource server must
//! refuse.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::digest;
use aws_lc_rs::rand::{SecureRandom as _, SystemRandom};
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair as _};
use jsonwebtoken::Algorithm;
use serde_json::{Map, Value, json};

use super::keys::{self, b64};
use crate::validate::dpop::thumbprint::thumbprint;

/// A client's DPoP key pair (ECDSA P-256, `ES256`), generated at random.
///
/// ```
/// use mcp_oauth::testing::DpopKey;
///
/// let key = DpopKey::generate();
/// assert_eq!(key.public_jwk()["kty"], "EC");
/// assert!(key.public_jwk().get("d").is_none());
/// assert_eq!(key.thumbprint().len(), 43); // base64url of a SHA-256 hash
/// assert_ne!(key.thumbprint(), DpopKey::generate().thumbprint());
/// ```
#[derive(Clone)]
pub struct DpopKey(Arc<EcdsaKeyPair>);

impl std::fmt::Debug for DpopKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("DpopKey").field(&self.thumbprint()).finish()
    }
}

impl DpopKey {
    /// A fresh P-256 key pair.
    ///
    /// ```
    /// let key = mcp_oauth::testing::DpopKey::generate();
    /// assert_eq!(key.public_jwk()["crv"], "P-256");
    /// ```
    pub fn generate() -> Self {
        let pair = EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING)
            .expect("P-256 key generation failed");
        Self(Arc::new(pair))
    }

    /// The public key as a JWK (RFC 7517, RFC 7518 §6.2.1): `kty`, `crv`, `x`, `y`.
    ///
    /// ```
    /// let jwk = mcp_oauth::testing::DpopKey::generate().public_jwk();
    /// assert!(jwk["x"].is_string() && jwk["y"].is_string());
    /// ```
    pub fn public_jwk(&self) -> Value {
        let point = self.0.public_key().as_ref();
        let coords = &point[1..];
        let (x, y) = coords.split_at(coords.len() / 2);
        json!({ "kty": "EC", "crv": "P-256", "x": b64(x), "y": b64(y) })
    }

    /// The RFC 7638 SHA-256 thumbprint of the public key: what `cnf.jkt` holds
    /// (RFC 9449 §6.1).
    ///
    /// ```
    /// let key = mcp_oauth::testing::DpopKey::generate();
    /// assert_eq!(key.thumbprint(), key.clone().thumbprint());
    /// ```
    pub fn thumbprint(&self) -> String {
        let jwk = self.public_jwk();
        jwk.as_object().and_then(thumbprint).unwrap_or_default()
    }

    /// A proof of possession of this key for a request `method` to `uri` (query and
    /// fragment are the server's to ignore), issued now with a fresh `jti`.
    ///
    /// ```
    /// use mcp_oauth::testing::DpopKey;
    ///
    /// let key = DpopKey::generate();
    /// let proof = key.proof("POST", "http://127.0.0.1:8080/mcp").access_token("a-token").sign();
    /// assert_eq!(proof.split('.').count(), 3);
    /// ```
    pub fn proof(&self, method: &str, uri: &str) -> DpopProof {
        let mut jti = [0u8; 16];
        SystemRandom::new()
            .fill(&mut jti)
            .expect("the system random generator failed");
        let mut header = Map::new();
        header.insert("typ".into(), json!("dpop+jwt"));
        header.insert("jwk".into(), self.public_jwk());
        let mut claims = Map::new();
        claims.insert("jti".into(), json!(b64(&jti)));
        claims.insert("htm".into(), json!(method));
        claims.insert("htu".into(), json!(uri));
        claims.insert("iat".into(), json!(unix_now()));
        DpopProof {
            key: self.clone(),
            header,
            claims,
            signing: ProofSigning::Es256,
        }
    }

    fn private_d(&self) -> String {
        use aws_lc_rs::encoding::AsBigEndian as _;
        let d = self
            .0
            .private_key()
            .as_be_bytes()
            .expect("P-256 private key export");
        b64(d.as_ref())
    }
}

/// A DPoP proof JWT being built (RFC 9449 §4.2); [`sign`](Self::sign) writes it. Each
/// setter changes one thing, to make the proofs a resource server must refuse.
///
/// ```
/// use mcp_oauth::testing::DpopKey;
///
/// let key = DpopKey::generate();
/// let uri = "http://127.0.0.1:8080/mcp";
/// let stale = key.proof("POST", uri).access_token("t").iat_offset(-3600).sign();
/// let wrong_method = key.proof("GET", uri).access_token("t").sign();
/// let leaks_its_key = key.proof("POST", uri).access_token("t").with_private_key().sign();
/// let unsigned = key.proof("POST", uri).access_token("t").alg_none().sign();
/// assert!(unsigned.ends_with('.'));
/// # let _ = (stale, wrong_method, leaks_its_key);
/// ```
#[derive(Debug, Clone)]
pub struct DpopProof {
    key: DpopKey,
    header: Map<String, Value>,
    claims: Map<String, Value>,
    signing: ProofSigning,
}

#[derive(Debug, Clone)]
enum ProofSigning {
    Es256,
    None,
    Hs256(Vec<u8>),
}

impl DpopProof {
    /// Binds the proof to `token`: `ath` = base64url(SHA-256(token)) (RFC 9449 §4.2).
    ///
    /// ```
    /// # let key = mcp_oauth::testing::DpopKey::generate();
    /// let proof = key.proof("GET", "http://127.0.0.1/mcp").access_token("t").sign();
    /// # assert!(!proof.is_empty());
    /// ```
    pub fn access_token(self, token: &str) -> Self {
        let hash = digest::digest(&digest::SHA256, token.as_bytes());
        self.claim("ath", json!(b64(hash.as_ref())))
    }

    /// Sets the `nonce` claim: the value of the last `DPoP-Nonce` header the server sent
    /// (RFC 9449 §9).
    ///
    /// ```
    /// use mcp_oauth::testing::DpopKey;
    ///
    /// let proof = DpopKey::generate()
    ///     .proof("POST", "http://127.0.0.1:8080/mcp")
    ///     .nonce("n-1")
    ///     .sign();
    /// assert_eq!(proof.split('.').count(), 3);
    /// ```
    pub fn nonce(self, nonce: &str) -> Self {
        self.claim("nonce", Value::String(nonce.to_owned()))
    }

    /// Moves `iat` by `seconds` from now (negative: in the past).
    ///
    /// ```
    /// # let key = mcp_oauth::testing::DpopKey::generate();
    /// let future = key.proof("GET", "http://127.0.0.1/mcp").iat_offset(600).sign();
    /// # assert!(!future.is_empty());
    /// ```
    pub fn iat_offset(self, seconds: i64) -> Self {
        let iat = unix_now().saturating_add_signed(seconds);
        self.claim("iat", json!(iat))
    }

    /// Sets the `jti` (to replay one, or send two proofs with the same).
    ///
    /// ```
    /// # let key = mcp_oauth::testing::DpopKey::generate();
    /// let proof = key.proof("GET", "http://127.0.0.1/mcp").jti("same").sign();
    /// # assert!(!proof.is_empty());
    /// ```
    pub fn jti(self, jti: &str) -> Self {
        self.claim("jti", json!(jti))
    }

    /// Sets `typ` (the right one is `dpop+jwt`).
    ///
    /// ```
    /// # let key = mcp_oauth::testing::DpopKey::generate();
    /// let proof = key.proof("GET", "http://127.0.0.1/mcp").typ("JWT").sign();
    /// # assert!(!proof.is_empty());
    /// ```
    pub fn typ(mut self, typ: &str) -> Self {
        self.header.insert("typ".into(), json!(typ));
        self
    }

    /// Puts the private key (`d`) in the header's `jwk` (RFC 9449 §4.3 check 7 refuses it).
    ///
    /// ```
    /// # let key = mcp_oauth::testing::DpopKey::generate();
    /// let proof = key.proof("GET", "http://127.0.0.1/mcp").with_private_key().sign();
    /// # assert!(!proof.is_empty());
    /// ```
    pub fn with_private_key(mut self) -> Self {
        let d = self.key.private_d();
        if let Some(Value::Object(jwk)) = self.header.get_mut("jwk") {
            jwk.insert("d".into(), json!(d));
        }
        self
    }

    /// `alg: none` and an empty signature.
    ///
    /// ```
    /// # let key = mcp_oauth::testing::DpopKey::generate();
    /// assert!(key.proof("GET", "http://127.0.0.1/mcp").alg_none().sign().ends_with('.'));
    /// ```
    pub fn alg_none(mut self) -> Self {
        self.signing = ProofSigning::None;
        self
    }

    /// `alg: HS256`, an HMAC with `secret` (a symmetric algorithm is never a proof).
    ///
    /// ```
    /// # let key = mcp_oauth::testing::DpopKey::generate();
    /// let proof = key.proof("GET", "http://127.0.0.1/mcp").hs256(b"secret").sign();
    /// # assert!(!proof.is_empty());
    /// ```
    pub fn hs256(mut self, secret: &[u8]) -> Self {
        self.signing = ProofSigning::Hs256(secret.to_vec());
        self
    }

    /// Sets any header member (`None` removes it).
    ///
    /// ```
    /// # let key = mcp_oauth::testing::DpopKey::generate();
    /// let no_key = key.proof("GET", "http://127.0.0.1/mcp").header("jwk", None).sign();
    /// # assert!(!no_key.is_empty());
    /// ```
    pub fn header(mut self, name: &str, value: Option<Value>) -> Self {
        match value {
            Some(v) => self.header.insert(name.into(), v),
            None => self.header.remove(name),
        };
        self
    }

    /// Sets any claim (`htm`, `htu`, `ath`, ...).
    ///
    /// ```
    /// # let key = mcp_oauth::testing::DpopKey::generate();
    /// let proof = key.proof("GET", "http://127.0.0.1/mcp").claim("ath", serde_json::json!("x")).sign();
    /// # assert!(!proof.is_empty());
    /// ```
    pub fn claim(mut self, name: &str, value: Value) -> Self {
        self.claims.insert(name.into(), value);
        self
    }

    /// Removes a claim.
    ///
    /// ```
    /// # let key = mcp_oauth::testing::DpopKey::generate();
    /// let proof = key.proof("GET", "http://127.0.0.1/mcp").without_claim("jti").sign();
    /// # assert!(!proof.is_empty());
    /// ```
    pub fn without_claim(mut self, name: &str) -> Self {
        self.claims.remove(name);
        self
    }

    /// The compact JWS (`header.claims.signature`).
    ///
    /// ```
    /// # let key = mcp_oauth::testing::DpopKey::generate();
    /// assert_eq!(key.proof("GET", "http://127.0.0.1/mcp").sign().split('.').count(), 3);
    /// ```
    pub fn sign(self) -> String {
        let mut header = self.header;
        let alg = match &self.signing {
            ProofSigning::Es256 => "ES256",
            ProofSigning::None => "none",
            ProofSigning::Hs256(_) => "HS256",
        };
        header.insert("alg".into(), json!(alg));
        let input = format!(
            "{}.{}",
            b64(Value::Object(header).to_string().as_bytes()),
            b64(Value::Object(self.claims).to_string().as_bytes())
        );
        let signature = match &self.signing {
            ProofSigning::Es256 => self
                .key
                .0
                .sign(&SystemRandom::new(), input.as_bytes())
                .expect("ECDSA signing failed")
                .as_ref()
                .to_vec(),
            ProofSigning::None => Vec::new(),
            ProofSigning::Hs256(secret) => keys::hmac(Algorithm::HS256, secret, input.as_bytes()),
        };
        format!("{input}.{}", b64(&signature))
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The key a token request proves it holds (RFC 9449 §5): `None` without a `DPoP`
/// header; the proof checked as a resource server would (one header, `htm` POST, `htu`
/// the token endpoint, no `ath`), without a replay cache.
pub(crate) fn token_request_key(
    req: &actix_web::HttpRequest,
    token_endpoint: &str,
) -> Result<Option<String>, &'static str> {
    use crate::DpopRejection;
    use crate::validate::dpop::{DEFAULT_DPOP_ALGORITHMS, DEFAULT_DPOP_WINDOW};
    use crate::validate::dpop::{Expected, ProofRules, RequestUri};

    if !req.headers().contains_key("dpop") {
        return Ok(None);
    }
    let proof = crate::bearer::dpop_proof(req.headers()).map_err(|why| why.description())?;
    let uri = url::Url::parse(token_endpoint).map_err(|_| "bad token endpoint")?;
    let rules = ProofRules {
        algorithms: DEFAULT_DPOP_ALGORITHMS.to_vec(),
        window: DEFAULT_DPOP_WINDOW,
        leeway: std::time::Duration::from_secs(5),
    };
    let expected = Expected {
        method: "POST",
        uri: RequestUri {
            origin: &uri,
            path: uri.path(),
        },
        token: None,
        key: None,
    };
    rules
        .verify(proof, &expected, unix_now(), |_| Ok::<_, DpopRejection>(()))
        .map(|proof| Some(proof.jkt))
        .map_err(|why| why.description())
}

/// The DPoP nonce (RFC 9449 §9) a resource configured with `resource` and
/// [`dpop_nonce_secret(secret)`](crate::McpOAuthBuilder::dpop_nonce_secret) would have made
/// at `made_at`: for tests of a nonce's age (a renewed or an expired one) and of a fleet
/// sharing the secret, without waiting.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use mcp_oauth::testing::dpop_nonce;
///
/// let secret = [7u8; 32];
/// let then = SystemTime::now() - Duration::from_secs(600);
/// let nonce = dpop_nonce(&secret, "https://mcp.example.com/mcp", then);
/// assert_eq!(nonce, dpop_nonce(&secret, "https://mcp.example.com/other", then));
/// assert_ne!(nonce, dpop_nonce(&secret, "https://other.example.com/mcp", then));
/// ```
pub fn dpop_nonce(secret: &[u8], resource: &str, made_at: SystemTime) -> String {
    let origin = crate::resource::ResourceParts::split(resource).origin;
    let origin = url::Url::parse(origin).map_or_else(|_| origin.to_owned(), String::from);
    let at = made_at
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    crate::validate::dpop::nonce::Nonces::new(Some(secret), Duration::from_secs(1), &origin)
        .issue(at)
}
