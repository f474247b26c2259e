//! The MCP tools the end-to-end tests serve (the `mcp_server` example's, plus a guarded
//! one), shared by `mcp_e2e.rs` and `legacy_sse.rs` (`mod support;`).

use mcp_oauth::{AuthenticatedClient, require_scope};
use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::model::{ServerCapabilities, ServerConfig};
use rmcp::{ServerHandler, tool, tool_handler, tool_router};

#[derive(serde::Deserialize, schemars::JsonSchema)]
pub(crate) struct EchoArgs {
    /// The text to send back.
    pub(crate) message: String,
}

#[derive(serde::Serialize, schemars::JsonSchema)]
pub(crate) struct WhoAmI {
    pub(crate) subject: Option<String>,
    pub(crate) client_id: Option<String>,
    pub(crate) scopes: Vec<String>,
}

/// `echo` and `whoami` (as in the `mcp_server` example) and `delete_note`, guarded by
/// `notes:delete`.
#[derive(Clone)]
pub(crate) struct Tools;

#[tool_router]
impl Tools {
    #[tool(description = "Returns the message unchanged")]
    fn echo(&self, Parameters(EchoArgs { message }): Parameters<EchoArgs>) -> String {
        message
    }

    #[require_scope("notes:delete")]
    #[tool(description = "Deletes a note (needs scope notes:delete)")]
    fn delete_note(&self) -> String {
        "deleted".to_owned()
    }

    #[tool(description = "The access token's subject, client id and scopes")]
    fn whoami(&self, client: AuthenticatedClient) -> Json<WhoAmI> {
        Json(WhoAmI {
            subject: client.subject().map(str::to_owned),
            client_id: client.client_id().map(str::to_owned),
            scopes: client.scopes().to_vec(),
        })
    }
}

#[tool_handler]
impl ServerHandler for Tools {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }
}
