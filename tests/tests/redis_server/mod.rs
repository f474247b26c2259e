//! A `redis-server` of a test's own (a free port, no persistence; `kill()` crashes it,
//! `run()` starts it again), and a fleet of three instances sharing a state: what the
//! fleet tests (`fleet.rs`, `fleet_limits.rs`, `revocation.rs`) share (`mod redis_server;`,
//! beside `#[path = "resource_server/common.rs"] mod common;`). Where `redis-server` is not
//! installed the tests say so and pass, unless `REQUIRE_REDIS_SERVER=1` (what
//! `.ci/run` sets, after installing it).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mcp_oauth::{McpOAuth, McpOAuthBuilder, SharedState};

use crate::common::*;

/// A `redis-server` of the test's own; killed when dropped.
pub(crate) struct Redis {
    child: Option<Child>,
    port: u16,
}

impl Redis {
    /// A fresh server, or `None` (the test then passes, saying why) when `redis-server`
    /// is not installed and the run does not require it.
    pub(crate) fn start() -> Option<Self> {
        let port = std::net::TcpListener::bind(("127.0.0.1", 0))
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut redis = Self { child: None, port };
        if !redis.run() {
            let required = std::env::var("REQUIRE_REDIS_SERVER").is_ok_and(|v| v == "1");
            assert!(
                !required,
                "redis-server is required (REQUIRE_REDIS_SERVER=1) but not installed"
            );
            eprintln!("redis-server is not installed: skipping this fleet test");
            return None;
        }
        Some(redis)
    }

    /// Starts `redis-server` on the port and waits until it answers; `false` when the
    /// program is not there.
    pub(crate) fn run(&mut self) -> bool {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let Ok(child) = child else { return false };
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.cli(&["PING"]).as_deref() != Some("PONG") {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        true
    }

    /// Kills the server (as a crash would: no shutdown handshake).
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// What `redis-cli` prints for `args`, or `None` when it fails.
    pub(crate) fn cli(&self, args: &[&str]) -> Option<String> {
        let out = Command::new("redis-cli")
            .args(["-p", &self.port.to_string()])
            .args(args)
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
            .filter(|s| !s.starts_with("Could not connect"))
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Three instances of one public resource (the first's URL), each its own server, all
/// trusting the first's authorization server and sharing `shared`.
pub(crate) fn fleet(shared: &SharedState) -> Vec<TestServer> {
    fleet_with(None, shared, |b| b)
}

/// [`fleet`], each instance's builder passed through `configure` (after the shared
/// state), each instance logging into `logs` when given.
pub(crate) fn fleet_with(
    logs: Option<&LogBuffer>,
    shared: &SharedState,
    configure: impl Fn(McpOAuthBuilder) -> McpOAuthBuilder + Clone + 'static,
) -> Vec<TestServer> {
    let setup = || match logs {
        Some(logs) => Setup::new().log_to(logs.dispatch()),
        None => Setup::new(),
    };
    let (shared_first, configure_first) = (shared.clone(), configure.clone());
    let first = setup().start(move |auth, resource| {
        configure_first(auth.configure(resource).shared_state(shared_first))
    });
    let (issuer, jwks) = (first.auth.issuer().to_owned(), first.auth.jwks_uri());
    let mut fleet = vec![first];
    for _ in 0..2 {
        let (public, issuer, jwks) = (fleet[0].resource.clone(), issuer.clone(), jwks.clone());
        let (shared, configure) = (shared.clone(), configure.clone());
        fleet.push(setup().start(move |_, _| {
            configure(
                McpOAuth::builder()
                    .resource(public)
                    .authorization_server(issuer)
                    .jwks_uri(jwks)
                    .shared_state(shared),
            )
        }));
    }
    fleet
}
