//! One reading of a resource URI for the per-resource rules, so that no spelling of a
//! guarded URI slips past its rule.
//!
//! [`normalize`] applies RFC 3986 §6.2.2 syntax-based normalisation, then refuses what
//! servers read in different ways:
//! - the scheme (§3.1) must be present and well formed; it is lowercased, and so is the
//!   host of an authority (§6.2.2.1; the userinfo and the port are kept as written);
//! - scheme-based (§6.2.3): a scheme's default port or an empty port is dropped
//!   (`http` 80, `https` 443); a `file` URI's `localhost` is its empty host, and another
//!   host is refused (RFC 8089 §2: servers read it as a share, refuse it or ignore it);
//! - every `%` must start a `%XX` triplet; triplets of unreserved characters
//!   (`A-Z a-z 0-9 - . _ ~`) are decoded (§6.2.2.2: `%73ecrets` is `secrets`, `%2e%2e`
//!   is `..`), the others keep their octet with uppercase hex digits (§6.2.2.1);
//! - dot segments are removed from the path (§5.2.4 `remove_dot_segments`, §6.2.2.3), so
//!   `file:///public/../secrets/key` is `file:///secrets/key`;
//! - refused (the caller answers 400, never matches a guessed reading): no scheme; a bad
//!   triplet; an encoded `/` (`%2F`) or `\` (`%5C`), which a server may decode into a
//!   separator after the rules matched; a character outside RFC 3986's set (a raw `\`,
//!   space, control or non-ASCII character); a `..` that climbs above the root of the
//!   path (servers clamp, refuse or keep it).
//!
//! Path, query and fragment otherwise compare case-sensitively and exactly (§6.2.2.1).
//! A [`Pattern`] is an exact URI or, with a trailing `*`, a prefix; it is normalised
//! with the same rule when configured.

use std::borrow::Cow;

/// Why a URI has no single reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unclear {
    /// No `scheme:` (RFC 3986 §3.1).
    NoScheme,
    /// A `%` not followed by two hex digits (§2.1).
    BadPercent,
    /// `%2F` or `%5C`: an encoded separator.
    EncodedSeparator,
    /// A character RFC 3986 does not allow (§2).
    BadCharacter,
    /// A `..` above the root (§5.2.4 would silently drop it).
    AboveRoot,
    /// A `file` URI naming a host other than `localhost` (RFC 8089 §2).
    FileHost,
}

/// A configured resource rule's URI: exact, or a prefix (written with a trailing `*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pattern {
    uri: String,
    prefix: bool,
}

impl Pattern {
    /// `uri` or `uri*`, normalised like a request's URI. A `*` anywhere but at the end is
    /// refused (so a literal `*` cannot be mistaken for a wildcard).
    pub(crate) fn parse(pattern: &str) -> Result<Self, String> {
        let (uri, prefix) = match pattern.strip_suffix('*') {
            Some(head) => (head, true),
            None => (pattern, false),
        };
        if uri.contains('*') {
            return Err(format!(
                "`{pattern}`: `*` is allowed only at the end (a prefix)"
            ));
        }
        let uri = normalize(uri)
            .map_err(|why| format!("`{pattern}` is not a URI this rule can match: {why:?}"))?;
        Ok(Self {
            uri: uri.into_owned(),
            prefix,
        })
    }

    /// Whether every URI starting with the normalised `fixed` falls under this pattern:
    /// a prefix that `fixed` starts with.
    #[cfg(feature = "rmcp")]
    pub(crate) fn covers_every_uri_from(&self, fixed: &str) -> bool {
        self.prefix && fixed.starts_with(&self.uri)
    }

    /// Whether a normalised URI falls under this pattern.
    pub(crate) fn matches(&self, normalized: &str) -> bool {
        if self.prefix {
            normalized.starts_with(&self.uri)
        } else {
            normalized == self.uri
        }
    }
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// RFC 3986 §2.2 reserved characters, and `%`.
fn is_allowed(b: u8) -> bool {
    is_unreserved(b) || b"%:/?#[]@!$&'()*+,;=".contains(&b)
}

/// The one reading of `uri`, or why there is none (module doc).
pub(crate) fn normalize(uri: &str) -> Result<Cow<'_, str>, Unclear> {
    let (scheme, rest) = uri.split_once(':').ok_or(Unclear::NoScheme)?;
    let mut chars = scheme.bytes();
    let well_formed = chars.next().is_some_and(|b| b.is_ascii_alphabetic())
        && chars.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    if !well_formed {
        return Err(Unclear::NoScheme);
    }
    if !rest.bytes().all(is_allowed) {
        return Err(Unclear::BadCharacter);
    }
    let rest = decode_unreserved(rest)?;
    let (authority, rest) = match rest.strip_prefix("//") {
        Some(after) => {
            let end = after.find(['/', '?', '#']).unwrap_or(after.len());
            (Some(&after[..end]), &after[end..])
        }
        None => (None, rest.as_str()),
    };
    let end = rest.find(['?', '#']).unwrap_or(rest.len());
    let (path, tail) = rest.split_at(end);
    let scheme = scheme.to_ascii_lowercase();
    let mut out = format!("{scheme}:");
    if let Some(authority) = authority {
        out.push_str("//");
        let host_at = authority.rfind('@').map_or(0, |i| i + 1);
        out.push_str(&authority[..host_at]);
        out.push_str(&host_port(
            &scheme,
            &authority[host_at..].to_ascii_lowercase(),
        )?);
    }
    remove_dot_segments(path, &mut out)?;
    out.push_str(tail);
    Ok(if out == uri {
        Cow::Borrowed(uri)
    } else {
        Cow::Owned(out)
    })
}

/// §6.2.3 scheme-based normalisation of a lowercased `host[:port]`: an empty port or the
/// scheme's default (`http` 80, `https` 443, `ws` 80, `wss` 443) is dropped; a `file`
/// URI's host must be empty or `localhost`, which is the empty host (RFC 8089 §2): any
/// other host is read differently by servers (a share, an error, or ignored).
fn host_port(scheme: &str, host_port: &str) -> Result<String, Unclear> {
    if scheme == "file" {
        return match host_port {
            "" | "localhost" => Ok(String::new()),
            _ => Err(Unclear::FileHost),
        };
    }
    let default = match scheme {
        "http" | "ws" => ":80",
        "https" | "wss" => ":443",
        _ => ":",
    };
    let host = host_port
        .strip_suffix(default)
        .or_else(|| host_port.strip_suffix(':'))
        .filter(|h| !h.ends_with(':') && (h.ends_with(']') || !h.contains(']')))
        .unwrap_or(host_port);
    Ok(host.to_owned())
}

/// §6.2.2.2 and §6.2.2.1: unreserved triplets decoded, the others uppercased; an encoded
/// separator refused.
fn decode_unreserved(s: &str) -> Result<String, Unclear> {
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'%' {
            out.push(char::from(bytes[i]));
            i += 1;
            continue;
        }
        let hex = |b: Option<&u8>| b.and_then(|b| char::from(*b).to_digit(16));
        let (Some(hi), Some(lo)) = (hex(bytes.get(i + 1)), hex(bytes.get(i + 2))) else {
            return Err(Unclear::BadPercent);
        };
        // Both digits are below 16, so the octet fits.
        let octet = u8::try_from(hi * 16 + lo).map_err(|_| Unclear::BadPercent)?;
        if matches!(octet, b'/' | b'\\') {
            return Err(Unclear::EncodedSeparator);
        }
        if is_unreserved(octet) {
            out.push(char::from(octet));
        } else {
            out.push_str(&format!("%{octet:02X}"));
        }
        i += 3;
    }
    Ok(out)
}

/// RFC 3986 §5.2.4, segment by segment, appending the result to `out`; a `..` with
/// nothing left to remove is refused rather than dropped.
fn remove_dot_segments(path: &str, out: &mut String) -> Result<(), Unclear> {
    let absolute = path.starts_with('/');
    let mut segments: Vec<&str> = Vec::new();
    let parts: Vec<&str> = path.split('/').skip(usize::from(absolute)).collect();
    let last = parts.len().saturating_sub(1);
    // A path ending in `.` or `..` ends with a `/` (§5.2.4 steps 2B, 2C).
    let mut trailing_slash = false;
    for (i, segment) in parts.iter().enumerate() {
        match *segment {
            "." => trailing_slash = i == last,
            ".." => {
                if segments.pop().is_none() {
                    return Err(Unclear::AboveRoot);
                }
                trailing_slash = i == last;
            }
            s => {
                segments.push(s);
                trailing_slash = false;
            }
        }
    }
    if absolute {
        out.push('/');
    }
    out.push_str(&segments.join("/"));
    if trailing_slash && !segments.is_empty() {
        out.push('/');
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(uri: &str) -> Result<String, Unclear> {
        normalize(uri).map(Cow::into_owned)
    }

    #[test]
    fn spellings_of_one_uri_read_the_same() {
        for uri in [
            "file:///secrets/key",
            "FILE:///secrets/key",
            "file:///%73ecrets/key",
            "file:///public/../secrets/key",
            "file:///public/%2e%2E/secrets/key",
            "file:///./secrets/./key",
            "file:///public/x/../../secrets/key",
        ] {
            assert_eq!(n(uri).as_deref(), Ok("file:///secrets/key"), "{uri}");
        }
        assert_eq!(
            n("HTTPS://User@Example.COM:8443/A/%7e?q=%aa#F").as_deref(),
            Ok("https://User@example.com:8443/A/~?q=%AA#F")
        );
        assert_eq!(n("secret://vault/a/..").as_deref(), Ok("secret://vault/"));
        assert_eq!(n("file://LocalHost/a").as_deref(), Ok("file:///a"));
        assert_eq!(n("http://h:80/a").as_deref(), Ok("http://h/a"));
        assert_eq!(n("https://h:/a").as_deref(), Ok("https://h/a"));
        assert_eq!(n("https://[::1]:443/a").as_deref(), Ok("https://[::1]/a"));
        assert_eq!(n("https://h:8443/a").as_deref(), Ok("https://h:8443/a"));
        assert_eq!(n("x://h:80/a").as_deref(), Ok("x://h:80/a"));
        assert_eq!(n("urn:x:y").as_deref(), Ok("urn:x:y"));
        assert!(matches!(normalize("file:///a"), Ok(Cow::Borrowed(_))));
    }

    #[test]
    fn what_servers_read_differently_is_refused() {
        assert_eq!(n("/secrets/key"), Err(Unclear::NoScheme));
        assert_eq!(n("1x:/a"), Err(Unclear::NoScheme));
        assert_eq!(n("file:///a%2Fb"), Err(Unclear::EncodedSeparator));
        assert_eq!(n("file:///a%5cb"), Err(Unclear::EncodedSeparator));
        assert_eq!(n("file:///a%zz"), Err(Unclear::BadPercent));
        assert_eq!(n("file:///a%2"), Err(Unclear::BadPercent));
        assert_eq!(n("file:///a\\b"), Err(Unclear::BadCharacter));
        assert_eq!(n("file:///a b"), Err(Unclear::BadCharacter));
        assert_eq!(n("file:///é"), Err(Unclear::BadCharacter));
        assert_eq!(n("file:///../secrets"), Err(Unclear::AboveRoot));
        assert_eq!(n("file:///a/%2e%2e/%2e%2e/b"), Err(Unclear::AboveRoot));
        assert_eq!(n("file://evil/secrets"), Err(Unclear::FileHost));
    }

    #[test]
    fn patterns_are_exact_or_prefixes() {
        let p = Pattern::parse("FILE:///secrets/*").unwrap_or_else(|e| panic!("{e}"));
        assert!(p.matches("file:///secrets/key"));
        assert!(!p.matches("file:///secrets"));
        let exact = Pattern::parse("secret://vault/token").unwrap_or_else(|e| panic!("{e}"));
        assert!(exact.matches("secret://vault/token"));
        assert!(!exact.matches("secret://vault/token2"));
        assert!(Pattern::parse("file:///*/key").is_err());
        assert!(Pattern::parse("no scheme*").is_err());
    }
}
