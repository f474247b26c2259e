//! [`KeyTable`]: secrets known by their SHA-256 only, looked up in constant time.

use aws_lc_rs::constant_time;

use crate::validate::cache::{Key, key_of};

/// Entries known by the SHA-256 of a secret (an API key, a development token); the
/// secret itself is never kept. A lookup hashes the presented secret and compares it
/// with every stored hash in constant time (`aws_lc_rs::constant_time`), never stopping
/// early: how long it takes says nothing about which hash, or how much of one, matched.
/// The table is as large as the configuration that made it, and read-only.
#[derive(Debug, Clone)]
pub(crate) struct KeyTable<T> {
    entries: Vec<(Key, T)>,
}

impl<T> Default for KeyTable<T> {
    fn default() -> Self {
        Self {
            entries: Vec::new(),
        }
    }
}

impl<T> KeyTable<T> {
    /// Adds `value` under the hash `hash`; `false` (and nothing added) when that hash is
    /// already in the table.
    pub(crate) fn insert(&mut self, hash: Key, value: T) -> bool {
        if self.entries.iter().any(|(h, _)| *h == hash) {
            return false;
        }
        self.entries.push((hash, value));
        true
    }

    /// The entry of `secret`, if its hash is in the table.
    pub(crate) fn find(&self, secret: &str) -> Option<&T> {
        let hash = key_of(secret);
        let mut found = None;
        for (stored, value) in &self.entries {
            // Every entry is compared; the match is remembered, not returned.
            if constant_time::verify_slices_are_equal(stored, &hash).is_ok() {
                found = Some(value);
            }
        }
        found
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_found_by_its_hash_and_a_hash_is_taken_once() {
        let mut table = KeyTable::default();
        assert!(table.insert(key_of("mcp_sk_one"), 1));
        assert!(table.insert(key_of("mcp_sk_two"), 2));
        assert!(!table.insert(key_of("mcp_sk_one"), 3));
        assert_eq!(table.find("mcp_sk_one"), Some(&1));
        assert_eq!(table.find("mcp_sk_two"), Some(&2));
        assert_eq!(table.find("mcp_sk_three"), None);
        assert_eq!(table.len(), 2);
    }
}
