//! The price book: loaded tables, user overrides, cached lookup, and reload.
//!
//! Lookup results are cached ([`super::cache`]) per distinct (provider, model, host,
//! region); a repeat span costs one hash and a read lock. Reload swaps the whole state
//! atomically and keeps the last good one when a file is bad. Matching rules:
//! docs/pricing.md, "Matching a model".

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

use serde::Deserialize;

use super::cache::MatchCache;
use super::config::{FineTuneFallback, PricingConfig};
use super::names::{candidates, flat_provider_ok, provider_spec, MatchKind, ProviderSpec};
use super::table::{Matcher, ModelEntry, ProviderTable, Source, SourceData};
use super::{litellm, native};
use crate::money::Usd;

/// The default table, built into the binary so air-gapped collectors price out of the box.
pub const DEFAULT_TABLE: &str = include_str!("../../config/pricing/genai-prices.json");
const DEFAULT_PATH: &str = "builtin:config/pricing/genai-prices.json";
/// No real model, provider or host name is this long; longer ones are unpriced unlooked-up,
/// so a hostile 1 MB name costs neither a lookup nor a cache entry.
pub const MAX_NAME_BYTES: usize = 1024;

/// User pricing rules; they win over every file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PricingOverrides {
    /// Custom or fine-tuned models in the native model format, optionally tied to a provider.
    #[serde(default)]
    pub models: Vec<CustomModel>,
    /// Azure deployment (or any alias) → the model used for pricing, matched
    /// case-insensitively: a model name, or `{model, data_zone}`.
    #[serde(default)]
    pub deployments: HashMap<String, Deployment>,
    /// Negotiated discount as a multiplier on the computed cost, per provider (`*` = all),
    /// as a decimal string such as `"0.85"`.
    #[serde(default)]
    pub discounts: HashMap<String, String>,
}

/// What a deployment name stands for.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Deployment {
    Model(String),
    Detailed(DeploymentDoc),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeploymentDoc {
    pub model: String,
    /// Azure deployment type's zone (`global`, `global-standard`, `us`, `eu`, `apac`,
    /// `us-gov`): selects LiteLLM's `azure/<zone>/<model>` row.
    #[serde(default)]
    pub data_zone: Option<String>,
}

impl Deployment {
    fn parts(&self) -> (&str, Option<&str>) {
        match self {
            Deployment::Model(m) => (m, None),
            Deployment::Detailed(d) => (&d.model, d.data_zone.as_deref()),
        }
    }
}

/// One user-defined model.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomModel {
    /// OTel provider name (`azure.ai.openai`); absent = any provider.
    #[serde(default)]
    pub provider: Option<String>,
    #[serde(flatten)]
    pub model: native::ModelDoc,
}

/// A lookup result: the entry and where it came from.
#[derive(Debug)]
pub struct Resolved {
    pub entry: Arc<ModelEntry>,
    pub source_name: Arc<str>,
    pub source_version: Arc<str>,
    /// `<source>:<provider>/<model id>`, e.g. `genai-prices:openai/gpt-4o`.
    pub price_entry: Arc<str>,
    pub match_kind: MatchKind,
    /// Multiplier from the user's discounts (1 when none).
    pub discount: Option<Usd>,
    /// A region- or zone-keyed row priced it (`bedrock/us-gov-west-1/…`, `azure/eu/…`).
    pub regional: bool,
}

/// Loading or reloading failed; names the file and the problem.
#[derive(Debug, Clone, PartialEq)]
pub struct PricingError(pub String);

impl std::fmt::Display for PricingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for PricingError {}

/// One consistent generation of tables plus its lookup cache.
pub struct BookState {
    /// Searched last to first: later files win. Overrides are separate and always first.
    sources: Vec<Source>,
    custom: Vec<(Option<String>, Matcher, Arc<ModelEntry>)>,
    /// Lower-cased deployment name → (model, data zone).
    deployments: HashMap<String, (String, Option<String>)>,
    discounts: HashMap<String, Usd>,
    fine_tune_fallback: FineTuneFallback,
    cache: MatchCache,
}

/// The price tables used by the cost stage.
pub struct PriceBook {
    state: RwLock<Arc<BookState>>,
    config: PricingConfig,
    stamps: Mutex<Vec<Option<(SystemTime, u64)>>>,
    /// Why the last reload failed (names the file); cleared by a good reload.
    last_error: Mutex<Option<String>>,
}

fn stamp(p: &PathBuf) -> Option<(SystemTime, u64)> {
    let m = std::fs::metadata(p).ok()?;
    Some((m.modified().ok()?, m.len()))
}

/// Reads a pricing file, refusing more than `cap` bytes without reading past it (a
/// misconfigured `/dev/zero` or a runaway file fails fast instead of filling memory).
pub fn read_capped(path: &Path, cap: u64) -> Result<Vec<u8>, PricingError> {
    let label = path.display();
    let too_big = || {
        PricingError(format!(
            "pricing file {label}: larger than the {} cap (cost.pricing.max_file_bytes); raise the cap or check the path",
            human_bytes(cap)
        ))
    };
    let f = std::fs::File::open(path)
        .map_err(|e| PricingError(format!("pricing file {label}: cannot read: {e}")))?;
    if f.metadata().is_ok_and(|m| m.is_file() && m.len() > cap) {
        return Err(too_big());
    }
    let mut buf = Vec::new();
    f.take(cap.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(|e| PricingError(format!("pricing file {label}: cannot read: {e}")))?;
    if buf.len() as u64 > cap {
        return Err(too_big());
    }
    Ok(buf)
}

fn human_bytes(n: u64) -> String {
    if n >= 1 << 20 && n % (1 << 20) == 0 {
        format!("{} MiB", n >> 20)
    } else {
        format!("{n}-byte")
    }
}

/// Parses one pricing file, native or LiteLLM, detected by content.
pub fn parse_file(bytes: &[u8], path: &str) -> Result<Source, PricingError> {
    let doc: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| PricingError(format!("pricing file {path}: not valid JSON: {e}")))?;
    let obj = doc
        .as_object()
        .ok_or_else(|| PricingError(format!("pricing file {path}: expected a JSON object")))?;
    if obj.contains_key("tollbooth_pricing") {
        return native::parse(bytes, path).map_err(|e| PricingError(format!("pricing file {e}")));
    }
    if litellm::looks_like(obj) {
        let version = obj
            .get("sample_spec")
            .and_then(|s| s.get("litellm_version"))
            .and_then(|v| v.as_str())
            .unwrap_or("");
        // LiteLLM's file carries no version: a content digest still identifies the snapshot.
        let version = if version.is_empty() {
            format!("fnv64:{:016x}", fnv(FNV_OFFSET, bytes))
        } else {
            version.to_string()
        };
        return Ok(litellm::convert(obj, path, &version));
    }
    Err(PricingError(format!(
        "pricing file {path}: neither a Tollbooth pricing file (no \"tollbooth_pricing\" key) nor LiteLLM's model_prices_and_context_window.json (no \"litellm_provider\" fields)"
    )))
}

impl PriceBook {
    /// Loads the built-in table (when `include_default`) then `files` in order; later win.
    pub fn load(config: &PricingConfig) -> Result<PriceBook, PricingError> {
        let stamps: Vec<_> = config.files.iter().map(stamp).collect();
        let state = build_state(config)?;
        Ok(PriceBook {
            state: RwLock::new(Arc::new(state)),
            config: config.clone(),
            stamps: Mutex::new(stamps),
            last_error: Mutex::new(None),
        })
    }

    /// A book over already-parsed sources (tests, benches, tools).
    pub fn from_sources(
        sources: Vec<Source>,
        overrides: PricingOverrides,
    ) -> Result<PriceBook, PricingError> {
        let config = PricingConfig {
            files: Vec::new(),
            include_default: false,
            overrides,
            ..PricingConfig::default()
        };
        let state = state_from(sources, &config)?;
        Ok(PriceBook {
            state: RwLock::new(Arc::new(state)),
            config,
            stamps: Mutex::new(Vec::new()),
            last_error: Mutex::new(None),
        })
    }

    /// Re-reads the files when any modification time or size changed. `Ok(true)` = reloaded,
    /// `Ok(false)` = unchanged (a few `stat` calls). On error the previous tables stay and
    /// the error is kept for [`PriceBook::last_reload_error`].
    pub fn reload_if_changed(&self) -> Result<bool, PricingError> {
        let now: Vec<_> = self.config.files.iter().map(stamp).collect();
        let mut stamps = self.stamps.lock().unwrap_or_else(|e| e.into_inner());
        if *stamps == now {
            return Ok(false);
        }
        // Remember the stamps even on failure so a bad file is reported once, not every tick.
        *stamps = now;
        let result = build_state(&self.config);
        *self.last_error.lock().unwrap_or_else(|e| e.into_inner()) =
            result.as_ref().err().map(|e| e.0.clone());
        *self.state.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(result?);
        Ok(true)
    }

    /// Why the last reload failed, naming the file; `None` after a good one.
    pub fn last_reload_error(&self) -> Option<String> {
        self.last_error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The current tables; hold it for a batch so one batch sees one generation.
    pub fn snapshot(&self) -> Arc<BookState> {
        self.state.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Number of priced models per source: (name, version, count).
    pub fn summary(&self) -> Vec<(String, String, usize)> {
        let s = self.snapshot();
        s.sources
            .iter()
            .map(|x| (x.name.clone(), x.version.clone(), x.model_count()))
            .collect()
    }
}

fn build_state(config: &PricingConfig) -> Result<BookState, PricingError> {
    let mut sources = Vec::new();
    if config.include_default {
        sources.push(parse_file(DEFAULT_TABLE.as_bytes(), DEFAULT_PATH)?);
    }
    for f in &config.files {
        let bytes = read_capped(f, config.max_file_bytes)?;
        sources.push(parse_file(&bytes, &f.display().to_string())?);
    }
    state_from(sources, config)
}

fn state_from(sources: Vec<Source>, config: &PricingConfig) -> Result<BookState, PricingError> {
    let o = &config.overrides;
    let mut custom = Vec::new();
    for (i, c) in o.models.iter().enumerate() {
        let (m, e) = native::model(&c.model, false).map_err(|e| {
            PricingError(format!(
                "pricing.overrides.models[{i}] ({:?}): {e}",
                c.model.id
            ))
        })?;
        let provider = c.provider.as_deref().map(|p| {
            crate::facts::normalize_provider(p).map_or_else(|| p.to_lowercase(), str::to_string)
        });
        custom.push((provider, m, e));
    }
    let mut discounts = HashMap::new();
    for (p, d) in &o.discounts {
        let v = Usd::parse(d).filter(|v| v.0 > 0).ok_or_else(|| {
            PricingError(format!(
                "pricing.overrides.discounts.{p}: {d:?} is not a positive decimal multiplier such as \"0.85\""
            ))
        })?;
        let key = if p == "*" {
            "*".to_string()
        } else {
            crate::facts::normalize_provider(p).map_or_else(|| p.to_lowercase(), str::to_string)
        };
        discounts.insert(key, v);
    }
    let mut deployments = HashMap::new();
    for (name, d) in &o.deployments {
        let (model, zone) = d.parts();
        if let Some(z) = zone.filter(|z| !super::inputs::is_zone(z)) {
            return Err(PricingError(format!(
                "pricing.overrides.deployments.{name}.data_zone: {z:?} is not a zone such as \"eu\", \"us\", \"global\" or \"global-standard\""
            )));
        }
        deployments.insert(
            name.to_lowercase(),
            (model.to_string(), zone.map(str::to_lowercase)),
        );
    }
    Ok(BookState {
        sources,
        custom,
        deployments,
        discounts,
        fine_tune_fallback: config.fine_tune_fallback,
        cache: MatchCache::new(config.cache_max_bytes),
    })
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

fn fnv(h: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(h, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

impl BookState {
    /// Finds the price entry for a span's provider (latest OTel spelling or as written),
    /// model, server host and serving region. Cached: repeat keys take no allocation and
    /// run no regex. Names longer than [`MAX_NAME_BYTES`] are unpriced.
    pub fn lookup(
        &self,
        provider: &str,
        model: &str,
        host: &str,
        region: Option<&str>,
    ) -> Option<Arc<Resolved>> {
        if [provider, model, host]
            .iter()
            .any(|s| s.len() > MAX_NAME_BYTES)
        {
            return None;
        }
        let region = region.unwrap_or("");
        let key = self.cache.key(&[provider, model, host, region]);
        if let Some(hit) = self.cache.get(key) {
            return hit;
        }
        let hit = self
            .resolve(
                provider,
                model,
                host,
                Some(region).filter(|r| !r.is_empty()),
            )
            .map(Arc::new);
        self.cache.insert(key, hit.clone());
        hit
    }

    /// (entries, bytes) of the lookup cache.
    pub fn cache_usage(&self) -> (u64, u64) {
        self.cache.usage()
    }

    /// True when the user mapped this model name (an Azure deployment) to a model.
    pub fn maps_deployment(&self, model: &str) -> bool {
        !self.deployments.is_empty()
            && self
                .deployments
                .keys()
                .any(|k| k.eq_ignore_ascii_case(model.trim()))
    }

    pub fn sources(&self) -> &[Source] {
        &self.sources
    }

    fn discount_for(&self, provider: &str) -> Option<Usd> {
        self.discounts
            .get(provider)
            .or_else(|| self.discounts.get("*"))
            .copied()
    }

    /// The uncached lookup: user models, then each table from the last loaded to the
    /// first, trying the strong names (exact, normalised) before the flagged fallbacks.
    pub fn resolve(
        &self,
        provider: &str,
        model: &str,
        host: &str,
        region: Option<&str>,
    ) -> Option<Resolved> {
        let mut model_s = model.trim().to_string();
        let mut kind_floor = MatchKind::Exact;
        let mut region = region;
        if let Some((m, zone)) = self.deployments.get(&model_s.to_lowercase()) {
            model_s = m.clone();
            kind_floor = MatchKind::Override;
            if zone.is_some() {
                region = zone.as_deref();
            }
        }
        let mut cands = candidates(&model_s);
        if self.fine_tune_fallback == FineTuneFallback::Unpriced {
            cands.retain(|c| c.1 != MatchKind::FineTuneBase);
        }
        let discount = self.discount_for(provider);
        let otel = crate::facts::normalize_provider(provider);
        let spec = otel.and_then(provider_spec);
        let raw_lower = provider.to_lowercase();

        // User models first, on the exact and normalised names.
        for (name, _) in cands.iter().filter(|c| c.1 <= MatchKind::Normalized) {
            for (p, m, e) in &self.custom {
                let provider_ok = p
                    .as_deref()
                    .is_none_or(|p| Some(p) == otel || p == raw_lower);
                if provider_ok && m.matches(name) {
                    return Some(Resolved {
                        entry: e.clone(),
                        source_name: "overrides".into(),
                        source_version: "".into(),
                        price_entry: format!("overrides:{}", e.id).into(),
                        match_kind: MatchKind::Override,
                        discount,
                        regional: false,
                    });
                }
            }
        }

        let (strong, weak): (Vec<_>, Vec<_>) =
            cands.iter().partition(|c| c.1 <= MatchKind::Normalized);
        // A later file wins over an earlier one for any strong name: a LiteLLM file loaded
        // after the default table prices `ft:gpt-4o-mini-…:org::id` by its `ft:` row even
        // though a default rule matches the full name.
        for group in [strong, weak] {
            for fallback in [false, true] {
                for src in self.sources.iter().rev() {
                    for (name, kind) in &group {
                        let found = match &src.data {
                            SourceData::Native(ps) => {
                                find_native(ps, spec, &raw_lower, host, name, fallback)
                                    .map(|(p, e)| (p, e, false))
                            }
                            SourceData::Flat(map) => {
                                find_flat(map, spec, &raw_lower, name, region, fallback)
                            }
                        };
                        if let Some((prov, entry, regional)) = found {
                            let mut k = (*kind).max(kind_floor);
                            if fallback {
                                k = k.max(MatchKind::ProviderFallback);
                            }
                            return Some(Resolved {
                                price_entry: format!("{}:{}/{}", src.name, prov, entry.id).into(),
                                entry,
                                source_name: src.name.as_str().into(),
                                source_version: src.version.as_str().into(),
                                match_kind: k,
                                discount,
                                regional,
                            });
                        }
                    }
                }
            }
        }
        None
    }
}

/// Providers of a native table that a span's provider selects.
fn native_providers<'a>(
    ps: &'a [ProviderTable],
    spec: Option<ProviderSpec>,
    raw: &str,
    host: &str,
    name: &str,
) -> Vec<&'a ProviderTable> {
    if let Some(s) = spec {
        return ps
            .iter()
            .filter(|p| s.native.contains(&p.id.as_str()))
            .collect();
    }
    if !raw.is_empty() && raw != "unknown" {
        let by_id: Vec<_> = ps
            .iter()
            .filter(|p| p.id == raw || p.provider_match.as_ref().is_some_and(|m| m.matches(raw)))
            .collect();
        if !by_id.is_empty() {
            return by_id;
        }
    }
    if !host.is_empty() {
        let url = format!("https://{host}");
        let by_host: Vec<_> = ps
            .iter()
            .filter(|p| p.api_pattern.as_ref().is_some_and(|r| r.is_match(&url)))
            .collect();
        if !by_host.is_empty() {
            return by_host;
        }
    }
    ps.iter()
        .filter(|p| p.model_match.as_ref().is_some_and(|m| m.matches(name)))
        .collect()
}

fn find_native(
    ps: &[ProviderTable],
    spec: Option<ProviderSpec>,
    raw: &str,
    host: &str,
    name: &str,
    fallback: bool,
) -> Option<(String, Arc<ModelEntry>)> {
    let primary = native_providers(ps, spec, raw, host, name);
    let scan = |p: &ProviderTable| {
        p.models
            .iter()
            .find(|(m, _)| m.matches(name))
            .map(|(_, e)| (p.id.clone(), e.clone()))
    };
    if !fallback {
        return primary.into_iter().find_map(scan);
    }
    primary
        .iter()
        .flat_map(|p| p.fallback.iter())
        .filter_map(|id| ps.iter().find(|p| &p.id == id))
        .find_map(scan)
}

/// Looks `name` up in a LiteLLM table; the bool is true when a region-keyed row answered.
fn find_flat(
    map: &HashMap<String, super::table::FlatEntry>,
    spec: Option<ProviderSpec>,
    raw: &str,
    name: &str,
    region: Option<&str>,
    fallback: bool,
) -> Option<(String, Arc<ModelEntry>, bool)> {
    let hit = |key: &str, ok: &dyn Fn(&str) -> bool| {
        map.get(key)
            .filter(|e| ok(&e.provider))
            .map(|e| (e.provider.clone(), e.model.clone(), false))
    };
    match spec {
        Some(s) if !fallback => {
            let ok = |pr: &str| flat_provider_ok(s.flat, pr);
            // Where the call ran first: `bedrock/<region>/<id>`, `azure/<zone>/<model>`.
            if let (Some(prefix), Some(r)) = (s.regional, region) {
                if let Some(h) = hit(&format!("{prefix}{r}/{name}"), &ok) {
                    return Some((h.0, h.1, true));
                }
            }
            s.prefixes.iter().find_map(|p| {
                if p.is_empty() {
                    hit(name, &ok)
                } else {
                    hit(&format!("{p}{name}"), &ok)
                }
            })
        }
        Some(s) => {
            if s.flat_fallback.is_empty() {
                return None;
            }
            hit(name, &|pr| flat_provider_ok(s.flat_fallback, pr))
        }
        None if fallback => None,
        None => {
            if !raw.is_empty() && raw != "unknown" {
                if let Some(h) = hit(&format!("{raw}/{name}"), &|pr| pr == raw) {
                    return Some(h);
                }
                if let Some(h) = hit(name, &|pr| pr == raw) {
                    return Some(h);
                }
            }
            // No provider known: an exact key is unambiguous in LiteLLM's file.
            (raw.is_empty() || raw == "unknown")
                .then(|| hit(name, &|_| true))
                .flatten()
        }
    }
}

/// The engine shares one book across goroutine-driven threads.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<PriceBook>();
    assert_send_sync::<crate::cost::CostStage>();
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pricing::{price, PriceContext, Tokens};

    fn default_book() -> PriceBook {
        PriceBook::load(&PricingConfig::default()).unwrap()
    }

    fn book_with(
        files: &[PathBuf],
        overrides: PricingOverrides,
    ) -> Result<PriceBook, PricingError> {
        PriceBook::load(&PricingConfig {
            files: files.to_vec(),
            overrides,
            ..PricingConfig::default()
        })
    }

    fn cost(
        b: &BookState,
        provider: &str,
        model: &str,
        input: u64,
        output: u64,
    ) -> Option<(String, &'static str, String)> {
        let r = b.lookup(provider, model, "", None)?;
        let t = Tokens {
            input,
            output,
            ..Default::default()
        };
        let c = price(&r.entry, t, 1_790_000_000, PriceContext::default());
        Some((
            r.price_entry.to_string(),
            r.match_kind.as_str(),
            c.total.to_string(),
        ))
    }

    #[test]
    fn default_table_prices_common_models() {
        let b = default_book();
        let s = b.snapshot();
        let n: usize = b.summary().iter().map(|x| x.2).sum();
        assert!(n > 2000, "{n}");
        let (e, k, c) = cost(&s, "openai", "gpt-4o-2024-08-06", 1_000_000, 1_000_000).unwrap();
        assert_eq!((e.as_str(), k), ("genai-prices:openai/gpt-4o", "exact"));
        assert_eq!(c, "12.5");
        // gpt-4o-2024-05-13 is its own, dearer entry: never the alias's price.
        let (e, _, _) = cost(&s, "openai", "gpt-4o-2024-05-13", 1, 1).unwrap();
        assert_ne!(e, "genai-prices:openai/gpt-4o");
        // Azure falls back to OpenAI, flagged.
        let (_, k, _) = cost(&s, "azure.ai.openai", "gpt-4o-2024-08-06", 1, 1).unwrap();
        assert!(k == "provider_fallback" || k == "exact", "{k}");
        // Unknown models are unpriced, never $0.
        assert!(cost(&s, "openai", "gpt-unknown-9", 1, 1).is_none());
    }

    #[test]
    fn bedrock_geo_prefix_is_a_pricing_fact() {
        let b = default_book();
        let s = b.snapshot();
        let regional = cost(
            &s,
            "aws.bedrock",
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            1_000_000,
            0,
        )
        .unwrap();
        let global = cost(
            &s,
            "aws.bedrock",
            "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
            1_000_000,
            0,
        )
        .unwrap();
        assert_eq!(regional.2, "3.3");
        assert_eq!(global.2, "3");
        let arn = cost(
            &s,
            "aws.bedrock",
            "arn:aws:bedrock:us-east-1:1:inference-profile/us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            1_000_000,
            0,
        )
        .unwrap();
        assert_eq!(arn.2, "3.3");
    }

    #[test]
    fn overrides_deployments_and_discounts() {
        let o: PricingOverrides = serde_json::from_str(
            r#"{"models":[{"provider":"openai","id":"ft:gpt-4o-2024-08-06","prices":{"input_mtok":"3.75","output_mtok":"15"}}],
                "deployments":{"My-Prod-GPT4o":"gpt-4o-2024-08-06"},
                "discounts":{"openai":"0.5"}}"#,
        )
        .unwrap();
        let b = book_with(&[], o).unwrap();
        let s = b.snapshot();
        let r = s
            .lookup("openai", "ft:gpt-4o-2024-08-06:acme::x1", "", None)
            .unwrap();
        assert_eq!(r.match_kind, MatchKind::Override);
        assert_eq!(r.discount, Usd::parse("0.5"));
        let r = s
            .lookup("azure.ai.openai", "my-prod-gpt4o", "", None)
            .unwrap();
        assert!(r.match_kind >= MatchKind::Override);
        let bad: PricingOverrides = serde_json::from_str(r#"{"discounts":{"*":"cheap"}}"#).unwrap();
        let e = book_with(&[], bad).err().unwrap();
        assert!(e.0.contains("pricing.overrides.discounts.*"), "{e}");
        assert!(serde_json::from_str::<PricingOverrides>(r#"{"model":[]}"#).is_err());
        let typo = r#"{"models":[{"id":"x","prices":{"input_mtok":"1"},"bogus":1}]}"#;
        let e = serde_json::from_str::<PricingOverrides>(typo)
            .unwrap_err()
            .to_string();
        assert!(e.contains("bogus"), "{e}");
    }

    #[test]
    fn later_files_win_and_reload_keeps_last_good() {
        let dir = std::env::temp_dir().join(format!("tollbooth-book-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("mine.json");
        let v1 = r#"{"tollbooth_pricing":1,"source":"mine","providers":[{"id":"openai","models":[{"id":"gpt-4o","prices":{"input_mtok":"1","output_mtok":"1"}}]}]}"#;
        std::fs::write(&f, v1).unwrap();
        let b = book_with(std::slice::from_ref(&f), PricingOverrides::default()).unwrap();
        let r = b.snapshot().lookup("openai", "gpt-4o", "", None).unwrap();
        assert_eq!(&*r.price_entry, "mine:openai/gpt-4o");
        assert_eq!(b.reload_if_changed(), Ok(false));
        std::fs::write(&f, "{ not json").unwrap();
        let e = b.reload_if_changed().unwrap_err();
        assert!(e.0.contains("mine.json"), "{e}");
        assert_eq!(
            &*b.snapshot()
                .lookup("openai", "gpt-4o", "", None)
                .unwrap()
                .price_entry,
            "mine:openai/gpt-4o"
        );
        let v2 = v1.replace("\"mine\"", "\"mine2\"");
        std::fs::write(&f, v2).unwrap();
        assert_eq!(b.reload_if_changed(), Ok(true));
        assert_eq!(
            &*b.snapshot()
                .lookup("openai", "gpt-4o", "", None)
                .unwrap()
                .price_entry,
            "mine2:openai/gpt-4o"
        );
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn litellm_file_is_detected_and_used() {
        let ll = br#"{"sample_spec":{"litellm_provider":"x"},
            "us.anthropic.claude-sonnet-4-6":{"litellm_provider":"bedrock_converse","input_cost_per_token":3.3e-06,"output_cost_per_token":1.65e-05},
            "gemini/gemini-2.5-pro":{"litellm_provider":"gemini","input_cost_per_token":1.25e-06,"output_cost_per_token":1e-05}}"#;
        let src = parse_file(ll, "ll.json").unwrap();
        let b = PriceBook::from_sources(vec![src], PricingOverrides::default()).unwrap();
        let s = b.snapshot();
        let r = s
            .lookup(
                "aws.bedrock",
                "bedrock/us.anthropic.claude-sonnet-4-6",
                "",
                None,
            )
            .unwrap();
        assert_eq!(
            &*r.price_entry,
            "litellm:bedrock_converse/us.anthropic.claude-sonnet-4-6"
        );
        assert!(s
            .lookup("gcp.gemini", "models/gemini-2.5-pro", "", None)
            .is_some());
        assert!(s
            .lookup("aws.bedrock", "eu.anthropic.claude-sonnet-4-6", "", None)
            .is_none());
        assert!(parse_file(br#"{"a":1}"#, "odd.json")
            .unwrap_err()
            .0
            .contains("odd.json"));
    }

    /// A small LiteLLM file with the rows the regional and fine-tune rules need.
    const LL: &[u8] = br#"{"sample_spec":{"litellm_provider":"x"},
        "ft:gpt-4o-mini-2024-07-18":{"litellm_provider":"openai","input_cost_per_token":3e-07,"output_cost_per_token":1.2e-06,"cache_read_input_token_cost":1.5e-07},
        "anthropic.claude-sonnet-4-5-20250929-v1:0":{"litellm_provider":"bedrock_converse","input_cost_per_token":3e-06,"output_cost_per_token":1.5e-05},
        "bedrock/us-gov-west-1/anthropic.claude-sonnet-4-5-20250929-v1:0":{"litellm_provider":"bedrock","input_cost_per_token":3.6e-06,"output_cost_per_token":1.8e-05},
        "azure/gpt-4o-2024-08-06":{"litellm_provider":"azure","input_cost_per_token":2.5e-06,"output_cost_per_token":1e-05},
        "azure/eu/gpt-4o-2024-08-06":{"litellm_provider":"azure","input_cost_per_token":2.75e-06,"output_cost_per_token":1.1e-05}}"#;

    fn with_litellm(config: PricingConfig) -> (PriceBook, PathBuf) {
        let dir = std::env::temp_dir().join(format!(
            "tollbooth-ll-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("model_prices.json");
        std::fs::write(&f, LL).unwrap();
        let b = PriceBook::load(&PricingConfig {
            files: vec![f.clone()],
            ..config
        })
        .unwrap();
        (b, dir)
    }

    fn one_mtok(
        s: &BookState,
        provider: &str,
        model: &str,
        region: Option<&str>,
    ) -> (String, String, bool) {
        let r = s.lookup(provider, model, "", region).unwrap();
        let t = Tokens {
            input: 1_000_000,
            cache_read: 500_000,
            ..Default::default()
        };
        let c = price(&r.entry, t, 1_790_000_000, PriceContext::default());
        (r.price_entry.to_string(), c.total.to_string(), r.regional)
    }

    #[test]
    fn a_later_file_prices_a_fine_tune_by_its_ft_row() {
        let (b, dir) = with_litellm(PricingConfig::default());
        let s = b.snapshot();
        // The default table's rule matches the full name but has no cache-read rate;
        // LiteLLM's ft: row (loaded later) wins and bills the cached half at its rate.
        let (e, c, _) = one_mtok(
            &s,
            "openai",
            "ft:gpt-4o-mini-2024-07-18:acme:triage:AbC1",
            None,
        );
        assert_eq!(
            (e.as_str(), c.as_str()),
            ("litellm:openai/ft:gpt-4o-mini-2024-07-18", "0.225")
        );
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn region_and_zone_select_their_rows() {
        let deployments = serde_json::from_str(
            r#"{"eu-4o":{"model":"gpt-4o-2024-08-06","data_zone":"eu"},"plain-4o":"gpt-4o-2024-08-06"}"#,
        )
        .unwrap();
        let (b, dir) = with_litellm(PricingConfig {
            overrides: PricingOverrides {
                deployments,
                ..Default::default()
            },
            ..PricingConfig::default()
        });
        let s = b.snapshot();
        let m = "anthropic.claude-sonnet-4-5-20250929-v1:0";
        let gov = one_mtok(&s, "aws.bedrock", m, Some("us-gov-west-1"));
        assert_eq!(gov.1, "3.6");
        assert!(gov.2, "flagged regional");
        let east = one_mtok(&s, "aws.bedrock", m, Some("us-east-1"));
        assert_eq!((east.1.as_str(), east.2), ("3", false));
        let eu = one_mtok(&s, "azure.ai.openai", "EU-4o", None);
        assert_eq!(
            (eu.0.as_str(), eu.1.as_str(), eu.2),
            ("litellm:azure/azure/eu/gpt-4o-2024-08-06", "2.75", true)
        );
        assert_eq!(one_mtok(&s, "azure.ai.openai", "plain-4o", None).1, "2.5");
        // A zone must look like one.
        let bad =
            serde_json::from_str(r#"{"x":{"model":"gpt-4o","data_zone":"eu/../../x"}}"#).unwrap();
        let e = book_with(
            &[],
            PricingOverrides {
                deployments: bad,
                ..Default::default()
            },
        )
        .err()
        .unwrap();
        assert!(e.0.contains("deployments.x.data_zone"), "{e}");
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn unknown_fine_tunes_follow_the_configured_fallback() {
        let b = default_book();
        let s = b.snapshot();
        let r = s
            .lookup(
                "mistral_ai",
                "ft:open-mistral-7b:587a6b29:20240514:7e773925",
                "",
                None,
            )
            .unwrap();
        assert_eq!(r.match_kind, MatchKind::FineTuneBase);
        let b = PriceBook::load(&PricingConfig {
            fine_tune_fallback: FineTuneFallback::Unpriced,
            ..PricingConfig::default()
        })
        .unwrap();
        assert!(b
            .snapshot()
            .lookup(
                "mistral_ai",
                "ft:open-mistral-7b:587a6b29:20240514:7e773925",
                "",
                None
            )
            .is_none());
    }

    #[test]
    fn hostile_names_are_unpriced_and_never_cached() {
        let b = PriceBook::load(&PricingConfig {
            cache_max_bytes: 64 * 1024,
            ..PricingConfig::default()
        })
        .unwrap();
        let s = b.snapshot();
        let long = "x".repeat(1 << 20);
        for i in 0..50 {
            assert!(s
                .lookup("openai", &format!("{long}{i}"), "", None)
                .is_none());
        }
        assert_eq!(s.cache_usage(), (0, 0));
        for i in 0..5000 {
            s.lookup("openai", &format!("model-{i}"), "", None);
            assert!(s.cache_usage().1 <= 64 * 1024);
        }
        assert!(s.lookup("openai", "gpt-4o", "", None).is_some());
    }

    #[test]
    fn oversized_files_fail_fast_naming_the_file_and_the_cap() {
        let e = PriceBook::load(&PricingConfig {
            files: vec![PathBuf::from("/dev/zero")],
            ..PricingConfig::default()
        })
        .err()
        .unwrap();
        assert!(
            e.0.contains("/dev/zero") && e.0.contains("64 MiB") && e.0.contains("max_file_bytes"),
            "{e}"
        );
        let dir = std::env::temp_dir().join(format!("tollbooth-cap-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("big.json");
        std::fs::write(&f, vec![b' '; 2048]).unwrap();
        let e = read_capped(&f, 1024).unwrap_err();
        assert!(e.0.contains("big.json") && e.0.contains("1024-byte"), "{e}");
        assert_eq!(read_capped(&f, 4096).unwrap().len(), 2048);
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn a_failed_reload_keeps_its_reason_until_a_good_one() {
        let (b, dir) = with_litellm(PricingConfig::default());
        let f = dir.join("model_prices.json");
        std::fs::write(&f, "{ broken").unwrap();
        assert!(b.reload_if_changed().is_err());
        let e = b.last_reload_error().unwrap();
        assert!(
            e.contains("model_prices.json") && e.contains("not valid JSON"),
            "{e}"
        );
        std::fs::write(&f, LL).unwrap();
        assert_eq!(b.reload_if_changed(), Ok(true));
        assert_eq!(b.last_reload_error(), None);
        std::fs::remove_dir_all(dir).ok();
    }
}
