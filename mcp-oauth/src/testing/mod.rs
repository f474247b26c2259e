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
//! Keys can be rotated, keys signed elsewhere [published](TestAuthServer::publish_key),
//! the JWKS moved to a [path](TestAuthServerBuilder::jwks_path) only the metadata names,
//! and the JWKS made to fail or redirect, to test what a resource server does when its
//! authorization server misbehaves.
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
//! For resource servers that discover their authorization server or introspect tokens:
//! the issuer may have a path ([`TestAuthServer::builder`] and
//! [`issuer_path`](TestAuthServerBuilder::issuer_path)), with the metadata served at
//! every discovery location ([`MetadataDocument`]), each of which can be made to fail
//! ([`MetadataFault`]) and the documents patched
//! ([`patch_metadata`](TestAuthServer::patch_metadata)). The RFC 7662 introspection
//! endpoint authenticates its callers (`client_secret_basic` or `client_secret_post`,
//! [`introspection_client`](TestAuthServer::introspection_client)), knows the JWTs
//! this server signs, the [opaque tokens](TokenBuilder::opaque) it issues and the
//! tokens [revoked](TestAuthServer::revoke), and can misbehave too
//! ([`IntrospectionFault`], for every request, the next few or one token), behave like
//! oidc-provider ([`set_jwt_introspection(false)`](TestAuthServer::set_jwt_introspection):
//! JWTs get 400 `unsupported_token_type`), or hold its answers
//! ([`hold_introspections`](TestAuthServer::hold_introspections)) so that a test can count
//! the calls in flight ([`max_concurrent_introspections`](TestAuthServer::max_concurrent_introspections)).
//!
//! ```
//! use mcp_oauth::testing::{MetadataDocument, TestAuthServer};
//!
//! let auth = TestAuthServer::builder().issuer_path("/tenant1").start();
//! auth.introspection_client("my-resource-server", "its secret");
//! let token = auth.token().audience("http://127.0.0.1:8080/mcp").opaque();
//! let (metadata, introspection): (serde_json::Value, serde_json::Value) =
//!     actix_web::rt::System::new().block_on(async {
//!         let client = awc::Client::default();
//!         let url = auth.metadata_url(MetadataDocument::OAuth);
//!         let metadata: serde_json::Value = client.get(url).send().await?.json().await?;
//!         let endpoint = metadata["introspection_endpoint"].as_str().unwrap_or_default();
//!         let form = [
//!             ("token", token.as_str()),
//!             ("client_id", "my-resource-server"),
//!             ("client_secret", "its secret"),
//!         ];
//!         let introspection = client.post(endpoint).send_form(&form).await?.json().await?;
//!         Ok::<_, Box<dyn std::error::Error>>((metadata, introspection))
//!     })?;
//! assert_eq!(metadata["issuer"], auth.issuer());
//! assert_eq!(introspection["active"], true);
//! assert_eq!(introspection["aud"], "http://127.0.0.1:8080/mcp");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Nothing here exists without the `testing` feature; never enable it in production
//! builds (the server hands out tokens to anyone who asks).

mod discovery;
mod dpop;
mod imitate;
mod introspection;
mod keys;
mod server;
mod token;

#[cfg(test)]
mod tests;

pub use discovery::{MetadataDocument, MetadataFault};
pub use dpop::{DpopKey, DpopProof, dpop_nonce};
pub use imitate::{Fixture, Imitation};
pub use introspection::{IntrospectionFault, IntrospectionHold};
pub use server::{JwksFault, TestAuthServer, TestAuthServerBuilder};
pub use token::TokenBuilder;
