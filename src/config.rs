//! Engine configuration, serialised as JSON by the Go side from the collector YAML.
//!
//! The Go components validate user input first (so messages name the YAML key); this parse is
//! the second line of defence and rejects unknown fields so a Go/Rust mismatch fails at start.

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
    /// Tail sampling (contrib `tail_sampling` keys plus GenAI policies); absent means this
    /// engine holds nothing. Kept raw so the sampler's own parser names the offending key.
    #[serde(default)]
    pub sampling: Option<serde_json::Value>,
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

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {}

fn yes() -> bool {
    true
}

impl EngineConfig {
    /// Parses the JSON the Go side sends; the error text names the offending field.
    pub fn from_json(bytes: &[u8]) -> Result<EngineConfig, String> {
        if bytes.is_empty() {
            return Ok(EngineConfig::default());
        }
        serde_json::from_slice(bytes).map_err(|e| format!("invalid engine configuration: {e}"))
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
}
