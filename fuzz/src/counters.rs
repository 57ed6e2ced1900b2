//! "Counters never decrease" (invariant 3), checked over the engine's stats: every numeric
//! leaf of the stats JSON is a counter unless it is named here as a gauge.

use std::collections::BTreeMap;

use serde_json::Value;

/// Leaves that measure what is held now, so they go down as well as up.
const GAUGES: &[&str] = &[
    "traces_buffered",
    "spans_buffered",
    "bytes_buffered",
    "spans_pending_release",
    "bytes_pending_release",
    "decision_cache_entries",
    "memory_bytes",
    "pricing_cache_entries",
    "pricing_cache_bytes",
    "rust_heap_bytes",
];

/// The last value of every counter seen.
#[derive(Default)]
pub struct Monotonic {
    last: BTreeMap<String, u64>,
}

impl Monotonic {
    /// Panics when a counter in `stats` is below its previous value.
    pub fn check(&mut self, stats: &Value) {
        let mut now = BTreeMap::new();
        leaves(stats, String::new(), &mut now);
        for (path, v) in &now {
            if let Some(before) = self.last.get(path) {
                assert!(v >= before, "counter {path} went down from {before} to {v}");
            }
        }
        self.last = now;
    }
}

fn leaves(v: &Value, path: String, out: &mut BTreeMap<String, u64>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                if !GAUGES.contains(&k.as_str()) {
                    leaves(v, format!("{path}/{k}"), out);
                }
            }
        }
        // Per-policy entries are named by their `name` field, not their position.
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                let name = v.get("name").and_then(Value::as_str).map(str::to_string);
                leaves(v, format!("{path}/{}", name.unwrap_or(i.to_string())), out);
            }
        }
        Value::Number(n) => {
            if let Some(n) = n.as_u64() {
                out.insert(path, n);
            }
        }
        _ => {}
    }
}

/// A counter in the stats JSON, by path (`["sampling", "spans_received"]`); 0 when absent.
pub fn get(stats: &Value, path: &[&str]) -> u64 {
    path.iter()
        .try_fold(stats, |v, k| v.get(k))
        .and_then(Value::as_u64)
        .unwrap_or(0)
}
