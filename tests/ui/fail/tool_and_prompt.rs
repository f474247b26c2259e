// One method cannot be both an rmcp tool and an rmcp prompt under one guard.
use mcp_oauth::require_scope;
use rmcp::model::PromptMessage;
use rmcp::{prompt, tool};

#[derive(Clone)]
struct Both;

impl Both {
    #[require_scope("a")]
    #[tool]
    #[prompt]
    fn both(&self) -> Vec<PromptMessage> {
        Vec::new()
    }
}

fn main() {}
