//! Discovery of the authorization servers' metadata (RFC 8414): strictness, background
//! retry, and the diagnostics path.

use crate::discovery::report::Strictness;

use super::McpOAuthBuilder;

impl McpOAuthBuilder {
    /// Which discovery findings stop [`McpOAuth::discover`](crate::McpOAuth::discover) (see [`Strictness`]).
    /// Default: [`Strictness::Standard`], which refuses only what would make every client
    /// fail. (`MCP_OAUTH_DISCOVERY_STRICTNESS`: `lenient`, `standard` or `strict`)
    ///
    /// ```
    /// let builder = mcp_oauth::McpOAuth::builder()
    ///     .discovery_strictness(mcp_oauth::Strictness::Strict);
    /// # let _ = builder;
    /// ```
    pub fn discovery_strictness(mut self, strictness: Strictness) -> Self {
        self.strictness = strictness;
        self
    }

    /// When an authorization server whose metadata is needed cannot be reached (or
    /// serves no usable metadata) at [`McpOAuth::discover`](crate::McpOAuth::discover): `false` (the default)
    /// makes `discover` fail, naming each URL tried and why; `true` lets it succeed and
    /// keeps retrying in the background, with back-off from 1 s to 60 s, while requests
    /// that need that server get a 503. (`MCP_OAUTH_DISCOVERY_RETRY`: `true` or `false`)
    ///
    /// ```
    /// let builder = mcp_oauth::McpOAuth::builder().retry_discovery_in_background(true);
    /// # let _ = builder;
    /// ```
    pub fn retry_discovery_in_background(mut self, retry: bool) -> Self {
        self.retry_discovery = retry;
        self
    }

    /// Serves the latest [`StartupReport`](crate::StartupReport) as JSON at this path, to
    /// requests with a valid token (and the required scopes) only, and redacted: each
    /// finding's check and severity without its message, whose error text can name
    /// internal hosts. Off by default. (`MCP_OAUTH_DIAGNOSTICS_PATH`)
    ///
    /// ```
    /// # use mcp_oauth::testing::TestAuthServer;
    /// use actix_web::{App, test};
    ///
    /// # let auth = TestAuthServer::start();
    /// let resource = "http://127.0.0.1:8080/mcp";
    /// let oauth = auth
    ///     .configure(resource)
    ///     .diagnostics_path("/.well-known/mcp-oauth/report")
    ///     .build()?;
    /// let token = auth.token().audience(resource).sign();
    /// actix_web::rt::System::new().block_on(async {
    ///     oauth.discover().await?;
    ///     let app = test::init_service(App::new().wrap(oauth)).await;
    ///     let anonymous = test::TestRequest::get().uri("/.well-known/mcp-oauth/report");
    ///     assert_eq!(test::call_service(&app, anonymous.to_request()).await.status(), 401);
    ///     let req = test::TestRequest::get()
    ///         .uri("/.well-known/mcp-oauth/report")
    ///         .insert_header(("authorization", format!("Bearer {token}")))
    ///         .to_request();
    ///     let report: serde_json::Value = test::call_and_read_body_json(&app, req).await;
    ///     assert_eq!(report["authorization_servers"][0]["status"], "ready");
    ///     Ok::<_, Box<dyn std::error::Error>>(())
    /// })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn diagnostics_path(mut self, path: impl Into<String>) -> Self {
        self.diagnostics_path = Some(path.into());
        self
    }
}
