//! The discovery and introspection endpoints of [`TestAuthServer`], over loopback HTTP.

use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::{IntrospectionFault, MetadataDocument, MetadataFault, TestAuthServer};

const DOCS: [MetadataDocument; 3] = [
    MetadataDocument::OAuth,
    MetadataDocument::OidcPathInserted,
    MetadataDocument::OidcAppended,
];

/// GET `url`: status and body.
async fn get(url: &str) -> (u16, Vec<u8>) {
    let mut res = awc::Client::default()
        .get(url)
        .send()
        .await
        .expect("GET over loopback");
    let body = res.body().await.expect("body");
    (res.status().as_u16(), body.to_vec())
}

async fn get_json(url: &str) -> (u16, Value) {
    let (status, body) = get(url).await;
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

fn form_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// `client_secret_basic` as RFC 6749 §2.3.1 has it: each part form-urlencoded.
fn basic(id: &str, secret: &str) -> String {
    let pair = format!("{}:{}", form_encode(id), form_encode(secret));
    format!("Basic {}", STANDARD.encode(pair))
}

/// POST the form to the introspection endpoint with these headers: status, headers, body.
async fn post(
    auth: &TestAuthServer,
    authorization: Option<&str>,
    form: &[(&str, &str)],
) -> (u16, awc::http::header::HeaderMap, Vec<u8>) {
    let mut req = awc::Client::default().post(auth.introspection_endpoint());
    if let Some(value) = authorization {
        req = req.insert_header(("Authorization", value));
    }
    let mut res = req.send_form(&form).await.expect("POST over loopback");
    let body = res.body().await.expect("body");
    (res.status().as_u16(), res.headers().clone(), body.to_vec())
}

/// Introspects `token` as the client `rs` / `rs-secret` (Basic): status and JSON.
async fn introspect(auth: &TestAuthServer, token: &str) -> (u16, Value) {
    let (status, _, body) = post(auth, Some(&basic("rs", "rs-secret")), &[("token", token)]).await;
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

fn server_with_client() -> TestAuthServer {
    let auth = TestAuthServer::start();
    auth.introspection_client("rs", "rs-secret");
    auth
}

#[actix_web::test]
async fn an_issuer_with_a_path_is_discoverable_at_all_three_locations() {
    let auth = TestAuthServer::builder().issuer_path("/tenant1").start();
    let issuer = auth.issuer().to_owned();
    assert!(issuer.starts_with("http://127.0.0.1:") && issuer.ends_with("/tenant1"));
    let origin = issuer.trim_end_matches("/tenant1");
    let urls = [
        format!("{origin}/.well-known/oauth-authorization-server/tenant1"),
        format!("{origin}/.well-known/openid-configuration/tenant1"),
        format!("{origin}/tenant1/.well-known/openid-configuration"),
    ];
    for (doc, url) in DOCS.iter().zip(&urls) {
        assert_eq!(&auth.metadata_url(*doc), url);
        let (status, metadata) = get_json(url).await;
        assert_eq!(status, 200, "{url}");
        assert_eq!(metadata["issuer"], issuer.as_str());
        assert_eq!(metadata["jwks_uri"], format!("{issuer}/jwks"));
        assert_eq!(metadata["token_endpoint"], format!("{issuer}/token"));
        assert_eq!(
            metadata["introspection_endpoint"],
            format!("{issuer}/introspect")
        );
        assert_eq!(
            metadata["introspection_endpoint_auth_methods_supported"],
            json!(["client_secret_basic", "client_secret_post"])
        );
    }
    // Nothing at the root locations, and the endpoints live under the issuer.
    let (status, _) = get(&format!("{origin}/.well-known/oauth-authorization-server")).await;
    assert_eq!(status, 404);
    let (status, _) = get(&format!("{origin}/jwks")).await;
    assert_eq!(status, 404);
    let (status, jwks) = get_json(&auth.jwks_uri()).await;
    assert_eq!(
        (status, jwks["keys"].as_array().map(Vec::len)),
        (200, Some(4))
    );
    assert_eq!(auth.jwks_uri(), format!("{issuer}/jwks"));
    assert_eq!(auth.token_endpoint(), format!("{issuer}/token"));
    assert_eq!(auth.metadata_requests(), 3);
    for doc in DOCS {
        assert_eq!(auth.metadata_requests_at(doc), 1);
    }
}

#[actix_web::test]
async fn a_terminating_slash_is_kept_in_the_issuer_only() {
    let auth = TestAuthServer::builder().issuer_path("a/b/").start();
    let issuer = auth.issuer().to_owned();
    assert!(issuer.ends_with("/a/b/"));
    let base = issuer.trim_end_matches('/');
    let origin = issuer.trim_end_matches("/a/b/");
    assert_eq!(
        auth.metadata_url(MetadataDocument::OAuth),
        format!("{origin}/.well-known/oauth-authorization-server/a/b")
    );
    for doc in DOCS {
        let (status, metadata) = get_json(&auth.metadata_url(doc)).await;
        assert_eq!(status, 200);
        assert_eq!(metadata["issuer"], issuer.as_str());
        assert_eq!(metadata["jwks_uri"], format!("{base}/jwks"));
    }
    auth.set_metadata_fault(MetadataDocument::OAuth, MetadataFault::WrongIssuer);
    let (_, metadata) = get_json(&auth.metadata_url(MetadataDocument::OAuth)).await;
    assert_eq!(metadata["issuer"], base);
}

#[test]
#[should_panic(expected = "issuer path")]
fn an_issuer_path_with_a_query_is_refused() {
    let _ = TestAuthServer::builder().issuer_path("/t?x=1").start();
}

#[test]
#[should_panic(expected = "issuer path")]
fn an_issuer_path_with_a_dot_dot_segment_is_refused() {
    let _ = TestAuthServer::builder().issuer_path("/a/../b").start();
}

#[actix_web::test]
async fn a_pathless_issuer_has_two_locations_and_the_old_endpoints() {
    let auth = TestAuthServer::start();
    let issuer = auth.issuer().to_owned();
    assert_eq!(
        auth.metadata_url(MetadataDocument::OidcPathInserted),
        format!("{issuer}/.well-known/openid-configuration")
    );
    assert_eq!(
        auth.metadata_url(MetadataDocument::OidcAppended),
        auth.metadata_url(MetadataDocument::OidcPathInserted)
    );
    for doc in DOCS {
        let (status, metadata) = get_json(&auth.metadata_url(doc)).await;
        assert_eq!(status, 200);
        assert_eq!(metadata["issuer"], issuer.as_str());
        assert_eq!(metadata["jwks_uri"], format!("{issuer}/jwks"));
        assert_eq!(
            metadata["registration_endpoint"],
            format!("{issuer}/register")
        );
        assert_eq!(
            metadata["authorization_endpoint"],
            format!("{issuer}/authorize")
        );
    }
    assert_eq!(auth.metadata_requests(), 3);
    assert_eq!(auth.metadata_requests_at(MetadataDocument::OAuth), 1);
    // One URL, one counter, one fault.
    assert_eq!(
        auth.metadata_requests_at(MetadataDocument::OidcPathInserted),
        2
    );
    assert_eq!(auth.metadata_requests_at(MetadataDocument::OidcAppended), 2);
    auth.set_metadata_fault(MetadataDocument::OidcAppended, MetadataFault::NotFound);
    let (status, _) = get(&auth.metadata_url(MetadataDocument::OidcPathInserted)).await;
    assert_eq!(status, 404);
    let (status, _) = get(&auth.metadata_url(MetadataDocument::OAuth)).await;
    assert_eq!(status, 200);
}

#[actix_web::test]
async fn each_metadata_fault_hits_its_location_only() {
    let auth = TestAuthServer::builder().issuer_path("/t").start();
    let target = MetadataDocument::OidcPathInserted;
    let others = [MetadataDocument::OAuth, MetadataDocument::OidcAppended];
    let check_others = || async {
        for doc in others {
            let (status, metadata) = get_json(&auth.metadata_url(doc)).await;
            assert_eq!((status, &metadata["issuer"]), (200, &json!(auth.issuer())));
        }
    };

    auth.set_metadata_fault(target, MetadataFault::NotFound);
    assert_eq!(get(&auth.metadata_url(target)).await.0, 404);
    check_others().await;

    auth.set_metadata_fault(target, MetadataFault::Status(503));
    assert_eq!(get(&auth.metadata_url(target)).await.0, 503);
    auth.set_metadata_fault(target, MetadataFault::Status(1000));
    assert_eq!(get(&auth.metadata_url(target)).await.0, 500);

    auth.set_metadata_fault(target, MetadataFault::Garbage);
    let (status, body) = get(&auth.metadata_url(target)).await;
    assert_eq!(status, 200);
    assert!(serde_json::from_slice::<Value>(&body).is_err());
    check_others().await;

    auth.set_metadata_fault(target, MetadataFault::WrongIssuer);
    let (status, metadata) = get_json(&auth.metadata_url(target)).await;
    assert_eq!(status, 200);
    assert_eq!(metadata["issuer"], format!("{}/", auth.issuer()));
    assert_eq!(metadata["jwks_uri"], auth.jwks_uri());
    check_others().await;

    auth.set_metadata_fault(target, MetadataFault::Delay(Duration::from_millis(300)));
    let started = Instant::now();
    let (status, metadata) = get_json(&auth.metadata_url(target)).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!((status, &metadata["issuer"]), (200, &json!(auth.issuer())));

    auth.set_metadata_fault(target, MetadataFault::None);
    assert_eq!(get(&auth.metadata_url(target)).await.0, 200);
    assert_eq!(auth.metadata_requests_at(target), 7);
    assert_eq!(auth.metadata_requests(), 7 + 3 * others.len());
}

#[actix_web::test]
async fn metadata_patches_add_replace_and_remove_fields_everywhere() {
    let auth = TestAuthServer::builder().issuer_path("/t").start();
    auth.patch_metadata(json!({
        "jwks_uri": null,
        "code_challenge_methods_supported": null,
        "response_types_supported": ["token"],
    }));
    auth.patch_metadata(json!({"registration_endpoint": null, "extra": 1}));
    auth.patch_metadata(json!("not an object"));
    for doc in DOCS {
        let (status, metadata) = get_json(&auth.metadata_url(doc)).await;
        assert_eq!(status, 200);
        for removed in [
            "jwks_uri",
            "code_challenge_methods_supported",
            "registration_endpoint",
        ] {
            assert!(metadata.get(removed).is_none(), "{removed}");
        }
        assert_eq!(metadata["response_types_supported"], json!(["token"]));
        assert_eq!(metadata["extra"], 1);
        assert_eq!(metadata["issuer"], auth.issuer());
    }
    auth.patch_metadata(json!({"issuer": "https://other.example.com"}));
    let (_, metadata) = get_json(&auth.metadata_url(MetadataDocument::OAuth)).await;
    assert_eq!(metadata["issuer"], "https://other.example.com");
}

#[actix_web::test]
async fn introspection_accepts_basic_credentials_form_urlencoded_before_base64() {
    let auth = TestAuthServer::start();
    let (id, secret) = ("rs:1", "p%ss word+ü");
    auth.introspection_client(id, secret);
    auth.introspection_client("other", "other-secret");
    let token = auth.token().scope("mcp").opaque();
    let (status, headers, body) = post(&auth, Some(&basic(id, secret)), &[("token", &token)]).await;
    assert_eq!(status, 200);
    assert_eq!(
        headers.get("cache-control").and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    assert_eq!(body["active"], true);
    assert_eq!(auth.last_introspection_auth(), Some("client_secret_basic"));
    // The scheme is case-insensitive; the other client works too.
    let lower = basic("other", "other-secret").replacen("Basic", "basic", 1);
    assert_eq!(post(&auth, Some(&lower), &[("token", &token)]).await.0, 200);
    // Without the form-urlencoding the `:` of the id splits in the wrong place.
    let raw = format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")));
    assert_eq!(post(&auth, Some(&raw), &[("token", &token)]).await.0, 401);
    assert_eq!(auth.last_introspection_auth(), Some("client_secret_basic"));
}

#[actix_web::test]
async fn introspection_accepts_post_credentials() {
    let auth = TestAuthServer::start();
    let (id, secret) = ("rs:1", "p%ss word+");
    auth.introspection_client(id, secret);
    let token = auth.token().opaque();
    let form = [
        ("client_id", id),
        ("client_secret", secret),
        ("token", &token),
        ("token_type_hint", "access_token"),
    ];
    let (status, _, body) = post(&auth, None, &form).await;
    assert_eq!(status, 200);
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    assert_eq!(body["active"], true);
    assert_eq!(auth.last_introspection_auth(), Some("client_secret_post"));
}

#[actix_web::test]
async fn introspection_refuses_missing_or_wrong_credentials() {
    let auth = server_with_client();
    let token = auth.token().opaque();
    let refusals = [
        (None, vec![("token", token.as_str())], None),
        (
            Some(basic("rs", "wrong")),
            vec![("token", &token)],
            Some("client_secret_basic"),
        ),
        (
            Some(basic("nobody", "rs-secret")),
            vec![("token", &token)],
            Some("client_secret_basic"),
        ),
        (
            Some("Basic !!!not base64".to_owned()),
            vec![("token", &token)],
            Some("client_secret_basic"),
        ),
        (
            Some("Basic".to_owned()),
            vec![("token", &token)],
            Some("client_secret_basic"),
        ),
        (
            Some(format!("Basic {}", STANDARD.encode("rs:bad%zz"))),
            vec![("token", &token)],
            Some("client_secret_basic"),
        ),
        (Some("Bearer abc".to_owned()), vec![("token", &token)], None),
        (
            None,
            vec![
                ("client_id", "rs"),
                ("client_secret", "wrong"),
                ("token", &token),
            ],
            Some("client_secret_post"),
        ),
        (
            None,
            vec![("client_secret", "rs-secret"), ("token", &token)],
            Some("client_secret_post"),
        ),
        (None, vec![("client_id", "rs"), ("token", &token)], None),
    ];
    for (authorization, form, method) in refusals {
        let (status, headers, body) = post(&auth, authorization.as_deref(), &form).await;
        assert_eq!(status, 401, "{authorization:?} {form:?}");
        assert_eq!(
            headers
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok()),
            Some("Basic realm=\"introspection\"")
        );
        let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        assert_eq!(body, json!({"error": "invalid_client"}));
        assert_eq!(auth.last_introspection_auth(), method);
        assert!(
            !String::from_utf8_lossy(
                &headers
                    .get("www-authenticate")
                    .map(|v| v.as_bytes().to_vec())
                    .unwrap_or_default()
            )
            .contains(&token)
        );
    }
    // Both methods at once, a repeated parameter, no token: 400 invalid_request.
    let both = [
        ("client_id", "rs"),
        ("client_secret", "rs-secret"),
        ("token", token.as_str()),
    ];
    let (status, _, body) = post(&auth, Some(&basic("rs", "rs-secret")), &both).await;
    assert_eq!(status, 400);
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null)["error"],
        "invalid_request"
    );
    assert_eq!(auth.last_introspection_auth(), None);
    let twice = [("token", token.as_str()), ("token", "other")];
    assert_eq!(
        post(&auth, Some(&basic("rs", "rs-secret")), &twice).await.0,
        400
    );
    assert_eq!(
        post(&auth, Some(&basic("rs", "rs-secret")), &[]).await.0,
        400
    );
    assert_eq!(
        post(&auth, Some(&basic("rs", "rs-secret")), &[("token", "")])
            .await
            .0,
        400
    );
    assert_eq!(auth.introspection_requests(), 14);
}

#[actix_web::test]
async fn an_opaque_token_is_active_until_revoked() {
    let auth = server_with_client();
    let token = auth
        .token()
        .subject("alice")
        .client_id("inspector")
        .audience("http://127.0.0.1:8080/mcp")
        .scope("mcp files:read")
        .claim("tenant_id", json!("acme"))
        .opaque();
    assert_eq!(token.len(), 43);
    assert!(!token.contains('.'));
    assert_ne!(token, auth.token().opaque());
    let (status, body) = introspect(&auth, &token).await;
    assert_eq!(status, 200);
    assert_eq!(body["active"], true);
    assert_eq!(body["iss"], auth.issuer());
    assert_eq!(body["sub"], "alice");
    assert_eq!(body["client_id"], "inspector");
    assert_eq!(body["aud"], "http://127.0.0.1:8080/mcp");
    assert_eq!(body["scope"], "mcp files:read");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["tenant_id"], "acme");
    assert!(body["exp"].as_i64() > body["iat"].as_i64());
    assert!(!body.to_string().contains(&token));
    auth.revoke(&token);
    assert_eq!(
        introspect(&auth, &token).await,
        (200, json!({"active": false}))
    );
    // Unknown, empty-looking and JWT-looking garbage is inactive, not an error.
    for junk in ["unknown", "a.b.c", "a.b", "....", "é"] {
        assert_eq!(
            introspect(&auth, junk).await,
            (200, json!({"active": false}))
        );
    }
}

#[actix_web::test]
async fn expired_and_early_tokens_are_inactive() {
    let auth = server_with_client();
    let inactive = json!({"active": false});
    let expired_opaque = auth.token().expired().opaque();
    assert_eq!(
        introspect(&auth, &expired_opaque).await,
        (200, inactive.clone())
    );
    let expired_jwt = auth.token().expired().sign();
    assert_eq!(
        introspect(&auth, &expired_jwt).await,
        (200, inactive.clone())
    );
    let early = auth.token().not_yet_valid().sign();
    assert_eq!(introspect(&auth, &early).await, (200, inactive.clone()));
    let bad_exp = auth.token().claim("exp", json!("soon")).opaque();
    assert_eq!(introspect(&auth, &bad_exp).await, (200, inactive));
    let no_exp = auth.token().without_claim("exp").opaque();
    assert_eq!(introspect(&auth, &no_exp).await.1["active"], true);
}

#[actix_web::test]
async fn a_jwt_signed_with_a_published_key_is_active() {
    let auth = server_with_client();
    let inactive = (200, json!({"active": false}));
    for alg in [
        jsonwebtoken::Algorithm::RS256,
        jsonwebtoken::Algorithm::PS384,
        jsonwebtoken::Algorithm::ES256,
        jsonwebtoken::Algorithm::ES384,
        jsonwebtoken::Algorithm::EdDSA,
    ] {
        let token = auth
            .token()
            .algorithm(alg)
            .audience("https://rs")
            .scope("mcp")
            .sign();
        let (status, body) = introspect(&auth, &token).await;
        assert_eq!((status, &body["active"]), (200, &json!(true)), "{alg:?}");
        assert_eq!(body["aud"], "https://rs");
        assert_eq!(body["scope"], "mcp");
        assert_eq!(body["token_type"], "Bearer");
        assert!(body["jti"].is_string());
    }
    let forged = [
        auth.token().signed_by_unpublished_key().sign(),
        auth.token()
            .hs256(b"a shared secret of 32 bytes or more")
            .sign(),
        auth.token().hs256_with_rsa_public_key().sign(),
        auth.token().alg_none("none").sign(),
    ];
    for token in &forged {
        assert_eq!(introspect(&auth, token).await, inactive);
    }
    // Tampered payload: the signature no longer matches.
    let token = auth.token().sign();
    let mut parts: Vec<&str> = token.split('.').collect();
    let other = auth.token().subject("mallory").sign();
    parts[1] = other.split('.').nth(1).unwrap_or_default();
    assert_eq!(introspect(&auth, &parts.join(".")).await, inactive);
    // Revoked, and signed with a key that was rotated out.
    let revoked = auth.token().sign();
    auth.revoke(&revoked);
    assert_eq!(introspect(&auth, &revoked).await, inactive);
    auth.rotate_keys();
    assert_eq!(introspect(&auth, &token).await, inactive);
    assert_eq!(
        introspect(&auth, &auth.token().sign()).await.1["active"],
        true
    );
}

#[actix_web::test]
async fn the_token_endpoint_can_issue_opaque_tokens() {
    let auth = server_with_client();
    auth.set_opaque_tokens(true);
    let form = [
        ("grant_type", "client_credentials"),
        ("resource", "https://rs"),
        ("scope", "mcp"),
        ("client_id", "svc"),
    ];
    let mut res = awc::Client::default()
        .post(auth.token_endpoint())
        .send_form(&form)
        .await
        .expect("POST");
    let body: Value = res.json().await.expect("JSON");
    let token = body["access_token"].as_str().unwrap_or_default().to_owned();
    assert_eq!(token.len(), 43);
    assert!(!token.contains('.'));
    let (_, body) = introspect(&auth, &token).await;
    assert_eq!(body["active"], true);
    assert_eq!(body["client_id"], "svc");
    assert_eq!(body["aud"], "https://rs");
    assert_eq!(body["scope"], "mcp");
    auth.set_opaque_tokens(false);
    let mut res = awc::Client::default()
        .post(auth.token_endpoint())
        .send_form(&form)
        .await
        .expect("POST");
    let body: Value = res.json().await.expect("JSON");
    let jwt = body["access_token"].as_str().unwrap_or_default();
    assert_eq!(jwt.split('.').count(), 3);
    assert_eq!(introspect(&auth, jwt).await.1["active"], true);
}

#[actix_web::test]
async fn each_introspection_fault() {
    let auth = server_with_client();
    let token = auth.token().audience("https://rs").scope("mcp").opaque();

    auth.set_introspection_fault(IntrospectionFault::Status(503));
    let (status, _, _) = post(&auth, Some(&basic("rs", "rs-secret")), &[("token", &token)]).await;
    assert_eq!(status, 503);
    auth.set_introspection_fault(IntrospectionFault::Status(42));
    assert_eq!(introspect(&auth, &token).await.0, 500);
    // Credentials are still checked first.
    assert_eq!(
        post(&auth, Some(&basic("rs", "x")), &[("token", &token)])
            .await
            .0,
        401
    );

    auth.set_introspection_fault(IntrospectionFault::Garbage);
    let (status, headers, body) =
        post(&auth, Some(&basic("rs", "rs-secret")), &[("token", &token)]).await;
    assert_eq!(status, 200);
    assert_eq!(
        headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
    assert!(serde_json::from_slice::<Value>(&body).is_err());

    auth.set_introspection_fault(IntrospectionFault::NonBooleanActive);
    let (status, body) = introspect(&auth, &token).await;
    assert_eq!((status, &body["active"]), (200, &json!("true")));
    assert_eq!(body["scope"], "mcp");
    assert_eq!(
        introspect(&auth, "unknown").await,
        (200, json!({"active": "true"}))
    );

    auth.set_introspection_fault(IntrospectionFault::Delay(Duration::from_millis(300)));
    let started = Instant::now();
    let (status, body) = introspect(&auth, &token).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!((status, &body["active"]), (200, &json!(true)));

    auth.set_introspection_fault(IntrospectionFault::Patch(
        json!({"aud": "https://other", "scope": null, "token_type": "refresh_token"}),
    ));
    let (_, body) = introspect(&auth, &token).await;
    assert_eq!(body["active"], true);
    assert_eq!(body["aud"], "https://other");
    assert!(body.get("scope").is_none());
    assert_eq!(body["token_type"], "refresh_token");
    assert_eq!(
        introspect(&auth, "unknown").await,
        (200, json!({"active": false}))
    );

    auth.set_introspection_fault(IntrospectionFault::None);
    let (_, body) = introspect(&auth, &token).await;
    assert_eq!(
        (&body["aud"], &body["token_type"]),
        (&json!("https://rs"), &json!("Bearer"))
    );
    assert_eq!(auth.introspection_requests(), 10);
}

#[actix_web::test]
async fn introspection_only_answers_post() {
    let auth = server_with_client();
    let (status, _) = get(&auth.introspection_endpoint()).await;
    assert_eq!(status, 404);
    assert_eq!(auth.introspection_requests(), 0);
}

/// Introspects `token` with this `token_type_hint` (Basic `rs` / `rs-secret`).
async fn introspect_with_hint(auth: &TestAuthServer, token: &str, hint: &str) -> (u16, Value) {
    let form = [("token", token), ("token_type_hint", hint)];
    let (status, _, body) = post(auth, Some(&basic("rs", "rs-secret")), &form).await;
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

#[actix_web::test]
async fn without_jwt_introspection_every_structured_token_is_unsupported() {
    let auth = server_with_client();
    auth.set_jwt_introspection(false);
    let jwe_shaped = format!(
        "{}.a.b.c.d",
        super::keys::b64(br#"{"alg":"RSA-OAEP","enc":"A256GCM"}"#)
    );
    let structured = [
        auth.token().sign(),
        auth.token().signed_by_unpublished_key().sign(),
        auth.token().alg_none("none").sign(),
        jwe_shaped,
    ];
    for token in &structured {
        let (status, body) = introspect(&auth, token).await;
        assert_eq!(status, 400, "{token}");
        assert_eq!(body["error"], "unsupported_token_type");
        assert!(!body.to_string().contains(token.as_str()), "never echoed");
    }
    // Not structured: not 3 or 5 segments, or a first segment that is not a JSON object.
    for token in ["abc.def", "abc.def.ghi", "e30.x", "WzFd.e30.e30"] {
        assert_eq!(
            introspect(&auth, token).await,
            (200, json!({"active": false})),
            "{token}"
        );
    }
    assert_eq!(
        introspect(&auth, &auth.token().opaque()).await.1["active"],
        true
    );
    auth.set_jwt_introspection(true);
    assert_eq!(introspect(&auth, &structured[0]).await.1["active"], true);
}

#[actix_web::test]
async fn refresh_tokens_are_found_whatever_the_hint_and_say_what_they_are() {
    let auth = server_with_client();
    let refresh = auth.token().scope("mcp").refresh_token();
    let access = auth.token().scope("mcp").opaque();
    for hint in ["access_token", "refresh_token", "something_else"] {
        let (status, body) = introspect_with_hint(&auth, &refresh, hint).await;
        assert_eq!((status, &body["active"]), (200, &json!(true)), "{hint}");
        assert_eq!(body["token_type"], "refresh_token");
        assert_eq!(body["scope"], "mcp");
        let (_, body) = introspect_with_hint(&auth, &access, hint).await;
        assert_eq!(body["token_type"], "Bearer", "{hint}");
        assert_eq!(
            auth.last_introspection_token_type_hint().as_deref(),
            Some(hint)
        );
    }
    assert_eq!(
        introspect(&auth, &refresh).await.1["token_type"],
        "refresh_token"
    );
    assert_eq!(auth.last_introspection_token_type_hint(), None);
    auth.revoke(&refresh);
    assert_eq!(
        introspect_with_hint(&auth, &refresh, "refresh_token").await,
        (200, json!({"active": false}))
    );
}

#[actix_web::test]
async fn a_tokens_own_fault_comes_first_then_the_next_ones_then_the_servers() {
    let auth = server_with_client();
    let (own, other) = (auth.token().opaque(), auth.token().opaque());
    let refusal = json!({"error": "unsupported_token_type"});
    auth.set_introspection_fault(IntrospectionFault::Status(503));
    auth.set_introspection_fault_for_token(&own, IntrospectionFault::Error(400, refusal.clone()));
    auth.set_introspection_fault_for_next(2, IntrospectionFault::Status(502));
    assert_eq!(introspect(&auth, &own).await, (400, refusal.clone()));
    assert_eq!(introspect(&auth, &other).await.0, 502);
    assert_eq!(introspect(&auth, &own).await, (400, refusal)); // uses none of the two
    assert_eq!(introspect(&auth, &other).await.0, 502);
    assert_eq!(introspect(&auth, &other).await.0, 503); // back to the server's fault
    // A refused caller uses none either.
    auth.set_introspection_fault_for_next(1, IntrospectionFault::Status(502));
    assert_eq!(
        post(&auth, Some(&basic("rs", "x")), &[("token", &other)])
            .await
            .0,
        401
    );
    assert_eq!(introspect(&auth, &other).await.0, 502);
    auth.set_introspection_fault_for_token(&own, IntrospectionFault::None);
    assert_eq!(introspect(&auth, &own).await.1["active"], true);
    auth.set_introspection_fault_for_next(0, IntrospectionFault::Garbage); // nothing
    assert_eq!(introspect(&auth, &other).await.0, 503);
}

#[actix_web::test]
async fn held_introspections_stay_in_flight_until_released() {
    let auth = server_with_client();
    let first = auth.hold_introspections();
    let second = auth.hold_introspections();
    let calls: Vec<_> = (0..3)
        .map(|_| {
            let token = auth.token().opaque();
            let sent = awc::Client::default()
                .post(auth.introspection_endpoint())
                .insert_header(("Authorization", basic("rs", "rs-secret")))
                .send_form(&[("token", token.as_str())]);
            actix_web::rt::spawn(sent)
        })
        .collect();
    while auth.introspections_in_flight() < 3 {
        actix_web::rt::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(auth.max_concurrent_introspections(), 3);
    drop(first);
    actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(auth.introspections_in_flight(), 3, "one hold is left");
    second.release();
    for call in calls {
        let status = call.await.expect("joined").expect("answered").status();
        assert_eq!(status.as_u16(), 200);
    }
    assert_eq!(auth.introspections_in_flight(), 0);
    assert_eq!(auth.max_concurrent_introspections(), 3);
}
