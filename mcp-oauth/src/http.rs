//! Outbound HTTP (discovery, JWKS, introspection): every call has a total timeout, a
//! response-size cap, no redirects, and TLS through rustls with webpki roots and an
//! explicit crypto provider (aws-lc-rs), so the client never depends on the process-wide
//! default, which rustls cannot choose when no provider, or two, are compiled in.
//!
//! awc clients are `!Send`, so each worker thread keeps its own, per actix `System` and
//! timeout: connections to the authorization server are reused (keep-alive), which
//! matters for introspection, one call per new token.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use actix_web::http::header;
use actix_web::web::Bytes;

/// Limits applied to one outbound call.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HttpLimits {
    /// Whole call: connect, send, headers and body.
    pub(crate) timeout: Duration,
    /// Largest body read.
    pub(crate) max_body: usize,
}

/// Most bytes of an error answer's body kept (an OAuth error object, RFC 6749 §5.2, is a
/// few dozen bytes); a larger body is dropped and the answer read as having none.
const MAX_ERROR_BODY: usize = 4096;

/// Why an outbound call failed. Its `Display` names the URL, never a credential.
#[derive(Debug)]
pub(crate) enum FetchError {
    Transport(String),
    Timeout,
    /// A status other than 2xx, and the body of the answer (at most [`MAX_ERROR_BODY`]
    /// bytes; empty when larger or unreadable): introspection reads the OAuth error in it.
    Status(u16, Bytes),
    TooLarge(usize),
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Transport(e) => write!(f, "request failed: {e}"),
            Self::Timeout => f.write_str("timed out"),
            Self::Status(s, _) => write!(f, "answered HTTP {s}"),
            Self::TooLarge(cap) => write!(f, "response larger than {cap} bytes"),
        }
    }
}

/// A successful GET: the body and the `Cache-Control: max-age` if any.
#[derive(Debug)]
pub(crate) struct Fetched {
    pub(crate) body: Bytes,
    pub(crate) max_age: Option<Duration>,
}

/// GETs `url` expecting JSON. Must run on an actix (or tokio `LocalSet`) thread: awc is `!Send`.
pub(crate) async fn get_json(url: &str, limits: HttpLimits) -> Result<Fetched, FetchError> {
    let request = client(limits.timeout)
        .get(url)
        .insert_header((header::ACCEPT, "application/json"));
    read(request.send(), limits).await
}

/// POSTs an `application/x-www-form-urlencoded` body (introspection, RFC 7662 §2.1).
/// `authorization` is a whole `Authorization` header value, when the caller authenticates
/// with one; it is never logged.
pub(crate) async fn post_form(
    url: &str,
    form: String,
    authorization: Option<&str>,
    limits: HttpLimits,
) -> Result<Fetched, FetchError> {
    let mut request = client(limits.timeout)
        .post(url)
        .insert_header((header::ACCEPT, "application/json"))
        .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"));
    if let Some(value) = authorization {
        request = request.insert_header((header::AUTHORIZATION, value));
    }
    read(request.send_body(form), limits).await
}

async fn read(sent: awc::SendClientRequest, limits: HttpLimits) -> Result<Fetched, FetchError> {
    let call = async {
        let mut res = sent.await.map_err(|e| match e {
            awc::error::SendRequestError::Timeout
            | awc::error::SendRequestError::Connect(awc::error::ConnectError::Timeout) => {
                FetchError::Timeout
            }
            other => FetchError::Transport(other.to_string()),
        })?;
        if !res.status().is_success() {
            let cap = MAX_ERROR_BODY.min(limits.max_body);
            let body = res.body().limit(cap).await.unwrap_or_default();
            return Err(FetchError::Status(res.status().as_u16(), body));
        }
        let max_age = res
            .headers()
            .get(header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .and_then(max_age);
        let body = res
            .body()
            .limit(limits.max_body)
            .await
            .map_err(|e| match e {
                awc::error::PayloadError::Overflow => FetchError::TooLarge(limits.max_body),
                other => FetchError::Transport(other.to_string()),
            })?;
        Ok(Fetched { body, max_age })
    };
    actix_web::rt::time::timeout(limits.timeout, call)
        .await
        .unwrap_or(Err(FetchError::Timeout))
}

fn client(timeout: Duration) -> awc::Client {
    type Clients = std::cell::RefCell<Vec<(usize, Duration, awc::Client)>>;
    thread_local! {
        static CLIENTS: Clients = const { std::cell::RefCell::new(Vec::new()) };
    }
    // A client's connection pool lives on the runtime that made it: key by System too.
    let system = actix_web::rt::System::try_current().map_or(usize::MAX, |s| s.id());
    CLIENTS.with(|clients| {
        let mut clients = clients.borrow_mut();
        if let Some((_, _, c)) = clients
            .iter()
            .find(|(id, t, _)| *id == system && *t == timeout)
        {
            return c.clone();
        }
        // Clients of Systems that have ended are dropped here; the list stays tiny.
        clients.retain(|(id, _, _)| *id == system);
        let c = new_client(timeout);
        clients.push((system, timeout, c.clone()));
        c
    })
}

fn new_client(timeout: Duration) -> awc::Client {
    awc::Client::builder()
        .connector(
            awc::Connector::new()
                .rustls_0_23(tls_config())
                .timeout(timeout),
        )
        .timeout(timeout)
        .disable_redirects()
        .finish()
}

/// One TLS configuration per process, with the aws-lc-rs provider chosen explicitly so
/// the library never depends on a process-wide default provider.
fn tls_config() -> Arc<rustls::ClientConfig> {
    static CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let roots =
                rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map(|b| b.with_root_certificates(roots).with_no_client_auth())
                // The aws-lc-rs provider supports the safe defaults; this arm is unreachable
                // in practice and still yields a working (empty-roots) config, never a panic.
                .unwrap_or_else(|_| {
                    rustls::ClientConfig::builder()
                        .with_root_certificates(rustls::RootCertStore::empty())
                        .with_no_client_auth()
                });
            Arc::new(config)
        })
        .clone()
}

/// `max-age` of a `Cache-Control` value; `no-store`/`no-cache` count as zero.
pub(crate) fn max_age(value: &str) -> Option<Duration> {
    let mut age = None;
    for directive in value.split(',').map(str::trim) {
        let lower = directive.to_ascii_lowercase();
        if lower == "no-store" || lower == "no-cache" {
            return Some(Duration::ZERO);
        }
        if let Some(secs) = lower.strip_prefix("max-age=") {
            age = secs
                .trim_matches('"')
                .parse::<u64>()
                .ok()
                .map(Duration::from_secs);
        }
    }
    age
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_control_max_age_is_read_and_no_store_means_zero() {
        assert_eq!(
            max_age("public, max-age=600"),
            Some(Duration::from_secs(600))
        );
        assert_eq!(max_age("Max-Age=\"30\""), Some(Duration::from_secs(30)));
        assert_eq!(max_age("no-store, max-age=600"), Some(Duration::ZERO));
        assert_eq!(max_age("public"), None);
        assert_eq!(max_age("max-age=x"), None);
    }
}
