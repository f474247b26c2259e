//! Binding MCP sessions to the caller that created them (MCP Security Best Practices,
//! "Session Hijacking"; spec-checklist item 22): a session id never authenticates, and a
//! session opened by one principal cannot be used by another.
//!
//! The middleware learns a session when a response of an authenticated request carries
//! a new `Mcp-Session-Id` (the Streamable HTTP `initialize`), and forgets it when a
//! `DELETE` of it succeeds. A request naming a session of another principal is answered
//! 404, like an unknown session, and never reaches the MCP service.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// The header of the Streamable HTTP transport.
pub(crate) const SESSION_HEADER: actix_web::http::header::HeaderName =
    actix_web::http::header::HeaderName::from_static("mcp-session-id");

/// Sessions remembered at most; past it the least recently used is forgotten (its next
/// request is then treated as an unknown session by this map, and bound again).
pub(crate) const DEFAULT_MAX_SESSIONS: usize = 100_000;

#[derive(Debug)]
pub(crate) struct SessionOwners {
    owners: Mutex<HashMap<String, Owner>>,
    max: usize,
}

#[derive(Debug)]
struct Owner {
    principal: String,
    last_seen: Instant,
}

/// What to do with a request naming a session.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Its own session, or one this map does not know.
    Allow,
    /// Another principal's session.
    Refuse,
}

impl SessionOwners {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            owners: Mutex::new(HashMap::new()),
            max: max.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Owner>> {
        self.owners.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn check(&self, session: &str, principal: &str) -> Verdict {
        match self.lock().get_mut(session) {
            Some(owner) if owner.principal != principal => Verdict::Refuse,
            Some(owner) => {
                owner.last_seen = Instant::now();
                Verdict::Allow
            }
            None => Verdict::Allow,
        }
    }

    /// Records `principal` as the owner of a new session; an existing owner is kept.
    pub(crate) fn bind(&self, session: &str, principal: &str) {
        let mut owners = self.lock();
        if owners.contains_key(session) {
            return;
        }
        if owners.len() >= self.max {
            let oldest = owners
                .iter()
                .min_by_key(|(_, o)| o.last_seen)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                owners.remove(&k);
            }
        }
        owners.insert(
            session.to_owned(),
            Owner {
                principal: principal.to_owned(),
                last_seen: Instant::now(),
            },
        );
    }

    pub(crate) fn forget(&self, session: &str) {
        self.lock().remove(session);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_belongs_to_its_first_principal() {
        let s = SessionOwners::new(10);
        assert_eq!(s.check("s1", "alice"), Verdict::Allow);
        s.bind("s1", "alice");
        s.bind("s1", "mallory");
        assert_eq!(s.check("s1", "alice"), Verdict::Allow);
        assert_eq!(s.check("s1", "mallory"), Verdict::Refuse);
        s.forget("s1");
        assert_eq!(s.check("s1", "mallory"), Verdict::Allow);
    }

    #[test]
    fn the_map_is_bounded() {
        let s = SessionOwners::new(2);
        s.bind("a", "p");
        s.bind("b", "p");
        s.bind("c", "p");
        assert_eq!(s.lock().len(), 2);
    }
}
