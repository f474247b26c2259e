//! Mints an API key for `mcp_server` (or any server configured with
//! `MCP_OAUTH_API_KEYS_FILE`): prints the key, to hand to the client once, and the line
//! to append to the key file, which holds only the key's SHA-256.
//!
//! ```sh
//! cargo run -p examples --example mint_api_key -- ci-bot tools:call files:read
//! #   key:  mcp_sk_…          (give it to the client; it is not stored anywhere)
//! #   line: {"principal":"ci-bot","sha256":"…","scopes":["tools:call","files:read"]}
//! cargo run -p examples --example mint_api_key -- ci-bot tools:call >> api-keys.jsonl  # line only
//! ```
//!
//! `MCP_OAUTH_API_KEY_PREFIX` changes the prefix, as it does for the server. When stdout is
//! not a terminal, only the line goes there and the key goes to stderr.

use std::io::IsTerminal as _;

use mcp_oauth::{ApiKey, DEFAULT_API_KEY_PREFIX};

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(principal) = args.next() else {
        eprintln!("usage: mint_api_key <principal> [scope ...]");
        std::process::exit(2);
    };
    let prefix = std::env::var("MCP_OAUTH_API_KEY_PREFIX")
        .ok()
        .filter(|p| !p.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_API_KEY_PREFIX.to_owned());
    let key = ApiKey::generate(prefix.trim());
    let line = ApiKey::new(principal, ApiKey::hash(&key))
        .scopes(args)
        .to_line();
    if std::io::stdout().is_terminal() {
        println!("key:  {key}\nline: {line}");
    } else {
        eprintln!("key: {key}");
        println!("{line}");
    }
}
