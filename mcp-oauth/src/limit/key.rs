//! Who a per-address limit counts a request against: the TCP peer's address, or, behind
//! a proxy and only when configured, the address a trusted header names.
//!
//! The header is read only when [`ClientIp`] was configured with it: without that, a
//! client's own `X-Forwarded-For` is ignored (anyone can write one). With it, the proxy in
//! front must set or overwrite that header on every request, since the value taken is the
//! one the proxy wrote:
//! - `X-Forwarded-For`: the **rightmost** address (of the last line when the header is
//!   repeated: RFC 9110 §5.3 joins lines in order), the one the proxy appended for the
//!   peer it saw; the addresses left of it are the client's own claims;
//! - `Forwarded` (RFC 7239 §4-§6): the `for` of the rightmost element, likewise;
//! - any other name (`X-Real-IP`, `CF-Connecting-IP`, `Fly-Client-IP`...): a header of one
//!   address, present once.
//!
//! A value that is missing, repeated (single-value headers) or not an address
//! (`unknown`, an obfuscated `_name`) falls back to the peer address. IPv6 addresses count
//! per /64 (RFC 6177 §2: one site), so one host cannot spend 2^64 budgets; IPv4-mapped
//! IPv6 addresses count as the IPv4 address.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use actix_web::dev::ServiceRequest;
use actix_web::http::header::{self, HeaderName};

/// Where the client's address comes from.
#[derive(Debug, Clone, Default)]
pub(crate) enum ClientIp {
    /// The TCP peer (no proxy in front, or one that is not trusted).
    #[default]
    Peer,
    /// The rightmost `X-Forwarded-For` address.
    ForwardedFor,
    /// The `for` parameter of the rightmost `Forwarded` element.
    Forwarded,
    /// A header holding one address.
    Single(HeaderName),
}

impl ClientIp {
    /// The setting `MCP_OAUTH_RATE_LIMIT_TRUSTED_HEADER` names, or why it cannot be one.
    pub(crate) fn parse(name: &str) -> Result<Self, String> {
        let name = name.trim();
        match HeaderName::from_bytes(name.as_bytes()) {
            Ok(h) if h == header::X_FORWARDED_FOR => Ok(Self::ForwardedFor),
            Ok(h) if h == header::FORWARDED => Ok(Self::Forwarded),
            Ok(h) => Ok(Self::Single(h)),
            Err(_) => Err(format!("`{name}` is not a header name")),
        }
    }

    /// The key `req` is counted under, if it has an address at all.
    pub(crate) fn key(&self, req: &ServiceRequest) -> Option<IpAddr> {
        let from_header = match self {
            Self::Peer => None,
            Self::ForwardedFor => last_line(req, &header::X_FORWARDED_FOR)
                .and_then(|v| v.rsplit(',').next())
                .and_then(address),
            Self::Forwarded => last_line(req, &header::FORWARDED)
                .and_then(|v| v.rsplit(',').next())
                .and_then(forwarded_for),
            Self::Single(name) => {
                let mut values = req.headers().get_all(name);
                match (values.next(), values.next()) {
                    (Some(v), None) => v.to_str().ok().and_then(address),
                    _ => None,
                }
            }
        };
        from_header
            .or_else(|| req.peer_addr().map(|a| a.ip()))
            .map(per_site)
    }
}

/// The last line of a list header, as text.
fn last_line<'a>(req: &'a ServiceRequest, name: &HeaderName) -> Option<&'a str> {
    req.headers().get_all(name).last()?.to_str().ok()
}

/// The `for` parameter of one `Forwarded` element (RFC 7239 §4: `;`-separated pairs,
/// names case-insensitive, values tokens or quoted strings).
fn forwarded_for(element: &str) -> Option<IpAddr> {
    element.split(';').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("for")
            .then(|| address(value))?
    })
}

/// An address as proxies write them: `192.0.2.1`, `2001:db8::1`, with a port
/// (`192.0.2.1:4711`, `[2001:db8::1]:4711`), bracketed, or quoted (RFC 7239 §6).
fn address(value: &str) -> Option<IpAddr> {
    let v = value.trim().trim_matches('"');
    v.parse::<IpAddr>()
        .ok()
        .or_else(|| v.parse::<SocketAddr>().ok().map(|a| a.ip()))
        .or_else(|| v.strip_prefix('[')?.strip_suffix(']')?.parse().ok())
}

/// The address a limit counts: IPv4 as is (IPv4-mapped IPv6 too), IPv6 by its /64.
fn per_site(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !(u128::MAX >> 64))),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    const PEER: &str = "198.51.100.7:5000";

    fn key(setting: &str, headers: &[(&str, &str)]) -> Option<IpAddr> {
        let mut req = TestRequest::default().peer_addr(PEER.parse().unwrap());
        for h in headers {
            req = req.append_header(*h);
        }
        let ip = if setting.is_empty() {
            ClientIp::Peer
        } else {
            ClientIp::parse(setting).unwrap()
        };
        ip.key(&req.to_srv_request())
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn headers_are_ignored_unless_configured() {
        let spoofed = [
            ("x-forwarded-for", "203.0.113.9"),
            ("x-real-ip", "203.0.113.9"),
        ];
        assert_eq!(key("", &spoofed), ip("198.51.100.7"));
    }

    #[test]
    fn x_forwarded_for_is_read_from_the_right() {
        let xff = "x-forwarded-for";
        assert_eq!(
            key(xff, &[(xff, "1.1.1.1, 203.0.113.9")]),
            ip("203.0.113.9")
        );
        assert_eq!(
            key(xff, &[(xff, "1.1.1.1"), (xff, "2.2.2.2, 203.0.113.9")]),
            ip("203.0.113.9")
        );
        assert_eq!(
            key("X-Forwarded-For", &[(xff, "[2001:db8::1]:80")]),
            ip("2001:db8::")
        );
        assert_eq!(key(xff, &[(xff, "1.1.1.1, garbage")]), ip("198.51.100.7"));
        assert_eq!(key(xff, &[]), ip("198.51.100.7"));
    }

    #[test]
    fn forwarded_takes_the_for_of_the_last_element() {
        let f = "forwarded";
        let v = r#"for=1.1.1.1, For="[2001:db8:cafe::17]:4711";proto=https"#;
        assert_eq!(key(f, &[(f, v)]), ip("2001:db8:cafe::"));
        assert_eq!(
            key(f, &[(f, "for=1.1.1.1;by=2.2.2.2, for=unknown")]),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn a_single_value_header_counts_only_once_present() {
        let h = "cf-connecting-ip";
        assert_eq!(key(h, &[(h, "203.0.113.9")]), ip("203.0.113.9"));
        assert_eq!(
            key(h, &[(h, "203.0.113.9"), (h, "1.1.1.1")]),
            ip("198.51.100.7")
        );
        assert_eq!(key(h, &[(h, "::ffff:203.0.113.9")]), ip("203.0.113.9"));
        assert!(ClientIp::parse("not a header").is_err());
    }
}
