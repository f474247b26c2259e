//! The in-process store: a bounded map with expiries, for one process (and the tests of
//! what a fleet shares, several `McpOAuth`s on one store).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{Store, StoreFuture, Unavailable, gcra};
use crate::sync;

/// The most keys held; when full and none has expired, a new key is refused as the
/// shared tier would be when it cannot answer (never an old one dropped, which could
/// let a replay through).
const MAX_KEYS: usize = 1 << 18;

#[derive(Debug, Default)]
pub(crate) struct MemoryStore {
    keys: Mutex<HashMap<String, Instant>>,
}

impl Store for MemoryStore {
    fn insert_new<'a>(
        &'a self,
        key: &'a str,
        ttl: Duration,
    ) -> StoreFuture<'a, Result<bool, Unavailable>> {
        Box::pin(async move {
            let now = Instant::now();
            let mut keys = sync::lock(&self.keys);
            if keys.get(key).is_some_and(|until| *until > now) {
                return Ok(false);
            }
            if keys.len() >= MAX_KEYS {
                keys.retain(|_, until| *until > now);
                if keys.len() >= MAX_KEYS {
                    return Err(Unavailable("the in-memory store is full".into()));
                }
            }
            keys.insert(key.to_owned(), now + ttl);
            Ok(true)
        })
    }

    // Rate limits (`limit/`): a key's TAT is its expiry, so an expired key is a full one.
    fn gcra<'a>(
        &'a self,
        key: &'a str,
        cells: gcra::Cells,
    ) -> StoreFuture<'a, Result<Result<(), Duration>, Unavailable>> {
        Box::pin(async move {
            let now = Instant::now();
            let mut keys = sync::lock(&self.keys);
            let ahead = keys
                .get(key)
                .map_or(Duration::ZERO, |tat| tat.saturating_duration_since(now));
            let next = match cells.step(ahead) {
                Ok(next) => next,
                Err(wait) => return Ok(Err(wait)),
            };
            if !keys.contains_key(key) && keys.len() >= MAX_KEYS {
                keys.retain(|_, until| *until > now);
                if keys.len() >= MAX_KEYS {
                    return Err(Unavailable("the in-memory store is full".into()));
                }
            }
            keys.insert(key.to_owned(), now + next);
            Ok(Ok(()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gcra_spends_a_burst_then_answers_the_wait_and_keys_stay_apart() {
        let store = MemoryStore::default();
        let cells = gcra::Cells {
            interval: Duration::from_secs(1200),
            burst: 3,
        };
        let step = |key| actix_web::rt::System::new().block_on(store.gcra(key, cells));
        for _ in 0..3 {
            assert_eq!(step("a"), Ok(Ok(())));
        }
        let wait = step("a").unwrap().unwrap_err();
        assert!(wait > Duration::from_secs(1190) && wait <= Duration::from_secs(1200));
        assert_eq!(step("b"), Ok(Ok(())), "another key has its own budget");
        let tat = *sync::lock(&store.keys).get("a").unwrap();
        let left = tat.saturating_duration_since(Instant::now());
        assert!(left > Duration::from_secs(3590) && left <= Duration::from_secs(3600));
    }
}
