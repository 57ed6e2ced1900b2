//! Redaction self-metrics, kept per call and merged by the engine into its stats.

use super::detectors;

/// Tallies for one call (or, merged, for the engine's lifetime).
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// Matches replaced per built-in detector, indexed like [`detectors::names`].
    pub detections: [u64; detectors::COUNT],
}

impl Default for RedactionCounts {
    fn default() -> Self {
        RedactionCounts {
            spans_seen: 0,
            spans_dropped: 0,
            keys_redacted: 0,
            values_masked: 0,
            values_allowed: 0,
            keys_ignored: 0,
            content_dropped: 0,
            content_hashed: 0,
            values_truncated: 0,
            status_messages_masked: 0,
            names_masked: 0,
            sensitive_values_masked: 0,
            numbers_masked: 0,
            nested_masked: 0,
            detections: [0; detectors::COUNT],
        }
    }
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
        for (a, b) in self.detections.iter_mut().zip(o.detections.iter()) {
            *a += b;
        }
    }

    /// Matches replaced by the named detector.
    pub fn detected(&self, name: &str) -> u64 {
        detectors::names()
            .position(|n| n == name)
            .map_or(0, |i| self.detections[i])
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
        for (n, c) in detectors::names().zip(self.detections.iter()) {
            v.push((format!("detected.{n}"), *c));
        }
        v
    }
}
