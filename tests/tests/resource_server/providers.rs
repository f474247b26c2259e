//! Provider presets (`mcp_oauth::providers`), each configured only through the variables
//! a user sets (`MCP_OAUTH_PROVIDER` and the preset's own, the domain given as the
//! loopback URL of a `TestAuthServer` imitating the provider: its issuer path, JWKS path
//! and token shapes). A token of the provider's shape is accepted over real HTTP with its
//! scopes reaching `AuthenticatedClient`; the provider's typical wrong tokens are refused
//! (RFC 9068 §4: audience, ID tokens, another issuer).

use mcp_oauth::providers;
use mcp_oauth::testing::{Fixture, Imitation, TestAuthServer};
use mcp_oauth::{Check, McpOAuthBuilder, Severity};
use serde_json::json;

use crate::common::*;

const ID_TOKEN: &str = "An ID token is not an access token";
const WRONG_AUDIENCE: &str = "The token audience does not include this resource";
const WRONG_ISSUER: &str = "The token issuer is not accepted";
const NO_AUDIENCE: &str = "The token has no audience";

/// A resource server configured from `vars` (plus `MCP_OAUTH_RESOURCE`) alone.
fn from_vars(vars: Vec<(&'static str, String)>) -> TestServer {
    Setup::new().start(move |_, resource| {
        let mut all = vars;
        all.push(("MCP_OAUTH_RESOURCE", resource.to_owned()));
        McpOAuthBuilder::from_vars(all)
    })
}

/// Asserts admission and returns the scopes the handler saw.
fn admitted_scopes(reply: &Reply) -> serde_json::Value {
    assert_admitted(reply)["scopes"].clone()
}

#[actix_web::test]
async fn auth0_access_tokens_pass_and_id_tokens_and_other_apis_do_not() {
    let idp = TestAuthServer::imitating(&providers::AUTH0);
    let srv = from_vars(vec![
        ("MCP_OAUTH_PROVIDER", "auth0".into()),
        ("MCP_OAUTH_AUTH0_DOMAIN", idp.origin()),
    ]);
    // Issuer `https://{domain}/`, with the terminating slash.
    assert_eq!(idp.issuer(), format!("{}/", idp.origin()));
    let token = idp.access_token(&srv.resource, &["mcp:tools"]).sign();
    let scopes = admitted_scopes(&srv.post_mcp(&token).await);
    assert_eq!(scopes, json!(["openid", "profile", "mcp:tools"]));

    let other_api = idp
        .access_token("https://api.example.com/", &["mcp:tools"])
        .sign();
    srv.assert_invalid_token(&srv.post_mcp(&other_api).await, WRONG_AUDIENCE);
    srv.assert_invalid_token(&srv.post_mcp(&idp.id_token().sign()).await, ID_TOKEN);
    // The issuer without its slash is another issuer.
    let unslashed = idp
        .access_token(&srv.resource, &[])
        .issuer(&idp.origin())
        .sign();
    srv.assert_invalid_token(&srv.post_mcp(&unslashed).await, WRONG_ISSUER);
}

#[actix_web::test]
async fn okta_custom_server_tokens_pass_with_scp_and_id_tokens_do_not() {
    let idp = TestAuthServer::imitating(&providers::OKTA);
    let srv = from_vars(vec![
        ("MCP_OAUTH_PROVIDER", "okta".into()),
        ("MCP_OAUTH_OKTA_DOMAIN", idp.origin()),
        ("MCP_OAUTH_OKTA_AUTHORIZATION_SERVER", "default".into()),
    ]);
    let token = idp
        .access_token(&srv.resource, &["mcp:tools", "mcp:read"])
        .sign();
    let reply = srv.post_mcp(&token).await;
    assert_eq!(admitted_scopes(&reply), json!(["mcp:tools", "mcp:read"]));
    // Keys from `{issuer}/v1/keys`, not discovered.
    assert_eq!((idp.jwks_requests(), idp.metadata_requests()), (1, 0));

    // The default audience of a new authorization server is `api://default`.
    let default_aud = idp.access_token("api://default", &["mcp:tools"]).sign();
    srv.assert_invalid_token(&srv.post_mcp(&default_aud).await, WRONG_AUDIENCE);
    srv.assert_invalid_token(&srv.post_mcp(&idp.id_token().sign()).await, ID_TOKEN);
    // A token of the org authorization server (`https://{domain}`) is another issuer's.
    let org = idp
        .access_token(&srv.resource, &["mcp:tools"])
        .issuer(&idp.origin())
        .sign();
    srv.assert_invalid_token(&srv.post_mcp(&org).await, WRONG_ISSUER);
}

// `generic` is the general variables: by name in the environment, or through the builder.
#[actix_web::test]
async fn the_generic_preset_is_the_general_variables() {
    let idp = TestAuthServer::imitating(&providers::GENERIC);
    let by_env = from_vars(vec![
        ("MCP_OAUTH_PROVIDER", "generic".into()),
        ("MCP_OAUTH_AUTHORIZATION_SERVERS", idp.issuer().to_owned()),
    ]);
    let token = idp.access_token(&by_env.resource, &["mcp:tools"]).sign();
    assert_eq!(
        admitted_scopes(&by_env.post_mcp(&token).await),
        json!(["mcp:tools"])
    );

    let issuer = idp.issuer().to_owned();
    let by_builder = Setup::new().start(move |_, resource| {
        McpOAuthBuilder::default().provider(
            &providers::GENERIC,
            [
                ("MCP_OAUTH_AUTHORIZATION_SERVERS", issuer),
                ("MCP_OAUTH_RESOURCE", resource.to_owned()),
            ],
        )
    });
    let token = idp
        .access_token(&by_builder.resource, &["mcp:tools"])
        .sign();
    assert_eq!(
        admitted_scopes(&by_builder.post_mcp(&token).await),
        json!(["mcp:tools"])
    );
}

#[actix_web::test]
async fn okta_org_server_is_introspected() {
    let idp = TestAuthServer::imitating(&providers::GENERIC);
    idp.introspection_client("mcp-resource", "introspection secret");
    let srv = from_vars(vec![
        ("MCP_OAUTH_PROVIDER", "okta".into()),
        ("MCP_OAUTH_OKTA_DOMAIN", idp.origin()),
        ("MCP_OAUTH_OKTA_AUTHORIZATION_SERVER", "org".into()),
        ("MCP_OAUTH_INTROSPECTION_CLIENT_ID", "mcp-resource".into()),
        (
            "MCP_OAUTH_INTROSPECTION_CLIENT_SECRET",
            "introspection secret".into(),
        ),
    ]);
    let token = idp.access_token(&srv.resource, &["mcp:tools"]).sign();
    assert_eq!(
        admitted_scopes(&srv.post_mcp(&token).await),
        json!(["mcp:tools"])
    );
    assert_eq!((idp.introspection_requests(), idp.jwks_requests()), (1, 0));
}

#[actix_web::test]
async fn cognito_access_tokens_pass_by_listed_client_and_id_tokens_do_not() {
    let idp = TestAuthServer::imitating(&providers::COGNITO);
    let pool = Fixture::COGNITO_USER_POOL_ID;
    let srv = from_vars(vec![
        ("MCP_OAUTH_PROVIDER", "cognito".into()),
        ("MCP_OAUTH_COGNITO_USER_POOL_ID", pool.into()),
        ("MCP_OAUTH_COGNITO_ENDPOINT", idp.origin()),
        (
            "MCP_OAUTH_COGNITO_CLIENT_IDS",
            format!("other-client, {}", Fixture::COGNITO_CLIENT_ID),
        ),
    ]);
    assert_eq!(idp.issuer(), format!("{}/{pool}", idp.origin()));
    let token = idp.access_token(&srv.resource, &["mcp.tools"]).sign();
    let reply = srv.post_mcp(&token).await;
    assert_eq!(
        admitted_scopes(&reply),
        json!(["aws.cognito.signin.user.admin", "mcp.tools"])
    );

    // Another app client of the pool: not listed.
    let other = idp
        .access_token(&srv.resource, &["mcp.tools"])
        .client_id("unlisted-client")
        .sign();
    srv.assert_invalid_token(&srv.post_mcp(&other).await, WRONG_AUDIENCE);
    // The ID token (`token_use: id`, `aud` = a listed client id).
    srv.assert_invalid_token(&srv.post_mcp(&idp.id_token().sign()).await, ID_TOKEN);
    // An access token that says `id` is refused whatever its client.
    let id_use = idp
        .access_token(&srv.resource, &[])
        .claim("token_use", json!("id"))
        .sign();
    srv.assert_invalid_token(&srv.post_mcp(&id_use).await, ID_TOKEN);
}

#[actix_web::test]
async fn cognito_without_client_ids_is_a_problem_naming_the_variable() {
    let err = McpOAuthBuilder::from_vars([
        ("MCP_OAUTH_PROVIDER", "cognito"),
        ("MCP_OAUTH_COGNITO_USER_POOL_ID", "not a pool"),
        ("MCP_OAUTH_RESOURCE", "https://mcp.example.com/mcp"),
        ("MCP_OAUTH_AUTH0_DOMAIN", "t.auth0.com"),
    ])
    .build()
    .unwrap_err();
    let settings: Vec<&str> = err.problems().iter().map(|p| p.setting()).collect();
    assert_eq!(
        settings,
        [
            "MCP_OAUTH_AUTH0_DOMAIN",
            "MCP_OAUTH_COGNITO_CLIENT_IDS",
            "MCP_OAUTH_COGNITO_USER_POOL_ID",
        ],
        "{err}"
    );
}

#[actix_web::test]
async fn every_bad_preset_variable_is_reported_at_once_by_name() {
    let err = McpOAuthBuilder::from_vars([
        ("MCP_OAUTH_PROVIDER", "entra"),
        ("MCP_OAUTH_ENTRA_TENANT_ID", "common"),
        ("MCP_OAUTH_ENTRA_TOKEN_VERSION", "3"),
        ("MCP_OAUTH_RESOURCE", "https://mcp.example.com/mcp"),
    ])
    .build()
    .unwrap_err();
    let settings: Vec<&str> = err.problems().iter().map(|p| p.setting()).collect();
    assert_eq!(
        settings,
        ["MCP_OAUTH_ENTRA_CLIENT_ID", "MCP_OAUTH_ENTRA_TOKEN_VERSION"],
        "{err}"
    );
    let err = McpOAuthBuilder::from_vars([
        ("MCP_OAUTH_PROVIDER", "entra"),
        ("MCP_OAUTH_ENTRA_TENANT_ID", "organizations"),
        ("MCP_OAUTH_ENTRA_CLIENT_ID", Fixture::ENTRA_CLIENT_ID),
        ("MCP_OAUTH_RESOURCE", "https://mcp.example.com/mcp"),
    ])
    .build()
    .unwrap_err();
    assert_eq!(err.problems()[0].setting(), "MCP_OAUTH_ENTRA_TENANT_ID");
    assert!(err.to_string().contains("multi-tenant"), "{err}");

    // Plain http off loopback, an unknown preset, a blank list.
    for (vars, setting) in [
        (
            vec![
                ("MCP_OAUTH_PROVIDER", "auth0"),
                ("MCP_OAUTH_AUTH0_DOMAIN", "http://tenant.auth0.com"),
            ],
            "MCP_OAUTH_AUTH0_DOMAIN",
        ),
        (
            vec![("MCP_OAUTH_PROVIDER", "authzero")],
            "MCP_OAUTH_PROVIDER",
        ),
        (
            vec![
                ("MCP_OAUTH_PROVIDER", "cognito"),
                ("MCP_OAUTH_COGNITO_USER_POOL_ID", "eu-west-1_AbC"),
                ("MCP_OAUTH_COGNITO_CLIENT_IDS", " , "),
            ],
            "MCP_OAUTH_COGNITO_CLIENT_IDS",
        ),
    ] {
        let mut vars = vars;
        vars.push(("MCP_OAUTH_RESOURCE", "https://mcp.example.com/mcp"));
        let err = McpOAuthBuilder::from_vars(vars).build().unwrap_err();
        let settings: Vec<&str> = err.problems().iter().map(|p| p.setting()).collect();
        let expected: &[&str] = if setting == "MCP_OAUTH_PROVIDER" {
            &[setting, "MCP_OAUTH_AUTHORIZATION_SERVERS"]
        } else {
            &[setting]
        };
        assert_eq!(settings, expected, "{err}");
    }

    // `strict` typ with a provider that never types its tokens `at+jwt`.
    let err = McpOAuthBuilder::from_vars([
        ("MCP_OAUTH_PROVIDER", "okta"),
        ("MCP_OAUTH_OKTA_DOMAIN", "your-org.okta.com"),
        ("MCP_OAUTH_TYP", "strict"),
        ("MCP_OAUTH_RESOURCE", "https://mcp.example.com/mcp"),
    ])
    .build()
    .unwrap_err();
    let settings: Vec<&str> = err.problems().iter().map(|p| p.setting()).collect();
    assert_eq!(settings, ["MCP_OAUTH_TYP"], "{err}");

    // The builder: a variable that is not the preset's is named.
    let err = McpOAuthBuilder::default()
        .resource("https://mcp.example.com/mcp")
        .provider(
            &providers::OKTA,
            [
                ("MCP_OAUTH_OKTA_DOMAIN", "your-org.okta.com"),
                ("MCP_OAUTH_AUTH0_DOMAIN", "tenant.auth0.com"),
            ],
        )
        .build()
        .unwrap_err();
    assert_eq!(err.problems().len(), 1, "{err}");
    assert!(err.to_string().contains("MCP_OAUTH_AUTH0_DOMAIN"), "{err}");
}

/// Entra v1 and v2 tokens at once: the preset twice through the builder, each issuer
/// with its own `ver` and keys.
#[actix_web::test]
async fn entra_v1_and_v2_at_once_through_the_builder() {
    let v2 = TestAuthServer::imitating_fixture(Fixture::EntraV2);
    let v1 = TestAuthServer::imitating_fixture(Fixture::EntraV1);
    let entra = |version: &'static str, idp: &Imitation| {
        vec![
            (
                "MCP_OAUTH_ENTRA_TENANT_ID",
                Fixture::ENTRA_TENANT_ID.to_owned(),
            ),
            (
                "MCP_OAUTH_ENTRA_CLIENT_ID",
                Fixture::ENTRA_CLIENT_ID.to_owned(),
            ),
            ("MCP_OAUTH_ENTRA_TOKEN_VERSION", version.to_owned()),
            ("MCP_OAUTH_ENTRA_AUTHORITY", idp.origin()),
        ]
    };
    let (vars2, vars1) = (entra("2", &v2), entra("1", &v1));
    let srv = Setup::new().start(move |_, resource| {
        McpOAuthBuilder::default()
            .resource(resource)
            .provider(&providers::ENTRA, vars2)
            .provider(&providers::ENTRA, vars1)
    });
    let api = format!("api://{}", Fixture::ENTRA_CLIENT_ID);
    for idp in [&v2, &v1] {
        let token = idp.access_token(&api, &["mcp.tools"]).sign();
        let who = assert_admitted(&srv.post_mcp(&token).await);
        assert_eq!(who["issuer"], idp.issuer());
        assert_eq!(who["scopes"], json!(["mcp.tools"]));
    }
    // Each issuer keeps its own `ver`.
    let crossed = v1
        .access_token(&api, &["mcp.tools"])
        .claim("ver", json!("2.0"))
        .sign();
    srv.assert_invalid_token(
        &srv.post_mcp(&crossed).await,
        "The token has an invalid claim",
    );
}

/// Entra v2 with the fixture's tenant and app registration, at `idp`.
fn entra(idp: &Imitation, version: &str) -> TestServer {
    from_vars(vec![
        ("MCP_OAUTH_PROVIDER", "entra".into()),
        ("MCP_OAUTH_ENTRA_TENANT_ID", Fixture::ENTRA_TENANT_ID.into()),
        ("MCP_OAUTH_ENTRA_CLIENT_ID", Fixture::ENTRA_CLIENT_ID.into()),
        ("MCP_OAUTH_ENTRA_TOKEN_VERSION", version.into()),
        ("MCP_OAUTH_ENTRA_AUTHORITY", idp.origin()),
    ])
}

#[actix_web::test]
async fn entra_v2_delegated_and_app_only_tokens_pass_and_v1_and_id_tokens_do_not() {
    let idp = TestAuthServer::imitating(&providers::ENTRA);
    let srv = entra(&idp, "2");
    let tenant = Fixture::ENTRA_TENANT_ID;
    assert_eq!(idp.issuer(), format!("{}/{tenant}/v2.0", idp.origin()));
    // v2.0: `aud` is the client id; delegated scopes in `scp`.
    let delegated = idp
        .access_token(Fixture::ENTRA_CLIENT_ID, &["mcp.tools", "mcp.read"])
        .sign();
    let scopes = admitted_scopes(&srv.post_mcp(&delegated).await);
    assert_eq!(scopes, json!(["mcp.tools", "mcp.read"]));
    // App-only: application permissions in `roles`, no `scp`; `api://` audience.
    let app_only = idp
        .access_token(&format!("api://{}", Fixture::ENTRA_CLIENT_ID), &[])
        .without_claim("scp")
        .claim("roles", json!(["Mcp.Tools.All"]))
        .sign();
    assert_eq!(
        admitted_scopes(&srv.post_mcp(&app_only).await),
        json!(["Mcp.Tools.All"])
    );

    // Another app's token (Microsoft Graph), an ID token without `nonce`, a v1.0 token.
    let graph = idp
        .access_token("00000003-0000-0000-c000-000000000000", &["User.Read"])
        .sign();
    srv.assert_invalid_token(&srv.post_mcp(&graph).await, WRONG_AUDIENCE);
    srv.assert_invalid_token(&srv.post_mcp(&idp.id_token().sign()).await, ID_TOKEN);
    let v1_issuer = format!("{}/{tenant}/", idp.origin());
    let v1 = idp
        .access_token(Fixture::ENTRA_CLIENT_ID, &["mcp.tools"])
        .issuer(&v1_issuer)
        .claim("ver", json!("1.0"))
        .sign();
    srv.assert_invalid_token(&srv.post_mcp(&v1).await, WRONG_ISSUER);
    let v1_claims = idp
        .access_token(Fixture::ENTRA_CLIENT_ID, &["mcp.tools"])
        .claim("ver", json!("1.0"))
        .sign();
    srv.assert_invalid_token(
        &srv.post_mcp(&v1_claims).await,
        "The token has an invalid claim",
    );
}

// MCP 2025-11-25 authorization §Authorization Code Protection: Entra's metadata does not
// advertise S256, which the startup report says, while tokens are still judged.
#[actix_web::test]
async fn entra_metadata_without_s256_is_reported_by_discover() {
    let idp = TestAuthServer::imitating(&providers::ENTRA);
    let srv = entra(&idp, "2");
    let err = srv.oauth.discover().await.expect_err("no S256 advertised");
    let pkce: Vec<Severity> = err
        .report()
        .authorization_servers
        .iter()
        .flat_map(|s| &s.findings)
        .filter(|f| f.check == Check::Pkce)
        .map(|f| f.severity)
        .collect();
    assert_eq!(pkce, [Severity::Error], "{err}");
    let token = idp
        .access_token(Fixture::ENTRA_CLIENT_ID, &["mcp.tools"])
        .sign();
    assert_admitted(&srv.post_mcp(&token).await);
}

#[actix_web::test]
async fn entra_v1_tokens_pass_when_v1_is_configured() {
    let idp = TestAuthServer::imitating_fixture(Fixture::EntraV1);
    let srv = entra(&idp, "1");
    let api = format!("api://{}", Fixture::ENTRA_CLIENT_ID);
    let token = idp.access_token(&api, &["mcp.tools"]).sign();
    assert_eq!(
        admitted_scopes(&srv.post_mcp(&token).await),
        json!(["mcp.tools"])
    );
    let v2 = idp
        .access_token(&api, &["mcp.tools"])
        .issuer(&format!(
            "{}/{}/v2.0",
            idp.origin(),
            Fixture::ENTRA_TENANT_ID
        ))
        .sign();
    srv.assert_invalid_token(&srv.post_mcp(&v2).await, WRONG_ISSUER);
}

#[actix_web::test]
async fn keycloak_tokens_pass_with_the_audience_mapper_only() {
    let idp = TestAuthServer::imitating(&providers::KEYCLOAK);
    let srv = from_vars(vec![
        ("MCP_OAUTH_PROVIDER", "keycloak".into()),
        ("MCP_OAUTH_KEYCLOAK_URL", idp.origin()),
        ("MCP_OAUTH_KEYCLOAK_REALM", Fixture::KEYCLOAK_REALM.into()),
    ]);
    let token = idp.access_token(&srv.resource, &["mcp:tools"]).sign();
    let reply = srv.post_mcp(&token).await;
    assert_eq!(
        admitted_scopes(&reply),
        json!(["openid", "profile", "email", "mcp:tools"])
    );
    assert_eq!(assert_admitted(&reply)["client_id"], Fixture::CLIENT_ID);
    // Without the audience mapper: `aud: account`.
    let account = idp.access_token("account", &["mcp:tools"]).sign();
    srv.assert_invalid_token(&srv.post_mcp(&account).await, WRONG_AUDIENCE);
    // An ID token (`typ: ID`), even one whose `aud` were this resource and that has none
    // of the claims that mark ID tokens elsewhere (a refreshed one: no `at_hash`).
    srv.assert_invalid_token(&srv.post_mcp(&idp.id_token().sign()).await, ID_TOKEN);
    let id = idp
        .id_token()
        .audience(&srv.resource)
        .without_claim("at_hash")
        .without_claim("auth_time")
        .sign();
    srv.assert_invalid_token(&srv.post_mcp(&id).await, ID_TOKEN);
}

#[actix_web::test]
async fn workos_descope_and_supabase_tokens_pass_at_their_issuer_forms() {
    let workos = TestAuthServer::imitating(&providers::WORKOS);
    let srv = from_vars(vec![
        ("MCP_OAUTH_PROVIDER", "workos".into()),
        ("MCP_OAUTH_WORKOS_AUTHKIT_DOMAIN", workos.origin()),
    ]);
    let token = workos.access_token(&srv.resource, &["mcp:tools"]).sign();
    assert_eq!(
        admitted_scopes(&srv.post_mcp(&token).await),
        json!(["mcp:tools"])
    );
    let wrong = workos.access_token("https://other.example/mcp", &[]).sign();
    srv.assert_invalid_token(&srv.post_mcp(&wrong).await, WRONG_AUDIENCE);

    let descope = TestAuthServer::imitating(&providers::DESCOPE);
    let srv = from_vars(vec![
        ("MCP_OAUTH_PROVIDER", "descope".into()),
        (
            "MCP_OAUTH_DESCOPE_PROJECT_ID",
            Fixture::DESCOPE_PROJECT_ID.into(),
        ),
        ("MCP_OAUTH_DESCOPE_BASE_URL", descope.origin()),
    ]);
    let token = descope.access_token(&srv.resource, &["mcp:tools"]).sign();
    assert_eq!(
        admitted_scopes(&srv.post_mcp(&token).await),
        json!(["mcp:tools"])
    );
    // The project id as `aud` is refused unless set explicitly.
    let project = descope
        .access_token(Fixture::DESCOPE_PROJECT_ID, &["mcp:tools"])
        .sign();
    srv.assert_invalid_token(&srv.post_mcp(&project).await, WRONG_AUDIENCE);

    let supabase = TestAuthServer::imitating(&providers::SUPABASE);
    let vars = |explicit: bool| {
        let mut v = vec![
            ("MCP_OAUTH_PROVIDER", "supabase".to_owned()),
            ("MCP_OAUTH_SUPABASE_PROJECT_URL", supabase.origin()),
        ];
        if explicit {
            v.push(("MCP_OAUTH_AUDIENCE", "authenticated".to_owned()));
        }
        v
    };
    let token = supabase.access_token("authenticated", &[]).sign();
    let srv = from_vars(vars(false));
    srv.assert_invalid_token(&srv.post_mcp(&token).await, WRONG_AUDIENCE);
    let srv = from_vars(vars(true));
    let who = assert_admitted(&srv.post_mcp(&token).await);
    assert_eq!(who["issuer"], supabase.issuer());
}

#[actix_web::test]
async fn clerk_tokens_are_introspected_and_need_a_listed_client_without_aud() {
    let idp = TestAuthServer::imitating(&providers::CLERK);
    idp.introspection_client("mcp-resource", "introspection secret");
    let vars = |clients: Option<&str>| {
        let mut v = vec![
            ("MCP_OAUTH_PROVIDER", "clerk".to_owned()),
            ("MCP_OAUTH_CLERK_DOMAIN", idp.origin()),
            (
                "MCP_OAUTH_INTROSPECTION_CLIENT_ID",
                "mcp-resource".to_owned(),
            ),
            (
                "MCP_OAUTH_INTROSPECTION_CLIENT_SECRET",
                "introspection secret".to_owned(),
            ),
        ];
        if let Some(c) = clients {
            v.push(("MCP_OAUTH_CLERK_CLIENT_IDS", c.to_owned()));
        }
        v
    };
    let srv = from_vars(vars(None));
    let bound = idp.access_token(&srv.resource, &["mcp:tools"]).opaque();
    assert_eq!(
        admitted_scopes(&srv.post_mcp(&bound).await),
        json!(["mcp:tools"])
    );
    let unbound = idp
        .access_token(&srv.resource, &["mcp:tools"])
        .without_claim("aud")
        .opaque();
    srv.assert_invalid_token(&srv.post_mcp(&unbound).await, NO_AUDIENCE);

    let srv = from_vars(vars(Some("test-client")));
    let unbound = idp
        .access_token(&srv.resource, &["mcp:tools"])
        .without_claim("aud")
        .opaque();
    assert_eq!(
        admitted_scopes(&srv.post_mcp(&unbound).await),
        json!(["mcp:tools"])
    );
}
