//! Server-provided DPoP nonces at the protected resource (RFC 9449 §9, §8.2): a proof
//! without a current nonce is 401 `use_dpop_nonce` with a `DPoP-Nonce` header, an ageing
//! nonce is replaced on the successful response, and a fleet sharing the secret accepts
//! its instances' nonces.

use std::time::{Duration, SystemTime};

use mcp_oauth::testing::{DpopKey, dpop_nonce};
use mcp_oauth::{McpOAuth, McpOAuthBuilder};

use crate::common::*;

const SECRET: &[u8] = b"a nonce secret shared by a fleet!";
const ALGS: &str = "ES256 ES384 EdDSA PS256 PS384 PS512 RS256 RS384 RS512";

fn with_nonces(b: McpOAuthBuilder) -> McpOAuthBuilder {
    b.dpop_nonces(true).dpop_nonce_secret(SECRET)
}

/// `GET /dpop` with a bound `token` and a fresh proof by `key`, carrying `nonce`.
async fn get(srv: &TestServer, key: &DpopKey, token: &str, nonce: Option<&str>) -> Reply {
    get_as(srv, &srv.base, key, token, nonce).await
}

/// [`get`] of a server reached as `base` (`htu` is made from it).
async fn get_as(
    srv: &TestServer,
    base: &str,
    key: &DpopKey,
    token: &str,
    nonce: Option<&str>,
) -> Reply {
    let mut proof = key
        .proof("GET", &format!("{base}/dpop"))
        .access_token(token);
    if let Some(nonce) = nonce {
        proof = proof.nonce(nonce);
    }
    send(
        srv.get("/dpop")
            .insert_header(("Authorization", format!("DPoP {token}")))
            .insert_header(("DPoP", proof.sign())),
    )
    .await
}

/// A `use_dpop_nonce` refusal (RFC 9449 §9): both challenges, the error in the DPoP one,
/// the nonce to use in `DPoP-Nonce` (exposed to browser clients); that nonce.
fn assert_use_nonce(srv: &TestServer, reply: &Reply) -> String {
    assert_eq!(reply.status, 401, "{}", reply.text());
    let dpop = format!(
        "DPoP algs=\"{ALGS}\", error=\"use_dpop_nonce\", error_description=\"The resource server requires a nonce in the DPoP proof\", resource_metadata=\"{}\"",
        srv.metadata_url
    );
    assert_eq!(reply.challenges(), [srv.no_token_challenge(None), dpop]);
    assert_eq!(reply.json()["error"], "use_dpop_nonce");
    assert_eq!(
        reply.header("access-control-expose-headers"),
        Some("WWW-Authenticate, DPoP-Nonce")
    );
    reply.header("dpop-nonce").expect("a DPoP-Nonce").to_owned()
}

// §9: the first proof has no nonce and is refused with one; the retry carrying it is
// admitted, and a fresh nonce is not replaced.
#[actix_web::test]
async fn a_proof_without_a_nonce_is_refused_with_one_and_the_retry_admitted() {
    let srv = TestServer::with(with_nonces);
    let key = DpopKey::generate();
    let token = srv.token().subject("alice").dpop_bound(&key).sign();
    let nonce = assert_use_nonce(&srv, &get(&srv, &key, &token, None).await);
    let ok = get(&srv, &key, &token, Some(&nonce)).await;
    assert_eq!(assert_admitted(&ok)["jkt"], key.thumbprint());
    assert_eq!(ok.header("dpop-nonce"), None, "a fresh nonce is kept");
    // Another key may use the same nonce: it names the server's moment, not the client.
    let other = DpopKey::generate();
    let token = srv.token().dpop_bound(&other).sign();
    assert_admitted(&get(&srv, &other, &token, Some(&nonce)).await);
    // A nonce of our own making, but not a nonce: refused with a real one.
    let made_up = nonce.chars().rev().collect::<String>();
    assert_use_nonce(&srv, &get(&srv, &other, &token, Some(&made_up)).await);
}

// §8.2: past half its lifetime a nonce still works and the response offers the next;
// past its lifetime it is refused.
#[actix_web::test]
async fn an_ageing_nonce_is_replaced_and_an_old_one_refused() {
    let srv = TestServer::with(|b| with_nonces(b).dpop_nonce_lifetime(Duration::from_secs(100)));
    let key = DpopKey::generate();
    let token = srv.token().dpop_bound(&key).sign();
    let ago = |secs| {
        dpop_nonce(
            SECRET,
            &srv.resource,
            SystemTime::now() - Duration::from_secs(secs),
        )
    };
    let ok = get(&srv, &key, &token, Some(&ago(70))).await;
    assert_admitted(&ok);
    let next = ok
        .header("dpop-nonce")
        .expect("an ageing nonce is replaced")
        .to_owned();
    let ok = get(&srv, &key, &token, Some(&next)).await;
    assert_admitted(&ok);
    assert_eq!(ok.header("dpop-nonce"), None);
    // Expired (lifetime 100 s, leeway or not): refused with a new one.
    assert_use_nonce(&srv, &get(&srv, &key, &token, Some(&ago(200))).await);
}

// The nonce is stateless: instances behind one balancer (one configured resource) that
// share the secret accept each other's nonces; one with a key of its own (none set: random
// per process) does not.
#[actix_web::test]
async fn a_fleet_sharing_the_secret_accepts_each_others_nonces() {
    let a = TestServer::with(with_nonces);
    let (issuer, jwks) = (a.auth.issuer().to_owned(), a.auth.jwks_uri());
    let peer = |nonces: fn(McpOAuthBuilder) -> McpOAuthBuilder| {
        let (public, issuer, jwks) = (a.resource.clone(), issuer.clone(), jwks.clone());
        Setup::new().start(move |_, _| {
            nonces(McpOAuth::builder())
                .resource(public)
                .authorization_server(issuer)
                .jwks_uri(jwks)
        })
    };
    let b = peer(with_nonces);
    let key = DpopKey::generate();
    let token = a.token().dpop_bound(&key).sign();
    let nonce = assert_use_nonce(&a, &get(&a, &key, &token, None).await);
    assert_admitted(&get_as(&b, &a.base, &key, &token, Some(&nonce)).await);
    let alone = peer(|b| b.dpop_nonces(true));
    let reply = get_as(&alone, &a.base, &key, &token, Some(&nonce)).await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.json()["error"], "use_dpop_nonce");
}

// Nonces concern proofs only: bearer tokens are served as before.
#[actix_web::test]
async fn bearer_tokens_need_no_nonce() {
    let srv = TestServer::with(with_nonces);
    let ok = send(srv.get("/dpop").bearer(&srv.valid_token())).await;
    assert_admitted(&ok);
    assert_eq!(ok.header("dpop-nonce"), None);
}

// MCP_OAUTH_DPOP_NONCE, _SECRET and _LIFETIME_SECS take effect; bad values are reported.
#[actix_web::test]
async fn the_nonce_settings_come_from_the_environment() {
    let srv = Setup::new().start(|auth, resource| {
        McpOAuthBuilder::from_vars([
            ("MCP_OAUTH_RESOURCE", resource),
            ("MCP_OAUTH_AUTHORIZATION_SERVERS", auth.issuer()),
            ("MCP_OAUTH_JWKS_URI", &auth.jwks_uri()),
            ("MCP_OAUTH_DPOP_NONCE", "true"),
            (
                "MCP_OAUTH_DPOP_NONCE_SECRET",
                std::str::from_utf8(SECRET).unwrap(),
            ),
            ("MCP_OAUTH_DPOP_NONCE_LIFETIME_SECS", "100"),
        ])
    });
    let key = DpopKey::generate();
    let token = srv.token().dpop_bound(&key).sign();
    assert_use_nonce(&srv, &get(&srv, &key, &token, None).await);
    let ago = |secs| {
        dpop_nonce(
            SECRET,
            &srv.resource,
            SystemTime::now() - Duration::from_secs(secs),
        )
    };
    let ok = get(&srv, &key, &token, Some(&ago(70))).await;
    assert_admitted(&ok);
    assert!(ok.header("dpop-nonce").is_some(), "lifetime 100 s: renewed");

    let problems = |extra: &[(&str, &str)]| {
        let mut vars = vec![
            ("MCP_OAUTH_RESOURCE", "https://mcp.example.com/mcp"),
            (
                "MCP_OAUTH_AUTHORIZATION_SERVERS",
                "https://auth.example.com",
            ),
            ("MCP_OAUTH_JWKS_URI", "https://auth.example.com/jwks"),
        ];
        vars.extend_from_slice(extra);
        let err = McpOAuthBuilder::from_vars(vars).build().unwrap_err();
        err.problems()
            .iter()
            .map(|p| format!("{}: {}", p.setting(), p.message()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        problems(&[
            ("MCP_OAUTH_DPOP_NONCE", "true"),
            ("MCP_OAUTH_DPOP_NONCE_SECRET", "short"),
            ("MCP_OAUTH_DPOP_NONCE_LIFETIME_SECS", "5"),
        ]),
        [
            "MCP_OAUTH_DPOP_NONCE_LIFETIME_SECS: 5 s is outside 10 s to 3600 s",
            "MCP_OAUTH_DPOP_NONCE_SECRET: must be at least 32 bytes",
        ]
    );
    assert_eq!(
        problems(&[(
            "MCP_OAUTH_DPOP_NONCE_SECRET",
            std::str::from_utf8(SECRET).unwrap()
        )]),
        ["MCP_OAUTH_DPOP_NONCE_SECRET: is set but DPoP nonces are off (MCP_OAUTH_DPOP_NONCE)"]
    );
    assert_eq!(
        problems(&[("MCP_OAUTH_DPOP_NONCE", "true"), ("MCP_OAUTH_DPOP", "off")]),
        ["MCP_OAUTH_DPOP_NONCE: DPoP nonces need DPoP (MCP_OAUTH_DPOP is off)"]
    );
    assert_eq!(
        problems(&[("MCP_OAUTH_DPOP_NONCE", "sometimes")]),
        ["MCP_OAUTH_DPOP_NONCE: `sometimes` is neither `true` nor `false`"]
    );
}
