// `#[tool]` above `#[require_scope]`: `#[tool]` has already rewritten the method.
use mcp_oauth::require_scope;
use rmcp::{ServerHandler, tool, tool_handler, tool_router};

#[derive(Clone)]
struct Files;

#[tool_router]
impl Files {
    #[tool(description = "Deletes every file")]
    #[require_scope("files:delete")]
    async fn delete_all(&self) -> String {
        "deleted".to_owned()
    }

    #[tool(description = "Lists the files")]
    #[require_scope("files:read")]
    fn list(&self) -> String {
        "a b".to_owned()
    }
}

#[tool_handler]
impl ServerHandler for Files {}

fn main() {}
