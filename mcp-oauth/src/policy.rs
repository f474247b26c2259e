//! Which scopes an MCP request needs beyond the global ones: per JSON-RPC method and per
//! tool (configured, or registered by `#[require_scope]` on an rmcp tool), decided from
//! the request body before the MCP service runs (spec-checklist items 35, 43-46).

use std::collections::HashMap;

use actix_web::HttpMessage as _;
use actix_web::dev::{Payload, ServiceRequest};
use actix_web::http::Method;
use actix_web::web::{Bytes, BytesMut};
use futures_core::Stream;

use crate::guard;
use crate::jsonrpc::{self, Operation};
use crate::refusal::Refusal;
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
#[derive(Debug, Default)]
pub(crate) struct McpPolicy {
    pub(crate) methods: HashMap<String, Vec<Requirement>>,
    pub(crate) tools: HashMap<String, Vec<Requirement>>,
    /// Request paths whose POST bodies are JSON-RPC (the resource's path, plus any added).
    pub(crate) endpoints: Vec<String>,
    pub(crate) max_body: usize,
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

    fn is_empty(&self) -> bool {
        self.methods.is_empty() && self.tools.is_empty()
    }

    /// Does this request carry a JSON-RPC body whose operations have requirements?
    fn inspects(&self, req: &ServiceRequest) -> bool {
        !self.is_empty()
            && req.method() == Method::POST
            && self.endpoints.iter().any(|p| p == req.path())
    }

    /// The requirements of this request's operations (reading, and putting back, its body).
    ///
    /// A body that is not JSON is handed on untouched: the MCP server answers the parse
    /// error and executes nothing. A body over the cap is refused, since it could not be
    /// checked and the server might execute it.
    pub(crate) async fn requirements(
        &self,
        req: &mut ServiceRequest,
    ) -> Result<Vec<Requirement>, Refusal> {
        if !self.inspects(req) {
            return Ok(Vec::new());
        }
        let body = read_body(req, self.max_body).await?;
        let Some(ops) = jsonrpc::operations(&body) else {
            return Ok(Vec::new());
        };
        Ok(self.for_operations(&ops))
    }

    fn for_operations(&self, ops: &[Operation]) -> Vec<Requirement> {
        let mut out: Vec<Requirement> = Vec::new();
        let mut add = |reqs: Option<&Vec<Requirement>>| {
            for r in reqs.into_iter().flatten() {
                if !out.contains(r) {
                    out.push(r.clone());
                }
            }
        };
        for op in ops {
            add(self.methods.get(&op.method));
            if let Some(tool) = &op.tool {
                add(self.tools.get(tool));
            }
        }
        out
    }
}

/// Reads the whole body, at most `cap` bytes, and puts it back for the service.
async fn read_body(req: &mut ServiceRequest, cap: usize) -> Result<Bytes, Refusal> {
    let mut payload = req.take_payload();
    let mut buf = BytesMut::new();
    loop {
        let next = std::future::poll_fn(|cx| std::pin::Pin::new(&mut payload).poll_next(cx)).await;
        match next {
            None => break,
            Some(Err(_)) => {
                return Err(Refusal::InvalidRequest(
                    "The request body could not be read",
                ));
            }
            Some(Ok(chunk)) => {
                if buf.len() + chunk.len() > cap {
                    return Err(Refusal::PayloadTooLarge);
                }
                buf.extend_from_slice(&chunk);
            }
        }
    }
    let body = buf.freeze();
    req.set_payload(Payload::from(body.clone()));
    Ok(body)
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
        let ops = jsonrpc::operations(br#"[{"method":"tools/call","params":{"name":"delete"}},{"method":"tools/call","params":{"name":"echo"}}]"#)
            .unwrap_or_default();
        assert_eq!(
            p.for_operations(&ops),
            vec![req(&["tools:call"], false), req(&["files:delete"], false)]
        );
        let ops = jsonrpc::operations(br#"{"method":"tools/list"}"#).unwrap_or_default();
        assert!(p.for_operations(&ops).is_empty());
    }

    #[test]
    fn any_and_all_requirements() {
        let granted = vec!["a".to_owned()];
        assert!(req(&["a", "b"], true).is_met(&granted, false));
        assert!(!req(&["a", "b"], false).is_met(&granted, false));
    }
}
