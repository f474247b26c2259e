use mcp_oauth::require_scope;

#[require_scope("fichiers:créer")]
async fn handler() -> &'static str {
    "ok"
}

fn main() {
    let _ = handler;
}
