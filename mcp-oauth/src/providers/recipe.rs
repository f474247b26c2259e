//! What a preset makes of its variables: a [`Recipe`] (one authorization server and how
//! its tokens are judged), read through [`Settings`], which records every problem with
//! the variable it is about instead of stopping at the first.

use jsonwebtoken::Algorithm;

use crate::url_policy::secure_url;
use crate::validate::profile::ClaimRules;
use crate::validate::router::Validation;

/// One provider's authorization server, as its variables describe it.
#[derive(Debug, Clone)]
pub(crate) struct Recipe {
    /// The issuer identifier, code point for code point what the provider's tokens say.
    pub(crate) issuer: String,
    /// The provider's documented JWKS URL (`None`: the metadata's `jwks_uri`).
    pub(crate) jwks_uri: Option<String>,
    /// The algorithms the provider signs with (`None`: the builder's defaults).
    pub(crate) algorithms: Option<&'static [Algorithm]>,
    /// Audiences accepted besides the resource, each from a variable the user set.
    pub(crate) audiences: Vec<String>,
    /// The provider's own claim rules.
    pub(crate) rules: ClaimRules,
    /// The strategy the provider's tokens need (`None`: the builder's, `jwt` by default).
    pub(crate) validation: Option<Validation>,
    /// The provider never types its access tokens `at+jwt` (RFC 9068 §2.1): `TypPolicy::
    /// Strict` would refuse them all.
    pub(crate) never_at_jwt: bool,
}

impl Recipe {
    /// A JWT issuer with its keys at `jwks_uri`, judged by the shared rules only.
    pub(crate) fn jwt(issuer: String, jwks_uri: String, algorithms: &'static [Algorithm]) -> Self {
        Self {
            issuer,
            jwks_uri: Some(jwks_uri),
            algorithms: Some(algorithms),
            audiences: Vec::new(),
            rules: ClaimRules::default(),
            validation: None,
            never_at_jwt: false,
        }
    }
}

/// The variables of one provider, read one by one; problems are kept, by variable.
pub(crate) struct Settings<'a> {
    provider: &'static str,
    read: &'a mut dyn FnMut(&'static str) -> Option<String>,
    pub(crate) problems: Vec<(&'static str, String)>,
}

impl<'a> Settings<'a> {
    /// `read` returns a variable's value (`None`: unset or blank).
    pub(crate) fn new(
        provider: &'static str,
        read: &'a mut dyn FnMut(&'static str) -> Option<String>,
    ) -> Self {
        Self {
            provider,
            read,
            problems: Vec::new(),
        }
    }

    pub(crate) fn problem(&mut self, name: &'static str, message: String) {
        self.problems.push((name, message));
    }

    pub(crate) fn optional(&mut self, name: &'static str) -> Option<String> {
        (self.read)(name)
    }

    /// A variable the preset cannot do without: a problem naming it when unset.
    pub(crate) fn required(&mut self, name: &'static str, what: &str) -> Option<String> {
        let value = self.optional(name);
        if value.is_none() {
            let message = format!("required by MCP_OAUTH_PROVIDER={}: {what}", self.provider);
            self.problem(name, message);
        }
        value
    }

    /// A list separated by spaces and/or commas.
    pub(crate) fn list(&mut self, value: Option<String>) -> Vec<String> {
        value
            .unwrap_or_default()
            .split([' ', ',', '\t', '\n'])
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// Where a provider lives: a host name (`tenant.us.auth0.com`, made
    /// `https://tenant.us.auth0.com`) or an absolute URL, `https` or `http` on a loopback
    /// host only (OAuth 2.1 §1.5; a test server on 127.0.0.1, a sovereign cloud), with a
    /// path only where `with_path`, and no query. The result has no terminating `/`.
    pub(crate) fn origin(
        &mut self,
        name: &'static str,
        value: &str,
        with_path: bool,
    ) -> Option<String> {
        if value.contains("://") {
            let url = match secure_url(value) {
                Ok(url) => url,
                Err(e) => {
                    self.problem(name, e);
                    return None;
                }
            };
            if url.query().is_some() || (!with_path && url.path() != "/") {
                let allowed = if with_path { "no query" } else { "no path" };
                self.problem(name, format!("`{value}`: {allowed} is allowed here"));
                return None;
            }
            return Some(value.trim_end_matches('/').to_owned());
        }
        let (host, port) = value.split_once(':').unwrap_or((value, ""));
        let host_ok = !host.is_empty()
            && !host.starts_with(['.', '-'])
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
        let port_ok = value.find(':').is_none()
            || (!port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit()));
        if host_ok && port_ok {
            Some(format!("https://{value}"))
        } else {
            self.problem(
                name,
                format!("`{value}` is neither a host name nor an https URL"),
            );
            None
        }
    }

    /// A path segment of an issuer (a tenant, realm, pool or project id): letters,
    /// digits and `-._~`, not `.` or `..`.
    pub(crate) fn segment(&mut self, name: &'static str, value: &str) -> Option<String> {
        let ok = !value.is_empty()
            && value != "."
            && value != ".."
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
        if ok {
            Some(value.to_owned())
        } else {
            self.problem(
                name,
                format!("`{value}` is not an identifier (letters, digits, -._~)"),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(value: &str, with_path: bool) -> Result<String, String> {
        let mut read = |_: &'static str| None;
        let mut s = Settings::new("test", &mut read);
        s.origin("MCP_OAUTH_X", value, with_path)
            .ok_or_else(|| s.problems[0].1.clone())
    }

    #[test]
    fn an_origin_is_a_host_or_a_secure_url() {
        assert_eq!(
            origin("t.us.auth0.com", false).as_deref(),
            Ok("https://t.us.auth0.com")
        );
        assert_eq!(
            origin("https://t.example/", false).as_deref(),
            Ok("https://t.example")
        );
        assert_eq!(
            origin("http://127.0.0.1:9/", false).as_deref(),
            Ok("http://127.0.0.1:9")
        );
        assert_eq!(
            origin("https://sso.example/auth", true).as_deref(),
            Ok("https://sso.example/auth")
        );
        for bad in [
            "http://t.example",
            "https://t.example/x",
            "https://t.example/?q",
            "t.example/x",
            "",
            "-x",
            "t.example:port",
        ] {
            assert!(origin(bad, false).is_err(), "{bad}");
        }
    }
}
