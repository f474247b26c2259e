//! The `introspection` strategy: RFC 7662 token introspection, as a client of the
//! authorization server (spec-checklist §5).
//!
//! The request is a form POST of `token` and `token_type_hint=access_token`,
//! authenticated with `client_secret_basic` (id and secret form-urlencoded before base64,
//! RFC 6749 §2.3.1) or `client_secret_post`. The answer is trusted only when `active` is
//! the boolean `true`; then `iss`, `aud`, `exp`, `nbf`, `iat` and `token_type` are
//! checked as for a JWT. Anything the authorization server fails to answer (an error
//! status, our credentials refused, a timeout, a body that is not JSON) is a 503: the
//! token may well be good, and a 401 would send the client to re-authorize in a loop.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

use crate::checks::{self, Expiry};
use crate::claims::VerifiedClaims;
use crate::config::Secret;
use crate::discovery::Discovery;
use crate::http::{self, FetchError, HttpLimits};
use crate::refusal::{Refusal, TokenRejection};

/// How this server authenticates to the introspection endpoint (RFC 7662 §2.1 requires
/// that it does). (`MCP_OAUTH_INTROSPECTION_AUTH_METHOD`)
///
/// ```
/// use mcp_oauth::ClientAuthMethod;
///
/// assert_eq!(ClientAuthMethod::default(), ClientAuthMethod::ClientSecretBasic);
/// assert_eq!("client_secret_post".parse(), Ok(ClientAuthMethod::ClientSecretPost));
/// assert_eq!(ClientAuthMethod::ClientSecretPost.as_str(), "client_secret_post");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ClientAuthMethod {
    /// HTTP Basic with the form-urlencoded client id and secret (RFC 6749 §2.3.1).
    #[default]
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the form body.
    ClientSecretPost,
}

impl ClientAuthMethod {
    /// The RFC 8414 name, as in `introspection_endpoint_auth_methods_supported`.
    ///
    /// ```
    /// assert_eq!(mcp_oauth::ClientAuthMethod::default().as_str(), "client_secret_basic");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
        }
    }
}

impl std::str::FromStr for ClientAuthMethod {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "client_secret_basic" => Ok(Self::ClientSecretBasic),
            "client_secret_post" => Ok(Self::ClientSecretPost),
            _ => Err(format!(
                "`{s}` is neither `client_secret_basic` nor `client_secret_post`"
            )),
        }
    }
}

/// The credentials this server introspects with.
#[derive(Debug, Clone)]
pub(crate) struct ClientCredentials {
    pub(crate) id: String,
    pub(crate) secret: Secret,
    pub(crate) method: ClientAuthMethod,
}

impl ClientCredentials {
    fn basic_header(&self) -> String {
        let encode = |bytes: &[u8]| url::form_urlencoded::byte_serialize(bytes).collect::<String>();
        let pair = format!("{}:{}", encode(self.id.as_bytes()), encode(&self.secret.0));
        format!("Basic {}", STANDARD.encode(pair))
    }
}

/// One issuer's introspection endpoint and what its answers must say.
#[derive(Debug)]
pub(crate) struct Introspector {
    pub(crate) issuer: String,
    pub(crate) endpoint: Option<String>,
    pub(crate) discovery: Arc<Discovery>,
    pub(crate) client: ClientCredentials,
    pub(crate) audiences: Vec<String>,
    pub(crate) leeway_secs: u64,
    pub(crate) scope_claim: Option<String>,
    pub(crate) limits: HttpLimits,
}

impl Introspector {
    async fn endpoint(&self) -> Result<String, Refusal> {
        if let Some(configured) = &self.endpoint {
            return Ok(configured.clone());
        }
        self.discovery
            .metadata()
            .await?
            .introspection_endpoint
            .clone()
            .ok_or_else(|| {
                Refusal::Unavailable(format!(
                    "the authorization server {} has no usable introspection_endpoint",
                    self.issuer
                ))
            })
    }

    pub(crate) async fn introspect(&self, token: &str) -> Result<VerifiedClaims, Refusal> {
        let endpoint = self.endpoint().await?;
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("token", token)
            .append_pair("token_type_hint", "access_token");
        let authorization = match self.client.method {
            ClientAuthMethod::ClientSecretBasic => Some(self.client.basic_header()),
            ClientAuthMethod::ClientSecretPost => {
                form.append_pair("client_id", &self.client.id).append_pair(
                    "client_secret",
                    &String::from_utf8_lossy(&self.client.secret.0),
                );
                None
            }
        };
        let answer = http::post_form(&endpoint, form.finish(), authorization.as_deref(), self.limits)
            .await
            .map_err(|e| {
                let why = match e {
                    FetchError::Status(401 | 403) => {
                        "our client credentials were refused (check MCP_OAUTH_INTROSPECTION_CLIENT_ID and _SECRET)".to_owned()
                    }
                    other => other.to_string(),
                };
                tracing::error!(target: "mcp_oauth", endpoint = %endpoint, "introspection failed: {why}");
                Refusal::Unavailable(format!("introspection at {endpoint} failed: {why}"))
            })?;
        let doc: Map<String, Value> = serde_json::from_slice(&answer.body).map_err(|_| {
            tracing::error!(target: "mcp_oauth", endpoint = %endpoint, "introspection answer is not a JSON object");
            Refusal::Unavailable(format!("introspection at {endpoint} answered something that is not JSON"))
        })?;
        self.judge(doc)
    }

    /// RFC 7662 §2.2 and spec-checklist §5.3-5.6 on an answer.
    fn judge(&self, mut doc: Map<String, Value>) -> Result<VerifiedClaims, Refusal> {
        let inactive = Refusal::InvalidToken(TokenRejection::Inactive);
        match doc.remove("active") {
            Some(Value::Bool(true)) => {}
            Some(Value::Bool(false)) => return Err(inactive),
            // Fail closed: a missing `active`, `"true"` or `1` is not an active token.
            other => {
                tracing::warn!(target: "mcp_oauth", issuer = %self.issuer, active = ?other, "introspection answer has no boolean `active`; treated as inactive");
                return Err(inactive);
            }
        }
        match doc.get("iss") {
            None => {
                doc.insert("iss".into(), Value::String(self.issuer.clone()));
            }
            Some(Value::String(iss)) if *iss == self.issuer => {}
            Some(_) => return Err(Refusal::InvalidToken(TokenRejection::WrongIssuer)),
        }
        checks::audience(&doc, &self.audiences)?;
        checks::times(&doc, self.leeway_secs, Expiry::Optional)?;
        if let Some(kind) = doc.get("token_type")
            && !kind.as_str().is_some_and(is_access_token_type)
        {
            return Err(Refusal::InvalidToken(TokenRejection::WrongType));
        }
        Ok(VerifiedClaims::from_claims_with_scope_claim(
            doc,
            self.scope_claim.as_deref(),
        ))
    }
}

/// `token_type` names a bearer access token (RFC 6749 §7.1; RFC 8693 §3 URIs; some
/// servers use `access_token`). Refresh tokens and proof-of-possession types are not.
fn is_access_token_type(kind: &str) -> bool {
    let lower = kind.to_ascii_lowercase();
    matches!(
        lower.as_str(),
        "bearer" | "access_token" | "urn:ietf:params:oauth:token-type:access_token"
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::report::Strictness;

    fn introspector() -> Introspector {
        let issuer = "https://as.example.com".to_owned();
        Introspector {
            discovery: Arc::new(Discovery::new(
                issuer.clone(),
                Default::default(),
                Strictness::Standard,
                crate::jwks::JwksSettings::default().limits,
            )),
            issuer,
            endpoint: Some("https://as.example.com/introspect".into()),
            client: ClientCredentials {
                id: "rs:1".into(),
                secret: Secret(b"p%s w".to_vec()),
                method: ClientAuthMethod::ClientSecretBasic,
            },
            audiences: vec!["https://mcp.example.com/mcp".into()],
            leeway_secs: 60,
            scope_claim: None,
            limits: crate::jwks::JwksSettings::default().limits,
        }
    }

    fn judge(v: Value) -> Result<VerifiedClaims, Refusal> {
        introspector().judge(v.as_object().cloned().unwrap_or_default())
    }

    #[test]
    fn basic_credentials_are_form_urlencoded_before_base64() {
        let header = introspector().client.basic_header();
        let decoded = STANDARD
            .decode(header.trim_start_matches("Basic "))
            .unwrap();
        assert_eq!(decoded, b"rs%3A1:p%25s+w");
    }

    #[test]
    fn only_a_boolean_true_active_is_active() {
        let aud = "https://mcp.example.com/mcp";
        assert!(judge(json!({"active": true, "aud": aud})).is_ok());
        for active in [json!(false), json!("true"), json!(1), json!(null)] {
            assert_eq!(
                judge(json!({"active": active, "aud": aud})),
                Err(Refusal::InvalidToken(TokenRejection::Inactive)),
                "{active}"
            );
        }
        assert_eq!(
            judge(json!({"aud": aud})),
            Err(Refusal::InvalidToken(TokenRejection::Inactive))
        );
    }

    #[test]
    fn an_active_answer_is_still_checked() {
        let aud = "https://mcp.example.com/mcp";
        let refused = |v: Value| judge(v).unwrap_err();
        assert_eq!(
            refused(json!({"active": true})),
            Refusal::InvalidToken(TokenRejection::MissingAudience)
        );
        assert_eq!(
            refused(json!({"active": true, "aud": "https://other.example.com"})),
            Refusal::InvalidToken(TokenRejection::WrongAudience)
        );
        assert_eq!(
            refused(json!({"active": true, "aud": aud, "iss": "https://evil.example.com"})),
            Refusal::InvalidToken(TokenRejection::WrongIssuer)
        );
        assert_eq!(
            refused(json!({"active": true, "aud": aud, "exp": 1_000})),
            Refusal::InvalidToken(TokenRejection::Expired)
        );
        assert_eq!(
            refused(json!({"active": true, "aud": aud, "token_type": "refresh_token"})),
            Refusal::InvalidToken(TokenRejection::WrongType)
        );
        let ok = judge(
            json!({"active": true, "aud": aud, "token_type": "Bearer", "scope": "a b", "sub": "u"}),
        )
        .unwrap();
        assert_eq!(ok.scopes(), ["a", "b"]);
        assert_eq!(ok.issuer(), Some("https://as.example.com"));
        assert!(!ok.claims().contains_key("active"));
    }
}
