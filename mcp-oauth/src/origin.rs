//! `Origin` validation against DNS rebinding (MCP 2025-11-25 transports §Security
//! Warning; MCP 2026-07-28 Streamable HTTP §Security Warning: servers MUST validate the
//! `Origin` header, and answer 403 when it is present and invalid, optionally with a
//! JSON-RPC error response that has no `id`).
//!
//! [`AllowedOrigins`] is the one list: the resource's own origin, the configured exact
//! origins, `null` only when listed, and the loopback-port wildcards for local
//! development. Origins compare as RFC 6454 §4-§5 tuples: scheme and host without
//! regard to ASCII case, the port exactly once the scheme's default port is made
//! explicit. A leaf: it knows no other part of the crate.

use actix_web::HttpResponse;
use actix_web::dev::ServiceRequest;
use actix_web::http::header::{self, HeaderValue};

/// Hosts whose any port may be allowed with `scheme://host:*` (local development).
const LOOPBACK_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

/// An origin as a tuple (RFC 6454 §4): lower-case scheme and host, and the port with the
/// scheme's default made explicit (`None` only for a scheme without a default).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Origin {
    scheme: String,
    host: String,
    port: Option<u16>,
}

impl Origin {
    /// An origin serialised as RFC 6454 §6.2 writes it: `scheme "://" host [ ":" port ]`,
    /// nothing before the host, nothing after the port.
    fn parse(text: &str) -> Option<Self> {
        let (_, rest) = text.split_once("://")?;
        if rest.is_empty() || rest.contains(['/', '?', '#', '@', '\\', '*']) {
            return None;
        }
        let url = url::Url::parse(text).ok()?;
        Some(Self {
            scheme: url.scheme().to_ascii_lowercase(),
            host: url.host_str()?.to_ascii_lowercase(),
            port: url.port_or_known_default(),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    Exact(Origin),
    /// `http://localhost:*` and the like: this scheme and loopback host, any port.
    LoopbackAnyPort {
        scheme: String,
        host: String,
    },
    /// The opaque origin's serialisation, `null` (RFC 6454 §6.2).
    Null,
}

impl Entry {
    fn parse(text: &str) -> Result<Self, String> {
        if text == "null" {
            return Ok(Self::Null);
        }
        if let Some(base) = text.strip_suffix(":*")
            && let Some((scheme, host)) = base.split_once("://")
        {
            let (scheme, host) = (scheme.to_ascii_lowercase(), host.to_ascii_lowercase());
            if matches!(scheme.as_str(), "http" | "https") && LOOPBACK_HOSTS.contains(&&*host) {
                return Ok(Self::LoopbackAnyPort { scheme, host });
            }
        }
        if text.contains('*') {
            return Err(format!(
                "`{text}`: only the loopback ports may be a wildcard (`http://localhost:*`, \
                 `http://127.0.0.1:*`, `http://[::1]:*`); list other origins exactly"
            ));
        }
        Origin::parse(text).map(Self::Exact).ok_or_else(|| {
            format!(
                "`{text}` is not an origin: `scheme://host[:port]`, without a path or a \
                 trailing slash, or `null`"
            )
        })
    }

    fn allows(&self, origin: &Origin) -> bool {
        match self {
            Self::Exact(allowed) => allowed == origin,
            Self::LoopbackAnyPort { scheme, host } => {
                *scheme == origin.scheme && *host == origin.host
            }
            Self::Null => false,
        }
    }
}

/// The origins whose requests are served: the resource's own, and those configured.
#[derive(Debug, Clone, Default)]
pub(crate) struct AllowedOrigins {
    entries: Vec<Entry>,
}

impl AllowedOrigins {
    /// The configured entries, or what is wrong with each bad one.
    pub(crate) fn parse(entries: &[String]) -> Result<Self, Vec<String>> {
        let (good, bad): (Vec<_>, Vec<_>) = entries
            .iter()
            .map(|e| Entry::parse(e.trim()))
            .partition(Result::is_ok);
        if !bad.is_empty() {
            return Err(bad.into_iter().filter_map(Result::err).collect());
        }
        Ok(Self {
            entries: good.into_iter().filter_map(Result::ok).collect(),
        })
    }

    /// Adds the origin of `resource` (an absolute URL, checked by the builder).
    pub(crate) fn with_resource(mut self, resource: &str) -> Self {
        if let Ok(url) = url::Url::parse(resource)
            && let Some(host) = url.host_str()
        {
            self.entries.push(Entry::Exact(Origin {
                scheme: url.scheme().to_ascii_lowercase(),
                host: host.to_ascii_lowercase(),
                port: url.port_or_known_default(),
            }));
        }
        self
    }

    /// Whether one `Origin` header's value is allowed.
    pub(crate) fn allows(&self, value: &HeaderValue) -> bool {
        let Ok(text) = value.to_str() else {
            return false;
        };
        if text == "null" {
            return self.entries.contains(&Entry::Null);
        }
        Origin::parse(text).is_some_and(|o| self.entries.iter().any(|e| e.allows(&o)))
    }

    /// Passes a request without `Origin` (not sent by a browser) or with one allowed
    /// `Origin`; refuses any other (an invalid, foreign or repeated one).
    pub(crate) fn check(&self, req: &ServiceRequest) -> Result<(), OriginRefusal> {
        let mut values = req.headers().get_all(header::ORIGIN);
        match (values.next(), values.next()) {
            (None, _) => Ok(()),
            (Some(value), None) if self.allows(value) => Ok(()),
            _ => Err(OriginRefusal),
        }
    }
}

/// A request from an origin that is not allowed.
#[derive(Debug)]
pub(crate) struct OriginRefusal;

impl OriginRefusal {
    /// 403 with a JSON-RPC error response that has no `id` (MCP 2026-07-28 Streamable
    /// HTTP §Security Warning); `-32600` Invalid Request (JSON-RPC 2.0 §5.1). The origin
    /// is not echoed.
    pub(crate) fn response(self) -> HttpResponse {
        HttpResponse::Forbidden().json(serde_json::json!({
            "jsonrpc": "2.0",
            "error": {
                "code": -32600,
                "message": "Forbidden: Origin not allowed",
            },
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origins(entries: &[&str], resource: &str) -> AllowedOrigins {
        let entries: Vec<String> = entries.iter().map(|e| (*e).to_owned()).collect();
        AllowedOrigins::parse(&entries)
            .unwrap()
            .with_resource(resource)
    }

    fn allows(origins: &AllowedOrigins, value: &str) -> bool {
        origins.allows(&HeaderValue::from_str(value).unwrap())
    }

    #[test]
    fn the_resource_origin_compares_as_a_tuple() {
        let o = origins(&[], "https://mcp.example.com/mcp");
        assert!(allows(&o, "https://mcp.example.com"));
        assert!(allows(&o, "HTTPS://MCP.Example.COM"));
        assert!(allows(&o, "https://mcp.example.com:443"));
        assert!(!allows(&o, "https://mcp.example.com:8443"));
        assert!(!allows(&o, "http://mcp.example.com"));
        assert!(!allows(&o, "https://mcp.example.com/"));
        assert!(!allows(&o, "https://user@mcp.example.com"));
        assert!(!allows(&o, "null"));
        assert!(!allows(&o, ""));
    }

    #[test]
    fn loopback_wildcards_cover_any_port_of_that_host_only() {
        let o = origins(&["http://localhost:*", "null"], "https://mcp.example.com");
        assert!(allows(&o, "http://localhost:6274"));
        assert!(allows(&o, "http://LOCALHOST"));
        assert!(allows(&o, "null"));
        assert!(!allows(&o, "https://localhost:6274"));
        assert!(!allows(&o, "http://127.0.0.1:6274"));
        assert!(!allows(&o, "http://localhost.evil.example:6274"));
    }

    #[test]
    fn only_loopback_ports_may_be_wildcards() {
        for bad in [
            "*",
            "https://*.example.com",
            "http://example.com:*",
            "https://app.example.com/",
            "app.example.com",
            "https://app.example.com/path",
        ] {
            let err = AllowedOrigins::parse(&[bad.to_owned()]).unwrap_err();
            assert_eq!(err.len(), 1, "{bad}");
            assert!(err[0].contains(bad), "{bad}: {err:?}");
        }
        for good in [
            "http://[::1]:*",
            "http://127.0.0.1:*",
            "https://x.example:8443",
        ] {
            assert!(AllowedOrigins::parse(&[good.to_owned()]).is_ok(), "{good}");
        }
    }
}
