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
//! - `MINT_TEST_TOKENS_FOR=<resource>` (**tests only**): also print, after the banner, one
//!   line `test_token_<kind>=<token>` per kind below, each for subject `minted-test-user`,
//!   client `minted-test-client` and scope `MINT_TEST_TOKENS_SCOPE` (default
//!   `mcp:tools tools:call`), to check how a resource server answers each (the interop
//!   run in `tests/interop/ts-client` does). Kinds, as `_jwt` (signed with the published key)
//!   and `_opaque` (for introspection): `valid` (a control), `expired` (`exp` ten minutes
//!   ago), `wrong_audience` (for `https://other.example.com`, not the resource) and
//!   `revoked` (valid, then revoked: introspection reports it inactive; a JWT validated
//!   locally cannot know). Forged and unsigned (`alg: none`) JWTs need no authorization
//!   server: make them yourself. These are live credentials for the resource: never point
//!   it at a server that matters.

use std::io::Write as _;

use mcp_oauth::testing::{TestAuthServer, TokenBuilder};

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
        "  MCP_OAUTH_RESOURCE=http://127.0.0.1:8080 cargo run -p examples --example mcp_server\n",
    );
    if let Ok(resource) = std::env::var("MINT_TEST_TOKENS_FOR") {
        let scope = std::env::var("MINT_TEST_TOKENS_SCOPE")
            .unwrap_or_else(|_| "mcp:tools tools:call".to_owned());
        text.push('\n');
        for (kind, token) in test_tokens(&auth, &resource, &scope) {
            text.push_str(&format!("test_token_{kind}={token}\n"));
        }
    }
    let mut stdout = std::io::stdout();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
    loop {
        std::thread::park();
    }
}

/// The tokens `MINT_TEST_TOKENS_FOR` asks for (see the module docs), by kind.
fn test_tokens(auth: &TestAuthServer, resource: &str, scope: &str) -> Vec<(String, String)> {
    let token = |audience: &str| {
        auth.token()
            .audience(audience)
            .subject("minted-test-user")
            .client_id("minted-test-client")
            .scope(scope)
    };
    let mut tokens = Vec::new();
    for (form, mint) in [
        ("jwt", TokenBuilder::sign as fn(TokenBuilder) -> String),
        ("opaque", TokenBuilder::opaque),
    ] {
        let revoked = mint(token(resource));
        auth.revoke(&revoked);
        tokens.extend([
            (format!("valid_{form}"), mint(token(resource))),
            (format!("expired_{form}"), mint(token(resource).expired())),
            (
                format!("wrong_audience_{form}"),
                mint(token("https://other.example.com")),
            ),
            (format!("revoked_{form}"), revoked),
        ]);
    }
    tokens
}
