//! Prompts, resources and list filtering end to end: the official rmcp client against
//! the examples' rmcp server (`ExampleServer`, from `examples/examples/common/`, included
//! with `#[path]`) behind `McpOAuth`, over Streamable HTTP on 127.0.0.1, with tokens from
//! the loopback `TestAuthServer`.
//!
//! The example's `daily_report` prompt is guarded by `#[require_scope("reports:read")]`,
//! its `secret://example/launch-code` resource by a builder rule (`guard_resources`);
//! `prompts/list` and `resources/list` show a caller only what it may use
//! (`mcp_oauth::rmcp::visible_*`). [`FilteredTools`] is the example with `tools/list`
//! filtered too (the example itself lists every tool, for the step-up flow). Its
//! `note_create` / `note_read` keep state across calls under handles bound to the caller.

#![allow(clippy::unwrap_used)]

#[path = "../../examples/examples/common/mod.rs"]
#[allow(dead_code)]
mod example;

use std::sync::Arc;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpServer};
use example::{ExampleServer, NOTE_TEMPLATE, NOTE_URI, SECRET_TEMPLATE, SECRET_URI};
use mcp_oauth::McpOAuthBuilder;
use mcp_oauth::testing::TestAuthServer;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, GetPromptRequestParams, ListToolsResult,
    PaginatedRequestParams, ReadResourceRequestParams, ServerConfig,
};
use rmcp::service::{RequestContext, RoleClient, RunningService, ServiceError};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::{
    InsufficientScopeError, StreamableHttpClientTransportConfig,
};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};
use rmcp_actix_web::transport::StreamableHttpService;

/// The example server with `tools/list` filtered by the caller's scopes.
#[derive(Clone)]
struct FilteredTools;

impl ServerHandler for FilteredTools {
    async fn list_tools(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let client = mcp_oauth::rmcp::authenticated_client(&context)?;
        let mut all = ExampleServer.list_tools(request, context).await?;
        all.tools = mcp_oauth::rmcp::visible_tools(&client, all.tools);
        Ok(all)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        ExampleServer.call_tool(request, context).await
    }

    fn get_info(&self) -> ServerConfig {
        ExampleServer.get_info()
    }
}

struct Servers {
    auth: TestAuthServer,
    resource: String,
    handle: ServerHandle,
}

impl Servers {
    /// `service` behind the middleware `configure` adds to (required scope `mcp`).
    fn start<S: ServerHandler + Clone>(
        service: S,
        configure: impl FnOnce(McpOAuthBuilder) -> McpOAuthBuilder,
    ) -> Self {
        let auth = TestAuthServer::start();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let resource = format!("http://{}/mcp", listener.local_addr().unwrap());
        let oauth = configure(auth.configure(&resource).required_scopes(["mcp"]))
            .build()
            .unwrap();
        let mcp = StreamableHttpService::builder()
            .service_factory(Arc::new(move || Ok(service.clone())))
            .session_manager(Arc::new(LocalSessionManager::default()))
            .stateful_mode(true)
            .on_request_fn(mcp_oauth::rmcp::forward_client)
            .build();
        let server = HttpServer::new(move || {
            App::new()
                .wrap(oauth.clone())
                .service(mcp.clone().scope_with_path("/mcp"))
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(0)
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        Self {
            auth,
            resource,
            handle,
        }
    }

    async fn connect(&self, scope: &str) -> RunningService<RoleClient, ()> {
        self.connect_as("test-user", scope).await
    }

    /// Connects with a token for `subject`.
    async fn connect_as(&self, subject: &str, scope: &str) -> RunningService<RoleClient, ()> {
        let token = self
            .auth
            .token()
            .audience(&self.resource)
            .subject(subject)
            .scope(scope)
            .sign();
        let config = StreamableHttpClientTransportConfig::with_uri(self.resource.as_str())
            .auth_header(token);
        ().serve(StreamableHttpClientTransport::from_config(config))
            .await
            .unwrap()
    }

    async fn stop(self) {
        self.handle.stop(false).await;
    }
}

/// Whether the error is the middleware's HTTP 403 step-up (not a JSON-RPC error).
fn is_step_up(error: &ServiceError) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = cause {
        if e.downcast_ref::<InsufficientScopeError>().is_some() {
            return true;
        }
        cause = e.source();
    }
    false
}

async fn tool_names(client: &RunningService<RoleClient, ()>) -> Vec<String> {
    let mut names: Vec<String> = client
        .list_all_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name.into())
        .collect();
    names.sort();
    names
}

// `tools/list` shows what a `tools/call` would be admitted for: the macro's rule on
// `echo` (`tools:call`) and the builder's rule on `whoami` both apply.
#[actix_web::test]
async fn tools_list_shows_only_the_tools_the_token_may_call() {
    let servers = Servers::start(FilteredTools, |b| {
        b.require_scope_for_tool("whoami", ["whoami:read"])
    });
    // The note tools have no rule: every caller sees them.
    let notes = ["note_create", "note_read"];
    for (scope, guarded) in [
        ("mcp", vec![]),
        ("mcp tools:call", vec!["echo"]),
        ("mcp whoami:read", vec!["whoami"]),
        ("mcp tools:call whoami:read", vec!["echo", "whoami"]),
    ] {
        let mut expected = [guarded, notes.to_vec()].concat();
        expected.sort();
        let client = servers.connect(scope).await;
        assert_eq!(tool_names(&client).await, expected, "{scope}");
        client.cancel().await.unwrap();
    }
    servers.stop().await;
}

// The example lists every tool: filtering is opt-in.
#[actix_web::test]
async fn the_example_lists_every_tool() {
    let servers = Servers::start(ExampleServer, |b| b);
    let client = servers.connect("mcp").await;
    assert_eq!(
        tool_names(&client).await,
        ["echo", "note_create", "note_read", "whoami"]
    );
    client.cancel().await.unwrap();
    servers.stop().await;
}

// `#[require_scope]` on a `#[prompt]`: `prompts/get` without the scope is the
// middleware's HTTP 403 step-up, and `prompts/list` hides the prompt.
#[actix_web::test]
async fn a_guarded_prompt_is_listed_and_got_only_with_its_scope() {
    let servers = Servers::start(ExampleServer, |b| b);
    let get = || GetPromptRequestParams::new("daily_report");

    let narrow = servers.connect("mcp").await;
    assert!(narrow.list_all_prompts().await.unwrap().is_empty());
    let err = narrow.get_prompt(get()).await.expect_err("refused");
    assert!(is_step_up(&err), "not an HTTP 403 step-up: {err:?}");
    narrow.cancel().await.unwrap();

    let wide = servers.connect("mcp reports:read").await;
    let names: Vec<String> = wide
        .list_all_prompts()
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names, ["daily_report"]);
    let prompt = wide.get_prompt(get()).await.unwrap();
    assert_eq!(prompt.messages.len(), 1);
    wide.cancel().await.unwrap();
    servers.stop().await;
}

// A builder resource rule: `resources/read` of the secret, however spelled, is a 403
// without `secrets:read`, and `resources/list` hides it.
#[actix_web::test]
async fn a_guarded_resource_is_listed_and_read_only_with_its_scope() {
    let servers = Servers::start(ExampleServer, example::guard_resources);
    let read = |uri: &str| ReadResourceRequestParams::new(uri);
    let uris = |list: Vec<rmcp::model::Resource>| -> Vec<String> {
        list.into_iter().map(|r| r.uri).collect()
    };

    let narrow = servers.connect("mcp").await;
    assert_eq!(uris(narrow.list_all_resources().await.unwrap()), [NOTE_URI]);
    narrow.read_resource(read(NOTE_URI)).await.unwrap();
    for uri in [
        SECRET_URI,
        "SECRET://Example/launch-code",
        "secret://example/public/../launch-code",
        "secret://example/%6caunch-code",
    ] {
        let err = narrow.read_resource(read(uri)).await.expect_err(uri);
        assert!(is_step_up(&err), "{uri}: not an HTTP 403 step-up: {err:?}");
    }
    narrow.cancel().await.unwrap();

    let wide = servers.connect("mcp secrets:read").await;
    assert_eq!(
        uris(wide.list_all_resources().await.unwrap()),
        [NOTE_URI, SECRET_URI]
    );
    let secret = wide.read_resource(read(SECRET_URI)).await.unwrap();
    assert_eq!(secret.contents.len(), 1);
    wide.cancel().await.unwrap();
    servers.stop().await;
}

// `resources/templates/list`: a template whose every URI the secret rule covers is shown
// only to callers holding `secrets:read`; the open one to everyone.
#[actix_web::test]
async fn a_template_of_guarded_resources_is_listed_only_with_its_scope() {
    let servers = Servers::start(ExampleServer, example::guard_resources);
    for (scope, expected) in [
        ("mcp", vec![NOTE_TEMPLATE]),
        ("mcp secrets:read", vec![NOTE_TEMPLATE, SECRET_TEMPLATE]),
    ] {
        let client = servers.connect(scope).await;
        let templates: Vec<String> = client
            .list_all_resource_templates()
            .await
            .unwrap()
            .into_iter()
            .map(|t| t.uri_template)
            .collect();
        assert_eq!(templates, expected, "{scope}");
        client.cancel().await.unwrap();
    }
    servers.stop().await;
}

/// The text of a tool call's answer, or the JSON-RPC error's message.
async fn call_text(
    client: &RunningService<RoleClient, ()>,
    tool: &str,
    args: serde_json::Value,
) -> Result<String, String> {
    let serde_json::Value::Object(args) = args else {
        unreachable!()
    };
    let params = CallToolRequestParams::new(tool.to_owned()).with_arguments(args);
    match client.call_tool(params).await {
        Ok(result) => Ok(result.content[0]
            .as_text()
            .map(|t| t.text.clone())
            .unwrap_or_default()),
        Err(ServiceError::McpError(e)) => Err(e.message.to_string()),
        Err(e) => panic!("{e:?}"),
    }
}

// MCP 2026-07-28 (changelog, SEP-2567): state across calls travels as server-minted
// handles. The example keeps each note under its creator's `principal()`: the handle
// read back by its creator, on another connection too, gives the note; the same handle
// from another caller gives what a wrong handle gives.
#[actix_web::test]
async fn a_note_handle_is_worth_nothing_to_another_caller() {
    let servers = Servers::start(ExampleServer, |b| b);
    let alice = servers.connect_as("alice", "mcp").await;
    let handle = call_text(
        &alice,
        "note_create",
        serde_json::json!({"text": "alice's plan"}),
    )
    .await
    .unwrap();
    assert_eq!(handle.len(), 32, "{handle}");
    alice.cancel().await.unwrap();

    let alice = servers.connect_as("alice", "mcp").await;
    let read = |client, handle: &str| {
        call_text(client, "note_read", serde_json::json!({"handle": handle}))
    };
    assert_eq!(read(&alice, &handle).await, Ok("alice's plan".to_owned()));
    let mallory = servers.connect_as("mallory", "mcp").await;
    let unknown = "0".repeat(32);
    assert_eq!(
        read(&mallory, &handle).await,
        Err("no such note".to_owned())
    );
    assert_eq!(
        read(&mallory, &unknown).await,
        Err("no such note".to_owned())
    );
    // A handle spelled to reach another key (principals may contain `:`) names no note.
    let spliced = format!("x:{handle}");
    assert_eq!(read(&alice, &spliced).await, Err("no such note".to_owned()));
    for client in [alice, mallory] {
        client.cancel().await.unwrap();
    }
    servers.stop().await;
}
