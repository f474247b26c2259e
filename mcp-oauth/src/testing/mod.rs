//! Test support (feature `testing`): a real authorization server on 127.0.0.1 and a
//! token builder.
//!
//! [`TestAuthServer`] listens on an ephemeral loopback port from its own thread, so it
//! works from `#[actix_web::test]`, `#[tokio::test]` and plain `fn main`. It serves
//! RFC 8414 and OpenID Connect discovery documents, a JWKS with RSA, EC (P-256, P-384)
//! and Ed25519 keys generated at start, Dynamic Client Registration (RFC 7591), an
//! authorization endpoint that approves at once (PKCE S256 and the RFC 8707 `resource`
//! required, RFC 9207 `iss` in the redirect), and a token endpoint for the
//! `authorization_code` and `client_credentials` grants: enough for a real MCP client to
//! run the whole discovery → registration → authorization → token flow.
//! Keys can be rotated and the JWKS made to fail, to test what a resource server does
//! when its authorization server misbehaves.
//!
//! ```
//! use mcp_oauth::testing::TestAuthServer;
//!
//! let auth = TestAuthServer::start();
//! let oauth = auth.configure("http://127.0.0.1:8080/mcp").required_scopes(["mcp"]).build()?;
//! let token = auth.token().audience("http://127.0.0.1:8080/mcp").scope("mcp").sign();
//! assert_eq!(token.split('.').count(), 3);
//! # let _ = oauth;
//! # Ok::<(), mcp_oauth::ConfigError>(())
//! ```
//!
//! For resource servers that discover their authorization server: the issuer may have
//! a path ([`TestAuthServer::builder`] and
//! [`issuer_path`](TestAuthServerBuilder::issuer_path)), with the metadata served at
//! every discovery location ([`MetadataDocument`]), each of which can be made to fail
//! ([`MetadataFault`]) and the documents patched
//! ([`patch_metadata`](TestAuthServer::patch_metadata)).
//!
//! Nothing here exists without the `testing` feature; never enable it in production
//! builds (the server hands out tokens to anyone who asks).

mod discovery;
mod keys;
mod server;
mod token;

pub use discovery::{MetadataDocument, MetadataFault};
pub use server::{JwksFault, TestAuthServer, TestAuthServerBuilder};
pub use token::TokenBuilder;
