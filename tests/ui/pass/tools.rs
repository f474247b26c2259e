// rmcp tools: sync and async, renamed, `#[rmcp::tool]`, with parameters, `Json` and
// `Result<Json<T>, E>` outputs (their output schema is kept), inside a `#[tool_router]`
// impl served by a `#[tool_handler] impl ServerHandler`.
use mcp_oauth::{AuthenticatedClient, require_scope};
use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::model::{ServerCapabilities, ServerConfig};
use rmcp::{ErrorData, ServerHandler, tool, tool_handler, tool_router};

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Path {
    path: String,
}

#[derive(serde::Serialize, schemars::JsonSchema)]
struct Listing {
    files: Vec<String>,
}

#[derive(Clone)]
struct Files;

#[tool_router]
impl Files {
    /// Deletes a file (the doc comment is the description).
    #[require_scope("files:delete")]
    #[tool]
    fn delete(&self, Parameters(Path { path }): Parameters<Path>) -> String {
        format!("deleted {path}")
    }

    #[require_scope(any("files:read", "files:admin"))]
    #[tool(name = "list", description = "Lists the files")]
    async fn list_files(&self) -> Json<Listing> {
        Json(Listing { files: vec!["a".to_owned()] })
    }

    #[require_scope("files:read")]
    #[rmcp::tool(description = "Reads a file")]
    async fn read(
        &self,
        client: AuthenticatedClient,
        Parameters(Path { path }): Parameters<Path>,
    ) -> Result<Json<Listing>, ErrorData> {
        if path.is_empty() {
            return Err(ErrorData::invalid_params("empty path", None));
        }
        Ok(Json(Listing { files: vec![format!("{path} for {:?}", client.subject())] }))
    }

    #[require_scope("files:stat")]
    #[tool(description = "No return value")]
    fn touch(&self) {}

    /// `?` and `return` in a sync tool keep their meaning.
    #[require_scope("files:stat")]
    #[tool]
    fn size(&self, Parameters(Path { path }): Parameters<Path>) -> Result<String, ErrorData> {
        if path == "/" {
            return Ok("0".to_owned());
        }
        let n: u64 = path
            .parse()
            .map_err(|_| ErrorData::invalid_params("not a number", None))?;
        Ok(n.to_string())
    }
}

#[tool_handler]
impl ServerHandler for Files {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }
}

fn main() {
    assert!(Files::list_files_tool_attr().output_schema.is_some());
    assert!(Files::read_tool_attr().output_schema.is_some());
    assert!(Files::delete_tool_attr().output_schema.is_none());
    let input = Files::delete_tool_attr().input_schema;
    assert_eq!(input["properties"].as_object().map(|p| p.len()), Some(1), "{input:?}");
    let names: Vec<_> = Files::tool_router().list_all().into_iter().map(|t| t.name).collect();
    for name in ["delete", "list", "read", "touch", "size"] {
        assert!(names.iter().any(|n| n == name), "{names:?}");
    }
}
