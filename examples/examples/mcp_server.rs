//! A real MCP server (rmcp, Streamable HTTP at `/mcp`, and the legacy HTTP+SSE transport
//! at `/sse` + `/message` for 2024-11-05 clients) protected by mcp-oauth, configured from
//! the environment. Tools: `echo` and `whoami`.
//!
//! ```sh
//! MCP_OAUTH_RESOURCE=https://mcp.example.com/mcp \
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
//! Both transports are one protected resource, `MCP_OAUTH_RESOURCE` (the `/mcp` URL): a
//! token for it works on `/mcp`, `/sse` and `/message`. The legacy stream, with a token:
//!
//! ```sh
//! curl -N -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/sse
//! ```
//!
//! No identity provider at hand? `cargo run -p examples --example quickstart`.

mod common;

use mcp_oauth::McpOAuthBuilder;

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
    text.push_str(&format!("  {:<34}log filter (default info)", "RUST_LOG"));
    text
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    common::init_tracing();
    // `/message` receives JSON-RPC too: the scope policy reads its bodies as well.
    let oauth = match McpOAuthBuilder::from_env()
        .mcp_endpoint(common::legacy_sse::MESSAGE_PATH)
        .build()
    {
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
        "MCP endpoint on {addr} at /mcp (legacy HTTP+SSE: /sse + /message); metadata: {}",
        oauth.resource_metadata_url()
    );
    common::serve(oauth, listener)?.await
}
