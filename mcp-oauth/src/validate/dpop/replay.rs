//! The `jti` replay cache (RFC 9449 §11.1): each accepted proof's identifier, as a
//! SHA-256 hash of the key thumbprint and `jti`, kept until its `iat` leaves the accepted
//! window (after which the proof is refused for its age anyway). Bounded: when full and
//! nothing has expired, a new proof is refused (fail closed, never a replay let through).
//! One cache per process: several replicas behind a balancer each keep their own.

use std::collections::HashMap;
use std::sync::Mutex;

use aws_lc_rs::digest;

use crate::sync;

/// The default number of proofs remembered: a table of about 9 MiB when full.
pub(crate) const DEFAULT_MAX_PROOFS: usize = 1 << 17;

/// What [`ReplayCache::first_use`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Seen {
    /// Never seen within its window: now remembered.
    First,
    /// Seen before: a replay.
    Again,
    /// Not seen, but the cache is full of unexpired proofs: cannot be remembered.
    Full,
}

pub(crate) struct ReplayCache {
    max: usize,
    state: Mutex<State>,
}

/// The bound and the count only: never the (up to `max`) entries.
impl std::fmt::Debug for ReplayCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let len = sync::lock(&self.state).seen.len();
        f.debug_struct("ReplayCache")
            .field("max", &self.max)
            .field("len", &len)
            .finish()
    }
}

#[derive(Default)]
struct State {
    /// Hash → the second (Unix time) after which the entry may go.
    seen: HashMap<[u8; 32], u64>,
    /// The second of the last sweep: at most one sweep of a full map per second.
    swept_at: Option<u64>,
}

impl ReplayCache {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            max: max.max(1),
            state: Mutex::default(),
        }
    }

    /// Records the proof `jti` of the key `jkt`, kept until `expires` (Unix seconds);
    /// `now` is the current Unix second.
    pub(crate) fn first_use(&self, jkt: &str, jti: &str, expires: u64, now: u64) -> Seen {
        let key = hash(jkt, jti);
        let mut state = sync::lock(&self.state);
        match state.seen.get(&key) {
            Some(until) if *until >= now => return Seen::Again,
            _ => {}
        }
        if state.seen.len() >= self.max && !state.seen.contains_key(&key) {
            if state.swept_at == Some(now) {
                return Seen::Full;
            }
            state.swept_at = Some(now);
            state.seen.retain(|_, until| *until >= now);
            if state.seen.len() >= self.max {
                return Seen::Full;
            }
        }
        state.seen.insert(key, expires);
        Seen::First
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        sync::lock(&self.state).seen.len()
    }

    /// The bytes the entries' table holds (its buckets, not counting the allocator's own).
    #[cfg(test)]
    fn table_bytes(&self) -> usize {
        let slot = std::mem::size_of::<([u8; 32], u64)>() + 1;
        sync::lock(&self.state).seen.capacity() * slot
    }
}

/// SHA-256 over the thumbprint and the `jti`, length-prefixed so that no two pairs share
/// an input: the same `jti` under two keys is two proofs.
pub(crate) fn hash(jkt: &str, jti: &str) -> [u8; 32] {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(&(jkt.len() as u64).to_be_bytes());
    ctx.update(jkt.as_bytes());
    ctx.update(jti.as_bytes());
    let mut out = [0; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jti_is_accepted_once_per_key_until_it_expires() {
        let cache = ReplayCache::new(8);
        assert_eq!(cache.first_use("k1", "a", 100, 10), Seen::First);
        assert_eq!(cache.first_use("k1", "a", 100, 50), Seen::Again);
        assert_eq!(cache.first_use("k2", "a", 100, 50), Seen::First);
        // After its window the entry may be reused (the proof's age refuses it anyway).
        assert_eq!(cache.first_use("k1", "a", 300, 101), Seen::First);
    }

    #[test]
    fn a_full_cache_sweeps_expired_entries_and_otherwise_refuses() {
        let cache = ReplayCache::new(2);
        assert_eq!(cache.first_use("k", "a", 20, 10), Seen::First);
        assert_eq!(cache.first_use("k", "b", 30, 10), Seen::First);
        assert_eq!(cache.first_use("k", "c", 30, 10), Seen::Full);
        // Still full within the same second: no second sweep.
        assert_eq!(cache.first_use("k", "c", 30, 10), Seen::Full);
        assert_eq!(cache.len(), 2);
        // `a` expired at 20: swept, room for `c`; the live `b` is still a replay.
        assert_eq!(cache.first_use("k", "c", 40, 21), Seen::First);
        assert_eq!(cache.first_use("k", "b", 40, 21), Seen::Again);
        assert_eq!(cache.len(), 2);
        // Its Debug never lists the entries.
        assert_eq!(format!("{cache:?}"), "ReplayCache { max: 2, len: 2 }");
    }

    // A flood of distinct proofs within one window: the cache holds its bound and no
    // more (the rest are refused, 503, never forgotten); at the default bound the table
    // is about 9 MiB (41 bytes a slot), and it does not grow past that however long the
    // flood goes on.
    #[test]
    fn a_flood_of_distinct_proofs_stays_within_the_bound() {
        let max = DEFAULT_MAX_PROOFS;
        let cache = ReplayCache::new(max);
        let mut first = 0;
        for i in 0..(3 * max) {
            let now = 1_000 + (i / max) as u64; // three seconds of flood, all live
            if cache.first_use("key", &i.to_string(), 2_000, now) == Seen::First {
                first += 1;
            }
        }
        assert_eq!(first, max);
        assert_eq!(cache.len(), max);
        let bytes = cache.table_bytes();
        assert!(bytes <= 10 << 20, "{bytes} bytes");
        // Once the flood's proofs expire, new ones are accepted again.
        assert_eq!(cache.first_use("key", "late", 3_000, 2_001), Seen::First);
        assert_eq!(cache.len(), 1);
        assert!(
            cache.table_bytes() <= bytes,
            "the table is reused, not regrown"
        );
    }
}
