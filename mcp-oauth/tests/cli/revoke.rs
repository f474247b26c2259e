//! `cargo mcp-oauth revoke`: the built binary, against a `redis-server` of the test's own
//! (the fleet's side, every instance hearing it, is `tests/tests/revocation.rs`).

use std::io::Write as _;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{TempDir, cli, text};

/// A `redis-server` on a free port, killed when dropped; `None` when not installed and
/// the run does not require it (`REQUIRE_REDIS_SERVER=1`).
struct Redis(Child, u16);

impl Redis {
    fn start() -> Option<Self> {
        let port = std::net::TcpListener::bind(("127.0.0.1", 0))
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let Ok(child) = child else {
            let required = std::env::var("REQUIRE_REDIS_SERVER").is_ok_and(|v| v == "1");
            assert!(!required, "redis-server is required but not installed");
            eprintln!("redis-server is not installed: skipping");
            return None;
        };
        let redis = Self(child, port);
        let deadline = Instant::now() + Duration::from_secs(10);
        while redis.cli(&["PING"]) != "PONG" {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(redis)
    }

    fn cli(&self, args: &[&str]) -> String {
        Command::new("redis-cli")
            .args(["-p", &self.1.to_string()])
            .args(args)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default()
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

// Without Redis configured there is no fleet to reach: refused, saying what to set.
#[test]
fn without_redis_configured_revoke_refuses() {
    let dir = TempDir::new("revoke-none");
    let output = cli(dir.path())
        .args(["revoke", "--subject", "alice"])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&output);
    assert!(!output.status.success(), "{stdout}");
    assert!(stderr.contains("MCP_OAUTH_REDIS_URL"), "{stderr}");
    // One of --token and --subject is required.
    let output = cli(dir.path()).args(["revoke"]).output().unwrap();
    assert!(!output.status.success());
}

// `--token -`: read from standard input, recorded under its hash with an expiry, never
// printed; `--subject`: recorded with the time.
#[test]
fn revoke_records_the_hash_and_never_prints_the_token() {
    let Some(redis) = Redis::start() else { return };
    let dir = TempDir::new("revoke");
    let url = format!("redis://127.0.0.1:{}", redis.1);
    let token = "opaque-secret-token-value";
    let mut child = cli(dir.path())
        .env("MCP_OAUTH_REDIS_URL", &url)
        .env("MCP_OAUTH_REDIS_PREFIX", "cli")
        .args(["revoke", "--token", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{token}\n").as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}{stderr}");
    assert!(!stdout.contains(token) && !stderr.contains(token));
    // SHA-256("opaque-secret-token-value"), as `sha256sum` computes it.
    let key = "cli:revoked-token:17fc232bfc9f81a69563f342b9651bc7a9650cb317a09ecbc245408304841950";
    let keys = redis.cli(&["--scan", "--pattern", "cli:*"]);
    assert_eq!(keys, key);
    let ttl: u64 = redis.cli(&["PTTL", key]).parse().unwrap();
    assert!(ttl > 86_000_000 && ttl <= 86_400_000, "{ttl}");

    let output = cli(dir.path())
        .env("MCP_OAUTH_REDIS_URL", &url)
        .args(["revoke", "--subject", "alice"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{:?}", text(&output));
    let keys = redis.cli(&["--scan", "--pattern", "mcp-oauth:revoked-subject:*"]);
    assert_eq!(keys.lines().count(), 1, "{keys}");
}
