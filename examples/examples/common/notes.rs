//! State across calls without sessions: server-minted handles, bound to their caller.
//!
//! MCP 2026-07-28 drops protocol sessions; a server that keeps state between calls hands
//! out explicit handles passed back as ordinary tool arguments (changelog, SEP-2567).
//! A handle alone must not be a capability: it is shown to the model, logged, and may
//! be guessed or passed on. So every note is stored under `<principal>:<handle>`, the
//! principal being [`mcp_oauth::AuthenticatedClient::principal`] of the caller that
//! created it: another caller presenting the same handle looks up another key and finds
//! nothing, exactly as if the handle did not exist (no oracle telling "someone else's"
//! from "no such note").
//!
//! Bounded: at most [`MAX_NOTES`] notes (the oldest forgotten first) of at most
//! [`MAX_NOTE_BYTES`] each.

use std::collections::{HashMap, VecDeque};
use std::sync::{LazyLock, Mutex};

/// Notes kept at most, all callers together.
pub(crate) const MAX_NOTES: usize = 10_000;
/// The longest note kept.
pub(crate) const MAX_NOTE_BYTES: usize = 4 * 1024;

/// The notes of this process: every server instance (one per session, or per request
/// when stateless) sees the same ones.
pub(crate) fn shared() -> &'static Notes {
    static NOTES: LazyLock<Notes> = LazyLock::new(Notes::default);
    &NOTES
}

/// Why a note was not kept.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum NoteError {
    /// Over [`MAX_NOTE_BYTES`].
    TooLong,
}

/// The notes of every caller, each under its owner's principal.
#[derive(Debug, Default)]
pub(crate) struct Notes {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    notes: HashMap<String, String>,
    /// Keys in creation order, oldest first, for eviction.
    order: VecDeque<String>,
}

/// The length of a handle: 128 bits in lowercase hex.
const HANDLE_CHARS: usize = 32;

/// Whether `handle` has the shape [`Notes::create`] gives: anything else names no note.
/// This also keeps keys unambiguous: a principal may contain `:`, but a handle is a
/// fixed-length suffix without one, so no (principal, handle) pair spells another's key.
fn is_handle(handle: &str) -> bool {
    handle.len() == HANDLE_CHARS
        && handle
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The key of a note: owner and handle together.
fn key(principal: &str, handle: &str) -> String {
    format!("{principal}:{handle}")
}

impl Notes {
    /// Keeps `text` for `principal` and returns its new handle: 128 random bits, hex.
    pub(crate) fn create(&self, principal: &str, text: String) -> Result<String, NoteError> {
        if text.len() > MAX_NOTE_BYTES {
            return Err(NoteError::TooLong);
        }
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).expect("the operating system's random source");
        let handle: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let key = key(principal, &handle);
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        while inner.notes.len() >= MAX_NOTES {
            let Some(oldest) = inner.order.pop_front() else {
                break;
            };
            inner.notes.remove(&oldest);
        }
        inner.order.push_back(key.clone());
        inner.notes.insert(key, text);
        Ok(handle)
    }

    /// The note `handle` names, if `principal` created it.
    pub(crate) fn read(&self, principal: &str, handle: &str) -> Option<String> {
        if !is_handle(handle) {
            return None;
        }
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.notes.get(&key(principal, handle)).cloned()
    }
}
