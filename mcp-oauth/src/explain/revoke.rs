//! What `cargo mcp-oauth revoke` runs: the revocation recorded and published through the
//! configuration's shared state (`MCP_OAUTH_REDIS_*`), exactly as
//! [`McpOAuth::revoke_token`](crate::McpOAuth::revoke_token) and
//! [`revoke_subject`](crate::McpOAuth::revoke_subject) write it. A process of its own
//! cannot reach the servers' memory: without shared state it refuses.

use std::collections::HashMap;

use crate::builder::McpOAuthBuilder;

/// What to revoke.
///
/// ```
/// let what = mcp_oauth::explain::Revocation::Subject("alice");
/// assert!(matches!(what, mcp_oauth::explain::Revocation::Subject(_)));
/// ```
#[derive(Debug, Clone, Copy)]
pub enum Revocation<'a> {
    /// One token (never printed).
    Token(&'a str),
    /// Every token of a `sub` issued until now.
    Subject(&'a str),
}

/// Records and publishes `what` through the shared state `vars` configure; a sentence
/// saying what was done (never the token), or why not.
///
/// ```no_run
/// use mcp_oauth::explain::{Revocation, revoke};
/// let vars = [("MCP_OAUTH_REDIS_URL", "redis://127.0.0.1:6379")];
/// let done = actix_web::rt::System::new().block_on(revoke(vars, Revocation::Subject("alice")));
/// println!("{}", done.unwrap());
/// ```
///
/// # Errors
/// No shared state configured, a setting that cannot work, or Redis not taking it.
pub async fn revoke<I, K, V>(vars: I, what: Revocation<'_>) -> Result<String, String>
where
    I: IntoIterator<Item = (K, V)>,
    K: Into<String>,
    V: Into<String>,
{
    let vars: HashMap<String, String> = vars
        .into_iter()
        .map(|(k, v)| (k.into(), v.into()))
        .collect();
    let settings = McpOAuthBuilder::from_vars(vars).revocation_settings();
    if let Some(problem) = settings.problems.first() {
        return Err(format!("{}: {}", problem.setting(), problem.message()));
    }
    let Some(shared) = settings.shared else {
        return Err(
            "no shared state: set MCP_OAUTH_REDIS_URL to the Redis the servers share \
                    (a separate process cannot reach a server's memory; a lone server \
                    revokes with McpOAuth::revoke_token)"
                .to_owned(),
        );
    };
    let ttl = settings.ttl;
    let done = match what {
        Revocation::Token(token) => {
            let token = token.trim();
            if token.is_empty() {
                return Err("the token is empty".to_owned());
            }
            shared.revoke_token(token, ttl).await.map(|()| "the token")
        }
        Revocation::Subject(subject) => shared
            .revoke_subject(subject, ttl)
            .await
            .map(|()| "every token of the subject issued until now"),
    };
    done.map_err(|e| e.to_string()).map(|what| {
        format!(
            "revoked {what} for every instance using prefix `{}` (remembered at most {} s)",
            shared.prefix(),
            ttl.as_secs()
        )
    })
}
