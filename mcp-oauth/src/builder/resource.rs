//! What the resource is and what it asks for: its identifier, the authorization
//! servers it trusts, accepted audiences, required and advertised scopes, the metadata's
//! names, and the paths served without a token.

use super::AuthorizationServer;

use super::McpOAuthBuilder;

impl McpOAuthBuilder {
    /// The resource identifier: the absolute URL of the MCP endpoint, e.g.
    /// `https://mcp.example.com/mcp`. Required. Kept byte for byte: it is what the
    /// metadata's `resource` says and, by default, the audience tokens must carry.
    /// `https` only, except on loopback hosts. (`MCP_OAUTH_RESOURCE`)
    ///
    /// ```
    /// let builder = mcp_oauth::McpOAuth::builder()
    ///     .authorization_server("https://auth.example.com")
    ///     .jwks_uri("https://auth.example.com/jwks");
    /// let oauth = builder.clone().resource("https://mcp.example.com/mcp").build()?;
    /// assert_eq!(oauth.resource(), "https://mcp.example.com/mcp");
    /// assert!(builder.clone().resource("http://127.0.0.1:8080/mcp").build().is_ok());
    /// assert!(builder.resource("http://mcp.example.com/mcp").build().is_err()); // not https
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn resource(mut self, resource: impl Into<String>) -> Self {
        self.resource = Some(resource.into());
        self
    }

    /// Adds a trusted authorization server: its RFC 8414 issuer identifier, or an
    /// [`AuthorizationServer`] with settings of its own. It is listed in the metadata's
    /// `authorization_servers`, its tokens are accepted (a JWT is judged only by the
    /// issuer its `iss` names), and whatever endpoint is not configured is discovered
    /// from its metadata. At least one is required. (`MCP_OAUTH_AUTHORIZATION_SERVERS`)
    ///
    /// ```
    /// # fn metadata(oauth: mcp_oauth::McpOAuth) -> serde_json::Value {
    /// #     use actix_web::{App, test};
    /// #     actix_web::rt::System::new().block_on(async {
    /// #         let app = test::init_service(App::new().wrap(oauth)).await;
    /// #         let uri = "/.well-known/oauth-protected-resource/mcp";
    /// #         test::call_and_read_body_json(&app, test::TestRequest::get().uri(uri).to_request()).await
    /// #     })
    /// # }
    /// let oauth = mcp_oauth::McpOAuth::builder()
    ///     .resource("https://mcp.example.com/mcp")
    ///     .authorization_server("https://auth.example.com")
    ///     .jwks_uri("https://auth.example.com/jwks")
    ///     .build()?;
    /// let doc = metadata(oauth); // GET /.well-known/oauth-protected-resource/mcp
    /// assert_eq!(doc["authorization_servers"], serde_json::json!(["https://auth.example.com"]));
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn authorization_server(mut self, issuer: impl Into<AuthorizationServer>) -> Self {
        self.authorization_servers.push(issuer.into());
        self
    }

    /// Which authorization server the builder's [`jwks_uri`](Self::jwks_uri),
    /// [`hs256_secret`](Self::hs256_secret),
    /// [`introspection_endpoint`](Self::introspection_endpoint) and
    /// [`opaque_token_prefix`](Self::opaque_token_prefix) belong to. Default: the
    /// authorization server, when exactly one is configured. It must be one of them, and
    /// is required when several are and one of those settings is given; for settings of
    /// several issuers, use [`AuthorizationServer`]. (`MCP_OAUTH_ISSUER`)
    ///
    /// ```
    /// let builder = mcp_oauth::McpOAuth::builder()
    ///     .resource("https://mcp.example.com/mcp")
    ///     .authorization_server("https://login.example.com")
    ///     .authorization_server("https://login-eu.example.com")
    ///     .jwks_uri("https://login.example.com/jwks");
    /// let err = builder.clone().build().unwrap_err(); // which one issues the tokens?
    /// assert_eq!(err.problems()[0].setting(), "MCP_OAUTH_ISSUER");
    /// assert!(builder.issuer("https://login.example.com").build().is_ok());
    /// ```
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Adds an accepted audience, besides the resource (which is always accepted).
    /// Some providers put a client id or an `api://…` URI in `aud`; list it here.
    /// (`MCP_OAUTH_AUDIENCE`)
    ///
    /// ```
    /// # use mcp_oauth::testing::TestAuthServer;
    /// # let auth = TestAuthServer::start();
    /// let resource = "http://127.0.0.1:8080/mcp";
    /// let oauth = auth.configure(resource).audience("api://mcp").build()?;
    /// let token = auth.token().audience("api://mcp").sign();
    /// let client = actix_web::rt::System::new().block_on(oauth.authenticate(&token))?;
    /// assert_eq!(client.audiences(), ["api://mcp"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// Scopes every request must carry, all of them; otherwise 403
    /// `insufficient_scope`. Also advertised in `scopes_supported`.
    /// (`MCP_OAUTH_REQUIRED_SCOPES`)
    ///
    /// ```
    /// use mcp_oauth::Refusal;
    /// # use mcp_oauth::testing::TestAuthServer;
    /// # let auth = TestAuthServer::start();
    /// let resource = "http://127.0.0.1:8080/mcp";
    /// let oauth = auth.configure(resource).required_scopes(["mcp:tools"]).build()?;
    /// let token = auth.token().audience(resource).scope("mcp:read").sign();
    /// let err = actix_web::rt::System::new().block_on(oauth.authenticate(&token)).unwrap_err();
    /// assert_eq!(err.refusal().status().as_u16(), 403);
    /// assert!(matches!(err.refusal(), Refusal::InsufficientScope { .. }));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn required_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.required_scopes
            .extend(scopes.into_iter().map(Into::into));
        self
    }

    /// Further scopes to advertise in the metadata's `scopes_supported`. Keep it
    /// minimal (MCP Security Best Practices, scope minimization).
    /// (`MCP_OAUTH_SCOPES_SUPPORTED`)
    ///
    /// ```
    /// # let builder = mcp_oauth::McpOAuth::builder()
    /// #     .resource("https://mcp.example.com/mcp")
    /// #     .authorization_server("https://auth.example.com")
    /// #     .jwks_uri("https://auth.example.com/jwks");
    /// # fn metadata(oauth: mcp_oauth::McpOAuth) -> serde_json::Value {
    /// #     use actix_web::{App, test};
    /// #     actix_web::rt::System::new().block_on(async {
    /// #         let app = test::init_service(App::new().wrap(oauth)).await;
    /// #         let uri = "/.well-known/oauth-protected-resource/mcp";
    /// #         test::call_and_read_body_json(&app, test::TestRequest::get().uri(uri).to_request()).await
    /// #     })
    /// # }
    /// let oauth = builder.required_scopes(["mcp:tools"]).scopes_supported(["files:read"]).build()?;
    /// let doc = metadata(oauth); // GET /.well-known/oauth-protected-resource/mcp
    /// assert_eq!(doc["scopes_supported"], serde_json::json!(["mcp:tools", "files:read"]));
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn scopes_supported<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes_supported
            .extend(scopes.into_iter().map(Into::into));
        self
    }

    /// The human-readable `resource_name` of the metadata. (`MCP_OAUTH_RESOURCE_NAME`)
    ///
    /// ```
    /// # let builder = mcp_oauth::McpOAuth::builder()
    /// #     .resource("https://mcp.example.com/mcp")
    /// #     .authorization_server("https://auth.example.com")
    /// #     .jwks_uri("https://auth.example.com/jwks");
    /// # fn metadata(oauth: mcp_oauth::McpOAuth) -> serde_json::Value {
    /// #     use actix_web::{App, test};
    /// #     actix_web::rt::System::new().block_on(async {
    /// #         let app = test::init_service(App::new().wrap(oauth)).await;
    /// #         let uri = "/.well-known/oauth-protected-resource/mcp";
    /// #         test::call_and_read_body_json(&app, test::TestRequest::get().uri(uri).to_request()).await
    /// #     })
    /// # }
    /// let oauth = builder.resource_name("Example Files").build()?;
    /// let doc = metadata(oauth); // GET /.well-known/oauth-protected-resource/mcp
    /// assert_eq!(doc["resource_name"], "Example Files");
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn resource_name(mut self, name: impl Into<String>) -> Self {
        self.resource_name = Some(name.into());
        self
    }

    /// The metadata's `resource_documentation` URL: `https` only, except on loopback
    /// hosts. (`MCP_OAUTH_RESOURCE_DOCUMENTATION`)
    ///
    /// ```
    /// # let builder = mcp_oauth::McpOAuth::builder()
    /// #     .resource("https://mcp.example.com/mcp")
    /// #     .authorization_server("https://auth.example.com")
    /// #     .jwks_uri("https://auth.example.com/jwks");
    /// # fn metadata(oauth: mcp_oauth::McpOAuth) -> serde_json::Value {
    /// #     use actix_web::{App, test};
    /// #     actix_web::rt::System::new().block_on(async {
    /// #         let app = test::init_service(App::new().wrap(oauth)).await;
    /// #         let uri = "/.well-known/oauth-protected-resource/mcp";
    /// #         test::call_and_read_body_json(&app, test::TestRequest::get().uri(uri).to_request()).await
    /// #     })
    /// # }
    /// let oauth = builder.resource_documentation("https://docs.example.com/mcp").build()?;
    /// let doc = metadata(oauth); // GET /.well-known/oauth-protected-resource/mcp
    /// assert_eq!(doc["resource_documentation"], "https://docs.example.com/mcp");
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn resource_documentation(mut self, url: impl Into<String>) -> Self {
        self.resource_documentation = Some(url.into());
        self
    }

    /// A path served without authentication (e.g. `/health`): the path itself and
    /// everything below it (`/health/live`), nothing else. (`MCP_OAUTH_PUBLIC_PATHS`)
    ///
    /// ```
    /// use actix_web::{App, test, web};
    /// # let builder = mcp_oauth::McpOAuth::builder()
    /// #     .resource("https://mcp.example.com/mcp")
    /// #     .authorization_server("https://auth.example.com")
    /// #     .jwks_uri("https://auth.example.com/jwks");
    /// let oauth = builder.public_path("/health").build()?;
    /// # actix_web::rt::System::new().block_on(async {
    /// let app = App::new().wrap(oauth).default_service(web::to(|| async { "ok" }));
    /// let app = test::init_service(app).await;
    /// let get = |uri: &str| test::TestRequest::get().uri(uri).to_request();
    /// assert_eq!(test::call_service(&app, get("/health")).await.status(), 200);
    /// assert_eq!(test::call_service(&app, get("/health/live")).await.status(), 200);
    /// assert_eq!(test::call_service(&app, get("/healthz")).await.status(), 401); // token needed
    /// # });
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn public_path(mut self, path: impl Into<String>) -> Self {
        self.public_paths.push(path.into());
        self
    }
}
