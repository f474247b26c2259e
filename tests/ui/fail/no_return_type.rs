use mcp_oauth::require_scope;

#[require_scope("files:read")]
async fn handler(body: String) {
    drop(body);
}

fn main() {
    let _ = handler;
}
