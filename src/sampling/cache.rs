//! Decision cache: remembers recent trace decisions so late spans follow their trace.
//!
//! Two generations of hash sets approximate an LRU with no per-hit bookkeeping: inserts go to
//! the young set; when it holds half the capacity it becomes the old set and the previous old
//! set is discarded. At least the last `capacity / 2` decisions are always remembered and at
//! most `capacity` are held. Deterministic, and about 16 bytes plus hash overhead per entry.

use std::collections::HashSet;

use super::trace::TraceId;

#[derive(Debug)]
pub struct DecisionCache {
    half: usize,
    young: HashSet<TraceId>,
    old: HashSet<TraceId>,
}

impl DecisionCache {
    /// A cache holding up to `capacity` IDs; 0 disables it.
    pub fn new(capacity: usize) -> Self {
        DecisionCache {
            half: capacity.div_ceil(2),
            young: HashSet::new(),
            old: HashSet::new(),
        }
    }

    pub fn enabled(&self) -> bool {
        self.half > 0
    }

    pub fn insert(&mut self, id: TraceId) {
        if !self.enabled() {
            return;
        }
        if self.young.len() >= self.half {
            self.old = std::mem::take(&mut self.young);
        }
        self.young.insert(id);
    }

    pub fn contains(&self, id: &TraceId) -> bool {
        self.young.contains(id) || self.old.contains(id)
    }

    pub fn remove(&mut self, id: &TraceId) {
        self.young.remove(id);
        self.old.remove(id);
    }

    pub fn len(&self) -> usize {
        self.young.len() + self.old.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> TraceId {
        [n; 16]
    }

    #[test]
    fn remembers_recent_and_is_bounded() {
        let mut c = DecisionCache::new(4);
        for n in 0..10 {
            c.insert(id(n));
            assert!(c.len() <= 4);
        }
        assert!(c.contains(&id(9)) && c.contains(&id(8)));
        assert!(!c.contains(&id(0)));
        let mut off = DecisionCache::new(0);
        off.insert(id(1));
        assert!(!off.contains(&id(1)));
    }
}
