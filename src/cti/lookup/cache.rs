//! TTL cache core: recent lookup answers, so a caller who rings twice in a minute (or a chat and
//! a call from the same customer) costs the CRM one request.
//!
//! Owns: entries with their expiry, bounded in number.
//! Must not touch: clocks, sockets, tokio. `now` is passed in.
//! Driven by: `LookupService`, which caches successful answers only.
//!
//! When full, expired entries are dropped first, then the entry closest to expiry. The scan is
//! linear in the number of entries, which is fine for the few thousand a node holds.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::{Duration, Instant};

/// A bounded map whose entries expire.
#[derive(Debug, Clone)]
pub struct TtlCache<K, V> {
    capacity: usize,
    entries: HashMap<K, (Instant, V)>,
}

impl<K: Eq + Hash + Clone, V: Clone> TtlCache<K, V> {
    /// An empty cache holding at most `capacity` entries (at least 1).
    pub fn new(capacity: usize) -> Self {
        TtlCache {
            capacity: capacity.max(1),
            entries: HashMap::new(),
        }
    }

    /// The value stored under `key` if it has not expired at `now`; an expired one is removed.
    pub fn get(&mut self, now: Instant, key: &K) -> Option<V> {
        match self.entries.get(key) {
            Some((expires, value)) if now < *expires => Some(value.clone()),
            Some(_) => {
                self.entries.remove(key);
                None
            }
            None => None,
        }
    }

    /// Stores `value` until `now + ttl`. A zero `ttl` stores nothing.
    pub fn insert(&mut self, now: Instant, key: K, value: V, ttl: Duration) {
        if ttl.is_zero() {
            return;
        }
        if !self.entries.contains_key(&key) && self.entries.len() >= self.capacity {
            self.make_room(now);
        }
        self.entries.insert(key, (now + ttl, value));
    }

    /// Number of entries held (expired ones included until they are noticed).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Drops everything (e.g. after a config reload).
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    fn make_room(&mut self, now: Instant) {
        self.entries.retain(|_, (expires, _)| now < *expires);
        if self.entries.len() < self.capacity {
            return;
        }
        let soonest = self
            .entries
            .iter()
            .min_by_key(|(_, (expires, _))| *expires)
            .map(|(key, _)| key.clone());
        if let Some(key) = soonest {
            self.entries.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_secs(60);

    #[test]
    fn entries_expire_after_their_ttl() {
        let t0 = Instant::now();
        let mut cache = TtlCache::new(10);
        cache.insert(t0, "a", 1, MIN);
        assert_eq!(
            cache.get(t0 + MIN - Duration::from_millis(1), &"a"),
            Some(1)
        );
        assert_eq!(cache.get(t0 + MIN, &"a"), None);
        assert!(cache.is_empty());
    }

    #[test]
    fn zero_ttl_is_not_stored() {
        let t0 = Instant::now();
        let mut cache = TtlCache::new(10);
        cache.insert(t0, "a", 1, Duration::ZERO);
        assert_eq!(cache.get(t0, &"a"), None);
    }

    #[test]
    fn full_cache_drops_expired_then_soonest() {
        let t0 = Instant::now();
        let mut cache = TtlCache::new(2);
        cache.insert(t0, "short", 1, Duration::from_secs(1));
        cache.insert(t0, "long", 2, MIN * 10);
        // "short" has expired: it goes, "long" stays.
        cache.insert(t0 + Duration::from_secs(2), "new", 3, MIN);
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.get(t0 + Duration::from_secs(2), &"long"), Some(2));
        // Nothing expired: the one expiring soonest ("new") goes.
        cache.insert(t0 + Duration::from_secs(3), "newer", 4, MIN * 5);
        assert_eq!(cache.get(t0 + Duration::from_secs(3), &"new"), None);
        assert_eq!(cache.get(t0 + Duration::from_secs(3), &"long"), Some(2));
        assert_eq!(cache.get(t0 + Duration::from_secs(3), &"newer"), Some(4));
    }

    #[test]
    fn reinsert_refreshes_the_expiry() {
        let t0 = Instant::now();
        let mut cache = TtlCache::new(1);
        cache.insert(t0, "a", 1, MIN);
        cache.insert(t0 + MIN / 2, "a", 2, MIN);
        assert_eq!(cache.get(t0 + MIN, &"a"), Some(2));
    }
}
