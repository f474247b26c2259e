// The other order: `#[require_scope]` on top of the route attribute also works.
use actix_web::{App, HttpResponse, Responder, get, post, route};
use mcp_oauth::require_scope;

#[require_scope("files:read")]
#[get("/files")]
async fn list() -> impl Responder {
    HttpResponse::Ok().body("list")
}

#[require_scope("files:write")]
#[post("/files")]
pub async fn create(body: String) -> impl Responder {
    HttpResponse::Created().body(body)
}

#[require_scope(any("files:delete", "files:admin"))]
#[route("/files", method = "DELETE")]
pub(crate) async fn remove() -> HttpResponse {
    HttpResponse::NoContent().finish()
}

fn main() {
    let _app = App::new().service(list).service(create).service(remove);
}
