//! The `cost.pricing` configuration section: which tables to load and the limits that keep
//! loading and lookup bounded (docs/pricing.md, "Configuration").

use std::path::PathBuf;

use serde::Deserialize;

use super::book::PricingOverrides;

/// Pricing files larger than this are refused (a misconfigured `/dev/zero` must fail fast).
pub const DEFAULT_MAX_FILE_BYTES: u64 = 64 << 20;
/// The lookup cache's budget: past it the cache starts again from empty.
pub const DEFAULT_CACHE_MAX_BYTES: u64 = 8 << 20;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PricingConfig {
    /// Pricing files, native or LiteLLM's JSON (detected by content); later files win.
    #[serde(default)]
    pub files: Vec<PathBuf>,
    /// Start from the built-in table (genai-prices snapshot) before `files`.
    #[serde(default = "yes")]
    pub include_default: bool,
    /// How often the host should call `CostStage::reload_if_changed`; 0 disables.
    #[serde(default = "sixty")]
    pub reload_interval_seconds: u64,
    /// Span (then resource) attribute that marks batch-API calls: `batch`/`true` selects batch prices.
    #[serde(default = "batch_attr")]
    pub batch_attribute: String,
    #[serde(default)]
    pub overrides: PricingOverrides,
    /// Largest pricing file accepted, in bytes (LiteLLM's file is about 3 MB).
    #[serde(default = "max_file")]
    pub max_file_bytes: u64,
    /// Memory the model-lookup cache may use, in bytes.
    #[serde(default = "cache_max")]
    pub cache_max_bytes: u64,
    /// A fine-tune no table prices: `base` bills its base model's price (match
    /// `fine_tune_base`), `unpriced` leaves it unpriced.
    #[serde(default)]
    pub fine_tune_fallback: FineTuneFallback,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FineTuneFallback {
    #[default]
    Base,
    Unpriced,
}

impl Default for PricingConfig {
    fn default() -> Self {
        PricingConfig {
            files: Vec::new(),
            include_default: true,
            reload_interval_seconds: 60,
            batch_attribute: batch_attr(),
            overrides: PricingOverrides::default(),
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            cache_max_bytes: DEFAULT_CACHE_MAX_BYTES,
            fine_tune_fallback: FineTuneFallback::Base,
        }
    }
}

fn yes() -> bool {
    true
}
fn sixty() -> u64 {
    60
}
fn batch_attr() -> String {
    "tollbooth.pricing.processing".into()
}
fn max_file() -> u64 {
    DEFAULT_MAX_FILE_BYTES
}
fn cache_max() -> u64 {
    DEFAULT_CACHE_MAX_BYTES
}
