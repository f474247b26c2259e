//! `cargo mcp-oauth new`: every provider's project, proven to build (one built and run
//! against a `TestAuthServer`, the others shown to differ from it only where they may).

use std::io::{BufRead as _, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use mcp_oauth::providers;
use mcp_oauth::testing::TestAuthServer;

use crate::{BIN, TempDir, cli, text};

/// The repository root: `--path` for the generated projects.
fn checkout() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// The workspace's target directory (where this binary was built).
fn target_dir() -> PathBuf {
    Path::new(BIN)
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .to_owned()
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

#[test]
fn an_unknown_provider_is_refused_with_the_known_ones() {
    let dir = TempDir::new("unknown");
    let output = cli(dir.path())
        // As cargo runs it: the subcommand's name first.
        .args(["mcp-oauth", "new", "server", "--provider", "nope"])
        .output()
        .unwrap();
    let (_, stderr) = text(&output);
    assert!(!output.status.success());
    assert!(stderr.contains("unknown provider `nope`"), "{stderr}");
    for provider in providers::all() {
        assert!(stderr.contains(provider.name()), "{stderr}");
    }
    assert!(!dir.path().join("server").exists());
}

#[test]
fn a_non_empty_directory_is_never_overwritten() {
    let dir = TempDir::new("nonempty");
    let project = dir.path().join("server");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(project.join("Cargo.toml"), "mine").unwrap();
    let output = cli(dir.path()).args(["new", "server"]).output().unwrap();
    let (_, stderr) = text(&output);
    assert!(!output.status.success());
    assert!(stderr.contains("not empty"), "{stderr}");
    assert_eq!(read(&project, "Cargo.toml"), "mine");
    assert!(!project.join("src").exists());

    let bad_name = cli(dir.path()).args(["new", "9lives"]).output().unwrap();
    assert!(!bad_name.status.success());
    assert!(text(&bad_name).1.contains("not a crate name"));
}

/// Every provider's project: its `.env.example`, README and `.gitignore`; the same
/// `main.rs` and `Cargo.toml` (but the name) for all; the first one built with the
/// workspace's lock file and target directory, then run against a `TestAuthServer`.
#[test]
fn every_provider_gets_a_project_that_builds_and_serves() {
    let dir = TempDir::new("new");
    let mut first: Option<(PathBuf, String)> = None;
    for provider in providers::all() {
        let name = format!("gen-{}", provider.name());
        let project = dir.path().join(&name);
        let output = cli(dir.path())
            .args(["new", &name, "--provider", provider.name(), "--path"])
            .arg(checkout())
            .output()
            .unwrap();
        let (stdout, stderr) = text(&output);
        assert!(output.status.success(), "{stdout}\n{stderr}");

        let env = read(&project, ".env.example");
        assert!(
            env.contains(&format!("\nMCP_OAUTH_PROVIDER={}\n", provider.name())),
            "{env}"
        );
        for variable in provider.variables() {
            let line = format!("\n{}={}\n", variable.name, variable.example);
            assert!(env.contains(&line), "{} missing:\n{env}", variable.name);
            assert!(env.contains(variable.help), "{env}");
        }
        assert!(
            env.contains("\nMCP_OAUTH_RESOURCE=") && env.contains("\nBIND_ADDR="),
            "{env}"
        );
        let readme = read(&project, "README.md");
        assert!(readme.contains(provider.console_guide()), "{readme}");
        assert!(readme.contains(provider.caveats()), "{readme}");
        assert!(read(&project, ".gitignore").lines().any(|l| l == ".env"));

        let main = read(&project, "src/main.rs");
        let manifest = read(&project, "Cargo.toml").replace(&name, "NAME");
        match &first {
            None => first = Some((project.clone(), manifest)),
            Some((built, built_manifest)) => {
                // What `cargo build` proves of the first project holds for this one.
                assert_eq!(main, read(built, "src/main.rs"));
                assert_eq!(&manifest, built_manifest);
            }
        }
    }
    let (project, _) = first.unwrap();
    let binary = build(&project);
    serves(&project, &binary);
}

/// `cargo build --offline` of a generated project, reusing the workspace's lock file and
/// compiled dependencies; the server's executable.
fn build(project: &Path) -> PathBuf {
    std::fs::copy(checkout().join("Cargo.lock"), project.join("Cargo.lock")).unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args(["build", "--offline", "--quiet"])
        .current_dir(project)
        .env("CARGO_TARGET_DIR", target_dir())
        .output()
        .unwrap();
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let name = project.file_name().unwrap().to_str().unwrap();
    target_dir().join("debug").join(name)
}

/// Kills the server when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The generated server, configured by its `.env`, answers its metadata, refuses a
/// request without a token (401) and a `tools/call` of the guarded tool without its scope
/// (403), and serves an `initialize` with a valid token.
fn serves(project: &Path, binary: &Path) {
    let auth = TestAuthServer::start();
    let port = {
        let probe = TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let origin = format!("http://127.0.0.1:{port}");
    let resource = format!("{origin}/mcp");
    std::fs::write(
        project.join(".env"),
        format!(
            "MCP_OAUTH_RESOURCE={resource}\nMCP_OAUTH_AUTHORIZATION_SERVERS={}\nBIND_ADDR=127.0.0.1:{port}\n",
            auth.issuer()
        ),
    )
    .unwrap();
    let mut child = Command::new(binary)
        .env_clear()
        .current_dir(project)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let _server = Running(child);
    let mut lines = BufReader::new(stderr).lines();
    let mut seen = Vec::new();
    // The line printed once the listener is bound (or the error it died of).
    loop {
        match lines.next() {
            Some(Ok(line)) if line.contains("MCP endpoint on") => break,
            Some(Ok(line)) => seen.push(line),
            _ => panic!("the server stopped: {}", seen.join("\n")),
        }
    }
    std::thread::spawn(move || lines.for_each(drop));

    let token = |scope: &str| auth.token().audience(&resource).scope(scope).sign();
    let (no_scope, with_scope) = (token("mcp"), token("tools:call"));
    actix_web::rt::System::new().block_on(async {
        let client = awc::Client::default();
        let mut metadata = client
            .get(format!("{origin}/.well-known/oauth-protected-resource/mcp"))
            .send()
            .await
            .unwrap();
        assert_eq!(metadata.status(), 200);
        let doc: serde_json::Value = metadata.json().await.unwrap();
        assert_eq!(doc["resource"], resource.as_str());
        assert_eq!(doc["authorization_servers"][0], auth.issuer());

        let post = |body: &'static str, token: Option<&str>| {
            let mut request = client
                .post(&resource)
                .insert_header(("content-type", "application/json"))
                .insert_header(("accept", "application/json, text/event-stream"));
            if let Some(token) = token {
                request = request.insert_header(("authorization", format!("Bearer {token}")));
            }
            request.send_body(body)
        };
        const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
        const ECHO: &str = r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hi"}}}"#;

        let anonymous = post(INITIALIZE, None).await.unwrap();
        assert_eq!(anonymous.status(), 401);
        let challenge = anonymous.headers().get("www-authenticate").unwrap().to_str().unwrap();
        assert!(challenge.contains("resource_metadata="), "{challenge}");

        let refused = post(ECHO, Some(&no_scope)).await.unwrap();
        assert_eq!(refused.status(), 403);
        let challenge = refused.headers().get("www-authenticate").unwrap().to_str().unwrap();
        assert!(challenge.contains("tools:call"), "{challenge}");

        let served = post(INITIALIZE, Some(&with_scope)).await.unwrap();
        assert_eq!(served.status(), 200);
        assert!(served.headers().contains_key("mcp-session-id"));
    });
}
