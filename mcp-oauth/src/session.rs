//! Binding MCP sessions to the caller that created them (MCP Security Best Practices
//! §Session Hijacking): a session id never authenticates, and a session opened by one
//! principal cannot be used by another.
//!
//! The middleware learns a session when a response of an authenticated request carries
//! a new `Mcp-Session-Id` (the Streamable HTTP `initialize`), and forgets it when a
//! `DELETE` of it succeeds. A request naming a session that is not bound to its own
//! principal (another principal's, or one this map does not know: never bound, ended,
//! or evicted) is answered 404, as the transport answers an unknown session, and never
//! reaches the MCP service. The map fails closed: nothing it forgets becomes usable.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use actix_web::HttpResponse;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::HeaderMap;
use dashmap::DashMap;

use crate::client::AuthenticatedClient;
use crate::sync;

/// The header of the Streamable HTTP transport.
pub(crate) const SESSION_HEADER: actix_web::http::header::HeaderName =
    actix_web::http::header::HeaderName::from_static("mcp-session-id");

/// Sessions remembered at most; past it the oldest binding is dropped, and its session
/// then answers 404 to everyone (the client starts a new one, MCP transports
/// "Session Management").
pub(crate) const DEFAULT_MAX_SESSIONS: usize = 100_000;

#[derive(Debug)]
pub(crate) struct SessionOwners {
    owners: DashMap<String, Arc<str>>,
    /// Binding order, oldest first, for O(1) eviction. May hold ids already forgotten;
    /// compacted when it grows past twice the bound.
    order: Mutex<VecDeque<String>>,
    max: usize,
}

/// What the binding needs to know after the service answered a request.
#[derive(Debug)]
pub(crate) struct Pending {
    /// The session the request named.
    requested: Option<String>,
    deleting: bool,
    owner: AuthenticatedClient,
}

/// Why binding refused a request; renders itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SessionRefusal {
    /// The named session is not bound to this caller: 404, as the transport answers an
    /// unknown session (MCP transports §Session Management).
    NotFound,
    /// The caller names neither a subject nor a client, and may not own a session: 403.
    NotAllowed,
}

impl SessionRefusal {
    pub(crate) fn response(self) -> HttpResponse {
        match self {
            Self::NotFound => HttpResponse::NotFound().json(serde_json::json!({
                "error": "session_not_found",
                "error_description": "No such MCP session",
            })),
            Self::NotAllowed => HttpResponse::Forbidden().json(serde_json::json!({
                "error": "session_not_allowed",
                "error_description": "A session needs a token that names a subject or a client",
            })),
        }
    }
}

fn session_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get(&SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// What to do with a request naming a session.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The session is bound to this principal.
    Allow,
    /// Another principal's session, or one not bound at all.
    Refuse,
}

impl SessionOwners {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            owners: DashMap::new(),
            order: Mutex::new(VecDeque::new()),
            max: max.max(1),
        }
    }

    /// Before the service runs: a request naming a session not bound to its caller is
    /// answered 404 here, as the transport answers an unknown session; any other goes on.
    /// The principal (a formatted string) is made only when a session is named.
    pub(crate) fn before(
        &self,
        req: &ServiceRequest,
        client: &AuthenticatedClient,
    ) -> Result<Pending, SessionRefusal> {
        let requested = session_id(req.headers());
        if let Some(id) = &requested {
            let own = client
                .principal()
                .is_some_and(|p| self.check(id, &p) == Verdict::Allow);
            if !own {
                tracing::debug!(target: "mcp_oauth", "refused a request naming an MCP session this caller does not own");
                return Err(SessionRefusal::NotFound);
            }
        }
        Ok(Pending {
            requested,
            deleting: req.method() == Method::DELETE,
            owner: client.clone(),
        })
    }

    /// After the service answered: a session it created is bound to the caller, one it
    /// ended is forgotten. A caller with neither `sub` nor `client_id` cannot be told
    /// apart from others, so a session it opened could be used by any of them: its
    /// answer is replaced by a 403.
    pub(crate) fn after<B>(
        &self,
        pending: Pending,
        res: &ServiceResponse<B>,
    ) -> Result<(), SessionRefusal> {
        match (&pending.requested, session_id(res.headers())) {
            (Some(id), _) if pending.deleting && res.status().is_success() => self.forget(id),
            (None, Some(created)) => match pending.owner.principal() {
                Some(p) => self.bind(&created, &p),
                None => {
                    tracing::warn!(target: "mcp_oauth", "refused an MCP session to a token with neither `sub` nor `client_id`");
                    return Err(SessionRefusal::NotAllowed);
                }
            },
            _ => {}
        }
        Ok(())
    }

    pub(crate) fn check(&self, session: &str, principal: &str) -> Verdict {
        match self.owners.get(session) {
            Some(owner) if &**owner == principal => Verdict::Allow,
            _ => Verdict::Refuse,
        }
    }

    /// Records `principal` as the owner of a new session; an existing owner is kept.
    /// Past the bound, the oldest bindings are dropped (their sessions answer 404).
    pub(crate) fn bind(&self, session: &str, principal: &str) {
        match self.owners.entry(session.to_owned()) {
            dashmap::Entry::Occupied(_) => return,
            dashmap::Entry::Vacant(slot) => {
                slot.insert(Arc::from(principal));
            }
        }
        let mut order = sync::lock(&self.order);
        order.push_back(session.to_owned());
        while self.owners.len() > self.max {
            match order.pop_front() {
                Some(oldest) => {
                    self.owners.remove(&oldest);
                }
                None => break,
            }
        }
        if order.len() > 2 * self.max {
            order.retain(|id| self.owners.contains_key(id));
        }
    }

    pub(crate) fn forget(&self, session: &str) {
        self.owners.remove(session);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.owners.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_belongs_to_its_first_principal() {
        let s = SessionOwners::new(10);
        assert_eq!(s.check("s1", "alice"), Verdict::Refuse, "unknown");
        s.bind("s1", "alice");
        s.bind("s1", "mallory");
        assert_eq!(s.check("s1", "alice"), Verdict::Allow);
        assert_eq!(s.check("s1", "mallory"), Verdict::Refuse);
        s.forget("s1");
        assert_eq!(s.check("s1", "mallory"), Verdict::Refuse, "ended");
        assert_eq!(s.check("s1", "alice"), Verdict::Refuse, "ended");
    }

    #[test]
    fn eviction_drops_the_oldest_binding_and_its_session_is_refused_to_all() {
        let s = SessionOwners::new(2);
        s.bind("a", "p");
        s.bind("b", "q");
        s.bind("c", "r");
        assert_eq!(s.len(), 2);
        assert_eq!(s.check("a", "p"), Verdict::Refuse);
        assert_eq!(s.check("a", "mallory"), Verdict::Refuse);
        assert_eq!(s.check("b", "q"), Verdict::Allow);
        assert_eq!(s.check("c", "r"), Verdict::Allow);
    }

    #[test]
    fn the_order_queue_stays_bounded_when_sessions_end() {
        let s = SessionOwners::new(4);
        for i in 0..1_000 {
            let id = format!("s{i}");
            s.bind(&id, "p");
            s.forget(&id);
        }
        let queued = s.order.lock().map(|o| o.len()).unwrap_or(usize::MAX);
        assert!(queued <= 8, "{queued}");
        s.bind("live", "p");
        assert_eq!(s.check("live", "p"), Verdict::Allow);
    }
}
