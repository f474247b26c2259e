//! Startup errors: [`ConfigError`], every problem of a configuration at once.

use std::fmt;

/// One thing wrong with the configuration. Displays as `SETTING: message`.
///
/// ```
/// let err = mcp_oauth::McpOAuth::builder().build().unwrap_err();
/// let problem = &err.problems()[0];
/// assert_eq!(problem.setting(), "MCP_OAUTH_RESOURCE");
/// assert_eq!(problem.to_string(), format!("MCP_OAUTH_RESOURCE: {}", problem.message()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    setting: &'static str,
    message: String,
}

impl ConfigProblem {
    pub(crate) fn new(setting: &'static str, message: impl Into<String>) -> Self {
        Self {
            setting,
            message: message.into(),
        }
    }

    /// The environment variable (and builder setting) at fault, e.g. `MCP_OAUTH_RESOURCE`;
    /// `MCP_OAUTH_*` for an unknown variable, and the builder method's name for a
    /// setting that has no variable (`max_token_bytes`).
    ///
    /// ```
    /// let err = mcp_oauth::McpOAuthBuilder::from_vars([("MCP_OAUTH_RESOURSE", "typo")])
    ///     .max_token_bytes(0)
    ///     .build()
    ///     .unwrap_err();
    /// let settings: Vec<&str> = err.problems().iter().map(|p| p.setting()).collect();
    /// assert!(settings.contains(&"MCP_OAUTH_*"));
    /// assert!(settings.contains(&"MCP_OAUTH_RESOURCE")); // missing
    /// assert!(settings.contains(&"max_token_bytes"));
    /// ```
    pub fn setting(&self) -> &'static str {
        self.setting
    }

    /// What is wrong. Never contains a secret's value.
    ///
    /// ```
    /// let err = mcp_oauth::McpOAuth::builder()
    ///     .resource("https://mcp.example.com/mcp")
    ///     .authorization_server("https://auth.example.com")
    ///     .hs256_secret("hunter2")
    ///     .build()
    ///     .unwrap_err();
    /// let message = err.problems()[0].message();
    /// assert!(message.contains("at least 32 bytes"));
    /// assert!(!message.contains("hunter2"));
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.setting, self.message)
    }
}

/// The configuration cannot be used. Lists every problem found, not just the first.
///
/// ```
/// let err = mcp_oauth::McpOAuth::builder().build().unwrap_err();
/// assert!(err.problems().iter().any(|p| p.setting() == "MCP_OAUTH_RESOURCE"));
/// assert!(err.to_string().contains("MCP_OAUTH_AUTHORIZATION_SERVERS"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    problems: Vec<ConfigProblem>,
}

impl ConfigError {
    pub(crate) fn new(problems: Vec<ConfigProblem>) -> Self {
        Self { problems }
    }

    /// Every problem found, in the order `build()` checks them.
    ///
    /// ```
    /// let err = mcp_oauth::McpOAuth::builder().build().unwrap_err();
    /// assert_eq!(err.problems().len(), 2); // the resource, an authorization server
    /// assert!(err.to_string().starts_with("invalid mcp-oauth configuration (2 problems):"));
    /// ```
    pub fn problems(&self) -> &[ConfigProblem] {
        &self.problems
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid mcp-oauth configuration ({} problem",
            self.problems.len()
        )?;
        if self.problems.len() != 1 {
            f.write_str("s")?;
        }
        f.write_str("):")?;
        for p in &self.problems {
            write!(f, "\n  - {p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}
