use mcp_oauth::require_scope;

#[require_scope]
async fn handler() -> &'static str {
    "ok"
}

#[require_scope()]
async fn other() -> &'static str {
    "ok"
}

fn main() {
    let _ = (handler, other);
}
