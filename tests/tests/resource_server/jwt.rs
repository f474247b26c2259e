//! JWT access-token validation (RFC 9068 §4, RFC 8725, OAuth 2.1 §5.2): algorithms, format,
//! header members, claims, audiences, leeway, ID tokens, and the symmetric (HS256) mode.
//!
//! The resource servers here are configured as in production, with the resource and the
//! issuer only ([`TestServer::discovered`]): the keys are found through the metadata.

use std::time::Duration;

use mcp_oauth::testing::{TestAuthServer, TokenBuilder};
use mcp_oauth::{Algorithm, McpOAuth, TypPolicy};
use serde_json::json;

use crate::common::*;

/// Asserts a token signed with the published key for `alg` is admitted.
async fn accepts(alg: Algorithm) {
    let srv = TestServer::discovered();
    let token = srv.token().algorithm(alg).sign();
    let body = assert_admitted(&srv.post_mcp(&token).await);
    assert_eq!(body["subject"], "test-user");
    assert_eq!(body["issuer"], srv.auth.issuer());
}

// RFC 9068 §2.1: RS256 MUST be supported.
#[actix_web::test]
async fn valid_rs256_token_is_accepted() {
    accepts(Algorithm::RS256).await;
}

#[actix_web::test]
async fn valid_ps256_token_is_accepted() {
    accepts(Algorithm::PS256).await;
}

#[actix_web::test]
async fn valid_es256_token_is_accepted() {
    accepts(Algorithm::ES256).await;
}

#[actix_web::test]
async fn valid_es384_token_is_accepted() {
    accepts(Algorithm::ES384).await;
}

#[actix_web::test]
async fn valid_eddsa_token_is_accepted() {
    accepts(Algorithm::EdDSA).await;
}

#[actix_web::test]
async fn rs384_rs512_ps384_and_ps512_tokens_are_accepted_by_default() {
    let srv = TestServer::discovered();
    for alg in [
        Algorithm::RS384,
        Algorithm::RS512,
        Algorithm::PS384,
        Algorithm::PS512,
    ] {
        assert_admitted(&srv.post_mcp(&srv.token().algorithm(alg).sign()).await);
    }
}

// RFC 8725 §3.1: an explicit allow-list.
#[actix_web::test]
async fn algorithm_outside_the_configured_list_is_rejected() {
    let srv = TestServer::discovered_with(|b| b.algorithms([Algorithm::RS256]));
    let reply = srv
        .post_mcp(&srv.token().algorithm(Algorithm::ES256).sign())
        .await;
    srv.assert_invalid_token(&reply, "The token signing algorithm is not accepted");
    assert_admitted(&srv.post_mcp(&srv.valid_token()).await);
}

// RFC 9068 §4, RFC 7515 §7.1
#[actix_web::test]
async fn garbage_token_is_401_invalid_token() {
    let srv = TestServer::discovered();
    let reply = srv.post_mcp("garbage").await;
    srv.assert_invalid_token(&reply, "The access token is malformed");
}

// RFC 7515 §7.1: exactly three segments.
#[actix_web::test]
async fn token_cut_to_two_segments_is_malformed() {
    let srv = TestServer::discovered();
    let token = srv.valid_token();
    let (signing_input, _) = token.rsplit_once('.').unwrap();
    srv.assert_invalid_token(
        &srv.post_mcp(signing_input).await,
        "The access token is malformed",
    );
    let five = format!("{token}.abc.def");
    srv.assert_invalid_token(&srv.post_mcp(&five).await, "The access token is malformed");
}

// RFC 9068 §4, RFC 8725 §3.3
#[actix_web::test]
async fn token_with_truncated_signature_is_rejected() {
    let srv = TestServer::discovered();
    let token = srv.valid_token();
    let truncated = &token[..token.len() - 10];
    srv.assert_invalid_token(
        &srv.post_mcp(truncated).await,
        "The token signature is invalid",
    );
}

// RFC 7515 §7.1: only the base64url alphabet, decoding to JSON.
#[actix_web::test]
async fn bad_base64_is_malformed() {
    let srv = TestServer::discovered();
    let token = srv.valid_token();
    let (_, rest) = token.split_once('.').unwrap();
    // `+` and `/` pass the token68 syntax but are not base64url.
    for header in ["eyJhbGciOiJSUzI1NiJ9+/", "a", "bm90IGpzb24"] {
        let forged = format!("{header}.{rest}");
        srv.assert_invalid_token(
            &srv.post_mcp(&forged).await,
            "The access token is malformed",
        );
    }
}

// RFC 9068 §4, RFC 8725 §3.1: `none` in any casing. The builder leaves the signature
// segment empty, which the format check already rejects.
#[actix_web::test]
async fn alg_none_in_any_casing_is_401() {
    let srv = TestServer::discovered();
    for casing in ["none", "None", "NONE", "nOnE"] {
        let token = srv.token().alg_none(casing).sign();
        srv.assert_invalid_token(&srv.post_mcp(&token).await, "The access token is malformed");
    }
    assert_eq!(srv.auth.jwks_requests(), 0);
    assert_eq!(srv.auth.metadata_requests(), 0);
}

// RFC 8725 §3.1: with a signature segment present, the allow-list rejects `none`.
#[actix_web::test]
async fn alg_none_with_a_dummy_signature_is_a_disallowed_algorithm() {
    let srv = TestServer::discovered();
    for casing in ["none", "None", "NONE", "nOnE"] {
        let token = format!("{}AAAA", srv.token().alg_none(casing).sign());
        srv.assert_invalid_token(
            &srv.post_mcp(&token).await,
            "The token signing algorithm is not accepted",
        );
    }
    assert_eq!(srv.auth.jwks_requests(), 0);
    assert_eq!(srv.auth.metadata_requests(), 0);
}

// RFC 8725 §2.1: the RS/HS confusion attack.
#[actix_web::test]
async fn hs256_signed_with_the_rsa_public_key_is_401() {
    let srv = TestServer::discovered();
    let token = srv.token().hs256_with_rsa_public_key().sign();
    srv.assert_invalid_token(
        &srv.post_mcp(&token).await,
        "The token signing algorithm is not accepted",
    );
}

// OpenID Connect Core §10.1.1: an unknown kid triggers one refetch, then fails; a second
// unknown kid within the cooldown fetches nothing.
#[actix_web::test]
async fn unknown_kid_refetches_once_then_is_401() {
    let srv = TestServer::discovered();
    assert_admitted(&srv.post_mcp(&srv.valid_token()).await);
    assert_eq!(srv.auth.jwks_requests(), 1);

    let reply = srv.post_mcp(&srv.token().kid("unknown-1").sign()).await;
    srv.assert_invalid_token(&reply, "The token signing key is unknown");
    assert_eq!(srv.auth.jwks_requests(), 2);

    let reply = srv.post_mcp(&srv.token().kid("unknown-2").sign()).await;
    srv.assert_invalid_token(&reply, "The token signing key is unknown");
    assert_eq!(
        srv.auth.jwks_requests(),
        2,
        "no refetch within the cooldown"
    );
}

// OpenID Connect Core §10.1.1: key rotation is picked up by the unknown-kid refetch, and
// the old key stops working.
#[actix_web::test]
async fn rotated_key_is_accepted_after_refetch() {
    // No validation cache: the old token must be verified again to meet its missing key.
    let srv = TestServer::discovered_with(|b| b.cache_ttl(Duration::ZERO));
    let old = srv.valid_token();
    assert_admitted(&srv.post_mcp(&old).await);
    assert_eq!(srv.auth.jwks_requests(), 1);

    assert_eq!(srv.auth.rotate_keys(), "rsa-2");
    let new = srv.valid_token();
    assert_admitted(&srv.post_mcp(&new).await);
    assert_eq!(srv.auth.jwks_requests(), 2);

    // The old key is no longer published.
    srv.assert_invalid_token(
        &srv.post_mcp(&old).await,
        "The token signing key is unknown",
    );
    assert_eq!(srv.auth.jwks_requests(), 2);
}

#[actix_web::test]
async fn every_rotation_is_picked_up_when_the_cooldown_is_zero() {
    let srv = TestServer::discovered_with(|b| b.jwks_refetch_cooldown(Duration::ZERO));
    assert_admitted(&srv.post_mcp(&srv.valid_token()).await);
    for expected_fetches in [2, 3, 4] {
        srv.auth.rotate_keys();
        assert_admitted(&srv.post_mcp(&srv.valid_token()).await);
        assert_eq!(srv.auth.jwks_requests(), expected_fetches);
    }
}

// RFC 8725 §3.3, §3.10: a published kid does not make another key's signature valid.
#[actix_web::test]
async fn token_signed_by_an_unpublished_key_under_a_published_kid_is_401() {
    let srv = TestServer::discovered();
    let token = srv.token().signed_by_unpublished_key().sign();
    srv.assert_invalid_token(
        &srv.post_mcp(&token).await,
        "The token signature is invalid",
    );
}

// RFC 8725 §3.1: each key is pinned to its algorithm family.
#[actix_web::test]
async fn ec_signature_under_the_rsa_kid_is_a_key_mismatch() {
    let srv = TestServer::discovered();
    let token = srv.token().algorithm(Algorithm::ES256).kid("rsa-1").sign();
    srv.assert_invalid_token(
        &srv.post_mcp(&token).await,
        "The token signing key does not match its algorithm",
    );
}

#[actix_web::test]
async fn token_without_kid_is_verified_by_the_only_key_that_fits_its_alg() {
    let srv = TestServer::discovered();
    assert_admitted(&srv.post_mcp(&srv.token().without_kid().sign()).await);
    let es = srv.token().algorithm(Algorithm::ES384).without_kid().sign();
    assert_admitted(&srv.post_mcp(&es).await);
}

// RFC 9068 §4, RFC 7519 §4.1.4
#[actix_web::test]
async fn expired_token_is_401_invalid_token() {
    let srv = TestServer::discovered();
    srv.assert_invalid_token(
        &srv.post_mcp(&srv.token().expired().sign()).await,
        "The access token expired",
    );
}

// The 401 for a bad token also names the required scopes (RFC 6750 §3).
#[actix_web::test]
async fn expired_token_challenge_names_the_required_scopes() {
    let srv = TestServer::discovered_with(|b| b.required_scopes(["mcp:tools"]));
    let reply = srv
        .post_mcp(&srv.token().scope("mcp:tools").expired().sign())
        .await;
    assert_refusal(
        &reply,
        401,
        &srv.invalid_token_challenge("The access token expired", Some("mcp:tools")),
        "invalid_token",
        "The access token expired",
    );
}

// RFC 7519 §4.1.5
#[actix_web::test]
async fn token_with_nbf_in_the_future_is_401() {
    let srv = TestServer::discovered();
    let reply = srv.post_mcp(&srv.token().not_yet_valid().sign()).await;
    srv.assert_invalid_token(&reply, "The access token is not yet valid");
}

// RFC 7519 §4.1.6, RFC 9068 §2.2
#[actix_web::test]
async fn token_issued_in_the_future_is_401() {
    let srv = TestServer::discovered();
    let reply = srv.post_mcp(&srv.token().issued_in_future().sign()).await;
    srv.assert_invalid_token(&reply, "The access token was issued in the future");
}

// RFC 9068 §4, RFC 8725 §3.8: the issuer is checked before any key is fetched.
#[actix_web::test]
async fn token_from_another_issuer_is_401_and_fetches_no_keys() {
    let srv = TestServer::discovered();
    let reply = srv
        .post_mcp(&srv.token().issuer("http://127.0.0.1:1").sign())
        .await;
    srv.assert_invalid_token(&reply, "The token issuer is not accepted");
    // Code point for code point: a trailing slash is another issuer.
    let slash = format!("{}/", srv.auth.issuer());
    let reply = srv.post_mcp(&srv.token().issuer(&slash).sign()).await;
    srv.assert_invalid_token(&reply, "The token issuer is not accepted");
    srv.assert_invalid_token(
        &srv.post_mcp(&srv.token().without_claim("iss").sign()).await,
        "The token issuer is not accepted",
    );
    assert_eq!(srv.auth.jwks_requests(), 0);
    assert_eq!(srv.auth.metadata_requests(), 0);
}

// RFC 9068 §4, RFC 8707 §2: a wrong audience is 401, not 403.
#[actix_web::test]
async fn token_for_another_audience_is_401() {
    let srv = TestServer::discovered();
    let reply = srv
        .post_mcp(
            &srv.auth
                .token()
                .audience("https://other.example.com/mcp")
                .sign(),
        )
        .await;
    srv.assert_invalid_token(&reply, "The token audience does not include this resource");
}

// RFC 8725 §3.9: a missing `aud` means reject.
#[actix_web::test]
async fn token_without_audience_is_401() {
    let srv = TestServer::discovered();
    let reply = srv.post_mcp(&srv.auth.token().sign()).await;
    srv.assert_invalid_token(&reply, "The token has no audience");
}

// RFC 7519 §4.1.3: `aud` may be an array.
#[actix_web::test]
async fn audience_array_containing_the_resource_is_accepted() {
    let srv = TestServer::discovered();
    let token = srv
        .auth
        .token()
        .audiences(&["https://other.example.com", &srv.resource])
        .sign();
    let body = assert_admitted(&srv.post_mcp(&token).await);
    assert_eq!(
        body["audiences"],
        json!(["https://other.example.com", srv.resource])
    );
}

#[actix_web::test]
async fn audience_array_without_the_resource_is_401() {
    let srv = TestServer::discovered();
    let token = srv
        .auth
        .token()
        .audiences(&["https://a.example.com", "https://b.example.com"])
        .sign();
    srv.assert_invalid_token(
        &srv.post_mcp(&token).await,
        "The token audience does not include this resource",
    );
}

// MCP authorization §Canonical Server URI: scheme and host compare case-insensitively.
#[actix_web::test]
async fn audience_with_uppercase_scheme_and_host_is_accepted() {
    let srv = TestServer::discovered();
    let upper = srv.resource.replacen("http://", "HTTP://", 1);
    assert_admitted(
        &srv.post_mcp(&srv.auth.token().audience(&upper).sign())
            .await,
    );
}

// MCP authorization §Canonical Server URI: `/mcp` and `/mcp/` are different unless opted in.
#[actix_web::test]
async fn audience_with_an_extra_trailing_slash_is_401() {
    let srv = TestServer::discovered();
    let token = srv
        .auth
        .token()
        .audience(&format!("{}/", srv.resource))
        .sign();
    srv.assert_invalid_token(
        &srv.post_mcp(&token).await,
        "The token audience does not include this resource",
    );
}

// RFC 9068 §4: `exp` is required.
#[actix_web::test]
async fn token_without_exp_is_401() {
    let srv = TestServer::discovered();
    let reply = srv.post_mcp(&srv.token().without_claim("exp").sign()).await;
    srv.assert_invalid_token(&reply, "The token has no expiry");
}

// RFC 7519 §2 (NumericDate): a non-numeric value means reject.
#[actix_web::test]
async fn token_with_a_string_exp_is_401() {
    let srv = TestServer::discovered();
    let token = srv
        .token()
        .claim("exp", json!((now() + 3600).to_string()))
        .sign();
    srv.assert_invalid_token(
        &srv.post_mcp(&token).await,
        "The token has an invalid claim",
    );
}

// RFC 7515 §4.1.11
#[actix_web::test]
async fn crit_header_is_401() {
    let srv = TestServer::discovered();
    let token = srv
        .token()
        .header("crit", json!(["b64"]))
        .header("b64", json!(true))
        .sign();
    srv.assert_invalid_token(
        &srv.post_mcp(&token).await,
        "The token uses an unsupported critical header",
    );
}

// RFC 9068 §4 (only the authorization server's keys): `jku` is ignored, and nothing is
// fetched from it.
#[actix_web::test]
async fn jku_header_pointing_elsewhere_is_ignored() {
    let srv = TestServer::discovered();
    let elsewhere = TestAuthServer::start();
    let token = srv
        .token()
        .header("jku", json!(elsewhere.jwks_uri()))
        .sign();
    assert_admitted(&srv.post_mcp(&token).await);
    assert_eq!(elsewhere.jwks_requests(), 0);
    assert_eq!(srv.auth.jwks_requests(), 1);
}

// RFC 9068 §4: a token signed by an attacker's key, naming the attacker's JWKS in `jku` and
// reusing a published kid, is verified against the configured keys only.
#[actix_web::test]
async fn jku_cannot_bring_the_attackers_keys() {
    let srv = TestServer::discovered();
    let attacker = TestAuthServer::start();
    let token = attacker
        .token()
        .issuer(srv.auth.issuer())
        .audience(&srv.resource)
        .header("jku", json!(attacker.jwks_uri()))
        .sign();
    srv.assert_invalid_token(
        &srv.post_mcp(&token).await,
        "The token signature is invalid",
    );
    assert_eq!(attacker.jwks_requests(), 0);
}

// RFC 9068 §4 (`typ`), §5: ID tokens are not access tokens.
#[actix_web::test]
async fn typ_id_token_jwt_is_rejected() {
    let srv = TestServer::discovered();
    let reply = srv.post_mcp(&srv.token().typ("id_token+jwt").sign()).await;
    srv.assert_invalid_token(&reply, "The token is not an access token");
    let reply = srv.post_mcp(&srv.token().typ("dpop+jwt").sign()).await;
    srv.assert_invalid_token(&reply, "The token is not an access token");
}

// RFC 8725 §3.11: the lenient default accepts what Entra and Keycloak send.
#[actix_web::test]
async fn typ_jwt_and_missing_typ_are_accepted_by_default() {
    let srv = TestServer::discovered();
    assert_admitted(&srv.post_mcp(&srv.token().typ("JWT").sign()).await);
    assert_admitted(
        &srv.post_mcp(&srv.token().without_header("typ").sign())
            .await,
    );
    assert_admitted(
        &srv.post_mcp(&srv.token().typ("application/at+jwt").sign())
            .await,
    );
}

// RFC 9068 §4 as written: `typ` must be `at+jwt` (or `application/at+jwt`).
#[actix_web::test]
async fn typ_jwt_is_rejected_with_the_strict_policy() {
    let srv = TestServer::discovered_with(|b| b.typ_policy(TypPolicy::Strict));
    srv.assert_invalid_token(
        &srv.post_mcp(&srv.token().typ("JWT").sign()).await,
        "The token is not an access token",
    );
    srv.assert_invalid_token(
        &srv.post_mcp(&srv.token().without_header("typ").sign())
            .await,
        "The token is not an access token",
    );
    assert_admitted(&srv.post_mcp(&srv.token().typ("at+jwt").sign()).await);
    assert_admitted(
        &srv.post_mcp(&srv.token().typ("application/AT+JWT").sign())
            .await,
    );
}

/// An OpenID Connect ID token as an authorization server issues it to client `client`
/// (OpenID Connect Core §2, §3.1.3.6): `typ: JWT`, `aud` = the client id, `nonce`,
/// `auth_time`, `at_hash`; no `scope`, `scp` or `client_id`. Signed by the issuer's
/// published key, like its access tokens.
fn id_token(srv: &TestServer, client: &str) -> TokenBuilder {
    srv.auth
        .token()
        .typ("JWT")
        .audience(client)
        .without_claim("client_id")
        .claim("nonce", json!("n-0S6_WzA2Mj"))
        .claim("auth_time", json!(now() - 60))
        .claim("at_hash", json!("77QmUPtjPfzWtF2AnpK9RQ"))
}

// RFC 9068 §4, OpenID Connect Core §2: an ID token issued to a client whose id is an
// accepted audience (Entra puts the API's client id in `aud`) is not an access token.
#[actix_web::test]
async fn an_id_token_for_an_accepted_audience_is_401() {
    let srv = TestServer::discovered_with(|b| b.audience("my-client-id"));
    let reply = srv.post_mcp(&id_token(&srv, "my-client-id").sign()).await;
    srv.assert_invalid_token(&reply, "An ID token is not an access token");
    // Untyped, with any one of the ID-token claims.
    for (marker, value) in [
        ("nonce", json!("n-0S6_WzA2Mj")),
        ("at_hash", json!("77QmUPtjPfzWtF2AnpK9RQ")),
        ("c_hash", json!("LDktKdoQak3Pk0cnXxCltA")),
        ("auth_time", json!(now() - 60)),
    ] {
        let token = srv
            .auth
            .token()
            .without_header("typ")
            .audience("my-client-id")
            .without_claim("client_id")
            .claim(marker, value)
            .sign();
        srv.assert_invalid_token(
            &srv.post_mcp(&token).await,
            "An ID token is not an access token",
        );
    }
}

// What tells an access token from an ID token: a claim of RFC 9068 §2.2 (`client_id`,
// `scope`; `scp` as Okta and Entra send it), or the explicit `typ: at+jwt`. Access tokens
// may carry `auth_time` (RFC 9068 §2.2.1; Okta does) and, from some servers, `nonce`.
#[actix_web::test]
async fn access_tokens_with_id_token_claims_are_still_accepted() {
    let srv = TestServer::discovered_with(|b| b.audience("my-client-id"));
    for token in [
        id_token(&srv, "my-client-id")
            .client_id("my-client-id")
            .sign(),
        id_token(&srv, "my-client-id").scope("mcp").sign(),
        id_token(&srv, "my-client-id").scp_array(&["mcp"]).sign(),
        id_token(&srv, "my-client-id").typ("at+jwt").sign(),
        id_token(&srv, "my-client-id")
            .typ("application/AT+JWT")
            .sign(),
    ] {
        assert_admitted(&srv.post_mcp(&token).await);
    }
    // A configured scope claim counts as well.
    let srv = TestServer::discovered_with(|b| b.scope_claim("permissions"));
    let token = id_token(&srv, &srv.resource)
        .claim("permissions", json!(["mcp"]))
        .sign();
    assert_admitted(&srv.post_mcp(&token).await);
}

// RFC 9068 §2.2.3 names `scope`; Okta sends `scp` as a JSON array.
#[actix_web::test]
async fn scopes_are_read_from_an_scp_array() {
    let srv = TestServer::discovered_with(|b| b.required_scopes(["mcp:tools"]));
    let token = srv.token().scp_array(&["mcp:tools", "files:read"]).sign();
    let body = assert_admitted(&srv.post_mcp(&token).await);
    assert_eq!(body["scopes"], json!(["mcp:tools", "files:read"]));
}

// RFC 8707 §2 with configurable audiences (e.g. Entra's `api://`).
#[actix_web::test]
async fn custom_audience_is_accepted_beside_the_resource() {
    let srv = TestServer::discovered_with(|b| b.audience("api://x"));
    let body = assert_admitted(
        &srv.post_mcp(&srv.auth.token().audience("api://x").sign())
            .await,
    );
    assert_eq!(body["audiences"], json!(["api://x"]));
    // The resource itself stays an accepted audience.
    assert_admitted(&srv.post_mcp(&srv.valid_token()).await);
    // Anything else is still refused.
    let reply = srv
        .post_mcp(&srv.auth.token().audience("api://y").sign())
        .await;
    srv.assert_invalid_token(&reply, "The token audience does not include this resource");
    // `api://` URIs are compared exactly.
    let reply = srv
        .post_mcp(&srv.auth.token().audience("API://X").sign())
        .await;
    srv.assert_invalid_token(&reply, "The token audience does not include this resource");
}

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

fn hs256_server() -> TestServer {
    Setup::new().start(|auth, resource| {
        McpOAuth::builder()
            .resource(resource)
            .authorization_server(auth.issuer())
            .hs256_secret(SECRET)
    })
}

#[actix_web::test]
async fn hs256_token_is_accepted_in_symmetric_mode() {
    let srv = hs256_server();
    let token = srv.token().hs256(SECRET).sign();
    assert_eq!(
        assert_admitted(&srv.post_mcp(&token).await)["subject"],
        "test-user"
    );
    assert_eq!(srv.auth.jwks_requests(), 0);
}

#[actix_web::test]
async fn rs256_token_is_rejected_in_symmetric_mode() {
    let srv = hs256_server();
    let reply = srv.post_mcp(&srv.valid_token()).await;
    srv.assert_invalid_token(&reply, "The token signing algorithm is not accepted");
    assert_eq!(srv.auth.jwks_requests(), 0);
}

#[actix_web::test]
async fn hs256_token_signed_with_another_secret_is_rejected_in_symmetric_mode() {
    let srv = hs256_server();
    let token = srv
        .token()
        .hs256(b"another secret that is long enough!!")
        .sign();
    srv.assert_invalid_token(
        &srv.post_mcp(&token).await,
        "The token signature is invalid",
    );
}

// RFC 7519 §4.1.4: default leeway 60 s.
#[actix_web::test]
async fn token_expired_30_seconds_ago_is_accepted_with_the_default_leeway() {
    let srv = TestServer::discovered();
    let token = srv.token().claim("exp", json!(now() - 30)).sign();
    assert_admitted(&srv.post_mcp(&token).await);
}

#[actix_web::test]
async fn token_expired_30_seconds_ago_is_rejected_with_a_5_second_leeway() {
    let srv = TestServer::discovered_with(|b| b.leeway(Duration::from_secs(5)));
    let token = srv.token().claim("exp", json!(now() - 30)).sign();
    srv.assert_invalid_token(&srv.post_mcp(&token).await, "The access token expired");
}

// RFC 7519 §4.1.5: the leeway applies to `nbf` too.
#[actix_web::test]
async fn nbf_30_seconds_ahead_is_accepted_with_the_default_leeway_only() {
    let srv = TestServer::discovered();
    let token = srv.token().claim("nbf", json!(now() + 30)).sign();
    assert_admitted(&srv.post_mcp(&token).await);
    let strict = TestServer::discovered_with(|b| b.leeway(Duration::from_secs(5)));
    let token = strict.token().claim("nbf", json!(now() + 30)).sign();
    strict.assert_invalid_token(
        &strict.post_mcp(&token).await,
        "The access token is not yet valid",
    );
}

// RFC 9068 §2.2.3: scopes from a configured claim, and only from it.
#[actix_web::test]
async fn scopes_are_read_from_the_configured_scope_claim() {
    let srv = TestServer::discovered_with(|b| {
        b.scope_claim("permissions").required_scopes(["mcp:tools"])
    });
    let token = srv
        .token()
        .claim("permissions", json!(["mcp:tools"]))
        .sign();
    assert_eq!(
        assert_admitted(&srv.post_mcp(&token).await)["scopes"],
        json!(["mcp:tools"])
    );
    let reply = srv.post_mcp(&srv.token().scope("mcp:tools").sign()).await;
    assert_eq!(reply.status, 403);
}

// RFC 3986 §6.2.3: `/` and the empty path are the same root.
#[actix_web::test]
async fn origin_resource_accepts_the_audience_with_or_without_the_root_slash() {
    let srv = Setup::new()
        .resource_suffix("")
        .start(|auth, r| auth.configure_issuer_only(r));
    assert_admitted(
        &srv.post_mcp(&srv.auth.token().audience(&srv.base).sign())
            .await,
    );
    let slash = format!("{}/", srv.base);
    assert_admitted(
        &srv.post_mcp(&srv.auth.token().audience(&slash).sign())
            .await,
    );
}

// RFC 7519 §4.1.3: a non-string audience is refused, never coerced.
#[actix_web::test]
async fn numeric_audience_is_401() {
    let srv = TestServer::discovered();
    let token = srv.auth.token().claim("aud", json!(42)).sign();
    srv.assert_invalid_token(
        &srv.post_mcp(&token).await,
        "The token has an invalid claim",
    );
}
