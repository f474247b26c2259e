//! Outbound HTTP (JWKS today; discovery and introspection build on it): every call
//! has a total timeout, a response-size cap, no redirects, and TLS through rustls
//! with webpki roots and an explicit crypto provider (rust-deps.md pitfall 1).

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

/// Why an outbound call failed. Its `Display` names the URL, never a credential.
#[derive(Debug)]
pub(crate) enum FetchError {
    Transport(String),
    Timeout,
    Status(u16),
    TooLarge(usize),
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Transport(e) => write!(f, "request failed: {e}"),
            Self::Timeout => f.write_str("timed out"),
            Self::Status(s) => write!(f, "answered HTTP {s}"),
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
    let client = client(limits.timeout);
    let call = async {
        let mut res = client
            .get(url)
            .insert_header((header::ACCEPT, "application/json"))
            .send()
            .await
            .map_err(|e| FetchError::Transport(e.to_string()))?;
        if !res.status().is_success() {
            return Err(FetchError::Status(res.status().as_u16()));
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
