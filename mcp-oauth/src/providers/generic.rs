//! `generic`: any OAuth 2.1 / OpenID Connect authorization server, configured with the
//! general variables alone.

use super::Provider;
use super::Variable;

/// Any standards-following authorization server: `MCP_OAUTH_AUTHORIZATION_SERVERS` and
/// the general settings, nothing added.
///
/// ```
/// assert!(mcp_oauth::providers::GENERIC.caveats().is_empty());
/// ```
pub const GENERIC: Provider = Provider {
    name: "generic",
    title: "Any OAuth 2.1 authorization server",
    variables: &[
        Variable {
            name: "MCP_OAUTH_AUTHORIZATION_SERVERS",
            example: "https://auth.example.com",
            help: "issuer URL(s) of the authorization server(s); endpoints are discovered",
            required: true,
        },
        Variable {
            name: "MCP_OAUTH_RESOURCE",
            example: "https://mcp.example.com/mcp",
            help: "the MCP endpoint's URL: the audience its tokens must carry",
            required: true,
        },
    ],
    console_guide: "\
- Register an API / resource whose **audience** (`aud`) is the MCP endpoint's URL \
(`MCP_OAUTH_RESOURCE`), and the scopes your tools need.
- Allow the `authorization_code` grant with **PKCE** (`S256`) for public clients, and \
RFC 8707 `resource` indicators.
- Let MCP clients register: Dynamic Client Registration (RFC 7591) or client ID \
metadata documents; otherwise pre-register them.
- Publish RFC 8414 or OpenID Connect discovery metadata at the issuer.",
    caveats: "",
    recipe: |_| None,
};
