//! The store of the validation cache: at most `max_entries` entries, split into up to
//! [`MAX_SHARDS`] shards chosen by the key's first bytes (uniform: keys are SHA-256
//! output), each a `Mutex` around a `HashMap` and a `VecDeque` of its keys in insertion
//! order, with its share of `max_entries`.
//!
//! Every actix worker shares one store; a hit holds its shard's lock for one lookup and one
//! clone of the value (an `Arc`), and the shards keep workers from queueing on a single
//! lock. The `VecDeque` holds exactly the map's keys, each once (an entry is only ever
//! removed from its front, and replacing a key keeps its place), so evicting is
//! `pop_front` + `remove`: O(1). Expired entries are not removed when read (that would
//! break the invariant); they are skipped, replaced when their token is validated again,
//! and dropped when they reach the front.
//!
//! This file uses nothing but `std`: `benches/cache.rs` compiles it as it is, to measure
//! it against a `moka` store in one run (see the README's "Dependencies").
//!
//! `dashmap` would give the sharded map, but not the insertion order a bounded cache needs
//! to evict in O(1): each shard would still need its own queue, so std's `Mutex` it is.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::{Instant, SystemTime};

/// The SHA-256 of a token.
type Key = [u8; 32];

/// Most shards: about one per worker thread of a large machine.
pub(crate) const MAX_SHARDS: usize = 16;
/// Fewest entries per shard worth a shard of its own (a small cache stays one FIFO).
const MIN_SHARD_ENTRIES: usize = 64;

/// An accepted token's value (its claims), and until when it may be served.
#[derive(Debug, Clone)]
pub(crate) struct Entry<V> {
    pub(crate) value: V,
    /// Insertion + the entry's lifetime, on the monotonic clock.
    pub(crate) deadline: Instant,
    /// The token's `exp`, checked on the wall clock too: a clock step forward must not
    /// let an entry outlive it.
    pub(crate) exp: Option<SystemTime>,
    /// The key epoch it was validated in: an entry from before a signing key was removed
    /// from a JWKS is dead.
    pub(crate) epoch: u64,
}

impl<V> Entry<V> {
    /// Whether the entry may be served at `now` (monotonic) / `wall`, in key epoch `epoch`.
    pub(crate) fn is_live(&self, now: Instant, wall: SystemTime, epoch: u64) -> bool {
        now < self.deadline && self.exp.is_none_or(|exp| wall < exp) && self.epoch == epoch
    }
}

/// One shard: its entries, and their keys oldest first (exactly the map's keys, once each).
#[derive(Debug)]
struct Shard<V> {
    map: HashMap<Key, Entry<V>>,
    order: VecDeque<Key>,
    capacity: usize,
}

impl<V: Clone> Shard<V> {
    fn new(capacity: usize) -> Self {
        Self {
            map: HashMap::new(),
            order: VecDeque::new(),
            capacity,
        }
    }

    fn get(&self, key: &Key, now: Instant, wall: SystemTime, epoch: u64) -> Option<V> {
        self.map
            .get(key)
            .filter(|e| e.is_live(now, wall, epoch))
            .map(|e| e.value.clone())
    }

    /// Stores `entry` under `key`: in place when the key is known (keeping its place in
    /// the queue), else at the back, after dropping expired entries from the front and,
    /// when still full, the oldest.
    fn put(&mut self, key: Key, entry: Entry<V>, now: Instant, wall: SystemTime) {
        let epoch = entry.epoch;
        if let Some(slot) = self.map.get_mut(&key) {
            *slot = entry;
            return;
        }
        while let Some(oldest) = self.order.front() {
            let full = self.map.len() >= self.capacity;
            let expired = self
                .map
                .get(oldest)
                .is_none_or(|e| !e.is_live(now, wall, epoch));
            if !(full || expired) {
                break;
            }
            if let Some(oldest) = self.order.pop_front() {
                self.map.remove(&oldest);
            }
        }
        self.order.push_back(key);
        self.map.insert(key, entry);
    }
}

/// The sharded FIFO store (see the module docs).
#[derive(Debug)]
pub(crate) struct FifoStore<V> {
    shards: Box<[Mutex<Shard<V>>]>,
}

impl<V: Clone> FifoStore<V> {
    /// A store of at most `max_entries` entries (at least one).
    pub(crate) fn new(max_entries: usize) -> Self {
        let max_entries = max_entries.max(1);
        let n = max_entries.div_ceil(MIN_SHARD_ENTRIES).clamp(1, MAX_SHARDS);
        // The shares add up to `max_entries` exactly.
        let shards = (0..n)
            .map(|i| {
                let share = max_entries / n + usize::from(i < max_entries % n);
                Mutex::new(Shard::new(share))
            })
            .collect();
        Self { shards }
    }

    fn shard(&self, key: &Key) -> &Mutex<Shard<V>> {
        let mut first = [0u8; 8];
        first.copy_from_slice(&key[..8]);
        // Truncation is fine: only the remainder matters.
        let index = (u64::from_le_bytes(first) % self.shards.len() as u64) as usize;
        &self.shards[index]
    }

    /// The value under `key` when its entry is live: one lookup and one clone.
    pub(crate) fn get(&self, key: &Key, now: Instant, wall: SystemTime, epoch: u64) -> Option<V> {
        lock(self.shard(key)).get(key, now, wall, epoch)
    }

    /// Stores `entry` under `key`, evicting the oldest entry of its shard when full.
    pub(crate) fn put(&self, key: Key, entry: Entry<V>, now: Instant, wall: SystemTime) {
        lock(self.shard(&key)).put(key, entry, now, wall);
    }

    /// Entries held, live or expired-but-not-yet-dropped: what memory is spent on.
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).map.len()).sum()
    }

    // Revocation: entries ended early, in place (their keys stay in the queue, so the
    // queue still holds exactly the map's keys; they leave as expired entries do).

    /// Ends the entry under `key` now, if any.
    pub(crate) fn expire(&self, key: &Key, now: Instant) {
        if let Some(entry) = lock(self.shard(key)).map.get_mut(key) {
            entry.deadline = entry.deadline.min(now);
        }
    }

    /// Ends now every entry whose value `doomed` names: one pass over every shard.
    pub(crate) fn expire_where(&self, now: Instant, doomed: impl Fn(&V) -> bool) {
        for shard in self.shards.iter() {
            for entry in lock(shard).map.values_mut() {
                if doomed(&entry.value) {
                    entry.deadline = entry.deadline.min(now);
                }
            }
        }
    }
}

/// A poisoned shard is still consistent: nothing inside a critical section panics
/// between the map and the queue updates (short of an allocation failure, which aborts).
fn lock<V>(shard: &Mutex<Shard<V>>) -> MutexGuard<'_, Shard<V>> {
    shard.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
impl<V> FifoStore<V> {
    /// Every key held, shard by shard, oldest first (tests check what is kept).
    pub(crate) fn keys(&self) -> Vec<Key> {
        self.shards
            .iter()
            .flat_map(|s| lock(s).order.iter().copied().collect::<Vec<_>>())
            .collect()
    }

    /// Every entry held (tests check that no token is in them).
    pub(crate) fn entries(&self) -> Vec<Entry<V>>
    where
        V: Clone,
    {
        self.shards
            .iter()
            .flat_map(|s| lock(s).map.values().cloned().collect::<Vec<_>>())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const TTL: Duration = Duration::from_secs(60);

    fn entry(deadline: Instant) -> Entry<()> {
        Entry {
            value: (),
            deadline,
            exp: None,
            epoch: 0,
        }
    }

    #[test]
    fn an_entry_is_live_until_its_deadline_and_its_exp_whichever_comes_first() {
        let (now, wall) = (Instant::now(), SystemTime::now());
        let entry = |deadline, exp| Entry {
            value: (),
            deadline,
            exp,
            epoch: 0,
        };
        let later = now + Duration::from_secs(10);
        assert!(entry(later, None).is_live(now, wall, 0));
        assert!(!entry(later, None).is_live(later, wall, 0));
        // The wall clock passed `exp` (e.g. it was stepped forward): no longer served.
        let exp = wall + Duration::from_secs(5);
        assert!(entry(later, Some(exp)).is_live(now, wall, 0));
        assert!(!entry(later, Some(exp)).is_live(now, exp, 0));
        assert!(!entry(later, Some(exp)).is_live(now, exp + Duration::from_secs(1), 0));
        // Another key epoch: dead.
        assert!(!entry(later, None).is_live(now, wall, 1));
    }

    #[test]
    fn the_shares_of_the_shards_add_up_to_max_entries() {
        for max in [1, 2, 63, 64, 65, 1000, 1001, 10_000, 100_000] {
            let store = FifoStore::<()>::new(max);
            let shares: usize = store.shards.iter().map(|s| lock(s).capacity).sum();
            assert_eq!(shares, max, "{max}");
            assert!(store.shards.iter().all(|s| lock(s).capacity > 0), "{max}");
            assert!(store.shards.len() <= MAX_SHARDS);
        }
        assert_eq!(FifoStore::<()>::new(64).shards.len(), 1);
        assert_eq!(FifoStore::<()>::new(10_000).shards.len(), MAX_SHARDS);
    }

    #[test]
    fn every_shard_stays_within_its_share_and_its_queue_holds_exactly_its_keys() {
        let store = FifoStore::<()>::new(1000);
        let (now, wall) = (Instant::now(), SystemTime::now());
        for i in 0u32..20_000 {
            let mut key = [7u8; 32];
            key[..4].copy_from_slice(&i.to_le_bytes());
            store.put(key, entry(now + TTL), now, wall);
        }
        // Full (up to how evenly the keys fell into the shards), never over.
        let len = store.len();
        assert!((900..=1000).contains(&len), "{len}");
        for shard in store.shards.iter() {
            let shard = lock(shard);
            assert!(shard.map.len() <= shard.capacity);
            assert_eq!(shard.map.len(), shard.order.len());
            assert!(shard.order.iter().all(|k| shard.map.contains_key(k)));
        }
    }

    #[test]
    fn expired_entries_at_the_front_make_room_before_live_ones_are_evicted() {
        let mut shard = Shard::new(3);
        let (now, wall) = (Instant::now(), SystemTime::now());
        let later = now + TTL;
        shard.put([1; 32], entry(now + Duration::from_millis(1)), now, wall);
        shard.put([2; 32], entry(later), now, wall);
        let after = now + Duration::from_millis(2);
        // [1] has expired: inserting drops it although the shard is not full.
        shard.put([3; 32], entry(later), after, wall);
        assert_eq!(shard.order, [[2; 32], [3; 32]]);
        assert!(shard.get(&[2; 32], after, wall, 0).is_some());
        assert!(shard.get(&[1; 32], after, wall, 0).is_none());
    }

    #[test]
    fn replacing_a_key_keeps_its_place() {
        let mut shard = Shard::new(2);
        let (now, wall) = (Instant::now(), SystemTime::now());
        shard.put([1; 32], entry(now + TTL), now, wall);
        shard.put([2; 32], entry(now + TTL), now, wall);
        shard.put([1; 32], entry(now + TTL), now, wall);
        assert_eq!(shard.order, [[1; 32], [2; 32]]);
        shard.put([3; 32], entry(now + TTL), now, wall);
        assert_eq!(shard.order, [[2; 32], [3; 32]]);
    }
}
