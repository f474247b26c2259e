//! The running server's own protected-resource metadata, as a client would fetch it
//! (RFC 9728 §3), compared with the configuration.

use std::time::Duration;

use serde_json::Value;

use super::{Outcome, Step};
use crate::http::{self, FetchError, HttpLimits};
use crate::layer::McpOAuth;
use crate::resource::ResourceParts;

/// Limits of the doctor's fetch of the running server's metadata: a short, small
/// document (RFC 9728 §3).
const LIMITS: HttpLimits = HttpLimits {
    timeout: Duration::from_secs(5),
    max_body: 256 * 1024,
};

/// Fetches the metadata of `oauth`'s resource from the server running at `base_url` (its
/// origin is used: the metadata path is the configured resource's, RFC 9728 §3.1) and
/// checks that it answers 200 with a document whose `resource` and
/// `authorization_servers` are the configured ones. Run it on an actix system.
///
/// ```
/// use mcp_oauth::explain::{self, Outcome};
///
/// let oauth = mcp_oauth::McpOAuth::builder()
///     .resource("https://mcp.example.com/mcp")
///     .authorization_server("https://auth.example.com")
///     .build()?;
/// // Nothing listens on port 9 of loopback: the first step fails and names the URL.
/// let steps = actix_web::rt::System::new()
///     .block_on(explain::check_metadata(&oauth, "http://127.0.0.1:9"));
/// assert_eq!(steps[0].outcome, Outcome::Fail);
/// assert!(steps[0].detail.contains("http://127.0.0.1:9/.well-known/oauth-protected-resource/mcp"));
/// # Ok::<(), mcp_oauth::ConfigError>(())
/// ```
pub async fn check_metadata(oauth: &McpOAuth, base_url: &str) -> Vec<Step> {
    let configured = ResourceParts::split(oauth.resource_metadata_url());
    let path = &oauth.resource_metadata_url()[configured.origin.len()..];
    let url = format!("{}{path}", ResourceParts::split(base_url.trim()).origin);
    let body = match http::get_json(&url, LIMITS).await {
        Ok(fetched) => fetched.body,
        Err(FetchError::Status(status, _)) => {
            return vec![Step::new(
                "metadata",
                Outcome::Fail,
                format!("{url} answered HTTP {status}, not 200"),
            )];
        }
        Err(e) => return vec![Step::new("metadata", Outcome::Fail, format!("{url}: {e}"))],
    };
    let Ok(Value::Object(doc)) = serde_json::from_slice::<Value>(&body) else {
        return vec![Step::new(
            "metadata",
            Outcome::Fail,
            format!("{url} answered 200 but not with a JSON object"),
        )];
    };
    let mut steps = vec![Step::new(
        "metadata",
        Outcome::Pass,
        format!("{url} answers 200"),
    )];
    let resource = doc.get("resource").and_then(Value::as_str);
    steps.push(if resource == Some(oauth.resource()) {
        Step::new("resource", Outcome::Pass, format!("`{}`", oauth.resource()))
    } else {
        Step::new(
            "resource",
            Outcome::Fail,
            format!(
                "the server says {}, the configuration `{}`",
                resource.map_or("nothing".to_owned(), |r| format!("`{r}`")),
                oauth.resource()
            ),
        )
    });
    let mut served: Vec<&str> = doc
        .get("authorization_servers")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let report = oauth.report();
    let mut ours: Vec<&str> = report
        .authorization_servers
        .iter()
        .map(|s| s.issuer.as_str())
        .collect();
    served.sort_unstable();
    ours.sort_unstable();
    steps.push(if served == ours {
        Step::new("authorization_servers", Outcome::Pass, ours.join(", "))
    } else {
        Step::new(
            "authorization_servers",
            Outcome::Fail,
            format!(
                "the server lists [{}], the configuration [{}]",
                served.join(", "),
                ours.join(", ")
            ),
        )
    });
    steps
}
