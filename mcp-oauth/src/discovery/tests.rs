//! Unit tests of [`super`].

use super::*;

#[test]
fn urls_follow_the_mcp_client_order() {
    assert_eq!(
        metadata_urls("https://as.example.com/t1/"),
        [
            "https://as.example.com/.well-known/oauth-authorization-server/t1",
            "https://as.example.com/.well-known/openid-configuration/t1",
            "https://as.example.com/t1/.well-known/openid-configuration",
        ]
    );
    assert_eq!(
        metadata_urls("https://as.example.com"),
        [
            "https://as.example.com/.well-known/oauth-authorization-server",
            "https://as.example.com/.well-known/openid-configuration",
        ]
    );
    assert_eq!(metadata_urls("https://as.example.com/").len(), 2);
}

#[test]
fn issuer_must_match_code_point_for_code_point() {
    let doc = br#"{"issuer": "https://as.example.com/"}"#;
    assert!(Metadata::parse(doc, "https://as.example.com").is_err());
    assert!(Metadata::parse(doc, "https://as.example.com/").is_ok());
    assert!(Metadata::parse(b"[]", "https://as.example.com").is_err());
    assert!(Metadata::parse(br#"{"jwks_uri": "x"}"#, "https://as.example.com").is_err());
}

#[test]
fn a_compliant_document_has_no_findings() {
    let doc = br#"{"issuer": "https://as.example.com", "jwks_uri": "https://as.example.com/jwks",
        "code_challenge_methods_supported": ["S256"], "response_types_supported": ["code"],
        "registration_endpoint": "https://as.example.com/register"}"#;
    let metadata = Metadata::parse(doc, "https://as.example.com").unwrap();
    let needs = Needs {
        jwks: true,
        ..Needs::default()
    };
    let mut findings = Vec::new();
    let (jwks, _) = assess(&metadata, &needs, Strictness::Strict, &mut findings);
    assert_eq!(findings, []);
    assert_eq!(jwks.as_deref(), Some("https://as.example.com/jwks"));
}

#[test]
fn plain_http_client_endpoints_off_loopback_are_warnings() {
    let doc = br#"{"issuer": "https://as.example.com",
        "authorization_endpoint": "http://as.example.com/authorize",
        "token_endpoint": "https://as.example.com/token",
        "registration_endpoint": "http://127.0.0.1:9/register",
        "code_challenge_methods_supported": ["S256"], "response_types_supported": ["code"]}"#;
    let metadata = Metadata::parse(doc, "https://as.example.com").unwrap();
    let mut findings = Vec::new();
    assess(
        &metadata,
        &Needs::default(),
        Strictness::Standard,
        &mut findings,
    );
    let https: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.check == Check::Https)
        .collect();
    assert_eq!(https.len(), 1, "{findings:?}"); // loopback http is fine
    assert!(https[0].message.contains("authorization_endpoint"));
    assert_eq!(
        https[0].severity,
        crate::discovery::report::Severity::Warning
    );
}

#[test]
fn a_plain_http_jwks_uri_on_a_public_host_is_not_used() {
    let doc = br#"{"issuer": "https://as.example.com", "jwks_uri": "http://as.example.com/jwks",
        "code_challenge_methods_supported": ["S256"], "response_types_supported": ["code"]}"#;
    let metadata = Metadata::parse(doc, "https://as.example.com").unwrap();
    let needs = Needs {
        jwks: true,
        ..Needs::default()
    };
    let mut findings = Vec::new();
    let (jwks, _) = assess(&metadata, &needs, Strictness::Standard, &mut findings);
    assert_eq!(jwks, None);
    assert!(
        findings.iter().any(|f| f.check == Check::JwksUri
            && f.severity == crate::discovery::report::Severity::Error)
    );
}
