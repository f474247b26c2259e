//! The negative cache: what one authorization server definitely refused, remembered for a
//! few seconds so that a token sent again and again costs one introspection call, not one
//! per request.
//!
//! Rules:
//! - only definite answers are remembered: `active: false`, an active token that fails a
//!   check (audience, type, issuer, times), or a 400 that refuses the token (RFC 7662
//!   §2.3). An outage (timeout, 5xx, our credentials refused) is never remembered;
//! - the key is the SHA-256 of the token: the token itself is never stored;
//! - every entry lives the same TTL, so insertion order is expiry order: each shard is a
//!   `HashMap` and a `VecDeque` of its keys oldest first, and making room is `pop_front`
//!   + `remove`, O(1);
//! - at most [`MAX_ENTRIES`] entries (per authorization server), in [`SHARDS`] shards
//!   picked by the key's first byte (uniform: SHA-256 output), each behind its own
//!   `Mutex`, so a flood of distinct random tokens neither grows memory nor queues every
//!   worker on one lock.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::refusal::TokenRejection;

/// Most refusals remembered per authorization server.
pub(crate) const MAX_ENTRIES: usize = 16_384;
/// Shards of the map (each holds `MAX_ENTRIES / SHARDS`).
const SHARDS: usize = 16;

use crate::sync;
pub(crate) use crate::validate::cache::{Key, key_of};

/// One shard: refusals and their deadlines, and their keys oldest first (exactly the
/// map's keys, once each).
#[derive(Default)]
struct Shard {
    map: HashMap<Key, (Instant, TokenRejection)>,
    order: VecDeque<Key>,
}

/// Definite refusals of one authorization server, each for `ttl`.
pub(crate) struct RefusedCache {
    ttl: Duration,
    capacity: usize,
    shards: Box<[Mutex<Shard>]>,
}

impl std::fmt::Debug for RefusedCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefusedCache")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl RefusedCache {
    /// A cache keeping each refusal `ttl`; `None` when `ttl` is zero (the cache is off).
    pub(crate) fn new(ttl: Duration) -> Option<Self> {
        Self::with_capacity(ttl, MAX_ENTRIES)
    }

    fn with_capacity(ttl: Duration, max_entries: usize) -> Option<Self> {
        (!ttl.is_zero()).then(|| Self {
            ttl,
            capacity: max_entries.div_ceil(SHARDS).max(1),
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
        })
    }

    fn shard(&self, key: &Key) -> MutexGuard<'_, Shard> {
        sync::lock(&self.shards[usize::from(key[0]) % SHARDS])
    }

    /// Why the token of `key` was refused, if that was less than the TTL ago.
    pub(crate) fn get(&self, key: &Key) -> Option<TokenRejection> {
        let now = Instant::now();
        self.shard(key)
            .map
            .get(key)
            .filter(|(deadline, _)| now < *deadline)
            .map(|(_, why)| why.clone())
    }

    /// Remembers that the token of `key` was refused, for the TTL: in place when the key
    /// is known, else at the back, after dropping expired entries from the front and, when
    /// the shard is still full, the oldest.
    pub(crate) fn put(&self, key: Key, why: TokenRejection) {
        let now = Instant::now();
        let deadline = now + self.ttl;
        let mut shard = self.shard(&key);
        if let Some(slot) = shard.map.get_mut(&key) {
            *slot = (deadline, why);
            return;
        }
        while let Some(oldest) = shard.order.front() {
            let full = shard.map.len() >= self.capacity;
            let expired = shard.map.get(oldest).is_none_or(|(d, _)| *d <= now);
            if !(full || expired) {
                break;
            }
            if let Some(oldest) = shard.order.pop_front() {
                shard.map.remove(&oldest);
            }
        }
        shard.order.push_back(key);
        shard.map.insert(key, (deadline, why));
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().map(|s| s.map.len()).unwrap_or(0))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zero_ttl_turns_the_cache_off() {
        assert!(RefusedCache::new(Duration::ZERO).is_none());
        assert!(RefusedCache::new(Duration::from_secs(5)).is_some());
    }

    #[test]
    fn a_refusal_is_remembered_under_the_tokens_hash_until_its_deadline() {
        let cache = RefusedCache::new(Duration::from_secs(60)).unwrap();
        let key = key_of("some-token");
        assert_eq!(cache.get(&key), None);
        cache.put(key, TokenRejection::Inactive);
        assert_eq!(cache.get(&key), Some(TokenRejection::Inactive));
        assert_eq!(cache.get(&key_of("another-token")), None);
        assert_ne!(&key[..], b"some-token".as_slice());

        let short = RefusedCache::new(Duration::from_nanos(1)).unwrap();
        short.put(key, TokenRejection::Inactive);
        std::thread::sleep(Duration::from_millis(2)); // past a 1 ns TTL, whatever the load
        assert_eq!(short.get(&key), None);
        // The expired entry makes room for the next one in its shard.
        short.put(key, TokenRejection::WrongAudience);
        assert_eq!(short.len(), 1);
    }

    #[test]
    fn the_cache_never_holds_more_than_its_bound_and_forgets_the_oldest() {
        let cache = RefusedCache::with_capacity(Duration::from_secs(60), 64).unwrap();
        let keys: Vec<Key> = (0..10_000).map(|i| key_of(&format!("t{i}"))).collect();
        for key in &keys {
            cache.put(*key, TokenRejection::Inactive);
        }
        assert!(cache.len() <= 64, "{}", cache.len());
        assert_eq!(cache.get(&keys[0]), None, "the oldest made room");
        assert_eq!(cache.get(&keys[9_999]), Some(TokenRejection::Inactive));
        let full = RefusedCache::new(Duration::from_secs(60)).unwrap();
        for i in 0..(3 * MAX_ENTRIES) {
            full.put(key_of(&i.to_string()), TokenRejection::Inactive);
        }
        // Every shard is full (each got about 3,072 of the keys), none is over.
        assert_eq!(full.len(), MAX_ENTRIES);
    }

    #[test]
    fn a_known_key_is_replaced_in_place() {
        let cache = RefusedCache::new(Duration::from_secs(60)).unwrap();
        let key = key_of("t");
        cache.put(key, TokenRejection::Inactive);
        cache.put(key, TokenRejection::WrongAudience);
        assert_eq!(cache.len(), 1);
        assert_eq!(cache.get(&key), Some(TokenRejection::WrongAudience));
    }
}
