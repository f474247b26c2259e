//! A real MCP server (rmcp, Streamable HTTP at `/mcp`) protected by mcp-oauth, configured
//! from the environment. Tools: `echo` and `whoami`.
//!
//! ```sh
//! MCP_OAUTH_RESOURCE=https://mcp.example.com/mcp \
//! MCP_OAUTH_AUTHORIZATION_SERVERS=https://auth.example.com \
//! MCP_OAUTH_JWKS_URI=https://auth.example.com/.well-known/jwks.json \
//! MCP_OAUTH_REQUIRED_SCOPES=mcp:tools \
//! BIND_ADDR=0.0.0.0:8080 \
//! cargo run -p examples --example mcp_server
//! ```
//!
//! No identity provider at hand? `cargo run -p examples --example quickstart`.

mod common;

use mcp_oauth::McpOAuth;

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
    let oauth = match McpOAuth::from_env() {
        Ok(oauth) => oauth,
        Err(err) => {
            eprintln!("{err}\n\n{}", usage());
            std::process::exit(2);
        }
    };
    let addr = std::env::var("BIND_ADDR").unwrap_or_else(|_| "127.0.0.1:8080".to_owned());
    let listener = std::net::TcpListener::bind(&addr)?;
    eprintln!(
        "MCP endpoint on {addr} at /mcp; metadata: {}",
        oauth.resource_metadata_url()
    );
    common::serve(oauth, listener)?.await
}
