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
//!
//! In a fleet (a [`SharedState`]), a binding is also written to the shared store as
//! `<prefix>:session:<SHA-256 of the id>` → the SHA-256 of the principal, for
//! [`SHARED_SESSION_TTL`], and removed with the session; a request naming a session this
//! instance does not know asks the store (one round trip; a session known here costs
//! none), so a session opened on one instance is its owner's on every other, and 404 to
//! anyone else there. The shared store not answering cannot vouch for a session: 404
//! (the client opens a new one), logged and counted (`use="session"`).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::HttpResponse;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::HeaderMap;
use dashmap::DashMap;

use crate::client::AuthenticatedClient;
use crate::shared::{self, SharedState};
use crate::sync;

/// The header of the Streamable HTTP transport.
pub(crate) const SESSION_HEADER: actix_web::http::header::HeaderName =
    actix_web::http::header::HeaderName::from_static("mcp-session-id");

/// Sessions remembered at most; past it the oldest binding is dropped, and its session
/// then answers 404 to everyone (the client starts a new one, MCP transports
/// "Session Management").
pub(crate) const DEFAULT_MAX_SESSIONS: usize = 100_000;

/// How long the shared store keeps a binding, from its creation. The local map keeps one
/// until the session ends or is evicted, with no time; the shared store needs one (and is
/// not refreshed on use: that would cost a round trip on the local path), so a session
/// older than this answers 404 on an instance that does not already know it (the client
/// opens a new session, MCP transports §Session Management).
pub(crate) const SHARED_SESSION_TTL: Duration = Duration::from_secs(24 * 60 * 60);

#[derive(Debug)]
pub(crate) struct SessionOwners {
    owners: DashMap<String, Arc<str>>,
    /// Binding order, oldest first, for O(1) eviction. May hold ids already forgotten;
    /// compacted when it grows past twice the bound.
    order: Mutex<VecDeque<String>>,
    max: usize,
    /// The fleet's bindings (`None`: this instance alone).
    shared: Option<SharedState>,
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

/// What to do with a request naming a session (the unit tests' reading of the map).
#[cfg(test)]
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
            shared: None,
        }
    }

    /// Binds sessions in `shared` too, so a session is its owner's on every instance.
    pub(crate) fn with_shared(mut self, shared: Option<SharedState>) -> Self {
        self.shared = shared;
        self
    }

    /// Before the service runs: a request naming a session not bound to its caller is
    /// answered 404 here, as the transport answers an unknown session; any other goes on.
    /// The principal (a formatted string) is made only when a session is named; the
    /// shared store is asked only about a session this map does not know.
    pub(crate) async fn before(
        &self,
        req: &ServiceRequest,
        client: &AuthenticatedClient,
    ) -> Result<Pending, SessionRefusal> {
        let requested = session_id(req.headers());
        if let Some(id) = &requested {
            let own = match client.principal() {
                Some(p) => match self.owner_is(id, &p) {
                    Some(own) => own,
                    None => self.fleet_owner_is(id, &p).await,
                },
                None => false,
            };
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
    ///
    /// In a fleet the shared store is written before the answer leaves, so the client's
    /// next request finds the binding on any instance.
    pub(crate) async fn after<B>(
        &self,
        pending: Pending,
        res: &ServiceResponse<B>,
    ) -> Result<(), SessionRefusal> {
        match (&pending.requested, session_id(res.headers())) {
            (Some(id), _) if pending.deleting && res.status().is_success() => {
                self.forget(id);
                self.forget_in_fleet(id).await;
            }
            (None, Some(created)) => match pending.owner.principal() {
                Some(p) => {
                    self.bind(&created, &p);
                    self.bind_in_fleet(&created, &p).await;
                }
                None => {
                    tracing::warn!(target: "mcp_oauth", "refused an MCP session to a token with neither `sub` nor `client_id`");
                    return Err(SessionRefusal::NotAllowed);
                }
            },
            _ => {}
        }
        Ok(())
    }

    /// Whether this map binds `session` to `principal`; `None` when it does not know it.
    fn owner_is(&self, session: &str, principal: &str) -> Option<bool> {
        self.owners.get(session).map(|owner| &**owner == principal)
    }

    /// Whether the shared store binds `session` to `principal` (then this map learns it,
    /// and the next request costs no round trip). `false` without a fleet, and when the
    /// store does not answer: a session not known here cannot be vouched for.
    async fn fleet_owner_is(&self, session: &str, principal: &str) -> bool {
        let Some(shared) = &self.shared else {
            return false;
        };
        match shared.get(&key_of(shared, session)).await {
            Ok(Some(owner)) if owner == hex_sha256(principal) => {
                self.bind(session, principal);
                true
            }
            Ok(_) => false,
            Err(why) => {
                shared::report(crate::shared::SharedUse::Session, &why);
                false
            }
        }
    }

    /// Writes a new binding to the shared store; one already there is kept (`NX`), as
    /// [`bind`](Self::bind) keeps an existing owner. Unwritten (the store does not
    /// answer), the session is usable on this instance only.
    async fn bind_in_fleet(&self, session: &str, principal: &str) {
        let Some(shared) = &self.shared else { return };
        let key = key_of(shared, session);
        let owner = hex_sha256(principal);
        if let Err(why) = shared.put_new(&key, &owner, SHARED_SESSION_TTL).await {
            shared::report(crate::shared::SharedUse::Session, &why);
        }
    }

    /// Removes an ended session's binding from the shared store. Unremoved (the store
    /// does not answer), it stays its owner's alone until it expires.
    async fn forget_in_fleet(&self, session: &str) {
        let Some(shared) = &self.shared else { return };
        if let Err(why) = shared.store().remove(&key_of(shared, session)).await {
            shared::report(crate::shared::SharedUse::Session, &why);
        }
    }

    #[cfg(test)]
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

/// `<prefix>:session:<SHA-256 of the session id>`.
fn key_of(shared: &SharedState, session: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, session.as_bytes());
    shared.key("session", digest.as_ref())
}

/// The SHA-256 of a principal, in hex: what the shared store holds as a session's owner.
fn hex_sha256(principal: &str) -> String {
    use std::fmt::Write as _;
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, principal.as_bytes());
    digest
        .as_ref()
        .iter()
        .fold(String::with_capacity(64), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
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
