//! [`McpOAuth`], the actix `Transform`, and its per-worker service. Reads top to bottom:
//! route the request (metadata, diagnostics, public, protected), then admit it
//! ([`crate::admit`]) or refuse it, with the session binding around the service.
//!
//! The layer decides where a request goes and renders the answer; it never judges a
//! token or reads a body itself.

use std::rc::Rc;
use std::sync::Arc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::Method;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{Error, HttpMessage, ResponseError};

use crate::admit::{Inner, NextDpopNonce};
use crate::client::AuthenticatedClient;
use crate::discovery::endpoint as diagnostics;
use crate::discovery::report::{Check, StartupError, StartupReport};
use crate::refusal::{AuthError, DPOP_NONCE};
use crate::resource::endpoint as metadata;
use crate::validate::LocalBoxFuture;

/// OAuth 2.1 protected-resource middleware for actix-web.
///
/// Wrap the whole `App` (so it also serves the metadata at the host root):
///
/// ```no_run
/// use actix_web::{App, HttpServer, web};
/// use mcp_oauth::{AuthenticatedClient, McpOAuth};
///
/// async fn whoami(client: AuthenticatedClient) -> String {
///     format!("hello {}", client.subject().unwrap_or("anonymous"))
/// }
///
/// #[actix_web::main]
/// async fn main() -> std::io::Result<()> {
///     let oauth = McpOAuth::from_env().map_err(std::io::Error::other)?;
///     HttpServer::new(move || App::new().wrap(oauth.clone()).route("/mcp", web::post().to(whoami)))
///         .bind(("127.0.0.1", 8080))?
///         .run()
///         .await
/// }
/// ```
///
/// For each request, in order:
/// 1. `GET`/`HEAD`/`OPTIONS` of the metadata (`/.well-known/oauth-protected-resource/<path>`
///    and the root form): answered here, unauthenticated (RFC 9728), or 429 once the
///    client address's [metadata limit](crate::McpOAuthBuilder::rate_limit_metadata)
///    is spent;
/// 2. configured public paths, and CORS preflights from an allowed origin: passed on
///    unauthenticated;
/// 3. everything else (and the diagnostics path): a present `Origin` that is not
///    [allowed](crate::McpOAuthBuilder::allowed_origins) gets a 403 at once (MCP
///    transports §Security Warning: DNS rebinding); then the bearer token is extracted
///    (a request needing token work first spends its address's
///    [refusal budget](crate::McpOAuthBuilder::rate_limit_refusals), 429 once spent),
///    validated, the required scopes
///    checked, and an [`AuthenticatedClient`] put in the request extensions; or the
///    request is refused with the right status and a `WWW-Authenticate` challenge.
///
/// Cloning is cheap: the caches and keys are shared behind an `Arc`.
#[derive(Clone)]
pub struct McpOAuth {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for McpOAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpOAuth")
            .field("resource_metadata", &self.inner.resource.metadata_url())
            .field("public_paths", &self.inner.public_paths)
            .finish_non_exhaustive()
    }
}

/// A CORS preflight (Fetch Standard, "CORS-preflight request"): `OPTIONS` with `Origin`
/// and `Access-Control-Request-Method`, and no body. It carries no credentials by design,
/// and challenging it breaks browser clients; anything else that merely looks like one
/// is authenticated as usual.
fn is_preflight(req: &ServiceRequest) -> bool {
    let headers = req.headers();
    let no_body = !headers.contains_key(actix_web::http::header::TRANSFER_ENCODING)
        && headers
            .get(actix_web::http::header::CONTENT_LENGTH)
            .is_none_or(|v| v.as_bytes() == b"0");
    req.method() == Method::OPTIONS
        && headers.contains_key(actix_web::http::header::ORIGIN)
        && headers.contains_key(actix_web::http::header::ACCESS_CONTROL_REQUEST_METHOD)
        && no_body
}

/// The middleware's own answer to `req`, instead of the service's.
fn answer<B>(
    req: ServiceRequest,
    res: actix_web::HttpResponse,
) -> Result<ServiceResponse<EitherBody<B>>, Error> {
    Ok(req.into_response(res).map_into_right_body())
}

/// Where a request goes.
enum Route {
    Metadata,
    Diagnostics,
    UnknownMetadata,
    Preflight,
    Public,
    Protected,
}

impl Route {
    /// Whether the request's `Origin` is checked first (MCP transports §Security
    /// Warning): every route that reaches the MCP endpoints or spends token work. The
    /// public metadata (CORS `*`) and the application's public paths are not.
    fn checks_origin(&self) -> bool {
        matches!(self, Self::Diagnostics | Self::Preflight | Self::Protected)
    }
}

impl McpOAuth {
    pub(crate) fn from_inner(inner: Inner) -> Self {
        Self {
            inner: Arc::new(inner),
        }
    }

    /// The resource identifier, exactly as configured (`MCP_OAUTH_RESOURCE`).
    ///
    /// ```
    /// let oauth = mcp_oauth::McpOAuth::builder()
    ///     .resource("https://mcp.example.com/mcp")
    ///     .authorization_server("https://auth.example.com")
    ///     .jwks_uri("https://auth.example.com/jwks")
    ///     .build()?;
    /// assert_eq!(oauth.resource(), "https://mcp.example.com/mcp");
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn resource(&self) -> &str {
        self.inner.resource.resource()
    }

    /// The absolute URL of this resource's metadata: what `resource_metadata` names.
    ///
    /// ```
    /// let oauth = mcp_oauth::McpOAuth::builder()
    ///     .resource("https://mcp.example.com/mcp")
    ///     .authorization_server("https://auth.example.com")
    ///     .jwks_uri("https://auth.example.com/jwks")
    ///     .build()?;
    /// assert_eq!(
    ///     oauth.resource_metadata_url(),
    ///     "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
    /// );
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn resource_metadata_url(&self) -> &str {
        self.inner.resource.metadata_url()
    }

    /// Discovers every authorization server's metadata now (RFC 8414, then OpenID
    /// Connect; see [`StartupReport`]), checks it, logs the report with `tracing` and
    /// returns it. Call it once at startup, before serving: the first requests then find
    /// the keys' location known. Without it, discovery happens on the first token that
    /// needs it.
    ///
    /// ```
    /// # use mcp_oauth::testing::TestAuthServer;
    /// # let auth = TestAuthServer::start();
    /// let oauth = mcp_oauth::McpOAuth::builder()
    ///     .resource("http://127.0.0.1:8080/mcp")
    ///     .authorization_server(auth.issuer()) // nothing else: the rest is discovered
    ///     .build()?;
    /// let report = actix_web::rt::System::new().block_on(oauth.discover())?;
    /// let server = &report.authorization_servers[0];
    /// assert_eq!(server.jwks_uri.as_deref(), Some(auth.jwks_uri().as_str()));
    /// assert!(report.is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// A [`StartupError`] when a finding is an error under the configured
    /// [`Strictness`](crate::Strictness), e.g. no usable metadata where it is needed
    /// (naming each URL tried and why), or no PKCE `S256`. With
    /// [`retry_discovery_in_background`](crate::McpOAuthBuilder::retry_discovery_in_background),
    /// servers that could not be discovered are not errors: they are retried in the
    /// background while the requests that need them get a 503.
    pub async fn discover(&self) -> Result<StartupReport, StartupError> {
        let authorities = &self.inner.authorities;
        let report = authorities.discover().await;
        if report.is_ok() {
            return Ok(report);
        }
        let only_unreachable = report.errors().all(|(_, f)| f.check == Check::Discovery);
        if self.inner.retry_discovery && only_unreachable {
            for discovery in authorities.discoveries().filter(|d| !d.is_ready()) {
                discovery.retry_in_background();
            }
            return Ok(report);
        }
        Err(StartupError::new(report))
    }

    /// The latest discovery report, without fetching anything: what
    /// [`discover`](Self::discover) or the last attempt found.
    ///
    /// ```
    /// use mcp_oauth::DiscoveryStatus;
    ///
    /// let oauth = mcp_oauth::McpOAuth::builder()
    ///     .resource("https://mcp.example.com/mcp")
    ///     .authorization_server("https://auth.example.com")
    ///     .build()?;
    /// let report = oauth.report();
    /// assert_eq!(report.authorization_servers[0].status, DiscoveryStatus::Pending);
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn report(&self) -> StartupReport {
        self.inner.authorities.report()
    }

    /// How many validation results the cache holds (live or expired but not yet dropped;
    /// never more than [`cache_max_entries`](crate::McpOAuthBuilder::cache_max_entries)), or
    /// `None` when the cache is off. For tests: no stability promise.
    ///
    /// ```
    /// use std::time::Duration;
    /// use mcp_oauth::testing::TestAuthServer;
    ///
    /// let auth = TestAuthServer::start();
    /// let resource = "http://127.0.0.1:8080/mcp";
    /// let oauth = auth.configure(resource).build()?;
    /// assert_eq!(oauth.cache_len(), Some(0));
    /// let token = auth.token().audience(resource).sign();
    /// actix_web::rt::System::new().block_on(oauth.authenticate(&token))?;
    /// assert_eq!(oauth.cache_len(), Some(1));
    /// let uncached = auth.configure(resource).cache_ttl(Duration::ZERO).build()?;
    /// assert_eq!(uncached.cache_len(), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(hidden)]
    pub fn cache_len(&self) -> Option<usize> {
        self.inner.cache.as_ref().map(|c| c.len())
    }

    /// Validates a bearer token outside a request (e.g. for a WebSocket handshake or a
    /// test): the same checks as the middleware, including the required scopes.
    /// Must run on an actix runtime thread (keys are fetched with awc).
    ///
    /// ```
    /// use mcp_oauth::{Refusal, TokenRejection, testing::TestAuthServer};
    ///
    /// let auth = TestAuthServer::start();
    /// let resource = "http://127.0.0.1:8080/mcp";
    /// let oauth = auth.configure(resource).build()?;
    /// let token = auth.token().audience(resource).subject("alice").sign();
    /// actix_web::rt::System::new().block_on(async {
    ///     let client = oauth.authenticate(&token).await?;
    ///     assert_eq!(client.subject(), Some("alice"));
    ///     let err = oauth.authenticate("not-a-jwt").await.unwrap_err();
    ///     assert_eq!(err.refusal(), &Refusal::InvalidToken(TokenRejection::Malformed));
    ///     Ok::<_, mcp_oauth::AuthError>(())
    /// })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// The [`AuthError`] the middleware would have answered with.
    pub async fn authenticate(&self, token: &str) -> Result<AuthenticatedClient, AuthError> {
        self.inner
            .admit_token(token, None)
            .await
            .map_err(|r| r.for_resource(self.inner.resource.clone()))
    }
}

impl Inner {
    fn route(&self, req: &ServiceRequest) -> Route {
        let path = req.path();
        if self.resource.is_metadata_path(path) {
            return Route::Metadata;
        }
        if self.diagnostics_path.as_deref() == Some(path) {
            return Route::Diagnostics;
        }
        if self.resource.is_other_metadata_path(path) {
            return Route::UnknownMetadata;
        }
        if is_preflight(req) {
            return Route::Preflight;
        }
        let public = self.public_paths.iter().any(|p| {
            path.strip_prefix(p.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        });
        if public {
            Route::Public
        } else {
            Route::Protected
        }
    }

    /// The discovery report, only for a caller with a valid token: it names the
    /// authorization servers this deployment depends on.
    async fn diagnostics<B>(
        &self,
        mut req: ServiceRequest,
    ) -> Result<ServiceResponse<EitherBody<B>>, Error> {
        let res = match self.admit(&mut req).await {
            Ok(_) => diagnostics::diagnostics(req.method(), &self.authorities.report()),
            Err(refused) => refused.error_response(),
        };
        answer(req, res)
    }
}

impl<S, B> Transform<S, ServiceRequest> for McpOAuth
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = McpOAuthMiddleware<S>;
    type InitError = ();
    type Future = std::future::Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        std::future::ready(Ok(McpOAuthMiddleware {
            service: Rc::new(service),
            inner: self.inner.clone(),
        }))
    }
}

/// The per-worker service made by [`McpOAuth`]. Not used directly: `.wrap(oauth)`
/// installs it, and it answers requests before they reach your handlers.
///
/// ```
/// use actix_web::{App, test, web};
/// # let oauth = mcp_oauth::McpOAuth::builder()
/// #     .resource("https://mcp.example.com/mcp")
/// #     .authorization_server("https://auth.example.com")
/// #     .jwks_uri("https://auth.example.com/jwks")
/// #     .build()?;
/// # actix_web::rt::System::new().block_on(async {
/// let app = App::new().wrap(oauth).route("/mcp", web::post().to(|| async { "ok" }));
/// let app = test::init_service(app).await;
/// let res = test::call_service(&app, test::TestRequest::post().uri("/mcp").to_request()).await;
/// assert_eq!(res.status(), 401);
/// assert_eq!(
///     res.headers().get("www-authenticate").unwrap(),
///     r#"Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp""#
/// );
/// # });
/// # Ok::<(), mcp_oauth::ConfigError>(())
/// ```
pub struct McpOAuthMiddleware<S> {
    service: Rc<S>,
    inner: Arc<Inner>,
}

impl<S> std::fmt::Debug for McpOAuthMiddleware<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpOAuthMiddleware").finish_non_exhaustive()
    }
}

impl<S, B> Service<ServiceRequest> for McpOAuthMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let service = self.service.clone();
        let inner = self.inner.clone();
        Box::pin(async move {
            let mut req = req;
            let route = inner.route(&req);
            if route.checks_origin()
                && let Err(refused) = inner.origins.check(&req)
            {
                return answer(req, refused.response());
            }
            // The per-address limit of the unauthenticated endpoints (off by default).
            if matches!(
                route,
                Route::Metadata | Route::UnknownMetadata | Route::Diagnostics
            ) && let Err(limited) = inner.limits.metadata(&req).await
            {
                let res = limited
                    .for_resource(inner.resource.clone())
                    .error_response();
                let public = !matches!(route, Route::Diagnostics);
                return answer(req, if public { metadata::public(res) } else { res });
            }
            match route {
                Route::Metadata => {
                    let res = metadata::respond(req.method(), &inner.resource);
                    return answer(req, res);
                }
                Route::Diagnostics => return inner.diagnostics(req).await,
                Route::UnknownMetadata => return answer(req, metadata::not_found()),
                Route::Preflight | Route::Public => {
                    return service
                        .call(req)
                        .await
                        .map(ServiceResponse::map_into_left_body);
                }
                Route::Protected => {}
            }
            let client = match inner.admit(&mut req).await {
                Ok(client) => client,
                Err(refused) => return answer(req, refused.error_response()),
            };
            let binding = match &inner.sessions {
                Some(sessions) => match sessions.before(&req, &client).await {
                    Err(refused) => return answer(req, refused.response()),
                    Ok(pending) => Some(pending),
                },
                None => None,
            };
            req.extensions_mut().insert(client);
            let next_nonce = req.extensions_mut().remove::<NextDpopNonce>();
            let mut res = service.call(req).await?;
            if let Some(NextDpopNonce(nonce)) = next_nonce
                && let Ok(value) = HeaderValue::try_from(nonce)
            {
                res.headers_mut()
                    .insert(HeaderName::from_static(DPOP_NONCE), value);
            }
            if let (Some(sessions), Some(pending)) = (&inner.sessions, binding)
                && let Err(refused) = sessions.after(pending, &res).await
            {
                let (req, _) = res.into_parts();
                return Ok(ServiceResponse::new(req, refused.response()).map_into_right_body());
            }
            Ok(res.map_into_left_body())
        })
    }
}
