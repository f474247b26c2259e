//! What operators can count and trace: the outcome of every request, the validation
//! cache, and each authorization server's discovery, JWKS fetches and introspection calls.
//!
//! Counters, gauges and histograms go through the `metrics` facade (feature `metrics`), so
//! any exporter the application installs receives them; without the feature every function
//! here is empty and costs nothing. The names follow the Prometheus conventions (`_total`
//! counters, `_seconds` histograms); the README's "Metrics" table lists them.
//!
//! Label values are bounded: static strings ([`outcome`]'s names, the [`TokenRejection`]
//! variants in snake case) or a configured issuer URL; never a path, a subject, a token or
//! text from an authorization server.
//!
//! [`TokenRejection`]: crate::TokenRejection

mod catalog;
mod issuer;
mod outcome;

use crate::refusal::Refusal;

#[cfg(feature = "metrics")]
pub use catalog::describe_metrics;
pub use catalog::{METRICS, MetricInfo, MetricKind};
pub(crate) use issuer::{IssuerMetrics, Timer};
pub(crate) use outcome::outcome;

#[cfg(feature = "metrics")]
static METADATA: metrics::Metadata<'static> =
    metrics::Metadata::new("mcp_oauth", metrics::Level::INFO, Some(module_path!()));

/// Adds one to the counter `key` of the installed recorder (none: nothing happens).
#[cfg(feature = "metrics")]
fn increment(key: &metrics::Key) {
    metrics::with_recorder(|r| r.register_counter(key, &METADATA).increment(1));
}

/// Counts one request judged: admitted, or refused for `refusal`. The one call each entry
/// point (the middleware's `Inner::admit`, the `httpauth` validator) makes.
pub(crate) fn request(result: Result<(), &Refusal>) {
    #[cfg(feature = "metrics")]
    increment(&outcome(result).key);
    #[cfg(not(feature = "metrics"))]
    let _ = result;
}

/// Counts a token found in the validation cache.
pub(crate) fn cache_hit() {
    #[cfg(feature = "metrics")]
    {
        static KEY: metrics::Key = metrics::Key::from_static_name(catalog::CACHE_HITS);
        increment(&KEY);
    }
}

/// Counts a token not found in the validation cache.
pub(crate) fn cache_miss() {
    #[cfg(feature = "metrics")]
    {
        static KEY: metrics::Key = metrics::Key::from_static_name(catalog::CACHE_MISSES);
        increment(&KEY);
    }
}

/// Counts one request answered 429 by the rate limit named `limit`: `metadata`,
/// `refusals` or `principal`. Each key is built at compile time.
pub(crate) fn rate_limited(limit: &'static str) {
    #[cfg(feature = "metrics")]
    {
        macro_rules! key {
            ($limit:literal) => {{
                static LABELS: [metrics::Label; 1] =
                    [metrics::Label::from_static_parts("limit", $limit)];
                static KEY: metrics::Key =
                    metrics::Key::from_static_parts(catalog::RATE_LIMITED, &LABELS);
                &KEY
            }};
        }
        increment(match limit {
            "metadata" => key!("metadata"),
            "refusals" => key!("refusals"),
            _ => key!("principal"),
        });
    }
    #[cfg(not(feature = "metrics"))]
    let _ = limit;
}

/// What a shared-state (Redis) operation was for: the `use` label of its failures, and
/// what keeps their warnings apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SharedUse {
    DpopReplay,
    Introspection,
    Session,
    RateLimit,
    Revocation,
}

impl SharedUse {
    /// How many uses there are (each its own index, `use as usize`).
    pub(crate) const COUNT: usize = 5;

    /// The label value.
    pub(crate) const fn label(self) -> &'static str {
        match self {
            Self::DpopReplay => "dpop_replay",
            Self::Introspection => "introspection",
            Self::Session => "session",
            Self::RateLimit => "rate_limit",
            Self::Revocation => "revocation",
        }
    }
}

/// Counts one shared-state operation that got no answer, by its use. Each key is built
/// at compile time.
pub(crate) fn shared_failure(what: SharedUse) {
    #[cfg(feature = "metrics")]
    {
        use SharedUse::*;
        const fn label(u: SharedUse) -> [metrics::Label; 1] {
            [metrics::Label::from_static_parts("use", u.label())]
        }
        static LABELS: [[metrics::Label; 1]; SharedUse::COUNT] = [
            label(DpopReplay),
            label(Introspection),
            label(Session),
            label(RateLimit),
            label(Revocation),
        ];
        const fn key(i: usize) -> metrics::Key {
            metrics::Key::from_static_parts(catalog::SHARED_FAILURES, &LABELS[i])
        }
        static KEYS: [metrics::Key; SharedUse::COUNT] = [key(0), key(1), key(2), key(3), key(4)];
        increment(&KEYS[what as usize]);
    }
    #[cfg(not(feature = "metrics"))]
    let _ = what;
}

/// Writes the outcome of a judgement into `span`'s `outcome` (and `kind`) fields: `valid`,
/// or the refusal's [`outcome`] names.
pub(crate) fn record(span: &tracing::Span, result: Result<(), &Refusal>) {
    if span.is_disabled() {
        return;
    }
    match result {
        Ok(()) => {
            span.record("outcome", "valid");
        }
        Err(refusal) => {
            let o = outcome(Err(refusal));
            span.record("outcome", o.name);
            if let Some(kind) = o.kind {
                span.record("kind", kind);
            }
        }
    }
}
