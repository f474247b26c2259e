//! A real MCP server (rmcp, Streamable HTTP at `/mcp`, and the legacy HTTP+SSE transport
//! at `/sse` + `/message` for 2024-11-05 clients) protected by mcp-oauth, configured from
//! the environment. Tools: `echo` (needs scope `tools:call`), `whoami`, and `note_create` /
//! `note_read` (state across calls under handles bound to the caller).
//!
//! ```sh
//! MCP_OAUTH_RESOURCE=https://mcp.example.com \
//! MCP_OAUTH_AUTHORIZATION_SERVERS=https://auth.example.com \
//! MCP_OAUTH_REQUIRED_SCOPES=mcp:tools \
//! BIND_ADDR=0.0.0.0:8080 \
//! cargo run -p examples --example mcp_server
//! ```
//!
//! Everything else is discovered from the issuer's metadata (RFC 8414 / OpenID Connect)
//! at startup, which fails with a report naming each URL tried if the authorization
//! server cannot be used. Opaque tokens: add `MCP_OAUTH_VALIDATION=introspection` (or
//! `hybrid`) and `MCP_OAUTH_INTROSPECTION_CLIENT_ID` / `_SECRET`.
//!
//! The resource is the server's **origin** (`https://mcp.example.com`, no path and no
//! trailing slash), because this server offers both transports: MCP clients check that
//! the protected resource covers the URL they connect to (the official TypeScript SDK:
//! same origin, and the resource's path a prefix of the URL's), so `https://host/mcp`
//! would be refused by legacy clients connecting to `https://host/sse`. The origin covers
//! `/mcp`, `/sse` and `/message`; its metadata is at
//! `/.well-known/oauth-protected-resource`, and one token works on all three. The server
//! logs a warning at startup when the resource does not cover `/sse`. (Only Streamable
//! HTTP? Then `https://host/mcp`, the most specific URI, is the better resource.)
//!
//! The legacy stream, with a token:
//!
//! ```sh
//! curl -N -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/sse
//! ```
//!
//! Metrics (Prometheus text, from the `metrics` feature): `METRICS_ADDR=127.0.0.1:9464`
//! serves them at `METRICS_PATH` (default `/metrics`) on that separate listener, without
//! a token (see the README's "Metrics" for why not behind the middleware):
//!
//! ```sh
//! curl http://127.0.0.1:9464/metrics
//! ```
//!
//! Rate limits (README "Rate limits"): this server sets its own where the variable is
//! unset, starting values for a public server: the metadata 120/minute and token work
//! refused or not yet cached 120/minute per client address, 1200/minute per caller.
//! `off` turns one off; behind a reverse proxy that writes the client address, name
//! its header:
//!
//! ```sh
//! MCP_OAUTH_RATE_LIMIT_REFUSALS=30/minute \
//! MCP_OAUTH_RATE_LIMIT_PRINCIPAL=off \
//! MCP_OAUTH_RATE_LIMIT_TRUSTED_HEADER=X-Forwarded-For \
//! cargo run -p examples --example mcp_server
//! ```
//!
//! DPoP proofs must carry a nonce this server makes (`MCP_OAUTH_DPOP_NONCE`, README
//! "Sender-constrained tokens (DPoP)"), unless the variable says otherwise.
//!
//! No identity provider at hand? `cargo run -p examples --example quickstart`, or
//! `cargo run -p examples --example auth_server` and point this server at it.

mod common;
// Only this example serves metrics (and `tests/metrics.rs` scrapes them).
#[path = "common/metrics.rs"]
mod prometheus;

use mcp_oauth::{McpOAuthBuilder, Rate};

/// This server's rate limits and DPoP nonces, each where its variable (or `<NAME>_FILE`)
/// is unset.
fn with_example_defaults(mut builder: McpOAuthBuilder) -> McpOAuthBuilder {
    let unset = |name: &str| {
        std::env::var_os(name).is_none() && std::env::var_os(format!("{name}_FILE")).is_none()
    };
    if unset("MCP_OAUTH_RATE_LIMIT_METADATA") {
        builder = builder.rate_limit_metadata(Rate::per_minute(120));
    }
    if unset("MCP_OAUTH_RATE_LIMIT_REFUSALS") {
        builder = builder.rate_limit_refusals(Rate::per_minute(120));
    }
    if unset("MCP_OAUTH_RATE_LIMIT_PRINCIPAL") {
        builder = builder.rate_limit_principal(Rate::per_minute(1200));
    }
    // DPoP proofs carry a nonce of this server's making (RFC 9449 §9); bearer clients
    // never see one. Not with DPoP turned off, where a nonce means nothing.
    let dpop_off =
        std::env::var("MCP_OAUTH_DPOP").is_ok_and(|v| v.trim().eq_ignore_ascii_case("off"));
    if unset("MCP_OAUTH_DPOP_NONCE") && !dpop_off {
        builder = builder.dpop_nonces(true);
    }
    builder
}

/// The `--help`-style text printed when the configuration is unusable.
fn usage() -> String {
    let mut text = String::from(
        "Configuration (environment; any variable may also be given as NAME_FILE, a file holding the value):\n",
    );
    for (name, meaning) in mcp_oauth::ENV_VARIABLES {
        text.push_str(&format!("  {name:<34}{meaning}\n"));
    }
    text.push_str(&format!(
        "  {:<34}listen address (default 127.0.0.1:8080)\n",
        "BIND_ADDR"
    ));
    text.push_str(&format!(
        "  {:<34}Prometheus metrics on this separate address, no token (e.g. 127.0.0.1:9464; default off)\n",
        "METRICS_ADDR"
    ));
    text.push_str(&format!(
        "  {:<34}their path (default {})\n",
        "METRICS_PATH",
        prometheus::DEFAULT_PATH
    ));
    text.push_str(&format!("  {:<34}log filter (default info)\n", "RUST_LOG"));
    text.push_str(
        "\nThis server offers Streamable HTTP at /mcp and the legacy HTTP+SSE transport at\n\
         /sse + /message: set MCP_OAUTH_RESOURCE to its origin (e.g. https://mcp.example.com,\n\
         no path), which covers all three; MCP clients refuse a resource whose path is not a\n\
         prefix of the URL they connect to (https://host/mcp does not cover /sse).",
    );
    text
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    common::init_tracing();
    // The recorder goes in before the middleware exists, so discovery is counted too.
    let metrics = match prometheus::from_env().and_then(|config| {
        config
            .map(|(addr, path)| prometheus::install().map(|handle| (addr, path, handle)))
            .transpose()
    }) {
        Ok(metrics) => metrics,
        Err(err) => {
            eprintln!("{err}\n\n{}", usage());
            std::process::exit(2);
        }
    };
    // The per-tool scope policy reads every protected JSON POST, so both transports' POST
    // paths (`/mcp`, `/message`) are checked without listing them.
    let oauth =
        match with_example_defaults(common::guard_resources(McpOAuthBuilder::from_env())).build() {
            Ok(oauth) => oauth,
            Err(err) => {
                eprintln!("{err}\n\n{}", usage());
                std::process::exit(2);
            }
        };
    // Discovery and the startup checks, before serving (the report is logged).
    if let Err(err) = oauth.discover().await {
        eprintln!("{err}");
        std::process::exit(1);
    }
    let addr = std::env::var("BIND_ADDR").unwrap_or_else(|_| "127.0.0.1:8080".to_owned());
    let listener = std::net::TcpListener::bind(&addr)?;
    eprintln!(
        "MCP endpoint on {addr} at {} (legacy HTTP+SSE: {} + {}); resource {}, metadata: {}",
        common::MCP_PATH,
        common::legacy_sse::SSE_PATH,
        common::legacy_sse::MESSAGE_PATH,
        oauth.resource(),
        oauth.resource_metadata_url()
    );
    if let Some((addr, path, handle)) = metrics {
        let listener = std::net::TcpListener::bind(addr)?;
        eprintln!("Prometheus metrics on {addr} at {path}");
        actix_web::rt::spawn(prometheus::serve(handle, path, listener)?);
    }
    common::serve(oauth, listener)?.await
}
