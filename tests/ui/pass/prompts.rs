// rmcp prompts: sync and async, renamed, `#[rmcp::prompt]`, with parameters and the
// `AuthenticatedClient` argument, `Vec<PromptMessage>` and `Result<GetPromptResult, E>`
// outputs, inside a `#[prompt_router]` impl served by a `#[prompt_handler] impl
// ServerHandler`.
use mcp_oauth::{AuthenticatedClient, require_scope};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{GetPromptResult, PromptMessage, Role};
use rmcp::{ErrorData, ServerHandler, prompt, prompt_handler, prompt_router};

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Topic {
    topic: String,
}

#[derive(Clone)]
struct Prompts;

#[prompt_router]
impl Prompts {
    /// Summarises incidents (the doc comment is the description).
    #[require_scope("incidents:read")]
    #[prompt]
    fn incidents(&self, Parameters(Topic { topic }): Parameters<Topic>) -> Vec<PromptMessage> {
        vec![PromptMessage::new_text(Role::User, format!("incidents about {topic}"))]
    }

    #[require_scope(any("reports:read", "admin"))]
    #[prompt(name = "weekly-report", description = "The weekly report")]
    async fn weekly(&self, client: AuthenticatedClient) -> Result<GetPromptResult, ErrorData> {
        if client.scopes().is_empty() {
            return Err(ErrorData::invalid_params("no scopes", None));
        }
        Ok(GetPromptResult::new(vec![PromptMessage::new_text(
            Role::User,
            format!("report for {:?}", client.subject()),
        )]))
    }

    #[require_scope("a", "b")]
    #[rmcp::prompt]
    async fn plain(&self) -> Vec<PromptMessage> {
        Vec::new()
    }
}

#[prompt_handler]
impl ServerHandler for Prompts {}

fn main() {
    let names: Vec<_> = Prompts::prompt_router().list_all().into_iter().map(|p| p.name).collect();
    for name in ["incidents", "weekly-report", "plain"] {
        assert!(names.iter().any(|n| n == name), "{names:?}");
    }
    let args = Prompts::incidents_prompt_attr().arguments.unwrap_or_default();
    assert_eq!(args.len(), 1, "only `topic` is an argument");
}
