//! A standalone test authorization server, for trying MCP clients against `mcp_server`
//! without an identity provider. Never use it in production: it approves every request.
//!
//! ```sh
//! cargo run -p examples --example auth_server            # AUTH_PORT=9000 to fix the port
//! ```
//!
//! It prints `issuer=<url>` on its first line, then serves RFC 8414 / OIDC discovery,
//! a JWKS, Dynamic Client Registration, an authorization endpoint that approves at once
//! (PKCE S256 and `resource` required) and a token endpoint, until it is stopped.

use mcp_oauth::testing::TestAuthServer;

fn main() {
    let port = match std::env::var("AUTH_PORT") {
        Ok(p) => match p.parse::<u16>() {
            Ok(p) => p,
            Err(_) => {
                eprintln!("AUTH_PORT must be a port number, not `{p}`");
                std::process::exit(2);
            }
        },
        Err(_) => 0,
    };
    let auth = TestAuthServer::start_on_port(port);
    println!("issuer={}", auth.issuer());
    println!("jwks_uri={}", auth.jwks_uri());
    println!();
    println!("Point the MCP server at it:");
    println!(
        "  MCP_OAUTH_AUTHORIZATION_SERVERS={} MCP_OAUTH_JWKS_URI={} \\",
        auth.issuer(),
        auth.jwks_uri()
    );
    println!(
        "  MCP_OAUTH_RESOURCE=http://127.0.0.1:8080/mcp cargo run -p examples --example mcp_server"
    );
    loop {
        std::thread::park();
    }
}
