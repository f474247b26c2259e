//! The in-process store: a bounded map with expiries, for one process (and the tests of
//! what a fleet shares, several `McpOAuth`s on one store).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{Store, StoreFuture, Unavailable};
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
}
