use mcp_oauth::require_scope;

#[require_scope("mcp", any("files:write", "files:admin"))]
async fn handler() -> &'static str {
    "ok"
}

fn main() {
    let _ = handler;
}
