//! Startup configuration through `McpOAuthBuilder::from_vars` (the `MCP_OAUTH_*`
//! variables): every problem reported at once, secure URLs (OAuth 2.1 §1.5), bounds,
//! secrets.

use mcp_oauth::{ConfigError, McpOAuthBuilder};

use crate::common::TempFile;

const RESOURCE: &str = "https://mcp.example.com/mcp";
const ISSUER: &str = "https://auth.example.com";
const JWKS: &str = "https://auth.example.com/jwks";

fn good() -> Vec<(&'static str, String)> {
    vec![
        ("MCP_OAUTH_RESOURCE", RESOURCE.to_owned()),
        ("MCP_OAUTH_AUTHORIZATION_SERVERS", ISSUER.to_owned()),
        ("MCP_OAUTH_JWKS_URI", JWKS.to_owned()),
    ]
}

/// `good()` with `name` set to `value` (added or replaced).
fn with(
    mut vars: Vec<(&'static str, String)>,
    name: &'static str,
    value: &str,
) -> Vec<(&'static str, String)> {
    vars.retain(|(k, _)| *k != name);
    vars.push((name, value.to_owned()));
    vars
}

fn without(mut vars: Vec<(&'static str, String)>, name: &str) -> Vec<(&'static str, String)> {
    vars.retain(|(k, _)| *k != name);
    vars
}

fn build(vars: Vec<(&'static str, String)>) -> Result<mcp_oauth::McpOAuth, ConfigError> {
    McpOAuthBuilder::from_vars(vars).build()
}

fn settings(err: &ConfigError) -> Vec<&'static str> {
    err.problems().iter().map(|p| p.setting()).collect()
}

#[test]
fn good_configuration_from_variables_builds() {
    let vars = with(good(), "MCP_OAUTH_REQUIRED_SCOPES", "mcp:tools, mcp:read");
    let vars = with(vars, "MCP_OAUTH_LEEWAY_SECS", "300");
    let vars = with(vars, "MCP_OAUTH_TYP", "strict");
    let oauth = build(vars).unwrap();
    assert_eq!(
        oauth.resource_metadata_url(),
        "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
    );
}

// Every problem at once, so a deployment is fixed in one round.
#[test]
fn empty_configuration_reports_every_missing_setting_at_once() {
    let err = build(Vec::new()).unwrap_err();
    let settings = settings(&err);
    // The JWKS URI is not among them: it is discovered from the issuer.
    assert!(!settings.contains(&"MCP_OAUTH_JWKS_URI"), "{settings:?}");
    for required in ["MCP_OAUTH_RESOURCE", "MCP_OAUTH_AUTHORIZATION_SERVERS"] {
        assert!(
            settings.contains(&required),
            "{required} missing from {settings:?}"
        );
        assert!(err.to_string().contains(required), "{err}");
    }
}

// RFC 9728 §1.2, OAuth 2.1 §1.5: plain http only on loopback.
#[test]
fn http_resource_on_a_public_host_is_refused() {
    let err = build(with(
        good(),
        "MCP_OAUTH_RESOURCE",
        "http://mcp.example.com/mcp",
    ))
    .unwrap_err();
    assert_eq!(settings(&err), ["MCP_OAUTH_RESOURCE"]);
    build(with(
        good(),
        "MCP_OAUTH_RESOURCE",
        "http://127.0.0.1:8080/mcp",
    ))
    .unwrap();
}

// RFC 9728 §1.2, RFC 8707 §2: absolute, no fragment.
#[test]
fn relative_resource_and_resource_with_fragment_are_refused() {
    for bad in ["mcp.example.com", "https://mcp.example.com/mcp#x"] {
        let err = build(with(good(), "MCP_OAUTH_RESOURCE", bad)).unwrap_err();
        assert_eq!(settings(&err), ["MCP_OAUTH_RESOURCE"], "{bad}");
    }
}

// OAuth 2.1 §1.5: the JWKS and the issuers too.
#[test]
fn http_jwks_uri_and_issuer_on_public_hosts_are_refused() {
    let vars = with(good(), "MCP_OAUTH_JWKS_URI", "http://auth.example.com/jwks");
    let vars = with(
        vars,
        "MCP_OAUTH_AUTHORIZATION_SERVERS",
        "http://auth.example.com",
    );
    let err = build(vars).unwrap_err();
    let settings = settings(&err);
    assert!(settings.contains(&"MCP_OAUTH_JWKS_URI"), "{settings:?}");
    assert!(
        settings.contains(&"MCP_OAUTH_AUTHORIZATION_SERVERS"),
        "{settings:?}"
    );
}

// RFC 7519 §4.1.4 ("no more than a few minutes"): leeway at most 300 s.
#[test]
fn leeway_of_301_seconds_is_refused() {
    let err = build(with(good(), "MCP_OAUTH_LEEWAY_SECS", "301")).unwrap_err();
    assert_eq!(settings(&err), ["MCP_OAUTH_LEEWAY_SECS"]);
    let err = build(with(good(), "MCP_OAUTH_LEEWAY_SECS", "a minute")).unwrap_err();
    assert_eq!(settings(&err), ["MCP_OAUTH_LEEWAY_SECS"]);
}

fn hs256(secret: &str) -> Vec<(&'static str, String)> {
    with(
        without(good(), "MCP_OAUTH_JWKS_URI"),
        "MCP_OAUTH_HS256_SECRET",
        secret,
    )
}

#[test]
fn hs256_secret_shorter_than_32_bytes_is_refused() {
    let short = "s3cr3t-only-31-bytes-long-xxxxx";
    assert_eq!(short.len(), 31);
    let err = build(hs256(short)).unwrap_err();
    assert_eq!(settings(&err), ["MCP_OAUTH_HS256_SECRET"]);
    build(hs256(&format!("{short}y"))).unwrap();
}

// RFC 8725 §2.1: never HS* and JWKS together.
#[test]
fn jwks_uri_and_shared_secret_together_are_refused() {
    let err = build(with(
        good(),
        "MCP_OAUTH_HS256_SECRET",
        "0123456789abcdef0123456789abcdef",
    ))
    .unwrap_err();
    assert!(settings(&err).contains(&"MCP_OAUTH_HS256_SECRET"), "{err}");
}

// RFC 8725 §2.1: HS256 with JWKS-published keys is the confusion attack.
#[test]
fn hs256_algorithm_with_a_jwks_is_refused() {
    let err = build(with(good(), "MCP_OAUTH_ALGORITHMS", "HS256")).unwrap_err();
    assert_eq!(settings(&err), ["MCP_OAUTH_ALGORITHMS"]);
}

// RFC 8725 §3.1: names are exact; `none` cannot be named.
#[test]
fn unknown_or_miscased_algorithm_names_are_refused() {
    for bad in ["none", "rs256", "RS256,nOnE"] {
        let err = build(with(good(), "MCP_OAUTH_ALGORITHMS", bad)).unwrap_err();
        assert!(
            settings(&err).iter().all(|s| *s == "MCP_OAUTH_ALGORITHMS"),
            "{bad}: {err}"
        );
        assert!(
            err.to_string().contains("unknown algorithm"),
            "{bad}: {err}"
        );
    }
    build(with(good(), "MCP_OAUTH_ALGORITHMS", "RS256 ES256,EdDSA")).unwrap();
}

// A typo never silently falls back to a default.
#[test]
fn unknown_mcp_oauth_variable_is_reported() {
    let err = build(with(good(), "MCP_OAUTH_FOO", "bar")).unwrap_err();
    assert!(err.to_string().contains("MCP_OAUTH_FOO"), "{err}");
    assert_eq!(err.problems().len(), 1);
    // Variables of other prefixes are not ours to judge.
    build(with(good(), "OTHER_FOO", "bar")).unwrap();
}

#[test]
fn invalid_typ_policy_is_reported() {
    let err = build(with(good(), "MCP_OAUTH_TYP", "loose")).unwrap_err();
    assert_eq!(settings(&err), ["MCP_OAUTH_TYP"]);
}

// `NAME_FILE`: the container way of passing secrets. The trailing newline is not part of
// the secret: a token signed with the file's contents is accepted.
#[actix_web::test]
async fn hs256_secret_is_read_from_a_file() {
    let secret = "file-secret-0123456789abcdef-0123456789";
    let file = TempFile::new(&format!("{secret}\n"));
    let auth = mcp_oauth::testing::TestAuthServer::start();
    let resource = "http://127.0.0.1:9/mcp";
    let oauth = McpOAuthBuilder::from_vars([
        ("MCP_OAUTH_RESOURCE", resource),
        ("MCP_OAUTH_AUTHORIZATION_SERVERS", auth.issuer()),
        ("MCP_OAUTH_HS256_SECRET_FILE", file.path()),
    ])
    .build()
    .unwrap();
    let token = auth
        .token()
        .audience(resource)
        .hs256(secret.as_bytes())
        .sign();
    assert_eq!(
        oauth.authenticate(&token).await.unwrap().subject(),
        Some("test-user")
    );
    let with_newline = auth
        .token()
        .audience(resource)
        .hs256(format!("{secret}\n").as_bytes())
        .sign();
    assert!(oauth.authenticate(&with_newline).await.is_err());
}

#[test]
fn both_a_variable_and_its_file_are_refused() {
    let file = TempFile::new("0123456789abcdef0123456789abcdef");
    let vars = with(
        hs256("0123456789abcdef0123456789abcdef"),
        "MCP_OAUTH_HS256_SECRET_FILE",
        file.path(),
    );
    let err = build(vars).unwrap_err();
    assert_eq!(settings(&err)[0], "MCP_OAUTH_HS256_SECRET", "{err}");
    assert!(err.to_string().contains("not both"), "{err}");
}

#[test]
fn unreadable_secret_file_is_reported_with_its_path() {
    let missing = std::env::temp_dir().join("mcp-oauth-test-does-not-exist");
    let vars = with(
        without(good(), "MCP_OAUTH_JWKS_URI"),
        "MCP_OAUTH_HS256_SECRET_FILE",
        missing.to_str().unwrap(),
    );
    let err = build(vars).unwrap_err();
    assert!(
        err.to_string().contains("mcp-oauth-test-does-not-exist"),
        "{err}"
    );
}

// MCP authorization §Token Theft: secrets never appear in errors or Debug output.
#[test]
fn configuration_errors_never_contain_the_secret() {
    let short = "tooShortSecretValue42";
    let long = "aVeryLongSharedSecretValueThatIsLongEnough";
    let cases = [
        hs256(short),
        with(good(), "MCP_OAUTH_HS256_SECRET", long),
        with(hs256(long), "MCP_OAUTH_LEEWAY_SECS", "999"),
        with(hs256(long), "MCP_OAUTH_ALGORITHMS", "RS256"),
    ];
    for vars in cases {
        let builder = McpOAuthBuilder::from_vars(vars);
        let debug = format!("{builder:?}");
        let err = builder.build().unwrap_err();
        for text in [err.to_string(), format!("{err:?}"), debug] {
            assert!(
                !text.contains(short) && !text.contains(long),
                "secret leaked: {text}"
            );
        }
    }
}

#[test]
fn secret_from_a_file_never_appears_in_errors() {
    let secret = "fileSecretTooShort";
    let file = TempFile::new(secret);
    let vars = with(
        without(good(), "MCP_OAUTH_JWKS_URI"),
        "MCP_OAUTH_HS256_SECRET_FILE",
        file.path(),
    );
    let vars = with(vars, "MCP_OAUTH_LEEWAY_SECS", "301");
    let builder = McpOAuthBuilder::from_vars(vars);
    let debug = format!("{builder:?}");
    let err = builder.build().unwrap_err();
    let settings = settings(&err);
    assert!(settings.contains(&"MCP_OAUTH_HS256_SECRET"), "{settings:?}");
    assert!(settings.contains(&"MCP_OAUTH_LEEWAY_SECS"), "{settings:?}");
    for text in [err.to_string(), format!("{err:?}"), debug] {
        assert!(!text.contains(secret), "secret leaked: {text}");
    }
}

#[test]
fn several_authorization_servers_need_an_explicit_issuer_among_them() {
    let two = with(
        good(),
        "MCP_OAUTH_AUTHORIZATION_SERVERS",
        "https://a.example.com https://b.example.com",
    );
    let err = build(two.clone()).unwrap_err();
    assert_eq!(settings(&err), ["MCP_OAUTH_ISSUER"]);
    build(with(
        two.clone(),
        "MCP_OAUTH_ISSUER",
        "https://b.example.com",
    ))
    .unwrap();
    let err = build(with(two, "MCP_OAUTH_ISSUER", "https://c.example.com")).unwrap_err();
    assert_eq!(settings(&err), ["MCP_OAUTH_ISSUER"]);
}

#[test]
fn public_paths_must_be_absolute_and_not_the_root() {
    for bad in ["health", "/"] {
        let err = build(with(good(), "MCP_OAUTH_PUBLIC_PATHS", bad)).unwrap_err();
        assert_eq!(settings(&err), ["MCP_OAUTH_PUBLIC_PATHS"], "{bad}");
    }
    build(with(good(), "MCP_OAUTH_PUBLIC_PATHS", "/health,/metrics")).unwrap();
}

// RFC 6750 §3: scopes must be scope tokens (they are written into challenges).
#[test]
fn required_scope_that_is_not_a_scope_token_is_refused() {
    let err = build(with(
        good(),
        "MCP_OAUTH_REQUIRED_SCOPES",
        "mcp:tools bad\"scope",
    ))
    .unwrap_err();
    assert_eq!(settings(&err), ["MCP_OAUTH_REQUIRED_SCOPES"]);
}

// Each problem names the variable at fault (`ConfigProblem::setting`).
#[test]
fn bad_supported_scope_is_reported_under_its_own_variable() {
    let err = build(with(
        good(),
        "MCP_OAUTH_SCOPES_SUPPORTED",
        "files:read bad\"scope",
    ))
    .unwrap_err();
    assert_eq!(settings(&err), ["MCP_OAUTH_SCOPES_SUPPORTED"]);
}

// OAuth 2.1 §1.5: the documentation URL is advertised, so it is held to the same rule.
#[test]
fn http_resource_documentation_on_a_public_host_is_refused() {
    let err = build(with(
        good(),
        "MCP_OAUTH_RESOURCE_DOCUMENTATION",
        "http://docs.example.com",
    ))
    .unwrap_err();
    assert_eq!(settings(&err), ["MCP_OAUTH_RESOURCE_DOCUMENTATION"]);
}
