//! CORS for browser MCP clients (Fetch Standard, CORS protocol): preflights are never
//! challenged, and a refusal's `WWW-Authenticate` is readable cross-origin.

use std::net::TcpListener;

use actix_web::{App, HttpResponse, HttpServer, web};
use mcp_oauth::testing::TestAuthServer;

use crate::common::{Reply, client, send};

/// An MCP-like server wrapped with `McpOAuth` allowing `origin`, inside
/// `mcp_oauth::cors::for_oauth` (the same list).
fn start(origin: &'static str) -> (TestAuthServer, String, actix_web::dev::ServerHandle) {
    let auth = TestAuthServer::start();
    let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let oauth = auth
        .configure(&format!("{base}/mcp"))
        .allowed_origins([origin, "http://localhost:*"])
        .build()
        .unwrap();
    let server = HttpServer::new(move || {
        App::new()
            .wrap(oauth.clone())
            .wrap(mcp_oauth::cors::for_oauth(&oauth))
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
                "authorization, content-type, mcp-protocol-version, mcp-session-id, mcp-method, mcp-name, last-event-id, dpop",
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
        "mcp-method",
        "mcp-name",
        "last-event-id",
        "dpop",
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
    assert!(!reply.challenges().is_empty());
    assert_eq!(
        reply.header("access-control-allow-origin"),
        Some("https://inspector.example")
    );
    let exposed = header_list(&reply, "access-control-expose-headers");
    assert!(exposed.contains("www-authenticate"), "{exposed}");
    assert!(exposed.contains("mcp-session-id"), "{exposed}");
    assert!(exposed.contains("dpop-nonce"), "{exposed}");
    // Another origin gets no CORS grant, and the middleware's 403 (MCP transports
    // §Security Warning).
    let reply = send(
        client()
            .post(format!("{base}/mcp"))
            .insert_header(("origin", "https://evil.example")),
    )
    .await;
    assert_eq!(reply.status, 403);
    assert!(reply.header("access-control-allow-origin").is_none());
    drop(handle.stop(false));
}

// `cors::for_oauth` grants exactly the middleware's origins: its list (loopback wildcard
// included) and the resource's own; a foreign preflight is refused by the CORS layer.
#[actix_web::test]
async fn cors_for_oauth_follows_the_middlewares_allowed_origins() {
    let (_auth, base, handle) = start("https://inspector.example");
    let preflight = |origin: &str| {
        client()
            .request(actix_web::http::Method::OPTIONS, format!("{base}/mcp"))
            .insert_header(("origin", origin.to_owned()))
            .insert_header(("access-control-request-method", "POST"))
    };
    for allowed in ["http://localhost:6274", "HTTP://LOCALHOST:1", base.as_str()] {
        let reply = send(preflight(allowed)).await;
        assert_eq!(reply.status, 200, "{allowed}: {reply:?}");
        assert_eq!(reply.header("access-control-allow-origin"), Some(allowed));
        let reply = send(
            client()
                .post(format!("{base}/mcp"))
                .insert_header(("origin", allowed.to_owned())),
        )
        .await;
        assert_eq!(reply.status, 401, "{allowed}: {reply:?}");
        assert_eq!(reply.header("access-control-allow-origin"), Some(allowed));
    }
    for foreign in ["https://evil.example", "http://127.0.0.2:6274", "null"] {
        let reply = send(preflight(foreign)).await;
        assert!(reply.status >= 400, "{foreign}: {reply:?}");
        assert!(reply.header("access-control-allow-origin").is_none());
    }
    drop(handle.stop(false));
}
