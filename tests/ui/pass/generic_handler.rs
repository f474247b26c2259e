// Generics and where-clauses are kept; an inner attribute stays with the body.
use actix_web::{App, HttpResponse, web};
use mcp_oauth::require_scope;

trait Store: 'static {
    fn name() -> &'static str;
}

struct Memory;

impl Store for Memory {
    fn name() -> &'static str {
        "memory"
    }
}

#[require_scope("store:read")]
async fn describe<S>(extra: web::Query<std::collections::HashMap<String, String>>) -> HttpResponse
where
    S: Store,
{
    #![allow(clippy::needless_pass_by_value)]
    HttpResponse::Ok().body(format!("{} {}", S::name(), extra.len()))
}

fn main() {
    let _app = App::new().route("/store", web::get().to(describe::<Memory>));
}
