//! The in-process store: a bounded map with expiries, for one process (and the tests of
//! what a fleet shares, several `McpOAuth`s on one store).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{Event, Store, StoreFuture, Subscriber, Unavailable, gcra};
use crate::sync;

/// The most keys held; when full and none has expired, a new key is refused as the
/// shared tier would be when it cannot answer (never an old one dropped, which could
/// let a replay through).
const MAX_KEYS: usize = 1 << 18;

#[derive(Debug, Default)]
pub(crate) struct MemoryStore {
    keys: Mutex<HashMap<String, Instant>>,
    /// Introspection results, session owners and revocation records: a value and its
    /// deadline per key.
    values: Mutex<HashMap<String, (String, Instant)>>,
    /// Revocation: the subscribers of each channel.
    subscribers: Mutex<Vec<(String, Subscriber)>>,
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

    // Introspection results and session owners.

    fn get<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Result<Option<String>, Unavailable>> {
        Box::pin(async move {
            let now = Instant::now();
            let values = sync::lock(&self.values);
            Ok(values
                .get(key)
                .filter(|(_, until)| *until > now)
                .map(|(value, _)| value.clone()))
        })
    }

    fn put<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        ttl: Duration,
    ) -> StoreFuture<'a, Result<(), Unavailable>> {
        Box::pin(async move { self.set(key, value, ttl, false).map(|_| ()) })
    }

    fn put_new<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        ttl: Duration,
    ) -> StoreFuture<'a, Result<bool, Unavailable>> {
        Box::pin(async move { self.set(key, value, ttl, true) })
    }

    fn remove<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Result<(), Unavailable>> {
        Box::pin(async move {
            sync::lock(&self.values).remove(key);
            Ok(())
        })
    }

    // Revocation (fleet-wide): the same bound as the keys above; subscribers are called
    // at once, in the publishing task.

    fn record_and_publish<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        ttl: Duration,
        channel: &'a str,
        message: &'a str,
    ) -> StoreFuture<'a, Result<(), Unavailable>> {
        Box::pin(async move {
            self.set(key, value, ttl, false)?;
            sync::lock(&self.subscribers).retain(|(on, subscriber)| {
                on != channel || (subscriber.0)(Event::Message(message))
            });
            Ok(())
        })
    }

    fn get_many<'a>(
        &'a self,
        keys: &'a [String],
    ) -> StoreFuture<'a, Result<Vec<Option<String>>, Unavailable>> {
        Box::pin(async move {
            let now = Instant::now();
            let values = sync::lock(&self.values);
            Ok(keys
                .iter()
                .map(|k| {
                    values
                        .get(k)
                        .filter(|(_, until)| *until > now)
                        .map(|(v, _)| v.clone())
                })
                .collect())
        })
    }

    fn subscribe(&self, channel: String, subscriber: Subscriber) {
        if (subscriber.0)(Event::Up) {
            sync::lock(&self.subscribers).push((channel, subscriber));
        }
    }
}

impl MemoryStore {
    /// `SET` (`only_new`: `NX`) with an expiry, within [`MAX_KEYS`] values: when full and
    /// none has expired, refused as the shared tier would be when it cannot answer.
    fn set(
        &self,
        key: &str,
        value: &str,
        ttl: Duration,
        only_new: bool,
    ) -> Result<bool, Unavailable> {
        let now = Instant::now();
        let mut values = sync::lock(&self.values);
        let live = values.get(key).is_some_and(|(_, until)| *until > now);
        if only_new && live {
            return Ok(false);
        }
        if !live && values.len() >= MAX_KEYS {
            values.retain(|_, (_, until)| *until > now);
            if values.len() >= MAX_KEYS {
                return Err(Unavailable("the in-memory store is full".into()));
            }
        }
        values.insert(key.to_owned(), (value.to_owned(), now + ttl));
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_set_kept_new_removed_and_expire() {
        actix_web::rt::System::new().block_on(async {
            let store = MemoryStore::default();
            let long = Duration::from_secs(60);
            assert_eq!(store.get("k").await, Ok(None));
            assert_eq!(store.put_new("k", "a", long).await, Ok(true));
            assert_eq!(store.put_new("k", "b", long).await, Ok(false));
            assert_eq!(store.get("k").await, Ok(Some("a".into())));
            assert_eq!(store.put("k", "c", long).await, Ok(()));
            assert_eq!(store.get("k").await, Ok(Some("c".into())));
            assert_eq!(store.remove("k").await, Ok(()));
            assert_eq!(store.get("k").await, Ok(None));
            assert_eq!(store.put("gone", "x", Duration::ZERO).await, Ok(()));
            assert_eq!(store.get("gone").await, Ok(None));
            assert_eq!(store.put_new("gone", "y", long).await, Ok(true));
        });
    }

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
