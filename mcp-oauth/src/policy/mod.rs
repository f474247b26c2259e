//! Which scopes an MCP request needs beyond the global ones: per JSON-RPC method and per
//! tool, prompt or resource URI (configured, or registered by `#[require_scope]` on an
//! rmcp tool or prompt), decided from the request body before the MCP service runs
//! (OAuth 2.1 §5.2; an HTTP 403 as MCP 2025-11-25 authorization §Runtime Insufficient
//! Scope Errors asks, not a JSON-RPC error).
//!
//! The request-policy layer: [`jsonrpc`] reads the body, [`guard`] holds what
//! `#[require_scope]` registers, [`crate::names`] holds the rules, this module joins them
//! into [`Requirement`]s. It decides what a request needs and never what a token holds:
//! that comparison is [`crate::scope`]'s, and the answer is rendered by
//! [`crate::refusal`].

pub(crate) mod guard;
mod headers;
mod id;
pub(crate) mod jsonrpc;
mod meta;
mod visit;

use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::ServiceRequest;
use actix_web::http::Method;

pub(crate) use self::headers::Claimed;
use self::jsonrpc::{BodyError, BodyLimits, Operations};
use crate::body::{self, DEFAULT_BODY_TIMEOUT};
pub(crate) use crate::names::Requirement;
use crate::names::uri::Unclear;
use crate::names::{Kind, Rules};
use crate::refusal::{McpBodyProblem, Refusal};

/// The largest MCP request body inspected by default.
pub(crate) const DEFAULT_MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// The MCP-aware part of the scope policy.
///
/// Which requests it reads: every POST the middleware protects whose body is a JSON
/// object or array, whatever its path. Deciding "is this the MCP endpoint" from the path
/// would have to agree with the router on percent-decoding, trailing slashes, merged
/// slashes and dot segments, and with every transport's extra paths; reading every JSON
/// POST needs no such agreement, so no spelling of a path reaches an MCP service
/// unchecked. Bodies that are not JSON (forms, uploads) are streamed through unread
/// after their first significant byte.
#[derive(Debug)]
pub(crate) struct McpPolicy {
    /// Per method and per name; shared with every [`crate::AuthenticatedClient`] for the
    /// list filter.
    pub(crate) rules: Arc<Rules>,
    pub(crate) max_body: usize,
    pub(crate) limits: BodyLimits,
    pub(crate) body_timeout: Duration,
}

impl Default for McpPolicy {
    fn default() -> Self {
        Self {
            rules: Arc::default(),
            max_body: DEFAULT_MAX_BODY_BYTES,
            limits: BodyLimits::default(),
            body_timeout: DEFAULT_BODY_TIMEOUT,
        }
    }
}

impl McpPolicy {
    pub(crate) fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// What the request's `Mcp-Method` / `Mcp-Name` headers announce it needs: a free
    /// hint for the 401 challenge's `scope`, read before any body. Never a decision: the
    /// body decides, once the token is known to be valid.
    pub(crate) fn announced(&self, claimed: &Claimed) -> Vec<Requirement> {
        if self.is_empty() || claimed.is_empty() {
            return Vec::new();
        }
        // A resource URI without a single reading announces nothing: the body decides.
        self.for_operations(&claimed.announced())
            .unwrap_or_default()
    }

    /// The requirements of this request's operations, read from its body (which is put
    /// back intact for the service). Called only once the token is known to be valid.
    ///
    /// - not a POST, or no rules: nothing to read;
    /// - a compressed body: 415, since what it asks cannot be read;
    /// - a body that is not a JSON object or array: nothing (forms, uploads);
    /// - a JSON body over the cap: 413; not JSON after all, or over the bounds on batch
    ///   length and distinct names: 400 with a JSON-RPC error;
    /// - a body that does not arrive in time: 408;
    /// - `Mcp-Method` / `Mcp-Name` headers that disagree with the body, are malformed, or
    ///   are missing from a 2026-07-28 Streamable HTTP request: 400 with a JSON-RPC
    ///   `-32020` error ([`headers`]). Such headers, or `MCP-Protocol-Version: 2026-07-28`
    ///   on a Streamable HTTP POST, make the body read even without rules;
    /// - an `MCP-Protocol-Version` that differs from the body's `_meta` protocol version,
    ///   or is missing beside one: the same 400 ([`meta`]), whenever the body is read.
    /// - a `resources/read` or `resources/subscribe` URI without a single reading while
    ///   resource rules exist: 400 with a JSON-RPC `-32602` error
    ///   ([`crate::names::uri`]).
    pub(crate) async fn requirements(
        &self,
        req: &mut ServiceRequest,
        claimed: &Claimed,
    ) -> Result<Vec<Requirement>, Refusal> {
        if req.method() != Method::POST {
            return Ok(Vec::new());
        }
        if self.is_empty() && claimed.is_empty() {
            return Ok(Vec::new());
        }
        if body::is_encoded(req) {
            return Err(Refusal::UnsupportedEncoding);
        }
        let head = body::read_head(req, self.max_body, self.body_timeout, |b| {
            body::first_significant(b).is_some_and(|c| c != b'{' && c != b'[')
        })
        .await?;
        match body::first_significant(&head.bytes) {
            Some(b'{' | b'[') => {}
            None if head.complete => return Ok(Vec::new()),
            None => return Err(Refusal::PayloadTooLarge),
            Some(_) => return Ok(Vec::new()),
        }
        if !head.complete {
            return Err(Refusal::PayloadTooLarge);
        }
        let ops = jsonrpc::operations(&head.bytes, self.limits).map_err(|e| {
            Refusal::MalformedMcpBody(match e {
                BodyError::Malformed => McpBodyProblem::NotJson,
                BodyError::BatchTooLong => McpBodyProblem::BatchTooLong,
                BodyError::TooManyNames => McpBodyProblem::TooManyNames,
            })
        })?;
        claimed
            .check(&ops, req.headers())
            .map_err(Refusal::HeaderMismatch)?;
        self.for_operations(&ops)
            .map_err(|_| Refusal::MalformedMcpBody(McpBodyProblem::UnclearResourceUri))
    }

    /// One lookup per distinct method and name: linear in the body, whatever it repeats.
    /// Tools, prompts and resources count only when some message calls `tools/call`,
    /// `prompts/get`, `resources/read` or `resources/subscribe`, which
    /// [`jsonrpc::operations`] already decided; every resource pattern a URI matches
    /// applies.
    fn for_operations(&self, ops: &Operations) -> Result<Vec<Requirement>, Unclear> {
        let mut out: Vec<Requirement> = Vec::new();
        let mut add = |r: &Requirement| {
            if !out.contains(r) {
                out.push(r.clone());
            }
        };
        let rules = &self.rules;
        ops.methods
            .iter()
            .filter_map(|m| rules.methods.get(m))
            .flatten()
            .for_each(&mut add);
        for (kind, names) in [
            (Kind::Tool, &ops.tools),
            (Kind::Prompt, &ops.prompts),
            (Kind::Resource, &ops.resources),
        ] {
            for name in names {
                rules.for_name(kind, name)?.into_iter().for_each(&mut add);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(scopes: &[&str]) -> Requirement {
        Requirement {
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            any: false,
        }
    }

    #[test]
    fn requirements_follow_method_and_name() {
        let mut rules = Rules::default();
        rules
            .methods
            .insert("tools/call".into(), vec![req(&["tools:call"])]);
        rules
            .tools
            .insert("delete".into(), vec![req(&["files:delete"])]);
        rules.prompts.insert("delete".into(), vec![req(&["p"])]);
        let pattern = crate::names::uri::Pattern::parse("file:///secrets/*");
        rules
            .resources
            .push((pattern.unwrap_or_else(|e| panic!("{e}")), req(&["s"])));
        let p = McpPolicy {
            rules: Arc::new(rules),
            ..McpPolicy::default()
        };
        let limits = BodyLimits::default();
        let read = |body: &str| jsonrpc::operations(body.as_bytes(), limits).unwrap_or_default();
        let ops = read(
            r#"[{"method":"tools/call","params":{"name":"delete"}},{"method":"tools/call","params":{"name":"echo"}}]"#,
        );
        assert_eq!(
            p.for_operations(&ops),
            Ok(vec![req(&["tools:call"]), req(&["files:delete"])])
        );
        assert_eq!(
            p.for_operations(&read(r#"{"method":"tools/list"}"#)),
            Ok(vec![])
        );
        let prompt = read(r#"{"method":"prompts/get","params":{"name":"delete"}}"#);
        assert_eq!(p.for_operations(&prompt), Ok(vec![req(&["p"])]));
        let res = read(r#"{"method":"resources/read","params":{"uri":"FILE:///a/../secrets/k"}}"#);
        assert_eq!(p.for_operations(&res), Ok(vec![req(&["s"])]));
        let res = read(r#"{"method":"resources/read","params":{"uri":"file:///a%2fb"}}"#);
        assert!(p.for_operations(&res).is_err());
        // A `uri` of another method is no resource read.
        let other = read(r#"{"method":"tools/call","params":{"uri":"file:///secrets/k"}}"#);
        assert_eq!(p.for_operations(&other), Ok(vec![req(&["tools:call"])]));
    }
}
