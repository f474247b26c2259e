//! rmcp integration (feature `rmcp`): [`AuthenticatedClient`] as a tool or prompt
//! argument, and the list filters ([`visible_tools`], [`visible_prompts`],
//! [`visible_resources`]).

use rmcp::RoleServer;
use rmcp::handler::server::common::{AsRequestContext, FromContextPart};
use rmcp::model::{Extensions, Prompt, Resource, ResourceTemplate, Tool};
use rmcp::service::RequestContext;

use crate::client::AuthenticatedClient;
use crate::names::Kind;

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

/// Take `client: AuthenticatedClient` as an argument of a `#[tool]` or `#[prompt]`
/// method (rmcp's prompt arguments are extracted through the same trait).
///
/// Works with the Streamable HTTP transport (the hook's values nested in the request
/// parts) and with transports that put hook values directly into the context.
impl<C: AsRequestContext> FromContextPart<C> for AuthenticatedClient {
    fn from_context_part(context: &mut C) -> Result<Self, rmcp::ErrorData> {
        from_extensions(&context.as_request_context().extensions)
    }
}

/// The [`AuthenticatedClient`] of a request, in a `ServerHandler` method that gets the
/// rmcp [`RequestContext`] (e.g. a hand-written `list_tools`), where no extractor runs.
///
/// # Errors
/// An internal JSON-RPC error (and a log line saying why) when the middleware did not
/// forward a client: a server bug, not the caller's.
///
/// ```
/// # fn f(context: &rmcp::service::RequestContext<rmcp::RoleServer>) -> Result<(), rmcp::ErrorData> {
/// let client = mcp_oauth::rmcp::authenticated_client(context)?;
/// println!("{:?}", client.subject());
/// # Ok(()) }
/// ```
pub fn authenticated_client(
    context: &RequestContext<RoleServer>,
) -> Result<AuthenticatedClient, rmcp::ErrorData> {
    from_extensions(&context.extensions)
}

fn from_extensions(ext: &Extensions) -> Result<AuthenticatedClient, rmcp::ErrorData> {
    rmcp_actix_web::transport::on_request_extensions(ext)
            .and_then(|nested| nested.get::<AuthenticatedClient>())
            .or_else(|| ext.get::<AuthenticatedClient>())
            .cloned()
            .ok_or_else(|| {
                tracing::error!(
                    target: "mcp_oauth",
                    "AuthenticatedClient requested in a tool, prompt or handler, but none was forwarded: wrap the App with McpOAuth \
                     and pass mcp_oauth::rmcp::forward_client to on_request_fn"
                );
                rmcp::ErrorData::internal_error("server misconfiguration: no authenticated client", None)
            })
}

/// The tools of `tools` this client may call: those whose `tools/call` the middleware
/// would admit, by the same rules (the `tools/call` method's, the tool's own from
/// [`require_scope_for_tool`](crate::McpOAuthBuilder::require_scope_for_tool) and
/// `#[require_scope]`), so `tools/list` never shows what a call would refuse with 403.
/// Opt-in: call it in a hand-written `list_tools` (`#[tool_handler]` keeps one).
/// Hiding is a courtesy to the client, not the check: calls stay guarded.
///
/// ```
/// use rmcp::model::{ListToolsResult, PaginatedRequestParams};
/// use rmcp::service::RequestContext;
/// use rmcp::{ErrorData, RoleServer};
///
/// # struct Server { router: rmcp::handler::server::router::tool::ToolRouter<Server> }
/// # impl Server {
/// async fn list_tools(
///     &self,
///     _request: Option<PaginatedRequestParams>,
///     context: RequestContext<RoleServer>,
/// ) -> Result<ListToolsResult, ErrorData> {
///     let client = mcp_oauth::rmcp::authenticated_client(&context)?;
///     let tools = mcp_oauth::rmcp::visible_tools(&client, self.router.list_all());
///     Ok(ListToolsResult::with_all_items(tools))
/// }
/// # }
/// ```
pub fn visible_tools(client: &AuthenticatedClient, tools: Vec<Tool>) -> Vec<Tool> {
    keep(tools, |t| client.may_use(Kind::Tool, &t.name))
}

/// The prompts of `prompts` this client may get (`prompts/get`): as [`visible_tools`],
/// with the rules of [`require_scope_for_prompt`](crate::McpOAuthBuilder::require_scope_for_prompt)
/// and `#[require_scope]` on `#[prompt]`s. Write `list_prompts` by hand and without
/// `#[prompt_handler]`, which replaces it.
///
/// ```
/// # use mcp_oauth::AuthenticatedClient;
/// # fn f(client: &AuthenticatedClient, all: Vec<rmcp::model::Prompt>) {
/// let prompts = mcp_oauth::rmcp::visible_prompts(client, all);
/// let result = rmcp::model::ListPromptsResult::with_all_items(prompts);
/// # let _ = result; }
/// ```
pub fn visible_prompts(client: &AuthenticatedClient, prompts: Vec<Prompt>) -> Vec<Prompt> {
    keep(prompts, |p| client.may_use(Kind::Prompt, &p.name))
}

/// The resources of `resources` this client may read (`resources/read`): as
/// [`visible_tools`], with the rules of
/// [`require_scope_for_resource`](crate::McpOAuthBuilder::require_scope_for_resource),
/// URIs normalised the same way (one without a single reading is hidden, since reading
/// it would be refused).
///
/// ```
/// # use mcp_oauth::AuthenticatedClient;
/// # fn f(client: &AuthenticatedClient, all: Vec<rmcp::model::Resource>) {
/// let resources = mcp_oauth::rmcp::visible_resources(client, all);
/// let result = rmcp::model::ListResourcesResult::with_all_items(resources);
/// # let _ = result; }
/// ```
pub fn visible_resources(client: &AuthenticatedClient, resources: Vec<Resource>) -> Vec<Resource> {
    keep(resources, |r| client.may_use(Kind::Resource, &r.uri))
}

/// The resource templates of `templates` this client may read from: all but those whose
/// every URI a [`require_scope_for_resource`](crate::McpOAuthBuilder::require_scope_for_resource)
/// prefix rule it does not meet covers (the template's fixed part before its first `{`,
/// normalised, starts with the rule's prefix), and none when it may not
/// `resources/read` at all. A template some of whose URIs are allowed stays: each read
/// is judged by the middleware.
///
/// ```
/// # use mcp_oauth::AuthenticatedClient;
/// # fn f(client: &AuthenticatedClient, all: Vec<rmcp::model::ResourceTemplate>) {
/// let templates = mcp_oauth::rmcp::visible_resource_templates(client, all);
/// let result = rmcp::model::ListResourceTemplatesResult::with_all_items(templates);
/// # let _ = result; }
/// ```
pub fn visible_resource_templates(
    client: &AuthenticatedClient,
    templates: Vec<ResourceTemplate>,
) -> Vec<ResourceTemplate> {
    keep(templates, |t| client.may_use_template(&t.uri_template))
}

fn keep<T>(mut items: Vec<T>, allowed: impl Fn(&T) -> bool) -> Vec<T> {
    items.retain(allowed);
    items
}
