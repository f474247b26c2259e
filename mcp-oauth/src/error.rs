//! Startup errors: [`ConfigError`], every problem of a configuration at once.

use std::fmt;

/// One thing wrong with the configuration.
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

    /// The environment variable (and builder setting) at fault, e.g. `MCP_OAUTH_RESOURCE`.
    pub fn setting(&self) -> &'static str {
        self.setting
    }

    /// What is wrong. Never contains a secret's value.
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

    /// Every problem found.
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
