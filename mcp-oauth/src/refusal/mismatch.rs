//! [`HeaderMismatch`]: the MCP 2026-07-28 `-32020` JSON-RPC error (transports §Server
//! Validation), what it says and which request it answers.

/// Why an MCP request's `Mcp-Method` / `Mcp-Name` headers were refused (see
/// [`Refusal::HeaderMismatch`](crate::Refusal::HeaderMismatch)): a header that does not
/// match the body, is malformed, or is missing where the protocol version requires it.
///
/// ```
/// use mcp_oauth::HeaderMismatch;
///
/// assert_eq!(HeaderMismatch::JSON_RPC_CODE, -32020);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderMismatch(Box<Parts>);

/// Boxed: a [`Refusal`](crate::Refusal) stays small on the paths that return one.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Parts {
    header: &'static str,
    id: Option<serde_json::Value>,
    message: String,
}

impl HeaderMismatch {
    /// The JSON-RPC error code (MCP 2026-07-28 transports §Server Validation).
    pub const JSON_RPC_CODE: i32 = -32020;

    pub(crate) fn new(
        header: &'static str,
        id: Option<serde_json::Value>,
        message: String,
    ) -> Self {
        Self(Box::new(Parts {
            header,
            id,
            message,
        }))
    }

    /// The header at fault (`Mcp-Method` or `Mcp-Name`).
    ///
    /// ```
    /// # fn f(m: &mcp_oauth::HeaderMismatch) {
    /// let header: &str = m.header();
    /// # }
    /// ```
    pub fn header(&self) -> &'static str {
        self.0.header
    }

    /// The request's `id`, echoed in the error (null when the body had none, was a
    /// batch, or its id was neither a number nor a short string).
    ///
    /// ```
    /// # fn f(m: &mcp_oauth::HeaderMismatch) {
    /// let id: Option<&serde_json::Value> = m.id();
    /// # }
    /// ```
    pub fn id(&self) -> Option<&serde_json::Value> {
        self.0.id.as_ref()
    }

    /// The error's `message`, worded as the specification's example
    /// (`Header mismatch: Mcp-Name header value 'foo' does not match body value 'bar'`).
    ///
    /// ```
    /// # fn f(m: &mcp_oauth::HeaderMismatch) {
    /// assert!(m.message().starts_with("Header mismatch: "));
    /// # }
    /// ```
    pub fn message(&self) -> &str {
        &self.0.message
    }
}
