// The recommended order: the route attribute on top, `#[require_scope]` below it.
use actix_web::{App, HttpResponse, Responder, get, post, route};
use mcp_oauth::require_scope;

/// Doc comments and other attributes are kept.
#[get("/files")]
#[require_scope("files:read")]
#[allow(clippy::unused_async)]
async fn list() -> impl Responder {
    HttpResponse::Ok().body("list")
}

#[post("/files")]
#[require_scope("files:write")]
pub async fn create(body: String) -> impl Responder {
    HttpResponse::Created().body(body)
}

#[route("/files", method = "DELETE", method = "PURGE")]
#[require_scope(any("files:delete", "files:admin"))]
pub(crate) async fn remove() -> HttpResponse {
    HttpResponse::NoContent().finish()
}

fn main() {
    let _app = App::new().service(list).service(create).service(remove);
}
