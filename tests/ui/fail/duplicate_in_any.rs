use mcp_oauth::require_scope;

#[require_scope(any("files:write", "files:admin", "files:write"))]
async fn handler() -> &'static str {
    "ok"
}

fn main() {
    let _ = handler;
}
