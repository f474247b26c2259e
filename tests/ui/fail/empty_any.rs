use mcp_oauth::require_scope;

#[require_scope(any())]
async fn handler() -> &'static str {
    "ok"
}

fn main() {
    let _ = handler;
}
