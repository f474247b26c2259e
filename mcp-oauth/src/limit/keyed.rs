//! [`Limiter`]: one `governor` rate limiter keyed by client (an address or a principal),
//! whose state is bounded.
//!
//! `governor`'s keyed stores grow by one entry per key. Here the map holds at most
//! `max_keys` entries; the policy when it is full:
//! - a key already in the map keeps its own state: nothing evicts it, so an attacker with
//!   many addresses cannot push out a client's exhausted budget to reset it;
//! - the entries that have fully refilled (indistinguishable from a new key, so dropping
//!   them resets nothing) are swept, at most once per [`SWEEP_EVERY`];
//! - a key that still finds no room shares one overflow budget with every other such key,
//!   so a flood of new keys is limited as one client, never served without a limit and
//!   never grows memory.

use std::hash::{BuildHasher, BuildHasherDefault, Hash, Hasher, RandomState};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use dashmap::DashMap;
use governor::clock::{Clock, QuantaClock};
use governor::nanos::Nanos;
use governor::state::keyed::ShrinkableKeyedStateStore;
use governor::state::{InMemoryState, NotKeyed, StateStore};
use governor::{Quota, RateLimiter};

/// The shortest time between two sweeps of a full map (a sweep reads every entry).
pub(crate) const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// Keys that are already hashes (a principal's keyed hash): used as they are.
pub(crate) type Prehashed = BuildHasherDefault<Identity>;

/// The [`Hasher`] of [`Prehashed`]: its `u64` is the hash.
#[derive(Default)]
pub(crate) struct Identity(u64);

impl Hasher for Identity {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `u64` keys use this hasher; anything else is folded in, never dropped.
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// The map and its overflow entry, shared by the limiter and its [`Limiter`] handle.
struct Shared<K, S> {
    map: DashMap<K, InMemoryState, S>,
    /// The one budget of every key that found the map full.
    overflow: DashMap<(), InMemoryState>,
    max_keys: usize,
    /// Set when a new key found the map full: a sweep is due.
    full: AtomicBool,
}

/// The state store handed to `governor`: the map while it has room, else the overflow.
struct Store<K, S>(Arc<Shared<K, S>>);

impl<K: Hash + Eq + Clone, S: BuildHasher + Clone> StateStore for Store<K, S> {
    type Key = K;

    fn measure_and_replace<T, F, E>(&self, key: &K, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        let s = &self.0;
        // A known key: one lookup, its own state updated in place.
        if let Some(state) = s.map.get(key) {
            return state.measure_and_replace(&NotKeyed::NonKey, f);
        }
        // `len` then insert is not atomic: racing workers may each add one key past
        // `max_keys`, never more.
        if s.map.len() < s.max_keys {
            return s.map.measure_and_replace(key, f);
        }
        s.full.store(true, Ordering::Relaxed);
        s.overflow.measure_and_replace(&(), f)
    }
}

impl<K: Hash + Eq + Clone, S: BuildHasher + Clone> ShrinkableKeyedStateStore<K> for Store<K, S> {
    fn retain_recent(&self, drop_below: Nanos) {
        self.0.map.retain_recent(drop_below);
        self.0.overflow.retain_recent(drop_below);
    }

    fn len(&self) -> usize {
        self.0.map.len()
    }

    fn is_empty(&self) -> bool {
        self.0.map.is_empty()
    }
}

/// A keyed rate limiter with at most `max_keys` keys of state, hashed with `S`.
pub(crate) struct Limiter<K: Hash + Eq + Clone, S: BuildHasher + Clone = RandomState> {
    limiter: RateLimiter<K, Store<K, S>, QuantaClock>,
    shared: Arc<Shared<K, S>>,
    started: Instant,
    /// When the last sweep ran, in nanoseconds since `started` (0: never).
    last_sweep: AtomicU64,
}

impl<K: Hash + Eq + Clone, S: BuildHasher + Clone + Default> Limiter<K, S> {
    pub(crate) fn new(quota: Quota, max_keys: usize) -> Self {
        let shared = Arc::new(Shared {
            map: DashMap::with_hasher(S::default()),
            overflow: DashMap::new(),
            max_keys,
            full: AtomicBool::new(false),
        });
        let clock = QuantaClock::default();
        Self {
            limiter: RateLimiter::new(quota, Store(shared.clone()), clock),
            shared,
            started: Instant::now(),
            last_sweep: AtomicU64::new(0),
        }
    }

    /// Spends one request of `key`'s budget, or says how long until one is back (never
    /// zero).
    pub(crate) fn check(&self, key: &K) -> Result<(), Duration> {
        let result = self.limiter.check_key(key).map_err(|not_until| {
            let now = self.limiter.clock().now();
            not_until.wait_time_from(now).max(Duration::from_nanos(1))
        });
        if self.shared.full.load(Ordering::Relaxed) {
            self.sweep();
        }
        result
    }

    /// Drops the entries that have refilled, if no sweep ran in the last [`SWEEP_EVERY`].
    fn sweep(&self) {
        let now = self.clock_nanos();
        let last = self.last_sweep.load(Ordering::Relaxed);
        let due = now.saturating_sub(last) >= SWEEP_EVERY.as_nanos() as u64 || last == 0;
        let won = due
            && self
                .last_sweep
                .compare_exchange(last, now.max(1), Ordering::Relaxed, Ordering::Relaxed)
                .is_ok();
        if won {
            self.shared.full.store(false, Ordering::Relaxed);
            self.limiter.retain_recent();
        }
    }

    /// Nanoseconds since this limiter was made.
    fn clock_nanos(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// Keys with their own state (the overflow not counted).
    pub(crate) fn len(&self) -> usize {
        self.shared.map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limit::Rate;

    fn limiter(max_keys: usize) -> Limiter<u32> {
        Limiter::new(Rate::per_hour(3).quota().unwrap(), max_keys)
    }

    #[test]
    fn a_key_spends_its_budget_then_waits_for_one_cell() {
        let l = limiter(10);
        assert!((0..3).all(|_| l.check(&1).is_ok()));
        let wait = l.check(&1).unwrap_err();
        // One cell is back after an hour / 3.
        assert!(wait > Duration::from_secs(1190) && wait <= Duration::from_secs(1200));
        assert!(l.check(&2).is_ok(), "another key has its own budget");
    }

    #[test]
    fn a_flood_of_new_keys_stays_under_the_cap_and_resets_no_one() {
        let l = limiter(100);
        let victim = 0;
        while l.check(&victim).is_ok() {}
        for key in 1..50_000 {
            let _ = l.check(&key);
            assert!(l.len() <= 100, "{} keys after {key}", l.len());
        }
        assert!(l.check(&victim).is_err(), "the exhausted key was not reset");
        assert!(
            l.check(&(u32::MAX)).is_err(),
            "new keys share one spent budget"
        );
        assert!(l.check(&1).is_ok(), "a key in the map keeps its own budget");
    }

    #[test]
    fn a_full_map_drops_the_keys_that_have_refilled() {
        // One request per microsecond: a spent cell is back long before the map is full
        // again (the wait below is a thousand times that).
        let l: Limiter<u32> = Limiter::new(Rate::per_second(1_000_000).quota().unwrap(), 10);
        for key in 0..10 {
            assert!(l.check(&key).is_ok());
        }
        assert_eq!(l.len(), 10);
        std::thread::sleep(Duration::from_millis(5));
        // The map is full: this key shares the overflow, and the first sweep runs.
        assert!(l.check(&100).is_ok());
        assert_eq!(l.len(), 0, "every key had refilled");
        assert!(l.check(&101).is_ok());
        assert_eq!(l.len(), 1, "a new key finds room again");
    }
}
