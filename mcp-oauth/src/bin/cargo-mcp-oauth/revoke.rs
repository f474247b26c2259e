//! `cargo mcp-oauth revoke --token <t> | --subject <s>`: a token, or every token of a
//! subject issued until now, refused by every server of the fleet, through the Redis they
//! share (`MCP_OAUTH_REDIS_URL`, read from the environment and `.env` as the servers read
//! it). The same record and message `McpOAuth::revoke_token` / `revoke_subject` write.
//! The token is never printed; `--token -` reads it from standard input, out of the shell
//! history.

use std::path::PathBuf;
use std::process::ExitCode;

use mcp_oauth::explain::{self, Revocation};

use crate::doctor;

/// `cargo mcp-oauth revoke`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["token", "subject"])))]
pub(crate) struct RevokeArgs {
    /// The `.env` file to read (default: `.env` when present). The process environment
    /// wins over it, as in the server.
    #[arg(long, value_name = "FILE")]
    env_file: Option<PathBuf>,
    /// The access token to revoke (`-`: read it from standard input).
    #[arg(long, value_name = "TOKEN|-")]
    token: Option<String>,
    /// The subject (`sub` claim) whose tokens issued until now are revoked.
    #[arg(long, value_name = "SUB")]
    subject: Option<String>,
}

pub(crate) fn run(args: &RevokeArgs) -> ExitCode {
    match revoke(args) {
        Ok(done) => {
            println!("{done}");
            ExitCode::SUCCESS
        }
        Err(why) => {
            eprintln!("error: {why}");
            ExitCode::FAILURE
        }
    }
}

fn revoke(args: &RevokeArgs) -> Result<String, String> {
    let (vars, _) = doctor::configuration(args.env_file.as_deref())?;
    let token = match args.token.as_deref() {
        Some("-") => Some(doctor::read_token(std::path::Path::new("-"))?),
        other => other.map(str::to_owned),
    };
    let what = match (&token, &args.subject) {
        (Some(token), _) => Revocation::Token(token),
        (None, Some(subject)) => Revocation::Subject(subject),
        (None, None) => return Err("give --token or --subject".to_owned()),
    };
    actix_web::rt::System::new().block_on(explain::revoke(vars, what))
}
