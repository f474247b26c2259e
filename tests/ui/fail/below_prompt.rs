// `#[prompt]` above `#[require_scope]`: `#[prompt]` has already rewritten the method.
use mcp_oauth::require_scope;
use rmcp::model::PromptMessage;
use rmcp::prompt;

#[derive(Clone)]
struct Prompts;

impl Prompts {
    #[prompt]
    #[require_scope("incidents:read")]
    async fn incidents(&self) -> Vec<PromptMessage> {
        Vec::new()
    }
}

fn main() {}
