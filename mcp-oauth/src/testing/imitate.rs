//! [`TestAuthServer::imitating`]: the loopback server dressed as one identity provider,
//! its issuer path, JWKS path, discovery document and tokens in that provider's shapes,
//! each written from the provider's public documentation (URLs beside each fixture).

use serde_json::{Value, json};

use super::{TestAuthServer, TokenBuilder};
use crate::Algorithm;
use crate::providers::{self, Provider};

/// Which provider's shapes an [`Imitation`] serves. [`TestAuthServer::imitating`] picks
/// the default one of a [`Provider`]; the others are the provider's variants.
///
/// ```
/// use mcp_oauth::{providers, testing::Fixture};
///
/// assert_eq!(Fixture::of(&providers::ENTRA), Fixture::EntraV2);
/// assert_eq!(Fixture::of(&providers::GENERIC), Fixture::Generic);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fixture {
    /// The plain test server.
    Generic,
    /// An Auth0 tenant: issuer `{origin}/`.
    Auth0,
    /// An Okta custom authorization server `default`: issuer `{origin}/oauth2/default`.
    Okta,
    /// A Cognito user pool: issuer `{origin}/{COGNITO_USER_POOL_ID}`.
    Cognito,
    /// Entra ID v2.0 tokens: issuer `{origin}/{ENTRA_TENANT_ID}/v2.0`.
    EntraV2,
    /// Entra ID v1.0 tokens: issuer `{origin}/{ENTRA_TENANT_ID}/`.
    EntraV1,
    /// A Keycloak realm: issuer `{origin}/realms/{KEYCLOAK_REALM}`.
    Keycloak,
    /// WorkOS AuthKit: issuer `{origin}`.
    WorkOs,
    /// A Descope project: issuer `{origin}/v1/apps/{DESCOPE_PROJECT_ID}`.
    Descope,
    /// Clerk: issuer `{origin}`, opaque tokens (introspection).
    Clerk,
    /// Supabase Auth: issuer `{origin}/auth/v1`, ES256.
    Supabase,
}

impl Fixture {
    /// The Entra directory (tenant) ID of the fixtures.
    pub const ENTRA_TENANT_ID: &'static str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    /// The Entra application (client) ID of the MCP API's app registration.
    pub const ENTRA_CLIENT_ID: &'static str = "6e74172b-be56-4843-9ff4-e66a39bb12e3";
    /// The Cognito user pool.
    pub const COGNITO_USER_POOL_ID: &'static str = "us-east-1_AbCdEf123";
    /// The Cognito app client whose tokens the fixtures carry.
    pub const COGNITO_CLIENT_ID: &'static str = "1example23456789";
    /// The Keycloak realm.
    pub const KEYCLOAK_REALM: &'static str = "mcp";
    /// The Descope project.
    pub const DESCOPE_PROJECT_ID: &'static str = "P2abc123";
    /// The client the fixtures' tokens were issued to (other than Entra and Cognito).
    pub const CLIENT_ID: &'static str = "mcp-client-1";

    /// The default fixture of a preset.
    ///
    /// ```
    /// use mcp_oauth::{providers, testing::Fixture};
    /// assert_eq!(Fixture::of(&providers::COGNITO), Fixture::Cognito);
    /// assert_eq!(Fixture::COGNITO_USER_POOL_ID.split_once('_').map(|p| p.0), Some("us-east-1"));
    /// ```
    pub fn of(provider: &Provider) -> Self {
        match provider.name() {
            "auth0" => Self::Auth0,
            "okta" => Self::Okta,
            "cognito" => Self::Cognito,
            "entra" => Self::EntraV2,
            "keycloak" => Self::Keycloak,
            "workos" => Self::WorkOs,
            "descope" => Self::Descope,
            "clerk" => Self::Clerk,
            "supabase" => Self::Supabase,
            _ => Self::Generic,
        }
    }

    /// The provider whose shapes these are.
    ///
    /// ```
    /// use mcp_oauth::testing::Fixture;
    /// assert_eq!(Fixture::EntraV1.provider().name(), "entra");
    /// ```
    pub fn provider(self) -> &'static Provider {
        let name = match self {
            Self::Generic => "generic",
            Self::Auth0 => "auth0",
            Self::Okta => "okta",
            Self::Cognito => "cognito",
            Self::EntraV2 | Self::EntraV1 => "entra",
            Self::Keycloak => "keycloak",
            Self::WorkOs => "workos",
            Self::Descope => "descope",
            Self::Clerk => "clerk",
            Self::Supabase => "supabase",
        };
        providers::find(name).unwrap_or(&providers::all()[0])
    }

    /// (issuer path, JWKS path), as the provider lays them out.
    fn paths(self) -> (String, Option<String>) {
        let (t, p) = (Self::ENTRA_TENANT_ID, Self::COGNITO_USER_POOL_ID);
        let (issuer, jwks): (String, Option<String>) = match self {
            Self::Generic | Self::Clerk => (String::new(), None),
            // https://auth0.com/docs/secure/tokens/json-web-tokens/json-web-key-sets
            Self::Auth0 => ("/".into(), Some("/.well-known/jwks.json".into())),
            // https://developer.okta.com/docs/reference/api/oidc/#keys
            Self::Okta => (
                "/oauth2/default".into(),
                Some("/oauth2/default/v1/keys".into()),
            ),
            // https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-tokens-verifying-a-jwt.html
            Self::Cognito => (format!("/{p}"), Some(format!("/{p}/.well-known/jwks.json"))),
            // https://learn.microsoft.com/entra/identity-platform/access-tokens#validate-tokens
            Self::EntraV2 => (
                format!("/{t}/v2.0"),
                Some(format!("/{t}/discovery/v2.0/keys")),
            ),
            Self::EntraV1 => (format!("/{t}/"), Some(format!("/{t}/discovery/keys"))),
            // https://www.keycloak.org/securing-apps/oidc-layers (endpoints)
            Self::Keycloak => (
                format!("/realms/{}", Self::KEYCLOAK_REALM),
                Some(format!(
                    "/realms/{}/protocol/openid-connect/certs",
                    Self::KEYCLOAK_REALM
                )),
            ),
            // https://workos.com/docs/authkit/mcp/integrating/token-verification
            Self::WorkOs => (String::new(), Some("/oauth2/jwks".into())),
            // https://docs.descope.com/api/openapi/session/operation/GetJWKSv2
            Self::Descope => (
                format!("/v1/apps/{}", Self::DESCOPE_PROJECT_ID),
                Some(format!(
                    "/{}/.well-known/jwks.json",
                    Self::DESCOPE_PROJECT_ID
                )),
            ),
            // https://supabase.com/docs/guides/auth/signing-keys
            Self::Supabase => (
                "/auth/v1".into(),
                Some("/auth/v1/.well-known/jwks.json".into()),
            ),
        };
        (issuer, jwks)
    }

    /// Members of the provider's discovery document that differ from the test server's.
    fn metadata(self) -> Value {
        match self {
            // Cognito's and Entra's OpenID configurations have no registration or
            // introspection endpoint, and list no `code_challenge_methods_supported`
            // although both accept PKCE.
            // https://learn.microsoft.com/entra/identity-platform/v2-protocols-oidc#find-your-apps-openid-configuration-document-uri
            // https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pools-oidc-flow.html
            Self::Cognito | Self::EntraV2 | Self::EntraV1 => json!({
                "registration_endpoint": null,
                "introspection_endpoint": null,
                "code_challenge_methods_supported": null,
                "scopes_supported": ["openid", "email", "phone", "profile"],
            }),
            // Okta's custom servers: the claims and scopes it lists.
            Self::Okta => json!({"registration_endpoint": null}),
            _ => json!({}),
        }
    }
}

/// A [`TestAuthServer`] imitating one provider: its paths and discovery document, and
/// tokens of its shapes ([`access_token`](Self::access_token),
/// [`id_token`](Self::id_token)). Dereferences to the server.
///
/// ```
/// use mcp_oauth::{McpOAuthBuilder, providers, testing::TestAuthServer};
///
/// let okta = TestAuthServer::imitating(&providers::OKTA);
/// assert!(okta.issuer().ends_with("/oauth2/default"));
/// let resource = "http://127.0.0.1:8080/mcp";
/// let oauth = McpOAuthBuilder::from_vars([
///     ("MCP_OAUTH_PROVIDER", "okta"),
///     ("MCP_OAUTH_OKTA_DOMAIN", okta.origin().as_str()),
///     ("MCP_OAUTH_RESOURCE", resource),
/// ])
/// .build()?;
/// let token = okta.access_token(resource, &["mcp:tools"]).sign();
/// let client = actix_web::rt::System::new().block_on(oauth.authenticate(&token))?;
/// assert_eq!(client.scopes(), ["mcp:tools"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Imitation {
    server: TestAuthServer,
    fixture: Fixture,
}

impl std::ops::Deref for Imitation {
    type Target = TestAuthServer;

    fn deref(&self) -> &TestAuthServer {
        &self.server
    }
}

impl TestAuthServer {
    /// A server imitating `provider` (its default [`Fixture`]).
    ///
    /// ```
    /// let auth0 = mcp_oauth::testing::TestAuthServer::imitating(&mcp_oauth::providers::AUTH0);
    /// assert_eq!(auth0.issuer(), format!("{}/", auth0.origin()));
    /// ```
    pub fn imitating(provider: &Provider) -> Imitation {
        Self::imitating_fixture(Fixture::of(provider))
    }

    /// A server imitating `fixture`.
    ///
    /// ```
    /// use mcp_oauth::testing::{Fixture, TestAuthServer};
    ///
    /// let v1 = TestAuthServer::imitating_fixture(Fixture::EntraV1);
    /// assert_eq!(v1.issuer(), format!("{}/{}/", v1.origin(), Fixture::ENTRA_TENANT_ID));
    /// ```
    pub fn imitating_fixture(fixture: Fixture) -> Imitation {
        let (issuer_path, jwks_path) = fixture.paths();
        let mut builder = TestAuthServer::builder().issuer_path(&issuer_path);
        if let Some(jwks) = jwks_path {
            builder = builder.jwks_path(&jwks);
        }
        let server = builder.start();
        server.patch_metadata(fixture.metadata());
        Imitation { server, fixture }
    }
}

impl Imitation {
    /// The fixture served.
    ///
    /// ```
    /// use mcp_oauth::testing::{Fixture, TestAuthServer};
    /// let idp = TestAuthServer::imitating(&mcp_oauth::providers::SUPABASE);
    /// assert_eq!(idp.fixture(), Fixture::Supabase);
    /// assert!(idp.issuer().ends_with("/auth/v1"));
    /// ```
    pub fn fixture(&self) -> Fixture {
        self.fixture
    }

    /// `http://127.0.0.1:<port>`: what a preset's domain variable is set to in tests.
    ///
    /// ```
    /// let s = mcp_oauth::testing::TestAuthServer::imitating(&mcp_oauth::providers::KEYCLOAK);
    /// assert_eq!(s.issuer(), format!("{}/realms/mcp", s.origin()));
    /// ```
    pub fn origin(&self) -> String {
        let issuer = self.server.issuer();
        let after = issuer.find("://").map_or(0, |i| i + 3);
        let end = issuer[after..]
            .find('/')
            .map_or(issuer.len(), |i| after + i);
        issuer[..end].to_owned()
    }

    /// An access token of the provider's shape for `audience` granting `scopes`, as the
    /// provider documents it; further changes through the [`TokenBuilder`]. Cognito's
    /// access tokens have no `aud` (`audience` is unused); Clerk's are meant to be made
    /// [`opaque`](TokenBuilder::opaque).
    ///
    /// ```
    /// use mcp_oauth::{McpOAuthBuilder, testing::{Fixture, TestAuthServer}};
    ///
    /// let idp = TestAuthServer::imitating(&mcp_oauth::providers::COGNITO);
    /// let resource = "http://127.0.0.1:8080/mcp";
    /// let oauth = McpOAuthBuilder::from_vars([
    ///     ("MCP_OAUTH_PROVIDER", "cognito"),
    ///     ("MCP_OAUTH_COGNITO_USER_POOL_ID", Fixture::COGNITO_USER_POOL_ID),
    ///     ("MCP_OAUTH_COGNITO_CLIENT_IDS", Fixture::COGNITO_CLIENT_ID),
    ///     ("MCP_OAUTH_COGNITO_ENDPOINT", idp.origin().as_str()),
    ///     ("MCP_OAUTH_RESOURCE", resource),
    /// ])
    /// .build()?;
    /// let token = idp.access_token(resource, &["mcp.tools"]).sign(); // no `aud`
    /// let client = actix_web::rt::System::new().block_on(oauth.authenticate(&token))?;
    /// assert_eq!(client.client_id(), Some(Fixture::COGNITO_CLIENT_ID));
    /// assert!(client.audiences().is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn access_token(&self, audience: &str, scopes: &[&str]) -> TokenBuilder {
        let t = self.server.token();
        let spaced = scopes.join(" ");
        match self.fixture {
            Fixture::Generic | Fixture::Clerk => t.audience(audience).scope(&spaced),
            // https://auth0.com/docs/secure/tokens/access-tokens/access-token-profiles
            // (the default "Auth0" profile: `typ: JWT`, `azp`, `aud` with /userinfo).
            Fixture::Auth0 => {
                let userinfo = format!("{}userinfo", self.server.issuer());
                t.typ("JWT")
                    .without_claim("client_id")
                    .subject("auth0|5f7c8ec7c33c6c004bbafe82")
                    .audiences(&[audience, &userinfo])
                    .claim("azp", json!(Fixture::CLIENT_ID))
                    .scope(&format!("openid profile {spaced}"))
            }
            // https://developer.okta.com/docs/reference/api/oidc/#access-token-payload
            Fixture::Okta => t
                .without_header("typ")
                .without_claim("client_id")
                .subject("user@example.com")
                .audience(audience)
                .claim("ver", json!(1))
                .claim("cid", json!(Fixture::CLIENT_ID))
                .claim("uid", json!("00uid4BxXw6I6TV4m0g3"))
                .claim("auth_time", json!(super::token::unix_now() - 60))
                .scp_array(scopes),
            // https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-the-access-token.html
            Fixture::Cognito => t
                .without_header("typ")
                .subject("aaaaaaaa-bbbb-cccc-dddd-example")
                .client_id(Fixture::COGNITO_CLIENT_ID)
                .claim("token_use", json!("access"))
                .claim("version", json!(2))
                .claim("username", json!("alice"))
                .claim("auth_time", json!(super::token::unix_now() - 60))
                .claim("origin_jti", json!("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"))
                .scope(&format!("aws.cognito.signin.user.admin {spaced}")),
            // https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference
            Fixture::EntraV2 | Fixture::EntraV1 => {
                let v2 = self.fixture == Fixture::EntraV2;
                let t = t
                    .typ("JWT")
                    .without_claim("client_id")
                    .audience(audience)
                    .claim("tid", json!(Fixture::ENTRA_TENANT_ID))
                    .claim("oid", json!("00000000-0000-0000-66f3-3332eca7ea81"))
                    .claim("uti", json!("fqiBqXLPj0eQa82S-IYFAA"))
                    .claim("rh", json!("0.AAAAAAAAAAAAAAAAAAAA"))
                    .claim("scp", json!(spaced))
                    .claim("ver", json!(if v2 { "2.0" } else { "1.0" }));
                if v2 {
                    t.claim("azp", json!("04b07795-8ddb-461a-bbee-02f9e1bf7b46"))
                        .claim("azpacr", json!("0"))
                } else {
                    t.claim("appid", json!("04b07795-8ddb-461a-bbee-02f9e1bf7b46"))
                        .claim("appidacr", json!("0"))
                }
            }
            // https://www.keycloak.org/docs/latest/server_admin/#_audience (an access
            // token with the audience mapper's `aud`, `typ: Bearer`, `azp`).
            Fixture::Keycloak => t
                .typ("JWT")
                .without_claim("client_id")
                .audience(audience)
                .claim("typ", json!("Bearer"))
                .claim("azp", json!(Fixture::CLIENT_ID))
                .claim("sid", json!("f0c0b3a2-0c11-4b5d-9e8b-0a4c1e7d6a55"))
                .claim("preferred_username", json!("alice"))
                .claim("realm_access", json!({"roles": ["default-roles-mcp"]}))
                .scope(&format!("openid profile email {spaced}")),
            // https://workos.com/docs/authkit/mcp/integrating/token-verification
            Fixture::WorkOs => t
                .typ("JWT")
                .subject("user_01HXYZ")
                .audience(audience)
                .claim("sid", json!("session_01HXYZ"))
                .claim("org_id", json!("org_01HXYZ"))
                .scope(&spaced),
            // https://docs.descope.com/identity-federation/inbound-apps
            Fixture::Descope => t
                .typ("JWT")
                .audience(audience)
                .claim("drn", json!("DS"))
                .claim("amr", json!(["oauth"]))
                .scope(&spaced),
            // https://supabase.com/docs/guides/auth/jwt-fields
            Fixture::Supabase => t
                .typ("JWT")
                .algorithm(Algorithm::ES256)
                .subject("0f2c1a6e-3b0a-4c8e-9d3a-1c2b3d4e5f60")
                .audience(audience)
                .claim("role", json!("authenticated"))
                .claim("aal", json!("aal1"))
                .claim("session_id", json!("5b5c6f0e-0c1d-4d1e-8f2a-3b4c5d6e7f80"))
                .claim("is_anonymous", json!(false))
                .scope(&spaced),
        }
    }

    /// An OpenID Connect ID token of the provider's shape, issued to its client (the
    /// `aud` a careless configuration might accept): what must never pass as an access
    /// token.
    ///
    /// ```
    /// use mcp_oauth::{McpOAuthBuilder, Refusal, TokenRejection};
    /// use mcp_oauth::testing::{Fixture, TestAuthServer};
    ///
    /// let idp = TestAuthServer::imitating(&mcp_oauth::providers::KEYCLOAK);
    /// let resource = "http://127.0.0.1:8080/mcp";
    /// let oauth = McpOAuthBuilder::from_vars([
    ///     ("MCP_OAUTH_PROVIDER", "keycloak"),
    ///     ("MCP_OAUTH_KEYCLOAK_URL", idp.origin().as_str()),
    ///     ("MCP_OAUTH_KEYCLOAK_REALM", Fixture::KEYCLOAK_REALM),
    ///     ("MCP_OAUTH_RESOURCE", resource),
    /// ])
    /// .build()?;
    /// let id_token = idp.id_token().audience(resource).sign();
    /// let err = actix_web::rt::System::new().block_on(oauth.authenticate(&id_token)).unwrap_err();
    /// assert_eq!(err.refusal(), &Refusal::InvalidToken(TokenRejection::IdToken));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn id_token(&self) -> TokenBuilder {
        let t = self
            .server
            .token()
            .without_claim("client_id")
            .claim("auth_time", json!(super::token::unix_now() - 60));
        match self.fixture {
            // https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-the-id-token.html
            Fixture::Cognito => t
                .without_header("typ")
                .audience(Fixture::COGNITO_CLIENT_ID)
                .claim("token_use", json!("id"))
                .claim("cognito:username", json!("alice"))
                .claim("at_hash", json!("sYr9lT6WBsl0Ryq1H7MsTw")),
            // https://learn.microsoft.com/entra/identity-platform/id-token-claims-reference
            // (no `nonce` when none was sent: only the absent `scp`/`roles` tells).
            Fixture::EntraV2 | Fixture::EntraV1 => t
                .typ("JWT")
                .without_claim("auth_time")
                .audience(Fixture::ENTRA_CLIENT_ID)
                .claim("tid", json!(Fixture::ENTRA_TENANT_ID))
                .claim("oid", json!("00000000-0000-0000-66f3-3332eca7ea81"))
                .claim("preferred_username", json!("alice@contoso.com"))
                .claim(
                    "ver",
                    json!(if self.fixture == Fixture::EntraV2 {
                        "2.0"
                    } else {
                        "1.0"
                    }),
                ),
            // https://www.keycloak.org/docs/latest/server_admin/ (ID token: `typ: ID`).
            Fixture::Keycloak => t
                .typ("JWT")
                .audience(Fixture::CLIENT_ID)
                .claim("typ", json!("ID"))
                .claim("azp", json!(Fixture::CLIENT_ID))
                .claim("at_hash", json!("sYr9lT6WBsl0Ryq1H7MsTw")),
            Fixture::Okta => t
                .without_header("typ")
                .audience(Fixture::CLIENT_ID)
                .claim("ver", json!(1))
                .claim("idp", json!("00ob1fkc9IhR9VW9Y0g3"))
                .claim("nonce", json!("n-0S6_WzA2Mj"))
                .claim("at_hash", json!("sYr9lT6WBsl0Ryq1H7MsTw")),
            _ => t
                .typ("JWT")
                .audience(Fixture::CLIENT_ID)
                .claim("nonce", json!("n-0S6_WzA2Mj"))
                .claim("at_hash", json!("sYr9lT6WBsl0Ryq1H7MsTw")),
        }
    }
}
