//! The in-process store: a bounded map with expiries, for one process (and the tests of
//! what a fleet shares, several `McpOAuth`s on one store).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{Event, Store, StoreFuture, Subscriber, Unavailable};
use crate::sync;

/// The most keys held; when full and none has expired, a new key is refused as the
/// shared tier would be when it cannot answer (never an old one dropped, which could
/// let a replay through).
const MAX_KEYS: usize = 1 << 18;

#[derive(Debug, Default)]
pub(crate) struct MemoryStore {
    keys: Mutex<HashMap<String, Instant>>,
    // Revocation: records with values, and the subscribers of each channel.
    values: Mutex<HashMap<String, (String, Instant)>>,
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
            let now = Instant::now();
            {
                let mut values = sync::lock(&self.values);
                if values.len() >= MAX_KEYS {
                    values.retain(|_, (_, until)| *until > now);
                    if values.len() >= MAX_KEYS {
                        return Err(Unavailable("the in-memory store is full".into()));
                    }
                }
                values.insert(key.to_owned(), (value.to_owned(), now + ttl));
            }
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
