//! Which scopes an MCP request needs beyond the global ones: per JSON-RPC method and per
//! tool (configured, or registered by `#[require_scope]` on an rmcp tool), decided from
//! the request body before the MCP service runs (OAuth 2.1 §5.2; an HTTP 403 as MCP
//! 2025-11-25 authorization §Runtime Insufficient Scope Errors asks, not a JSON-RPC error).
//!
//! The request-policy layer: [`jsonrpc`] reads the body, [`guard`] holds what
//! `#[require_scope]` registers, this module joins them into [`Requirement`]s. It decides
//! what a request needs and never what a token holds: that comparison is
//! [`crate::scope`]'s, and the answer is rendered by [`crate::refusal`].

pub(crate) mod guard;
mod headers;
mod id;
pub(crate) mod jsonrpc;
mod meta;
mod visit;

use std::collections::HashMap;
use std::time::Duration;

use actix_web::dev::ServiceRequest;
use actix_web::http::Method;

pub(crate) use self::headers::Claimed;
use self::jsonrpc::{BodyError, BodyLimits, Operations};
use crate::body::{self, DEFAULT_BODY_TIMEOUT};
use crate::refusal::{McpBodyProblem, Refusal};
use crate::scope;

/// The largest MCP request body inspected by default.
pub(crate) const DEFAULT_MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// Scopes one operation needs: all of them, or any one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Requirement {
    pub(crate) scopes: Vec<String>,
    pub(crate) any: bool,
}

impl Requirement {
    pub(crate) fn is_met(&self, granted: &[String], hierarchy: bool) -> bool {
        let has = |s: &String| scope::grants(granted, s, hierarchy);
        if self.any {
            self.scopes.is_empty() || self.scopes.iter().any(has)
        } else {
            self.scopes.iter().all(has)
        }
    }
}

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
    pub(crate) methods: HashMap<String, Vec<Requirement>>,
    pub(crate) tools: HashMap<String, Vec<Requirement>>,
    pub(crate) max_body: usize,
    pub(crate) limits: BodyLimits,
    pub(crate) body_timeout: Duration,
}

impl Default for McpPolicy {
    fn default() -> Self {
        Self {
            methods: HashMap::new(),
            tools: HashMap::new(),
            max_body: DEFAULT_MAX_BODY_BYTES,
            limits: BodyLimits::default(),
            body_timeout: DEFAULT_BODY_TIMEOUT,
        }
    }
}

impl McpPolicy {
    /// Adds the tools `#[require_scope]` registered at link time.
    pub(crate) fn with_guarded_tools(mut self) -> Self {
        for tool in guard::guarded_tools() {
            self.tools
                .entry(tool.name.to_owned())
                .or_default()
                .push(Requirement {
                    scopes: tool.scopes.iter().map(|s| (*s).to_owned()).collect(),
                    any: tool.any,
                });
        }
        self
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.methods.is_empty() && self.tools.is_empty()
    }

    /// What the request's `Mcp-Method` / `Mcp-Name` headers announce it needs: a free
    /// hint for the 401 challenge's `scope`, read before any body. Never a decision: the
    /// body decides, once the token is known to be valid.
    pub(crate) fn announced(&self, claimed: &Claimed) -> Vec<Requirement> {
        if self.is_empty() || claimed.is_empty() {
            return Vec::new();
        }
        self.for_operations(&claimed.announced())
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
        Ok(self.for_operations(&ops))
    }

    /// One lookup per distinct method and tool name: linear in the body, whatever it
    /// repeats. The tools count only when some message calls `tools/call`, which
    /// [`jsonrpc::operations`] already decided.
    fn for_operations(&self, ops: &Operations) -> Vec<Requirement> {
        let mut out: Vec<Requirement> = Vec::new();
        let rules = ops
            .methods
            .iter()
            .filter_map(|m| self.methods.get(m))
            .chain(ops.tools.iter().filter_map(|t| self.tools.get(t)));
        for r in rules.flatten() {
            if !out.contains(r) {
                out.push(r.clone());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(scopes: &[&str], any: bool) -> Requirement {
        Requirement {
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            any,
        }
    }

    #[test]
    fn requirements_follow_method_and_tool() {
        let mut p = McpPolicy::default();
        p.methods
            .insert("tools/call".into(), vec![req(&["tools:call"], false)]);
        p.tools
            .insert("delete".into(), vec![req(&["files:delete"], false)]);
        let limits = BodyLimits::default();
        let ops = jsonrpc::operations(br#"[{"method":"tools/call","params":{"name":"delete"}},{"method":"tools/call","params":{"name":"echo"}}]"#, limits)
            .unwrap_or_default();
        assert_eq!(
            p.for_operations(&ops),
            vec![req(&["tools:call"], false), req(&["files:delete"], false)]
        );
        let ops = jsonrpc::operations(br#"{"method":"tools/list"}"#, limits).unwrap_or_default();
        assert!(p.for_operations(&ops).is_empty());
    }

    #[test]
    fn any_and_all_requirements() {
        let granted = vec!["a".to_owned()];
        assert!(req(&["a", "b"], true).is_met(&granted, false));
        assert!(!req(&["a", "b"], false).is_met(&granted, false));
    }
}
