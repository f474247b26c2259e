// Two guards on one handler or tool: both apply (like listing the scopes in one guard).
use actix_web::{App, HttpResponse, get};
use mcp_oauth::require_scope;
use rmcp::{ServerHandler, tool, tool_handler, tool_router};

#[get("/files")]
#[require_scope("mcp")]
#[require_scope(any("files:read", "files:admin"))]
async fn list() -> HttpResponse {
    HttpResponse::Ok().finish()
}

#[derive(Clone)]
struct Files;

#[tool_router]
impl Files {
    #[require_scope("mcp")]
    #[require_scope("files:delete")]
    #[tool(description = "Deletes every file")]
    async fn delete_all(&self) -> String {
        "deleted".to_owned()
    }
}

#[tool_handler]
impl ServerHandler for Files {}

fn main() {
    let _app = App::new().service(list);
    assert_eq!(Files::tool_router().list_all().len(), 1);
}
