//! Tokens the `testing` signer did not make. Every other test's tokens are signed by
//! `mcp_oauth::testing` and verified by `mcp_oauth`: here `jsonwebtoken` signs, with keys
//! of the test's own published through the JWKS, and the middleware must accept them
//! end to end. And a token that brings its own key in its header (`jwk`, `x5c`) or points
//! at one (`x5u`), signed by that key under a published `kid`, must be refused without
//! fetching anything (RFC 8725 §3.10, RFC 9068 §4: keys come from the issuer's JWKS only).
//! (The RFC 7515 / RFC 8037 published examples are verified by `jwt.rs`'s unit tests.)

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

use crate::common::*;

/// The Ed25519 key of RFC 8037 Appendix A.1 (`d` = `nWGxne_9...`), as PKCS #8: the fixed
/// prefix `302e020100300506032b657004220420` (RFC 8410 §7) followed by `d`.
const RFC8037_PKCS8: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g
-----END PRIVATE KEY-----
";
/// Its public key, RFC 8037 Appendix A.2.
const RFC8037_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

/// An EC P-256 key made for these tests:
/// `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out es256.pem`;
/// its public point is the last 64 bytes of
/// `openssl pkey -in es256.pem -pubout -outform DER` (x, then y).
const ES256_PKCS8: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQggwkuMBj22WnaO6f/
LO07nXAsUYIVb+hU+gFngyJkFgKhRANCAATGT/xkX19mHhLz/3vVz2nNIE8JAOCc
02aHhktWzLkhW8M7NkWDvQYHbzNcoiPUnMw/aQwGte7honx7/mpVeAWM
-----END PRIVATE KEY-----
";
const ES256_X: &str = "xk_8ZF9fZh4S8_971c9pzSBPCQDgnNNmh4ZLVsy5IVs";
const ES256_Y: &str = "wzs2RYO9BgdvM1yiI9SczD9pDAa17uGifHv-alV4BYw";

/// The attacker's Ed25519 key (`openssl genpkey -algorithm ed25519 -out attacker.pem`),
/// its public key (the last 32 bytes of `openssl pkey -in attacker.pem -pubout -outform
/// DER`), and a self-signed certificate for it, DER in standard base64 as `x5c` carries it
/// (`openssl req -x509 -new -key attacker.pem -subj /CN=attacker.example -days 36500
/// -outform DER -out attacker.der`).
const ATTACKER_PKCS8: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEINnbEHWyiW4SzknzPEkDaQtU/nw7tIIWjSzh9yM9u2dX
-----END PRIVATE KEY-----
";
const ATTACKER_X: &str = "8N218zUfpYP3PWhknsjUm2ViF2orcDuvEkn9Ql3iQbM";
const ATTACKER_CERT: &str = "MIIBTDCB/6ADAgECAhRaAzAEOFyQBZnIe7NRwEJeHPU0dTAFBgMrZXAwGzEZMBcGA1UEAwwQYXR0YWNrZXIuZXhhbXBsZTAgFw0yNjExMjkxMTQ4MjdaGA8yMTI2MTEwNTExNDgyN1owGzEZMBcGA1UEAwwQYXR0YWNrZXIuZXhhbXBsZTAqMAUGAytlcAMhAPDdtfM1H6WD9z1oZJ7I1JtlYhdqK3A7rxJJ/UJd4kGzo1MwUTAdBgNVHQ4EFgQUGwN61La85SBiXy736obVxw9fbh4wHwYDVR0jBBgwFoAUGwN61La85SBiXy736obVxw9fbh4wDwYDVR0TAQH/BAUwAwEB/zAFBgMrZXADQQAyEvINlhJ5N7yX3mBzWvN1MLeydVbNKFJ4rFaRP3BU0LrYDKQoSq60MMVQnecZP9mjswfDb5d4xA5UBgghk0IO";

/// The `kid` under which the test authorization server publishes its Ed25519 key.
const PUBLISHED_ED25519_KID: &str = "ed25519-1";

/// The claims of a valid access token for `srv` (RFC 9068 §2.2).
fn claims(srv: &TestServer) -> Value {
    let now = now();
    json!({
        "iss": srv.auth.issuer(),
        "sub": "outsider",
        "aud": srv.resource,
        "client_id": "outside-client",
        "scope": "mcp",
        "iat": now,
        "exp": now + 600,
        "jti": format!("outside-{now}"),
    })
}

/// A header for `alg` naming `kid` (`typ: JWT`, `jsonwebtoken`'s default).
fn header(alg: Algorithm, kid: &str) -> Header {
    let mut header = Header::new(alg);
    header.kid = Some(kid.to_owned());
    header
}

// Independent crypto: `jsonwebtoken::encode` signs (Ed25519 with the RFC 8037 key, ES256
// with a key made by OpenSSL), the keys are published in the JWKS the middleware
// discovers, and the tokens are admitted like any other; a flipped signature bit is not.
#[actix_web::test]
async fn tokens_signed_by_jsonwebtoken_are_accepted_end_to_end() {
    let srv = TestServer::discovered();
    srv.auth.publish_key(json!({
        "kty": "OKP", "crv": "Ed25519", "use": "sig", "kid": "outside-ed25519", "x": RFC8037_X,
    }));
    srv.auth.publish_key(json!({
        "kty": "EC", "crv": "P-256", "use": "sig", "kid": "outside-es256",
        "x": ES256_X, "y": ES256_Y,
    }));
    let ed25519 = EncodingKey::from_ed_pem(RFC8037_PKCS8.as_bytes()).unwrap();
    let es256 = EncodingKey::from_ec_pem(ES256_PKCS8.as_bytes()).unwrap();
    for (alg, kid, key) in [
        (Algorithm::EdDSA, "outside-ed25519", &ed25519),
        (Algorithm::ES256, "outside-es256", &es256),
    ] {
        let token = encode(&header(alg, kid), &claims(&srv), key).unwrap();
        let body = assert_admitted(&srv.post_mcp(&token).await);
        assert_eq!(body["subject"], "outsider", "{alg:?}");
        assert_eq!(body["client_id"], "outside-client", "{alg:?}");
        assert_eq!(body["scopes"], json!(["mcp"]), "{alg:?}");

        // The last signature character carries whole bits either way: change its first.
        let (signed, signature) = token.rsplit_once('.').unwrap();
        let mut flipped = signature.as_bytes().to_vec();
        flipped[0] = if flipped[0] == b'A' { b'B' } else { b'A' };
        let tampered = format!("{signed}.{}", String::from_utf8(flipped).unwrap());
        srv.assert_invalid_token(
            &srv.post_mcp(&tampered).await,
            "The token signature is invalid",
        );
    }
    assert_eq!(srv.auth.jwks_requests(), 1);
}

// RFC 8725 §3.10, RFC 9068 §4: a key that comes with the token is the attacker's word.
// Each token below is signed by the attacker's key and names the issuer's published
// Ed25519 `kid`; the key travels in `jwk`, in `x5c` (a certificate for it), or at `x5u`
// (a URL where a listener counts connections). All are 401 `invalid_token`, and neither
// the JWKS nor the metadata nor the `x5u` URL is fetched.
#[actix_web::test]
async fn a_key_carried_or_pointed_to_by_the_token_is_never_used() {
    let srv = TestServer::discovered();
    let x5u = HeldPort::bind();
    assert_admitted(&srv.post_mcp(&srv.valid_token()).await);
    let (jwks, metadata) = (srv.auth.jwks_requests(), srv.auth.metadata_requests());
    assert_eq!((jwks, metadata), (1, 1));

    let attacker = EncodingKey::from_ed_pem(ATTACKER_PKCS8.as_bytes()).unwrap();
    let attacker_jwk = json!({"kty": "OKP", "crv": "Ed25519", "x": ATTACKER_X});
    let jwk: Jwk = serde_json::from_value(attacker_jwk.clone()).unwrap();
    let with = |f: &dyn Fn(&mut Header)| {
        let mut h = header(Algorithm::EdDSA, PUBLISHED_ED25519_KID);
        f(&mut h);
        h
    };
    let headers = [
        ("jwk", with(&|h| h.jwk = Some(jwk.clone()))),
        (
            "x5c",
            with(&|h| h.x5c = Some(vec![ATTACKER_CERT.to_owned()])),
        ),
        ("x5u", with(&|h| h.x5u = Some(x5u.url("/attacker.pem")))),
        (
            "all three",
            with(&|h| {
                h.jwk = Some(jwk.clone());
                h.x5c = Some(vec![ATTACKER_CERT.to_owned()]);
                h.x5u = Some(x5u.url("/attacker.pem"));
            }),
        ),
        (
            "jwk without kid",
            with(&|h| {
                h.kid = None;
                h.jwk = Some(jwk.clone());
            }),
        ),
    ];
    for (what, header) in headers {
        let token = encode(&header, &claims(&srv), &attacker).unwrap();
        let reply = srv.post_mcp(&token).await;
        assert_eq!(reply.status, 401, "{what}: {}", reply.text());
        srv.assert_invalid_token(&reply, "The token signature is invalid");
    }
    assert_eq!(srv.auth.jwks_requests(), jwks, "the JWKS was fetched again");
    assert_eq!(srv.auth.metadata_requests(), metadata);
    assert_eq!(x5u.connections(), 0, "the x5u URL was fetched");

    // Control: the same token is good once the issuer itself publishes the key, so the
    // refusals above were about where the key came from, nothing else.
    let mut published = attacker_jwk;
    published["kid"] = json!("now-published");
    srv.auth.publish_key(published);
    let token = encode(
        &with(&|h| {
            h.kid = Some("now-published".into());
            h.jwk = Some(jwk.clone());
        }),
        &claims(&srv),
        &attacker,
    )
    .unwrap();
    assert_admitted(&srv.post_mcp(&token).await);
}
