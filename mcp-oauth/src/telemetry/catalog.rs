//! Every metric this crate emits: its name, type, labels and meaning, in one table
//! ([`METRICS`]) that [`describe_metrics`] hands to the recorder and the README lists.

/// Requests judged by the middleware (or the `httpauth` validator).
pub(crate) const REQUESTS: &str = "mcp_oauth_requests_total";
/// Tokens found in the validation cache.
pub(crate) const CACHE_HITS: &str = "mcp_oauth_validation_cache_hits_total";
/// Tokens not found in the validation cache.
pub(crate) const CACHE_MISSES: &str = "mcp_oauth_validation_cache_misses_total";
/// Metadata discovery attempts per issuer.
pub(crate) const DISCOVERY_ATTEMPTS: &str = "mcp_oauth_discovery_attempts_total";
/// Whether an issuer's metadata is known.
pub(crate) const DISCOVERY_READY: &str = "mcp_oauth_discovery_ready";
/// JWKS fetches per issuer.
pub(crate) const JWKS_FETCHES: &str = "mcp_oauth_jwks_fetches_total";
/// Introspections per issuer.
pub(crate) const INTROSPECTIONS: &str = "mcp_oauth_introspections_total";
/// Requests answered 429 per limit.
pub(crate) const RATE_LIMITED: &str = "mcp_oauth_rate_limited_total";
/// Shared-state operations that found no answer, per use.
pub(crate) const SHARED_FAILURES: &str = "mcp_oauth_shared_state_failures_total";
/// Introspection call latency per issuer.
pub(crate) const INTROSPECTION_SECONDS: &str = "mcp_oauth_introspection_duration_seconds";

/// What kind of metric a [`MetricInfo`] is (the Prometheus `TYPE`).
///
/// ```
/// let mut histograms = mcp_oauth::METRICS
///     .iter()
///     .filter(|m| m.kind == mcp_oauth::MetricKind::Histogram);
/// assert!(histograms.all(|m| m.name.ends_with("_seconds")));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MetricKind {
    /// Only goes up (a `_total`).
    Counter,
    /// Goes up and down.
    Gauge,
    /// A distribution of observed values.
    Histogram,
}

/// One metric emitted through the `metrics` facade when the feature `metrics` is on.
///
/// ```
/// let requests = mcp_oauth::METRICS
///     .iter()
///     .find(|m| m.name == "mcp_oauth_requests_total")
///     .unwrap();
/// assert_eq!(requests.labels, ["outcome", "kind"]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct MetricInfo {
    /// The metric's name (Prometheus conventions: `_total`, `_seconds`).
    pub name: &'static str,
    /// Counter, gauge or histogram.
    pub kind: MetricKind,
    /// Its label names. Every value is bounded: a fixed word or a configured issuer.
    pub labels: &'static [&'static str],
    /// What it counts.
    pub help: &'static str,
}

const fn metric(
    name: &'static str,
    kind: MetricKind,
    labels: &'static [&'static str],
    help: &'static str,
) -> MetricInfo {
    MetricInfo {
        name,
        kind,
        labels,
        help,
    }
}

/// Every metric the middleware emits (feature `metrics`), as the README's "Metrics"
/// table lists them.
///
/// ```
/// assert!(mcp_oauth::METRICS.iter().all(|m| m.name.starts_with("mcp_oauth_")));
/// ```
pub const METRICS: &[MetricInfo] = &[
    metric(
        REQUESTS,
        MetricKind::Counter,
        &["outcome", "kind"],
        "Requests judged: outcome `admitted`, or why refused (`missing`, `invalid_request`, \
         `invalid_token`, `insufficient_scope`, `unavailable`, `overloaded`, \
         `payload_too_large`, `unsupported_encoding`, `body_timeout`, `malformed_body`, `header_mismatch`, `rate_limited`); \
         `kind` is the token rejection or the body problem",
    ),
    metric(
        CACHE_HITS,
        MetricKind::Counter,
        &[],
        "Tokens answered from the validation cache",
    ),
    metric(
        CACHE_MISSES,
        MetricKind::Counter,
        &[],
        "Tokens not in the validation cache (validated, or joined a validation in flight)",
    ),
    metric(
        DISCOVERY_ATTEMPTS,
        MetricKind::Counter,
        &["issuer", "outcome"],
        "Authorization server metadata discovery attempts: `found` or `failed`",
    ),
    metric(
        DISCOVERY_READY,
        MetricKind::Gauge,
        &["issuer"],
        "1 once the issuer's metadata is found, 0 after a failed attempt",
    ),
    metric(
        JWKS_FETCHES,
        MetricKind::Counter,
        &["issuer", "outcome"],
        "JWKS fetches: `ok` (fetched and parsed) or `error`",
    ),
    metric(
        INTROSPECTIONS,
        MetricKind::Counter,
        &["issuer", "outcome"],
        "Token introspections (RFC 7662): `active`, `inactive`, `rejected` (active but not \
         for this resource), `error` (no usable answer) or `overloaded` (not sent: too many \
         in flight)",
    ),
    metric(
        RATE_LIMITED,
        MetricKind::Counter,
        &["limit"],
        "Requests answered 429 because a rate limit was spent: `limit` is `metadata` \
         (metadata and diagnostics endpoints, per address), `refusals` (token work per \
         address) or `principal`",
    ),
    metric(
        SHARED_FAILURES,
        MetricKind::Counter,
        &["use"],
        "Operations on the shared state (Redis) that got no answer in time, by `use` \
         (`dpop_replay`, `introspection`, `session`, `rate_limit`, `revocation`): each then \
         followed its use's failure rule (README: Running a fleet)",
    ),
    metric(
        INTROSPECTION_SECONDS,
        MetricKind::Histogram,
        &["issuer"],
        "Duration of each introspection call, answered or failed",
    ),
];

/// Describes every metric of [`METRICS`] to the installed recorder (its help text and, for
/// the histogram, the unit), so an exporter can print `# HELP` lines. Call it once after
/// installing the recorder; counting works without it.
///
/// ```
/// let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
/// let handle = recorder.handle();
/// metrics::with_local_recorder(&recorder, mcp_oauth::describe_metrics);
/// # let _ = handle;
/// ```
#[cfg(feature = "metrics")]
#[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
pub fn describe_metrics() {
    for m in METRICS {
        match m.kind {
            MetricKind::Counter => metrics::describe_counter!(m.name, m.help),
            MetricKind::Gauge => metrics::describe_gauge!(m.name, m.help),
            MetricKind::Histogram => {
                metrics::describe_histogram!(m.name, metrics::Unit::Seconds, m.help)
            }
        }
    }
}
