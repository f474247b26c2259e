//! The diagnostics endpoint: the latest discovery report over HTTP, for a caller the
//! middleware has already admitted. It renders; it never fetches or admits.

use actix_web::HttpResponse;
use actix_web::http::{Method, header};

use super::report::StartupReport;

/// The optional diagnostics path: the latest discovery report, never cached, redacted:
/// each finding's check and severity, not its message (whose error text may name
/// internal hosts; it stays in the log and in [`McpOAuth::report`](crate::McpOAuth::report)).
pub(crate) fn diagnostics(method: &Method, report: &StartupReport) -> HttpResponse {
    match *method {
        Method::GET | Method::HEAD => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(report.redacted()),
        _ => HttpResponse::MethodNotAllowed()
            .insert_header((header::ALLOW, "GET, HEAD"))
            .json(serde_json::json!({
                "error": "method_not_allowed",
                "error_description": "The discovery report is read with GET",
            })),
    }
}
