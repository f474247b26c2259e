//! `cargo mcp-oauth doctor`: exit status, the checklist, and no token in the output.

use std::io::Write as _;
use std::net::TcpListener;
use std::process::{Command, Output, Stdio};

use actix_web::{App, HttpResponse, HttpServer, web};
use mcp_oauth::McpOAuth;
use mcp_oauth::testing::TestAuthServer;

use crate::{TempDir, cli, text};

const RESOURCE: &str = "http://127.0.0.1:8080/mcp";

/// `doctor` configured for `auth`'s issuer (discovery finds the rest), plus `more`.
fn doctor(auth: &TestAuthServer, dir: &TempDir, more: &[&str]) -> Command {
    let mut command = cli(dir.path());
    command
        .env("MCP_OAUTH_RESOURCE", RESOURCE)
        .env("MCP_OAUTH_AUTHORIZATION_SERVERS", auth.issuer())
        .arg("doctor")
        .args(more);
    command
}

/// `doctor --token <file>` for `token`: its output, which must not hold the token nor
/// its signature.
fn explain(auth: &TestAuthServer, token: &str) -> Output {
    let dir = TempDir::new("token");
    let file = dir.path().join("token.txt");
    std::fs::write(&file, format!("{token}\n")).unwrap();
    let output = doctor(auth, &dir, &["--token", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert_no_token(&output, token);
    output
}

fn assert_no_token(output: &Output, token: &str) {
    let (stdout, stderr) = text(output);
    let signature = token.rsplit('.').next().unwrap();
    for shown in [&stdout, &stderr] {
        assert!(!shown.contains(token), "the token was printed:\n{shown}");
        assert!(
            !shown.contains(signature),
            "the signature was printed:\n{shown}"
        );
    }
}

#[test]
fn a_healthy_configuration_passes_with_the_checklist() {
    let auth = TestAuthServer::start();
    let dir = TempDir::new("healthy");
    let output = doctor(&auth, &dir, &[]).output().unwrap();
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("✓ builds: resource http://127.0.0.1:8080/mcp"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("Authorization server {}", auth.issuer())),
        "{stdout}"
    );
    assert!(stdout.contains("✓ discovery: metadata at"), "{stdout}");
    assert!(stdout.contains("✓ metadata: no findings"), "{stdout}");
    // The test server publishes an RSA, two EC and an Ed25519 key.
    assert!(
        stdout.contains("✓ keys: 4 usable keys (") && stdout.contains(&auth.jwks_uri()),
        "{stdout}"
    );
    assert!(stdout.contains("No problems"), "{stdout}");
    assert!(
        !stdout.contains('✗') && !stdout.contains("\x1b["),
        "{stdout}"
    );
}

#[test]
fn a_wrong_issuer_fails_and_names_discovery() {
    let auth = TestAuthServer::start();
    let dir = TempDir::new("issuer");
    let wrong = format!("{}/elsewhere", auth.issuer());
    let output = doctor(&auth, &dir, &[])
        .env("MCP_OAUTH_AUTHORIZATION_SERVERS", &wrong)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&output);
    assert!(!output.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!("Authorization server {wrong}")),
        "{stdout}"
    );
    assert!(stdout.contains("✗ discovery"), "{stdout}");
    assert!(
        stdout.contains("fix: check MCP_OAUTH_AUTHORIZATION_SERVERS"),
        "{stdout}"
    );
}

#[test]
fn findings_are_warnings_or_errors_by_strictness_each_with_its_fix() {
    let auth = TestAuthServer::start();
    auth.patch_metadata(serde_json::json!({ "registration_endpoint": null }));
    let dir = TempDir::new("findings");
    let output = doctor(&auth, &dir, &[]).output().unwrap();
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("! client_registration: neither"),
        "{stdout}"
    );
    assert!(stdout.contains("fix: let MCP clients register"), "{stdout}");
    assert!(stdout.contains("No problems (1 warning(s))"), "{stdout}");

    let output = doctor(&auth, &dir, &[])
        .env("MCP_OAUTH_DISCOVERY_STRICTNESS", "strict")
        .output()
        .unwrap();
    let (stdout, _) = text(&output);
    assert!(!output.status.success(), "{stdout}");
    assert!(
        stdout.contains("✗ client_registration: neither"),
        "{stdout}"
    );
}

#[test]
fn every_configuration_problem_is_listed_at_once() {
    let auth = TestAuthServer::start();
    let dir = TempDir::new("missing");
    let output = doctor(&auth, &dir, &[])
        .env_remove("MCP_OAUTH_RESOURCE")
        .env("MCP_OAUTH_LEEWAY_SECS", "soon")
        .output()
        .unwrap();
    let (stdout, stderr) = text(&output);
    assert!(!output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("✗ MCP_OAUTH_RESOURCE"), "{stdout}");
    assert!(stdout.contains("✗ MCP_OAUTH_LEEWAY_SECS"), "{stdout}");
}

#[test]
fn the_env_file_is_read_and_the_environment_wins_over_it() {
    let auth = TestAuthServer::start();
    let dir = TempDir::new("envfile");
    std::fs::write(
        dir.path().join(".env"),
        format!(
            "MCP_OAUTH_RESOURCE=http://127.0.0.1:9999/from-file\nMCP_OAUTH_AUTHORIZATION_SERVERS={}\n",
            auth.issuer()
        ),
    )
    .unwrap();
    let mut command = cli(dir.path());
    let output = command.arg("doctor").output().unwrap();
    let (stdout, _) = text(&output);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("environment and .env"), "{stdout}");
    assert!(
        stdout.contains("resource http://127.0.0.1:9999/from-file"),
        "{stdout}"
    );

    let output = cli(dir.path())
        .env("MCP_OAUTH_RESOURCE", RESOURCE)
        .arg("doctor")
        .output()
        .unwrap();
    let (stdout, _) = text(&output);
    assert!(
        stdout.contains("resource http://127.0.0.1:8080/mcp"),
        "{stdout}"
    );

    let missing = cli(dir.path())
        .args(["doctor", "--env-file", "nowhere.env"])
        .output()
        .unwrap();
    let (_, stderr) = text(&missing);
    assert!(!missing.status.success());
    assert!(stderr.contains("nowhere.env"), "{stderr}");
}

#[test]
fn a_good_token_passes_every_check() {
    let auth = TestAuthServer::start();
    let token = auth.token().audience(RESOURCE).subject("alice").sign();
    let output = explain(&auth, &token);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    for check in [
        "✓ header: alg `RS256`",
        "✓ claims: sub `alice`",
        "✓ iss:",
        "✓ key: kid `rsa-1` found",
        "✓ signature: verifies",
        "✓ aud:",
        "✓ exp/nbf: expires in",
        "✓ scopes:",
        "✓ verdict: accepted (subject alice)",
    ] {
        assert!(stdout.contains(check), "{check} missing:\n{stdout}");
    }
}

#[test]
fn an_expired_token_fails_at_exp() {
    let auth = TestAuthServer::start();
    let token = auth.token().audience(RESOURCE).expired().sign();
    let output = explain(&auth, &token);
    let (stdout, _) = text(&output);
    assert!(!output.status.success(), "{stdout}");
    assert!(
        stdout.contains("✗ exp/nbf: The access token expired"),
        "{stdout}"
    );
    assert!(stdout.contains("✓ signature"), "{stdout}");
    assert!(
        stdout.contains("✗ verdict: refused with HTTP 401"),
        "{stdout}"
    );
}

#[test]
fn a_token_for_another_resource_fails_at_aud() {
    let auth = TestAuthServer::start();
    let token = auth.token().audience("https://other.example.com").sign();
    let output = explain(&auth, &token);
    let (stdout, _) = text(&output);
    assert!(!output.status.success(), "{stdout}");
    assert!(
        stdout.contains(
            "✗ aud: `https://other.example.com`: The token audience does not include this resource"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("fix: request the token with resource="),
        "{stdout}"
    );
    assert!(stdout.contains("✓ exp/nbf"), "{stdout}");
}

#[test]
fn a_token_without_the_required_scope_fails_at_scopes() {
    let auth = TestAuthServer::start();
    let dir = TempDir::new("scopes");
    let token = auth.token().audience(RESOURCE).scope("mcp:read").sign();
    let mut command = doctor(&auth, &dir, &["--token", "-"]);
    command
        .env("MCP_OAUTH_REQUIRED_SCOPES", "mcp:tools")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("Bearer {token}\n").as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert_no_token(&output, &token);
    let (stdout, _) = text(&output);
    assert!(!output.status.success(), "{stdout}");
    assert!(
        stdout.contains("✗ scopes: missing mcp:tools; granted: mcp:read; required: mcp:tools"),
        "{stdout}"
    );
    assert!(
        stdout.contains("✗ verdict: refused with HTTP 403"),
        "{stdout}"
    );
}

#[test]
fn a_forged_token_fails_at_the_signature_or_key() {
    let auth = TestAuthServer::start();
    let forged = auth
        .token()
        .audience(RESOURCE)
        .signed_by_unpublished_key()
        .sign();
    let output = explain(&auth, &forged);
    let (stdout, _) = text(&output);
    assert!(!output.status.success(), "{stdout}");
    assert!(
        stdout.contains("✗ key:") || stdout.contains("✗ signature:"),
        "{stdout}"
    );
}

/// A protected server on 127.0.0.1 (metadata answered by the middleware), configured
/// for `auth`; its resource names its own port.
fn protected_server(auth: &TestAuthServer) -> (String, actix_web::dev::ServerHandle) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let oauth: McpOAuth = auth
        .configure_issuer_only(&format!("{origin}/mcp"))
        .build()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = HttpServer::new(move || {
                App::new()
                    .wrap(oauth.clone())
                    .route("/mcp", web::post().to(HttpResponse::Ok))
            })
            .workers(1)
            .listen(listener)
            .unwrap()
            .run();
            tx.send(server.handle()).unwrap();
            server.await
        })
    });
    (origin, rx.recv().unwrap())
}

#[test]
fn url_checks_the_running_servers_metadata() {
    let auth = TestAuthServer::start();
    let (origin, handle) = protected_server(&auth);
    let dir = TempDir::new("url");
    let output = doctor(&auth, &dir, &["--url", &origin])
        .env("MCP_OAUTH_RESOURCE", format!("{origin}/mcp"))
        .output()
        .unwrap();
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!(
            "✓ metadata: {origin}/.well-known/oauth-protected-resource/mcp answers 200"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("✓ resource: `{origin}/mcp`")),
        "{stdout}"
    );
    assert!(stdout.contains("✓ authorization_servers"), "{stdout}");

    // The server trusts another authorization server than this configuration.
    let other = TestAuthServer::start();
    let output = doctor(&other, &dir, &["--url", &origin])
        .env("MCP_OAUTH_RESOURCE", format!("{origin}/mcp"))
        .output()
        .unwrap();
    let (stdout, _) = text(&output);
    assert!(!output.status.success(), "{stdout}");
    assert!(
        stdout.contains("✗ authorization_servers: the server lists"),
        "{stdout}"
    );

    // Nothing answers the resource's metadata path (another resource's path).
    let output = doctor(&auth, &dir, &["--url", &origin])
        .env("MCP_OAUTH_RESOURCE", format!("{origin}/other"))
        .output()
        .unwrap();
    let (stdout, _) = text(&output);
    assert!(!output.status.success(), "{stdout}");
    assert!(
        stdout.contains("✗ metadata:") && stdout.contains("HTTP 404"),
        "{stdout}"
    );
    actix_web::rt::System::new().block_on(handle.stop(false));
}

#[test]
fn an_opaque_token_is_left_to_introspection_and_not_printed() {
    let auth = TestAuthServer::start();
    auth.introspection_client("rs", "rs-secret");
    let dir = TempDir::new("opaque");
    let token = auth.token().audience(RESOURCE).subject("bob").opaque();
    let file = dir.path().join("token.txt");
    std::fs::write(&file, &token).unwrap();
    let output = doctor(&auth, &dir, &["--token", file.to_str().unwrap()])
        .env("MCP_OAUTH_VALIDATION", "introspection")
        .env("MCP_OAUTH_INTROSPECTION_CLIENT_ID", "rs")
        .env("MCP_OAUTH_INTROSPECTION_CLIENT_SECRET", "rs-secret")
        .output()
        .unwrap();
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(
        !stdout.contains(&token) && !stderr.contains(&token),
        "{stdout}"
    );
    assert!(
        stdout.contains("✓ format: not a JWT: an opaque token"),
        "{stdout}"
    );
    assert!(
        stdout.contains("- keys: tokens are introspected"),
        "{stdout}"
    );
    assert!(
        stdout.contains("✓ verdict: accepted (subject bob)"),
        "{stdout}"
    );
}

#[test]
fn bad_arguments_are_refused_before_anything_is_fetched() {
    let auth = TestAuthServer::start();
    let dir = TempDir::new("args");
    let huge = dir.path().join("huge.txt");
    std::fs::write(&huge, "a".repeat(70_000)).unwrap();
    let output = doctor(&auth, &dir, &["--token", huge.to_str().unwrap()])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&output);
    assert!(!output.status.success());
    assert!(
        stderr.contains("not a token") && !stdout.contains("aaaa"),
        "{stderr}"
    );
    let output = doctor(&auth, &dir, &["--url", "127.0.0.1:8080"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(text(&output).1.contains("give the server's origin"));
    assert_eq!(auth.metadata_requests(), 0);
}
