//! The checks `doctor` prints, run in this process: `mcp_oauth::explain` against a
//! `TestAuthServer`, each outcome asserted step by step (the binary's own tests above see
//! only its output).

use actix_web::{App, HttpServer, web};
use jsonwebtoken::Algorithm;
use mcp_oauth::explain::{self, Keys, Outcome, Step};
use mcp_oauth::testing::{JwksFault, TestAuthServer};
use mcp_oauth::{McpOAuth, McpOAuthBuilder};

const RESOURCE: &str = "http://127.0.0.1:8080/mcp";

fn outcome(steps: &[Step], check: &str) -> Option<Outcome> {
    steps.iter().find(|s| s.check == check).map(|s| s.outcome)
}

fn checks(steps: &[Step]) -> Vec<(&'static str, Outcome)> {
    steps.iter().map(|s| (s.check, s.outcome)).collect()
}

/// `auth`'s tokens judged by introspection at its discovered endpoint.
fn introspecting(auth: &TestAuthServer) -> McpOAuth {
    auth.introspection_client("rs", "rs-secret");
    McpOAuth::builder()
        .resource(RESOURCE)
        .authorization_server(auth.issuer())
        .validation(mcp_oauth::Validation::Introspection)
        .introspection_client("rs", "rs-secret")
        .build()
        .unwrap()
}

async fn explained(oauth: &McpOAuth, token: &str) -> Vec<Step> {
    let steps = explain::explain_token(oauth, token).await;
    for step in &steps {
        assert!(!step.detail.contains(token), "the token in {step:?}");
        if let Some(signature) = token.rsplit('.').next().filter(|s| s.len() > 16) {
            assert!(
                !step.detail.contains(signature),
                "the signature in {step:?}"
            );
        }
    }
    steps
}

#[actix_web::test]
async fn a_good_token_passes_every_step_in_order() {
    let auth = TestAuthServer::start();
    let oauth = auth
        .configure(RESOURCE)
        .required_scopes(["mcp"])
        .build()
        .unwrap();
    let token = auth.token().audience(RESOURCE).scope("mcp").sign();
    let steps = explained(&oauth, &token).await;
    let order: Vec<&str> = steps.iter().map(|s| s.check).collect();
    assert_eq!(
        order,
        [
            "header",
            "claims",
            "iss",
            "key",
            "signature",
            "aud",
            "exp/nbf",
            "scopes",
            "verdict"
        ],
        "{steps:#?}"
    );
    assert!(
        steps.iter().all(|s| s.outcome == Outcome::Pass),
        "{steps:#?}"
    );
}

#[actix_web::test]
async fn each_bad_token_fails_at_its_own_step_and_the_verdict() {
    let auth = TestAuthServer::start();
    let oauth = auth
        .configure(RESOURCE)
        .required_scopes(["mcp"])
        .build()
        .unwrap();
    let cases: [(&str, String); 6] = [
        (
            "exp/nbf",
            auth.token()
                .audience(RESOURCE)
                .scope("mcp")
                .expired()
                .sign(),
        ),
        (
            "aud",
            auth.token()
                .audience("https://elsewhere.example")
                .scope("mcp")
                .sign(),
        ),
        (
            "scopes",
            auth.token().audience(RESOURCE).scope("other").sign(),
        ),
        (
            "iss",
            auth.token()
                .audience(RESOURCE)
                .issuer("https://stranger.example")
                .sign(),
        ),
        (
            "key",
            auth.token().audience(RESOURCE).kid("no-such-kid").sign(),
        ),
        (
            "signature",
            auth.token()
                .audience(RESOURCE)
                .signed_by_unpublished_key()
                .sign(),
        ),
    ];
    for (failing, token) in cases {
        let steps = explained(&oauth, &token).await;
        assert_eq!(
            outcome(&steps, failing),
            Some(Outcome::Fail),
            "{failing}: {steps:#?}"
        );
        assert_eq!(
            outcome(&steps, "verdict"),
            Some(Outcome::Fail),
            "{failing}: {steps:#?}"
        );
    }
}

#[actix_web::test]
async fn a_header_the_server_refuses_is_said_first() {
    let auth = TestAuthServer::start();
    let oauth = auth.configure(RESOURCE).build().unwrap();
    let none = auth.token().audience(RESOURCE).alg_none("none").sign();
    let steps = explained(&oauth, &none).await;
    assert_eq!(
        outcome(&steps, "verdict"),
        Some(Outcome::Fail),
        "{steps:#?}"
    );
    assert!(
        steps
            .iter()
            .any(|s| s.outcome == Outcome::Fail && s.check != "verdict"),
        "{steps:#?}"
    );
    let hs = auth
        .token()
        .audience(RESOURCE)
        .algorithm(Algorithm::HS256)
        .hs256(&[7; 32])
        .sign();
    let steps = explained(&oauth, &hs).await;
    assert_eq!(
        outcome(&steps, "verdict"),
        Some(Outcome::Fail),
        "{steps:#?}"
    );
}

#[actix_web::test]
async fn an_opaque_token_is_left_to_introspection_or_refused_without_it() {
    let auth = TestAuthServer::start();
    let jwt_only = auth.configure(RESOURCE).build().unwrap();
    let steps = explained(&jwt_only, "opaque-token-value-0123456789").await;
    assert_eq!(outcome(&steps, "format"), Some(Outcome::Fail), "{steps:#?}");
    let introspecting = introspecting(&auth);
    let opaque = auth.token().audience(RESOURCE).opaque();
    let steps = explained(&introspecting, &opaque).await;
    assert_eq!(
        checks(&steps),
        [("format", Outcome::Pass), ("verdict", Outcome::Pass)],
        "{steps:#?}"
    );
}

#[actix_web::test]
async fn keys_are_counted_per_issuer_or_the_failure_named() {
    let auth = TestAuthServer::start();
    let oauth = auth.configure_issuer_only(RESOURCE).build().unwrap();
    let found = explain::keys(&oauth).await;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].issuer, auth.issuer());
    let Ok(Keys::Jwks {
        uri,
        keys,
        algorithms,
    }) = &found[0].keys
    else {
        panic!("{found:?}")
    };
    assert_eq!(uri, &auth.jwks_uri());
    assert!(
        *keys > 0 && algorithms.iter().any(|a| a == "RS256"),
        "{found:?}"
    );

    auth.set_jwks_fault(JwksFault::Status(500));
    let found = explain::keys(&oauth).await;
    let Err(why) = &found[0].keys else {
        panic!("{found:?}")
    };
    assert!(why.contains(&auth.jwks_uri()), "{why}");

    let introspected = introspecting(&auth);
    let found = explain::keys(&introspected).await;
    assert_eq!(found[0].keys, Ok(Keys::Introspected));

    let secret = McpOAuthBuilder::default()
        .resource(RESOURCE)
        .authorization_server("http://127.0.0.1:9/issuer")
        .hs256_secret("0123456789abcdef0123456789abcdef")
        .build()
        .unwrap();
    let found = explain::keys(&secret).await;
    assert_eq!(found[0].keys, Ok(Keys::SharedSecret));
}

#[actix_web::test]
async fn the_running_servers_metadata_is_compared_with_the_configuration() {
    let auth = TestAuthServer::start();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let resource = format!("{base}/mcp");
    let oauth = auth.configure(&resource).build().unwrap();
    let served = oauth.clone();
    let server = HttpServer::new(move || {
        App::new()
            .wrap(served.clone())
            .route("/mcp", web::post().to(|| async { "ok" }))
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(0)
    .listen(listener)
    .unwrap()
    .run();
    let handle = server.handle();
    actix_web::rt::spawn(server);

    let steps = explain::check_metadata(&oauth, &base).await;
    assert_eq!(
        checks(&steps),
        [
            ("metadata", Outcome::Pass),
            ("resource", Outcome::Pass),
            ("authorization_servers", Outcome::Pass)
        ],
        "{steps:#?}"
    );
    // The same server judged against another configuration: both differences named.
    let other = TestAuthServer::start();
    let elsewhere = other.configure(&format!("{base}/other")).build().unwrap();
    let steps = explain::check_metadata(&elsewhere, &base).await;
    assert_eq!(
        outcome(&steps, "metadata"),
        Some(Outcome::Fail),
        "{steps:#?}"
    );
    let steps = explain::check_metadata(&oauth, "http://127.0.0.1:9").await;
    assert_eq!(checks(&steps), [("metadata", Outcome::Fail)], "{steps:#?}");
    handle.stop(false).await;
}
