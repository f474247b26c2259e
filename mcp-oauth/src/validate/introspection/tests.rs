//! Unit tests of [`super`].

use serde_json::json;

use super::*;
use crate::discovery::report::Strictness;

fn introspector() -> Introspector {
    let issuer = "https://as.example.com".to_owned();
    Introspector {
        discovery: Arc::new(Discovery::new(
            issuer.clone(),
            Default::default(),
            Strictness::Standard,
            crate::validate::jwks::JwksSettings::default().limits,
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
        rules: Default::default(),
        limits: crate::validate::jwks::JwksSettings::default().limits,
        prefixes: Vec::new(),
        refused: None,
        calls: CallLimit::new(DEFAULT_MAX_CONCURRENT),
        shared: None,
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

#[test]
fn an_error_answer_is_a_refusal_of_the_token_only_when_a_400_says_so() {
    let refused = ErrorAnswer::TokenRefused;
    let json = |v: Value| v.to_string().into_bytes();
    let table: Vec<(u16, Vec<u8>, bool)> = vec![
        // About the token: not active here.
        (400, json(json!({"error": "unsupported_token_type"})), true),
        (
            400,
            json(
                json!({"error": "unsupported_token_type", "error_description": "Structured JWT Tokens cannot be introspected"}),
            ),
            true,
        ),
        (400, json(json!({"error": "invalid_token"})), true),
        (400, json(json!({"error": "invalid_grant"})), true),
        (
            400,
            json(
                json!({"error": "invalid_request", "error_description": "the Token is malformed"}),
            ),
            true,
        ),
        // About us: an outage.
        (400, json(json!({"error": "invalid_request"})), false),
        (
            400,
            json(
                json!({"error": "invalid_request", "error_description": "client authentication must use one method"}),
            ),
            false,
        ),
        (
            400,
            json(
                json!({"error": "invalid_request", "error_description": "unknown token_type_hint"}),
            ),
            false,
        ),
        (400, json(json!({"error": "invalid_client"})), false),
        (400, json(json!({"error": "unauthorized_client"})), false),
        (400, json(json!({"error": "invalid_scope"})), false),
        (400, json(json!({"error": 7})), false),
        (400, json(json!({"message": "bad"})), false),
        (400, b"<html>Bad Request</html>".to_vec(), false),
        (400, Vec::new(), false),
        // Only a 400 can refuse the token: 401/403 are about our credentials.
        (401, json(json!({"error": "invalid_client"})), false),
        (401, json(json!({"error": "invalid_token"})), false),
        (403, json(json!({"error": "unsupported_token_type"})), false),
        (404, json(json!({"error": "invalid_token"})), false),
        (429, json(json!({"error": "invalid_token"})), false),
        (500, json(json!({"error": "invalid_token"})), false),
        (503, Vec::new(), false),
    ];
    for (status, body, is_refusal) in table {
        let answer = read_error_answer(status, &body);
        assert_eq!(
            answer == refused,
            is_refusal,
            "{status} {}: {answer:?}",
            String::from_utf8_lossy(&body)
        );
    }
}

#[test]
fn an_outage_is_explained_without_anything_the_server_made_up() {
    let outage = |status, body: Value| match read_error_answer(status, body.to_string().as_bytes())
    {
        ErrorAnswer::Outage(why) => why,
        ErrorAnswer::TokenRefused => panic!("not an outage"),
    };
    assert!(outage(401, json!({"error": "invalid_client"})).contains("credentials were refused"));
    assert!(
        outage(400, json!({"error": "unauthorized_client"})).contains("credentials were refused")
    );
    assert_eq!(outage(500, json!({})), "answered HTTP 500");
    assert_eq!(
        outage(400, json!({"error": "invalid_scope"})),
        "answered HTTP 400 `invalid_scope`"
    );
    let echoed = outage(400, json!({"error": "secret-token-value"}));
    assert!(!echoed.contains("secret-token-value"), "{echoed}");
}

#[test]
fn the_call_limit_refuses_at_once_past_its_permits_and_frees_them_on_drop() {
    let limit = CallLimit::new(2);
    let first = limit.enter("https://as.example.com").unwrap();
    let second = limit.enter("https://as.example.com").unwrap();
    assert_eq!(
        limit.enter("https://as.example.com").unwrap_err(),
        Refusal::Overloaded {
            retry_after: RETRY_AFTER
        }
    );
    drop(first);
    let third = limit.enter("https://as.example.com").unwrap();
    drop((second, third));
    assert_eq!(limit.permits.available_permits(), 2);
    assert_eq!(CallLimit::new(0).max, 1);
}
