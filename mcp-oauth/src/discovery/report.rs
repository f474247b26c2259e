//! The startup report: what discovery found at each authorization server, and what in it
//! would stop clients (or this server) from working (RFC 8414 §2, §3.3).
//!
//! [`McpOAuth::discover`](crate::McpOAuth::discover) produces one; so does every later
//! discovery attempt, and [`McpOAuth::report`](crate::McpOAuth::report) shows the latest.
//! Each [`Finding`] names a [`Check`]; the [`Strictness`] decides whether it is an
//! [`Severity::Error`] (the server refuses to start) or a [`Severity::Warning`] (logged).

use std::fmt;

use serde::Serialize;

/// How findings become errors. Set with
/// [`McpOAuthBuilder::discovery_strictness`](crate::McpOAuthBuilder::discovery_strictness)
/// (`MCP_OAUTH_DISCOVERY_STRICTNESS`).
///
/// ```
/// use mcp_oauth::Strictness;
///
/// assert_eq!(Strictness::default(), Strictness::Standard);
/// assert_eq!("strict".parse::<Strictness>(), Ok(Strictness::Strict));
/// assert!("paranoid".parse::<Strictness>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Strictness {
    /// Every finding is a warning: start whatever the metadata says.
    Lenient,
    /// The default: an error only for what makes every client fail (no usable metadata
    /// when it is needed, no PKCE `S256`, no `code` response type) or leaves this server
    /// unable to check tokens (no `jwks_uri` or `introspection_endpoint` when needed);
    /// everything else is a warning.
    #[default]
    Standard,
    /// Every finding is an error.
    Strict,
}

impl std::str::FromStr for Strictness {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "lenient" => Ok(Self::Lenient),
            "standard" => Ok(Self::Standard),
            "strict" => Ok(Self::Strict),
            _ => Err(format!(
                "`{s}` is not one of `lenient`, `standard`, `strict`"
            )),
        }
    }
}

impl Strictness {
    pub(crate) fn severity(self, fatal: bool) -> Severity {
        match self {
            Self::Lenient => Severity::Warning,
            Self::Standard if fatal => Severity::Error,
            Self::Standard => Severity::Warning,
            Self::Strict => Severity::Error,
        }
    }
}

/// Whether a finding stops the server from starting.
///
/// ```
/// use mcp_oauth::Severity;
///
/// assert_eq!(serde_json::to_string(&Severity::Error).unwrap(), "\"error\"");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// [`McpOAuth::discover`](crate::McpOAuth::discover) fails.
    Error,
    /// Logged with `tracing` and shown in the report.
    Warning,
}

/// What a finding is about.
///
/// ```
/// use mcp_oauth::Check;
///
/// assert_eq!(Check::Pkce.to_string(), "pkce");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Check {
    /// No usable metadata document: every URL tried failed, or its `issuer` differed
    /// (RFC 8414 §3.3: then it must not be used).
    Discovery,
    /// `code_challenge_methods_supported` lacks `S256`: MCP clients refuse to proceed.
    Pkce,
    /// Neither `registration_endpoint` nor `client_id_metadata_document_supported`: only
    /// pre-registered clients can connect.
    ClientRegistration,
    /// `response_types_supported` lacks `code`.
    ResponseTypes,
    /// An endpoint is not `https` (plain `http` is accepted on loopback hosts only).
    Https,
    /// The JWKS: missing when JWTs are checked locally, or not the configured one.
    JwksUri,
    /// The introspection endpoint: missing when tokens are introspected.
    IntrospectionEndpoint,
    /// `introspection_endpoint_auth_methods_supported` does not list the configured method.
    IntrospectionAuth,
    /// `protected_resources` is present and does not list this resource.
    ProtectedResources,
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Discovery => "discovery",
            Self::Pkce => "pkce",
            Self::ClientRegistration => "client_registration",
            Self::ResponseTypes => "response_types",
            Self::Https => "https",
            Self::JwksUri => "jwks_uri",
            Self::IntrospectionEndpoint => "introspection_endpoint",
            Self::IntrospectionAuth => "introspection_auth",
            Self::ProtectedResources => "protected_resources",
        })
    }
}

/// One thing a check found.
///
/// ```
/// # use mcp_oauth::{Check, Severity, StartupReport};
/// # fn show(report: &StartupReport) {
/// for server in &report.authorization_servers {
///     for finding in &server.findings {
///         if finding.check == Check::Pkce && finding.severity == Severity::Error {
///             eprintln!("{}: {}", server.issuer, finding.message);
///         }
///     }
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Finding {
    /// What was checked.
    pub check: Check,
    /// Error or warning, under the configured [`Strictness`].
    pub severity: Severity,
    /// What was found, and why it matters.
    pub message: String,
}

impl Finding {
    pub(crate) fn new(
        check: Check,
        fatal: bool,
        strictness: Strictness,
        message: impl Into<String>,
    ) -> Self {
        Self {
            check,
            severity: strictness.severity(fatal),
            message: message.into(),
        }
    }
}

/// Where discovery of one authorization server stands.
///
/// ```
/// use mcp_oauth::DiscoveryStatus;
///
/// assert_eq!(serde_json::to_string(&DiscoveryStatus::Ready).unwrap(), "\"ready\"");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DiscoveryStatus {
    /// Not tried yet: it happens at [`McpOAuth::discover`](crate::McpOAuth::discover) or
    /// on the first token that needs it.
    Pending,
    /// Metadata found and in use.
    Ready,
    /// The last attempt found no usable metadata; it is retried with back-off.
    Failed,
}

/// What is known of one authorization server.
///
/// ```
/// # use mcp_oauth::AuthorizationServerReport;
/// # fn show(server: &AuthorizationServerReport) {
/// println!("{} (metadata: {:?}, keys: {:?})", server.issuer, server.metadata_url, server.jwks_uri);
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct AuthorizationServerReport {
    /// The issuer identifier, as configured.
    pub issuer: String,
    /// Where discovery stands.
    pub status: DiscoveryStatus,
    /// The metadata URL that answered, once one did.
    pub metadata_url: Option<String>,
    /// The JWKS in use (configured or discovered), when JWTs are checked locally.
    pub jwks_uri: Option<String>,
    /// The introspection endpoint in use (configured or discovered), when tokens are
    /// introspected.
    pub introspection_endpoint: Option<String>,
    /// What the checks found, errors first.
    pub findings: Vec<Finding>,
}

impl AuthorizationServerReport {
    pub(crate) fn pending(issuer: &str) -> Self {
        Self {
            issuer: issuer.to_owned(),
            status: DiscoveryStatus::Pending,
            metadata_url: None,
            jwks_uri: None,
            introspection_endpoint: None,
            findings: Vec::new(),
        }
    }
}

/// The authorization servers as discovery found them. Logged with `tracing` (target
/// `mcp_oauth`) when made, returned by [`McpOAuth::discover`](crate::McpOAuth::discover),
/// and served as JSON on the optional
/// [diagnostics path](crate::McpOAuthBuilder::diagnostics_path).
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let oauth = mcp_oauth::McpOAuth::from_env()?;
/// let report = oauth.discover().await?; // Err when a finding is an error
/// for (issuer, warning) in report.warnings() {
///     eprintln!("{issuer}: {}", warning.message);
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct StartupReport {
    /// One entry per configured authorization server, in configuration order.
    pub authorization_servers: Vec<AuthorizationServerReport>,
}

impl StartupReport {
    /// The report without the findings' messages, which may quote error text naming
    /// internal hosts: what the diagnostics path serves.
    pub(crate) fn redacted(&self) -> Self {
        let mut copy = self.clone();
        for server in &mut copy.authorization_servers {
            for finding in &mut server.findings {
                finding.message.clear();
            }
        }
        copy
    }

    fn with(&self, severity: Severity) -> impl Iterator<Item = (&str, &Finding)> {
        self.authorization_servers.iter().flat_map(move |s| {
            s.findings
                .iter()
                .filter(move |f| f.severity == severity)
                .map(move |f| (s.issuer.as_str(), f))
        })
    }

    /// The error findings, each with its issuer.
    ///
    /// ```
    /// # use mcp_oauth::StartupReport;
    /// # fn check(report: &StartupReport) {
    /// assert_eq!(report.errors().count() == 0, report.is_ok());
    /// # }
    /// ```
    pub fn errors(&self) -> impl Iterator<Item = (&str, &Finding)> {
        self.with(Severity::Error)
    }

    /// The warning findings, each with its issuer.
    ///
    /// ```
    /// # use mcp_oauth::StartupReport;
    /// # fn show(report: &StartupReport) {
    /// for (issuer, finding) in report.warnings() {
    ///     eprintln!("{issuer}: {}: {}", finding.check, finding.message);
    /// }
    /// # }
    /// ```
    pub fn warnings(&self) -> impl Iterator<Item = (&str, &Finding)> {
        self.with(Severity::Warning)
    }

    /// No error findings.
    ///
    /// ```
    /// # use mcp_oauth::StartupReport;
    /// # fn check(report: &StartupReport) {
    /// if !report.is_ok() {
    ///     eprintln!("{report}");
    /// }
    /// # }
    /// ```
    pub fn is_ok(&self) -> bool {
        self.errors().next().is_none()
    }
}

impl fmt::Display for StartupReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.authorization_servers.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}: {:?}", s.issuer, s.status)?;
            if let Some(url) = &s.metadata_url {
                write!(f, " (metadata {url})")?;
            }
            for finding in &s.findings {
                let level = match finding.severity {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                };
                write!(f, "\n  - {level} [{}]: {}", finding.check, finding.message)?;
            }
        }
        Ok(())
    }
}

/// [`McpOAuth::discover`](crate::McpOAuth::discover) found errors: the report says
/// which, naming each URL tried and why it failed.
///
/// ```no_run
/// # async fn run() {
/// let oauth = mcp_oauth::McpOAuth::from_env().expect("configuration");
/// if let Err(err) = oauth.discover().await {
///     eprintln!("{err}"); // every error, with the URLs tried
///     std::process::exit(1);
/// }
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct StartupError {
    report: StartupReport,
}

impl StartupError {
    pub(crate) fn new(report: StartupReport) -> Self {
        Self { report }
    }

    /// The whole report, warnings included.
    ///
    /// ```
    /// # fn show(err: &mcp_oauth::StartupError) {
    /// for (issuer, finding) in err.report().errors() {
    ///     eprintln!("{issuer}: {}", finding.message);
    /// }
    /// # }
    /// ```
    pub fn report(&self) -> &StartupReport {
        &self.report
    }
}

impl fmt::Display for StartupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the authorization servers failed the startup checks:")?;
        for (issuer, finding) in self.report.errors() {
            write!(f, "\n  - {issuer} [{}]: {}", finding.check, finding.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for StartupError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(
        issuer: &str,
        status: DiscoveryStatus,
        findings: Vec<Finding>,
    ) -> AuthorizationServerReport {
        AuthorizationServerReport {
            status,
            metadata_url: (status == DiscoveryStatus::Ready)
                .then(|| format!("{issuer}/.well-known/oauth-authorization-server")),
            findings,
            ..AuthorizationServerReport::pending(issuer)
        }
    }

    fn report() -> StartupReport {
        let standard = Strictness::Standard;
        StartupReport {
            authorization_servers: vec![
                server(
                    "https://a.example",
                    DiscoveryStatus::Ready,
                    vec![
                        Finding::new(Check::Pkce, true, standard, "no S256"),
                        Finding::new(Check::ClientRegistration, false, standard, "no DCR"),
                    ],
                ),
                server(
                    "https://b.example",
                    DiscoveryStatus::Failed,
                    vec![Finding::new(
                        Check::Discovery,
                        true,
                        standard,
                        "every URL failed",
                    )],
                ),
                server("https://c.example", DiscoveryStatus::Pending, Vec::new()),
            ],
        }
    }

    #[test]
    fn strictness_is_read_in_any_case_and_a_wrong_one_names_the_choices() {
        assert_eq!("LENIENT".parse(), Ok(Strictness::Lenient));
        assert_eq!("Standard".parse(), Ok(Strictness::Standard));
        assert_eq!("strict".parse(), Ok(Strictness::Strict));
        let err = "loose".parse::<Strictness>().unwrap_err();
        assert_eq!(err, "`loose` is not one of `lenient`, `standard`, `strict`");
    }

    #[test]
    fn strictness_decides_the_severity() {
        for fatal in [true, false] {
            assert_eq!(Strictness::Lenient.severity(fatal), Severity::Warning);
            assert_eq!(Strictness::Strict.severity(fatal), Severity::Error);
        }
        assert_eq!(Strictness::Standard.severity(true), Severity::Error);
        assert_eq!(Strictness::Standard.severity(false), Severity::Warning);
    }

    /// The log line and the diagnostics JSON name a check the same way.
    #[test]
    fn a_check_is_shown_as_its_json_name() {
        let all = [
            Check::Discovery,
            Check::Pkce,
            Check::ClientRegistration,
            Check::ResponseTypes,
            Check::Https,
            Check::JwksUri,
            Check::IntrospectionEndpoint,
            Check::IntrospectionAuth,
            Check::ProtectedResources,
        ];
        for check in all {
            let json = serde_json::to_string(&check).unwrap();
            assert_eq!(json, format!("\"{check}\""));
        }
    }

    #[test]
    fn errors_and_warnings_are_told_apart_with_their_issuer() {
        let report = report();
        let errors: Vec<(&str, Check)> = report.errors().map(|(i, f)| (i, f.check)).collect();
        assert_eq!(
            errors,
            [
                ("https://a.example", Check::Pkce),
                ("https://b.example", Check::Discovery)
            ]
        );
        let warnings: Vec<(&str, Check)> = report.warnings().map(|(i, f)| (i, f.check)).collect();
        assert_eq!(warnings, [("https://a.example", Check::ClientRegistration)]);
        assert!(!report.is_ok());
        let only_warnings = StartupReport {
            authorization_servers: vec![report.authorization_servers[0].clone()]
                .into_iter()
                .map(|mut s| {
                    s.findings.retain(|f| f.severity == Severity::Warning);
                    s
                })
                .collect(),
        };
        assert!(only_warnings.is_ok());
    }

    #[test]
    fn the_report_reads_one_line_per_server_and_finding() {
        assert_eq!(
            report().to_string(),
            "https://a.example: Ready (metadata https://a.example/.well-known/oauth-authorization-server)\n  \
             - error [pkce]: no S256\n  \
             - warning [client_registration]: no DCR\n\
             https://b.example: Failed\n  \
             - error [discovery]: every URL failed\n\
             https://c.example: Pending"
        );
    }

    #[test]
    fn the_startup_error_lists_only_the_errors() {
        let err = StartupError::new(report());
        assert_eq!(
            err.to_string(),
            "the authorization servers failed the startup checks:\n  \
             - https://a.example [pkce]: no S256\n  \
             - https://b.example [discovery]: every URL failed"
        );
        assert_eq!(err.report().warnings().count(), 1);
    }

    #[test]
    fn the_redacted_report_keeps_the_checks_and_drops_the_messages() {
        let redacted = report().redacted();
        let findings: Vec<&Finding> = redacted
            .authorization_servers
            .iter()
            .flat_map(|s| &s.findings)
            .collect();
        assert_eq!(findings.len(), 3);
        assert!(findings.iter().all(|f| f.message.is_empty()));
        assert_eq!(findings[0].check, Check::Pkce);
        assert_eq!(findings[0].severity, Severity::Error);
    }
}
