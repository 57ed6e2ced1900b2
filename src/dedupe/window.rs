//! The recent-calls window: fixed-size entries, bounded by age, count and bytes.
//!
//! Entries live in arrival order in a ring; two hash indexes point into it by sequence
//! number (response id → call; fingerprint and end-time slot → calls). Forgetting the oldest
//! is a pop at the front of the ring and of its fingerprint slot. Nothing stores a string, so
//! a span with a 1 MB model name costs what any other span costs.
//!
//! The fingerprint index is split by when a call ended, in slots one `time_slack_ms` wide: a
//! fingerprint match needs the two ends within the slack, so only the call's own slot and
//! its two neighbours can hold one. Without the split, a service that makes many calls with
//! the same usage (a fixed prompt, a `max_tokens` cut) piles them into one list that every
//! later call of the window walked: 100,000 entries at worst, per span.

use std::collections::{HashMap, VecDeque};

/// Most calls of one fingerprint slot compared with a new call, newest first. Only a flood of
/// calls with the same service and usage ending within one slack of each other fills a slot
/// past this; a duplicate then still matches when it arrives among the latest of them, which
/// is where the layers of one call arrive (the same batch or the next).
const SLOT_SCAN_MAX: usize = 256;

use serde::Serialize;

use super::identity::CallIdentity;
use super::{DedupeConfig, Verdict};

/// One remembered call.
#[derive(Debug, Clone, Copy)]
struct Entry {
    seq: u64,
    /// Collector time when it was first seen (for age expiry).
    seen_ns: u64,
    id_key: Option<u64>,
    fp_key: u64,
    provider_key: u64,
    model_key: u64,
    start_ns: u64,
    end_ns: u64,
    trace_key: u64,
    is_root: bool,
}

/// How far a nested span may stick out of the span it is inside: spans of one process share a
/// clock, but instrumentations read it with different precision.
const NEST_TOLERANCE_NS: u64 = 1_000_000;

/// Bytes one remembered call accounts for: the entry in the ring, its place in both indexes
/// (key and value; at worst a fingerprint slot of its own, key, list and element) and the hash
/// tables' control bytes and load-factor slack.
pub const ENTRY_BYTES: u64 =
    (std::mem::size_of::<Entry>() + (8 + 8) + (16 + std::mem::size_of::<VecDeque<u64>>() + 8) + 16)
        as u64;

/// The window's size and what it did, for self-telemetry.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct WindowStats {
    /// Calls remembered now.
    pub dedupe_window_entries: u64,
    /// Bytes they account for (at most `dedupe.max_bytes`).
    pub dedupe_window_bytes: u64,
    /// Calls forgotten before `window_seconds` because the window was full: a duplicate of
    /// one of them would be counted again. Raise `max_entries`/`max_bytes` if this grows.
    pub dedupe_window_evictions: u64,
}

pub struct Window {
    entries: VecDeque<Entry>,
    by_id: HashMap<u64, u64>,
    /// (fingerprint, end-time slot) → sequence numbers, oldest first.
    by_fingerprint: HashMap<(u64, u64), VecDeque<u64>>,
    next_seq: u64,
    max_age_ns: u64,
    max_entries: u64,
    slack_ns: u64,
    /// Width of an end-time slot: the slack, at least 1 ns.
    slot_ns: u64,
    evictions: u64,
}

impl Window {
    pub fn new(cfg: &DedupeConfig) -> Window {
        Self::with_slot(cfg, cfg.time_slack_ms.saturating_mul(1_000_000).max(1))
    }

    /// A window whose end-time slots are `slot_ns` wide. `u64::MAX` puts every call of a
    /// fingerprint in one slot: the index as it was before slots, which tests compare with.
    pub(super) fn with_slot(cfg: &DedupeConfig, slot_ns: u64) -> Window {
        Window {
            entries: VecDeque::new(),
            by_id: HashMap::new(),
            by_fingerprint: HashMap::new(),
            next_seq: 0,
            max_age_ns: cfg.window_seconds.saturating_mul(1_000_000_000),
            max_entries: cfg.max_entries.min(cfg.max_bytes / ENTRY_BYTES).max(1),
            slack_ns: cfg.time_slack_ms.saturating_mul(1_000_000),
            slot_ns: slot_ns.max(1),
            evictions: 0,
        }
    }

    pub fn stats(&self) -> WindowStats {
        let n = self.entries.len() as u64;
        WindowStats {
            dedupe_window_entries: n,
            dedupe_window_bytes: n * ENTRY_BYTES,
            dedupe_window_evictions: self.evictions,
        }
    }

    /// Forgets calls first seen more than `window_seconds` before `now_ns`.
    pub fn expire(&mut self, now_ns: u64) {
        while let Some(e) = self.entries.front() {
            if e.seen_ns.saturating_add(self.max_age_ns) > now_ns {
                break;
            }
            self.pop_front();
        }
    }

    /// Says whether `c` is a call already seen; remembers it when it is not.
    pub fn observe(&mut self, c: &CallIdentity<'_>, now_ns: u64) -> Verdict {
        let id_key = c.id_key();
        let (provider_key, model_key) = (c.provider_key(), c.model_key());
        let compatible = |e: &Entry| {
            (e.provider_key == 0 || provider_key == 0 || e.provider_key == provider_key)
                && (e.model_key == 0 || model_key == 0 || e.model_key == model_key)
        };
        // 1. The same response id, at overlapping times.
        if let Some(k) = id_key {
            if let Some(e) = self.by_id.get(&k).and_then(|s| self.get(*s)) {
                if compatible(e) && self.overlap(e, c) {
                    return Verdict::Duplicate;
                }
            }
        }
        // 2. The same fingerprint, at matching times, unless both name different responses.
        let fp_key = c.fingerprint_key();
        let trace_key = c.trace_key();
        // The earliest remembered match, as when one list held the whole fingerprint.
        let slot = c.end_ns / self.slot_ns;
        let matched = [slot.wrapping_sub(1), slot, slot.wrapping_add(1)]
            .into_iter()
            .filter_map(|sl| self.by_fingerprint.get(&(fp_key, sl)))
            .filter_map(|seqs| {
                let skip = seqs.len().saturating_sub(SLOT_SCAN_MAX);
                seqs.iter().skip(skip).copied().find(|&s| {
                    let Some(e) = self.get(s) else { return false };
                    let distinct = matches!((e.id_key, id_key), (Some(a), Some(b)) if a != b);
                    // Across traces only when one span started its trace: an instrumentation
                    // that does not make its span current leaves the other span of the call a
                    // root (OpenInference LangChain over OpenAI). Calls in two ordinary traces
                    // are two.
                    let traces_ok = e.trace_key == trace_key || e.is_root || c.is_root;
                    !distinct && traces_ok && compatible(e) && self.same_times(e, c)
                })
            })
            .min();
        if let Some(s) = matched {
            // Remember this span's id for the call, so a third span with only the id matches.
            if let Some(k) = id_key {
                self.by_id.entry(k).or_insert(s);
                if let Some(e) = self.get_mut(s) {
                    e.id_key.get_or_insert(k);
                }
            }
            return Verdict::Duplicate;
        }
        self.insert(Entry {
            seq: self.next_seq,
            seen_ns: now_ns,
            id_key,
            fp_key,
            provider_key,
            model_key,
            start_ns: c.start_ns,
            end_ns: c.end_ns,
            trace_key,
            is_root: c.is_root,
        });
        Verdict::First
    }

    /// Overlapping intervals, each widened by the slack.
    fn overlap(&self, e: &Entry, c: &CallIdentity<'_>) -> bool {
        let s = self.slack_ns;
        e.start_ns.saturating_sub(s) <= c.end_ns.saturating_add(s)
            && c.start_ns.saturating_sub(s) <= e.end_ns.saturating_add(s)
    }

    /// One span inside the other (to within [`NEST_TOLERANCE_NS`]) and the ends within the
    /// slack. Layers of one call nest; two calls made one after the other do not, however
    /// alike their usage.
    fn same_times(&self, e: &Entry, c: &CallIdentity<'_>) -> bool {
        let t = NEST_TOLERANCE_NS;
        let inside = |(s1, e1): (u64, u64), (s2, e2): (u64, u64)| {
            s1.saturating_add(t) >= s2 && e1 <= e2.saturating_add(t)
        };
        let (ei, ci) = ((e.start_ns, e.end_ns), (c.start_ns, c.end_ns));
        e.end_ns.abs_diff(c.end_ns) <= self.slack_ns && (inside(ei, ci) || inside(ci, ei))
    }

    /// The most calls any one fingerprint slot holds.
    #[cfg(test)]
    pub(super) fn largest_slot(&self) -> usize {
        self.by_fingerprint
            .values()
            .map(VecDeque::len)
            .max()
            .unwrap_or(0)
    }

    fn index(&self, seq: u64) -> Option<usize> {
        let front = self.entries.front()?.seq;
        let i = seq.checked_sub(front)? as usize;
        (i < self.entries.len()).then_some(i)
    }

    fn get(&self, seq: u64) -> Option<&Entry> {
        self.index(seq).map(|i| &self.entries[i])
    }

    fn get_mut(&mut self, seq: u64) -> Option<&mut Entry> {
        self.index(seq).map(|i| &mut self.entries[i])
    }

    fn insert(&mut self, e: Entry) {
        while self.entries.len() as u64 >= self.max_entries {
            self.pop_front();
            self.evictions += 1;
        }
        self.next_seq += 1;
        if let Some(k) = e.id_key {
            self.by_id.insert(k, e.seq);
        }
        self.by_fingerprint
            .entry((e.fp_key, e.end_ns / self.slot_ns))
            .or_default()
            .push_back(e.seq);
        self.entries.push_back(e);
    }

    fn pop_front(&mut self) {
        let Some(e) = self.entries.pop_front() else {
            return;
        };
        if let Some(k) = e.id_key {
            if self.by_id.get(&k) == Some(&e.seq) {
                self.by_id.remove(&k);
            }
        }
        // Calls enter the ring and their slot in the same order, so the oldest call is at
        // the front of its slot too.
        let key = (e.fp_key, e.end_ns / self.slot_ns);
        if let Some(v) = self.by_fingerprint.get_mut(&key) {
            if v.front() == Some(&e.seq) {
                v.pop_front();
            }
            if v.is_empty() {
                self.by_fingerprint.remove(&key);
            }
        }
    }
}
