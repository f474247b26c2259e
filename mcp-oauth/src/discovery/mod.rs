//! Authorization server metadata discovery (RFC 8414, OpenID Connect Discovery) and the
//! checks run on what it finds (RFC 8414 §2, §3.3).
//!
//! [`metadata_urls`] is the one place the URL order lives: RFC 8414 path-inserted, then
//! OIDC path-inserted, then OIDC appended (for an issuer without a path, the two root
//! forms), the order MCP clients use. A document whose `issuer` is not the configured
//! issuer code point for code point is never used (RFC 8414 §3.3).
//!
//! [`Discovery`] holds one issuer's result: fetched once, single-flight, and after a
//! failure retried no sooner than a back-off (1 s doubling to 60 s), so a dead
//! authorization server costs each request a 503, not an outbound call.
//!
//! [`report`] says what was found and what is wrong with it; [`endpoint`] serves the
//! redacted report. Discovery judges no token: the validators ask it for endpoints.

pub(crate) mod endpoint;
pub(crate) mod report;

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use crate::discovery::report::{
    AuthorizationServerReport, Check, DiscoveryStatus, Finding, Strictness,
};
use crate::http::{self, HttpLimits};
use crate::refusal::Refusal;
use crate::resource::ResourceParts;
use crate::sync::{self, flight::SingleFlight};
use crate::telemetry::IssuerMetrics;
use crate::url_policy::secure_url;

const OAUTH_WELL_KNOWN: &str = "/.well-known/oauth-authorization-server";
const OIDC_WELL_KNOWN: &str = "/.well-known/openid-configuration";
const FIRST_RETRY: Duration = Duration::from_secs(1);
const LAST_RETRY: Duration = Duration::from_secs(60);

/// The metadata URLs of `issuer`, in the order they are tried (RFC 8414 §3.1 and §5,
/// OpenID Connect Discovery §4; the order of MCP 2025-11-25 authorization §Authorization
/// Server Metadata Discovery).
pub(crate) fn metadata_urls(issuer: &str) -> Vec<String> {
    let parts = ResourceParts::split(issuer);
    let (origin, path) = (parts.origin, parts.path);
    if path.is_empty() {
        vec![
            format!("{origin}{OAUTH_WELL_KNOWN}"),
            format!("{origin}{OIDC_WELL_KNOWN}"),
        ]
    } else {
        vec![
            format!("{origin}{OAUTH_WELL_KNOWN}{path}"),
            format!("{origin}{OIDC_WELL_KNOWN}{path}"),
            format!("{origin}{path}{OIDC_WELL_KNOWN}"),
        ]
    }
}

/// The members of an authorization server's metadata this crate reads. Anything of the
/// wrong JSON type counts as absent.
#[derive(Debug, Clone, Default)]
pub(crate) struct Metadata {
    jwks_uri: Option<String>,
    introspection_endpoint: Option<String>,
    introspection_auth_methods: Option<Vec<String>>,
    authorization_endpoint: Option<String>,
    token_endpoint: Option<String>,
    registration_endpoint: Option<String>,
    client_id_metadata_document_supported: bool,
    code_challenge_methods: Option<Vec<String>>,
    response_types: Option<Vec<String>>,
    protected_resources: Option<Vec<String>>,
}

impl Metadata {
    /// Parses a document and checks its `issuer` against the one it was fetched for.
    fn parse(body: &[u8], issuer: &str) -> Result<Self, String> {
        let doc: Map<String, Value> =
            serde_json::from_slice(body).map_err(|_| "the document is not a JSON object")?;
        let text = |name: &str| doc.get(name).and_then(Value::as_str).map(str::to_owned);
        let list = |name: &str| {
            doc.get(name).and_then(Value::as_array).map(|items| {
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
        };
        match text("issuer") {
            Some(found) if found == issuer => {}
            Some(found) => {
                return Err(format!(
                    "its issuer `{found}` is not `{issuer}` (RFC 8414 §3.3: not used)"
                ));
            }
            None => return Err("it has no `issuer`".into()),
        }
        Ok(Self {
            jwks_uri: text("jwks_uri"),
            introspection_endpoint: text("introspection_endpoint"),
            introspection_auth_methods: list("introspection_endpoint_auth_methods_supported"),
            authorization_endpoint: text("authorization_endpoint"),
            token_endpoint: text("token_endpoint"),
            registration_endpoint: text("registration_endpoint"),
            client_id_metadata_document_supported: doc
                .get("client_id_metadata_document_supported")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            code_challenge_methods: list("code_challenge_methods_supported"),
            response_types: list("response_types_supported"),
            protected_resources: list("protected_resources"),
        })
    }
}

/// A usable metadata document and where it was found.
#[derive(Debug)]
pub(crate) struct Found {
    pub(crate) url: String,
    /// The endpoints this server will call, after the checks (configured ones win).
    pub(crate) jwks_uri: Option<String>,
    pub(crate) introspection_endpoint: Option<String>,
}

/// What token validation needs from this issuer's metadata, and what is configured.
#[derive(Debug, Clone, Default)]
pub(crate) struct Needs {
    /// JWTs are checked locally with a JWKS (not with a shared secret).
    pub(crate) jwks: bool,
    pub(crate) jwks_uri: Option<String>,
    /// Tokens are introspected.
    pub(crate) introspection: bool,
    pub(crate) introspection_endpoint: Option<String>,
    pub(crate) introspection_auth: &'static str,
    /// This resource, for the `protected_resources` cross-check.
    pub(crate) resource: Option<String>,
}

impl Needs {
    /// Validation cannot work without the metadata document.
    fn metadata_required(&self) -> bool {
        (self.jwks && self.jwks_uri.is_none())
            || (self.introspection && self.introspection_endpoint.is_none())
    }
}

/// The checks on a found document: PKCE `S256` (MCP authorization §Authorization Code
/// Protection), the `code` response type, `protected_resources` (RFC 9728 §4), a way to
/// register clients (RFC 7591 or client ID metadata documents), https endpoints
/// (RFC 8414 §2), and the endpoints this server calls (which are used).
fn assess(
    metadata: &Metadata,
    needs: &Needs,
    strictness: Strictness,
    findings: &mut Vec<Finding>,
) -> (Option<String>, Option<String>) {
    let mut finding = |check, fatal, message: String| {
        findings.push(Finding::new(check, fatal, strictness, message));
    };
    if !metadata
        .code_challenge_methods
        .iter()
        .flatten()
        .any(|m| m == "S256")
    {
        finding(
            Check::Pkce,
            true,
            "`code_challenge_methods_supported` does not list `S256`: MCP clients refuse to \
             proceed without PKCE S256 (MCP 2025-11-25, Authorization Code Protection)"
                .into(),
        );
    }
    if !metadata
        .response_types
        .iter()
        .flatten()
        .any(|t| t == "code")
    {
        finding(
            Check::ResponseTypes,
            true,
            "`response_types_supported` does not list `code`: the authorization code flow \
             MCP clients use is not offered"
                .into(),
        );
    }
    if let (Some(listed), Some(ours)) = (&metadata.protected_resources, &needs.resource)
        && !listed.contains(ours)
    {
        finding(
            Check::ProtectedResources,
            false,
            format!(
                "`protected_resources` does not list `{ours}`: the authorization server may \
                 not issue tokens for it (RFC 9728 §4)"
            ),
        );
    }
    if metadata.registration_endpoint.is_none() && !metadata.client_id_metadata_document_supported {
        finding(
            Check::ClientRegistration,
            false,
            "neither `registration_endpoint` (RFC 7591) nor \
             `client_id_metadata_document_supported`: only pre-registered clients can connect"
                .into(),
        );
    }
    for (name, value) in [
        ("authorization_endpoint", &metadata.authorization_endpoint),
        ("token_endpoint", &metadata.token_endpoint),
        ("registration_endpoint", &metadata.registration_endpoint),
    ] {
        if let Some(Err(why)) = value.as_deref().map(secure_url) {
            finding(Check::Https, false, format!("`{name}`: {why}"));
        }
    }

    // The endpoints this server calls: configured ones win; discovered ones must be https.
    let mut endpoint = |used: bool,
                        configured: &Option<String>,
                        discovered: &Option<String>,
                        name: &str,
                        check: Check|
     -> Option<String> {
        if !used {
            return None;
        }
        match (configured, discovered) {
            (Some(ours), Some(theirs)) if ours != theirs => {
                finding(
                    check,
                    false,
                    format!("the configured {name} `{ours}` is not the discovered `{theirs}`"),
                );
                Some(ours.clone())
            }
            (Some(ours), _) => Some(ours.clone()),
            (None, Some(theirs)) => match secure_url(theirs) {
                Ok(_) => Some(theirs.clone()),
                Err(why) => {
                    finding(check, true, format!("`{name}` not used: {why}"));
                    None
                }
            },
            (None, None) => {
                finding(
                    check,
                    true,
                    format!("the metadata has no `{name}`: tokens cannot be checked"),
                );
                None
            }
        }
    };
    let jwks_uri = endpoint(
        needs.jwks,
        &needs.jwks_uri,
        &metadata.jwks_uri,
        "jwks_uri",
        Check::JwksUri,
    );
    let introspection_endpoint = endpoint(
        needs.introspection,
        &needs.introspection_endpoint,
        &metadata.introspection_endpoint,
        "introspection_endpoint",
        Check::IntrospectionEndpoint,
    );
    if needs.introspection
        && let Some(methods) = &metadata.introspection_auth_methods
        && !methods.iter().any(|m| m == needs.introspection_auth)
    {
        finding(
            Check::IntrospectionAuth,
            false,
            format!(
                "`introspection_endpoint_auth_methods_supported` ({}) does not list `{}`, \
                 the configured method",
                methods.join(", "),
                needs.introspection_auth
            ),
        );
    }
    (jwks_uri, introspection_endpoint)
}

#[derive(Debug)]
struct State {
    found: Option<Arc<Found>>,
    report: AuthorizationServerReport,
    failures: u32,
    retry_at: Option<Instant>,
}

/// One issuer's discovery: the document once found, the latest report, the back-off.
#[derive(Debug)]
pub(crate) struct Discovery {
    issuer: String,
    needs: Needs,
    strictness: Strictness,
    limits: HttpLimits,
    state: RwLock<State>,
    /// At most one attempt at a time; concurrent askers share it.
    attempts: SingleFlight<(), Option<Arc<Found>>>,
    retrying: std::sync::atomic::AtomicBool,
    /// This issuer's counters, shared with its JWKS cache and introspector.
    metrics: Arc<IssuerMetrics>,
}

impl Discovery {
    pub(crate) fn new(
        issuer: String,
        needs: Needs,
        strictness: Strictness,
        limits: HttpLimits,
    ) -> Self {
        let mut report = AuthorizationServerReport::pending(&issuer);
        report.jwks_uri = needs.jwks_uri.clone();
        report.introspection_endpoint = needs.introspection_endpoint.clone();
        Self {
            needs,
            strictness,
            limits,
            state: RwLock::new(State {
                found: None,
                report,
                failures: 0,
                retry_at: None,
            }),
            attempts: SingleFlight::new(1),
            retrying: std::sync::atomic::AtomicBool::new(false),
            metrics: Arc::new(IssuerMetrics::new(&issuer)),
            issuer,
        }
    }

    fn read<T>(&self, f: impl FnOnce(&State) -> T) -> T {
        f(&sync::read(&self.state))
    }

    fn write(&self, f: impl FnOnce(&mut State)) {
        f(&mut sync::write(&self.state))
    }

    pub(crate) fn issuer(&self) -> &str {
        &self.issuer
    }

    /// This issuer's counters.
    pub(crate) fn metrics(&self) -> &Arc<IssuerMetrics> {
        &self.metrics
    }

    /// The latest report (pending until the first attempt).
    pub(crate) fn report(&self) -> AuthorizationServerReport {
        self.read(|s| s.report.clone())
    }

    /// The metadata, discovering it now if need be (single-flight). While the
    /// authorization server keeps failing, a request inside the back-off gets a 503 at
    /// once instead of waiting for another attempt.
    pub(crate) async fn metadata(&self) -> Result<Arc<Found>, Refusal> {
        let unavailable = || {
            Refusal::Unavailable(format!(
                "no usable metadata for the authorization server {}",
                self.issuer
            ))
        };
        let waiting = |s: &State| s.retry_at.is_some_and(|t| Instant::now() < t);
        if let Some(found) = self.read(|s| s.found.clone()) {
            return Ok(found);
        }
        if self.read(waiting) {
            return Err(unavailable());
        }
        self.attempt_once().await.ok_or_else(unavailable)
    }

    /// Found already, or else one attempt shared by every concurrent caller; none inside
    /// the back-off after a failure.
    async fn attempt_once(&self) -> Option<Arc<Found>> {
        self.attempts
            .run((), || async {
                // An attempt that just landed may have succeeded or failed.
                if let Some(found) = self.read(|s| s.found.clone()) {
                    return Some(found);
                }
                if self.read(|s| s.retry_at.is_some_and(|t| Instant::now() < t)) {
                    return None;
                }
                self.attempt().await
            })
            .await
    }

    /// Discovers now unless already done, and returns the report.
    pub(crate) async fn discover(&self) -> AuthorizationServerReport {
        self.attempt_unless_found().await;
        self.report()
    }

    pub(crate) fn is_ready(&self) -> bool {
        self.read(|s| s.found.is_some())
    }

    /// Keeps retrying with back-off until the metadata is found (at most one such loop).
    pub(crate) fn retry_in_background(self: &Arc<Self>) {
        use std::sync::atomic::Ordering;
        if self.is_ready() || self.retrying.swap(true, Ordering::AcqRel) {
            return;
        }
        // Weak: the loop ends with the middleware, not only with success.
        let weak = Arc::downgrade(self);
        actix_web::rt::spawn(async move {
            let pending = |weak: &std::sync::Weak<Self>| {
                let this = weak.upgrade()?;
                (!this.is_ready()).then(|| {
                    this.read(|s| {
                        s.retry_at
                            .map_or(FIRST_RETRY, |t| t.saturating_duration_since(Instant::now()))
                    })
                })
            };
            while let Some(wait) = pending(&weak) {
                actix_web::rt::time::sleep(wait).await;
                let Some(this) = weak.upgrade() else { break };
                this.attempt_unless_found().await;
            }
            if let Some(this) = weak.upgrade() {
                this.retrying.store(false, Ordering::Release);
            }
        });
    }

    /// Found already, or else one attempt (back-off or not), shared by concurrent callers.
    async fn attempt_unless_found(&self) -> Option<Arc<Found>> {
        self.attempts
            .run((), || async {
                match self.read(|s| s.found.clone()) {
                    Some(found) => Some(found),
                    None => self.attempt().await,
                }
            })
            .await
    }

    /// One pass over the metadata URLs. Call inside a flight of `attempts`.
    async fn attempt(&self) -> Option<Arc<Found>> {
        let mut tried = Vec::new();
        let mut findings = Vec::new();
        let mut found = None;
        for url in metadata_urls(&self.issuer) {
            let result = http::get_json(&url, self.limits)
                .await
                .map_err(|e| e.to_string())
                .and_then(|fetched| Metadata::parse(&fetched.body, &self.issuer));
            match result {
                Ok(metadata) => {
                    let (jwks_uri, introspection_endpoint) =
                        assess(&metadata, &self.needs, self.strictness, &mut findings);
                    found = Some(Arc::new(Found {
                        url,
                        jwks_uri,
                        introspection_endpoint,
                    }));
                    break;
                }
                Err(why) => tried.push(format!("{url}: {why}")),
            }
        }
        if found.is_none() {
            let needed = if self.needs.metadata_required() {
                "tokens cannot be checked until it is found"
            } else {
                "clients cannot discover it either"
            };
            findings.push(Finding::new(
                Check::Discovery,
                self.needs.metadata_required(),
                self.strictness,
                format!("no usable metadata ({needed}); tried {}", tried.join("; ")),
            ));
        }
        findings.sort_by_key(|f| f.severity != crate::discovery::report::Severity::Error);
        let report = AuthorizationServerReport {
            issuer: self.issuer.clone(),
            status: if found.is_some() {
                DiscoveryStatus::Ready
            } else {
                DiscoveryStatus::Failed
            },
            metadata_url: found.as_ref().map(|f| f.url.clone()),
            jwks_uri: match &found {
                Some(f) => f.jwks_uri.clone(),
                None => self.needs.jwks_uri.clone(),
            },
            introspection_endpoint: match &found {
                Some(f) => f.introspection_endpoint.clone(),
                None => self.needs.introspection_endpoint.clone(),
            },
            findings,
        };
        log(&report);
        self.metrics.discovery(found.is_some());
        self.write(|s| {
            s.report = report;
            match &found {
                Some(f) => {
                    s.found = Some(f.clone());
                    s.failures = 0;
                    s.retry_at = None;
                }
                None => {
                    s.failures = s.failures.saturating_add(1);
                    let backoff = FIRST_RETRY
                        .saturating_mul(1 << s.failures.saturating_sub(1).min(6))
                        .min(LAST_RETRY);
                    s.retry_at = Some(Instant::now() + backoff);
                }
            }
        });
        found
    }
}

fn log(report: &AuthorizationServerReport) {
    use crate::discovery::report::Severity;
    match &report.metadata_url {
        Some(url) => tracing::info!(
            target: "mcp_oauth",
            issuer = %report.issuer,
            metadata = %url,
            jwks_uri = ?report.jwks_uri,
            introspection_endpoint = ?report.introspection_endpoint,
            "authorization server discovered"
        ),
        None => {
            tracing::warn!(target: "mcp_oauth", issuer = %report.issuer, "authorization server discovery failed")
        }
    }
    for f in &report.findings {
        match f.severity {
            Severity::Error => {
                tracing::error!(target: "mcp_oauth", issuer = %report.issuer, check = %f.check, "{}", f.message)
            }
            Severity::Warning => {
                tracing::warn!(target: "mcp_oauth", issuer = %report.issuer, check = %f.check, "{}", f.message)
            }
        }
    }
}

#[cfg(test)]
mod tests;
