//! `#[require_scope]` at run time: guarded actix-web handlers behind `McpOAuth` on a real
//! server on 127.0.0.1 (403 step-up challenge, 200, `any`, the handler's own errors, no
//! middleware), guarded rmcp tools and prompts (the check inside, the middleware's refusal
//! of a `tools/call` or `prompts/get`), and the link-time registry the middleware and the
//! metadata read.
#![allow(clippy::unwrap_used)]

use std::net::TcpListener;

use actix_web::dev::ServerHandle;
use actix_web::middleware::Condition;
use actix_web::{App, HttpResponse, HttpServer, Responder, ResponseError, delete, get, post, web};
use mcp_oauth::__private::{GuardedPrompt, GuardedScopes, GuardedTool, inventory};
use mcp_oauth::testing::TestAuthServer;
use mcp_oauth::{ApiKey, AuthenticatedClient, McpOAuth, require_scope};
use rmcp::model::{PromptMessage, Role};
use rmcp::{ServerHandler, prompt, prompt_router, tool, tool_handler, tool_router};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------
// Guarded handlers.
// ---------------------------------------------------------------------------------------

/// Takes no `AuthenticatedClient` itself.
#[get("/files")]
#[require_scope("files:read")]
async fn list_files() -> impl Responder {
    "a.txt b.txt"
}

/// The other attribute order; takes the client itself too.
#[require_scope("files:delete")]
#[delete("/files")]
async fn delete_files(client: AuthenticatedClient) -> HttpResponse {
    HttpResponse::Ok().json(json!({"deleted_by": client.subject()}))
}

#[post("/admin")]
#[require_scope(any("files:admin", "root"))]
async fn admin() -> &'static str {
    "admin"
}

#[derive(Debug)]
struct NoSuchItem;

impl std::fmt::Display for NoSuchItem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("no such item")
    }
}

impl ResponseError for NoSuchItem {
    fn status_code(&self) -> actix_web::http::StatusCode {
        actix_web::http::StatusCode::NOT_FOUND
    }
}

fn lookup(id: u32) -> Result<String, NoSuchItem> {
    if id == 0 {
        Err(NoSuchItem)
    } else {
        Ok(format!("item {id}"))
    }
}

/// `?` and `return` in the body are the handler's own.
#[get("/items/{id}")]
#[require_scope("items:read")]
async fn item(id: web::Path<u32>) -> Result<HttpResponse, NoSuchItem> {
    if *id == 7 {
        return Ok(HttpResponse::Ok().body("lucky"));
    }
    let item = lookup(*id)?;
    Ok(HttpResponse::Ok().body(item))
}

// ---------------------------------------------------------------------------------------
// Guarded rmcp tools.
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Files;

#[tool_router]
impl Files {
    #[require_scope("files:purge")]
    #[tool(description = "Deletes every file")]
    fn purge(&self) -> String {
        "purged".to_owned()
    }

    #[require_scope(any("notes:read", "notes:admin"))]
    #[tool(name = "read_notes", description = "Reads the notes")]
    async fn notes(&self) -> String {
        "notes".to_owned()
    }
}

#[tool_handler]
impl ServerHandler for Files {}

// ---------------------------------------------------------------------------------------
// Guarded rmcp prompts.
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Briefs;

#[prompt_router]
impl Briefs {
    #[require_scope("briefs:read")]
    #[prompt(name = "morning-brief")]
    fn morning(&self) -> Vec<PromptMessage> {
        vec![PromptMessage::new_text(Role::User, "brief me")]
    }

    #[require_scope(any("briefs:read", "briefs:admin"))]
    #[prompt]
    async fn evening(&self) -> Vec<PromptMessage> {
        Vec::new()
    }
}

// ---------------------------------------------------------------------------------------
// The server.
// ---------------------------------------------------------------------------------------

/// An actix server on 127.0.0.1 serving the handlers above, wrapped with `McpOAuth`
/// (global scope `mcp`, `profile` advertised) unless `middleware` is false.
struct Server {
    auth: TestAuthServer,
    oauth: McpOAuth,
    base: String,
    resource: String,
    client: awc::Client,
    handle: ServerHandle,
    /// API keys of principal `key-bot` accepted beside tokens: (their scopes, the key).
    api_keys: Vec<(&'static str, String)>,
}

impl Drop for Server {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

/// A response, read completely.
struct Reply {
    status: u16,
    challenge: Option<String>,
    body: String,
}

impl Server {
    /// Must run inside the actix runtime (`#[actix_web::test]`).
    fn start(middleware: bool) -> Self {
        let auth = TestAuthServer::start();
        let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let resource = format!("{base}/mcp");
        let api_keys: Vec<(&'static str, String)> = ["mcp", "mcp files:delete"]
            .into_iter()
            .map(|scopes| (scopes, ApiKey::generate(mcp_oauth::DEFAULT_API_KEY_PREFIX)))
            .collect();
        let oauth = api_keys
            .iter()
            .fold(auth.configure(&resource), |b, (scopes, key)| {
                b.api_key(ApiKey::new("key-bot", ApiKey::hash(key)).scopes(scopes.split(' ')))
            })
            .required_scopes(["mcp"])
            .scopes_supported(["profile"])
            .build()
            .unwrap();
        let wrap = oauth.clone();
        let server = HttpServer::new(move || {
            App::new()
                .wrap(Condition::new(middleware, wrap.clone()))
                .service(list_files)
                .service(delete_files)
                .service(admin)
                .service(item)
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(0)
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        Server {
            auth,
            oauth,
            base,
            resource,
            client: awc::Client::default(),
            handle,
            api_keys,
        }
    }

    /// The API key granting exactly `scopes`.
    fn api_key(&self, scopes: &str) -> &str {
        let found = self.api_keys.iter().find(|(s, _)| *s == scopes);
        &found.unwrap().1
    }

    fn token(&self, scope: &str) -> String {
        self.auth
            .token()
            .audience(&self.resource)
            .scope(scope)
            .sign()
    }

    /// The client the middleware would admit for a token with `scope`.
    async fn client(&self, scope: &str) -> AuthenticatedClient {
        self.oauth.authenticate(&self.token(scope)).await.unwrap()
    }

    async fn send(&self, method: &str, path: &str, scope: &str, body: &str) -> Reply {
        self.send_bearer(method, path, &self.token(scope), body)
            .await
    }

    async fn send_bearer(&self, method: &str, path: &str, bearer: &str, body: &str) -> Reply {
        let method = actix_web::http::Method::from_bytes(method.as_bytes()).unwrap();
        let mut res = self
            .client
            .request(method, format!("{}{path}", self.base))
            .insert_header(("Authorization", format!("Bearer {bearer}")))
            .insert_header(("Content-Type", "application/json"))
            .send_body(body.to_owned())
            .await
            .unwrap();
        let body = res.body().await.unwrap();
        Reply {
            status: res.status().as_u16(),
            challenge: res
                .headers()
                .get("www-authenticate")
                .map(|v| v.to_str().unwrap().to_owned()),
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    }

    /// The 403 step-up challenge, spelled out (parameters in the order of the example in MCP
    /// authorization §Runtime Insufficient Scope Errors).
    fn insufficient_scope(&self, scope: &str, missing: &str) -> String {
        format!(
            "Bearer error=\"insufficient_scope\", scope=\"{scope}\", \
             resource_metadata=\"{}/.well-known/oauth-protected-resource/mcp\", \
             error_description=\"Required scope missing: {missing}\"",
            self.base
        )
    }
}

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

// ---------------------------------------------------------------------------------------
// Handlers.
// ---------------------------------------------------------------------------------------

#[actix_web::test]
async fn missing_scope_is_a_403_step_up_naming_global_handler_and_granted_scopes() {
    let srv = Server::start(true);
    // `profile` is advertised and `files:read` is used by a guard: both are kept in the
    // challenge, so the client does not lose them; `other` is unknown and left out.
    let reply = srv
        .send("DELETE", "/files", "mcp profile files:read other", "")
        .await;
    assert_eq!(reply.status, 403, "{}", reply.body);
    assert_eq!(
        reply.challenge.as_deref(),
        Some(
            srv.insufficient_scope("mcp files:delete profile files:read", "files:delete")
                .as_str()
        )
    );
    assert_eq!(
        json(&reply.body),
        json!({
            "error": "insufficient_scope",
            "error_description": "Required scope missing: files:delete",
        })
    );
}

#[actix_web::test]
async fn granted_scope_reaches_the_handler_body() {
    let srv = Server::start(true);
    let reply = srv.send("GET", "/files", "mcp files:read", "").await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "a.txt b.txt"));

    let token_subject = "user-1";
    let token = srv
        .auth
        .token()
        .audience(&srv.resource)
        .subject(token_subject)
        .scope("mcp files:delete")
        .sign();
    let mut res = srv
        .client
        .delete(format!("{}/files", srv.base))
        .insert_header(("Authorization", format!("Bearer {token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body, json!({"deleted_by": token_subject}));
}

#[actix_web::test]
async fn a_handler_without_its_own_client_argument_is_guarded_too() {
    let srv = Server::start(true);
    let reply = srv.send("GET", "/files", "mcp", "").await;
    assert_eq!(reply.status, 403);
    assert_eq!(
        reply.challenge.as_deref(),
        Some(
            srv.insufficient_scope("mcp files:read", "files:read")
                .as_str()
        )
    );
}

#[actix_web::test]
async fn any_is_satisfied_by_either_scope() {
    let srv = Server::start(true);
    for scope in ["mcp files:admin", "mcp root", "mcp root files:admin"] {
        let reply = srv.send("POST", "/admin", scope, "").await;
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (200, "admin"),
            "{scope}"
        );
    }
    let reply = srv.send("POST", "/admin", "mcp files:read", "").await;
    assert_eq!(reply.status, 403);
    assert_eq!(
        reply.challenge.as_deref(),
        Some(
            srv.insufficient_scope("mcp files:admin root files:read", "files:admin root")
                .as_str()
        )
    );
}

#[actix_web::test]
async fn the_global_scope_is_still_checked_first_by_the_middleware() {
    let srv = Server::start(true);
    let reply = srv.send("GET", "/files", "files:read", "").await;
    assert_eq!(reply.status, 403);
    assert_eq!(
        reply.challenge.as_deref(),
        Some(srv.insufficient_scope("mcp files:read", "mcp").as_str())
    );
}

#[actix_web::test]
async fn a_handler_result_keeps_its_own_errors_and_early_returns() {
    let srv = Server::start(true);
    let reply = srv.send("GET", "/items/3", "mcp items:read", "").await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "item 3"));
    let reply = srv.send("GET", "/items/7", "mcp items:read", "").await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "lucky"));
    let reply = srv.send("GET", "/items/0", "mcp items:read", "").await;
    assert_eq!((reply.status, reply.body.as_str()), (404, "no such item"));
    assert_eq!(reply.challenge, None);
    // The guard runs before the body: no scope, no 404.
    let reply = srv.send("GET", "/items/0", "mcp", "").await;
    assert_eq!(reply.status, 403);
}

// A missing middleware is a server bug: 500, never a 401 that sends clients to log in again.
#[actix_web::test]
async fn a_guarded_handler_without_the_middleware_is_500() {
    let srv = Server::start(false);
    let reply = srv.send("GET", "/files", "mcp files:read", "").await;
    assert_eq!(reply.status, 500, "{}", reply.body);
    assert_eq!(reply.challenge, None);
    assert!(!reply.body.contains("a.txt"));
}

// ---------------------------------------------------------------------------------------
// Tools.
// ---------------------------------------------------------------------------------------

#[actix_web::test]
async fn a_guarded_tool_checks_its_scopes_itself() {
    let srv = Server::start(true);

    let err = Files.purge(srv.client("mcp").await).unwrap_err();
    assert_eq!(err.code, rmcp::model::ErrorCode::INVALID_REQUEST);
    assert_eq!(
        err.message,
        "insufficient_scope: Required scope missing: files:purge"
    );
    let ok = Files.purge(srv.client("mcp files:purge").await);
    assert_eq!(ok.unwrap(), "purged");

    let err = Files.notes(srv.client("mcp").await).await.unwrap_err();
    assert_eq!(
        err.message,
        "insufficient_scope: Required scope missing: notes:read notes:admin"
    );
    for scope in ["mcp notes:read", "mcp notes:admin"] {
        let ok = Files.notes(srv.client(scope).await).await;
        assert_eq!(ok.unwrap(), "notes");
    }
}

#[actix_web::test]
async fn a_guarded_prompt_checks_its_scopes_itself() {
    let srv = Server::start(true);
    let err = Briefs.morning(srv.client("mcp").await).unwrap_err();
    assert_eq!(err.code, rmcp::model::ErrorCode::INVALID_REQUEST);
    assert_eq!(
        err.message,
        "insufficient_scope: Required scope missing: briefs:read"
    );
    assert_eq!(
        Briefs
            .morning(srv.client("mcp briefs:read").await)
            .unwrap()
            .len(),
        1
    );
    assert!(Briefs.evening(srv.client("mcp").await).await.is_err());
    for scope in ["mcp briefs:read", "mcp briefs:admin"] {
        assert!(Briefs.evening(srv.client(scope).await).await.is_ok());
    }
}

#[actix_web::test]
async fn the_middleware_refuses_a_get_of_a_guarded_prompt_with_a_403() {
    let srv = Server::start(true);
    let get = |name: &str| {
        json!({"jsonrpc": "2.0", "id": 1, "method": "prompts/get", "params": {"name": name}})
            .to_string()
    };
    let reply = srv.send("POST", "/mcp", "mcp", &get("morning-brief")).await;
    assert_eq!(reply.status, 403, "{}", reply.body);
    let challenge = reply.challenge.unwrap();
    assert!(
        challenge.contains(r#"scope="mcp briefs:read""#),
        "{challenge}"
    );
    // The fn name is not the prompt's name; with the scope the request goes on to the
    // (absent) MCP service.
    assert_eq!(
        srv.send("POST", "/mcp", "mcp", &get("morning"))
            .await
            .status,
        404
    );
    let reply = srv
        .send("POST", "/mcp", "mcp briefs:read", &get("morning-brief"))
        .await;
    assert_eq!(reply.status, 404, "{}", reply.body);
}

#[test]
fn guarded_prompts_are_registered_under_their_prompt_names() {
    let prompts: Vec<&GuardedPrompt> = inventory::iter::<GuardedPrompt>.into_iter().collect();
    let find = |name: &str| prompts.iter().find(|p| p.name == name);
    let morning = find("morning-brief").unwrap_or_else(|| panic!("{prompts:?}"));
    assert_eq!((morning.scopes, morning.any), (&["briefs:read"][..], false));
    let evening = find("evening").unwrap_or_else(|| panic!("{prompts:?}"));
    assert_eq!(
        (evening.scopes, evening.any),
        (&["briefs:read", "briefs:admin"][..], true)
    );
    assert_eq!(prompts.len(), 2, "{prompts:?}");
    // A prompt is no tool.
    assert!(
        inventory::iter::<GuardedTool>
            .into_iter()
            .all(|t| t.name != "morning-brief")
    );
}

#[actix_web::test]
async fn the_middleware_refuses_a_call_of_a_guarded_tool_with_a_403() {
    let srv = Server::start(true);
    let call = |name: &str| {
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": name}})
            .to_string()
    };
    let reply = srv.send("POST", "/mcp", "mcp", &call("read_notes")).await;
    assert_eq!(reply.status, 403, "{}", reply.body);
    let challenge = reply.challenge.unwrap();
    assert!(
        challenge.contains(r#"scope="mcp notes:read notes:admin""#),
        "{challenge}"
    );
    // With the scope the call goes on to the (absent) MCP service.
    let reply = srv
        .send("POST", "/mcp", "mcp files:purge", &call("purge"))
        .await;
    assert_eq!(reply.status, 404, "{}", reply.body);
}

// `#[require_scope]` judges an API key's scopes exactly as a token's: the handler guard
// and the middleware's refusal of a guarded tool (MCP authorization §Runtime
// Insufficient Scope Errors).
#[actix_web::test]
async fn require_scope_applies_to_api_keys_as_to_tokens() {
    let srv = Server::start(true);
    let (narrow, wide) = (srv.api_key("mcp"), srv.api_key("mcp files:delete"));
    let reply = srv.send_bearer("DELETE", "/files", narrow, "").await;
    assert_eq!(reply.status, 403, "{}", reply.body);
    assert_eq!(
        reply.challenge.unwrap(),
        srv.insufficient_scope("mcp files:delete", "files:delete")
    );
    let reply = srv.send_bearer("DELETE", "/files", wide, "").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(json(&reply.body), json!({"deleted_by": "key-bot"}));
    let call = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "read_notes"}});
    let reply = srv
        .send_bearer("POST", "/mcp", narrow, &call.to_string())
        .await;
    assert_eq!(reply.status, 403, "{}", reply.body);
    let challenge = reply.challenge.unwrap();
    assert!(
        challenge.contains(r#"scope="mcp notes:read notes:admin""#),
        "{challenge}"
    );
}

#[test]
fn the_tool_list_is_unchanged_by_the_guard() {
    let tools = Files::tool_router().list_all();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(names.len(), 2);
    assert!(
        names.contains(&"purge") && names.contains(&"read_notes"),
        "{names:?}"
    );
    let empty = rmcp::handler::server::common::schema_for_empty_input();
    for tool in &tools {
        // The injected client is not a parameter.
        assert_eq!(tool.input_schema, empty, "{tool:?}");
    }
}

// ---------------------------------------------------------------------------------------
// The link-time registry.
// ---------------------------------------------------------------------------------------

#[test]
fn guarded_handler_scopes_are_registered() {
    let registered: Vec<&[&str]> = inventory::iter::<GuardedScopes>
        .into_iter()
        .map(|g| g.scopes)
        .collect();
    for scopes in [
        &["files:read"][..],
        &["files:delete"],
        &["files:admin", "root"],
        &["items:read"],
    ] {
        assert!(registered.contains(&scopes), "{scopes:?} in {registered:?}");
    }
}

#[test]
fn guarded_tools_are_registered_under_their_tool_names() {
    let tools: Vec<&GuardedTool> = inventory::iter::<GuardedTool>.into_iter().collect();
    let find = |name: &str| tools.iter().find(|t| t.name == name);

    let purge = find("purge").unwrap_or_else(|| panic!("{tools:?}"));
    assert_eq!((purge.scopes, purge.any), (&["files:purge"][..], false));
    // `#[tool(name = "read_notes")]` renames `fn notes`.
    let notes = find("read_notes").unwrap_or_else(|| panic!("{tools:?}"));
    assert_eq!(
        (notes.scopes, notes.any),
        (&["notes:read", "notes:admin"][..], true)
    );
    assert!(find("notes").is_none());
    assert_eq!(tools.len(), 2, "{tools:?}");
}

// RFC 9728 §2: the scopes guards use are offered in `scopes_supported`, merged with the
// configured ones, each once.
#[actix_web::test]
async fn guarded_scopes_are_offered_in_the_metadata() {
    let server = Server::start(true);
    let mut res = server
        .client
        .get(format!(
            "{}/.well-known/oauth-protected-resource/mcp",
            server.base
        ))
        .send()
        .await
        .unwrap();
    let metadata: Value = res.json().await.unwrap();
    let supported: Vec<String> =
        serde_json::from_value(metadata["scopes_supported"].clone()).unwrap();
    for scope in [
        "mcp",
        "profile",
        "files:read",
        "files:delete",
        "files:admin",
        "root",
        "items:read",
        "files:purge",
        "notes:read",
        "notes:admin",
        "briefs:read",
        "briefs:admin",
    ] {
        assert_eq!(
            supported.iter().filter(|s| *s == scope).count(),
            1,
            "{scope} in {supported:?}"
        );
    }
}
