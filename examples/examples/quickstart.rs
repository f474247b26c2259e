//! Try mcp-oauth with nothing installed: `cargo run -p examples --example quickstart`.
//!
//! Starts a test authorization server in this process (never use it in production: it
//! hands tokens to anyone), an MCP server protected by mcp-oauth on `127.0.0.1:8080`
//! (or `BIND_ADDR`, a loopback address), and prints a token and curl commands to try.
//! It speaks Streamable HTTP at `/mcp` and the legacy HTTP+SSE transport (2024-11-05) at
//! `/sse` + `/message`, both with the same token: e.g.
//! `curl -N -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/sse`.
//! For a real identity provider, see the `mcp_server` example.

mod common;

use mcp_oauth::McpOAuth;
use mcp_oauth::testing::TestAuthServer;

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    common::init_tracing();
    let addr = std::env::var("BIND_ADDR").unwrap_or_else(|_| "127.0.0.1:8080".to_owned());
    let listener = std::net::TcpListener::bind(&addr)?;
    let base = format!("http://{}", listener.local_addr()?);
    // One resource for both transports: the origin covers `/mcp`, `/sse` and `/message`
    // (the official SDK's SSE client refuses a resource whose path does not cover `/sse`).
    let resource = base.clone();
    let mcp = format!("{base}{}", common::MCP_PATH);

    let auth = TestAuthServer::start();
    // The issuer is all it takes: its metadata (RFC 8414) says where the keys are.
    let oauth = match common::guard_resources(McpOAuth::builder())
        .resource(&resource)
        .authorization_server(auth.issuer())
        .required_scopes(["mcp:tools"])
        .resource_name("Quickstart MCP server")
        .build()
    {
        Ok(oauth) => oauth,
        Err(err) => {
            eprintln!("{err}\n(BIND_ADDR must be a loopback address, e.g. 127.0.0.1:8080)");
            std::process::exit(2);
        }
    };
    if let Err(err) = oauth.discover().await {
        eprintln!("{err}");
        std::process::exit(1);
    }
    let token = auth.token().audience(&resource).scope("mcp:tools").sign();
    let wide_token = auth
        .token()
        .audience(&resource)
        .scope("mcp:tools tools:call")
        .sign();

    println!(
        r#"
MCP server  {mcp}  (every request needs scope mcp:tools; tool echo also needs tools:call)
Legacy HTTP+SSE transport  {base}/sse + {base}/message  (same resource, same tokens)
Protected resource  {resource}
Test authorization server  {issuer}  (in-process, for trying things out only)

Two access tokens for {resource}, valid for an hour: scope mcp:tools, and mcp:tools tools:call

export TOKEN={token}
export WIDE_TOKEN={wide_token}
MCP={mcp}

# 1. No token: 401, and a WWW-Authenticate challenge pointing at the metadata
curl -i -X POST "$MCP"

# 2. The protected resource metadata (RFC 9728): where to get a token
curl {base}/.well-known/oauth-protected-resource

# 3. With the token: initialize, keep the Mcp-Session-Id, say initialized, call whoami
mcp() {{ curl -sS "$MCP" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -H 'Accept: application/json, text/event-stream' "$@"; echo; }}
SESSION=$(mcp -o /dev/null -D - -d '{{"jsonrpc":"2.0","id":1,"method":"initialize","params":{{"protocolVersion":"2025-11-25","capabilities":{{}},"clientInfo":{{"name":"curl","version":"1"}}}}}}' \
  | awk 'tolower($1) == "mcp-session-id:" {{ print $2 }}' | tr -d '\r')
mcp -H "Mcp-Session-Id: $SESSION" -d '{{"jsonrpc":"2.0","method":"notifications/initialized"}}'
mcp -H "Mcp-Session-Id: $SESSION" -d '{{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{{"name":"whoami","arguments":{{}}}}}}'

# 4. Step-up: echo needs tools:call. With TOKEN the middleware answers an HTTP 403 whose
#    challenge names the scopes to ask for; the wider token gets the answer.
ECHO='{{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{{"name":"echo","arguments":{{"message":"hi"}}}}}}'
mcp -i -H "Mcp-Session-Id: $SESSION" -d "$ECHO"
TOKEN=$WIDE_TOKEN mcp -H "Mcp-Session-Id: $SESSION" -d "$ECHO"

# 5. The legacy HTTP+SSE transport (2024-11-05), same token: the stream names the
#    /message?sessionId=... to POST JSON-RPC to (202; answers arrive on the stream)
curl -N -H "Authorization: Bearer $TOKEN" {base}/sse

# 6. A fresh token from the test authorization server (client credentials)
curl -sS {token_endpoint} -d grant_type=client_credentials -d scope='mcp:tools tools:call' --data-urlencode resource={resource}

Press Ctrl-C to stop.
"#,
        issuer = auth.issuer(),
        token_endpoint = auth.token_endpoint(),
    );

    common::serve(oauth, listener)?.await
}
