//! Which URLs this crate will talk to or advertise (OAuth 2.1 §1.5; MCP authorization
//! §Communication Security): `https`, or plain `http` only on a loopback host.

use std::net::IpAddr;

use url::{Host, Url};

/// Checks `value` is an absolute `https` URL, or `http` on 127.0.0.0/8, `::1` or
/// `localhost`; no userinfo, no fragment. Returns the parsed URL for inspection only:
/// callers keep using the original string (it is never re-serialised).
pub(crate) fn secure_url(value: &str) -> Result<Url, String> {
    let url = Url::parse(value).map_err(|e| format!("`{value}` is not an absolute URL ({e})"))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(format!(
                "`{value}` must use https (plain http is allowed only on loopback hosts)"
            ));
        }
        other => return Err(format!("`{value}` has unsupported scheme `{other}`")),
    }
    if url.host().is_none() {
        return Err(format!("`{value}` has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("`{value}` must not contain credentials"));
    }
    if url.fragment().is_some() || value.contains('#') {
        return Err(format!("`{value}` must not have a fragment"));
    }
    if value
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '\\')
    {
        return Err(format!(
            "`{value}` contains characters that cannot appear in a URL"
        ));
    }
    Ok(url)
}

/// 127.0.0.0/8, `::1`, or the name `localhost`.
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_is_accepted_anywhere_http_only_on_loopback() {
        assert!(secure_url("https://mcp.example.com/mcp").is_ok());
        assert!(secure_url("http://127.0.0.1:8080/mcp").is_ok());
        assert!(secure_url("http://127.9.9.9/mcp").is_ok());
        assert!(secure_url("http://[::1]:80/").is_ok());
        assert!(secure_url("http://LOCALHOST:3000").is_ok());
        assert!(secure_url("http://mcp.example.com/mcp").is_err());
        assert!(secure_url("http://10.0.0.1/mcp").is_err());
        assert!(secure_url("http://localhost.example.com/").is_err());
    }

    #[test]
    fn relative_fragment_credentials_and_odd_schemes_are_refused() {
        assert!(secure_url("mcp.example.com").is_err());
        assert!(secure_url("https://mcp.example.com#x").is_err());
        assert!(secure_url("https://u:p@mcp.example.com/").is_err());
        assert!(secure_url("ftp://mcp.example.com/").is_err());
        assert!(secure_url("https://mcp.example.com/a\"b").is_err());
    }
}
