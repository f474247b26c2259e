//! rmcp integration (feature `rmcp`): [`AuthenticatedClient`] as a tool argument.

use rmcp::handler::server::common::{AsRequestContext, FromContextPart};
use rmcp::model::Extensions;

use crate::client::AuthenticatedClient;

/// The rmcp-actix-web request hook that hands the middleware's [`AuthenticatedClient`]
/// to rmcp. Pass it to `StreamableHttpService::builder().on_request_fn(..)`.
///
/// ```
/// # use std::sync::Arc;
/// # use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
/// # use rmcp_actix_web::transport::StreamableHttpService;
/// # fn wire<S: rmcp::ServerHandler>(make: impl Fn() -> S + Send + Sync + 'static) {
/// let mcp = StreamableHttpService::builder()
///     .service_factory(Arc::new(move || Ok(make())))
///     .session_manager(Arc::new(LocalSessionManager::default()))
///     .on_request_fn(mcp_oauth::rmcp::forward_client)
///     .build();
/// # let _ = mcp; }
/// ```
pub fn forward_client(req: &actix_web::HttpRequest, extensions: &mut Extensions) {
    use actix_web::HttpMessage as _;
    if let Some(client) = req.extensions().get::<AuthenticatedClient>() {
        extensions.insert(client.clone());
    }
}

/// Take `client: AuthenticatedClient` as an argument of a `#[tool]` method.
///
/// Works with the Streamable HTTP transport (the hook's values nested in the request
/// parts) and with transports that put hook values directly into the context.
impl<C: AsRequestContext> FromContextPart<C> for AuthenticatedClient {
    fn from_context_part(context: &mut C) -> Result<Self, rmcp::ErrorData> {
        let ext = &context.as_request_context().extensions;
        rmcp_actix_web::transport::on_request_extensions(ext)
            .and_then(|nested| nested.get::<AuthenticatedClient>())
            .or_else(|| ext.get::<AuthenticatedClient>())
            .cloned()
            .ok_or_else(|| {
                tracing::error!(
                    target: "mcp_oauth",
                    "AuthenticatedClient requested in a tool, but none was forwarded: wrap the App with McpOAuth \
                     and pass mcp_oauth::rmcp::forward_client to on_request_fn"
                );
                rmcp::ErrorData::internal_error("server misconfiguration: no authenticated client", None)
            })
    }
}
