//! The MCP-aware scope policy (per JSON-RPC method, per tool, prompt and resource) and
//! the bounds on reading request bodies; session binding.

use std::sync::Arc;

use crate::names::{Rules, uri::Pattern};
use crate::policy::{McpPolicy, Requirement, guard};

use super::McpOAuthBuilder;

impl McpOAuthBuilder {
    /// Scopes every JSON-RPC request with this `method` needs (all of them), on top of the
    /// required scopes: e.g. `tools/call`. The middleware reads the body of POSTs to the
    /// MCP endpoint (single messages and batches) and answers 403 with a step-up
    /// challenge before the MCP service runs.
    ///
    /// ```
    /// let oauth = mcp_oauth::McpOAuth::builder()
    ///     .resource("https://mcp.example.com/mcp")
    ///     .authorization_server("https://auth.example.com")
    ///     .jwks_uri("https://auth.example.com/jwks")
    ///     .require_scope_for_method("tools/call", ["tools:call"])
    ///     .build()?;
    /// # let _ = oauth;
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn require_scope_for_method<I, S>(mut self, method: &str, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let scopes = scopes.into_iter().map(Into::into).collect();
        self.method_scopes
            .push((method.to_owned(), Requirement { scopes, any: false }));
        self
    }

    /// Scopes a `tools/call` of the tool `name` needs (all of them). Tools guarded with
    /// `#[require_scope]` register themselves; this is for tools you cannot annotate.
    ///
    /// ```
    /// let oauth = mcp_oauth::McpOAuth::builder()
    ///     .resource("https://mcp.example.com/mcp")
    ///     .authorization_server("https://auth.example.com")
    ///     .jwks_uri("https://auth.example.com/jwks")
    ///     .require_scope_for_tool("delete_file", ["files:delete"])
    ///     .build()?;
    /// # let _ = oauth;
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn require_scope_for_tool<I, S>(mut self, name: &str, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let scopes = scopes.into_iter().map(Into::into).collect();
        self.tool_scopes
            .push((name.to_owned(), Requirement { scopes, any: false }));
        self
    }

    /// Scopes a `prompts/get` of the prompt `name` needs (all of them). Prompts guarded
    /// with `#[require_scope]` register themselves; this is for prompts you cannot
    /// annotate.
    ///
    /// ```
    /// let oauth = mcp_oauth::McpOAuth::builder()
    ///     .resource("https://mcp.example.com/mcp")
    ///     .authorization_server("https://auth.example.com")
    ///     .jwks_uri("https://auth.example.com/jwks")
    ///     .require_scope_for_prompt("incident_report", ["incidents:read"])
    ///     .build()?;
    /// # let _ = oauth;
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn require_scope_for_prompt<I, S>(mut self, name: &str, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let scopes = scopes.into_iter().map(Into::into).collect();
        self.prompt_scopes
            .push((name.to_owned(), Requirement { scopes, any: false }));
        self
    }

    /// Scopes a `resources/read` (or `resources/subscribe`) of a URI matching `pattern`
    /// needs (all of them). `pattern` is an exact URI (`secret://vault/token`) or, ending
    /// in `*`, a prefix (`file:///secrets/*` matches every URI that starts with
    /// `file:///secrets/`, not `file:///secrets` itself); a `*` elsewhere is a
    /// configuration error. Every rule a URI matches applies.
    ///
    /// Pattern and requested URI are both normalised first (RFC 3986 §6.2.2: scheme and
    /// host case, unreserved `%XX` decoded, dot segments removed, default ports dropped,
    /// `file://localhost/` read as `file:///`), so `FILE:///public/../%73ecrets/key` is
    /// `file:///secrets/key`. While resource rules exist, a requested URI with no single
    /// reading (no scheme, `%2F` or `%5C`, a raw `\`, a `..` above the root, a character
    /// outside RFC 3986, a `file` URI with another host) is refused with 400 and a
    /// JSON-RPC `-32602` error.
    ///
    /// ```
    /// let oauth = mcp_oauth::McpOAuth::builder()
    ///     .resource("https://mcp.example.com/mcp")
    ///     .authorization_server("https://auth.example.com")
    ///     .jwks_uri("https://auth.example.com/jwks")
    ///     .require_scope_for_resource("file:///secrets/*", ["secrets:read"])
    ///     .build()?;
    /// # let _ = oauth;
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn require_scope_for_resource<I, S>(mut self, pattern: &str, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let scopes = scopes.into_iter().map(Into::into).collect();
        self.resource_scopes
            .push((pattern.to_owned(), Requirement { scopes, any: false }));
        self
    }

    /// Another request path that receives MCP JSON-RPC POSTs (e.g. the legacy
    /// transport's `/message`). Kept for compatibility and no longer needed: the scope
    /// policy reads every protected POST whose body is a JSON object or array, whatever
    /// its path, so no endpoint has to be listed (and none can be forgotten). The path
    /// must still start with `/`.
    ///
    /// ```
    /// let oauth = mcp_oauth::McpOAuth::builder()
    ///     .resource("https://mcp.example.com/mcp")
    ///     .authorization_server("https://auth.example.com")
    ///     .jwks_uri("https://auth.example.com/jwks")
    ///     .mcp_endpoint("/message")
    ///     .build()?;
    /// # let _ = oauth;
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn mcp_endpoint(mut self, path: impl Into<String>) -> Self {
        self.mcp_endpoints.push(path.into());
        self
    }

    /// Largest JSON request body read to decide its scopes. Default 4 MiB; a larger
    /// JSON body is refused with 413 (it could not be checked). Bodies that are not
    /// JSON are never held. (`MCP_OAUTH_MAX_MCP_BODY_BYTES`)
    ///
    /// ```
    /// let oauth = mcp_oauth::McpOAuth::builder()
    ///     .resource("https://mcp.example.com/mcp")
    ///     .authorization_server("https://auth.example.com")
    ///     .jwks_uri("https://auth.example.com/jwks")
    ///     .max_mcp_body_bytes(1 << 20)
    ///     .build()?;
    /// # let _ = oauth;
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn max_mcp_body_bytes(mut self, bytes: usize) -> Self {
        self.max_mcp_body_bytes = bytes;
        self
    }

    /// Most messages in one JSON-RPC batch the scope policy reads; a longer batch is
    /// refused with 400 and a JSON-RPC `-32600` error. Default 32 (MCP 2025-06-18 and
    /// later send no batches). (`MCP_OAUTH_MAX_MCP_BATCH_LEN`)
    ///
    /// ```
    /// let oauth = mcp_oauth::McpOAuth::builder()
    ///     .resource("https://mcp.example.com/mcp")
    ///     .authorization_server("https://auth.example.com")
    ///     .jwks_uri("https://auth.example.com/jwks")
    ///     .max_mcp_batch_len(8)
    ///     .build()?;
    /// # let _ = oauth;
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn max_mcp_batch_len(mut self, messages: usize) -> Self {
        self.mcp_body_limits.max_batch_len = messages;
        self
    }

    /// Most distinct method and tool names one body may name (a message repeating a
    /// member counts each distinct value); more is refused with 400 and a JSON-RPC
    /// `-32600` error. Default 64. (`MCP_OAUTH_MAX_MCP_NAMES`)
    ///
    /// ```
    /// let oauth = mcp_oauth::McpOAuth::builder()
    ///     .resource("https://mcp.example.com/mcp")
    ///     .authorization_server("https://auth.example.com")
    ///     .jwks_uri("https://auth.example.com/jwks")
    ///     .max_mcp_names(16)
    ///     .build()?;
    /// # let _ = oauth;
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn max_mcp_names(mut self, names: usize) -> Self {
        self.mcp_body_limits.max_names = names;
        self
    }

    /// How long a request body read before the service runs (the scope policy's JSON,
    /// a form checked for a second token) may take; a slower body is answered 408.
    /// Default 5 s. Only authenticated requests' bodies are ever read.
    /// (`MCP_OAUTH_BODY_TIMEOUT_SECS`)
    ///
    /// ```
    /// let oauth = mcp_oauth::McpOAuth::builder()
    ///     .resource("https://mcp.example.com/mcp")
    ///     .authorization_server("https://auth.example.com")
    ///     .jwks_uri("https://auth.example.com/jwks")
    ///     .body_read_timeout(std::time::Duration::from_secs(2))
    ///     .build()?;
    /// # let _ = oauth;
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn body_read_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.body_timeout = timeout;
        self
    }

    /// Scope hierarchy (MCP 2026-07-28): a granted `prefix:*` covers every
    /// `prefix:…` scope, e.g. `tools:*` grants `tools:call`. Off by default.
    ///
    /// ```
    /// # use mcp_oauth::testing::TestAuthServer;
    /// # let auth = TestAuthServer::start();
    /// let resource = "http://127.0.0.1:8080/mcp";
    /// let oauth = auth.configure(resource).required_scopes(["tools:call"]).scope_hierarchy(true).build()?;
    /// let token = auth.token().audience(resource).scope("tools:*").sign();
    /// assert!(actix_web::rt::System::new().block_on(oauth.authenticate(&token)).is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn scope_hierarchy(mut self, on: bool) -> Self {
        self.scope_hierarchy = on;
        self
    }

    /// Binds each MCP session (`Mcp-Session-Id`) to the principal that created it: a
    /// request of another principal naming it is answered 404 and never reaches the MCP
    /// service. On by default (MCP Security Best Practices, session hijacking).
    ///
    /// ```
    /// let oauth = mcp_oauth::McpOAuth::builder()
    ///     .resource("https://mcp.example.com/mcp")
    ///     .authorization_server("https://auth.example.com")
    ///     .jwks_uri("https://auth.example.com/jwks")
    ///     .session_binding(false) // e.g. when a gateway in front already binds sessions
    ///     .build()?;
    /// # let _ = oauth;
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn session_binding(mut self, on: bool) -> Self {
        self.session_binding = on;
        self
    }

    /// Why configured resource patterns cannot be used, one message each.
    pub(super) fn resource_pattern_problems(&self) -> Vec<String> {
        self.resource_scopes
            .iter()
            .filter_map(|(p, _)| Pattern::parse(p).err())
            .collect()
    }

    /// The MCP-aware policy: configured rules, tools and prompts registered by
    /// `#[require_scope]`, and the bounds on reading bodies.
    pub(super) fn mcp_policy(&self) -> McpPolicy {
        let mut rules = Rules::default();
        let registered = guard::guarded_tools()
            .map(|t| (t.name, t.scopes, t.any, false))
            .chain(guard::guarded_prompts().map(|p| (p.name, p.scopes, p.any, true)));
        for (name, scopes, any, prompt) in registered {
            let scopes = scopes.iter().map(|s| (*s).to_owned()).collect();
            let map = if prompt {
                &mut rules.prompts
            } else {
                &mut rules.tools
            };
            map.entry(name.to_owned())
                .or_default()
                .push(Requirement { scopes, any });
        }
        for (map, configured) in [
            (&mut rules.methods, &self.method_scopes),
            (&mut rules.tools, &self.tool_scopes),
            (&mut rules.prompts, &self.prompt_scopes),
        ] {
            for (name, r) in configured {
                map.entry(name.clone()).or_default().push(r.clone());
            }
        }
        for (pattern, r) in &self.resource_scopes {
            // A bad pattern is a configuration problem `build` reports.
            if let Ok(pattern) = Pattern::parse(pattern) {
                rules.resources.push((pattern, r.clone()));
            }
        }
        McpPolicy {
            rules: Arc::new(rules),
            max_body: self.max_mcp_body_bytes,
            limits: self.mcp_body_limits,
            body_timeout: self.body_timeout,
        }
    }
}
