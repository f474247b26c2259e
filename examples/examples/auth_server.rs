//! A standalone test authorization server, for trying MCP clients against `mcp_server`
//! without an identity provider. Never use it in production: it approves every request.
//!
//! ```sh
//! cargo run -p examples --example auth_server            # AUTH_PORT=9000 to fix the port
//! ```
//!
//! It prints `issuer=<url>` on its first line, then serves RFC 8414 / OIDC discovery,
//! a JWKS, Dynamic Client Registration, an authorization endpoint that approves at once
//! (PKCE S256 and `resource` required), a token endpoint and an RFC 7662 introspection
//! endpoint, until it is stopped.
//!
//! - `OPAQUE_TOKENS=true`: the token endpoint issues opaque tokens (for the
//!   `introspection` and `hybrid` strategies) instead of JWTs.
//! - `INTROSPECTION_CLIENT_ID` and `INTROSPECTION_CLIENT_SECRET`: the credentials the
//!   introspection endpoint accepts.

use std::io::Write as _;

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
    let opaque = std::env::var("OPAQUE_TOKENS").is_ok_and(|v| v == "true" || v == "1");
    auth.set_opaque_tokens(opaque);
    let client = (
        std::env::var("INTROSPECTION_CLIENT_ID"),
        std::env::var("INTROSPECTION_CLIENT_SECRET"),
    );
    if let (Ok(id), Ok(secret)) = &client {
        auth.introspection_client(id, secret);
    }
    // One write, whose failure is ignored: whoever reads the first line may close the pipe,
    // and the server must keep serving.
    let mut text = format!(
        "issuer={}\njwks_uri={}\nintrospection_endpoint={}\n\n",
        auth.issuer(),
        auth.jwks_uri(),
        auth.introspection_endpoint()
    );
    text.push_str("Point the MCP server at it (everything else is discovered):\n");
    text.push_str(&format!(
        "  MCP_OAUTH_AUTHORIZATION_SERVERS={} \\\n",
        auth.issuer()
    ));
    if opaque {
        text.push_str(
            "  MCP_OAUTH_VALIDATION=introspection MCP_OAUTH_INTROSPECTION_CLIENT_ID=... MCP_OAUTH_INTROSPECTION_CLIENT_SECRET=... \\\n",
        );
    }
    text.push_str(
        "  MCP_OAUTH_RESOURCE=http://127.0.0.1:8080/mcp cargo run -p examples --example mcp_server\n",
    );
    let mut stdout = std::io::stdout();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
    loop {
        std::thread::park();
    }
}
