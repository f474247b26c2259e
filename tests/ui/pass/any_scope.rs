// `any(..)`: one of the scopes suffices; a single-scope `any` is allowed too.
use actix_web::{App, HttpResponse, web};
use mcp_oauth::require_scope;

#[require_scope(any("files:delete", "files:admin"))]
async fn delete_files() -> HttpResponse {
    HttpResponse::NoContent().finish()
}

#[require_scope(any("admin",))]
async fn admin() -> &'static str {
    "admin"
}

fn main() {
    let _app = App::new()
        .route("/files", web::delete().to(delete_files))
        .route("/admin", web::get().to(admin));
}
