//! `cargo mcp-oauth`: `new` writes an MCP server protected by mcp-oauth, `doctor` checks
//! a configuration (and a running server, and a token) before it is deployed, `revoke`
//! revokes a token or a subject on every server of a fleet.
//!
//! Installed as `cargo-mcp-oauth`, cargo runs it as `cargo-mcp-oauth mcp-oauth <args>`;
//! run by hand, `cargo-mcp-oauth <args>` works too. This file is the command line only.

#![forbid(unsafe_code)]

mod doctor;
mod fixes;
mod new;
mod output;
mod revoke;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// The `cargo` entry: cargo passes the subcommand's name first.
#[derive(Debug, Parser)]
#[command(name = "cargo", bin_name = "cargo")]
enum Cargo {
    /// Protected MCP servers: create one, check one.
    #[command(name = "mcp-oauth", version)]
    McpOAuth(Cli),
}

/// `cargo mcp-oauth <command>`.
#[derive(Debug, clap::Args)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Writes a new MCP server protected by OAuth (for one identity provider).
    New(new::NewArgs),
    /// Checks the configuration, the authorization servers, a running server and a token.
    Doctor(doctor::DoctorArgs),
    /// Revokes a token, or a subject's tokens, on every server sharing the Redis.
    Revoke(revoke::RevokeArgs),
}

fn main() -> ExitCode {
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // `cargo mcp-oauth ...` runs `cargo-mcp-oauth mcp-oauth ...`; by hand, the name may
    // be left out.
    if args.get(1).is_none_or(|a| a != "mcp-oauth") {
        args.insert(1.min(args.len()), "mcp-oauth".into());
    }
    let Cargo::McpOAuth(cli) = Cargo::parse_from(args);
    match cli.command {
        Command::New(args) => new::run(&args),
        Command::Doctor(args) => doctor::run(&args),
        Command::Revoke(args) => revoke::run(&args),
    }
}
