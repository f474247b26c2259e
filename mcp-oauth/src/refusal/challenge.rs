//! The only writer of `WWW-Authenticate` (RFC 6750 §3, RFC 9728 §5.1).
//!
//! One `Bearer` challenge, comma-separated auth-params, each at most once, values always
//! quoted and restricted to the character sets RFC 6750 §3 allows. The parameter order is
//! that of the specifications' examples: `error`, `error_description` (RFC 6750 §3), then
//! `resource_metadata`, `scope` (MCP 2025-11-25 authorization §Protected Resource Metadata
//! Discovery Requirements); a 403 as in §Runtime Insufficient Scope Errors (`error`,
//! `scope`, `resource_metadata`, `error_description`).
//!
//! With DPoP (RFC 9449 §7.1) a `DPoP` challenge names the proof algorithms (`algs`) and
//! `resource_metadata`: in place of the `Bearer` one when DPoP is required; when both
//! schemes are accepted (RFC 9449 §7.2), every 401 has both, `Bearer` first (a second
//! header field, RFC 9110 §11.6.1), the `error` in the challenge of the scheme the
//! credentials came with (a proof's fault is always the `DPoP` scheme's). Clients that
//! read only the first challenge see what they saw without DPoP.
//!
//! [`BearerChallenge`] implements actix-web-httpauth's `Challenge`, so it goes out
//! through that crate's `WwwAuthenticate` header type; it exists because that crate's own
//! `Bearer` challenge has no `resource_metadata` parameter (RFC 9728 §5.1).

use std::convert::Infallible;
use std::fmt;

use actix_web::http::header::{HeaderValue, TryIntoHeaderValue};
use actix_web::web::Bytes;
use actix_web_httpauth::headers::www_authenticate::Challenge;

use actix_web::http::StatusCode;

use super::Refusal;
#[cfg(test)]
use super::TokenRejection;
use crate::resource::ProtectedResource;
use crate::resource::dpop::DpopMode;
use crate::scope;

/// What a challenge without any parameter says instead: a bare `Bearer` is not a valid
/// challenge (RFC 7235 §2.1 allows it; RFC 6750 §3 asks for one or more auth-params).
const FALLBACK: &str = "Bearer realm=\"mcp\"";

/// One `Bearer` challenge, rendered once: visible ASCII and spaces only, so it is always
/// a valid header value (every parameter value passes [`sanitize_description`] or the
/// scope-token grammar).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BearerChallenge(HeaderValue);

impl BearerChallenge {
    /// The challenge for `refusal`. `resource` is `None` only for a refusal that was
    /// rendered without the middleware (then there is no metadata URL to name).
    ///
    /// `request_scopes` is what this request needs when that is more than the global
    /// scopes (e.g. a `tools/call` of a guarded tool): a 401 names it so the client can ask
    /// for the right scopes up front.
    pub(crate) fn new(
        refusal: &Refusal,
        resource: Option<&ProtectedResource>,
        request_scopes: Option<&[String]>,
    ) -> Self {
        Self::of_scheme(Scheme::Bearer, refusal, resource, request_scopes)
    }

    /// The challenges for `refusal`, in the order they are sent. With DPoP off, one
    /// `Bearer` challenge; required, one `DPoP` challenge. With both schemes accepted
    /// (RFC 9449 §7.2), a 401 carries both: the scheme the credentials came with
    /// (`dpop_presented`) names the error, the other stays bare so the client learns it
    /// may use it; other refusals carry the presented scheme's challenge alone.
    pub(crate) fn all(
        refusal: &Refusal,
        resource: Option<&ProtectedResource>,
        request_scopes: Option<&[String]>,
        dpop_presented: bool,
    ) -> Vec<Self> {
        let Some(dpop) = resource.map(|r| r.dpop()) else {
            return vec![Self::new(refusal, resource, request_scopes)];
        };
        let algs = dpop.algs();
        let dpop_scheme = Scheme::Dpop(&algs);
        let of =
            |scheme, refusal: &Refusal| Self::of_scheme(scheme, refusal, resource, request_scopes);
        // A proof problem is the DPoP scheme's, whatever the token came with.
        let on_dpop = dpop_presented
            || matches!(
                refusal,
                Refusal::InvalidDpopProof(_) | Refusal::UseDpopNonce { .. }
            );
        match dpop.mode {
            DpopMode::Off => vec![of(Scheme::Bearer, refusal)],
            DpopMode::Required => vec![of(dpop_scheme, refusal)],
            DpopMode::Allowed if refusal.status() != StatusCode::UNAUTHORIZED => {
                vec![of(
                    if on_dpop { dpop_scheme } else { Scheme::Bearer },
                    refusal,
                )]
            }
            DpopMode::Allowed if on_dpop => vec![
                of(Scheme::Bearer, &Refusal::MissingToken),
                of(dpop_scheme, refusal),
            ],
            DpopMode::Allowed => vec![
                of(Scheme::Bearer, refusal),
                of(dpop_scheme, &Refusal::MissingToken),
            ],
        }
    }

    fn of_scheme(
        scheme: Scheme<'_>,
        refusal: &Refusal,
        resource: Option<&ProtectedResource>,
        request_scopes: Option<&[String]>,
    ) -> Self {
        let metadata = resource.map(|r| r.metadata_url());
        let global: &[String] = resource.map(|r| r.required_scopes()).unwrap_or(&[]);
        let needed = request_scopes.unwrap_or(global);
        let mut params = Params::new(scheme);
        match refusal {
            // RFC 6750 §3.1: no error information when the request had no credentials.
            Refusal::MissingToken | Refusal::Unavailable(_) | Refusal::Overloaded { .. } => {
                params.push("resource_metadata", metadata);
                params.push_scope(needed.iter());
            }
            Refusal::InvalidToken(_)
            | Refusal::InvalidDpopProof(_)
            | Refusal::UseDpopNonce { .. } => {
                params.push("error", refusal.error_code());
                params.push("error_description", Some(&*refusal.description()));
                params.push("resource_metadata", metadata);
                params.push_scope(needed.iter());
            }
            Refusal::InsufficientScope { required, granted } => {
                // Required ∪ granted-and-relevant (MCP 2025-11-25 authorization §Runtime
                // Insufficient Scope Errors, the recommended approach): valid under
                // 2025-11-25 and 2026-07-28, and never asks the client to drop what it
                // already holds.
                let relevant = granted
                    .iter()
                    .filter(|s| resource.is_some_and(|r| r.knows_scope(s)) || global.contains(s));
                params.push("error", refusal.error_code());
                params.push_scope(required.iter().chain(relevant));
                params.push("resource_metadata", metadata);
                params.push("error_description", Some(&*refusal.description()));
            }
            Refusal::InvalidRequest(_) => {
                params.push("error", refusal.error_code());
                params.push("error_description", Some(&*refusal.description()));
                params.push("resource_metadata", metadata);
            }
            Refusal::PayloadTooLarge
            | Refusal::MalformedMcpBody(_)
            | Refusal::HeaderMismatch(_)
            | Refusal::UnsupportedEncoding
            | Refusal::BodyTimeout
            | Refusal::RateLimited { .. }
            | Refusal::MiddlewareNotInstalled => {}
        }
        Self(params.finish())
    }

    /// The header value, as sent.
    pub(crate) fn into_value(self) -> HeaderValue {
        self.0
    }
}

impl fmt::Display for BearerChallenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Visible ASCII by construction; the fallback is never reached.
        f.write_str(self.0.to_str().unwrap_or(FALLBACK))
    }
}

impl TryIntoHeaderValue for BearerChallenge {
    /// Rendering cannot fail: the value was made valid when the challenge was built.
    type Error = Infallible;

    fn try_into_value(self) -> Result<HeaderValue, Self::Error> {
        Ok(self.0)
    }
}

impl Challenge for BearerChallenge {
    fn to_bytes(&self) -> Bytes {
        Bytes::copy_from_slice(self.0.as_bytes())
    }
}

/// The auth-scheme of a challenge.
#[derive(Clone, Copy)]
enum Scheme<'a> {
    Bearer,
    /// `DPoP`, with its `algs` (RFC 9449 §7.1).
    Dpop(&'a str),
}

struct Params {
    scheme: &'static str,
    out: String,
}

impl Params {
    fn new(scheme: Scheme<'_>) -> Self {
        match scheme {
            Scheme::Bearer => Self {
                scheme: "Bearer ",
                out: String::new(),
            },
            Scheme::Dpop(algs) => {
                let mut params = Self {
                    scheme: "DPoP ",
                    out: String::new(),
                };
                params.push("algs", Some(algs));
                params
            }
        }
    }

    fn push(&mut self, name: &str, value: Option<&str>) {
        let Some(value) = value else { return };
        self.out.push_str(if self.out.is_empty() {
            self.scheme
        } else {
            ", "
        });
        self.out.push_str(name);
        self.out.push_str("=\"");
        self.out.push_str(&sanitize_description(value));
        self.out.push('"');
    }

    /// `scope`: unique, well-formed scope tokens in first-seen order; omitted when empty.
    fn push_scope<'a>(&mut self, scopes: impl Iterator<Item = &'a String>) {
        let mut seen: Vec<&str> = Vec::new();
        for s in scopes {
            if scope::is_scope_token(s) && !seen.contains(&s.as_str()) {
                seen.push(s);
            }
        }
        if !seen.is_empty() {
            self.push("scope", Some(&seen.join(" ")));
        }
    }

    fn finish(self) -> HeaderValue {
        // A bare `Bearer` is not a valid challenge (RFC 6750 §3: one or more auth-params);
        // every path above pushes at least one parameter when a resource is known.
        // Without one, name the realm.
        if self.out.is_empty() {
            return HeaderValue::from_static(FALLBACK);
        }
        HeaderValue::try_from(self.out).unwrap_or_else(|_| HeaderValue::from_static(FALLBACK))
    }
}

/// Restricts text to the quoted-string charset RFC 6750 §3 allows for
/// `error_description` (`%x20-21 / %x23-5B / %x5D-7E`): `"`, `\`, control and
/// non-ASCII characters become `'`, space, or are dropped. Also used for the JSON body,
/// so both say the same thing.
pub(crate) fn sanitize_description(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().take(256) {
        match c {
            '"' => out.push('\''),
            '\\' => out.push('/'),
            ' '..='~' => out.push(c),
            c if c.is_whitespace() => out.push(' '),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_lose_quotes_backslashes_and_control_characters() {
        assert_eq!(sanitize_description("a\"b\\c\r\nd\u{7f}é"), "a'b/c  d");
    }

    #[test]
    fn challenge_without_resource_still_has_a_parameter() {
        let v = BearerChallenge::new(&Refusal::MissingToken, None, None).into_value();
        assert_eq!(v.to_str().unwrap(), "Bearer realm=\"mcp\"");
        let r = Refusal::InvalidToken(TokenRejection::Expired);
        let v = BearerChallenge::new(&r, None, None).into_value();
        assert_eq!(
            v.to_str().unwrap(),
            "Bearer error=\"invalid_token\", error_description=\"The access token expired\""
        );
    }

    #[test]
    fn custom_rejection_text_is_sanitised_in_the_challenge() {
        let r = Refusal::InvalidToken(TokenRejection::Other("bad \"quote\"\n".into()));
        let v = BearerChallenge::new(&r, None, None).into_value();
        assert_eq!(
            v.to_str().unwrap(),
            "Bearer error=\"invalid_token\", error_description=\"bad 'quote' \""
        );
    }

    #[test]
    fn every_rendering_of_the_challenge_is_the_same_text() {
        use actix_web::HttpResponse;
        use actix_web_httpauth::headers::www_authenticate::WwwAuthenticate;

        let r = Refusal::InvalidToken(TokenRejection::Expired);
        let challenge = BearerChallenge::new(&r, None, None);
        let text = r#"Bearer error="invalid_token", error_description="The access token expired""#;
        assert_eq!(challenge.to_string(), text);
        assert_eq!(&challenge.to_bytes()[..], text.as_bytes());
        let res = HttpResponse::Unauthorized()
            .insert_header(WwwAuthenticate(challenge.clone()))
            .finish();
        assert_eq!(res.headers().get("www-authenticate").unwrap(), text);
        assert_eq!(challenge.into_value(), text);
    }
}
