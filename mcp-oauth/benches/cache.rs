//! The validation cache's store, today's sharded FIFO (`src/cache/fifo.rs`, compiled here
//! as it is) against a `moka::sync::Cache` holding the same entries with the same rules
//! (per-entry expiry at min(TTL, `exp`), every read checked against both clocks and the
//! key epoch), measured in one run:
//!
//! - `cache_hit/{fifo,moka}`: one key, looked up again and again (a live entry, an `Arc`
//!   clone): the part of the middleware's cached path the store decides. `cache_hit/sha256`
//!   is the other part, hashing a 700-byte token, for scale;
//! - `cache_hit_2_threads/{fifo,moka}`: the same with two threads on the one key, as two
//!   actix workers serving one busy client;
//! - `cache_insert/{fifo,moka}`: a new key into a full store (10,000 entries): an eviction
//!   every time;
//! - `cache_flood/{fifo,moka}`: 100,000 one-off tokens, each looked up then stored (a
//!   miss, a validation), interleaved with lookups of a hot set of 100 tokens (one after
//!   each one-off; a miss is stored again); 10,000 entries at most.
//!
//! Before timing, the flood is also run once per store and the hot lookups that missed
//! (each a re-validation: a signature check or an introspection call) are counted and
//! printed: a count, not a time. With one hot lookup per 100 one-offs too, where a hot
//! token comes back only about once per `max_entries` insertions. `moka` with LRU
//! eviction is counted as well, for comparison.

#![allow(clippy::unwrap_used, missing_docs, unreachable_pub)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use criterion::{Criterion, criterion_main};
use moka::Expiry;
use moka::policy::EvictionPolicy;

#[allow(dead_code)]
#[path = "../src/validate/cache/fifo.rs"]
mod fifo;

use fifo::{Entry, FifoStore};

type Key = [u8; 32];
/// What the cache holds: the claims, shared.
type Value = Arc<serde_json::Map<String, serde_json::Value>>;

const MAX_ENTRIES: usize = 10_000;
const TTL: Duration = Duration::from_secs(3600);
const HOT: usize = 100;
const ONE_OFFS: usize = 100_000;

/// The store interface `CachedValidator` uses.
trait Store: Sync {
    fn get(&self, key: &Key, now: Instant, wall: SystemTime, epoch: u64) -> Option<Value>;
    fn put(&self, key: Key, entry: Entry<Value>, now: Instant, wall: SystemTime);
}

impl Store for FifoStore<Value> {
    fn get(&self, key: &Key, now: Instant, wall: SystemTime, epoch: u64) -> Option<Value> {
        FifoStore::get(self, key, now, wall, epoch)
    }
    fn put(&self, key: Key, entry: Entry<Value>, now: Instant, wall: SystemTime) {
        FifoStore::put(self, key, entry, now, wall);
    }
}

/// moka's own expiry follows the entry's deadline (min(TTL, `exp`)), so it frees the
/// memory; serving is still decided by `Entry::is_live` on read, as for the FIFO.
struct UntilDeadline;

impl Expiry<Key, Entry<Value>> for UntilDeadline {
    fn expire_after_create(
        &self,
        _key: &Key,
        entry: &Entry<Value>,
        created_at: Instant,
    ) -> Option<Duration> {
        Some(entry.deadline.saturating_duration_since(created_at))
    }

    fn expire_after_update(
        &self,
        _key: &Key,
        entry: &Entry<Value>,
        updated_at: Instant,
        _left: Option<Duration>,
    ) -> Option<Duration> {
        Some(entry.deadline.saturating_duration_since(updated_at))
    }
}

/// Hashes a key by its first 8 bytes: keys are SHA-256 output already, so SipHash over
/// them (std's and moka's default) is work a tuned store could skip.
#[derive(Default, Clone)]
struct FirstBytes(u64);

impl std::hash::Hasher for FirstBytes {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for (i, b) in bytes.iter().take(8).enumerate() {
            self.0 ^= u64::from(*b) << (8 * i);
        }
    }
}

type FirstBytesState = std::hash::BuildHasherDefault<FirstBytes>;

/// A `moka` store of the same entries, bounded by count (TinyLFU admission by default).
struct MokaStore<H = std::collections::hash_map::RandomState>(
    moka::sync::Cache<Key, Entry<Value>, H>,
);

impl MokaStore {
    fn new(max_entries: usize, policy: EvictionPolicy) -> Self {
        Self(
            moka::sync::Cache::builder()
                .max_capacity(max_entries as u64)
                .eviction_policy(policy)
                .expire_after(UntilDeadline)
                .build(),
        )
    }
}

impl MokaStore<FirstBytesState> {
    /// Tuned: keys hashed by their first bytes, and no per-entry expiry (the read check
    /// alone decides; stale entries then stay until evicted).
    fn tuned(max_entries: usize) -> Self {
        Self(
            moka::sync::Cache::builder()
                .max_capacity(max_entries as u64)
                .build_with_hasher(FirstBytesState::default()),
        )
    }
}

impl<H: std::hash::BuildHasher + Clone + Send + Sync + 'static> Store for MokaStore<H> {
    fn get(&self, key: &Key, now: Instant, wall: SystemTime, epoch: u64) -> Option<Value> {
        self.0
            .get(key)
            .filter(|e| e.is_live(now, wall, epoch))
            .map(|e| e.value)
    }
    fn put(&self, key: Key, entry: Entry<Value>, _now: Instant, _wall: SystemTime) {
        self.0.insert(key, entry);
    }
}

fn key(label: &str, i: u64) -> Key {
    let digest = aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        format!("{label} {i}").as_bytes(),
    );
    digest.as_ref().try_into().unwrap()
}

fn claims() -> Value {
    let claims = serde_json::json!({"sub": "alice", "scope": "mcp", "exp": 4_000_000_000u64});
    Arc::new(claims.as_object().cloned().unwrap())
}

fn entry(value: &Value, now: Instant, wall: SystemTime) -> Entry<Value> {
    Entry {
        value: value.clone(),
        deadline: now + TTL,
        exp: Some(wall + 2 * TTL),
        epoch: 0,
    }
}

/// What one request does: a lookup, and on a miss a validation (not timed here: the
/// same for both) and a store. True on a miss.
fn request(store: &impl Store, key: &Key, value: &Value) -> bool {
    let (now, wall) = (Instant::now(), SystemTime::now());
    if black_box(store.get(key, now, wall, 0)).is_some() {
        return false;
    }
    store.put(*key, entry(value, now, wall), now, wall);
    true
}

struct Flood {
    hot: Vec<Key>,
    one_offs: Vec<Key>,
}

impl Flood {
    fn new() -> Self {
        Self {
            hot: (0..HOT as u64).map(|i| key("hot", i)).collect(),
            one_offs: (0..ONE_OFFS as u64).map(|i| key("one-off", i)).collect(),
        }
    }

    /// Runs the flood: a hot lookup after every `every` one-offs. Returns (hot lookups,
    /// hot misses), the hot set warmed first (one request each) and not counted.
    fn run(&self, store: &impl Store, every: usize, value: &Value) -> (usize, usize) {
        for k in &self.hot {
            request(store, k, value);
        }
        let (mut lookups, mut misses) = (0, 0);
        for (i, k) in self.one_offs.iter().enumerate() {
            request(store, k, value);
            if i % every == every - 1 {
                misses += usize::from(request(store, &self.hot[lookups % HOT], value));
                lookups += 1;
            }
        }
        (lookups, misses)
    }
}

fn count_hot_misses(flood: &Flood, value: &Value) {
    for every in [1, 100] {
        let print = |name: &str, (lookups, misses): (usize, usize)| {
            println!(
                "flood: {ONE_OFFS} one-offs, a hot lookup (of {HOT}) after every {every}, \
                 max {MAX_ENTRIES}: {name}: {misses} of {lookups} hot lookups missed ({:.1}%)",
                100.0 * misses as f64 / lookups as f64
            );
        };
        print(
            "fifo",
            flood.run(&FifoStore::new(MAX_ENTRIES), every, value),
        );
        let tiny_lfu = MokaStore::new(MAX_ENTRIES, EvictionPolicy::tiny_lfu());
        print("moka (TinyLFU)", flood.run(&tiny_lfu, every, value));
        let lru = MokaStore::new(MAX_ENTRIES, EvictionPolicy::lru());
        print("moka (LRU)", flood.run(&lru, every, value));
    }
}

fn bench_hit<S: Store>(
    c: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    store: &S,
    hot: &Key,
) {
    c.bench_function(name, |b| {
        b.iter(|| {
            let (now, wall) = (Instant::now(), SystemTime::now());
            black_box(store.get(black_box(hot), now, wall, 0)).is_some()
        })
    });
}

fn bench_hit_2_threads<S: Store>(
    c: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    store: &S,
    hot: &Key,
) {
    c.bench_function(name, |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            std::thread::scope(|s| {
                for _ in 0..2 {
                    s.spawn(|| {
                        for _ in 0..iters {
                            let (now, wall) = (Instant::now(), SystemTime::now());
                            black_box(store.get(black_box(hot), now, wall, 0));
                        }
                    });
                }
            });
            // Per lookup: two threads did `iters` each.
            start.elapsed() / 2
        })
    });
}

fn bench_insert<S: Store>(
    c: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    store: &S,
    value: &Value,
) {
    // Full first.
    let mut n = 0u64;
    let mut next = || {
        n += 1;
        let mut k = [0x5a; 32];
        k[..8].copy_from_slice(&n.to_le_bytes());
        k
    };
    let (now, wall) = (Instant::now(), SystemTime::now());
    for _ in 0..MAX_ENTRIES {
        store.put(next(), entry(value, now, wall), now, wall);
    }
    c.bench_function(name, |b| {
        b.iter(|| {
            let (now, wall) = (Instant::now(), SystemTime::now());
            store.put(next(), entry(value, now, wall), now, wall);
        })
    });
}

fn cache(c: &mut Criterion) {
    let value = claims();
    let flood = Flood::new();
    count_hot_misses(&flood, &value);

    let fifo = FifoStore::new(MAX_ENTRIES);
    let moka = MokaStore::new(MAX_ENTRIES, EvictionPolicy::tiny_lfu());
    let hot = key("hot", 0);
    let (now, wall) = (Instant::now(), SystemTime::now());
    fifo.put(hot, entry(&value, now, wall), now, wall);
    moka.put(hot, entry(&value, now, wall), now, wall);
    assert!(Store::get(&fifo, &hot, now, wall, 0).is_some());
    assert!(Store::get(&moka, &hot, now, wall, 0).is_some());

    let mut group = c.benchmark_group("cache_hit");
    bench_hit(&mut group, "fifo", &fifo, &hot);
    bench_hit(&mut group, "moka", &moka, &hot);
    let tuned = MokaStore::tuned(MAX_ENTRIES);
    tuned.put(hot, entry(&value, now, wall), now, wall);
    bench_hit(&mut group, "moka_tuned", &tuned, &hot);
    let token = "e".repeat(700);
    group.bench_function("sha256", |b| {
        b.iter(|| {
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, black_box(token.as_bytes()))
        })
    });
    group.finish();

    let mut group = c.benchmark_group("cache_hit_2_threads");
    bench_hit_2_threads(&mut group, "fifo", &fifo, &hot);
    bench_hit_2_threads(&mut group, "moka", &moka, &hot);
    bench_hit_2_threads(&mut group, "moka_tuned", &tuned, &hot);
    group.finish();

    let mut group = c.benchmark_group("cache_insert");
    bench_insert(&mut group, "fifo", &FifoStore::new(MAX_ENTRIES), &value);
    bench_insert(
        &mut group,
        "moka",
        &MokaStore::new(MAX_ENTRIES, EvictionPolicy::tiny_lfu()),
        &value,
    );
    group.finish();

    let mut group = c.benchmark_group("cache_flood");
    group.sample_size(10);
    group.bench_function("fifo", |b| {
        b.iter(|| flood.run(&FifoStore::new(MAX_ENTRIES), 1, &value))
    });
    group.bench_function("moka", |b| {
        b.iter(|| {
            flood.run(
                &MokaStore::new(MAX_ENTRIES, EvictionPolicy::tiny_lfu()),
                1,
                &value,
            )
        })
    });
    group.finish();
}

/// `criterion_group!` makes an undocumented `pub fn`.
mod harness {
    criterion::criterion_group! {
        name = benches;
        config = criterion::Criterion::default().warm_up_time(std::time::Duration::from_secs(2));
        targets = super::cache
    }
}
criterion_main!(harness::benches);
