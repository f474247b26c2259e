// Several scopes (all required), a trailing comma, raw strings, and the full scope charset
// of RFC 6749 §3.3. The handler also takes the client and other extractors itself.
use actix_web::{App, HttpResponse, web};
use mcp_oauth::{AuthenticatedClient, require_scope};

#[require_scope("files:read", "files:write", r"urn:x:!#$%&'()*+,-./;<=>?@[]^_`{|}~",)]
async fn write_files(
    client: AuthenticatedClient,
    path: web::Path<String>,
    body: String,
) -> HttpResponse {
    HttpResponse::Ok().body(format!("{} {path} {body}", client.scopes().join(" ")))
}

fn main() {
    let _app = App::new().route("/files/{path}", web::put().to(write_files));
}
