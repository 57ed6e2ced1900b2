//! Engine configuration, serialised as JSON by the Go side from the collector YAML.
//!
//! The Go components validate user input first (so messages name the YAML key); this parse is
//! the second line of defence and rejects unknown fields so a Go/Rust mismatch fails at start.

use std::time::Duration;

use serde::Deserialize;

/// One engine's stages. A processor and a connector each create their own engine.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct EngineConfig {
    /// Recognition of GenAI spans and the writing of canonical attribute names.
    #[serde(default)]
    pub normalize: NormalizeConfig,
    /// Aggregation of GenAI calls into metrics; absent means this engine does not aggregate.
    #[serde(default)]
    pub metrics: Option<MetricsConfig>,
    /// Cost enrichment (usage normalisation and pricing); absent means no pricing. Kept raw so
    /// the stage's own parser names the offending key.
    #[serde(default)]
    pub cost: Option<serde_json::Value>,
    /// Redaction (contrib `redaction` keys plus detectors and the GenAI content policy);
    /// absent means nothing is redacted. Kept raw for the same reason.
    #[serde(default)]
    pub redaction: Option<serde_json::Value>,
    /// Tail sampling (contrib `tail_sampling` keys plus GenAI policies); absent means this
    /// engine holds nothing. Kept raw so the sampler's own parser names the offending key.
    #[serde(default)]
    pub sampling: Option<serde_json::Value>,
    /// Exactly-once accounting of calls reported by more than one span (engines that price
    /// or count calls).
    #[serde(default)]
    pub dedupe: crate::dedupe::DedupeConfig,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NormalizeConfig {
    /// Write `gen_ai.provider.name` (and later the other latest-convention names) when a span
    /// names its provider only in an older or vendor spelling.
    #[serde(default = "yes")]
    pub write_latest_names: bool,
}

impl Default for NormalizeConfig {
    fn default() -> Self {
        NormalizeConfig {
            write_latest_names: true,
        }
    }
}

/// The `genai_metrics` connector's settings. Key names follow contrib's `span_metrics` where
/// the meaning is the same, so users can carry their habits over.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// Extra dimensions, looked up in span attributes first, then resource attributes.
    #[serde(default)]
    pub dimensions: Vec<DimensionConfig>,
    /// Maximum number of distinct series; calls beyond it fold into one series labelled
    /// `otel.metric.overflow=true`. Bounds memory whatever the spans carry.
    #[serde(default = "default_cardinality_limit")]
    pub aggregation_cardinality_limit: usize,
    #[serde(default)]
    pub aggregation_temporality: Temporality,
    /// How often Go calls collect. Read by Go only; kept here so both read the same JSON.
    #[serde(
        default = "default_flush_interval",
        deserialize_with = "duration::deserialize_flush_interval"
    )]
    pub metrics_flush_interval: Duration,
    /// A series with no new call for this long is dropped (zero: never). Dropping frees its
    /// cardinality slot; a cumulative series that comes back starts again from zero.
    #[serde(
        default = "default_expiration",
        deserialize_with = "duration::deserialize_expiration"
    )]
    pub metrics_expiration: Duration,
    #[serde(default)]
    pub histogram: HistogramConfig,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            dimensions: Vec::new(),
            aggregation_cardinality_limit: default_cardinality_limit(),
            aggregation_temporality: Temporality::default(),
            metrics_flush_interval: default_flush_interval(),
            metrics_expiration: default_expiration(),
            histogram: HistogramConfig::default(),
        }
    }
}

impl MetricsConfig {
    /// Checks what serde cannot; messages name the key and the fix.
    pub fn validate(&self) -> Result<(), String> {
        if self.aggregation_cardinality_limit == 0 {
            return Err(
                "metrics.aggregation_cardinality_limit must be at least 1 (default 2000)".into(),
            );
        }
        if self.metrics_flush_interval.is_zero() {
            return Err("metrics.metrics_flush_interval must be positive, e.g. \"15s\"".into());
        }
        use crate::metrics::{BASE_DIMENSIONS, ERROR_TYPE, OVERFLOW, TOKEN_TYPE};
        // Prometheus label names: what the exporter makes of each attribute key.
        let label = |k: &str| -> String {
            k.chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect()
        };
        let mut seen: std::collections::HashMap<String, String> = BASE_DIMENSIONS
            .iter()
            .chain(&[TOKEN_TYPE, ERROR_TYPE, OVERFLOW])
            .map(|k| (label(k), k.to_string()))
            .collect();
        for (i, d) in self.dimensions.iter().enumerate() {
            if d.name.is_empty() {
                return Err(format!("metrics.dimensions[{i}].name must not be empty"));
            }
            if let Some(other) = seen.insert(label(&d.name), d.name.clone()) {
                let why = if other == d.name {
                    "is built in or listed twice; remove it".to_string()
                } else {
                    format!("becomes the same Prometheus label as {other:?}; keep one")
                };
                return Err(format!("metrics.dimensions[{i}].name: {:?} {why}", d.name));
            }
        }
        if let Some(e) = &self.histogram.exponential {
            if e.max_size < 2 {
                return Err(
                    "metrics.histogram.exponential.max_size must be at least 2 (default 160)"
                        .into(),
                );
            }
        }
        Ok(())
    }
}

/// One configured dimension, as in `span_metrics`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DimensionConfig {
    /// Attribute key, e.g. `tenant.id`.
    pub name: String,
    /// Value used when neither the span nor its resource has the attribute; without one the
    /// label is left off.
    #[serde(default)]
    pub default: Option<String>,
}

/// OTLP aggregation temporality of exported sums and histograms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Temporality {
    /// Totals since the series started (what the Prometheus exporter needs).
    #[default]
    Cumulative,
    /// Only what arrived since the previous collect.
    Delta,
}

/// Accepts `cumulative`/`delta` and `span_metrics`' `AGGREGATION_TEMPORALITY_*` spellings;
/// the error names the key, which serde's enum error would not.
impl<'de> Deserialize<'de> for Temporality {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        const KEY: &str = "metrics.aggregation_temporality";
        let s = String::deserialize(d).map_err(|_| {
            serde::de::Error::custom(format!("{KEY}: expected \"cumulative\" or \"delta\""))
        })?;
        match s.as_str() {
            "cumulative" | "CUMULATIVE" | "AGGREGATION_TEMPORALITY_CUMULATIVE" => {
                Ok(Temporality::Cumulative)
            }
            "delta" | "DELTA" | "AGGREGATION_TEMPORALITY_DELTA" => Ok(Temporality::Delta),
            other => Err(serde::de::Error::custom(format!(
                "{KEY}: unknown value {other:?}; use \"cumulative\" (the default) or \"delta\""
            ))),
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq, Default)]
#[serde(deny_unknown_fields)]
pub struct HistogramConfig {
    /// When present, histograms are exported as OTLP exponential histograms instead of the
    /// semantic-convention explicit buckets.
    #[serde(default)]
    pub exponential: Option<ExponentialConfig>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ExponentialConfig {
    /// Maximum buckets per point; the scale is lowered until the data fits (as the SDKs do).
    #[serde(default = "default_max_size")]
    pub max_size: u32,
}

fn default_cardinality_limit() -> usize {
    2000
}
fn default_flush_interval() -> Duration {
    Duration::from_secs(15)
}
fn default_expiration() -> Duration {
    Duration::from_secs(3600)
}
fn default_max_size() -> u32 {
    160
}

/// Durations arrive either as Go's `time.Duration` JSON (integer nanoseconds) or as a
/// duration string the way the collector YAML writes them (`15s`, `1m30s`, `500ms`).
mod duration {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer};

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Nanos(u64),
        Text(String),
    }

    pub fn deserialize_flush_interval<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Duration, D::Error> {
        parse_field(d, "metrics.metrics_flush_interval")
    }

    pub fn deserialize_expiration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        parse_field(d, "metrics.metrics_expiration")
    }

    fn parse_field<'de, D: Deserializer<'de>>(d: D, key: &str) -> Result<Duration, D::Error> {
        let raw = Raw::deserialize(d).map_err(|_| {
            serde::de::Error::custom(format!(
                "{key}: expected a duration such as \"15s\" or integer nanoseconds"
            ))
        })?;
        match raw {
            Raw::Nanos(n) => Ok(Duration::from_nanos(n)),
            Raw::Text(s) => parse(&s).ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "{key}: invalid duration {s:?}; use e.g. \"15s\", \"5m\", \"1h30m\", \"0\""
                ))
            }),
        }
    }

    /// Parses a Go-style duration: a sequence of `<number><unit>` with units
    /// ns, us, µs, ms, s, m, h; a bare `0` is zero.
    pub fn parse(s: &str) -> Option<Duration> {
        let s = s.trim();
        if s == "0" {
            return Some(Duration::ZERO);
        }
        if s.is_empty() {
            return None;
        }
        let mut total: f64 = 0.0;
        let mut rest = s;
        while !rest.is_empty() {
            let num_len = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .unwrap_or(rest.len());
            if num_len == 0 {
                return None;
            }
            let value: f64 = rest[..num_len].parse().ok()?;
            rest = &rest[num_len..];
            let unit_len = rest
                .find(|c: char| c.is_ascii_digit() || c == '.')
                .unwrap_or(rest.len());
            let nanos_per = match &rest[..unit_len] {
                "ns" => 1.0,
                "us" | "µs" => 1e3,
                "ms" => 1e6,
                "s" => 1e9,
                "m" => 60e9,
                "h" => 3600e9,
                _ => return None,
            };
            rest = &rest[unit_len..];
            total += value * nanos_per;
        }
        if !total.is_finite() || total > u64::MAX as f64 {
            return None;
        }
        Some(Duration::from_nanos(total.round() as u64))
    }
}

fn yes() -> bool {
    true
}

impl EngineConfig {
    /// Parses the JSON the Go side sends; the error text names the offending field.
    pub fn from_json(bytes: &[u8]) -> Result<EngineConfig, String> {
        if bytes.is_empty() {
            return Ok(EngineConfig::default());
        }
        let c: EngineConfig = serde_json::from_slice(bytes)
            .map_err(|e| format!("invalid engine configuration: {e}"))?;
        if let Some(m) = &c.metrics {
            m.validate()
                .map_err(|e| format!("invalid engine configuration: {e}"))?;
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_config_means_defaults() {
        let c = EngineConfig::from_json(b"").unwrap();
        assert!(c.normalize.write_latest_names);
        assert!(c.metrics.is_none());
    }

    #[test]
    fn unknown_fields_are_rejected_with_their_name() {
        let err = EngineConfig::from_json(br#"{"normalise": {}}"#).unwrap_err();
        assert!(err.contains("normalise"), "{err}");
    }

    #[test]
    fn metrics_config_defaults_and_full_shape() {
        let c = EngineConfig::from_json(br#"{"metrics": {}}"#).unwrap();
        assert_eq!(c.metrics.unwrap(), MetricsConfig::default());
        let c = EngineConfig::from_json(
            br#"{"metrics": {
                "dimensions": [{"name": "tenant.id", "default": "none"}, {"name": "feature"}],
                "aggregation_cardinality_limit": 10,
                "aggregation_temporality": "AGGREGATION_TEMPORALITY_DELTA",
                "metrics_flush_interval": "1m30s",
                "metrics_expiration": 5000000000,
                "histogram": {"exponential": {"max_size": 40}}
            }}"#,
        )
        .unwrap();
        let m = c.metrics.unwrap();
        assert_eq!(m.dimensions.len(), 2);
        assert_eq!(m.dimensions[0].default.as_deref(), Some("none"));
        assert_eq!(m.aggregation_temporality, Temporality::Delta);
        assert_eq!(m.metrics_flush_interval, Duration::from_secs(90));
        assert_eq!(m.metrics_expiration, Duration::from_secs(5));
        assert_eq!(m.histogram.exponential.unwrap().max_size, 40);
    }

    #[test]
    fn metrics_config_errors_name_the_key() {
        for (json, key) in [
            (r#"{"metrics": {"dimension": []}}"#, "dimension"),
            (
                r#"{"metrics": {"metrics_expiration": "5 minutes"}}"#,
                "metrics.metrics_expiration",
            ),
            (
                r#"{"metrics": {"metrics_flush_interval": "0"}}"#,
                "metrics.metrics_flush_interval",
            ),
            (
                r#"{"metrics": {"aggregation_cardinality_limit": 0}}"#,
                "aggregation_cardinality_limit",
            ),
            (
                r#"{"metrics": {"aggregation_temporality": "sometimes"}}"#,
                "sometimes",
            ),
            (
                r#"{"metrics": {"dimensions": [{"name": "gen_ai.request.model"}]}}"#,
                "metrics.dimensions[0].name",
            ),
            (
                r#"{"metrics": {"dimensions": [{"name": "a"}, {"name": "a"}]}}"#,
                "metrics.dimensions[1].name",
            ),
            (
                r#"{"metrics": {"histogram": {"exponential": {"max_size": 1}}}}"#,
                "max_size",
            ),
        ] {
            let err = EngineConfig::from_json(json.as_bytes()).unwrap_err();
            assert!(err.contains(key), "{json}: {err}");
        }
    }
}
