//! The model-lookup cache, bounded in bytes whatever the spans send.
//!
//! Lookup (match rules, regexes, name rewrites) is the expensive part of pricing, so its
//! result is kept per distinct (provider, model, host, region). Keys are stored as a keyed
//! 128-bit hash, never as the strings: a span with a 1 MB model name costs one fixed-size
//! entry. Past its byte budget the cache starts again from empty (the hot keys come back
//! on their next span); entries and bytes are reported in the engine stats.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use super::book::Resolved;

/// Bytes one entry costs besides its result: the key, the map slot and its control byte,
/// rounded up for the table's spare capacity.
const ENTRY_BYTES: u64 = 64;

/// What a cached result costs when the cache holds its only reference.
fn result_bytes(r: &Option<Arc<Resolved>>) -> u64 {
    r.as_ref().map_or(0, |r| {
        (std::mem::size_of::<Resolved>() + 2 * std::mem::size_of::<usize>() + r.price_entry.len())
            as u64
    })
}

/// Lookup results by key hash, within a byte budget.
pub struct MatchCache {
    map: RwLock<HashMap<u128, Option<Arc<Resolved>>, BuildHasherDefault<LowBits>>>,
    bytes: AtomicU64,
    max_bytes: u64,
    keys: (RandomState, RandomState),
}

impl MatchCache {
    pub fn new(max_bytes: u64) -> MatchCache {
        MatchCache {
            map: RwLock::new(HashMap::default()),
            bytes: AtomicU64::new(0),
            max_bytes,
            keys: (RandomState::new(), RandomState::new()),
        }
    }

    /// The key of one lookup: two independently keyed SipHash values, so neither an
    /// accidental nor a crafted collision is practical.
    pub fn key(&self, parts: &[&str]) -> u128 {
        let h = |s: &RandomState| {
            let mut h = s.build_hasher();
            for p in parts {
                h.write(p.as_bytes());
                h.write_u8(0xff);
            }
            h.finish()
        };
        (u128::from(h(&self.keys.0)) << 64) | u128::from(h(&self.keys.1))
    }

    /// The cached result: `None` = not cached, `Some(None)` = cached as unpriced.
    pub fn get(&self, key: u128) -> Option<Option<Arc<Resolved>>> {
        self.map
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .cloned()
    }

    pub fn insert(&self, key: u128, hit: Option<Arc<Resolved>>) {
        let cost = ENTRY_BYTES + result_bytes(&hit);
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        if self.bytes.load(Ordering::Relaxed) + cost > self.max_bytes {
            map.clear();
            map.shrink_to_fit();
            self.bytes.store(0, Ordering::Relaxed);
            if cost > self.max_bytes {
                return;
            }
        }
        if map.insert(key, hit).is_none() {
            self.bytes.fetch_add(cost, Ordering::Relaxed);
        }
    }

    /// (entries, bytes) for the engine stats.
    pub fn usage(&self) -> (u64, u64) {
        let n = self.map.read().unwrap_or_else(|e| e.into_inner()).len() as u64;
        (n, self.bytes.load(Ordering::Relaxed))
    }
}

/// The key is already a hash: its low bits index the table.
#[derive(Default)]
pub struct LowBits(u64);

impl Hasher for LowBits {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) ^ u64::from(b);
        }
    }
    fn write_u128(&mut self, n: u128) {
        self.0 = n as u64;
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_within_its_budget_and_keys_do_not_keep_the_strings() {
        let c = MatchCache::new(64 * 100);
        let long = "m".repeat(1 << 20);
        for i in 0..1000 {
            let k = c.key(&["openai", &format!("{long}{i}"), "", ""]);
            c.insert(k, None);
            assert!(c.usage().1 <= 64 * 100);
        }
        let (n, bytes) = c.usage();
        assert!(n <= 100 && bytes == n * ENTRY_BYTES, "{n} {bytes}");
        let k = c.key(&["openai", "gpt-4o", "", ""]);
        assert!(c.get(k).is_none());
        c.insert(k, None);
        assert!(matches!(c.get(k), Some(None)));
        assert_ne!(k, c.key(&["openai", "gpt-4o", "", "us-east-1"]));
        assert_ne!(c.key(&["ab", "c"]), c.key(&["a", "bc"]));
    }
}
