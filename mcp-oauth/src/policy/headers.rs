//! The MCP 2026-07-28 standard request headers (SEP-2243): `Mcp-Method` mirrors the
//! body's `method`, `Mcp-Name` its `params.name` (`tools/call`, `prompts/get`) or
//! `params.uri` (`resources/read`), Base64 sentinel form decoded (transports §Standard
//! Request Headers, §Value Encoding). A server that reads the body must refuse headers
//! that disagree with it, are malformed, or are missing where `MCP-Protocol-Version`
//! requires them: 400 with a JSON-RPC `-32020` error (§Server Validation).
//!
//! Bounded: the header values are read as they are (actix caps the header section), a
//! sentinel is decoded only up to [`MAX_NAME_BYTES`], the body's values are the sets
//! [`jsonrpc::operations`](super::jsonrpc::operations) already holds, and echoed values
//! are cut to [`ECHO_CHARS`].

use std::collections::HashSet;

use actix_web::http::header::{ACCEPT, HeaderMap, HeaderName, HeaderValue};
use base64::Engine as _;
use base64::alphabet::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use super::jsonrpc::{Operations, PROMPTS_GET, RESOURCES_READ, TOOLS_CALL};
use crate::refusal::HeaderMismatch;

/// The headers as looked up (names compare case-insensitively, RFC 9110 §5.1; made once,
/// so a lookup does not parse the name) ...
const METHOD_HEADER: HeaderName = HeaderName::from_static("mcp-method");
const NAME_HEADER: HeaderName = HeaderName::from_static("mcp-name");
/// ... and as named in messages.
const MCP_METHOD: &str = "Mcp-Method";
const MCP_NAME: &str = "Mcp-Name";
const PROTOCOL_VERSION: HeaderName = HeaderName::from_static("mcp-protocol-version");
const MCP_PROTOCOL_VERSION: &str = "MCP-Protocol-Version";
/// The first protocol version whose clients must send the headers (SEP-2243).
const FIRST_REQUIRING: &str = "2026-07-28";
/// What a Streamable HTTP client's `Accept` lists beside `application/json`.
const EVENT_STREAM: &str = "text/event-stream";
/// The longest decoded `Mcp-Name` compared; a longer sentinel is malformed.
pub(crate) const MAX_NAME_BYTES: usize = 8 * 1024;
/// How much of a value an error message quotes.
const ECHO_CHARS: usize = 128;
const SENTINEL_PREFIX: &str = "=?base64?";
const SENTINEL_SUFFIX: &str = "?=";

/// What a request's headers claim, taken before its body is read.
#[derive(Debug)]
pub(crate) struct Claimed {
    method: Option<HeaderValue>,
    name: Option<HeaderValue>,
    version: Option<HeaderValue>,
    /// A Streamable HTTP POST whose `MCP-Protocol-Version` is 2026-07-28 or later: the
    /// headers are required.
    required: bool,
}

impl Claimed {
    /// The claim of a request: three header lookups, made once per request.
    pub(crate) fn of(headers: &HeaderMap) -> Self {
        let version = headers.get(PROTOCOL_VERSION).cloned();
        // `Accept` is read only when the version would require the headers.
        let required = version
            .as_ref()
            .and_then(|v| v.to_str().ok())
            .is_some_and(requires_headers)
            && streamable_http(headers);
        Self {
            method: headers.get(METHOD_HEADER).cloned(),
            name: headers.get(NAME_HEADER).cloned(),
            version,
            required,
        }
    }

    /// Whether the headers ask nothing of the body: no standard header, and a request
    /// that does not require them (older clients send none; a request without
    /// `MCP-Protocol-Version` is an older client's; a POST that is not Streamable HTTP's,
    /// see [`streamable_http`]). `MCP-Protocol-Version` alone asks nothing: it is compared
    /// with the body's `_meta` when the body is read for another reason.
    pub(crate) fn is_empty(&self) -> bool {
        self.method.is_none() && self.name.is_none() && !self.required
    }

    /// What the headers announce, as operations: the method, and the tool, prompt or
    /// resource of a `tools/call`, `prompts/get` or `resources/read` (its name decoded as
    /// [`check`](Self::check) decodes it). A hint for the 401 challenge only: the body
    /// decides.
    pub(crate) fn announced(&self) -> Operations {
        let mut ops = Operations::default();
        let Some(method) = self.method.as_ref().and_then(|v| v.to_str().ok()) else {
            return ops;
        };
        ops.methods.insert(method.to_owned());
        let set = match method {
            TOOLS_CALL => &mut ops.tools,
            PROMPTS_GET => &mut ops.prompts,
            RESOURCES_READ => &mut ops.resources,
            _ => return ops,
        };
        if let Some(name) = self.name.as_ref().and_then(|v| decode(v).ok()) {
            set.insert(name.into_owned());
        }
        ops
    }

    /// Checks the claim against what the body holds (`headers`: the request's, for its
    /// `Accept`, read only if needed).
    pub(crate) fn check(
        &self,
        ops: &Operations,
        headers: &HeaderMap,
    ) -> Result<(), HeaderMismatch> {
        let id = || if ops.batch { None } else { ops.id.clone() };
        let fail = |header, message| HeaderMismatch::new(header, id(), message);
        // §Protocol Version Header: the header MUST match the body's `_meta` version, and
        // every Streamable HTTP POST MUST carry it. A body without that `_meta` member is
        // an older client's (or the MCP service's to refuse).
        if !ops.versions.is_empty() {
            match &self.version {
                Some(value) => {
                    let claimed = plain(value).map_err(|why| fail(MCP_PROTOCOL_VERSION, why))?;
                    compare(MCP_PROTOCOL_VERSION, claimed, &ops.versions)
                        .map_err(|m| fail(MCP_PROTOCOL_VERSION, m))?;
                }
                None if streamable_http(headers) => {
                    return Err(fail(MCP_PROTOCOL_VERSION, missing(MCP_PROTOCOL_VERSION)));
                }
                None => {}
            }
        }
        if ops.batch && self.required {
            // §Sending Messages: the body is a single JSON-RPC message, which the headers
            // mirror; a batch cannot match them.
            return Err(fail(
                MCP_METHOD,
                "Header mismatch: the body is a batch; the headers describe one JSON-RPC message"
                    .to_owned(),
            ));
        }
        // §Sending Messages: header requirements for notifications are not defined.
        let required = self.required && (ops.batch || ops.has_id);
        let method = match &self.method {
            Some(value) => {
                let claimed = plain(value).map_err(|why| fail(MCP_METHOD, why))?;
                compare(MCP_METHOD, claimed, &ops.methods).map_err(|m| fail(MCP_METHOD, m))?;
                Some(claimed)
            }
            None if required && !ops.methods.is_empty() => {
                return Err(fail(MCP_METHOD, missing(MCP_METHOD)));
            }
            None => None,
        };
        // The body's own method when the header is absent (an older client).
        let method = method.or_else(|| single(&ops.methods));
        let body_names = match method {
            Some(TOOLS_CALL | PROMPTS_GET) => &ops.names,
            Some(RESOURCES_READ) => &ops.uris,
            _ => return Ok(()),
        };
        match &self.name {
            Some(value) => {
                let claimed = decode(value).map_err(|why| fail(MCP_NAME, why))?;
                compare(MCP_NAME, &claimed, body_names).map_err(|m| fail(MCP_NAME, m))
            }
            None if required => Err(fail(MCP_NAME, missing(MCP_NAME))),
            None => Ok(()),
        }
    }
}

/// The POST is Streamable HTTP's: its `Accept` lists `text/event-stream` (§Sending
/// Messages: a client MUST list `application/json` and `text/event-stream`; media types
/// compare case-insensitively, RFC 9110 §8.3.1; `*/*` is any fetch's default, not this).
/// The standard headers are required on Streamable HTTP POSTs only (§Standard Request
/// Headers; changelog: "on Streamable HTTP POST requests"): the POST endpoint of the
/// deprecated HTTP+SSE transport (2024-11-05) names no `Accept` and no such headers, so
/// a client that negotiated 2026-07-28 over it sends `MCP-Protocol-Version` alone.
/// Headers it does send are still checked.
fn streamable_http(headers: &HeaderMap) -> bool {
    headers.get_all(ACCEPT).any(|value| {
        value.to_str().is_ok_and(|list| {
            list.split(',').any(|range| {
                let media = range.split(';').next().unwrap_or_default();
                media.trim().eq_ignore_ascii_case(EVENT_STREAM)
            })
        })
    })
}

/// Protocol versions are dates (`YYYY-MM-DD`), so they order as strings.
fn requires_headers(version: &str) -> bool {
    let date_like = version.len() == FIRST_REQUIRING.len()
        && version.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    date_like && version >= FIRST_REQUIRING
}

fn single(set: &HashSet<String>) -> Option<&str> {
    let mut values = set.iter();
    match (values.next(), values.next()) {
        (Some(one), None) => Some(one),
        _ => None,
    }
}

/// §Case Sensitivity: values compare exactly. The body must hold this value and no other
/// (a member given twice with two values matches no header).
fn compare(header: &str, claimed: &str, body: &HashSet<String>) -> Result<(), String> {
    let (claimed_echo, n) = (echo(claimed), body.len());
    match single(body) {
        Some(value) if value == claimed => Ok(()),
        Some(value) => Err(format!(
            "Header mismatch: {header} header value '{claimed_echo}' does not match body value '{}'",
            echo(value)
        )),
        None if n == 0 => Err(format!(
            "Header mismatch: {header} header value '{claimed_echo}' has no value in the body"
        )),
        None => Err(format!(
            "Header mismatch: {header} header value '{claimed_echo}' does not match the body's {n} values"
        )),
    }
}

fn missing(header: &str) -> String {
    format!("Header mismatch: the required {header} header is missing")
}

/// A header value of visible ASCII, space and tab only (§Server Validation: "contains
/// invalid characters").
fn plain(value: &HeaderValue) -> Result<&str, String> {
    value
        .to_str()
        .map_err(|_| "Header mismatch: a header value contains invalid characters".to_owned())
}

/// An `Mcp-Name` value, its Base64 sentinel form decoded (§Value Encoding: the markers are
/// case-sensitive, the payload is the Base64 of the UTF-8 value).
fn decode(value: &HeaderValue) -> Result<std::borrow::Cow<'_, str>, String> {
    let value = plain(value)?;
    let Some(rest) = value.strip_prefix(SENTINEL_PREFIX) else {
        return Ok(value.into());
    };
    let bad = |why: &str| format!("Header mismatch: {MCP_NAME} header value {why}");
    let Some(encoded) = rest.strip_suffix(SENTINEL_SUFFIX) else {
        return Err(bad("starts a Base64 sentinel that does not end with '?='"));
    };
    if encoded.len() > MAX_NAME_BYTES.div_ceil(3) * 4 {
        return Err(bad("is longer than this server compares"));
    }
    const ENGINE: GeneralPurpose = GeneralPurpose::new(
        &STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let bytes = ENGINE
        .decode(encoded)
        .map_err(|_| bad("is not valid Base64"))?;
    String::from_utf8(bytes)
        .map(Into::into)
        .map_err(|_| bad("does not decode to UTF-8"))
}

/// At most [`ECHO_CHARS`] characters of a value, for a message.
fn echo(value: &str) -> String {
    match value.char_indices().nth(ECHO_CHARS) {
        Some((cut, _)) => format!("{}...", &value[..cut]),
        None => value.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::HeaderName;

    use super::super::jsonrpc::{BodyLimits, operations};
    use super::*;

    /// The check of a Streamable HTTP POST (its `Accept`) with these headers.
    fn check(headers: &[(&'static str, &str)], body: &str) -> Result<(), HeaderMismatch> {
        let accept = [("accept", "application/json, text/event-stream")];
        check_exactly(&[&accept[..], headers].concat(), body)
    }

    fn check_exactly(headers: &[(&'static str, &str)], body: &str) -> Result<(), HeaderMismatch> {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(
                HeaderName::from_static(name),
                HeaderValue::from_str(value).unwrap_or(HeaderValue::from_static("x")),
            );
        }
        let ops = operations(body.as_bytes(), BodyLimits::default()).unwrap_or_default();
        let claimed = Claimed::of(&map);
        match claimed.is_empty() && ops.versions.is_empty() {
            true => Ok(()),
            false => claimed.check(&ops, &map),
        }
    }

    const CALL: &str =
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_weather"}}"#;
    const NEW: (&str, &str) = ("mcp-protocol-version", "2026-07-28");

    #[test]
    fn matching_headers_pass_and_mismatches_name_both_values() {
        let ok = [("mcp-method", "tools/call"), ("mcp-name", "get_weather")];
        assert_eq!(check(&ok, CALL), Ok(()));
        let err = check(&[("mcp-method", "tools/call"), ("mcp-name", "foo")], CALL);
        let err = err.err().unwrap_or_else(|| panic!("a mismatch"));
        assert_eq!(
            err.message(),
            "Header mismatch: Mcp-Name header value 'foo' does not match body value 'get_weather'"
        );
        assert_eq!(err.id(), Some(&serde_json::json!(1)));
    }

    #[test]
    fn ids_are_echoed_when_short_numbers_or_strings() {
        let h = [("mcp-method", "tools/list")];
        let id_of = |id: &str| {
            let body = format!(r#"{{"id":{id},"method":"tools/call"}}"#);
            check(&h, &body).err().map(|e| e.id().cloned())
        };
        assert_eq!(id_of(r#""abc""#), Some(Some(serde_json::json!("abc"))));
        assert_eq!(id_of("-7"), Some(Some(serde_json::json!(-7))));
        assert_eq!(id_of("null"), Some(None));
        assert_eq!(id_of(r#"{"a":1}"#), Some(None));
        let huge = format!(r#""{}""#, "i".repeat(super::super::id::MAX_ID_BYTES + 1));
        assert_eq!(id_of(&huge), Some(None));
    }

    #[test]
    fn sentinels_decode_and_bad_ones_are_malformed() {
        let body = r#"{"id":"a","method":"prompts/get","params":{"name":"Hello, 世界"}}"#;
        let h = |name| [("mcp-method", "prompts/get"), ("mcp-name", name)];
        assert_eq!(check(&h("=?base64?SGVsbG8sIOS4lueVjA==?="), body), Ok(()));
        assert_eq!(check(&h("=?base64?SGVsbG8sIOS4lueVjA?="), body), Ok(()));
        for bad in ["=?base64?SGVsbG8", "=?base64?!!!?=", "=?base64?/w==?="] {
            assert!(check(&h(bad), body).is_err(), "{bad}");
        }
        let long = format!("=?base64?{}?=", "A".repeat(MAX_NAME_BYTES * 2));
        assert!(check(&h(&long), body).is_err());
    }

    #[test]
    fn required_only_from_2026_07_28_and_for_requests() {
        assert_eq!(check(&[], CALL), Ok(()));
        assert_eq!(
            check(&[("mcp-protocol-version", "2025-11-25")], CALL),
            Ok(())
        );
        assert!(check(&[NEW], CALL).is_err());
        assert!(check(&[("mcp-protocol-version", "2027-01-01")], CALL).is_err());
        assert!(check(&[NEW, ("mcp-method", "tools/call")], CALL).is_err());
        let notification = r#"{"jsonrpc":"2.0","method":"notifications/x"}"#;
        assert_eq!(check(&[NEW], notification), Ok(()));
        assert!(!requires_headers("2026-7-28x"));
    }

    #[test]
    fn required_only_on_streamable_http_posts_and_checked_on_any() {
        let legacy = |accept| [NEW, ("accept", accept)];
        for accept in ["*/*", "application/json", "text/event-streams"] {
            assert_eq!(check_exactly(&legacy(accept), CALL), Ok(()), "{accept}");
        }
        assert_eq!(check_exactly(&[NEW], CALL), Ok(()));
        for accept in [
            "application/json, text/event-stream",
            "Text/Event-Stream;q=0.5,application/json",
        ] {
            assert!(check_exactly(&legacy(accept), CALL).is_err(), "{accept}");
        }
        let two = [
            NEW,
            ("accept", "application/json"),
            ("accept", "text/event-stream"),
        ];
        assert!(check_exactly(&two, CALL).is_err());
        let wrong = [NEW, ("mcp-method", "tools/list")];
        assert!(check_exactly(&wrong, CALL).is_err());
    }

    #[test]
    fn uris_for_resources_and_batches() {
        let read = r#"{"id":2,"method":"resources/read","params":{"uri":"file:///a"}}"#;
        let h = [("mcp-method", "resources/read"), ("mcp-name", "file:///a")];
        assert_eq!(check(&h, read), Ok(()));
        assert!(check(&[h[0], ("mcp-name", "file:///b")], read).is_err());
        let batch = format!("[{CALL},{CALL}]");
        let h = [("mcp-method", "tools/call"), ("mcp-name", "get_weather")];
        assert_eq!(check(&h, &batch), Ok(()));
        assert!(check(&[h[0], h[1], NEW], &batch).is_err());
        let mixed = format!(r#"[{CALL},{{"id":3,"method":"tools/list"}}]"#);
        assert!(check(&h, &mixed).is_err());
    }
}
