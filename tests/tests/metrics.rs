//! The `metrics` feature: a known sequence of requests over real HTTP, then the exact
//! counts in the Prometheus text the example server's metrics endpoint
//! (`examples/examples/common/metrics.rs`, a real exporter) serves, and no token anywhere
//! in it; and the `tracing` spans around validation, with the configured issuer and the
//! outcome, and no token either.
//!
//! A binary of its own: the recorder is process-wide, so no other test may send requests
//! beside the one that counts them.
#![allow(clippy::unwrap_used)]

#[path = "resource_server/common.rs"]
#[allow(dead_code)]
mod common;

#[path = "../../examples/examples/common/metrics.rs"]
#[allow(dead_code)]
mod example_metrics;

use mcp_oauth::testing::{JwksFault, MetadataDocument, MetadataFault, TestAuthServer};
use mcp_oauth::{McpOAuth, Validation};
use metrics_exporter_prometheus::PrometheusHandle;

use crate::common::*;

const TOOL_CALL_DELETE: &str = r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"delete_file","arguments":{"path":"/tmp/x"}}}"#;

/// The process-wide recorder, installed once as the example server installs it (every
/// metric described).
fn recorder() -> PrometheusHandle {
    static HANDLE: std::sync::OnceLock<PrometheusHandle> = std::sync::OnceLock::new();
    HANDLE
        .get_or_init(|| example_metrics::install().unwrap())
        .clone()
}

/// The example's metrics endpoint for `handle`, at `/metrics` on a free loopback port.
fn metrics_endpoint(handle: PrometheusHandle) -> String {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = example_metrics::serve(handle, "/metrics".to_owned(), listener).unwrap();
    actix_web::rt::spawn(server);
    base
}

/// The value of the sample `series` (name and labels exactly as exported), if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.trim().parse().unwrap())
}

/// Asserts `series` is exported with `expected`.
#[track_caller]
fn assert_sample(text: &str, series: &str, expected: f64) {
    assert_eq!(sample(text, series), Some(expected), "{series} in:\n{text}");
}

async fn post_json(srv: &TestServer, token: &str, body: &str, encoding: Option<&str>) -> Reply {
    let mut req = srv
        .post("/mcp/echo")
        .insert_header(("content-type", "application/json"))
        .bearer(token);
    if let Some(e) = encoding {
        req = req.insert_header(("content-encoding", e));
    }
    send_body(req, body.to_owned()).await
}

/// Every event and every span's close (with its fields as last recorded), into `logs`.
fn spans_into(logs: &LogBuffer) -> tracing::Dispatch {
    let logs = logs.clone();
    tracing::Dispatch::new(
        tracing_subscriber::fmt()
            .with_writer(move || logs.clone())
            .with_max_level(tracing::Level::TRACE)
            .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
            .with_ansi(false)
            .finish(),
    )
}

/// The closing lines of the spans named `name` (at the top, or inside another span).
fn closed<'a>(logs: &'a str, name: &str) -> Vec<&'a str> {
    let (top, nested) = (format!(" {name}{{"), format!(":{name}{{"));
    logs.lines()
        .filter(|l| (l.contains(&top) || l.contains(&nested)) && l.contains(": close "))
        .collect()
}

#[actix_web::test]
async fn a_known_sequence_of_requests_gives_exact_counts_and_no_token() {
    let metrics = metrics_endpoint(recorder());
    let logs = LogBuffer::default();
    let dispatch = spans_into(&logs);

    // A JWT server configured with its issuer only: metadata and keys are discovered.
    let jwt = Setup::new()
        .log_to(dispatch.clone())
        .start(|auth, resource| {
            auth.configure_issuer_only(resource)
                .require_scope_for_tool("delete_file", ["files:delete"])
        });
    // An introspecting server, against another authorization server.
    let auth = TestAuthServer::start();
    auth.introspection_client("rs", "introspection-secret-0123456789");
    let setup = Setup::new().auth(auth).log_to(dispatch);
    let opaque = setup.start(|auth, resource| {
        McpOAuth::builder()
            .resource(resource)
            .authorization_server(auth.issuer())
            .validation(Validation::Introspection)
            .introspection_client("rs", "introspection-secret-0123456789")
    });

    // An authorization server whose metadata cannot be had, one whose JWKS answers 500,
    // and a server behind the `httpauth` validator instead of the middleware.
    let undiscoverable = TestServer::discovered();
    for document in [
        MetadataDocument::OAuth,
        MetadataDocument::OidcPathInserted,
        MetadataDocument::OidcAppended,
    ] {
        undiscoverable
            .auth
            .set_metadata_fault(document, MetadataFault::Status(500));
    }
    let keyless = TestServer::start();
    keyless.auth.set_jwks_fault(JwksFault::Status(500));
    let httpauth = Setup::new()
        .guard(Guard::HttpAuth)
        .start(|auth, resource| auth.configure(resource));

    // A callsite first seen before the capture was registered may have cached "never".
    tracing::callsite::rebuild_interest_cache();

    let valid = jwt.token().scope("mcp").sign();
    let expired = jwt.token().expired().sign();
    let no_delete = jwt.token().scope("mcp").sign();
    let active = opaque.token().opaque();
    let unknown = "opaque-token-the-server-never-issued";

    // A valid token twice: one miss, then one hit.
    assert_eq!(jwt.post_mcp(&valid).await.status, 200);
    assert_eq!(jwt.post_mcp(&valid).await.status, 200);
    // No token.
    assert_eq!(jwt.post_mcp_anonymous().await.status, 401);
    // An expired token.
    assert_eq!(jwt.post_mcp(&expired).await.status, 401);
    // A tools/call of a tool whose scope the token lacks.
    assert_eq!(
        post_json(&jwt, &no_delete, TOOL_CALL_DELETE, None)
            .await
            .status,
        403
    );
    // A compressed body (the cached token: a hit) cannot be checked.
    assert_eq!(
        post_json(&jwt, &valid, TOOL_CALL_DELETE, Some("gzip"))
            .await
            .status,
        415
    );
    // An active opaque token, and one the authorization server does not know.
    assert_eq!(opaque.post_mcp(&active).await.status, 200);
    assert_eq!(opaque.post_mcp(unknown).await.status, 401);
    // Valid tokens that cannot be judged: no metadata, no keys.
    let (no_metadata, no_keys) = (undiscoverable.valid_token(), keyless.valid_token());
    assert_eq!(undiscoverable.post_mcp(&no_metadata).await.status, 503);
    assert_eq!(keyless.post_mcp(&no_keys).await.status, 503);
    // No token, through the httpauth validator.
    assert_eq!(httpauth.post_mcp_anonymous().await.status, 401);
    // The metadata twice where once an hour is allowed: one 429, not a judged request.
    let limited = TestServer::with(|b| b.rate_limit_metadata(mcp_oauth::Rate::per_hour(1)));
    assert_eq!(
        send(limited.client.get(&limited.metadata_url)).await.status,
        200
    );
    assert_eq!(
        send(limited.client.get(&limited.metadata_url)).await.status,
        429
    );

    let scrape = send(client().get(format!("{metrics}/metrics"))).await;
    assert_eq!(scrape.status, 200);
    assert_eq!(
        scrape.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    // Only the configured path answers.
    assert_eq!(
        send(client().get(format!("{metrics}/mcp"))).await.status,
        404
    );
    assert_eq!(
        send(client().post(format!("{metrics}/metrics")))
            .await
            .status,
        404
    );
    let text = scrape.text();
    let requests = |labels: &str| format!("mcp_oauth_requests_total{{{labels}}}");
    assert_sample(&text, &requests(r#"outcome="admitted""#), 3.0);
    assert_sample(&text, &requests(r#"outcome="missing""#), 2.0);
    assert_sample(&text, &requests(r#"outcome="unavailable""#), 2.0);
    assert_sample(
        &text,
        &requests(r#"outcome="invalid_token",kind="expired""#),
        1.0,
    );
    assert_sample(
        &text,
        &requests(r#"outcome="invalid_token",kind="inactive""#),
        1.0,
    );
    assert_sample(&text, &requests(r#"outcome="insufficient_scope""#), 1.0);
    assert_sample(&text, &requests(r#"outcome="unsupported_encoding""#), 1.0);
    assert_sample(
        &text,
        r#"mcp_oauth_rate_limited_total{limit="metadata"}"#,
        1.0,
    );
    assert_eq!(sample(&text, &requests(r#"outcome="rate_limited""#)), None);
    let total: f64 = text
        .lines()
        .filter(|l| l.starts_with("mcp_oauth_requests_total{"))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
        .sum();
    assert_eq!(total, 11.0, "every request counted once:\n{text}");

    // Hits: the second valid request and the compressed one; misses: the other 7 tokens.
    assert_sample(&text, "mcp_oauth_validation_cache_hits_total", 2.0);
    assert_sample(&text, "mcp_oauth_validation_cache_misses_total", 7.0);

    let (a, b) = (jwt.auth.issuer(), opaque.auth.issuer());
    let per = |name: &str, issuer: &str, outcome: Option<&str>| match outcome {
        Some(o) => format!(r#"{name}{{issuer="{issuer}",outcome="{o}"}}"#),
        None => format!(r#"{name}{{issuer="{issuer}"}}"#),
    };
    assert_sample(
        &text,
        &per("mcp_oauth_discovery_attempts_total", a, Some("found")),
        1.0,
    );
    assert_sample(
        &text,
        &per("mcp_oauth_discovery_attempts_total", b, Some("found")),
        1.0,
    );
    assert_sample(&text, &per("mcp_oauth_discovery_ready", a, None), 1.0);
    let c = undiscoverable.auth.issuer();
    assert_sample(
        &text,
        &per("mcp_oauth_discovery_attempts_total", c, Some("failed")),
        1.0,
    );
    assert_sample(&text, &per("mcp_oauth_discovery_ready", c, None), 0.0);
    let d = keyless.auth.issuer();
    assert_sample(
        &text,
        &per("mcp_oauth_jwks_fetches_total", d, Some("error")),
        1.0,
    );
    assert_sample(
        &text,
        &per("mcp_oauth_jwks_fetches_total", a, Some("ok")),
        1.0,
    );
    assert_eq!(
        sample(&text, &per("mcp_oauth_jwks_fetches_total", b, Some("ok"))),
        None
    );
    assert_sample(
        &text,
        &per("mcp_oauth_introspections_total", b, Some("active")),
        1.0,
    );
    assert_sample(
        &text,
        &per("mcp_oauth_introspections_total", b, Some("inactive")),
        1.0,
    );
    assert_sample(
        &text,
        &per("mcp_oauth_introspection_duration_seconds_count", b, None),
        2.0,
    );
    assert!(text.contains("# HELP mcp_oauth_requests_total "), "{text}");

    let tokens = [
        valid.as_str(),
        &expired,
        &no_delete,
        &active,
        unknown,
        &no_metadata,
        &no_keys,
    ];
    for token in tokens {
        assert!(!text.contains(token), "a token in the export:\n{text}");
    }

    // One `validate` span per validation (the five misses), each naming the configured
    // issuer it was routed to, and how it ended.
    let logs = logs.contents();
    let validations = closed(&logs, "validate");
    assert_eq!(validations.len(), 5, "{logs}");
    let count = |spans: &[&str], fields: &[String]| {
        spans
            .iter()
            .filter(|l| fields.iter().all(|f| l.contains(f.as_str())))
            .count()
    };
    let issuer_a = format!(r#"issuer="{a}""#);
    let valid_outcome = r#"outcome="valid""#.to_owned();
    assert_eq!(
        count(&validations, &[issuer_a.clone(), valid_outcome.clone()]),
        2,
        "{logs}"
    );
    let expired_outcome = r#"outcome="invalid_token" kind="expired""#.to_owned();
    assert_eq!(
        count(&validations, &[issuer_a, expired_outcome]),
        1,
        "{logs}"
    );
    // Introspection: one span per call, with its issuer and outcome.
    let introspections = closed(&logs, "introspect");
    assert_eq!(introspections.len(), 2, "{logs}");
    let issuer_b = format!(r#"issuer="{b}""#);
    assert_eq!(
        count(&introspections, &[issuer_b.clone(), valid_outcome]),
        1,
        "{logs}"
    );
    let inactive = r#"outcome="invalid_token" kind="inactive""#.to_owned();
    assert_eq!(count(&introspections, &[issuer_b, inactive]), 1, "{logs}");
    for token in tokens {
        assert!(!logs.contains(token), "a token in the logs:\n{logs}");
    }

    // The shared state not answering (a Redis nobody listens for), counted by use, after
    // every count above: an introspected token is introspected here (one failed lookup),
    // a session is bound here only (one failed write) and is 404 on an instance that
    // does not know it (one failed lookup).
    let port = std::net::TcpListener::bind(("127.0.0.1", 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dead = mcp_oauth::SharedState::redis(&format!("redis://127.0.0.1:{port}")).unwrap();
    let shared = dead.clone();
    let introspecting = Setup::new().start_introspecting(move |b| b.shared_state(shared.clone()));
    let token = introspecting.token().opaque();
    assert_admitted(&send(introspecting.get("/mcp").bearer(&token)).await);
    let shared = dead.clone();
    let first = TestServer::with(move |b| b.shared_state(shared.clone()));
    let (public, issuer, jwks) = (
        first.resource.clone(),
        first.auth.issuer().to_owned(),
        first.auth.jwks_uri(),
    );
    let second = Setup::new().start(move |_, _| {
        McpOAuth::builder()
            .resource(public)
            .authorization_server(issuer)
            .jwks_uri(jwks)
            .shared_state(dead)
    });
    let alice = first.valid_token();
    let opened = send(first.post("/session").bearer(&alice)).await;
    let session = opened.header("mcp-session-id").unwrap().to_owned();
    let elsewhere = send(
        second
            .get("/mcp")
            .bearer(&alice)
            .insert_header(("Mcp-Session-Id", session)),
    )
    .await;
    assert_eq!(elsewhere.status, 404, "{}", elsewhere.text());
    let text = send(client().get(format!("{metrics}/metrics")))
        .await
        .text();
    let failures = "mcp_oauth_shared_state_failures_total";
    assert_sample(&text, &format!(r#"{failures}{{use="introspection"}}"#), 1.0);
    assert_sample(&text, &format!(r#"{failures}{{use="session"}}"#), 2.0);
}

/// The README's "Metrics" table lists every metric of `mcp_oauth::METRICS`, with its type.
#[test]
fn the_readme_lists_every_metric() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    for m in mcp_oauth::METRICS {
        let kind = format!("{:?}", m.kind).to_lowercase();
        let row = format!("| `{}` | {kind} |", m.name);
        assert!(readme.contains(&row), "no README row starting {row}");
    }
}
