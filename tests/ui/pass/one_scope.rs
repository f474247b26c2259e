// One scope on a plain handler, registered with `web::get().to(..)`.
use actix_web::{App, HttpResponse, web};
use mcp_oauth::require_scope;

#[require_scope("files:read")]
async fn read_files() -> HttpResponse {
    HttpResponse::Ok().body("files")
}

fn main() {
    let _app = App::new().route("/files", web::get().to(read_files));
}
