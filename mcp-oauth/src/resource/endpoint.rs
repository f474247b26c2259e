//! The RFC 9728 metadata endpoint (RFC 9728 §3, §3.2): answers `GET`/`HEAD`/`OPTIONS`
//! of the document [`ProtectedResource`] rendered once at build time, and a JSON 404 for
//! well-known paths of no resource here. It renders; it never authenticates.

use actix_web::HttpResponse;
use actix_web::http::{Method, header};

use super::ProtectedResource;

/// Answers a request for the metadata: public, cacheable (RFC 9728 §7.10), readable
/// cross-origin.
pub(crate) fn respond(method: &Method, resource: &ProtectedResource) -> HttpResponse {
    const ALLOW: &str = "GET, HEAD, OPTIONS";
    let mut res = match *method {
        // HEAD gets the GET headers; actix drops the body of a HEAD response itself.
        Method::GET | Method::HEAD => HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "application/json"))
            .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
            .body(resource.metadata_json()),
        Method::OPTIONS => HttpResponse::NoContent()
            .insert_header((header::ALLOW, ALLOW))
            .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, ALLOW))
            .insert_header((
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                "Authorization, Content-Type, Mcp-Protocol-Version",
            ))
            .insert_header((header::ACCESS_CONTROL_MAX_AGE, "86400"))
            .finish(),
        _ => HttpResponse::MethodNotAllowed()
            .insert_header((header::ALLOW, ALLOW))
            .json(serde_json::json!({
                "error": "method_not_allowed",
                "error_description": "Protected resource metadata is read with GET",
            })),
    };
    res.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        header::HeaderValue::from_static("*"),
    );
    res
}

/// Another answer at the metadata's paths (a 429), made readable cross-origin like the
/// metadata itself, so a browser client can read its `Retry-After`.
pub(crate) fn public(mut res: HttpResponse) -> HttpResponse {
    res.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        header::HeaderValue::from_static("*"),
    );
    res
}

/// A well-known metadata path of no resource served here: JSON 404 (an RFC 9728 §3.2
/// error response), never a challenge or an HTML page.
pub(crate) fn not_found() -> HttpResponse {
    HttpResponse::NotFound()
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .json(serde_json::json!({
            "error": "not_found",
            "error_description": "No protected resource metadata at this path",
        }))
}
