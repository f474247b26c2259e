//! Discovery of the authorization server from its issuer URL alone, the startup checks
//! and their report, and what happens when the metadata cannot be had (RFC 8414 §3,
//! OpenID Connect Discovery §4).

use std::time::Duration;

use mcp_oauth::testing::{MetadataDocument, MetadataFault, TestAuthServer};
use mcp_oauth::{Check, DiscoveryStatus, McpOAuth, Severity, StartupReport, Strictness};
use serde_json::json;

use crate::common::*;

/// A resource server configured with nothing but the resource and the issuer.
fn issuer_only(auth: TestAuthServer) -> TestServer {
    Setup::new().auth(auth).start(|auth, resource| {
        McpOAuth::builder()
            .resource(resource)
            .authorization_server(auth.issuer())
    })
}

fn findings(report: &StartupReport, check: Check) -> Vec<Severity> {
    report.authorization_servers[0]
        .findings
        .iter()
        .filter(|f| f.check == check)
        .map(|f| f.severity)
        .collect()
}

// §3.1: the JWKS comes from the RFC 8414 metadata, found at the first URL tried; once.
#[actix_web::test]
async fn a_jwt_is_accepted_with_only_the_issuer_configured() {
    let srv = issuer_only(TestAuthServer::start());
    assert_eq!(
        srv.auth.metadata_requests(),
        0,
        "nothing is fetched before use"
    );
    assert_admitted(&srv.post_mcp(&srv.valid_token()).await);
    assert_admitted(
        &srv.post_mcp(&srv.token().claim("jti", json!(2)).sign())
            .await,
    );
    assert_eq!(srv.auth.metadata_requests_at(MetadataDocument::OAuth), 1);
    assert_eq!(srv.auth.metadata_requests(), 1);
    assert_eq!(srv.auth.jwks_requests(), 1);
}

// §3.1, RFC 8414 §2: the keys are where the metadata's `jwks_uri` says, which need not be
// `{issuer}/jwks` (Okta: `/v1/keys`, Keycloak: `/protocol/openid-connect/certs`). Nothing
// is fetched from a guessed location.
#[actix_web::test]
async fn the_jwks_is_fetched_where_the_metadata_says_not_where_a_guess_would_look() {
    let auth = TestAuthServer::builder()
        .issuer_path("/realms/test")
        .jwks_path("/realms/test/protocol/openid-connect/certs")
        .start();
    let guessed = format!("{}/jwks", auth.issuer());
    assert_ne!(auth.jwks_uri(), guessed);
    let srv = issuer_only(auth);
    assert_admitted(&srv.post_mcp(&srv.valid_token()).await);
    assert_eq!(srv.auth.jwks_requests(), 1);
    let report = srv.oauth.report();
    assert_eq!(
        report.authorization_servers[0].jwks_uri.as_deref(),
        Some(format!("{}/protocol/openid-connect/certs", srv.auth.issuer()).as_str())
    );
    // Nothing is served at the guessed location: had it been used, nothing would verify.
    assert_eq!(send(srv.client.get(guessed)).await.status, 404);
}

// The report says what was found and where; a compliant server has no findings.
#[actix_web::test]
async fn discover_reports_the_metadata_url_and_the_discovered_jwks() {
    let srv = issuer_only(TestAuthServer::start());
    let report = srv.oauth.discover().await.expect("discovery succeeds");
    let server = &report.authorization_servers[0];
    assert_eq!(server.issuer, srv.auth.issuer());
    assert_eq!(server.status, DiscoveryStatus::Ready);
    assert_eq!(
        server.metadata_url.as_deref(),
        Some(
            format!(
                "{}/.well-known/oauth-authorization-server",
                srv.auth.issuer()
            )
            .as_str()
        )
    );
    assert_eq!(
        server.jwks_uri.as_deref(),
        Some(srv.auth.jwks_uri().as_str())
    );
    assert_eq!(server.findings, []);
    assert_eq!(srv.oauth.report(), report);
    // Discovered once: the first request uses it.
    assert_admitted(&srv.post_mcp(&srv.valid_token()).await);
    assert_eq!(srv.auth.metadata_requests(), 1);
}

// §3.1: an issuer with a path: RFC 8414 path-inserted first.
#[actix_web::test]
async fn an_issuer_with_a_path_is_discovered_path_inserted() {
    let auth = TestAuthServer::builder().issuer_path("/tenant1").start();
    assert!(auth.issuer().ends_with("/tenant1"));
    let srv = issuer_only(auth);
    let report = srv.oauth.discover().await.expect("discovery succeeds");
    let origin = srv.auth.issuer().trim_end_matches("/tenant1").to_owned();
    assert_eq!(
        report.authorization_servers[0].metadata_url.as_deref(),
        Some(format!("{origin}/.well-known/oauth-authorization-server/tenant1").as_str())
    );
    assert_admitted(&srv.post_mcp(&srv.valid_token()).await);
}

// §3.1: a 404 at the first URL, then the OIDC path-inserted, then the OIDC appended one.
#[actix_web::test]
async fn failed_urls_fall_back_in_the_mcp_client_order() {
    let auth = TestAuthServer::builder().issuer_path("/tenant1").start();
    auth.set_metadata_fault(MetadataDocument::OAuth, MetadataFault::NotFound);
    let issuer = auth.issuer().to_owned();
    let origin = issuer.trim_end_matches("/tenant1").to_owned();
    let srv = issuer_only(auth);
    let report = srv.oauth.discover().await.expect("discovery succeeds");
    assert_eq!(
        report.authorization_servers[0].metadata_url.as_deref(),
        Some(format!("{origin}/.well-known/openid-configuration/tenant1").as_str())
    );
    assert_admitted(&srv.post_mcp(&srv.valid_token()).await);

    let auth = TestAuthServer::builder().issuer_path("/tenant1").start();
    auth.set_metadata_fault(MetadataDocument::OAuth, MetadataFault::Status(500));
    auth.set_metadata_fault(MetadataDocument::OidcPathInserted, MetadataFault::Garbage);
    let srv = issuer_only(auth);
    let report = srv.oauth.discover().await.expect("discovery succeeds");
    assert_eq!(
        report.authorization_servers[0].metadata_url.as_deref(),
        Some(format!("{}/.well-known/openid-configuration", srv.auth.issuer()).as_str())
    );
    assert_eq!(srv.auth.metadata_requests(), 3);
    assert_admitted(&srv.post_mcp(&srv.valid_token()).await);
}

// §3.2: a document whose issuer differs is never used; the error names every URL tried.
#[actix_web::test]
async fn metadata_with_a_mismatching_issuer_is_not_used() {
    let auth = TestAuthServer::start();
    for doc in [MetadataDocument::OAuth, MetadataDocument::OidcPathInserted] {
        auth.set_metadata_fault(doc, MetadataFault::WrongIssuer);
    }
    let srv = issuer_only(auth);
    let err = srv.oauth.discover().await.expect_err("no usable metadata");
    let text = err.to_string();
    assert!(
        text.contains("/.well-known/oauth-authorization-server:"),
        "{text}"
    );
    assert!(
        text.contains("/.well-known/openid-configuration:"),
        "{text}"
    );
    assert!(text.contains("RFC 8414 §3.3"), "{text}");
    assert_eq!(findings(err.report(), Check::Discovery), [Severity::Error]);
    assert_eq!(
        err.report().authorization_servers[0].status,
        DiscoveryStatus::Failed
    );
    // Tokens cannot be judged: 503, not 401, and the JWKS is never guessed.
    srv.assert_unavailable(&srv.post_mcp(&srv.valid_token()).await);
    assert_eq!(srv.auth.jwks_requests(), 0);
}

#[actix_web::test]
async fn metadata_that_is_not_json_is_reported() {
    let auth = TestAuthServer::start();
    for doc in [MetadataDocument::OAuth, MetadataDocument::OidcPathInserted] {
        auth.set_metadata_fault(doc, MetadataFault::Garbage);
    }
    let srv = issuer_only(auth);
    let err = srv.oauth.discover().await.expect_err("no usable metadata");
    assert!(err.to_string().contains("not a JSON object"), "{err}");
}

// §3.3: jwks_uri is required for local JWT validation.
#[actix_web::test]
async fn metadata_without_jwks_uri_fails_discovery_and_requests_get_503() {
    let auth = TestAuthServer::start();
    auth.patch_metadata(json!({"jwks_uri": null}));
    let srv = issuer_only(auth);
    let err = srv.oauth.discover().await.expect_err("no JWKS");
    assert_eq!(findings(err.report(), Check::JwksUri), [Severity::Error]);
    assert!(err.to_string().contains("jwks_uri"), "{err}");
    srv.assert_unavailable(&srv.post_mcp(&srv.valid_token()).await);
}

// §3.5: without S256 every compliant client refuses: an error by default, a warning when
// lenient, and never a reason to refuse tokens.
#[actix_web::test]
async fn missing_pkce_s256_is_an_error_unless_lenient() {
    let auth = TestAuthServer::start();
    auth.patch_metadata(json!({"code_challenge_methods_supported": ["plain"]}));
    let srv = issuer_only(auth);
    let err = srv.oauth.discover().await.expect_err("no S256");
    assert_eq!(findings(err.report(), Check::Pkce), [Severity::Error]);
    assert!(err.to_string().contains("S256"), "{err}");

    let auth = TestAuthServer::start();
    auth.patch_metadata(json!({"code_challenge_methods_supported": null}));
    let srv = Setup::new().auth(auth).start(|auth, resource| {
        McpOAuth::builder()
            .resource(resource)
            .authorization_server(auth.issuer())
            .discovery_strictness(Strictness::Lenient)
    });
    let report = srv.oauth.discover().await.expect("lenient");
    assert_eq!(findings(&report, Check::Pkce), [Severity::Warning]);
    assert_admitted(&srv.post_mcp(&srv.valid_token()).await);
}

// §3.6-3.7: no registration is a warning by default, an error when strict; no `code`
// response type is an error.
#[actix_web::test]
async fn strictness_decides_which_findings_are_errors() {
    let auth = TestAuthServer::start();
    auth.patch_metadata(json!({"registration_endpoint": null}));
    let srv = issuer_only(auth);
    let report = srv.oauth.discover().await.expect("a warning only");
    assert_eq!(
        findings(&report, Check::ClientRegistration),
        [Severity::Warning]
    );
    assert_eq!(report.warnings().count(), 1);

    let auth = TestAuthServer::start();
    auth.patch_metadata(json!({"registration_endpoint": null}));
    let srv = Setup::new().auth(auth).start(|auth, resource| {
        McpOAuth::builder()
            .resource(resource)
            .authorization_server(auth.issuer())
            .discovery_strictness(Strictness::Strict)
    });
    let err = srv.oauth.discover().await.expect_err("strict");
    assert_eq!(
        findings(err.report(), Check::ClientRegistration),
        [Severity::Error]
    );

    let auth = TestAuthServer::start();
    auth.patch_metadata(json!({"protected_resources": ["https://other.example.com/mcp"]}));
    let srv = issuer_only(auth);
    let report = srv.oauth.discover().await.expect("a warning only");
    assert_eq!(
        findings(&report, Check::ProtectedResources),
        [Severity::Warning]
    );

    let auth = TestAuthServer::start();
    auth.patch_metadata(json!({"response_types_supported": ["token"]}));
    let srv = issuer_only(auth);
    let err = srv.oauth.discover().await.expect_err("no code flow");
    assert_eq!(
        findings(err.report(), Check::ResponseTypes),
        [Severity::Error]
    );
}

// A configured JWKS URI needs no metadata to validate: an unreachable metadata document
// is then a warning, and a different discovered jwks_uri is flagged (§3.4).
#[actix_web::test]
async fn a_configured_jwks_uri_works_without_metadata_and_is_compared_with_it() {
    let auth = TestAuthServer::start();
    for doc in [MetadataDocument::OAuth, MetadataDocument::OidcPathInserted] {
        auth.set_metadata_fault(doc, MetadataFault::NotFound);
    }
    let srv = Setup::new()
        .auth(auth)
        .start(|auth, resource| auth.configure(resource));
    let report = srv.oauth.discover().await.expect("not needed");
    assert_eq!(findings(&report, Check::Discovery), [Severity::Warning]);
    assert_admitted(&srv.post_mcp(&srv.valid_token()).await);

    let srv = Setup::new().start(|auth, resource| {
        auth.configure(resource)
            .jwks_uri(format!("{}/jwks?other", auth.issuer()))
    });
    let report = srv.oauth.discover().await.expect("a warning only");
    assert_eq!(findings(&report, Check::JwksUri), [Severity::Warning]);
}

// Unreachable at startup: a clear error naming the URL and why...
#[actix_web::test]
async fn an_unreachable_authorization_server_is_a_clear_startup_error() {
    let down = HeldPort::bind();
    let issuer = down.url("");
    let oauth = McpOAuth::builder()
        .resource("http://127.0.0.1:9/mcp")
        .authorization_server(&issuer)
        .build()
        .unwrap();
    let err = oauth.discover().await.expect_err("nothing listens");
    let text = err.to_string();
    assert!(
        text.contains(&format!(
            "{issuer}/.well-known/oauth-authorization-server: request failed"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("{issuer}/.well-known/openid-configuration")),
        "{text}"
    );
    assert_eq!(down.connections(), 2, "each location tried once");
}

// ...or, when configured, start anyway: 503 until the server appears, then tokens work.
#[actix_web::test]
async fn with_background_retry_requests_get_503_until_the_server_appears() {
    let down = HeldPort::bind();
    let issuer = down.url("");
    let srv = Setup::new().start(|_, resource| {
        McpOAuth::builder()
            .resource(resource)
            .authorization_server(&issuer)
            .retry_discovery_in_background(true)
    });
    let report = srv.oauth.discover().await.expect("retrying, not failing");
    assert_eq!(findings(&report, Check::Discovery), [Severity::Error]);
    // The default test auth server (srv.auth) is not the configured one: its tokens are
    // from another issuer. Requests for the configured one cannot be judged yet.
    let late = TestAuthServer::builder()
        .listener(down.into_listener())
        .start();
    assert_eq!(late.issuer(), issuer);
    let token = late.token().audience(&srv.resource).sign();
    // The retry comes after a back-off of 1 s, then 2 s, 4 s...: poll (counting answers,
    // not timing them) with room for a slow machine.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let mut status = srv.post_mcp(&token).await.status;
    while status != 200 && std::time::Instant::now() < deadline {
        assert_eq!(status, 503);
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        status = srv.post_mcp(&token).await.status;
    }
    assert_eq!(status, 200, "the background retry found the metadata");
    assert_eq!(
        srv.oauth.report().authorization_servers[0].status,
        DiscoveryStatus::Ready
    );
}

// While the metadata is failing, requests inside the back-off do not fetch again.
#[actix_web::test]
async fn failing_discovery_backs_off_instead_of_fetching_per_request() {
    let auth = TestAuthServer::start();
    for doc in [MetadataDocument::OAuth, MetadataDocument::OidcPathInserted] {
        auth.set_metadata_fault(doc, MetadataFault::Status(503));
    }
    let srv = issuer_only(auth);
    for _ in 0..5 {
        srv.assert_unavailable(&srv.post_mcp(&srv.valid_token()).await);
    }
    assert_eq!(
        srv.auth.metadata_requests(),
        2,
        "one attempt: both URLs, once"
    );
}

// §3.11: a slow metadata endpoint is cut off by the HTTP timeout (300 ms against an
// answer after 30 s: a wide margin either way).
#[actix_web::test]
async fn slow_metadata_times_out() {
    let auth = TestAuthServer::start();
    for doc in [MetadataDocument::OAuth, MetadataDocument::OidcPathInserted] {
        auth.set_metadata_fault(doc, MetadataFault::Delay(Duration::from_secs(30)));
    }
    let srv = Setup::new().auth(auth).start(|auth, resource| {
        McpOAuth::builder()
            .resource(resource)
            .authorization_server(auth.issuer())
            .http_timeout(Duration::from_millis(300))
    });
    let err = srv.oauth.discover().await.expect_err("too slow");
    assert!(err.to_string().contains("timed out"), "{err}");
}

// The report on the optional diagnostics path: only for a valid token, and without the
// findings' messages (their error text can name internal hosts).
#[actix_web::test]
async fn the_diagnostics_path_serves_the_report() {
    let srv = Setup::new().start(|auth, resource| {
        McpOAuth::builder()
            .resource(resource)
            .authorization_server(auth.issuer())
            .diagnostics_path("/.well-known/mcp-oauth")
    });
    // A warning whose message is worth redacting.
    srv.auth
        .patch_metadata(serde_json::json!({ "registration_endpoint": null }));
    let anonymous = send(srv.get("/.well-known/mcp-oauth")).await;
    assert_eq!(anonymous.status, 401);
    assert!(!anonymous.text().contains("authorization_servers"));
    let forged = srv
        .auth
        .token()
        .audience(&srv.resource)
        .signed_by_unpublished_key()
        .sign();
    assert_eq!(
        send(srv.get("/.well-known/mcp-oauth").bearer(&forged))
            .await
            .status,
        401
    );
    let token = srv.valid_token();
    srv.oauth.discover().await.unwrap();
    let after = send(srv.get("/.well-known/mcp-oauth").bearer(&token)).await;
    assert_eq!(after.status, 200);
    assert_eq!(after.header("cache-control"), Some("no-store"));
    let doc = after.json();
    assert_eq!(doc["authorization_servers"][0]["status"], "ready");
    assert_eq!(
        doc["authorization_servers"][0]["jwks_uri"],
        srv.auth.jwks_uri()
    );
    let findings = doc["authorization_servers"][0]["findings"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(!findings.is_empty(), "{doc}");
    for finding in &findings {
        assert_eq!(finding["message"], "", "{finding}");
        assert!(finding["check"].is_string(), "{finding}");
    }
    let full = srv.oauth.report();
    assert!(
        full.authorization_servers[0]
            .findings
            .iter()
            .all(|f| !f.message.is_empty())
    );
    assert_eq!(
        send(srv.post("/.well-known/mcp-oauth").bearer(&token))
            .await
            .status,
        405
    );
}

// Discovery from the environment alone.
#[actix_web::test]
async fn the_environment_needs_only_the_resource_and_the_issuer() {
    let srv = Setup::new().start(|auth, resource| {
        mcp_oauth::McpOAuthBuilder::from_vars([
            ("MCP_OAUTH_RESOURCE", resource),
            ("MCP_OAUTH_AUTHORIZATION_SERVERS", auth.issuer()),
            ("MCP_OAUTH_DISCOVERY_STRICTNESS", "strict"),
            ("MCP_OAUTH_DIAGNOSTICS_PATH", "/diagnostics"),
        ])
    });
    srv.oauth.discover().await.expect("strict and compliant");
    assert_admitted(&srv.post_mcp(&srv.valid_token()).await);
    assert_eq!(send(srv.get("/diagnostics")).await.status, 401);
    let diagnostics = send(srv.get("/diagnostics").bearer(&srv.valid_token())).await;
    assert_eq!(diagnostics.status, 200);
}
