//! The example's Prometheus endpoint: mcp-oauth's counters (feature `metrics`) as
//! Prometheus text, on a listener of its own (`METRICS_ADDR`), never behind the OAuth
//! middleware: a scraper is not an OAuth client, and the numbers are for the operator,
//! not for MCP clients. Loopback is the intended address; any other is served with a
//! warning, since the endpoint has no authentication.

use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::{App, HttpResponse, HttpServer, web};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// Where the text is served when `METRICS_PATH` is unset.
pub(crate) const DEFAULT_PATH: &str = "/metrics";

/// How often histograms are drained when nobody scrapes (bounded memory).
const UPKEEP: Duration = Duration::from_secs(5);

/// `METRICS_ADDR` and `METRICS_PATH`: `None` when `METRICS_ADDR` is unset or empty.
///
/// # Errors
/// An address that is not `ip:port`, or a path that does not start with `/`.
pub(crate) fn from_env() -> Result<Option<(SocketAddr, String)>, String> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let Some(addr) = var("METRICS_ADDR") else {
        return Ok(None);
    };
    let addr: SocketAddr = addr
        .parse()
        .map_err(|_| format!("METRICS_ADDR: `{addr}` is not an ip:port address"))?;
    let path = var("METRICS_PATH").unwrap_or_else(|| DEFAULT_PATH.to_owned());
    if !path.starts_with('/') {
        return Err(format!("METRICS_PATH: `{path}` does not start with `/`"));
    }
    Ok(Some((addr, path)))
}

/// Installs the Prometheus recorder for the whole process and describes mcp-oauth's
/// metrics to it. Call it before the first request is counted.
///
/// # Errors
/// Another recorder is already installed.
pub(crate) fn install() -> Result<PrometheusHandle, String> {
    let handle = PrometheusBuilder::new()
        .install_recorder()
        .map_err(|e| e.to_string())?;
    mcp_oauth::describe_metrics();
    Ok(handle)
}

/// Serves `handle`'s text at `GET path` on `listener` (one worker; anything else is a
/// 404), and drains its histograms every few seconds. Must run on an actix runtime.
pub(crate) fn serve(
    handle: PrometheusHandle,
    path: String,
    listener: TcpListener,
) -> std::io::Result<Server> {
    if let Ok(addr) = listener.local_addr()
        && !addr.ip().is_loopback()
    {
        tracing::warn!(%addr, "the metrics endpoint has no authentication and listens beyond loopback: expose it only to a private network");
    }
    let upkeep = handle.clone();
    actix_web::rt::spawn(async move {
        loop {
            actix_web::rt::time::sleep(UPKEEP).await;
            upkeep.run_upkeep();
        }
    });
    Ok(HttpServer::new(move || {
        let handle = handle.clone();
        App::new().route(
            &path,
            web::get().to(move || {
                let text = handle.render();
                async move {
                    HttpResponse::Ok()
                        // The Prometheus text exposition format, version 0.0.4.
                        .insert_header((CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8"))
                        .body(text)
                }
            }),
        )
    })
    .workers(1)
    .disable_signals()
    .listen(listener)?
    .run())
}
