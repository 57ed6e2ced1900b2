//! Redaction self-metrics, kept per call and merged by the engine into its stats.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::detectors;

/// Matches replaced, per built-in detector and per secret rule id. Rule ids come from the
/// configured rule files, never from telemetry, so the map is bounded by the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detections {
    builtin: [u64; detectors::COUNT],
    rules: BTreeMap<Arc<str>, u64>,
}

impl Default for Detections {
    fn default() -> Self {
        Detections {
            builtin: [0; detectors::COUNT],
            rules: BTreeMap::new(),
        }
    }
}

impl Detections {
    /// One match replaced by built-in detector `i` (index into `detectors::SPECS`).
    pub fn add_builtin(&mut self, i: usize) {
        self.builtin[i] += 1;
    }

    /// One match replaced by the secret rule `id`.
    pub fn add_rule(&mut self, id: &Arc<str>) {
        match self.rules.get_mut(id) {
            Some(n) => *n += 1,
            None => {
                self.rules.insert(id.clone(), 1);
            }
        }
    }

    pub fn merge(&mut self, o: &Detections) {
        for (a, b) in self.builtin.iter_mut().zip(o.builtin.iter()) {
            *a = a.saturating_add(*b);
        }
        for (id, n) in &o.rules {
            let e = self.rules.entry(id.clone()).or_default();
            *e = e.saturating_add(*n);
        }
    }

    /// Matches replaced per built-in detector, in `detectors::SPECS` order.
    pub fn builtin(&self) -> &[u64; detectors::COUNT] {
        &self.builtin
    }

    /// Matches replaced under `name` (a detector or a rule id).
    pub fn get(&self, name: &str) -> u64 {
        let builtin = detectors::names()
            .position(|n| n == name)
            .map_or(0, |i| self.builtin[i]);
        builtin + self.rules.get(name).copied().unwrap_or(0)
    }

    /// Every name with its count: built-in detectors (all, zero or not), then rule ids hit.
    pub fn iter(&self) -> impl Iterator<Item = (&str, u64)> + '_ {
        detectors::names()
            .zip(self.builtin.iter().copied())
            .map(|(n, c)| (n as &str, c))
            .chain(self.rules.iter().map(|(k, v)| (k.as_ref(), *v)))
    }
}

/// Tallies for one call (or, merged, for the engine's lifetime).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RedactionCounts {
    /// Spans inspected (dropped ones included).
    pub spans_seen: u64,
    /// Spans dropped by `drop_spans` (each emitted as a `drop_span` edit).
    pub spans_dropped: u64,
    /// Attributes removed because their key is not allowed (contrib's "redacted").
    pub keys_redacted: u64,
    /// Attributes whose value was masked or hashed, wholly or in part (contrib's "masked").
    pub values_masked: u64,
    /// Attributes left alone because `allowed_values` matched.
    pub values_allowed: u64,
    /// Attributes skipped by `ignored_keys` / `ignored_key_patterns`.
    pub keys_ignored: u64,
    /// Content attributes removed by the `drop` content policy.
    pub content_dropped: u64,
    /// Content attributes replaced by an HMAC token (`hash` policy).
    pub content_hashed: u64,
    /// Values cut by `max_value_bytes` or the `truncate` content policy.
    pub values_truncated: u64,
    /// Status messages changed.
    pub status_messages_masked: u64,
    /// Span, event and scope names in which something was masked.
    pub names_masked: u64,
    /// Values masked whole because their key is a sensitive key (`sensitive_keys`).
    pub sensitive_values_masked: u64,
    /// Numbers replaced because a detector matched their digits (card numbers).
    pub numbers_masked: u64,
    /// Values nested past the depth limit replaced whole because something matched in them.
    pub nested_masked: u64,
    /// Matches replaced per built-in detector and secret rule.
    pub detections: Detections,
}

impl RedactionCounts {
    pub fn merge(&mut self, o: &RedactionCounts) {
        self.spans_seen += o.spans_seen;
        self.spans_dropped += o.spans_dropped;
        self.keys_redacted += o.keys_redacted;
        self.values_masked += o.values_masked;
        self.values_allowed += o.values_allowed;
        self.keys_ignored += o.keys_ignored;
        self.content_dropped += o.content_dropped;
        self.content_hashed += o.content_hashed;
        self.values_truncated += o.values_truncated;
        self.status_messages_masked += o.status_messages_masked;
        self.names_masked += o.names_masked;
        self.sensitive_values_masked += o.sensitive_values_masked;
        self.numbers_masked += o.numbers_masked;
        self.nested_masked += o.nested_masked;
        self.detections.merge(&o.detections);
    }

    /// Matches replaced by the named detector or secret rule.
    pub fn detected(&self, name: &str) -> u64 {
        self.detections.get(name)
    }

    /// Every counter as `(metric-ish name, value)`, detectors as `detected.<name>`, for the
    /// engine's stats JSON.
    pub fn pairs(&self) -> Vec<(String, u64)> {
        let mut v = vec![
            ("spans_seen".to_string(), self.spans_seen),
            ("spans_dropped".into(), self.spans_dropped),
            ("keys_redacted".into(), self.keys_redacted),
            ("values_masked".into(), self.values_masked),
            ("values_allowed".into(), self.values_allowed),
            ("keys_ignored".into(), self.keys_ignored),
            ("content_dropped".into(), self.content_dropped),
            ("content_hashed".into(), self.content_hashed),
            ("values_truncated".into(), self.values_truncated),
            ("status_messages_masked".into(), self.status_messages_masked),
            ("names_masked".into(), self.names_masked),
            (
                "sensitive_values_masked".into(),
                self.sensitive_values_masked,
            ),
            ("numbers_masked".into(), self.numbers_masked),
            ("nested_masked".into(), self.nested_masked),
        ];
        for (n, c) in self.detections.iter() {
            v.push((format!("detected.{n}"), c));
        }
        v
    }
}
