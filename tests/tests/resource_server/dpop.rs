//! DPoP-bound tokens (RFC 9449) at the protected resource: `Authorization: DPoP` with one
//! `DPoP` proof (§4.3, §7.1), the binding `cnf.jkt` (§6) in JWT and introspection mode,
//! the challenges (§7.1), the modes, and the test authorization server's bound tokens (§5).

use std::time::Duration;

use mcp_oauth::testing::{DpopKey, DpopProof};
use mcp_oauth::{DpopMode, McpOAuthBuilder};
use serde_json::{Value, json};

use crate::common::*;

const ALGS: &str = "ES256 ES384 EdDSA PS256 PS384 PS512 RS256 RS384 RS512";

/// `GET /dpop` with `Authorization: DPoP <token>` and each of `proofs` as a `DPoP` header.
async fn get_dpop(srv: &TestServer, token: &str, proofs: &[&str]) -> Reply {
    let mut req = srv
        .get("/dpop")
        .insert_header(("Authorization", format!("DPoP {token}")));
    for proof in proofs {
        req = req.append_header(("DPoP", *proof));
    }
    send(req).await
}

/// A good proof for `GET /dpop` of `srv` with `token`.
fn proof(srv: &TestServer, key: &DpopKey, token: &str) -> DpopProof {
    key.proof("GET", &srv.url("/dpop")).access_token(token)
}

/// Both challenges of a refused proof (RFC 9449 §7.1): a `Bearer` one without error, then
/// the `DPoP` one with `invalid_dpop_proof`; the JSON body says the same.
fn assert_invalid_proof(srv: &TestServer, reply: &Reply, description: &str) {
    assert_eq!(reply.status, 401, "{}", reply.text());
    let challenges = reply.challenges();
    let dpop = format!(
        "DPoP algs=\"{ALGS}\", error=\"invalid_dpop_proof\", error_description=\"{description}\", resource_metadata=\"{}\"",
        srv.metadata_url
    );
    assert_eq!(challenges, [srv.no_token_challenge(None), dpop]);
    assert_eq!(
        reply.json(),
        json!({"error": "invalid_dpop_proof", "error_description": description})
    );
}

fn admitted(reply: &Reply) -> Value {
    assert_admitted(reply)
}

// §7.1: a bound JWT with a good proof by its key is admitted, sender-constrained.
#[actix_web::test]
async fn a_bound_jwt_with_a_proof_by_its_key_is_admitted_as_sender_constrained() {
    let srv = TestServer::start();
    let key = DpopKey::generate();
    let token = srv.token().subject("alice").dpop_bound(&key).sign();
    let who = admitted(&get_dpop(&srv, &token, &[&proof(&srv, &key, &token).sign()]).await);
    assert_eq!(who["subject"], "alice");
    assert_eq!(who["sender_constrained"], true);
    assert_eq!(who["jkt"], key.thumbprint());
    // A plain bearer token is unchanged by the default mode.
    let who = admitted(&send(srv.get("/dpop").bearer(&srv.valid_token())).await);
    assert_eq!(who["sender_constrained"], false);
    assert_eq!(who["jkt"], Value::Null);
}

// §4.3 checks 1-12 and §7.1 (key binding): each broken proof is 401 invalid_dpop_proof.
#[actix_web::test]
async fn each_broken_proof_is_401_invalid_dpop_proof() {
    let srv = TestServer::start();
    let key = DpopKey::generate();
    let token = srv.token().dpop_bound(&key).sign();
    let good = || proof(&srv, &key, &token);
    let other = DpopKey::generate();
    let cases: Vec<(String, &str)> = vec![
        (
            key.proof("POST", &srv.url("/dpop"))
                .access_token(&token)
                .sign(),
            "The DPoP proof htm is not the request method",
        ),
        (
            key.proof("GET", &srv.url("/mcp"))
                .access_token(&token)
                .sign(),
            "The DPoP proof htu is not the request URI",
        ),
        (
            good().iat_offset(-3600).sign(),
            "The DPoP proof iat is outside the accepted window",
        ),
        (
            good().iat_offset(3600).sign(),
            "The DPoP proof iat is outside the accepted window",
        ),
        (
            key.proof("GET", &srv.url("/dpop"))
                .access_token("another token")
                .sign(),
            "The DPoP proof ath does not match the access token",
        ),
        (
            good().with_private_key().sign(),
            "The DPoP proof jwk contains private key material",
        ),
        (good().alg_none().sign(), "The DPoP proof is malformed"),
        (
            good().hs256(b"a shared secret of 32 bytes or more").sign(),
            "The DPoP proof algorithm is not accepted",
        ),
        (
            good().typ("JWT").sign(),
            "The DPoP proof typ is not dpop+jwt",
        ),
        (
            proof(&srv, &other, &token).sign(),
            "The DPoP proof key is not the key the token is bound to",
        ),
    ];
    for (p, description) in cases {
        assert_invalid_proof(&srv, &get_dpop(&srv, &token, &[&p]).await, description);
    }
    let missing = get_dpop(&srv, &token, &[]).await;
    assert_invalid_proof(
        &srv,
        &missing,
        "A DPoP proof is required with a DPoP-bound token",
    );
    let (a, b) = (good().sign(), good().sign());
    let two = get_dpop(&srv, &token, &[&a, &b]).await;
    assert_invalid_proof(&srv, &two, "More than one DPoP header");
    // After all of these, a good proof still works: refusals consumed nothing.
    admitted(&get_dpop(&srv, &token, &[&good().sign()]).await);
}

// §11.1: a proof is accepted once; the token's claims come from the cache, the proof is
// checked on every request.
#[actix_web::test]
async fn the_proof_is_checked_on_every_request_and_a_replay_is_refused() {
    let srv = TestServer::start();
    let key = DpopKey::generate();
    let token = srv.token().dpop_bound(&key).sign();
    let first = proof(&srv, &key, &token).sign();
    admitted(&get_dpop(&srv, &token, &[&first]).await);
    let cached = srv.oauth.cache_len();
    assert_invalid_proof(
        &srv,
        &get_dpop(&srv, &token, &[&first]).await,
        "The DPoP proof was already used",
    );
    // The token is cached: a cache hit still needs a proof, and a new one works.
    assert_eq!(srv.oauth.cache_len(), cached);
    assert_invalid_proof(
        &srv,
        &get_dpop(&srv, &token, &[]).await,
        "A DPoP proof is required with a DPoP-bound token",
    );
    let second = proof(&srv, &key, &token).sign();
    admitted(&get_dpop(&srv, &token, &[&second]).await);
    assert_eq!(srv.auth.jwks_requests(), 1);
}

// §7.2: a bound token without proof (as `Bearer`) is refused; a bearer token with the
// DPoP scheme is refused too. Both challenges come, the error in the challenge of the
// scheme the token came with (§7.1).
#[actix_web::test]
async fn a_bound_token_as_bearer_and_an_unbound_one_as_dpop_are_401_invalid_token() {
    let srv = TestServer::start();
    let key = DpopKey::generate();
    let bound = srv.token().dpop_bound(&key).sign();
    let reply = send(srv.get("/dpop").bearer(&bound)).await;
    let bare_dpop = bare_dpop_challenge(&srv);
    assert_eq!(reply.status, 401, "{}", reply.text());
    let description = "The token is DPoP-bound: send it with the DPoP scheme and a proof";
    assert_eq!(
        reply.challenges(),
        [srv.invalid_token_challenge(description, None), bare_dpop]
    );
    let unbound = srv.valid_token();
    let reply = get_dpop(&srv, &unbound, &[&proof(&srv, &key, &unbound).sign()]).await;
    assert_eq!(reply.status, 401, "{}", reply.text());
    let description = "The token is not DPoP-bound: send it with the Bearer scheme";
    let dpop_error = format!(
        "DPoP algs=\"{ALGS}\", error=\"invalid_token\", error_description=\"{description}\", resource_metadata=\"{}\"",
        srv.metadata_url
    );
    assert_eq!(
        reply.challenges(),
        [srv.no_token_challenge(None), dpop_error]
    );
    // Any token refused with the DPoP scheme: the same shape (here, an expired one).
    let expired = srv.token().dpop_bound(&key).expired().sign();
    let reply = get_dpop(&srv, &expired, &[&proof(&srv, &key, &expired).sign()]).await;
    let challenges = reply.challenges();
    assert_eq!(challenges[0], srv.no_token_challenge(None));
    assert!(
        challenges[1].starts_with(&format!("DPoP algs=\"{ALGS}\", error=\"invalid_token\"")),
        "{challenges:?}"
    );
    // No credentials at all (§7.2, both schemes accepted): both challenges, bare.
    let reply = send(srv.get("/dpop")).await;
    assert_eq!(
        reply.challenges(),
        [srv.no_token_challenge(None), bare_dpop_challenge(&srv)]
    );
    // `authenticate` with a token alone proves no key either.
    let err = srv.oauth.authenticate(&bound).await.unwrap_err();
    assert_eq!(err.refusal().error_code(), Some("invalid_token"));
}

fn bare_dpop_challenge(srv: &TestServer) -> String {
    format!(
        "DPoP algs=\"{ALGS}\", resource_metadata=\"{}\"",
        srv.metadata_url
    )
}

// Configured to: an unbound token with the DPoP scheme and a good proof is admitted, not
// sender-constrained; its proof is still checked.
#[actix_web::test]
async fn an_unbound_token_with_a_proof_is_admitted_when_configured() {
    let srv = TestServer::with(|b| b.dpop_accept_unbound_tokens(true));
    let key = DpopKey::generate();
    let token = srv.valid_token();
    let who = admitted(&get_dpop(&srv, &token, &[&proof(&srv, &key, &token).sign()]).await);
    assert_eq!(who["sender_constrained"], false);
    assert_eq!(who["jkt"], Value::Null);
    let stale = proof(&srv, &key, &token).iat_offset(-3600).sign();
    assert_invalid_proof(
        &srv,
        &get_dpop(&srv, &token, &[&stale]).await,
        "The DPoP proof iat is outside the accepted window",
    );
}

// §7.1: `htu` is compared with the configured resource's origin, not the `Host` header.
#[actix_web::test]
async fn htu_is_the_configured_origin_whatever_the_host_header_says() {
    let srv = TestServer::start();
    let key = DpopKey::generate();
    let token = srv.token().dpop_bound(&key).sign();
    let spoofed = key
        .proof("GET", "http://evil.example/dpop")
        .access_token(&token)
        .sign();
    let req = |p: &str| {
        srv.get("/dpop")
            .insert_header(("Host", "evil.example"))
            .insert_header(("Authorization", format!("DPoP {token}")))
            .insert_header(("DPoP", p.to_owned()))
    };
    assert_invalid_proof(
        &srv,
        &send(req(&spoofed)).await,
        "The DPoP proof htu is not the request URI",
    );
    // Normalised (RFC 3986 §6.2.2): scheme and host case, the query ignored.
    let upper = srv
        .url("/dpop?x=1")
        .replace("http://127.0.0.1", "HTTP://127.0.0.1");
    let good = key.proof("GET", &upper).access_token(&token).sign();
    admitted(&send(req(&good)).await);
}

// §11.1: the window is configurable; the leeway is added to it.
#[actix_web::test]
async fn the_iat_window_is_configurable() {
    let srv = TestServer::with(|b| {
        b.leeway(Duration::ZERO)
            .dpop_proof_window(Duration::from_secs(10))
    });
    let key = DpopKey::generate();
    let token = srv.token().dpop_bound(&key).sign();
    let old = proof(&srv, &key, &token).iat_offset(-40).sign();
    assert_invalid_proof(
        &srv,
        &get_dpop(&srv, &token, &[&old]).await,
        "The DPoP proof iat is outside the accepted window",
    );
    admitted(&get_dpop(&srv, &token, &[&proof(&srv, &key, &token).sign()]).await);
    // With the default window (60 s) and leeway (60 s), the same age passes.
    let default = TestServer::start();
    let token = default.token().dpop_bound(&key).sign();
    let old = proof(&default, &key, &token).iat_offset(-40).sign();
    admitted(&get_dpop(&default, &token, &[&old]).await);
}

// RFC 9728 §2 and RFC 9449 §7.1 with DPoP required: Bearer is no credential, the only
// challenge is DPoP, and the metadata says so.
#[actix_web::test]
async fn required_mode_takes_only_dpop_and_says_so() {
    let srv = TestServer::with(|b| b.dpop(DpopMode::Required));
    let reply = send(srv.get("/dpop").bearer(&srv.valid_token())).await;
    assert_eq!(reply.status, 401);
    assert_eq!(
        reply.challenge(),
        format!(
            "DPoP algs=\"{ALGS}\", resource_metadata=\"{}\"",
            srv.metadata_url
        )
    );
    let key = DpopKey::generate();
    let token = srv.token().dpop_bound(&key).sign();
    let reply = get_dpop(&srv, &token, &[]).await;
    assert_eq!(
        reply.challenge(),
        format!(
            "DPoP algs=\"{ALGS}\", error=\"invalid_dpop_proof\", error_description=\"A DPoP proof is required with a DPoP-bound token\", resource_metadata=\"{}\"",
            srv.metadata_url
        )
    );
    admitted(&get_dpop(&srv, &token, &[&proof(&srv, &key, &token).sign()]).await);
    let metadata = send(srv.get(&format!("{WELL_KNOWN}/mcp"))).await.json();
    assert_eq!(metadata["dpop_bound_access_tokens_required"], true);
    assert_eq!(
        metadata["dpop_signing_alg_values_supported"],
        json!(ALGS.split(' ').collect::<Vec<_>>())
    );
    // Allowed (the default) names the algorithms, and requires nothing; off, neither.
    let allowed = TestServer::start();
    let metadata = send(allowed.get(&format!("{WELL_KNOWN}/mcp"))).await.json();
    assert_eq!(
        metadata["dpop_signing_alg_values_supported"],
        json!(ALGS.split(' ').collect::<Vec<_>>())
    );
    assert!(metadata.get("dpop_bound_access_tokens_required").is_none());
    let off = TestServer::with(|b| b.dpop(DpopMode::Off));
    let metadata = send(off.get(&format!("{WELL_KNOWN}/mcp"))).await.json();
    assert!(metadata.get("dpop_signing_alg_values_supported").is_none());
}

// Off: no proof is read, the DPoP scheme is not a credential, and a binding is not looked
// at (the behaviour before DPoP support).
#[actix_web::test]
async fn off_mode_reads_no_proof() {
    let srv = TestServer::with(|b| b.dpop(DpopMode::Off));
    let key = DpopKey::generate();
    let token = srv.token().dpop_bound(&key).sign();
    let reply = get_dpop(&srv, &token, &[&proof(&srv, &key, &token).sign()]).await;
    srv.assert_no_token(&reply);
    let who = admitted(&send(srv.get("/dpop").bearer(&token)).await);
    assert_eq!(who["sender_constrained"], false);
}

// §6.2: introspection answers carry the binding (`cnf.jkt`, `token_type: DPoP`).
#[actix_web::test]
async fn an_introspected_bound_token_needs_a_proof_by_its_key() {
    let srv = Setup::new().start_introspecting(|b| b);
    let key = DpopKey::generate();
    let token = srv.token().dpop_bound(&key).opaque();
    let who = admitted(&get_dpop(&srv, &token, &[&proof(&srv, &key, &token).sign()]).await);
    assert_eq!(who["jkt"], key.thumbprint());
    let other = DpopKey::generate();
    assert_invalid_proof(
        &srv,
        &get_dpop(&srv, &token, &[&proof(&srv, &other, &token).sign()]).await,
        "The DPoP proof key is not the key the token is bound to",
    );
    let reply = send(srv.get("/dpop").bearer(&token)).await;
    assert_eq!(reply.status, 401);
    assert_eq!(srv.auth.introspection_requests(), 1);
}

// Hybrid validation: a bound JWT checked locally and a bound opaque token introspected,
// each needing a proof by its key.
#[actix_web::test]
async fn in_hybrid_mode_bound_jwts_and_opaque_tokens_both_need_their_key() {
    let srv = Setup::new().start_introspecting(|b| b.validation(mcp_oauth::Validation::Hybrid));
    let key = DpopKey::generate();
    let other = DpopKey::generate();
    for token in [
        srv.token().dpop_bound(&key).sign(),
        srv.token().dpop_bound(&key).opaque(),
    ] {
        let who = admitted(&get_dpop(&srv, &token, &[&proof(&srv, &key, &token).sign()]).await);
        assert_eq!(who["jkt"], key.thumbprint());
        let reply = get_dpop(&srv, &token, &[&proof(&srv, &other, &token).sign()]).await;
        assert_eq!(reply.json()["error"], "invalid_dpop_proof");
        assert_eq!(send(srv.get("/dpop").bearer(&token)).await.status, 401);
    }
    // The JWT never went to the introspection endpoint; the opaque token once.
    assert_eq!(srv.auth.introspection_requests(), 1);
}

// §5: the test authorization server binds a token to the key of the token request's proof.
#[actix_web::test]
async fn the_test_authorization_server_issues_bound_tokens_on_a_proof() {
    let srv = TestServer::start();
    let key = DpopKey::generate();
    let endpoint = srv.auth.token_endpoint();
    let form = [
        ("grant_type", "client_credentials"),
        ("resource", srv.resource.as_str()),
    ];
    let request = |proof: Option<String>| {
        let mut req = srv.client.post(&endpoint);
        if let Some(p) = proof {
            req = req.insert_header(("DPoP", p));
        }
        req.send_form(&form)
    };
    let mut res = request(Some(key.proof("POST", &endpoint).sign()))
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["token_type"], "DPoP");
    let token = body["access_token"].as_str().unwrap().to_owned();
    let who = admitted(&get_dpop(&srv, &token, &[&proof(&srv, &key, &token).sign()]).await);
    assert_eq!(who["jkt"], key.thumbprint());
    assert_eq!(send(srv.get("/dpop").bearer(&token)).await.status, 401);
    // Without a proof: a bearer token, as before.
    let mut res = request(None).await.unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    // A bad proof: 400 invalid_dpop_proof.
    let stale = key.proof("POST", &endpoint).iat_offset(-3600).sign();
    let mut res = request(Some(stale)).await.unwrap();
    assert_eq!(res.status().as_u16(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "invalid_dpop_proof");
}

// The environment: MCP_OAUTH_DPOP, MCP_OAUTH_DPOP_WINDOW_SECS and
// MCP_OAUTH_DPOP_ACCEPT_UNBOUND take effect, and bad values are reported at build.
#[actix_web::test]
async fn the_dpop_settings_come_from_the_environment() {
    let srv = Setup::new().start(|auth, resource| {
        McpOAuthBuilder::from_vars([
            ("MCP_OAUTH_RESOURCE", resource),
            ("MCP_OAUTH_AUTHORIZATION_SERVERS", auth.issuer()),
            ("MCP_OAUTH_JWKS_URI", &auth.jwks_uri()),
            ("MCP_OAUTH_LEEWAY_SECS", "0"),
            ("MCP_OAUTH_DPOP", "required"),
            ("MCP_OAUTH_DPOP_WINDOW_SECS", "10"),
            ("MCP_OAUTH_DPOP_ACCEPT_UNBOUND", "true"),
        ])
    });
    // Required: a bearer token is no credential.
    let reply = send(srv.get("/dpop").bearer(&srv.valid_token())).await;
    assert_eq!(reply.status, 401);
    assert!(
        reply.challenge().starts_with("DPoP algs="),
        "{}",
        reply.challenge()
    );
    // Unbound tokens accepted with a proof; the window is 10 s.
    let key = DpopKey::generate();
    let token = srv.valid_token();
    admitted(&get_dpop(&srv, &token, &[&proof(&srv, &key, &token).sign()]).await);
    let old = proof(&srv, &key, &token).iat_offset(-40).sign();
    assert_invalid_proof_required(&get_dpop(&srv, &token, &[&old]).await);

    let base = |extra: [(&str, &str); 3]| {
        let mut vars = vec![
            ("MCP_OAUTH_RESOURCE", "https://mcp.example.com/mcp"),
            (
                "MCP_OAUTH_AUTHORIZATION_SERVERS",
                "https://auth.example.com",
            ),
            ("MCP_OAUTH_JWKS_URI", "https://auth.example.com/jwks"),
        ];
        vars.extend(extra);
        McpOAuthBuilder::from_vars(vars).build()
    };
    let err = base([
        ("MCP_OAUTH_DPOP", "sometimes"),
        ("MCP_OAUTH_DPOP_WINDOW_SECS", "0"),
        ("MCP_OAUTH_DPOP_ACCEPT_UNBOUND", "maybe"),
    ])
    .unwrap_err();
    let settings: Vec<&str> = err.problems().iter().map(|p| p.setting()).collect();
    assert_eq!(
        settings,
        [
            "MCP_OAUTH_DPOP_ACCEPT_UNBOUND",
            "MCP_OAUTH_DPOP",
            "MCP_OAUTH_DPOP_WINDOW_SECS"
        ]
    );
}

/// With DPoP required, a stale proof: one `DPoP` challenge with `invalid_dpop_proof`.
fn assert_invalid_proof_required(reply: &Reply) {
    assert_eq!(reply.status, 401, "{}", reply.text());
    let challenge = reply.challenge();
    assert!(challenge.starts_with("DPoP algs="), "{challenge}");
    assert!(
        challenge
            .contains("error_description=\"The DPoP proof iat is outside the accepted window\""),
        "{challenge}"
    );
}
