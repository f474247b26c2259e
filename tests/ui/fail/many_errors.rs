// Every problem is reported at once, each on its own literal.
use mcp_oauth::require_scope;

#[require_scope("", "files read", "files:read", "files:read", 42)]
fn handler() {}

fn main() {
    let _ = handler;
}
