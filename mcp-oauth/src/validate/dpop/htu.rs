//! The `htu` comparison (RFC 9449 §4.3 check 9): the proof's URI against the request's,
//! query and fragment ignored, after RFC 3986 §6.2.2 syntax-based and §6.2.3
//! scheme-based normalisation (scheme and host case, percent-encoding case, dot
//! segments, the default port, an empty path as `/`), which `url::Url` parsing does.

use url::Url;

/// A request's URI as this server is reached: the configured resource's origin and the
/// request path, kept apart until a comparison needs them joined.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestUri<'a> {
    pub(crate) origin: &'a Url,
    pub(crate) path: &'a str,
}

impl RequestUri<'_> {
    /// The URI: the origin's, with the path set (not joined: `//host/x` stays a path).
    pub(crate) fn url(&self) -> Url {
        let mut uri = self.origin.clone();
        uri.set_path(self.path);
        uri
    }
}

/// Is `claimed` (the proof's `htu`) the same URI as `expected`?
/// Userinfo, when either carries it, must be equal too.
pub(crate) fn same_uri(claimed: &str, expected: &RequestUri<'_>) -> bool {
    // What clients send: the origin as the server's own serialisation writes it, then
    // the path. Equal bytes need no parse.
    let origin = expected.origin.as_str().trim_end_matches('/');
    if expected.path.starts_with('/') && claimed.strip_prefix(origin) == Some(expected.path) {
        return true;
    }
    let expected = expected.url();
    let Ok(claimed) = Url::parse(claimed) else {
        return false;
    };
    claimed.scheme() == expected.scheme()
        && claimed.cannot_be_a_base() == expected.cannot_be_a_base()
        && claimed.username() == expected.username()
        && claimed.password() == expected.password()
        && claimed.host() == expected.host()
        && claimed.port_or_known_default() == expected.port_or_known_default()
        && normalised_path(&claimed) == normalised_path(&expected)
}

/// The path with percent-encoding triplets in upper case (RFC 3986 §6.2.2.1).
fn normalised_path(url: &Url) -> String {
    let path = url.path();
    let mut out = String::with_capacity(path.len());
    let mut pending = 0;
    for c in path.chars() {
        if pending > 0 {
            out.push(c.to_ascii_uppercase());
            pending -= 1;
        } else {
            if c == '%' {
                pending = 2;
            }
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `claimed` against the request URI `uri` (its origin, then its path).
    fn same(claimed: &str, uri: &str) -> bool {
        let url = Url::parse(uri).unwrap();
        let origin = Url::parse(&url.origin().ascii_serialization()).unwrap();
        same_uri(
            claimed,
            &RequestUri {
                origin: &origin,
                path: url.path(),
            },
        )
    }

    #[test]
    fn equal_after_normalisation() {
        let e = "https://mcp.example.com/mcp";
        assert!(same("https://mcp.example.com/mcp", e));
        assert!(same("HTTPS://MCP.Example.COM:443/mcp", e));
        assert!(same("https://mcp.example.com/a/../mcp", e));
        assert!(same("https://mcp.example.com/mcp?x=1#f", e));
        let root = "http://127.0.0.1:8080";
        assert!(same("http://127.0.0.1:8080/", root));
        let pct = "https://h.example/a%2fb";
        assert!(same("https://h.example/a%2Fb", pct));
    }

    #[test]
    fn different_uris_differ() {
        let e = "https://mcp.example.com/mcp";
        for other in [
            "http://mcp.example.com/mcp",
            "https://mcp.example.com:8443/mcp",
            "https://evil.example.com/mcp",
            "https://mcp.example.com/MCP",
            "https://mcp.example.com/mcp/",
            "https://user@mcp.example.com/mcp",
            "/mcp",
            "mcp.example.com/mcp",
            "",
        ] {
            assert!(!same(other, e), "{other}");
        }
    }

    #[test]
    fn the_byte_equal_shortcut_takes_nothing_that_merely_starts_alike() {
        let e = "https://mcp.example.com/mcp";
        for other in [
            "https://mcp.example.com.evil.example/mcp",
            "https://mcp.example.com@evil.example/mcp",
            "https://mcp.example.com:444/mcp",
            "https://mcp.example.com/mcpx",
        ] {
            assert!(!same(other, e), "{other}");
        }
        assert!(same("https://mcp.example.com/mcp", e));
    }
}
