//! RFC 9728 Protected Resource Metadata (§2, §3) and where it is found (§3.1, §5.1).

use actix_web::http::Method;
use serde_json::json;

use crate::common::*;

/// Asserts the common headers of a metadata answer (RFC 9728 §3.2, §7.10; CORS).
fn assert_metadata_headers(reply: &Reply) {
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let cache = reply
        .header("cache-control")
        .expect("Cache-Control on the metadata");
    assert!(cache.contains("max-age="), "{cache}");
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
    assert!(reply.header("www-authenticate").is_none());
}

/// The document the configuration `resource` + `issuers` (+ `extra` members) must
/// produce, written out by the test (RFC 9728 §2): the library is not asked.
fn expected(resource: &str, issuers: &[&str], extra: serde_json::Value) -> serde_json::Value {
    let mut doc = json!({
        "resource": resource,
        "authorization_servers": issuers,
        "bearer_methods_supported": ["header"],
        // DPoP accepted beside Bearer by default (RFC 9728 §2, RFC 9449 §7.2).
        "dpop_signing_alg_values_supported":
            ["ES256", "ES384", "EdDSA", "PS256", "PS384", "PS512", "RS256", "RS384", "RS512"],
    });
    if let (Some(doc), Some(extra)) = (doc.as_object_mut(), extra.as_object()) {
        doc.extend(extra.clone());
    }
    doc
}

/// Asserts `reply` is the metadata document `doc`, with `resource` byte for byte as
/// configured (RFC 9728 §3.3: never re-serialised).
fn assert_document(reply: &Reply, doc: &serde_json::Value) {
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_metadata_headers(reply);
    assert_eq!(&reply.json(), doc);
    let resource = doc["resource"].as_str().unwrap();
    let member = format!("\"resource\":{}", serde_json::to_string(resource).unwrap());
    assert!(reply.text().contains(&member), "{}", reply.text());
}

// RFC 9728 §2, §3.1-3.3; MCP authorization §Authorization Server Location
#[actix_web::test]
async fn path_suffixed_metadata_is_served_without_a_token() {
    let srv = TestServer::start();
    let reply = send(srv.get(&format!("{WELL_KNOWN}/mcp"))).await;
    let issuer = srv.auth.issuer();
    assert_document(
        &reply,
        &expected(&format!("{}/mcp", srv.base), &[issuer], json!({})),
    );
    assert_eq!(srv.auth.jwks_requests(), 0);
    assert_eq!(srv.auth.metadata_requests(), 0);
}

// MCP 2025-11-25 authorization §Protected Resource Metadata Discovery Requirements: the root
// form, for clients that probe only the root.
#[actix_web::test]
async fn root_metadata_is_the_same_document() {
    let srv = TestServer::with(|b| b.required_scopes(["mcp:tools"]).resource_name("Files"));
    let doc = expected(
        &format!("{}/mcp", srv.base),
        &[srv.auth.issuer()],
        json!({"scopes_supported": ["mcp:tools"], "resource_name": "Files"}),
    );
    let suffixed = send(srv.get(&format!("{WELL_KNOWN}/mcp"))).await;
    assert_document(&suffixed, &doc);
    let root = send(srv.get(WELL_KNOWN)).await;
    assert_document(&root, &doc);
    assert_eq!(root.body, suffixed.body);
}

// RFC 9728 §2: `scopes_supported` = required ∪ supported, never `[]`, each once, the
// required ones first.
#[actix_web::test]
async fn scopes_supported_lists_required_and_supported_scopes() {
    let srv = TestServer::with(|b| {
        b.required_scopes(["mcp:tools"])
            .scopes_supported(["files:read", "mcp:tools"])
    });
    let reply = send(srv.get(&format!("{WELL_KNOWN}/mcp"))).await;
    assert_document(
        &reply,
        &expected(
            &format!("{}/mcp", srv.base),
            &[srv.auth.issuer()],
            json!({"scopes_supported": ["mcp:tools", "files:read"]}),
        ),
    );
}

// RFC 9728 §3.2: zero values are omitted.
#[actix_web::test]
async fn scopes_supported_is_absent_when_no_scopes_are_configured() {
    let srv = TestServer::start();
    let doc = send(srv.get(&format!("{WELL_KNOWN}/mcp"))).await.json();
    assert!(doc.get("scopes_supported").is_none(), "{doc}");
    assert!(doc.get("resource_name").is_none(), "{doc}");
    assert!(doc.get("resource_documentation").is_none(), "{doc}");
}

// RFC 9728 §2
#[actix_web::test]
async fn resource_name_and_documentation_are_published_when_set() {
    let srv = TestServer::with(|b| {
        b.resource_name("Acme files")
            .resource_documentation("https://docs.example.com/mcp")
    });
    let reply = send(srv.get(&format!("{WELL_KNOWN}/mcp"))).await;
    assert_document(
        &reply,
        &expected(
            &format!("{}/mcp", srv.base),
            &[srv.auth.issuer()],
            json!({
                "resource_name": "Acme files",
                "resource_documentation": "https://docs.example.com/mcp",
            }),
        ),
    );
}

// MCP authorization §Authorization Server Location: every configured authorization server,
// in the configured order, each spelled exactly as configured (a terminating `/` kept, none
// added).
#[actix_web::test]
async fn authorization_servers_are_the_configured_issuers_in_order() {
    let srv = Setup::new().start(|auth, r| {
        auth.configure_issuer_only(r)
            .authorization_server("https://login.example.com/")
            .authorization_server("https://sts.partner.example/tenant/v2.0")
    });
    let reply = send(srv.get(&format!("{WELL_KNOWN}/mcp"))).await;
    assert_document(
        &reply,
        &expected(
            &format!("{}/mcp", srv.base),
            &[
                srv.auth.issuer(),
                "https://login.example.com/",
                "https://sts.partner.example/tenant/v2.0",
            ],
            json!({}),
        ),
    );
}

#[actix_web::test]
async fn head_of_the_metadata_is_200_without_a_body() {
    let srv = TestServer::start();
    let reply = send(
        srv.client
            .request(Method::HEAD, srv.url(&format!("{WELL_KNOWN}/mcp"))),
    )
    .await;
    assert_eq!(reply.status, 200);
    assert!(reply.body.is_empty());
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
}

// Fetch Standard, CORS protocol: readable from browsers.
#[actix_web::test]
async fn options_of_the_metadata_is_204_with_cors() {
    let srv = TestServer::start();
    let req = srv
        .client
        .request(Method::OPTIONS, srv.url(&format!("{WELL_KNOWN}/mcp")))
        .insert_header(("Origin", "http://localhost:6274"))
        .insert_header(("Access-Control-Request-Method", "GET"));
    let reply = send(req).await;
    assert_eq!(reply.status, 204);
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
    let allow = reply.header("allow").unwrap();
    assert!(allow.contains("GET"), "{allow}");
    assert!(reply.header("www-authenticate").is_none());
}

#[actix_web::test]
async fn post_to_the_metadata_is_405_with_allow() {
    let srv = TestServer::start();
    let reply = send(srv.post(&format!("{WELL_KNOWN}/mcp"))).await;
    assert_eq!(reply.status, 405);
    assert_eq!(reply.header("allow"), Some("GET, HEAD, OPTIONS"));
    assert!(reply.header("www-authenticate").is_none());
}

// The metadata is public: a bad token on the metadata request is simply ignored.
#[actix_web::test]
async fn metadata_ignores_credentials_even_bad_ones() {
    let srv = TestServer::start();
    let reply = send(srv.get(&format!("{WELL_KNOWN}/mcp")).bearer("garbage")).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["resource"], srv.resource);
}

// RFC 9728 §5.1: the URL in the challenge resolves to this resource's metadata.
#[actix_web::test]
async fn resource_metadata_in_the_challenge_resolves_to_the_document() {
    let srv = TestServer::start();
    let challenge = srv.post_mcp_anonymous().await.challenge().to_owned();
    let url = challenge
        .split("resource_metadata=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    assert_eq!(url, srv.metadata_url);
    let reply = send(srv.client.get(url)).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["resource"], srv.resource);
}

// RFC 8414 §3.3: the advertised issuer is the configured one, and what a client finds at
// its RFC 8414 location names the same issuer.
#[actix_web::test]
async fn authorization_servers_equal_the_issuer_of_the_authorization_server_metadata() {
    let auth = mcp_oauth::testing::TestAuthServer::builder()
        .issuer_path("/tenant1")
        .start();
    let configured = auth.issuer().to_owned();
    let srv = Setup::new()
        .auth(auth)
        .start(|auth, r| auth.configure_issuer_only(r));
    let doc = send(srv.get(&format!("{WELL_KNOWN}/mcp"))).await.json();
    assert_eq!(doc["authorization_servers"], json!([configured]));
    // RFC 8414 §3.1: the well-known segment goes between the host and the issuer's path.
    let (origin, path) = configured.split_at(configured.len() - "/tenant1".len());
    let as_url = format!("{origin}/.well-known/oauth-authorization-server{path}");
    let as_doc = send(srv.client.get(as_url)).await.json();
    assert_eq!(as_doc["issuer"], json!(configured));
}

/// Starts a server whose resource is the origin plus `suffix`, and checks that the
/// metadata at `metadata_path` (and the challenge naming it) keep the resource verbatim.
async fn assert_resource_kept_verbatim(suffix: &str, metadata_path: &str) {
    let srv = Setup::new()
        .resource_suffix(suffix)
        .start(|auth, r| auth.configure(r));
    assert!(srv.resource.ends_with(suffix));
    let reply = send(srv.get(metadata_path)).await;
    assert_eq!(reply.status, 200);
    assert!(
        reply
            .text()
            .contains(&format!("\"resource\":\"{}\"", srv.resource)),
        "{}",
        reply.text()
    );
    assert_eq!(
        srv.post_mcp_anonymous().await.challenge(),
        format!("Bearer resource_metadata=\"{}{metadata_path}\"", srv.base)
    );
}

// RFC 9728 §3.3, §3.1: a trailing slash is kept verbatim in `resource` and removed before
// the well-known segment is inserted.
#[actix_web::test]
async fn resource_with_a_trailing_slash_keeps_it() {
    assert_resource_kept_verbatim("/mcp/", &format!("{WELL_KNOWN}/mcp")).await;
}

// RFC 9728 §3.3: `url::Url` would add a slash to an origin; the string is kept.
#[actix_web::test]
async fn origin_resource_without_a_slash_keeps_none() {
    assert_resource_kept_verbatim("", WELL_KNOWN).await;
}

#[actix_web::test]
async fn origin_resource_with_a_slash_keeps_it() {
    assert_resource_kept_verbatim("/", WELL_KNOWN).await;
}

// RFC 9728 §3.1: nested paths are inserted after the host, not after the path.
#[actix_web::test]
async fn nested_resource_path_is_inserted_after_the_host() {
    let srv = Setup::new()
        .resource_suffix("/public/mcp")
        .start(|auth, r| auth.configure(r));
    let reply = send(srv.get(&format!("{WELL_KNOWN}/public/mcp"))).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["resource"], srv.resource);
    // The wrong placement (after the path) is not the metadata: it needs a token like any path.
    let wrong = send(srv.get(&format!("/public/mcp{WELL_KNOWN}"))).await;
    assert_eq!(wrong.status, 401);
}

// RFC 9728 §3.1: a query stays after the inserted path.
#[actix_web::test]
async fn resource_with_a_query_keeps_it_in_the_metadata_url() {
    let srv = Setup::new()
        .resource_suffix("/mcp?t=a")
        .start(|auth, r| auth.configure(r));
    assert!(srv.metadata_url.ends_with(&format!("{WELL_KNOWN}/mcp?t=a")));
    let challenge = srv.post_mcp_anonymous().await.challenge().to_owned();
    assert_eq!(challenge, srv.no_token_challenge(None));
    let reply = send(srv.client.get(srv.metadata_url.clone())).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["resource"], srv.resource);
}

// RFC 9728 §3.2: a well-known metadata path of no resource here is a JSON 404, never a
// challenge.
#[actix_web::test]
async fn unknown_metadata_paths_are_json_404_not_challenges() {
    let srv = TestServer::start();
    for path in [
        format!("{WELL_KNOWN}/other"),
        format!("{WELL_KNOWN}/mcp/deeper"),
    ] {
        let reply = send(srv.get(&path)).await;
        assert_eq!(reply.status, 404, "{path}");
        assert!(reply.header("www-authenticate").is_none(), "{path}");
        assert_eq!(reply.json()["error"], "not_found", "{path}");
    }
    // A neighbour of the prefix is not under it: an ordinary protected path.
    let reply = send(srv.get(&format!("{WELL_KNOWN}-other"))).await;
    assert_eq!(reply.status, 401);
}
