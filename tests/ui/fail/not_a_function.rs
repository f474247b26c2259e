use mcp_oauth::require_scope;

#[require_scope("files:read")]
struct Handler;

fn main() {
    let _ = Handler;
}
