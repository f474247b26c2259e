//! mcp-oauth's token validation behind actix-web-httpauth's `HttpAuthentication`
//! middleware, for applications already built on it.
//!
//! This module owns only the glue: the header is read by the same rules as
//! [`McpOAuth`] (RFC 6750 §2.1, see `bearer.rs`), the token judged by
//! [`McpOAuth::authenticate`], a refusal rendered by [`AuthError`]. It decides nothing
//! itself, and in particular never trusts the token `BearerAuth` parsed: that parser
//! accepts what RFC 6750 §2.1 and OAuth 2.1 §5.1 refuse (see [`validator`]).
//!
//! What wrapping with [`McpOAuth`] does and this path does not:
//! - serve the RFC 9728 metadata document (its URL is still named in every challenge);
//! - the per-method and per-tool scope policy (an HTTP 403 before the MCP service runs)
//!   and the `Mcp-Method`/`Mcp-Name` scope hint of a 401;
//! - bind `Mcp-Session-Id`s to their principal;
//! - let CORS preflights and public paths through unauthenticated.

use actix_web::dev::ServiceRequest;
use actix_web::error::InternalError;
use actix_web::{Error, HttpMessage};
use actix_web_httpauth::extractors::bearer::BearerAuth;
use actix_web_httpauth::middleware::HttpAuthentication;

use crate::bearer;
use crate::client::AuthenticatedClient;
use crate::layer::McpOAuth;
use crate::refusal::{AuthError, Refusal};
use crate::telemetry;
use crate::validate::LocalBoxFuture;

/// What the function [`validator`] returns gives back: the request, admitted (with an
/// [`AuthenticatedClient`] in its extensions), or refused with an [`AuthError`] as the
/// `actix_web::Error`, which `HttpAuthentication` answers with.
///
/// ```
/// use actix_web::dev::ServiceRequest;
/// use actix_web_httpauth::extractors::bearer::BearerAuth;
/// use mcp_oauth::httpauth::ValidatorFuture;
///
/// /// Admits everything: the shape `HttpAuthentication::with_fn` expects.
/// fn open(req: ServiceRequest, _: Option<BearerAuth>) -> ValidatorFuture {
///     Box::pin(async move { Ok(req) })
/// }
/// # let _ = actix_web_httpauth::middleware::HttpAuthentication::with_fn(open);
/// ```
pub type ValidatorFuture = LocalBoxFuture<'static, Result<ServiceRequest, (Error, ServiceRequest)>>;

/// `HttpAuthentication::with_fn(validator(oauth))`: actix-web-httpauth's middleware
/// admitting what [`McpOAuth`] admits, with the same refusals, byte for byte.
///
/// Replaces `HttpAuthentication::bearer(your_validator)` in one line. Handlers take an
/// [`AuthenticatedClient`]; `require_scopes` and `#[require_scope]` on handlers work as
/// under [`McpOAuth`]. See the [module](self) for what this path does not do: serve the
/// metadata document yourself (or wrap the app with [`McpOAuth`] instead).
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
///     let auth = mcp_oauth::httpauth::middleware(oauth);
///     HttpServer::new(move || {
///         App::new().service(web::scope("/api").wrap(auth.clone()).route("/whoami", web::get().to(whoami)))
///     })
///     .bind(("127.0.0.1", 8080))?
///     .run()
///     .await
/// }
/// ```
///
/// Against the loopback authorization server of the `testing` feature:
///
/// ```
/// use actix_web::{App, test, web};
/// use mcp_oauth::AuthenticatedClient;
/// use mcp_oauth::testing::TestAuthServer;
///
/// async fn whoami(client: AuthenticatedClient) -> String {
///     client.subject().unwrap_or("?").to_owned()
/// }
///
/// let auth = TestAuthServer::start();
/// let resource = "http://127.0.0.1:8080/mcp";
/// let oauth = auth.configure(resource).build()?;
/// let token = auth.token().audience(resource).subject("alice").sign();
/// actix_web::rt::System::new().block_on(async {
///     let app = App::new()
///         .wrap(mcp_oauth::httpauth::middleware(oauth))
///         .route("/mcp", web::post().to(whoami));
///     let app = test::init_service(app).await;
///
///     let req = test::TestRequest::post().uri("/mcp");
///     let req = req.insert_header(("authorization", format!("Bearer {token}")));
///     let res = test::call_service(&app, req.to_request()).await;
///     assert_eq!(test::read_body(res).await, "alice");
///
///     let res = test::call_service(&app, test::TestRequest::post().uri("/mcp").to_request()).await;
///     assert_eq!(res.status().as_u16(), 401);
///     assert_eq!(
///         res.headers().get("www-authenticate").unwrap(),
///         r#"Bearer resource_metadata="http://127.0.0.1:8080/.well-known/oauth-protected-resource/mcp""#
///     );
/// });
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn middleware(
    oauth: McpOAuth,
) -> HttpAuthentication<
    Option<BearerAuth>,
    impl Fn(ServiceRequest, Option<BearerAuth>) -> ValidatorFuture + Clone + Send + Sync + 'static,
> {
    HttpAuthentication::with_fn(validator(oauth))
}

/// The validator behind [`middleware`], for `HttpAuthentication::with_fn`.
///
/// For each request: a foreign `Origin` is refused with 403 as [`McpOAuth`] refuses it
/// (see [`McpOAuthBuilder::allowed_origins`](crate::McpOAuthBuilder::allowed_origins)),
/// the refusal and principal [rate limits](crate::McpOAuthBuilder::rate_limit_refusals)
/// apply as under [`McpOAuth`], the bearer token is read from the request by the rules
/// [`McpOAuth`] applies (not taken from `BearerAuth`), judged by
/// [`McpOAuth::authenticate`] (signature, claims, required scopes, the validation
/// cache), a form-body `access_token` beside it refused, and the
/// [`AuthenticatedClient`] put into the request extensions. A refusal is the
/// [`AuthError`] [`McpOAuth`] answers with: 400, 401, 403 or 503 with its
/// `resource_metadata` challenge.
///
/// The credentials are `Option<BearerAuth>` so that a request without them reaches
/// this function too: `HttpAuthentication::bearer` answers such a request itself with a
/// bare `WWW-Authenticate: Bearer`, which names no metadata and so leaves an MCP client
/// unable to find the authorization server. The header is read again because
/// `BearerAuth` takes the first of two `Authorization` headers, any characters after
/// `Bearer ` (spaces and quotes included), ignores an `access_token` in the query beside
/// it, and refuses a lowercase `bearer` scheme (RFC 7235 §2.1: case-insensitive).
///
/// ```no_run
/// use actix_web::{App, HttpServer};
/// use actix_web_httpauth::middleware::HttpAuthentication;
/// use mcp_oauth::McpOAuth;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let oauth = McpOAuth::from_env()?;
/// let auth = HttpAuthentication::with_fn(mcp_oauth::httpauth::validator(oauth));
/// let server = HttpServer::new(move || App::new().wrap(auth.clone()));
/// # let _ = server;
/// # Ok(())
/// # }
/// ```
pub fn validator(
    oauth: McpOAuth,
) -> impl Fn(ServiceRequest, Option<BearerAuth>) -> ValidatorFuture + Clone + Send + Sync + 'static
{
    move |mut req: ServiceRequest, _parsed: Option<BearerAuth>| -> ValidatorFuture {
        let oauth = oauth.clone();
        Box::pin(async move {
            // MCP transports §Security Warning: a foreign `Origin` is refused before any
            // token work, as under `McpOAuth`, with the same 403.
            if let Err(refused) = oauth.inner.origins.check(&req) {
                let error = InternalError::from_response("origin not allowed", refused.response());
                return Err((error.into(), req));
            }
            let decision = admit(&oauth, &mut req).await;
            telemetry::request(decision.as_ref().map(|_| ()).map_err(AuthError::refusal));
            match decision {
                Ok(client) => {
                    req.extensions_mut().insert(client);
                    Ok(req)
                }
                Err(refused) => Err((refused.into(), req)),
            }
        })
    }
}

/// The token, judged; the request checked for a second one in a form body.
async fn admit(
    oauth: &McpOAuth,
    req: &mut ServiceRequest,
) -> Result<AuthenticatedClient, AuthError> {
    let inner = &oauth.inner;
    let refuse = |r: Refusal| r.for_resource(inner.resource.clone());
    // The rate limits as under the middleware: a request without a usable token spends
    // its address's refusal budget (a 429 once spent).
    let token = match bearer::bearer_token(req, inner.max_token_bytes) {
        Ok(token) => token,
        Err(r) => return Err(refuse(inner.limits.charge_refusal(req, r).await)),
    };
    let client = inner.admit_token(token, Some(req)).await.map_err(refuse)?;
    let (cap, timeout) = (inner.policy.max_body, inner.policy.body_timeout);
    bearer::reject_form_body_token(req, cap, timeout)
        .await
        .map_err(refuse)?;
    Ok(client)
}
