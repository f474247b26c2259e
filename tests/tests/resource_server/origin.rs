//! `Origin` validation against DNS rebinding (MCP 2025-11-25 transports §Security
//! Warning, MCP 2026-07-28 Streamable HTTP §Security Warning): a present `Origin` that is
//! not allowed gets 403 with a JSON-RPC error without `id`, before any token work;
//! origins compare as RFC 6454 §4-§5 tuples.

use mcp_oauth::McpOAuthBuilder;
use mcp_oauth::testing::TestAuthServer;
use serde_json::json;

use crate::common::*;

/// `POST /mcp` with this `Origin` and, if any, this token.
async fn from(srv: &TestServer, origin: &str, token: Option<&str>) -> Reply {
    let req = srv.post("/mcp").insert_header(("Origin", origin));
    send(match token {
        Some(t) => req.bearer(t),
        None => req,
    })
    .await
}

/// The 403 of MCP transports §Security Warning: a JSON-RPC error response without `id`,
/// no challenge, nothing of the origin echoed.
fn assert_origin_refused(reply: &Reply, origin: &str) {
    assert_eq!(reply.status, 403, "{origin}: {reply:?}");
    assert!(reply.header("www-authenticate").is_none(), "{reply:?}");
    let body = reply.json();
    assert_eq!(body["jsonrpc"], "2.0", "{body}");
    assert_eq!(body["error"]["code"], -32600, "{body}");
    assert!(body["error"]["message"].is_string(), "{body}");
    assert!(body.get("id").is_none(), "{body}");
    assert!(!reply.text().contains(origin), "{body}");
}

// DNS rebinding: a page at attacker.example re-resolves its name to 127.0.0.1, so its
// requests carry a loopback Host and the attacker's Origin. Even with a valid token
// (introspected, so every validation is a counted call) nothing of the token is looked at,
// behind the middleware and behind actix-web-httpauth (`mcp_oauth::httpauth`) alike.
#[actix_web::test]
async fn a_rebinding_page_gets_403_before_any_token_work() {
    for guard in [Guard::McpOAuth, Guard::HttpAuth] {
        let srv = Setup::new().guard(guard).start_introspecting(|b| b);
        let token = srv.token().opaque();
        let port = srv.base.rsplit(':').next().unwrap();
        let attacker = format!("http://attacker.example:{port}");
        for token in [Some(token.as_str()), None] {
            let reply = from(&srv, &attacker, token).await;
            assert_origin_refused(&reply, &attacker);
        }
        assert_eq!(srv.auth.introspection_requests(), 0);
        assert_eq!(srv.auth.metadata_requests(), 0);
        assert_eq!(srv.oauth.cache_len(), Some(0));
        // The same token without an Origin (a non-browser client) is served, and from
        // the resource's own origin.
        assert_admitted(&srv.post_mcp(&token).await);
        assert_eq!(srv.auth.introspection_requests(), 1);
        let own = srv.base.clone();
        assert_admitted(&from(&srv, &own, Some(&token)).await);
    }
}

#[actix_web::test]
async fn origin_null_is_refused_unless_listed() {
    let srv = TestServer::start();
    let token = srv.valid_token();
    assert_origin_refused(&from(&srv, "null", Some(&token)).await, "null");
    assert_eq!(srv.oauth.cache_len(), Some(0), "no validation");
    let srv = TestServer::with(|b| b.allowed_origins(["null"]));
    assert_admitted(&from(&srv, "null", Some(&srv.valid_token())).await);
}

// RFC 6454 §5: the resource's own origin, scheme and host in any case, its port exact.
#[actix_web::test]
async fn the_resources_own_origin_is_allowed() {
    let srv = TestServer::start();
    let token = srv.valid_token();
    let own = srv.base.clone(); // http://127.0.0.1:<port>
    assert_admitted(&from(&srv, &own, Some(&token)).await);
    let upper = own.replacen("http", "HTTP", 1);
    assert_admitted(&from(&srv, &upper, Some(&token)).await);
    for other in [
        own.replacen("http", "https", 1),
        format!("{own}0"),
        "http://127.0.0.1".to_owned(),
        format!("{own}/"),
    ] {
        assert_origin_refused(&from(&srv, &other, Some(&token)).await, &other);
    }
    // Without a token, the own origin is challenged as usual.
    srv.assert_no_token(&from(&srv, &own, None).await);
}

#[actix_web::test]
async fn configured_origins_compare_case_insensitively_with_default_ports_made_explicit() {
    let srv = TestServer::with(|b| {
        b.allowed_origins([
            "http://localhost:8080",
            "https://app.example",
            "http://plain.example:80",
        ])
    });
    let token = srv.valid_token();
    for allowed in [
        "http://localhost:8080",
        "HTTP://LOCALHOST:8080",
        "https://app.example",
        "https://APP.example:443",
        "http://plain.example",
        "http://plain.example:80",
    ] {
        assert_admitted(&from(&srv, allowed, Some(&token)).await);
    }
    for refused in [
        "http://localhost:8081",
        "http://localhost",
        "https://localhost:8080",
        "https://app.example:8443",
        "http://app.example",
        "https://app.example.evil.example",
        "http://plain.example:8080",
    ] {
        assert_origin_refused(&from(&srv, refused, Some(&token)).await, refused);
    }
}

#[actix_web::test]
async fn a_loopback_wildcard_allows_any_port_of_that_host_only() {
    let srv = TestServer::with(|b| b.allowed_origins(["http://localhost:*"]));
    let token = srv.valid_token();
    for allowed in [
        "http://localhost:6274",
        "http://localhost",
        "http://LocalHost:1",
    ] {
        assert_admitted(&from(&srv, allowed, Some(&token)).await);
    }
    for refused in [
        "https://localhost:6274",
        "http://[::1]:6274",
        "http://localhost.attacker.example:6274",
    ] {
        assert_origin_refused(&from(&srv, refused, Some(&token)).await, refused);
    }
}

#[actix_web::test]
async fn the_list_can_come_from_the_environment_only() {
    let srv = Setup::new().start(|auth, resource| {
        McpOAuthBuilder::from_vars([
            ("MCP_OAUTH_RESOURCE", resource.to_owned()),
            ("MCP_OAUTH_AUTHORIZATION_SERVERS", auth.issuer().to_owned()),
            ("MCP_OAUTH_JWKS_URI", auth.jwks_uri()),
            (
                "MCP_OAUTH_ALLOWED_ORIGINS",
                "https://app.example, http://127.0.0.1:*".to_owned(),
            ),
        ])
    });
    let token = srv.valid_token();
    for allowed in ["https://app.example", "http://127.0.0.1:6274"] {
        assert_admitted(&from(&srv, allowed, Some(&token)).await);
    }
    let refused = "https://other.example";
    assert_origin_refused(&from(&srv, refused, Some(&token)).await, refused);
}

#[test]
fn a_wildcard_or_a_malformed_entry_is_reported_at_build() {
    let auth = TestAuthServer::start();
    let resource = "http://127.0.0.1:8080/mcp";
    for bad in [
        "*",
        "https://*.example.com",
        "http://example.com:*",
        "https://app.example/",
        "app.example",
    ] {
        let from_env = McpOAuthBuilder::from_vars([
            ("MCP_OAUTH_RESOURCE", resource.to_owned()),
            ("MCP_OAUTH_AUTHORIZATION_SERVERS", auth.issuer().to_owned()),
            ("MCP_OAUTH_JWKS_URI", auth.jwks_uri()),
            (
                "MCP_OAUTH_ALLOWED_ORIGINS",
                format!("http://localhost:* {bad}"),
            ),
        ]);
        let in_code = auth.configure(resource).allowed_origins([bad]);
        for builder in [from_env, in_code] {
            let err = builder.build().unwrap_err();
            let problems = err.problems();
            assert_eq!(problems.len(), 1, "{bad}: {err}");
            assert_eq!(problems[0].setting(), "MCP_OAUTH_ALLOWED_ORIGINS");
            assert!(problems[0].message().contains(bad), "{err}");
        }
    }
}

// The metadata is public (RFC 9728 §3, CORS `*`) and public paths are the application's:
// neither is checked. The diagnostics report needs a token, so its Origin is checked.
#[actix_web::test]
async fn metadata_and_public_paths_stay_open_to_any_origin() {
    let srv = TestServer::with(|b| b.public_path("/health").diagnostics_path("/diag"));
    let foreign = "https://attacker.example";
    let metadata = send(
        srv.client
            .get(&srv.metadata_url)
            .insert_header(("Origin", foreign)),
    )
    .await;
    assert_eq!(metadata.status, 200, "{metadata:?}");
    assert_eq!(metadata.json()["resource"], json!(srv.resource));
    let health = send(srv.get("/health").insert_header(("Origin", foreign))).await;
    assert_eq!(health.status, 200, "{health:?}");
    let diag = send(
        srv.get("/diag")
            .insert_header(("Origin", foreign))
            .bearer(&srv.valid_token()),
    )
    .await;
    assert_origin_refused(&diag, foreign);
    assert_eq!(srv.oauth.cache_len(), Some(0));
}

// A preflight from a foreign origin is refused here too (without a CORS layer it would
// reach the application); one from an allowed origin is passed on unauthenticated.
#[actix_web::test]
async fn a_preflight_from_a_foreign_origin_is_refused() {
    let srv = TestServer::with(|b| b.allowed_origins(["https://app.example"]));
    let preflight = |origin: &'static str| {
        srv.client
            .request(actix_web::http::Method::OPTIONS, srv.url("/mcp"))
            .insert_header(("Origin", origin))
            .insert_header(("Access-Control-Request-Method", "POST"))
    };
    let allowed = send(preflight("https://app.example")).await;
    assert_eq!(allowed.status, 204, "{allowed:?}");
    let foreign = send(preflight("https://attacker.example")).await;
    assert_origin_refused(&foreign, "https://attacker.example");
}

// Two Origin headers are not what a browser sends: refused, whichever is first.
#[actix_web::test]
async fn a_repeated_origin_is_refused() {
    let srv = TestServer::start();
    let reply = send(
        srv.post("/mcp")
            .append_header(("Origin", srv.base.as_str()))
            .append_header(("Origin", srv.base.as_str()))
            .bearer(&srv.valid_token()),
    )
    .await;
    assert_origin_refused(&reply, &srv.base);
}
