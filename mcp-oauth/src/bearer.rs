//! Finding the bearer token in a request: RFC 6750 §2.1 only (OAuth 2.1 §5.1: a query
//! token is ignored; §5.1.2, the form body, is not accepted), or a DPoP-bound token and
//! its proof (RFC 9449 §7.1: `Authorization: DPoP <token>` + one `DPoP` header).
//!
//! Finding is kept apart from judging: this module never looks inside the token.

use std::time::Duration;

use actix_web::dev::ServiceRequest;
use actix_web::http::header::{self, HeaderMap};

use crate::body;

use crate::refusal::{DpopRejection, Refusal, TokenRejection};
use crate::resource::dpop::DpopMode;
use crate::validate::dpop::proof::MAX_PROOF_BYTES;

/// The authorization scheme a token came with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    /// `Bearer` (RFC 6750 §2.1).
    Bearer,
    /// `DPoP` (RFC 9449 §7.1): the token needs a proof.
    Dpop,
}

/// The token of `Authorization: Bearer <token68>` or, unless `mode` is off,
/// `Authorization: DPoP <token68>` (RFC 9449 §7.1, the same token68 syntax), with its
/// scheme. With `mode` required, `Bearer` is not a credential here (401 without error,
/// as another scheme); otherwise as [`bearer_token`].
pub(crate) fn credentials(
    req: &ServiceRequest,
    max_len: usize,
    mode: DpopMode,
) -> Result<(Scheme, &str), Refusal> {
    let accepted: &[(&[u8], Scheme)] = match mode {
        DpopMode::Off => &[(b"bearer", Scheme::Bearer)],
        DpopMode::Allowed => &[(b"bearer", Scheme::Bearer), (b"dpop", Scheme::Dpop)],
        DpopMode::Required => &[(b"dpop", Scheme::Dpop)],
    };
    token_of(req, max_len, accepted)
}

/// The value of the one `DPoP` header (RFC 9449 §4.3 check 1: exactly one), or why there
/// is none: missing, repeated, or not visible ASCII or over the cap (malformed). Read by
/// the resource server and by the test authorization server's token endpoint alike.
pub(crate) fn dpop_proof(headers: &HeaderMap) -> Result<&str, DpopRejection> {
    let mut values = headers.get_all("dpop");
    let Some(value) = values.next() else {
        return Err(DpopRejection::Missing);
    };
    if values.next().is_some() {
        return Err(DpopRejection::Multiple);
    }
    match value.to_str() {
        Ok(proof) if proof.len() <= MAX_PROOF_BYTES => Ok(proof.trim()),
        _ => Err(DpopRejection::Malformed),
    }
}

/// The largest token accepted before any parsing (RFC 8725bis: cap input size).
pub(crate) const DEFAULT_MAX_TOKEN_BYTES: usize = 16 * 1024;

/// Returns the token of `Authorization: Bearer <token68>`.
///
/// - no `Authorization` header, or another scheme: [`Refusal::MissingToken`];
/// - a token in the query (`access_token=`) is never read, never validated and never
///   logged (OAuth 2.1 §5.1): alone it counts as no credentials, beside a header token
///   it is a second method (400);
/// - two `Authorization` headers, an empty token, or characters outside token68: 400;
/// - more than `max_len` bytes: 401 `invalid_token`.
pub(crate) fn bearer_token(req: &ServiceRequest, max_len: usize) -> Result<&str, Refusal> {
    token_of(req, max_len, &[(b"bearer", Scheme::Bearer)]).map(|(_, token)| token)
}

/// The token of the `Authorization` header if its scheme (compared case-insensitively,
/// RFC 9110 §11.1) is one of `accepted`.
fn token_of<'r>(
    req: &'r ServiceRequest,
    max_len: usize,
    accepted: &[(&[u8], Scheme)],
) -> Result<(Scheme, &'r str), Refusal> {
    let mut values = req.headers().get_all(header::AUTHORIZATION);
    let Some(value) = values.next() else {
        return Err(Refusal::MissingToken);
    };
    if values.next().is_some() {
        return Err(Refusal::InvalidRequest(
            "More than one Authorization header",
        ));
    }
    // Bytes, not `to_str()`: the token68 check below is stricter than visible ASCII, and
    // one pass over a token of a few hundred bytes is a measurable share of a cache hit.
    let value = value.as_bytes();
    let (scheme, rest) = match value.iter().position(|b| *b == b' ') {
        Some(i) => (&value[..i], &value[i + 1..]),
        None => (value, &b""[..]),
    };
    let not_visible = || Refusal::InvalidRequest("The Authorization header is not visible ASCII");
    let Some(found) = accepted
        .iter()
        .find(|(name, _)| scheme.eq_ignore_ascii_case(name))
        .map(|(_, s)| *s)
    else {
        if !is_visible_ascii(value) {
            return Err(not_visible());
        }
        // Another scheme (Basic, DPoP when not accepted, ...) is no credential here: 401
        // without error.
        return Err(Refusal::MissingToken);
    };
    // `credentials = "Bearer" 1*SP token68`
    let token = trim_leading_spaces(rest);
    if token.is_empty() {
        return Err(Refusal::InvalidRequest("The bearer token is empty"));
    }
    if token.len() > max_len {
        return Err(Refusal::InvalidToken(TokenRejection::TooLarge));
    }
    let token = match std::str::from_utf8(token) {
        Ok(token) if is_token68(token) => token,
        _ if !is_visible_ascii(token) => return Err(not_visible()),
        _ => {
            return Err(Refusal::InvalidRequest(
                "The bearer token has characters outside token68",
            ));
        }
    };
    if has_query_token(req.query_string()) {
        return Err(Refusal::InvalidRequest(
            "A token was sent by more than one method",
        ));
    }
    Ok((found, token))
}

/// RFC 6750 §2.2: a form-encoded body may carry `access_token`. This server does not accept
/// that method, but a body token beside a header token is two methods in one request:
/// 400 (RFC 6750 §2: one method per request; §3.1).
///
/// Only identity-encoded form bodies are read (a compressed one is handed on as sent: the
/// token it might carry is never used), at most `cap` bytes within `timeout`; a longer
/// form is checked over the pairs read so far and streamed on whole, never refused for
/// its size. The body reaches the service exactly as sent.
pub(crate) async fn reject_form_body_token(
    req: &mut ServiceRequest,
    cap: usize,
    timeout: Duration,
) -> Result<(), Refusal> {
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.split(';').next().is_some_and(|m| {
                m.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            })
        });
    if !is_form || body::is_encoded(req) {
        return Ok(());
    }
    let head = body::read_head(req, cap, timeout, |_| false).await?;
    // A truncated form is judged on its whole pairs: a key is complete once `&` follows.
    let pairs = match head.complete {
        true => &head.bytes[..],
        false => {
            let end = head.bytes.iter().rposition(|b| *b == b'&').unwrap_or(0);
            &head.bytes[..end]
        }
    };
    if url::form_urlencoded::parse(pairs).any(|(k, _)| k == "access_token") {
        Err(Refusal::InvalidRequest(
            "A token was sent by more than one method",
        ))
    } else {
        Ok(())
    }
}

/// `token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`
/// What `HeaderValue::to_str` accepts: visible ASCII, space and tab.
fn is_visible_ascii(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .all(|b| (0x20..0x7f).contains(b) || *b == b'\t')
}

fn trim_leading_spaces(bytes: &[u8]) -> &[u8] {
    let spaces = bytes.iter().take_while(|b| **b == b' ').count();
    &bytes[spaces..]
}

/// `token68` characters (RFC 7235 §2.1), `=` padding aside.
const TOKEN68: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] =
            c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~' | b'+' | b'/');
        b += 1;
    }
    table
};

fn is_token68(token: &str) -> bool {
    let body = token.trim_end_matches('=').as_bytes();
    // A branch-free fold over a table: no early exit, but no per-byte branch either, and
    // a valid token (the common case) is read to the end anyway.
    !body.is_empty()
        && body
            .iter()
            .fold(true, |ok, b| ok & TOKEN68[usize::from(*b)])
}

/// Is there an `access_token` parameter in the query? Only its presence is read.
fn has_query_token(query: &str) -> bool {
    // Decoded as the application would decode it, so `access%5Ftoken` counts too.
    !query.is_empty()
        && url::form_urlencoded::parse(query.as_bytes()).any(|(k, _)| k == "access_token")
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn extract(req: TestRequest) -> Result<String, Refusal> {
        let req = req.to_srv_request();
        bearer_token(&req, 64).map(str::to_owned)
    }

    #[test]
    fn bearer_scheme_is_case_insensitive() {
        for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
            let r = TestRequest::default()
                .insert_header(("authorization", format!("{scheme} abc.def-_~+/=")));
            assert_eq!(extract(r).unwrap(), "abc.def-_~+/=");
        }
    }

    #[test]
    fn other_schemes_count_as_no_credentials() {
        let r = TestRequest::default().insert_header(("authorization", "Basic dXNlcjpwYXNz"));
        assert_eq!(extract(r), Err(Refusal::MissingToken));
        let r = TestRequest::default().insert_header(("authorization", "Bearertoken"));
        assert_eq!(extract(r), Err(Refusal::MissingToken));
    }

    #[test]
    fn malformed_bearer_credentials_are_invalid_requests() {
        for value in [
            "Bearer",
            "Bearer ",
            "Bearer a b",
            "Bearer a\"b",
            "Bearer ==",
            "Bearer a=b",
        ] {
            let r = TestRequest::default().insert_header(("authorization", value));
            assert_eq!(extract(r).unwrap_err().status().as_u16(), 400, "{value}");
        }
    }

    #[test]
    fn query_token_alone_is_no_credentials_and_beside_a_header_is_two_methods() {
        let r = TestRequest::with_uri("/mcp?access_token=abc");
        assert_eq!(extract(r), Err(Refusal::MissingToken));
        let r = TestRequest::with_uri("/mcp?x=1&access%5Ftoken=abc")
            .insert_header(("authorization", "Bearer abc"));
        assert_eq!(extract(r).unwrap_err().status().as_u16(), 400);
    }

    #[test]
    fn oversized_tokens_are_rejected_before_parsing() {
        let r = TestRequest::default()
            .insert_header(("authorization", format!("Bearer {}", "a".repeat(65))));
        assert_eq!(
            extract(r),
            Err(Refusal::InvalidToken(TokenRejection::TooLarge))
        );
    }

    const CAP: usize = 1024;
    const WAIT: Duration = Duration::from_secs(5);

    fn form(body: impl Into<actix_web::web::Bytes>) -> ServiceRequest {
        TestRequest::post()
            .insert_header((
                "content-type",
                "application/x-www-form-urlencoded; charset=utf-8",
            ))
            .insert_header(("authorization", "Bearer abc"))
            .set_payload(body)
            .to_srv_request()
    }

    #[actix_web::test]
    async fn a_form_body_token_beside_a_header_token_is_two_methods() {
        let mut req = form("a=1&access_token=xyz");
        let err = reject_form_body_token(&mut req, CAP, WAIT)
            .await
            .unwrap_err();
        assert_eq!(err.status().as_u16(), 400);
        let mut req = form("a=1&access%5Ftoken=xyz");
        assert!(reject_form_body_token(&mut req, CAP, WAIT).await.is_err());
    }

    #[actix_web::test]
    async fn a_form_longer_than_the_cap_is_checked_on_its_head_and_passed_whole() {
        let long = format!("access_token=x&pad={}", "p".repeat(10 * CAP));
        let mut req = form(long.clone());
        assert!(reject_form_body_token(&mut req, CAP, WAIT).await.is_err());
        let long = format!("pad={}&b=2", "p".repeat(10 * CAP));
        let mut req = form(long.clone());
        reject_form_body_token(&mut req, CAP, WAIT).await.unwrap();
        let body = req.extract::<actix_web::web::Bytes>().await.unwrap();
        assert_eq!(&body[..], long.as_bytes());
    }

    #[actix_web::test]
    async fn a_compressed_form_is_handed_on_unread() {
        // Its bytes are not form pairs until decompressed: reading them as pairs would
        // find nothing (or garbage), so they are not read at all.
        let mut req = TestRequest::post()
            .insert_header(("content-type", "application/x-www-form-urlencoded"))
            .insert_header(("content-encoding", "br"))
            .insert_header(("authorization", "Bearer abc"))
            .set_payload("access_token=xyz")
            .to_srv_request();
        assert!(reject_form_body_token(&mut req, CAP, WAIT).await.is_ok());
    }

    #[actix_web::test]
    async fn a_form_body_without_token_is_handed_on_intact() {
        let mut req = form("a=1&b=2");
        reject_form_body_token(&mut req, CAP, WAIT).await.unwrap();
        let body = req.extract::<actix_web::web::Bytes>().await.unwrap();
        assert_eq!(&body[..], b"a=1&b=2");
    }
}
