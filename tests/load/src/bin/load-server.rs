//! One HTTP server for the load benchmark (`tests/load/run.sh` drives it with wrk).
//!
//! `load-server <scenario>`, scenario one of:
//! - `unprotected`: actix-web, `GET /mcp` answering a short JSON body;
//! - `cached`: the same `App` wrapped with `McpOAuth` (validation cache on, the default:
//!   after the first request every request is a cache hit);
//! - `cached-limited`: `cached` with every rate limit on (metadata 60/minute, refusals
//!   30/minute per address, and a per-principal quota too large to run out): what the
//!   limits cost on the authenticated cached path (run.sh prints `cached-limited / cached`);
//! - `uncached`: wrapped with `McpOAuth` and `cache_ttl(Duration::ZERO)`: every request
//!   verifies the RS256 signature;
//! - `axum-unprotected`: the equivalent axum route;
//! - `ors`: the axum route behind `oauth-resource-server`'s `AuthLayer` (it verifies
//!   every request; it has no validation cache).
//!
//! Every scenario starts one `mcp_oauth::testing::TestAuthServer` (its own thread) whose
//! JWKS both libraries use, and mints one RS256 token (`aud` = the resource URL, scope
//! `mcp`, valid for an hour). The HTTP server runs on ONE thread (actix `.workers(1)`,
//! tokio `current_thread`), so `taskset -c 0` pins it to one core. Before printing
//! `url=<url> token=<token>` on stdout, the server has fetched the JWKS and accepted the
//! token once (so the load measures the warm path). `PORT=<n>` chooses the port (0, the
//! default: any free one).

use std::io::Write as _;
use std::net::TcpListener;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{App, HttpResponse, HttpServer, web};
use mcp_oauth::McpOAuth;
use mcp_oauth::testing::TestAuthServer;

/// The response body of every scenario.
const BODY: &str = r#"{"ok":true}"#;
const SCOPE: &str = "mcp";

type Error = Box<dyn std::error::Error>;

fn main() -> ExitCode {
    let scenario = std::env::args().nth(1).unwrap_or_default();
    match run(&scenario) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("load-server {scenario}: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(scenario: &str) -> Result<(), Error> {
    let port: u16 = std::env::var("PORT").ok().map(|p| p.parse()).transpose()?.unwrap_or(0);
    let listener = TcpListener::bind(("127.0.0.1", port))?;
    let port = listener.local_addr()?.port();
    let resource = format!("http://127.0.0.1:{port}/mcp");

    let auth = TestAuthServer::start();
    // No Cache-Control refresh while measuring.
    auth.set_jwks_max_age(Some(24 * 3600));
    let token = auth
        .token()
        .audience(&resource)
        .scope(SCOPE)
        .expires_in(Duration::from_secs(3600))
        .sign();

    match scenario {
        "unprotected" => actix(listener, None, &resource, &token),
        "cached" => {
            let oauth = auth.configure(&resource).required_scopes([SCOPE]).build()?;
            actix(listener, Some(oauth), &resource, &token)
        }
        "cached-limited" => {
            let oauth = auth
                .configure(&resource)
                .required_scopes([SCOPE])
                .rate_limit_metadata(mcp_oauth::Rate::per_minute(60))
                .rate_limit_refusals(mcp_oauth::Rate::per_minute(30))
                .rate_limit_principal(mcp_oauth::Rate::new(1_000_000_000, Duration::from_secs(1)))
                .build()?;
            actix(listener, Some(oauth), &resource, &token)
        }
        "uncached" => {
            let oauth = auth
                .configure(&resource)
                .required_scopes([SCOPE])
                .cache_ttl(Duration::ZERO)
                .build()?;
            actix(listener, Some(oauth), &resource, &token)
        }
        "axum-unprotected" => axum_server(listener, None, &resource, &token),
        "ors" => axum_server(listener, Some(&auth), &resource, &token),
        other => Err(format!(
            "unknown scenario {other:?}: unprotected, cached, cached-limited, uncached, axum-unprotected or ors"
        )
        .into()),
    }
}

fn announce(resource: &str, token: &str) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "url={resource} token={token}")?;
    out.flush()?;
    Ok(())
}

// ---------------------------------------------------------------- actix-web (mcp-oauth)

async fn actix_handler() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(BODY)
}

fn actix(
    listener: TcpListener,
    oauth: Option<McpOAuth>,
    resource: &str,
    token: &str,
) -> Result<(), Error> {
    actix_web::rt::System::new().block_on(async move {
        let server = match oauth {
            None => HttpServer::new(|| App::new().route("/mcp", web::get().to(actix_handler)))
                .workers(1)
                .listen(listener)?
                .run(),
            Some(oauth) => {
                // Fetches the JWKS and checks the token (fills the cache when it is on).
                oauth
                    .authenticate(token)
                    .await
                    .map_err(|e| format!("the token was refused at start-up: {e:?}"))?;
                HttpServer::new(move || {
                    App::new()
                        .wrap(oauth.clone())
                        .route("/mcp", web::get().to(actix_handler))
                })
                .workers(1)
                .listen(listener)?
                .run()
            }
        };
        announce(resource, token)?;
        server.await?;
        Ok(())
    })
}

// ---------------------------------------------------------------- axum (oauth-resource-server)

async fn axum_handler() -> impl axum::response::IntoResponse {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], BODY)
}

fn axum_server(
    listener: TcpListener,
    auth: Option<&TestAuthServer>,
    resource: &str,
    token: &str,
) -> Result<(), Error> {
    use axum::Router;
    use axum::routing::get;
    use oauth_resource_server::axum::{AuthLayer, metadata_router};
    use oauth_resource_server::{KeyNaming, OAuthConfig, OAuthValidator};

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let route = Router::new().route("/mcp", get(axum_handler));
        let app = match auth {
            None => route,
            Some(auth) => {
                // The same checks as mcp-oauth's: iss, aud = the resource, exp/nbf, scope
                // `mcp`, RS256 against the same JWKS (plain http is allowed on loopback).
                let config = OAuthConfig {
                    enabled: true,
                    issuer: auth.issuer().to_owned(),
                    jwks_uri: Some(auth.jwks_uri()),
                    audience: resource.to_owned(),
                    resource: resource.to_owned(),
                    required_scope: Some(SCOPE.to_owned()),
                    ..OAuthConfig::default()
                }
                .resolve(KeyNaming::Dotted("oauth"))?
                .ok_or("OAuth config resolved to disabled")?;
                let validator = Arc::new(OAuthValidator::new(&config)?);
                validator.refresh_now().await?;
                validator
                    .validate(token)
                    .await
                    .map_err(|e| format!("the token was refused at start-up: {e:?}"))?;
                let layer = AuthLayer::builder().oauth(validator.clone()).build()?;
                route
                    .route_layer(layer)
                    .merge(metadata_router(Some(validator)))
            }
        };
        let listener = {
            listener.set_nonblocking(true)?;
            tokio::net::TcpListener::from_std(listener)?
        };
        announce(resource, token)?;
        axum::serve(listener, app).await?;
        Ok(())
    })
}
