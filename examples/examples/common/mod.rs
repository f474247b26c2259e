//! The MCP server shared by the `quickstart` and `mcp_server` examples: tools (`echo`,
//! `whoami`, and `note_create` / `note_read`, whose handles are bound to their caller,
//! [`notes`]), a prompt guarded by `#[require_scope]` and two resources (one guarded by a
//! builder rule, [`guard_resources`]; prompts and resources listed only to callers who may
//! use them), served over Streamable HTTP at `/mcp` by rmcp-actix-web and over the legacy HTTP+SSE transport
//! (2024-11-05) at `/sse` + `/message` ([`legacy_sse`]), all behind the `McpOAuth`
//! middleware.
//!
//! One protected resource, two transports: a token for it is accepted on `/mcp`, `/sse`
//! and `/message` alike, since audience binding is per server, not per path. Its
//! identifier must cover every path clients connect to, since the official MCP TypeScript
//! SDK refuses a resource whose path is not a prefix of the URL it connects to: with both
//! transports, the resource is the server's origin (`https://host`), whose metadata is at
//! `/.well-known/oauth-protected-resource` (see [`legacy_sse`]); [`serve`] warns at
//! startup when it is not. The middleware's per-tool scope policy reads every protected
//! JSON POST, so the bodies posted to both transports are checked.

pub(crate) mod legacy_sse;
pub(crate) mod notes;

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, middleware::Logger};
use mcp_oauth::{AuthenticatedClient, McpOAuth, McpOAuthBuilder, require_scope};
use rmcp::handler::server::prompt::PromptContext;
use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::model::{
    GetPromptRequestParams, GetPromptResponse, Implementation, ListPromptsResult,
    ListResourceTemplatesResult, ListResourcesResult, PaginatedRequestParams, PromptMessage,
    ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult, Resource,
    ResourceContents, ResourceTemplate, Role, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::{
    ErrorData, RoleServer, ServerHandler, prompt, prompt_router, tool, tool_handler, tool_router,
};
use rmcp_actix_web::transport::StreamableHttpService;

/// The arguments of `echo`.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
pub(crate) struct EchoArgs {
    /// The text to send back.
    pub(crate) message: String,
}

/// The arguments of `note_create`.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
pub(crate) struct NoteArgs {
    /// What to keep (at most 4 KiB).
    pub(crate) text: String,
}

/// The arguments of `note_read`.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
pub(crate) struct HandleArgs {
    /// The handle `note_create` returned.
    pub(crate) handle: String,
}

/// What `whoami` returns: the caller, as the access token says.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub(crate) struct WhoAmI {
    /// `sub`: the user, or the client itself for client-credentials tokens.
    pub(crate) subject: Option<String>,
    /// The OAuth client the token was issued to.
    pub(crate) client_id: Option<String>,
    /// The scopes granted.
    pub(crate) scopes: Vec<String>,
    /// Whether the request proved possession of the key the token is bound to (RFC 9449
    /// §7.1: a DPoP-bound token with a valid proof).
    pub(crate) sender_constrained: bool,
    /// That key's RFC 7638 SHA-256 thumbprint, the token's `cnf.jkt` (RFC 9449 §6.1).
    pub(crate) dpop_jkt: Option<String>,
}

/// The MCP server: one instance per session, no state.
#[derive(Debug, Clone, Default)]
pub(crate) struct ExampleServer;

#[tool_router]
impl ExampleServer {
    /// Needs `tools:call` on top of the server's scopes: a `tools/call` of `echo` with a
    /// token without it is refused by the middleware with an HTTP 403 step-up challenge,
    /// before it reaches this server (and checked here again).
    #[require_scope("tools:call")]
    #[tool(description = "Returns the message unchanged (needs scope tools:call)")]
    fn echo(&self, Parameters(EchoArgs { message }): Parameters<EchoArgs>) -> String {
        message
    }

    /// `client` is not a tool parameter: mcp-oauth's middleware proved who is calling,
    /// `forward_client` handed that to rmcp, and rmcp passes it in here.
    #[tool(
        description = "Who the server thinks you are: the access token's subject, client id and scopes, and the DPoP key the request proved it holds"
    )]
    fn whoami(&self, client: AuthenticatedClient) -> Json<WhoAmI> {
        Json(WhoAmI {
            subject: client.subject().map(str::to_owned),
            client_id: client.client_id().map(str::to_owned),
            scopes: client.scopes().to_vec(),
            sender_constrained: client.is_sender_constrained(),
            dpop_jkt: client.dpop_thumbprint().map(str::to_owned),
        })
    }

    /// State across calls without a session (MCP 2026-07-28): a server-minted handle,
    /// kept under the caller's `principal()` ([`notes`]), so it is worth nothing to
    /// anyone else.
    #[tool(description = "Keeps a note and returns a handle to read it back with note_read")]
    fn note_create(
        &self,
        client: AuthenticatedClient,
        Parameters(NoteArgs { text }): Parameters<NoteArgs>,
    ) -> Result<String, ErrorData> {
        notes::shared()
            .create(&owner(&client)?, text)
            .map_err(|_| ErrorData::invalid_params("a note holds at most 4 KiB", None))
    }

    /// Reads a note only for the caller that created it; any other caller, with the same
    /// handle, is told what a wrong handle is told.
    #[tool(description = "Reads one of your notes by the handle note_create returned")]
    fn note_read(
        &self,
        client: AuthenticatedClient,
        Parameters(HandleArgs { handle }): Parameters<HandleArgs>,
    ) -> Result<String, ErrorData> {
        notes::shared()
            .read(&owner(&client)?, &handle)
            .ok_or_else(|| ErrorData::invalid_params("no such note", None))
    }
}

/// The key of the caller's state: `AuthenticatedClient::principal()`. A token naming
/// neither a subject nor a client cannot own any.
fn owner(client: &AuthenticatedClient) -> Result<String, ErrorData> {
    client.principal().ok_or_else(|| {
        ErrorData::invalid_request("this token names no caller, so it can own no notes", None)
    })
}

#[prompt_router]
impl ExampleServer {
    /// Needs `reports:read`: `#[require_scope]` registers the prompt, so the middleware
    /// refuses a `prompts/get` of it with an HTTP 403 step-up, and `prompts/list` shows it
    /// only to tokens with the scope.
    #[require_scope("reports:read")]
    #[prompt(description = "Asks for a daily report (needs scope reports:read)")]
    fn daily_report(&self) -> Vec<PromptMessage> {
        vec![PromptMessage::new_text(
            Role::User,
            "Write today's report: what shipped, what broke, what is next.",
        )]
    }
}

/// A resource anyone with a token may read.
pub(crate) const NOTE_URI: &str = "note://example/welcome";
/// A resource that needs `secrets:read`, by the builder rule of [`guard_resources`].
pub(crate) const SECRET_URI: &str = "secret://example/launch-code";
/// A template of notes (open to any token).
pub(crate) const NOTE_TEMPLATE: &str = "note://example/{name}";
/// A template of secrets: every URI it makes is under [`guard_resources`]' rule.
pub(crate) const SECRET_TEMPLATE: &str = "secret://example/{name}";

/// The rule guarding the example's secret resource: `resources/read` of any URI under
/// `secret://example/` (however spelled) needs `secrets:read`.
pub(crate) fn guard_resources(builder: McpOAuthBuilder) -> McpOAuthBuilder {
    builder.require_scope_for_resource("secret://example/*", ["secrets:read"])
}

/// `tools/list` is not filtered here: a client learns of `echo` before it holds
/// `tools:call`, and the 403 of its call is the step-up (MCP authorization §Step-Up
/// Authorization Flow). Prompts and resources are listed only to callers who may use
/// them (`mcp_oauth::rmcp::visible_*`, the middleware's own rules).
#[tool_handler]
impl ServerHandler for ExampleServer {
    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        let prompt = PromptContext::new(self, request.name, request.arguments, context);
        Self::prompt_router().get_prompt(prompt).await
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        let client = mcp_oauth::rmcp::authenticated_client(&context)?;
        let prompts = mcp_oauth::rmcp::visible_prompts(&client, Self::prompt_router().list_all());
        Ok(ListPromptsResult::with_all_items(prompts))
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let client = mcp_oauth::rmcp::authenticated_client(&context)?;
        let all = vec![
            Resource::new(NOTE_URI, "welcome"),
            Resource::new(SECRET_URI, "launch-code"),
        ];
        let resources = mcp_oauth::rmcp::visible_resources(&client, all);
        Ok(ListResourcesResult::with_all_items(resources))
    }

    /// Templates are filtered the same way: `secret://example/{name}` makes only URIs
    /// the secret rule covers, so a caller without `secrets:read` is not shown it.
    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        let client = mcp_oauth::rmcp::authenticated_client(&context)?;
        let all = vec![
            ResourceTemplate::new(NOTE_TEMPLATE, "notes"),
            ResourceTemplate::new(SECRET_TEMPLATE, "secrets"),
        ];
        let templates = mcp_oauth::rmcp::visible_resource_templates(&client, all);
        Ok(ListResourceTemplatesResult::with_all_items(templates))
    }

    /// The middleware has already refused a `resources/read` of the secret without
    /// `secrets:read`.
    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let text = match request.uri.as_str() {
            NOTE_URI => "Welcome to the mcp-oauth example.",
            SECRET_URI => "0000",
            _ => return Err(ErrorData::resource_not_found("no such resource", None)),
        };
        Ok(ReadResourceResult::new(vec![ResourceContents::text(text, request.uri)]).into())
    }

    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_prompts()
                .enable_resources()
                .build(),
        )
        .with_server_info(Implementation::new(
            "mcp-oauth-example",
            env!("CARGO_PKG_VERSION"),
        ))
        .with_instructions(
            "`echo` returns its message; `whoami` tells who your access token says you are.",
        )
    }
}

/// Logs to stderr, filtered by `RUST_LOG` (default `info`).
pub(crate) fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

/// Where the Streamable HTTP transport is served.
pub(crate) const MCP_PATH: &str = "/mcp";

/// The HTTP server: `McpOAuth` wraps the whole app, so it also answers the metadata (at
/// the well-known path of the resource); the MCP endpoint is `/mcp` (Streamable HTTP),
/// and legacy clients use `/sse` + `/message` (HTTP+SSE, 2024-11-05) with the same
/// tokens. Logs a warning when the resource does not cover `/sse`.
pub(crate) fn serve(oauth: McpOAuth, listener: TcpListener) -> std::io::Result<Server> {
    warn_unless_legacy_clients_accept(oauth.resource());
    // Built once, outside `HttpServer::new`, so every worker shares the sessions.
    let mcp = StreamableHttpService::builder()
        .service_factory(Arc::new(|| Ok(ExampleServer)))
        .session_manager(Arc::new(LocalSessionManager::default()))
        .stateful_mode(true)
        .allowed_hosts(allowed_hosts(&oauth))
        .on_request_fn(mcp_oauth::rmcp::forward_client)
        .build();
    // Also shared by every worker: a POST may reach another worker than its stream.
    let legacy = legacy_sse::LegacySse::new(|| ExampleServer)
        .max_sessions(1000)
        .max_streams_per_principal(8)
        .max_backlog(256)
        .keep_alive(Duration::from_secs(15));
    Ok(HttpServer::new(move || {
        App::new()
            .wrap(oauth.clone())
            // The path only (`%U`), never the query: a client might put a token there.
            .wrap(Logger::new("%U %s %Dms"))
            .service(mcp.clone().scope_with_path(MCP_PATH))
            .service(legacy.services())
    })
    .listen(listener)?
    .run())
}

/// The legacy transport is served: a resource whose path does not cover `/sse` (such as
/// `https://host/mcp`) is refused by the official MCP TypeScript SDK's legacy client before
/// it authorizes (the resource must have the origin of the URL it connects to, and a path
/// that is a prefix of it: the client's check of RFC 9728 §3.3 metadata). Say so at once,
/// rather than leave it to a client's error message.
fn warn_unless_legacy_clients_accept(resource: &str) {
    if !legacy_sse::resource_covers(resource, legacy_sse::SSE_PATH) {
        tracing::warn!(
            resource,
            "the legacy HTTP+SSE transport is served at {sse} + {message}, but the resource \
             does not cover {sse}: the official MCP TypeScript SDK's SSE client checks that the \
             resource's path is a prefix of the URL it connects to, and will refuse to \
             authorize (\"Protected resource ... does not match expected .../sse\"). Use the \
             server's origin as the resource (MCP_OAUTH_RESOURCE=https://host, no path): it \
             covers {mcp}, {sse} and {message}, and its metadata is served at \
             /.well-known/oauth-protected-resource",
            sse = legacy_sse::SSE_PATH,
            message = legacy_sse::MESSAGE_PATH,
            mcp = MCP_PATH,
        );
    }
}

/// rmcp answers 403 to a `Host` it does not know (DNS-rebinding protection). Accept the
/// resource's own host, as clients reach it, and loopback.
fn allowed_hosts(oauth: &McpOAuth) -> Vec<String> {
    let url = oauth.resource();
    let authority = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = authority.split(['/', '?']).next().unwrap_or(authority);
    ["localhost", "127.0.0.1", "::1", authority]
        .map(str::to_owned)
        .into()
}
