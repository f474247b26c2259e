// Return types: `impl Responder`, `Result<T, E>` with `?` and early `return` in the body
// (they keep their meaning: the handler's own error, not the guard's), plain types.
use actix_web::{App, HttpResponse, Responder, ResponseError, web};
use mcp_oauth::require_scope;

#[derive(Debug)]
struct NotFound;

impl std::fmt::Display for NotFound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not found")
    }
}

impl ResponseError for NotFound {}

fn lookup(id: u32) -> Result<String, NotFound> {
    if id == 0 { Err(NotFound) } else { Ok(format!("item {id}")) }
}

#[require_scope("items:read")]
async fn item(id: web::Path<u32>) -> Result<HttpResponse, NotFound> {
    if *id == 7 {
        return Ok(HttpResponse::Ok().body("lucky"));
    }
    let item = lookup(*id)?;
    Ok(HttpResponse::Ok().body(item))
}

#[require_scope("items:read")]
async fn item_actix_error(id: web::Path<u32>) -> actix_web::Result<String> {
    Ok(lookup(*id)?)
}

#[require_scope("items:read")]
async fn items() -> impl Responder {
    web::Json(vec![1, 2, 3])
}

#[require_scope("items:read")]
async fn count() -> String {
    "3".to_owned()
}

fn main() {
    let _app = App::new()
        .route("/items/{id}", web::get().to(item))
        .route("/items2/{id}", web::get().to(item_actix_error))
        .route("/items", web::get().to(items))
        .route("/count", web::get().to(count));
}
