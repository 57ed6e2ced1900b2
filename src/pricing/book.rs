//! The price book: loaded tables, user overrides, lookup with a per-model cache, and reload.
//!
//! Lookup is the expensive part (match rules, regexes, name rewrites), so its result is
//! cached per distinct (provider, model, host); a repeat span costs one hash and a read lock.
//! Reload swaps the whole state atomically and keeps the last good one when a file is bad.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

use serde::Deserialize;

use super::names::{candidates, flat_provider_ok, provider_spec, MatchKind, ProviderSpec};
use super::table::{Matcher, ModelEntry, ProviderTable, Source, SourceData};
use super::{litellm, native};
use crate::money::Usd;

/// The default table, built into the binary so air-gapped collectors price out of the box.
pub const DEFAULT_TABLE: &str = include_str!("../../config/pricing/genai-prices.json");
const DEFAULT_PATH: &str = "builtin:config/pricing/genai-prices.json";
const CACHE_LIMIT: usize = 50_000;

/// User pricing rules; they win over every file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PricingOverrides {
    /// Custom or fine-tuned models in the native model format, optionally tied to a provider.
    #[serde(default)]
    pub models: Vec<CustomModel>,
    /// Azure deployment (or any alias) → model name used for pricing, matched case-insensitively.
    #[serde(default)]
    pub deployments: HashMap<String, String>,
    /// Negotiated discount as a multiplier on the computed cost, per provider (`*` = all),
    /// as a decimal string such as `"0.85"`.
    #[serde(default)]
    pub discounts: HashMap<String, String>,
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

struct CacheEntry {
    provider: Box<str>,
    model: Box<str>,
    host: Box<str>,
    hit: Option<Arc<Resolved>>,
}

/// One consistent generation of tables plus its lookup cache.
pub struct BookState {
    /// Searched last to first: later files win. Overrides are separate and always first.
    sources: Vec<Source>,
    custom: Vec<(Option<String>, Matcher, Arc<ModelEntry>)>,
    deployments: HashMap<String, String>,
    discounts: HashMap<String, Usd>,
    cache: RwLock<HashMap<u64, Vec<CacheEntry>, BuildHasherDefault<KeyIsHash>>>,
}

/// The price tables used by the cost stage.
pub struct PriceBook {
    state: RwLock<Arc<BookState>>,
    files: Vec<PathBuf>,
    include_default: bool,
    overrides: PricingOverrides,
    stamps: Mutex<Vec<Option<(SystemTime, u64)>>>,
}

fn stamp(p: &PathBuf) -> Option<(SystemTime, u64)> {
    let m = std::fs::metadata(p).ok()?;
    Some((m.modified().ok()?, m.len()))
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
    pub fn load(
        files: &[PathBuf],
        include_default: bool,
        overrides: PricingOverrides,
    ) -> Result<PriceBook, PricingError> {
        let stamps: Vec<_> = files.iter().map(stamp).collect();
        let state = build_state(files, include_default, &overrides)?;
        Ok(PriceBook {
            state: RwLock::new(Arc::new(state)),
            files: files.to_vec(),
            include_default,
            overrides,
            stamps: Mutex::new(stamps),
        })
    }

    /// A book over already-parsed sources (tests, benches, tools).
    pub fn from_sources(
        sources: Vec<Source>,
        overrides: PricingOverrides,
    ) -> Result<PriceBook, PricingError> {
        let state = state_from(sources, &overrides)?;
        Ok(PriceBook {
            state: RwLock::new(Arc::new(state)),
            files: Vec::new(),
            include_default: false,
            overrides,
            stamps: Mutex::new(Vec::new()),
        })
    }

    /// Re-reads the files when any modification time or size changed. `Ok(true)` = reloaded,
    /// `Ok(false)` = unchanged (a few `stat` calls). On error the previous tables stay.
    pub fn reload_if_changed(&self) -> Result<bool, PricingError> {
        let now: Vec<_> = self.files.iter().map(stamp).collect();
        let mut stamps = self.stamps.lock().unwrap_or_else(|e| e.into_inner());
        if *stamps == now {
            return Ok(false);
        }
        // Remember the stamps even on failure so a bad file is reported once, not every tick.
        *stamps = now;
        let state = build_state(&self.files, self.include_default, &self.overrides)?;
        *self.state.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(state);
        Ok(true)
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

fn build_state(
    files: &[PathBuf],
    include_default: bool,
    overrides: &PricingOverrides,
) -> Result<BookState, PricingError> {
    let mut sources = Vec::new();
    if include_default {
        sources.push(parse_file(DEFAULT_TABLE.as_bytes(), DEFAULT_PATH)?);
    }
    for f in files {
        let label = f.display().to_string();
        let bytes = std::fs::read(f)
            .map_err(|e| PricingError(format!("pricing file {label}: cannot read: {e}")))?;
        sources.push(parse_file(&bytes, &label)?);
    }
    state_from(sources, overrides)
}

fn state_from(sources: Vec<Source>, o: &PricingOverrides) -> Result<BookState, PricingError> {
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
    Ok(BookState {
        sources,
        custom,
        deployments: o
            .deployments
            .iter()
            .map(|(k, v)| (k.to_lowercase(), v.clone()))
            .collect(),
        discounts,
        cache: RwLock::new(HashMap::default()),
    })
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

fn fnv(h: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(h, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The cache key is already a hash: use it as is.
#[derive(Default)]
struct KeyIsHash(u64);

impl Hasher for KeyIsHash {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// FNV-1a over the three keys (with separators): short strings, no DoS exposure (the map
/// is bounded and cleared), and far cheaper than SipHash on the hot path.
fn key_hash(provider: &str, model: &str, host: &str) -> u64 {
    [provider, model, host]
        .iter()
        .fold(FNV_OFFSET, |h, part| fnv(fnv(h, part.as_bytes()), &[0xff]))
}

impl BookState {
    /// Finds the price entry for a span's provider (latest OTel spelling or as written),
    /// model and server host. Cached: repeat keys take no allocation and run no regex.
    pub fn lookup(&self, provider: &str, model: &str, host: &str) -> Option<Arc<Resolved>> {
        let h = key_hash(provider, model, host);
        {
            let cache = self.cache.read().unwrap_or_else(|e| e.into_inner());
            if let Some(list) = cache.get(&h) {
                for e in list {
                    if &*e.provider == provider && &*e.model == model && &*e.host == host {
                        return e.hit.clone();
                    }
                }
            }
        }
        let hit = self.resolve(provider, model, host).map(Arc::new);
        let mut cache = self.cache.write().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= CACHE_LIMIT {
            cache.clear();
        }
        cache.entry(h).or_default().push(CacheEntry {
            provider: provider.into(),
            model: model.into(),
            host: host.into(),
            hit: hit.clone(),
        });
        hit
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

    /// The uncached lookup.
    pub fn resolve(&self, provider: &str, model: &str, host: &str) -> Option<Resolved> {
        let mut model_s = model.trim().to_string();
        let mut kind_floor = MatchKind::Exact;
        if let Some(m) = self.deployments.get(&model_s.to_lowercase()) {
            model_s = m.clone();
            kind_floor = MatchKind::Override;
        }
        let cands = candidates(&model_s);
        let discount = self.discount_for(provider);
        let otel = crate::facts::normalize_provider(provider);
        let spec = otel.and_then(provider_spec);
        let raw_lower = provider.to_lowercase();

        // User models first, on the exact and normalised names.
        for (name, kind) in cands.iter().filter(|c| c.1 <= MatchKind::Normalized) {
            for (p, m, e) in &self.custom {
                let provider_ok = p
                    .as_deref()
                    .is_none_or(|p| Some(p) == otel || p == raw_lower);
                if provider_ok && m.matches(name) {
                    let _ = kind;
                    return Some(Resolved {
                        entry: e.clone(),
                        source_name: "overrides".into(),
                        source_version: "".into(),
                        price_entry: format!("overrides:{}", e.id).into(),
                        match_kind: MatchKind::Override,
                        discount,
                    });
                }
            }
        }

        let strong: Vec<_> = cands
            .iter()
            .filter(|c| c.1 <= MatchKind::Normalized)
            .collect();
        let weak: Vec<_> = cands
            .iter()
            .filter(|c| c.1 > MatchKind::Normalized)
            .collect();
        for group in [strong, weak] {
            for fallback in [false, true] {
                for (name, kind) in &group {
                    for src in self.sources.iter().rev() {
                        let found = match &src.data {
                            SourceData::Native(ps) => {
                                find_native(ps, spec, &raw_lower, host, name, fallback)
                            }
                            SourceData::Flat(map) => {
                                find_flat(map, spec, &raw_lower, name, fallback)
                            }
                        };
                        if let Some((prov, entry)) = found {
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

fn find_flat(
    map: &HashMap<String, super::table::FlatEntry>,
    spec: Option<ProviderSpec>,
    raw: &str,
    name: &str,
    fallback: bool,
) -> Option<(String, Arc<ModelEntry>)> {
    let hit = |key: &str, ok: &dyn Fn(&str) -> bool| {
        map.get(key)
            .filter(|e| ok(&e.provider))
            .map(|e| (e.provider.clone(), e.model.clone()))
    };
    match spec {
        Some(s) if !fallback => s.prefixes.iter().find_map(|p| {
            if p.is_empty() {
                hit(name, &|pr| flat_provider_ok(s.flat, pr))
            } else {
                hit(&format!("{p}{name}"), &|pr| flat_provider_ok(s.flat, pr))
            }
        }),
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
        PriceBook::load(&[], true, PricingOverrides::default()).unwrap()
    }

    fn cost(
        b: &BookState,
        provider: &str,
        model: &str,
        input: u64,
        output: u64,
    ) -> Option<(String, &'static str, String)> {
        let r = b.lookup(provider, model, "")?;
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
        let b = PriceBook::load(&[], true, o).unwrap();
        let s = b.snapshot();
        let r = s
            .lookup("openai", "ft:gpt-4o-2024-08-06:acme::x1", "")
            .unwrap();
        assert_eq!(r.match_kind, MatchKind::Override);
        assert_eq!(r.discount, Usd::parse("0.5"));
        let r = s.lookup("azure.ai.openai", "my-prod-gpt4o", "").unwrap();
        assert!(r.match_kind >= MatchKind::Override);
        let bad: PricingOverrides = serde_json::from_str(r#"{"discounts":{"*":"cheap"}}"#).unwrap();
        let e = PriceBook::load(&[], false, bad).err().unwrap();
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
        let b =
            PriceBook::load(std::slice::from_ref(&f), true, PricingOverrides::default()).unwrap();
        let r = b.snapshot().lookup("openai", "gpt-4o", "").unwrap();
        assert_eq!(&*r.price_entry, "mine:openai/gpt-4o");
        assert_eq!(b.reload_if_changed(), Ok(false));
        std::fs::write(&f, "{ not json").unwrap();
        let e = b.reload_if_changed().unwrap_err();
        assert!(e.0.contains("mine.json"), "{e}");
        assert_eq!(
            &*b.snapshot()
                .lookup("openai", "gpt-4o", "")
                .unwrap()
                .price_entry,
            "mine:openai/gpt-4o"
        );
        let v2 = v1.replace("\"mine\"", "\"mine2\"");
        std::fs::write(&f, v2).unwrap();
        assert_eq!(b.reload_if_changed(), Ok(true));
        assert_eq!(
            &*b.snapshot()
                .lookup("openai", "gpt-4o", "")
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
            .lookup("aws.bedrock", "bedrock/us.anthropic.claude-sonnet-4-6", "")
            .unwrap();
        assert_eq!(
            &*r.price_entry,
            "litellm:bedrock_converse/us.anthropic.claude-sonnet-4-6"
        );
        assert!(s
            .lookup("gcp.gemini", "models/gemini-2.5-pro", "")
            .is_some());
        assert!(s
            .lookup("aws.bedrock", "eu.anthropic.claude-sonnet-4-6", "")
            .is_none());
        assert!(parse_file(br#"{"a":1}"#, "odd.json")
            .unwrap_err()
            .0
            .contains("odd.json"));
    }
}
