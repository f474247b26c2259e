//! A fluent builder of signed (and deliberately broken) access tokens.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::Algorithm;
use serde_json::{Map, Value, json};

use super::introspection::OpaqueKind;
use super::keys::{self, KeyRing};
use super::server::Shared;

/// How the token is signed.
#[derive(Debug, Clone)]
enum Signing {
    /// With the published key for this algorithm.
    Published(Algorithm),
    /// With an RSA key that is not in the JWKS.
    Unpublished(Algorithm),
    /// HMAC with this secret.
    Hmac(Algorithm, Vec<u8>),
    /// HMAC keyed with the RSA public key: the RS/HS confusion attack.
    HmacWithRsaPublicKey,
    /// No signature at all, with this `alg` text (`none`, `None`, ...).
    Unsigned(String),
}

/// Builds a token for [`TestAuthServer`](super::TestAuthServer). Every claim and header
/// member can be set or removed, to make both good tokens and every kind of bad one.
///
/// In the method examples, `header(&token)` and `claims(&token)` are the decoded JSON
/// parts, and `authenticate(&token)` is [`McpOAuth::authenticate`](crate::McpOAuth::authenticate)
/// for `auth.configure(resource)`, run to completion.
///
/// ```
/// # let auth = mcp_oauth::testing::TestAuthServer::start();
/// let expired = auth.token().audience("http://127.0.0.1:8080/mcp").expired().sign();
/// let es256 = auth.token().audience("http://127.0.0.1:8080/mcp").algorithm(mcp_oauth::Algorithm::ES256).sign();
/// let forged = auth.token().audience("http://127.0.0.1:8080/mcp").alg_none("nOnE").sign();
/// # let _ = (expired, es256, forged);
/// ```
#[derive(Clone)]
pub struct TokenBuilder {
    /// The server, for [`opaque`](Self::opaque).
    shared: Arc<Shared>,
    ring: Arc<KeyRing>,
    header: Map<String, Value>,
    claims: Map<String, Value>,
    signing: Signing,
    /// `kid` chosen by the caller (`Some(None)`: no `kid`).
    kid: Option<Option<String>>,
}

impl std::fmt::Debug for TokenBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenBuilder")
            .field("header", &self.header)
            .field("claims", &self.claims)
            .finish_non_exhaustive()
    }
}

pub(crate) fn unix_now() -> i64 {
    now()
}

/// 16 random bytes, base64url: client ids, codes, `jti`.
pub(crate) fn random_id() -> String {
    use aws_lc_rs::rand::SecureRandom as _;
    let mut b = [0u8; 16];
    let _ = aws_lc_rs::rand::SystemRandom::new().fill(&mut b);
    keys::b64(&b)
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl TokenBuilder {
    /// A builder with the server's current keys and its issuer.
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        let ring = shared.state().ring.clone();
        let now = now();
        let mut claims = Map::new();
        claims.insert("iss".into(), json!(shared.issuer));
        claims.insert("sub".into(), json!("test-user"));
        claims.insert("client_id".into(), json!("test-client"));
        claims.insert("iat".into(), json!(now));
        claims.insert("exp".into(), json!(now + 3600));
        claims.insert("jti".into(), json!(random_id()));
        let mut header = Map::new();
        header.insert("typ".into(), json!("at+jwt"));
        Self {
            shared,
            ring,
            header,
            claims,
            signing: Signing::Published(Algorithm::RS256),
            kid: None,
        }
    }

    /// `sub`.
    ///
    /// ```
    /// # let auth = mcp_oauth::testing::TestAuthServer::start();
    /// # fn part(jwt: &str, i: usize) -> serde_json::Value {
    /// #     use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
    /// #     let segment = jwt.split('.').nth(i).unwrap_or_default();
    /// #     let bytes = URL_SAFE_NO_PAD.decode(segment).unwrap_or_default();
    /// #     serde_json::from_slice(&bytes).unwrap_or_default()
    /// # }
    /// # let header = |jwt: &str| part(jwt, 0);
    /// # let claims = |jwt: &str| part(jwt, 1);
    /// let token = auth.token().subject("alice").sign();
    /// assert_eq!(claims(&token)["sub"], "alice");
    /// ```
    pub fn subject(self, sub: &str) -> Self {
        self.claim("sub", json!(sub))
    }
    /// `client_id`.
    ///
    /// ```
    /// # let auth = mcp_oauth::testing::TestAuthServer::start();
    /// # fn part(jwt: &str, i: usize) -> serde_json::Value {
    /// #     use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
    /// #     let segment = jwt.split('.').nth(i).unwrap_or_default();
    /// #     let bytes = URL_SAFE_NO_PAD.decode(segment).unwrap_or_default();
    /// #     serde_json::from_slice(&bytes).unwrap_or_default()
    /// # }
    /// # let header = |jwt: &str| part(jwt, 0);
    /// # let claims = |jwt: &str| part(jwt, 1);
    /// let token = auth.token().client_id("inspector").sign();
    /// assert_eq!(claims(&token)["client_id"], "inspector");
    /// ```
    pub fn client_id(self, client_id: &str) -> Self {
        self.claim("client_id", json!(client_id))
    }
    /// `scope`, space-separated (an empty string removes the claim).
    ///
    /// ```
    /// # let auth = mcp_oauth::testing::TestAuthServer::start();
    /// # fn part(jwt: &str, i: usize) -> serde_json::Value {
    /// #     use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
    /// #     let segment = jwt.split('.').nth(i).unwrap_or_default();
    /// #     let bytes = URL_SAFE_NO_PAD.decode(segment).unwrap_or_default();
    /// #     serde_json::from_slice(&bytes).unwrap_or_default()
    /// # }
    /// # let header = |jwt: &str| part(jwt, 0);
    /// # let claims = |jwt: &str| part(jwt, 1);
    /// let token = auth.token().scope("mcp files:read").sign();
    /// assert_eq!(claims(&token)["scope"], "mcp files:read");
    /// let token = auth.token().scope("mcp").scope("").sign();
    /// assert!(claims(&token).get("scope").is_none());
    /// ```
    pub fn scope(self, scope: &str) -> Self {
        if scope.is_empty() {
            self.without_claim("scope")
        } else {
            self.claim("scope", json!(scope))
        }
    }
    /// `scp` as a JSON array (the Okta shape).
    ///
    /// ```
    /// # use mcp_oauth::{Refusal, TokenRejection};
    /// # let auth = mcp_oauth::testing::TestAuthServer::start();
    /// # let resource = "http://127.0.0.1:8080/mcp";
    /// # let oauth = auth.configure(resource).build()?;
    /// # let authenticate =
    /// #     |token: &str| actix_web::rt::System::new().block_on(oauth.authenticate(token));
    /// let token = auth.token().audience(resource).scp_array(&["mcp", "files:read"]).sign();
    /// let client = authenticate(&token)?;
    /// assert_eq!(client.scopes(), ["mcp", "files:read"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn scp_array(self, scopes: &[&str]) -> Self {
        self.claim("scp", json!(scopes))
    }
    /// `aud` as a string.
    ///
    /// ```
    /// # use mcp_oauth::{Refusal, TokenRejection};
    /// # let auth = mcp_oauth::testing::TestAuthServer::start();
    /// # let resource = "http://127.0.0.1:8080/mcp";
    /// # let oauth = auth.configure(resource).build()?;
    /// # let authenticate =
    /// #     |token: &str| actix_web::rt::System::new().block_on(oauth.authenticate(token));
    /// let token = auth.token().audience(resource).sign();
    /// assert!(authenticate(&token).is_ok());
    /// let token = auth.token().audience("http://127.0.0.1:8080/other").sign();
    /// let err = authenticate(&token).unwrap_err();
    /// assert_eq!(err.refusal(), &Refusal::InvalidToken(TokenRejection::WrongAudience));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn audience(self, aud: &str) -> Self {
        self.claim("aud", json!(aud))
    }
    /// `aud` as an array.
    ///
    /// ```
    /// # use mcp_oauth::{Refusal, TokenRejection};
    /// # let auth = mcp_oauth::testing::TestAuthServer::start();
    /// # let resource = "http://127.0.0.1:8080/mcp";
    /// # let oauth = auth.configure(resource).build()?;
    /// # let authenticate =
    /// #     |token: &str| actix_web::rt::System::new().block_on(oauth.authenticate(token));
    /// let token = auth.token().audiences(&["https://other.example.com", resource]).sign();
    /// let client = authenticate(&token)?; // one accepted audience is enough
    /// assert_eq!(client.audiences(), ["https://other.example.com", resource]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn audiences(self, auds: &[&str]) -> Self {
        self.claim("aud", json!(auds))
    }
    /// `iss` (default: the server's issuer).
    ///
    /// ```
    /// # use mcp_oauth::{Refusal, TokenRejection};
    /// # let auth = mcp_oauth::testing::TestAuthServer::start();
    /// # let resource = "http://127.0.0.1:8080/mcp";
    /// # let oauth = auth.configure(resource).build()?;
    /// # let authenticate =
    /// #     |token: &str| actix_web::rt::System::new().block_on(oauth.authenticate(token));
    /// let token = auth.token().audience(resource).issuer("https://evil.example.com").sign();
    /// let err = authenticate(&token).unwrap_err();
    /// assert_eq!(err.refusal(), &Refusal::InvalidToken(TokenRejection::WrongIssuer));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn issuer(self, iss: &str) -> Self {
        self.claim("iss", json!(iss))
    }
    /// `exp` = now + `d`.
    ///
    /// ```
    /// # let auth = mcp_oauth::testing::TestAuthServer::start();
    /// # fn part(jwt: &str, i: usize) -> serde_json::Value {
    /// #     use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
    /// #     let segment = jwt.split('.').nth(i).unwrap_or_default();
    /// #     let bytes = URL_SAFE_NO_PAD.decode(segment).unwrap_or_default();
    /// #     serde_json::from_slice(&bytes).unwrap_or_default()
    /// # }
    /// # let header = |jwt: &str| part(jwt, 0);
    /// # let claims = |jwt: &str| part(jwt, 1);
    /// use std::time::Duration;
    ///
    /// let token = auth.token().expires_in(Duration::from_secs(300)).sign();
    /// let (iat, exp) = (claims(&token)["iat"].as_i64(), claims(&token)["exp"].as_i64());
    /// let lifetime = exp.zip(iat).map(|(e, i)| e - i);
    /// assert!(matches!(lifetime, Some(300 | 301))); // whole seconds, read at two instants
    /// ```
    pub fn expires_in(self, d: Duration) -> Self {
        self.claim("exp", json!(now() + d.as_secs() as i64))
    }
    /// `exp` ten minutes ago (well past any leeway).
    ///
    /// ```
    /// # use mcp_oauth::{Refusal, TokenRejection};
    /// # let auth = mcp_oauth::testing::TestAuthServer::start();
    /// # let resource = "http://127.0.0.1:8080/mcp";
    /// # let oauth = auth.configure(resource).build()?;
    /// # let authenticate =
    /// #     |token: &str| actix_web::rt::System::new().block_on(oauth.authenticate(token));
    /// let token = auth.token().audience(resource).expired().sign();
    /// let err = authenticate(&token).unwrap_err();
    /// assert_eq!(err.refusal(), &Refusal::InvalidToken(TokenRejection::Expired));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn expired(self) -> Self {
        self.claim("exp", json!(now() - 600))
    }
    /// `nbf` ten minutes from now.
    ///
    /// ```
    /// # use mcp_oauth::{Refusal, TokenRejection};
    /// # let auth = mcp_oauth::testing::TestAuthServer::start();
    /// # let resource = "http://127.0.0.1:8080/mcp";
    /// # let oauth = auth.configure(resource).build()?;
    /// # let authenticate =
    /// #     |token: &str| actix_web::rt::System::new().block_on(oauth.authenticate(token));
    /// let token = auth.token().audience(resource).not_yet_valid().sign();
    /// let err = authenticate(&token).unwrap_err();
    /// assert_eq!(err.refusal(), &Refusal::InvalidToken(TokenRejection::NotYetValid));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn not_yet_valid(self) -> Self {
        self.claim("nbf", json!(now() + 600))
    }
    /// `iat` ten minutes from now.
    ///
    /// ```
    /// # use mcp_oauth::{Refusal, TokenRejection};
    /// # let auth = mcp_oauth::testing::TestAuthServer::start();
    /// # let resource = "http://127.0.0.1:8080/mcp";
    /// # let oauth = auth.configure(resource).build()?;
    /// # let authenticate =
    /// #     |token: &str| actix_web::rt::System::new().block_on(oauth.authenticate(token));
    /// let token = auth.token().audience(resource).issued_in_future().sign();
    /// let err = authenticate(&token).unwrap_err();
    /// assert_eq!(err.refusal(), &Refusal::InvalidToken(TokenRejection::IssuedInFuture));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn issued_in_future(self) -> Self {
        self.claim("iat", json!(now() + 600))
    }
    /// Any claim.
    ///
    /// ```
    /// # let auth = mcp_oauth::testing::TestAuthServer::start();
    /// # fn part(jwt: &str, i: usize) -> serde_json::Value {
    /// #     use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
    /// #     let segment = jwt.split('.').nth(i).unwrap_or_default();
    /// #     let bytes = URL_SAFE_NO_PAD.decode(segment).unwrap_or_default();
    /// #     serde_json::from_slice(&bytes).unwrap_or_default()
    /// # }
    /// # let header = |jwt: &str| part(jwt, 0);
    /// # let claims = |jwt: &str| part(jwt, 1);
    /// use serde_json::json;
    ///
    /// let token = auth.token().claim("tenant_id", json!("acme")).claim("exp", json!("soon")).sign();
    /// assert_eq!(claims(&token)["tenant_id"], "acme");
    /// assert_eq!(claims(&token)["exp"], "soon"); // any value, even a wrong one
    /// ```
    pub fn claim(mut self, name: &str, value: Value) -> Self {
        self.claims.insert(name.to_owned(), value);
        self
    }
    /// Binds the token to a DPoP key: `cnf.jkt` = its RFC 7638 thumbprint (RFC 9449 §6),
    /// in the JWT and in the introspection answer of an [opaque](Self::opaque) token.
    ///
    /// ```
    /// use mcp_oauth::testing::{DpopKey, TestAuthServer};
    /// # fn part(jwt: &str, i: usize) -> serde_json::Value {
    /// #     use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
    /// #     let segment = jwt.split('.').nth(i).unwrap_or_default();
    /// #     let bytes = URL_SAFE_NO_PAD.decode(segment).unwrap_or_default();
    /// #     serde_json::from_slice(&bytes).unwrap_or_default()
    /// # }
    /// let auth = TestAuthServer::start();
    /// let key = DpopKey::generate();
    /// let token = auth.token().dpop_bound(&key).sign();
    /// assert_eq!(part(&token, 1)["cnf"]["jkt"], key.thumbprint());
    /// ```
    pub fn dpop_bound(self, key: &super::DpopKey) -> Self {
        self.claim("cnf", json!({ "jkt": key.thumbprint() }))
    }
    /// Removes a claim (e.g. `exp` or `aud`).
    ///
    /// ```
    /// # use mcp_oauth::{Refusal, TokenRejection};
    /// # let auth = mcp_oauth::testing::TestAuthServer::start();
    /// # let resource = "http://127.0.0.1:8080/mcp";
    /// # let oauth = auth.configure(resource).build()?;
    /// # let authenticate =
    /// #     |token: &str| actix_web::rt::System::new().block_on(oauth.authenticate(token));
    /// let token = auth.token().audience(resource).without_claim("exp").sign();
    /// let err = authenticate(&token).unwrap_err();
    /// assert_eq!(err.refusal(), &Refusal::InvalidToken(TokenRejection::MissingExpiry));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn without_claim(mut self, name: &str) -> Self {
        self.claims.remove(name);
        self
    }

    /// Any header member (e.g. `crit`, `jku`).
    ///
    /// ```
    /// # use mcp_oauth::{Refusal, TokenRejection};
    /// # let auth = mcp_oauth::testing::TestAuthServer::start();
    /// # let resource = "http://127.0.0.1:8080/mcp";
    /// # let oauth = auth.configure(resource).build()?;
    /// # let authenticate =
    /// #     |token: &str| actix_web::rt::System::new().block_on(oauth.authenticate(token));
    /// let token = auth.token().audience(resource).header("crit", serde_json::json!(["exp"])).sign();
    /// let err = authenticate(&token).unwrap_err();
    /// assert_eq!(err.refusal(), &Refusal::InvalidToken(TokenRejection::UnsupportedCritical));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn header(mut self, name: &str, value: Value) -> Self {
        self.header.insert(name.to_owned(), value);
        self
    }
    /// Removes a header member (e.g. `typ`).
    ///
    /// ```
    /// # let auth = mcp_oauth::testing::TestAuthServer::start();
    /// # fn part(jwt: &str, i: usize) -> serde_json::Value {
    /// #     use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
    /// #     let segment = jwt.split('.').nth(i).unwrap_or_default();
    /// #     let bytes = URL_SAFE_NO_PAD.decode(segment).unwrap_or_default();
    /// #     serde_json::from_slice(&bytes).unwrap_or_default()
    /// # }
    /// # let header = |jwt: &str| part(jwt, 0);
    /// # let claims = |jwt: &str| part(jwt, 1);
    /// let token = auth.token().without_header("typ").sign();
    /// assert!(header(&token).get("typ").is_none());
    /// assert_eq!(header(&token)["alg"], "RS256"); // `alg` and `kid` are set by `sign`
    /// ```
    pub fn without_header(mut self, name: &str) -> Self {
        self.header.remove(name);
        self
    }
    /// `typ`.
    ///
    /// ```
    /// # use mcp_oauth::{Refusal, TokenRejection};
    /// # let auth = mcp_oauth::testing::TestAuthServer::start();
    /// # let resource = "http://127.0.0.1:8080/mcp";
    /// # let oauth = auth.configure(resource).build()?;
    /// # let authenticate =
    /// #     |token: &str| actix_web::rt::System::new().block_on(oauth.authenticate(token));
    /// let token = auth.token().audience(resource).typ("dpop+jwt").sign(); // not an access token
    /// let err = authenticate(&token).unwrap_err();
    /// assert_eq!(err.refusal(), &Refusal::InvalidToken(TokenRejection::WrongType));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn typ(self, typ: &str) -> Self {
        self.header("typ", json!(typ))
    }
    /// `kid` (default: the `kid` of the signing key; none with [`hs256`](Self::hs256)).
    ///
    /// ```
    /// # use mcp_oauth::{Refusal, TokenRejection};
    /// # let auth = mcp_oauth::testing::TestAuthServer::start();
    /// # let resource = "http://127.0.0.1:8080/mcp";
    /// # let oauth = auth.configure(resource).build()?;
    /// # let authenticate =
    /// #     |token: &str| actix_web::rt::System::new().block_on(oauth.authenticate(token));
    /// let token = auth.token().audience(resource).kid("no-such-key").sign();
    /// let err = authenticate(&token).unwrap_err();
    /// assert_eq!(err.refusal(), &Refusal::InvalidToken(TokenRejection::UnknownKey));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn kid(mut self, kid: &str) -> Self {
        self.kid = Some(Some(kid.to_owned()));
        self
    }
    /// No `kid` header.
    ///
    /// ```
    /// # let auth = mcp_oauth::testing::TestAuthServer::start();
    /// # fn part(jwt: &str, i: usize) -> serde_json::Value {
    /// #     use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
    /// #     let segment = jwt.split('.').nth(i).unwrap_or_default();
    /// #     let bytes = URL_SAFE_NO_PAD.decode(segment).unwrap_or_default();
    /// #     serde_json::from_slice(&bytes).unwrap_or_default()
    /// # }
    /// # let header = |jwt: &str| part(jwt, 0);
    /// # let claims = |jwt: &str| part(jwt, 1);
    /// let token = auth.token().without_kid().sign();
    /// assert!(header(&token).get("kid").is_none());
    /// ```
    pub fn without_kid(mut self) -> Self {
        self.kid = Some(None);
        self
    }

    /// Sign with the published key for `alg` (RS*, PS*, ES256, ES384, EdDSA).
    /// An HS* algorithm makes [`sign`](Self::sign) panic: use [`hs256`](Self::hs256).
    ///
    /// ```
    /// # use mcp_oauth::{Refusal, TokenRejection};
    /// # let auth = mcp_oauth::testing::TestAuthServer::start();
    /// # let resource = "http://127.0.0.1:8080/mcp";
    /// # let oauth = auth.configure(resource).build()?;
    /// # let authenticate =
    /// #     |token: &str| actix_web::rt::System::new().block_on(oauth.authenticate(token));
    /// use mcp_oauth::Algorithm;
    /// # let header = |jwt: &str| -> serde_json::Value {
    /// #     use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
    /// #     let segment = jwt.split('.').next().unwrap_or_default();
    /// #     let bytes = URL_SAFE_NO_PAD.decode(segment).unwrap_or_default();
    /// #     serde_json::from_slice(&bytes).unwrap_or_default()
    /// # };
    ///
    /// let token = auth.token().audience(resource).algorithm(Algorithm::ES256).sign();
    /// assert_eq!(header(&token)["kid"], "ec256-1");
    /// assert!(authenticate(&token).is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn algorithm(mut self, alg: Algorithm) -> Self {
        self.signing = Signing::Published(alg);
        self
    }
    /// Sign (RS256) with an RSA key that is not published, under the published `kid`.
    ///
    /// ```
    /// # use mcp_oauth::{Refusal, TokenRejection};
    /// # let auth = mcp_oauth::testing::TestAuthServer::start();
    /// # let resource = "http://127.0.0.1:8080/mcp";
    /// # let oauth = auth.configure(resource).build()?;
    /// # let authenticate =
    /// #     |token: &str| actix_web::rt::System::new().block_on(oauth.authenticate(token));
    /// let token = auth.token().audience(resource).signed_by_unpublished_key().sign();
    /// let err = authenticate(&token).unwrap_err();
    /// assert_eq!(err.refusal(), &Refusal::InvalidToken(TokenRejection::BadSignature));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn signed_by_unpublished_key(mut self) -> Self {
        self.signing = Signing::Unpublished(Algorithm::RS256);
        self
    }
    /// Sign with HS256 and a shared secret (no `kid` unless set).
    ///
    /// ```
    /// # let auth = mcp_oauth::testing::TestAuthServer::start();
    /// # fn part(jwt: &str, i: usize) -> serde_json::Value {
    /// #     use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
    /// #     let segment = jwt.split('.').nth(i).unwrap_or_default();
    /// #     let bytes = URL_SAFE_NO_PAD.decode(segment).unwrap_or_default();
    /// #     serde_json::from_slice(&bytes).unwrap_or_default()
    /// # }
    /// # let header = |jwt: &str| part(jwt, 0);
    /// # let claims = |jwt: &str| part(jwt, 1);
    /// let token = auth.token().hs256(b"a shared secret of 32 bytes or more").sign();
    /// assert_eq!(header(&token)["alg"], "HS256");
    /// assert!(header(&token).get("kid").is_none());
    /// ```
    pub fn hs256(mut self, secret: &[u8]) -> Self {
        self.signing = Signing::Hmac(Algorithm::HS256, secret.to_vec());
        self
    }
    /// HS256 keyed with the published RSA public key (RFC 8725 §2.1 attack).
    ///
    /// ```
    /// # use mcp_oauth::{Refusal, TokenRejection};
    /// # let auth = mcp_oauth::testing::TestAuthServer::start();
    /// # let resource = "http://127.0.0.1:8080/mcp";
    /// # let oauth = auth.configure(resource).build()?;
    /// # let authenticate =
    /// #     |token: &str| actix_web::rt::System::new().block_on(oauth.authenticate(token));
    /// let token = auth.token().audience(resource).hs256_with_rsa_public_key().sign(); // HS* never goes with JWKS keys
    /// let err = authenticate(&token).unwrap_err();
    /// assert_eq!(err.refusal(), &Refusal::InvalidToken(TokenRejection::DisallowedAlgorithm));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn hs256_with_rsa_public_key(mut self) -> Self {
        self.signing = Signing::HmacWithRsaPublicKey;
        self
    }
    /// No signature, `alg` set to `alg_text` (`none`, `None`, `nOnE`, ...).
    ///
    /// ```
    /// # use mcp_oauth::{Refusal, TokenRejection};
    /// # let auth = mcp_oauth::testing::TestAuthServer::start();
    /// # let resource = "http://127.0.0.1:8080/mcp";
    /// # let oauth = auth.configure(resource).build()?;
    /// # let authenticate =
    /// #     |token: &str| actix_web::rt::System::new().block_on(oauth.authenticate(token));
    /// let token = auth.token().audience(resource).alg_none("nOnE").sign();
    /// assert!(token.ends_with('.')); // an empty signature
    /// let err = authenticate(&token).unwrap_err(); // refused before `alg` is even read
    /// assert_eq!(err.refusal(), &Refusal::InvalidToken(TokenRejection::Malformed));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn alg_none(mut self, alg_text: &str) -> Self {
        self.signing = Signing::Unsigned(alg_text.to_owned());
        self
    }

    /// The compact JWS.
    ///
    /// ```
    /// # let auth = mcp_oauth::testing::TestAuthServer::start();
    /// # fn part(jwt: &str, i: usize) -> serde_json::Value {
    /// #     use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
    /// #     let segment = jwt.split('.').nth(i).unwrap_or_default();
    /// #     let bytes = URL_SAFE_NO_PAD.decode(segment).unwrap_or_default();
    /// #     serde_json::from_slice(&bytes).unwrap_or_default()
    /// # }
    /// # let header = |jwt: &str| part(jwt, 0);
    /// # let claims = |jwt: &str| part(jwt, 1);
    /// let token = auth.token().sign();
    /// assert_eq!(token.split('.').count(), 3);
    /// assert_eq!(header(&token), serde_json::json!({"typ": "at+jwt", "alg": "RS256", "kid": "rsa-1"}));
    /// assert_eq!(claims(&token)["iss"], auth.issuer());
    /// ```
    pub fn sign(self) -> String {
        let mut header = self.header;
        let (alg_text, default_kid) = match &self.signing {
            Signing::Published(a) | Signing::Unpublished(a) => {
                (alg_name(*a), Some(self.ring.kid_for(*a).to_owned()))
            }
            Signing::Hmac(a, _) => (alg_name(*a), None),
            Signing::HmacWithRsaPublicKey => ("HS256".to_owned(), Some(self.ring.rsa_kid.clone())),
            Signing::Unsigned(text) => (text.clone(), Some(self.ring.rsa_kid.clone())),
        };
        header.insert("alg".into(), json!(alg_text));
        if let Some(kid) = self.kid.unwrap_or(default_kid) {
            header.insert("kid".into(), json!(kid));
        }
        let input = format!(
            "{}.{}",
            keys::b64(Value::Object(header).to_string().as_bytes()),
            keys::b64(Value::Object(self.claims).to_string().as_bytes())
        );
        let signature = match &self.signing {
            Signing::Published(a) => self.ring.sign(*a, input.as_bytes(), false),
            Signing::Unpublished(a) => self.ring.sign(*a, input.as_bytes(), true),
            Signing::Hmac(a, secret) => keys::hmac(*a, secret, input.as_bytes()),
            Signing::HmacWithRsaPublicKey => keys::hmac(
                Algorithm::HS256,
                &self.ring.rsa_public_bytes(),
                input.as_bytes(),
            ),
            Signing::Unsigned(_) => Vec::new(),
        };
        format!("{input}.{}", keys::b64(&signature))
    }
}

impl TokenBuilder {
    /// An opaque access token standing for these claims: 32 random bytes, base64url
    /// (43 characters, no `.`), after the server's
    /// [prefix](super::TestAuthServerBuilder::opaque_token_prefix) if it has one,
    /// registered at the server, which
    /// [introspection](super::TestAuthServer::introspection_client) then reports as
    /// active (with these claims) until it expires or is
    /// [revoked](super::TestAuthServer::revoke). Header and signing settings are
    /// ignored. A JWKS-validating resource server refuses it as malformed.
    ///
    /// The server remembers at most the 131 072 (2¹⁷) most recent opaque tokens:
    /// beyond that the oldest is forgotten and introspects as inactive.
    ///
    /// ```
    /// # let auth = mcp_oauth::testing::TestAuthServer::start();
    /// auth.introspection_client("rs", "rs-secret");
    /// let token = auth.token().audience("http://127.0.0.1:8080/mcp").scope("mcp").opaque();
    /// assert!(!token.contains('.'));
    /// let body: serde_json::Value = actix_web::rt::System::new().block_on(async {
    ///     let mut res = awc::Client::default()
    ///         .post(auth.introspection_endpoint())
    ///         .basic_auth("rs", "rs-secret")
    ///         .send_form(&[("token", token.as_str())])
    ///         .await?;
    ///     Ok::<_, Box<dyn std::error::Error>>(res.json().await?)
    /// })?;
    /// assert_eq!(body["active"], true);
    /// assert_eq!(body["scope"], "mcp");
    /// assert_eq!(body["aud"], "http://127.0.0.1:8080/mcp");
    /// assert_eq!(body["token_type"], "Bearer");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn opaque(self) -> String {
        self.shared.issue_opaque(self.claims, OpaqueKind::Access)
    }

    /// An opaque *refresh* token standing for these claims, registered like
    /// [`opaque`](Self::opaque): introspection reports it active with
    /// `"token_type": "refresh_token"` (whatever the `token_type_hint`: a server that does
    /// not find a token where the hint says looks everywhere, RFC 7662 §2.1). A resource
    /// server must refuse it as a bearer access token.
    ///
    /// ```
    /// use mcp_oauth::{McpOAuth, Refusal, TokenRejection, Validation};
    /// # let auth = mcp_oauth::testing::TestAuthServer::start();
    /// auth.introspection_client("rs", "rs-secret");
    /// let resource = "http://127.0.0.1:8080/mcp";
    /// let oauth = McpOAuth::builder()
    ///     .resource(resource)
    ///     .authorization_server(auth.issuer())
    ///     .validation(Validation::Introspection)
    ///     .introspection_endpoint(auth.introspection_endpoint())
    ///     .introspection_client("rs", "rs-secret")
    ///     .build()?;
    /// let refresh = auth.token().audience(resource).refresh_token();
    /// let err = actix_web::rt::System::new().block_on(oauth.authenticate(&refresh)).unwrap_err();
    /// assert_eq!(err.refusal(), &Refusal::InvalidToken(TokenRejection::WrongType));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn refresh_token(self) -> String {
        self.shared.issue_opaque(self.claims, OpaqueKind::Refresh)
    }
}

fn alg_name(alg: Algorithm) -> String {
    format!("{alg:?}")
}
