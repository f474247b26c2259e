//! One authorization server's counters: discovery attempts and readiness, JWKS fetches,
//! introspection calls and their latency, each labelled with the configured `issuer`
//! (bounded: the issuers are configured). The keys are made once, when the issuer's
//! discovery is built; counting looks them up, it never formats or allocates.

use crate::refusal::{Refusal, TokenRejection};

/// The keys of one issuer's metrics (without the feature: nothing, and every method is
/// empty).
pub(crate) struct IssuerMetrics {
    #[cfg(feature = "metrics")]
    keys: Keys,
}

#[cfg(feature = "metrics")]
struct Keys {
    discovery_found: metrics::Key,
    discovery_failed: metrics::Key,
    discovery_ready: metrics::Key,
    jwks_ok: metrics::Key,
    jwks_error: metrics::Key,
    /// By outcome, in the order of [`IntrospectionOutcome`].
    introspections: [metrics::Key; 5],
    introspection_seconds: metrics::Key,
}

impl std::fmt::Debug for IssuerMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuerMetrics").finish_non_exhaustive()
    }
}

/// How one introspection ended (the `outcome` label of `mcp_oauth_introspections_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IntrospectionOutcome {
    /// The token is active and acceptable.
    Active,
    /// The authorization server says it is not active (or refuses to introspect it).
    Inactive,
    /// Active, but not for this resource (audience, times, type, issuer).
    Rejected,
    /// No answer that judges the token: an outage, no endpoint (503).
    Error,
    /// Not asked: too many calls in flight (503 + `Retry-After`).
    Overloaded,
}

impl IntrospectionOutcome {
    #[cfg(any(feature = "metrics", test))]
    const NAMES: [&'static str; 5] = ["active", "inactive", "rejected", "error", "overloaded"];

    fn of<T>(result: &Result<T, Refusal>) -> Self {
        match result {
            Ok(_) => Self::Active,
            Err(Refusal::InvalidToken(TokenRejection::Inactive)) => Self::Inactive,
            Err(Refusal::InvalidToken(_)) => Self::Rejected,
            Err(Refusal::Overloaded { .. }) => Self::Overloaded,
            Err(_) => Self::Error,
        }
    }
}

impl IssuerMetrics {
    /// The keys for `issuer`.
    pub(crate) fn new(issuer: &str) -> Self {
        #[cfg(not(feature = "metrics"))]
        let _ = issuer;
        Self {
            #[cfg(feature = "metrics")]
            keys: Keys::new(issuer),
        }
    }

    /// One discovery attempt ended: `found` or not. The readiness gauge follows it.
    pub(crate) fn discovery(&self, found: bool) {
        #[cfg(feature = "metrics")]
        {
            let k = &self.keys;
            super::increment(if found {
                &k.discovery_found
            } else {
                &k.discovery_failed
            });
            metrics::with_recorder(|r| {
                r.register_gauge(&k.discovery_ready, &super::METADATA)
                    .set(f64::from(u8::from(found)));
            });
        }
        #[cfg(not(feature = "metrics"))]
        let _ = found;
    }

    /// One JWKS fetch ended: `ok` (fetched and parsed) or not.
    pub(crate) fn jwks_fetch(&self, ok: bool) {
        #[cfg(feature = "metrics")]
        super::increment(if ok {
            &self.keys.jwks_ok
        } else {
            &self.keys.jwks_error
        });
        #[cfg(not(feature = "metrics"))]
        let _ = ok;
    }

    /// One introspection ended with `result`.
    pub(crate) fn introspection<T>(&self, result: &Result<T, Refusal>) {
        let outcome = IntrospectionOutcome::of(result);
        #[cfg(feature = "metrics")]
        super::increment(&self.keys.introspections[outcome as usize]);
        #[cfg(not(feature = "metrics"))]
        let _ = outcome;
    }

    /// One introspection call, started at `timer`, has been answered (or failed).
    pub(crate) fn introspection_call(&self, timer: Timer) {
        #[cfg(feature = "metrics")]
        metrics::with_recorder(|r| {
            r.register_histogram(&self.keys.introspection_seconds, &super::METADATA)
                .record(timer.started.elapsed().as_secs_f64());
        });
        #[cfg(not(feature = "metrics"))]
        let _ = timer;
    }
}

#[cfg(feature = "metrics")]
impl Keys {
    fn new(issuer: &str) -> Self {
        use metrics::{Key, Label};
        let key = |name: &'static str, outcome: Option<&'static str>| {
            let mut labels = vec![Label::new("issuer", issuer.to_owned())];
            labels.extend(outcome.map(|o| Label::from_static_parts("outcome", o)));
            Key::from_parts(name, labels)
        };
        Self {
            discovery_found: key(super::catalog::DISCOVERY_ATTEMPTS, Some("found")),
            discovery_failed: key(super::catalog::DISCOVERY_ATTEMPTS, Some("failed")),
            discovery_ready: key(super::catalog::DISCOVERY_READY, None),
            jwks_ok: key(super::catalog::JWKS_FETCHES, Some("ok")),
            jwks_error: key(super::catalog::JWKS_FETCHES, Some("error")),
            introspections: IntrospectionOutcome::NAMES
                .map(|outcome| key(super::catalog::INTROSPECTIONS, Some(outcome))),
            introspection_seconds: key(super::catalog::INTROSPECTION_SECONDS, None),
        }
    }
}

/// When a timed call began (without the feature: nothing, and no clock is read).
#[derive(Debug)]
pub(crate) struct Timer {
    #[cfg(feature = "metrics")]
    started: std::time::Instant,
}

impl Timer {
    pub(crate) fn start() -> Self {
        Self {
            #[cfg(feature = "metrics")]
            started: std::time::Instant::now(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn introspection_outcomes_are_named_by_what_the_answer_meant() {
        let of = |r: Result<(), Refusal>| {
            IntrospectionOutcome::NAMES[IntrospectionOutcome::of(&r) as usize]
        };
        assert_eq!(of(Ok(())), "active");
        assert_eq!(
            of(Err(Refusal::InvalidToken(TokenRejection::Inactive))),
            "inactive"
        );
        assert_eq!(
            of(Err(Refusal::InvalidToken(TokenRejection::WrongAudience))),
            "rejected"
        );
        assert_eq!(of(Err(Refusal::Unavailable("down".into()))), "error");
        let busy = Refusal::Overloaded {
            retry_after: std::time::Duration::from_secs(1),
        };
        assert_eq!(of(Err(busy)), "overloaded");
    }
}
