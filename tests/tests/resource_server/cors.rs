//! CORS for browser MCP clients (Fetch Standard, CORS protocol): preflights are never
//! challenged, and a refusal's `WWW-Authenticate` is readable cross-origin.

use std::net::TcpListener;

use actix_web::{App, HttpResponse, HttpServer, web};
use mcp_oauth::testing::TestAuthServer;

use crate::common::{Reply, client, send};

/// An MCP-like server wrapped with `McpOAuth`, inside `mcp_oauth::cors::for_origins`.
fn start(origin: &'static str) -> (TestAuthServer, String, actix_web::dev::ServerHandle) {
    let auth = TestAuthServer::start();
    let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let oauth = auth.configure(&format!("{base}/mcp")).build().unwrap();
    let server = HttpServer::new(move || {
        App::new()
            .wrap(oauth.clone())
            .wrap(mcp_oauth::cors::for_origins([origin]))
            .route("/mcp", web::post().to(HttpResponse::Ok))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .unwrap()
    .run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    (auth, base, handle)
}

fn header_list(reply: &Reply, name: &str) -> String {
    reply.header(name).unwrap_or_default().to_ascii_lowercase()
}

#[actix_web::test]
async fn a_preflight_is_answered_without_a_challenge_and_allows_the_mcp_headers() {
    let (_auth, base, handle) = start("https://inspector.example");
    let reply = send(
        client()
            .request(actix_web::http::Method::OPTIONS, format!("{base}/mcp"))
            .insert_header(("origin", "https://inspector.example"))
            .insert_header(("access-control-request-method", "POST"))
            .insert_header((
                "access-control-request-headers",
                "authorization, content-type, mcp-protocol-version, mcp-session-id, last-event-id",
            )),
    )
    .await;
    assert_eq!(reply.status, 200);
    assert!(reply.header("www-authenticate").is_none());
    assert_eq!(
        reply.header("access-control-allow-origin"),
        Some("https://inspector.example")
    );
    let allowed = header_list(&reply, "access-control-allow-headers");
    for h in [
        "authorization",
        "content-type",
        "mcp-protocol-version",
        "mcp-session-id",
        "last-event-id",
    ] {
        assert!(allowed.contains(h), "{h} in {allowed}");
    }
    drop(handle.stop(false));
}

#[actix_web::test]
async fn a_refusal_is_readable_cross_origin() {
    let (_auth, base, handle) = start("https://inspector.example");
    let reply = send(
        client()
            .post(format!("{base}/mcp"))
            .insert_header(("origin", "https://inspector.example")),
    )
    .await;
    assert_eq!(reply.status, 401);
    assert!(reply.header("www-authenticate").is_some());
    assert_eq!(
        reply.header("access-control-allow-origin"),
        Some("https://inspector.example")
    );
    let exposed = header_list(&reply, "access-control-expose-headers");
    assert!(exposed.contains("www-authenticate"), "{exposed}");
    assert!(exposed.contains("mcp-session-id"), "{exposed}");
    // Another origin gets no CORS grant.
    let reply = send(
        client()
            .post(format!("{base}/mcp"))
            .insert_header(("origin", "https://evil.example")),
    )
    .await;
    assert!(reply.header("access-control-allow-origin").is_none());
    drop(handle.stop(false));
}
