// One message per unsupported argument form, all reported at once.
use mcp_oauth::require_scope;

const SCOPE: &str = "files:read";

#[require_scope(42)]
async fn integer() -> &'static str {
    "ok"
}

#[require_scope(error = "access_denied")]
async fn option() -> &'static str {
    "ok"
}

#[require_scope(all("a", "b"))]
async fn explicit_all() -> &'static str {
    "ok"
}

#[require_scope(any(any("a", "b")))]
async fn nested_any() -> &'static str {
    "ok"
}

#[require_scope(SCOPE)]
async fn path() -> &'static str {
    "ok"
}

#[require_scope(any)]
async fn bare_any() -> &'static str {
    "ok"
}

#[require_scope(one_of("a", "b"))]
async fn unknown_call() -> &'static str {
    "ok"
}

#[require_scope(b"bytes", any(7))]
async fn byte_string() -> &'static str {
    "ok"
}

fn main() {
    let _ = (integer, option, explicit_all, nested_any, path, bare_any, unknown_call, byte_string, SCOPE);
}
