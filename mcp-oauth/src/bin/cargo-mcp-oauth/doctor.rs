//! `cargo mcp-oauth doctor`: the server's configuration (environment and `.env`) built as
//! the server builds it, each authorization server discovered and its keys fetched, the
//! running server's metadata (`--url`) and a token (`--token`) checked; a checklist with a
//! fix for each finding. Exits non-zero on any error, so it can gate a deployment. A token
//! is never printed, nor its signature.

use std::collections::HashMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use mcp_oauth::explain::{self, Keys, Outcome, Step};
use mcp_oauth::{DiscoveryStatus, McpOAuth, McpOAuthBuilder, Severity, StartupReport};

use crate::fixes;
use crate::output::Checklist;

/// `cargo mcp-oauth doctor`.
#[derive(Debug, clap::Args)]
pub(crate) struct DoctorArgs {
    /// The `.env` file to read (default: `.env` when present). The process environment
    /// wins over it, as in the server.
    #[arg(long, value_name = "FILE")]
    env_file: Option<PathBuf>,
    /// The running server (its origin, e.g. http://127.0.0.1:8080): its metadata must
    /// answer 200 and match the configuration.
    #[arg(long, value_name = "URL")]
    url: Option<String>,
    /// A file holding an access token (`-`: standard input), explained check by check.
    #[arg(long, value_name = "FILE|-")]
    token: Option<PathBuf>,
}

pub(crate) fn run(args: &DoctorArgs) -> ExitCode {
    match doctor(args) {
        Ok(list) if list.failures() == 0 => {
            println!("\nNo problems ({} warning(s)).", list.warnings());
            ExitCode::SUCCESS
        }
        Ok(list) => {
            let plural = |n: usize| if n == 1 { "" } else { "s" };
            println!(
                "\n{} problem{}, {} warning{}.",
                list.failures(),
                plural(list.failures()),
                list.warnings(),
                plural(list.warnings())
            );
            ExitCode::FAILURE
        }
        Err(why) => {
            eprintln!("error: {why}");
            ExitCode::FAILURE
        }
    }
}

fn doctor(args: &DoctorArgs) -> Result<Checklist, String> {
    let (vars, source) = configuration(args.env_file.as_deref())?;
    if let Some(url) = &args.url
        && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        return Err(format!(
            "--url `{url}`: give the server's origin, e.g. http://127.0.0.1:8080"
        ));
    }
    // Read before any network call: a token that cannot be read is an error at once.
    let token = args.token.as_deref().map(read_token).transpose()?;
    let mut list = Checklist::new();
    list.heading(&format!("Configuration ({source})"));
    let oauth = match McpOAuthBuilder::from_vars(vars).build() {
        Ok(oauth) => {
            list.line(
                Outcome::Pass,
                "builds",
                &format!(
                    "resource {}, metadata {}",
                    oauth.resource(),
                    oauth.resource_metadata_url()
                ),
                None,
            );
            oauth
        }
        Err(err) => {
            for problem in err.problems() {
                let meaning = mcp_oauth::ENV_VARIABLES
                    .iter()
                    .find(|(name, _)| *name == problem.setting())
                    .map(|(name, meaning)| format!("{name}: {meaning}"));
                list.line(
                    Outcome::Fail,
                    problem.setting(),
                    problem.message(),
                    meaning.as_deref(),
                );
            }
            return Ok(list);
        }
    };
    let system = actix_web::rt::System::new();
    system.block_on(async {
        let report = match oauth.discover().await {
            Ok(report) => report,
            Err(err) => err.report().clone(),
        };
        let keys = explain::keys(&oauth).await;
        authorization_servers(&mut list, &report, &keys);
        if let Some(url) = &args.url {
            list.heading(&format!("Server at {url}"));
            steps(&mut list, explain::check_metadata(&oauth, url).await);
        }
        if let Some(token) = &token {
            token_section(&mut list, &oauth, token).await;
        }
    });
    Ok(list)
}

/// The process environment over the `.env` file (`--env-file`, else `.env` if present),
/// and where it came from.
pub(crate) fn configuration(
    env_file: Option<&Path>,
) -> Result<(HashMap<String, String>, String), String> {
    let mut vars = HashMap::new();
    let file = match env_file {
        Some(path) => Some(path.to_owned()),
        None => Some(PathBuf::from(".env")).filter(|p| p.is_file()),
    };
    let source = match &file {
        Some(path) => {
            let entries = dotenvy::from_path_iter(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            for entry in entries {
                let (name, value) = entry.map_err(|e| format!("{}: {e}", path.display()))?;
                vars.insert(name, value);
            }
            format!("environment and {}", path.display())
        }
        None => "environment".to_owned(),
    };
    vars.extend(
        std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))),
    );
    Ok((vars, source))
}

/// Most bytes read as a token (the middleware's own cap on a bearer token is smaller).
const MAX_TOKEN_FILE: u64 = 64 * 1024;

/// The token, from a file or standard input; never echoed.
pub(crate) fn read_token(path: &Path) -> Result<String, String> {
    let mut text = String::new();
    let read = if path == Path::new("-") {
        std::io::stdin()
            .take(MAX_TOKEN_FILE + 1)
            .read_to_string(&mut text)
    } else {
        std::fs::File::open(path)
            .and_then(|file| file.take(MAX_TOKEN_FILE + 1).read_to_string(&mut text))
    };
    read.map_err(|e| format!("cannot read the token from {}: {e}", path.display()))?;
    if text.len() as u64 > MAX_TOKEN_FILE {
        return Err(format!(
            "{} holds more than {MAX_TOKEN_FILE} bytes: not a token",
            path.display()
        ));
    }
    let token = text.trim();
    // `Bearer <token>` pasted from a header is accepted too.
    let token = token
        .strip_prefix("Bearer ")
        .or_else(|| token.strip_prefix("bearer "))
        .unwrap_or(token)
        .trim();
    if token.is_empty() {
        return Err(format!("{} holds no token", path.display()));
    }
    Ok(token.to_owned())
}

/// One section per authorization server: discovery, its findings, its keys.
fn authorization_servers(
    list: &mut Checklist,
    report: &StartupReport,
    keys: &[explain::IssuerKeys],
) {
    for server in &report.authorization_servers {
        list.heading(&format!("Authorization server {}", server.issuer));
        match server.status {
            DiscoveryStatus::Ready => list.line(
                Outcome::Pass,
                "discovery",
                &format!(
                    "metadata at {}",
                    server.metadata_url.as_deref().unwrap_or("(configured)")
                ),
                None,
            ),
            // The discovery finding below says why.
            DiscoveryStatus::Failed => {}
            _ => list.line(Outcome::Warn, "discovery", "not attempted", None),
        }
        if server.status == DiscoveryStatus::Ready && server.findings.is_empty() {
            list.line(
                Outcome::Pass,
                "metadata",
                "no findings (PKCE S256, registration, response types, https, endpoints)",
                None,
            );
        }
        for finding in &server.findings {
            let outcome = match finding.severity {
                Severity::Error => Outcome::Fail,
                _ => Outcome::Warn,
            };
            list.line(
                outcome,
                &finding.check.to_string(),
                &finding.message,
                Some(fixes::for_finding(finding.check)),
            );
        }
        let Some(found) = keys.iter().find(|k| k.issuer == server.issuer) else {
            continue;
        };
        if server.status != DiscoveryStatus::Ready && found.keys.is_err() {
            list.line(Outcome::Skip, "keys", "not fetched: no metadata", None);
            continue;
        }
        match &found.keys {
            Ok(Keys::Jwks {
                uri,
                keys,
                algorithms,
            }) => list.line(
                Outcome::Pass,
                "keys",
                &format!("{keys} usable keys ({}) at {uri}", algorithms.join(", ")),
                None,
            ),
            Ok(Keys::SharedSecret) => {
                list.line(Outcome::Pass, "keys", "a shared HS256 secret", None)
            }
            Ok(Keys::Introspected) => list.line(
                Outcome::Skip,
                "keys",
                "tokens are introspected (RFC 7662)",
                None,
            ),
            Err(why) => list.line(
                Outcome::Fail,
                "keys",
                why,
                Some(fixes::for_finding(mcp_oauth::Check::JwksUri)),
            ),
        }
    }
}

async fn token_section(list: &mut Checklist, oauth: &McpOAuth, token: &str) {
    list.heading("Token");
    steps(list, explain::explain_token(oauth, token).await);
}

fn steps(list: &mut Checklist, steps: Vec<Step>) {
    for step in steps {
        let fix = (step.outcome == Outcome::Fail)
            .then(|| fixes::for_step(step.check))
            .flatten();
        list.line(step.outcome, step.check, &step.detail, fix);
    }
}
