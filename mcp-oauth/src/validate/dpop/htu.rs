//! The `htu` comparison (RFC 9449 §4.3 check 9): the proof's URI against the request's,
//! query and fragment ignored, after RFC 3986 §6.2.2 syntax-based and §6.2.3
//! scheme-based normalisation (scheme and host case, percent-encoding case, dot
//! segments, the default port, an empty path as `/`), which `url::Url` parsing does.

use url::Url;

/// Is `claimed` (the proof's `htu`) the same URI as `expected` (the request's URI as
/// this server is reached: the configured resource's origin and the request path)?
/// Userinfo, when either carries it, must be equal too.
pub(crate) fn same_uri(claimed: &str, expected: &Url) -> bool {
    let Ok(claimed) = Url::parse(claimed) else {
        return false;
    };
    claimed.scheme() == expected.scheme()
        && claimed.cannot_be_a_base() == expected.cannot_be_a_base()
        && claimed.username() == expected.username()
        && claimed.password() == expected.password()
        && claimed.host() == expected.host()
        && claimed.port_or_known_default() == expected.port_or_known_default()
        && normalised_path(&claimed) == normalised_path(expected)
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

    fn expected(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn equal_after_normalisation() {
        let e = expected("https://mcp.example.com/mcp");
        assert!(same_uri("https://mcp.example.com/mcp", &e));
        assert!(same_uri("HTTPS://MCP.Example.COM:443/mcp", &e));
        assert!(same_uri("https://mcp.example.com/a/../mcp", &e));
        assert!(same_uri("https://mcp.example.com/mcp?x=1#f", &e));
        let root = expected("http://127.0.0.1:8080");
        assert!(same_uri("http://127.0.0.1:8080/", &root));
        let pct = expected("https://h.example/a%2fb");
        assert!(same_uri("https://h.example/a%2Fb", &pct));
    }

    #[test]
    fn different_uris_differ() {
        let e = expected("https://mcp.example.com/mcp");
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
            assert!(!same_uri(other, &e), "{other}");
        }
    }
}
