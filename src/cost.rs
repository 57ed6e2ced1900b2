//! The cost stage: canonical usage + price book → span edits and a per-call summary.
//!
//! Only inference spans are priced (agent and SDK wrapper spans repeat their children's
//! usage). An unknown model is written as `status=unpriced`, never as $0.
//!
//! Which figure a call is accounted at (`gen_ai.usage.cost`, and what the metrics sum), with
//! `tollbooth.cost.source` naming where it came from:
//! 1. `provider`: the provider's own bill, reported on the span (OpenRouter);
//! 2. `price_book`: our price for the usage;
//! 3. `instrumentation`: an instrumentation's in-process estimate, only when we have no price.
//!
//! An instrumentation's estimate (OpenLIT, logfire/pydantic-ai, LiteLLM, Langfuse) is never
//! taken as the bill, and a reported 0 is never taken at all: it is kept for comparison as
//! `tollbooth.cost.reported` (docs/pricing.md, "Reported costs").

use std::sync::Arc;

use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use serde::Deserialize;

use crate::edits::{EditList, Target};
use crate::facts::prost::{resource_facts, PreparedSpan};
use crate::facts::{
    canon, FactsConfig, InclusionOverride, OwnKeys, SpanFacts, TokenCounts, TokenSanity,
};
use crate::money::Usd;
pub use crate::pricing::PricingConfig;
use crate::pricing::{
    price, price_flags, pricing_inputs, BookState, Breakdown, MatchKind, PriceBook, PricingError,
    Resolved, SpanPricing, Tokens,
};

/// `cost` section of the engine configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostConfig {
    #[serde(default)]
    pub pricing: PricingConfig,
    /// Output attribute names.
    #[serde(default)]
    pub attributes: OutputNames,
    /// Per-source overrides of the cache/reasoning inclusion rules, first match wins.
    #[serde(default)]
    pub inclusion: Vec<InclusionOverride>,
    /// Write the canonical usage in the latest OTel names when a span lacks them.
    #[serde(default = "yes")]
    pub write_usage: bool,
    /// Above this many tokens in any count of one call, the counts are implausible: the
    /// span is flagged (`implausible_tokens`), not priced, and kept out of every counter.
    #[serde(
        default = "crate::facts::default_max_tokens_per_call",
        deserialize_with = "crate::facts::deserialize_max_tokens"
    )]
    pub max_tokens_per_call: u64,
}

impl Default for CostConfig {
    fn default() -> Self {
        CostConfig {
            pricing: PricingConfig::default(),
            attributes: OutputNames::default(),
            inclusion: Vec::new(),
            write_usage: true,
            max_tokens_per_call: crate::facts::DEFAULT_MAX_TOKENS_PER_CALL,
        }
    }
}

/// Names of the attributes the stage writes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputNames {
    /// Total cost in USD (double); the name OpenLIT writes and Langfuse reads.
    #[serde(default = "cost_attr")]
    pub cost: String,
    /// Prefix of the breakdown and provenance attributes.
    #[serde(default = "prefix_attr")]
    pub prefix: String,
}

impl Default for OutputNames {
    fn default() -> Self {
        OutputNames {
            cost: cost_attr(),
            prefix: prefix_attr(),
        }
    }
}

fn yes() -> bool {
    true
}
fn cost_attr() -> String {
    "gen_ai.usage.cost".into()
}
fn prefix_attr() -> String {
    "tollbooth.cost".into()
}

impl CostConfig {
    /// Parses the `cost` section alone (the integrator nests it in `EngineConfig`).
    pub fn from_json(bytes: &[u8]) -> Result<CostConfig, String> {
        serde_json::from_slice(bytes).map_err(|e| format!("invalid cost configuration: {e}"))
    }

    /// How spans are read for this stage: its own output keys (so an enriched span is
    /// recognised), the batch marker, the token ceiling and the inclusion overrides.
    pub fn facts_config(&self) -> FactsConfig {
        let p = self.attributes.prefix.trim_end_matches('.');
        let own = OwnKeys {
            cost: self.attributes.cost.clone(),
            status: format!("{p}.status"),
            total: format!("{p}.total"),
            batch: self.pricing.batch_attribute.clone(),
        };
        FactsConfig::new(&own, self.max_tokens_per_call, self.inclusion.clone())
    }
}

impl From<&TokenCounts> for Tokens {
    fn from(t: &TokenCounts) -> Tokens {
        Tokens {
            input: t.input.unwrap_or(0),
            cache_read: t.cache_read,
            cache_write: t.cache_write,
            cache_write_1h: t.cache_write_1h,
            output: t.output.unwrap_or(0),
            reasoning: t.reasoning,
        }
    }
}

/// An instrumentation scope by name and version (for [`CostStage::enrich_decoded`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct ScopeRef<'a> {
    pub name: &'a str,
    pub version: &'a str,
}

/// The outcome written to `<prefix>.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CostStatus {
    /// Accounted at our price.
    Priced,
    /// Usage but no price, and no estimate either: counted, never $0.
    Unpriced,
    NoUsage,
    /// Accounted at the provider's own bill (ours beside it as `tollbooth.cost.total`).
    ProviderReported,
    /// No price of ours; accounted at the instrumentation's non-zero estimate.
    Estimated,
    /// Another span of a call already accounted (src/dedupe/): no cost, not counted.
    Duplicate,
}

impl CostStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CostStatus::Priced => "priced",
            CostStatus::Unpriced => "unpriced",
            CostStatus::NoUsage => "no_usage",
            CostStatus::ProviderReported => "provider_reported",
            CostStatus::Estimated => "estimated",
            CostStatus::Duplicate => "duplicate",
        }
    }
}

/// Where the accounted figure came from (`tollbooth.cost.source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CostSource {
    Provider,
    PriceBook,
    Instrumentation,
}

impl CostSource {
    pub fn as_str(self) -> &'static str {
        match self {
            CostSource::Provider => "provider",
            CostSource::PriceBook => "price_book",
            CostSource::Instrumentation => "instrumentation",
        }
    }
}

/// The figure a call is accounted at: written as the cost attribute and summed by metrics.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Accounted {
    pub usd: f64,
    /// Exact when it is our price; reported figures are floats on the wire.
    pub exact: Option<Usd>,
    pub source: CostSource,
}

/// The cost stage's verdict on one inference span; everything else about the call is in
/// its [`SpanFacts`].
#[derive(Debug, Clone, PartialEq)]
pub struct CallSummary {
    /// The tokens priced (zero when the span had no usable usage).
    pub tokens: Tokens,
    /// Our cost (after discounts); `None` when unpriced or without usage.
    pub cost: Option<Usd>,
    /// A cost the span carried itself.
    pub reported_cost_usd: Option<f64>,
    /// What the call is accounted at; `None` when unpriced, without usage or a duplicate.
    pub accounted: Option<Accounted>,
    pub status: CostStatus,
    pub match_kind: Option<MatchKind>,
    pub price_entry: Option<Arc<str>>,
    /// The span had been enriched already (an upstream Tollbooth); no edits were written.
    pub already_enriched: bool,
}

/// One inference span assessed by [`CostStage::assess`], not yet written.
#[derive(Debug, Clone)]
pub struct Assessed {
    pub summary: CallSummary,
    priced: Option<(Arc<Resolved>, Breakdown)>,
}

struct Names {
    cost: String,
    input: String,
    output: String,
    cache_read: String,
    cache_write: String,
    reasoning: String,
    total: String,
    source: String,
    price_source: String,
    price_source_version: String,
    reported: String,
    reported_key: String,
    price_entry: String,
    matched: String,
    status: String,
    flags: String,
}

/// The configured cost stage; share one per engine.
pub struct CostStage {
    config: CostConfig,
    names: Names,
    book: PriceBook,
    /// How this stage reads spans (its own keys, ceiling, overrides).
    facts: FactsConfig,
}

impl CostStage {
    /// Loads the price tables; errors name the file or configuration key.
    pub fn new(config: CostConfig) -> Result<CostStage, PricingError> {
        let book = PriceBook::load(&config.pricing)?;
        let p = config.attributes.prefix.trim_end_matches('.');
        let n = |s: &str| format!("{p}.{s}");
        let names = Names {
            cost: config.attributes.cost.clone(),
            input: n("input"),
            output: n("output"),
            cache_read: n("cache_read"),
            cache_write: n("cache_write"),
            reasoning: n("reasoning"),
            total: n("total"),
            source: n("source"),
            price_source: n("price_source"),
            price_source_version: n("price_source_version"),
            reported: n("reported"),
            reported_key: n("reported_key"),
            price_entry: n("price_entry"),
            matched: n("match"),
            status: n("status"),
            flags: n("flags"),
        };
        let facts = config.facts_config();
        Ok(CostStage {
            config,
            names,
            book,
            facts,
        })
    }

    pub fn book(&self) -> &PriceBook {
        &self.book
    }

    /// The facts configuration the engine must read spans with for this stage.
    pub fn facts_config(&self) -> &FactsConfig {
        &self.facts
    }

    pub fn config(&self) -> &CostConfig {
        &self.config
    }

    /// Re-reads pricing files whose modification time changed; keeps the last good table on
    /// error. Cheap when nothing changed.
    pub fn reload_if_changed(&self) -> Result<bool, PricingError> {
        self.book.reload_if_changed()
    }

    /// Prices one span from its facts, appending edits at `at`. Take `book` from
    /// `stage.book().snapshot()` once per batch. `None` for spans that are not model calls.
    pub fn enrich(
        &self,
        book: &BookState,
        f: &SpanFacts<'_>,
        at: Target,
        edits: &mut EditList,
    ) -> Option<CallSummary> {
        let a = self.assess(book, f)?;
        self.write_assessed(f, &a, at, edits);
        Some(a.summary)
    }

    /// Prices one span from its facts without writing anything, so exactly-once accounting
    /// can judge it first. `None` for spans that are not model calls.
    pub fn assess(&self, book: &BookState, f: &SpanFacts<'_>) -> Option<Assessed> {
        if !f.is_inference() {
            return None;
        }
        let (mut summary, priced) = self.price(book, f);
        summary.already_enriched = f.upstream.enriched();
        Some(Assessed { summary, priced })
    }

    /// Writes an assessed span's usage, status and cost (nothing when an upstream Tollbooth
    /// already did).
    pub fn write_assessed(
        &self,
        f: &SpanFacts<'_>,
        a: &Assessed,
        at: Target,
        edits: &mut EditList,
    ) {
        if !a.summary.already_enriched {
            self.write(f, &a.summary, a.priced.as_ref(), at, edits);
        }
    }

    /// Marks an assessed span as a duplicate of a call already accounted: its usage is
    /// written as for any span, but no cost; a cost attribute it carried moves to
    /// `tollbooth.cost.reported`, so nothing downstream sums it again.
    pub fn write_duplicate(
        &self,
        f: &SpanFacts<'_>,
        a: &Assessed,
        at: Target,
        edits: &mut EditList,
    ) {
        if a.summary.already_enriched {
            return;
        }
        let s = CallSummary {
            status: CostStatus::Duplicate,
            accounted: None,
            cost: None,
            ..a.summary.clone()
        };
        self.write(f, &s, None, at, edits);
        if f.reported_cost.is_some_and(|r| r.key == self.names.cost) {
            edits.delete(at, &self.names.cost);
        }
    }

    /// [`CostStage::enrich`] for a prost-decoded span (tests, benches, tools): reads its
    /// facts through the adapter first.
    pub fn enrich_decoded(
        &self,
        book: &BookState,
        span: &Span,
        scope: ScopeRef<'_>,
        resource: &[KeyValue],
        at: Target,
        edits: &mut EditList,
    ) -> Option<CallSummary> {
        let prepared = PreparedSpan::new(span, scope.name, scope.version);
        let res = resource_facts(resource, &self.facts);
        let f = prepared.facts(&res, &self.facts);
        self.enrich(book, &f, at, edits)
    }

    fn price(
        &self,
        book: &BookState,
        f: &SpanFacts<'_>,
    ) -> (CallSummary, Option<(Arc<Resolved>, Breakdown)>) {
        let reported = f.reported_cost.map(|c| c.usd);
        let mut s = CallSummary {
            tokens: Tokens::default(),
            cost: None,
            reported_cost_usd: reported,
            accounted: None,
            status: CostStatus::NoUsage,
            match_kind: None,
            price_entry: None,
            already_enriched: false,
        };
        // What the provider billed, when the span says so; a 0 is never a bill.
        let bill = f
            .reported_cost
            .filter(|c| c.usd > 0.0 && c.provider)
            .map(|c| c.usd);
        let estimate = f
            .reported_cost
            .filter(|c| c.usd > 0.0 && !c.provider)
            .map(|c| c.usd);
        let reported_only = |s: &mut CallSummary| {
            if let Some(usd) = bill {
                s.status = CostStatus::ProviderReported;
                s.accounted = Some(Accounted {
                    usd,
                    exact: None,
                    source: CostSource::Provider,
                });
            } else if let Some(usd) = estimate {
                s.status = CostStatus::Estimated;
                s.accounted = Some(Accounted {
                    usd,
                    exact: None,
                    source: CostSource::Instrumentation,
                });
            }
        };
        let Some(usage) = f.usage() else {
            // Negative or implausible counts leave the call with no usable usage at all.
            // Without usage, only the provider's own bill is accounted: an estimate of a call
            // we cannot see would be a guess about a guess.
            if f.sanity == TokenSanity::Ok && bill.is_some() {
                reported_only(&mut s);
            }
            return (s, None);
        };
        let tokens = Tokens::from(usage);
        s.tokens = tokens;
        let provider = f.provider_name();
        let host = f.server_address.as_deref().unwrap_or("");
        let ctx = pricing_inputs(SpanPricing {
            server_address: f.server_address.as_deref(),
            service_tier: f.service_tier.as_deref(),
            batch: f.batch,
            region: f.region.as_deref(),
            resource_region: f.resource_region.as_deref(),
            inference_geo: f.inference_geo.as_deref(),
            speed: f.speed.as_deref(),
        });
        let request = f.request_model.as_deref();
        let response = f.response_model.as_deref();
        // Response model first; the request model when only it resolves, or when the user
        // mapped it (an Azure deployment whose response model is generic, like `gpt-4`).
        let mapped = request.filter(|m| book.maps_deployment(m));
        let lookup = |m: &str| book.lookup(provider, m, host, ctx.region);
        let hit = mapped
            .and_then(lookup)
            .or_else(|| response.and_then(lookup))
            .or_else(|| request.and_then(lookup));
        let Some(r) = hit else {
            s.status = CostStatus::Unpriced;
            reported_only(&mut s);
            return (s, None);
        };
        let when = if f.start_unix_nano > 0 {
            (f.start_unix_nano / 1_000_000_000) as i64
        } else {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0)
        };
        let b = price(&r.entry, tokens, when, ctx);
        let total = r.discount.map_or(b.total, |d| b.total.scale_by(d));
        s.cost = Some(total);
        s.match_kind = Some(r.match_kind);
        s.price_entry = Some(r.price_entry.clone());
        s.status = CostStatus::Priced;
        s.accounted = Some(Accounted {
            usd: total.to_f64(),
            exact: Some(total),
            source: CostSource::PriceBook,
        });
        if bill.is_some() {
            reported_only(&mut s);
        }
        (s, Some((r, b)))
    }

    fn write(
        &self,
        f: &SpanFacts<'_>,
        s: &CallSummary,
        priced: Option<&(Arc<Resolved>, Breakdown)>,
        at: Target,
        edits: &mut EditList,
    ) {
        let n = &self.names;
        if self.config.write_usage {
            if f.present & canon::PROVIDER == 0 {
                if let Some(p) = f.provider {
                    edits.set_str(at, "gen_ai.provider.name", p);
                }
            }
            if let Some(t) = f.tokens() {
                let nonzero = |v: u64| Some(v).filter(|v| *v > 0);
                let ints = [
                    (canon::INPUT, "gen_ai.usage.input_tokens", t.input),
                    (canon::OUTPUT, "gen_ai.usage.output_tokens", t.output),
                    (
                        canon::CACHE_READ,
                        "gen_ai.usage.cache_read.input_tokens",
                        nonzero(t.cache_read),
                    ),
                    (
                        canon::CACHE_WRITE,
                        "gen_ai.usage.cache_creation.input_tokens",
                        nonzero(t.cache_write),
                    ),
                    (
                        canon::REASONING,
                        "gen_ai.usage.reasoning.output_tokens",
                        nonzero(t.reasoning),
                    ),
                ];
                // A count in the spec's name but not the spec's meaning (OpenLIT's Anthropic
                // input leaves cache out) is corrected in place, so every reader downstream,
                // the metrics connector included, sees the counts that were priced; the flags
                // say so.
                let corrected = |bit: u8| {
                    (bit == canon::INPUT && f.inclusion.input_was_exclusive)
                        || (bit == canon::OUTPUT && f.inclusion.output_was_exclusive)
                };
                for (bit, key, v) in ints {
                    if f.present & bit == 0 || corrected(bit) {
                        if let Some(v) = v {
                            edits.set_int(at, key, v.min(i64::MAX as u64) as i64);
                        }
                    }
                }
            }
        }
        edits.set_str(at, &n.status, s.status.as_str());
        let mut flags = [""; 12];
        let mut k = 0;
        let sanity = match f.sanity {
            TokenSanity::Ok => None,
            TokenSanity::Negative => Some("negative_tokens"),
            TokenSanity::Implausible => Some("implausible_tokens"),
        };
        if let Some(name) = sanity {
            flags[0] = name;
            k = 1;
        }
        // A figure the span carried that is not what we account: kept for comparison.
        if let Some(rep) = f.reported_cost {
            let accounted_here = s
                .accounted
                .is_some_and(|a| a.source != CostSource::PriceBook);
            if !accounted_here {
                edits.set_double(at, &n.reported, rep.usd);
                edits.set_str(at, &n.reported_key, rep.key);
            }
        }
        if let Some(acc) = s.accounted {
            edits.set_double(at, &n.cost, acc.usd);
            edits.set_str(at, &n.source, acc.source.as_str());
            if let (Some(total), CostSource::Provider) = (s.cost, acc.source) {
                edits.set_double(at, &n.total, total.to_f64());
            }
        }
        if let (Some(_), Some((r, b))) = (s.cost, priced) {
            let scale = |x: Usd| r.discount.map_or(x, |d| x.scale_by(d)).to_f64();
            edits.set_double(at, &n.input, scale(b.input));
            edits.set_double(at, &n.output, scale(b.output));
            edits.set_double(at, &n.cache_read, scale(b.cache_read));
            edits.set_double(at, &n.cache_write, scale(b.cache_write));
            edits.set_double(at, &n.reasoning, scale(b.reasoning));
            edits.set_str(at, &n.price_source, &r.source_name);
            edits.set_str(at, &n.price_source_version, &r.source_version);
            edits.set_str(at, &n.price_entry, &r.price_entry);
            edits.set_str(at, &n.matched, r.match_kind.as_str());
            let usage_flags = [
                (f.inclusion.input_was_exclusive, "input_excluded_cache"),
                (
                    f.inclusion.output_was_exclusive,
                    "output_excluded_reasoning",
                ),
            ];
            let on = usage_flags.iter().filter(|f| f.0).map(|f| f.1);
            for name in on.chain(price_flags(r, b)) {
                flags[k] = name;
                k += 1;
            }
        }
        if k > 0 {
            edits.set_str(at, &n.flags, &flags[..k].join(","));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edits::{decode, Disposition, Op};
    use crate::otlp::{kv_int, kv_str};
    use std::sync::OnceLock;

    fn stage() -> &'static CostStage {
        static S: OnceLock<CostStage> = OnceLock::new();
        S.get_or_init(|| {
            let cfg = CostConfig::from_json(
                br#"{"pricing":{"overrides":{"deployments":{"prod-4o":"gpt-4o-2024-08-06"}}}}"#,
            )
            .unwrap();
            CostStage::new(cfg).unwrap()
        })
    }

    fn run(attrs: Vec<KeyValue>, scope: &str) -> (Option<CallSummary>, Vec<Op>) {
        let span = Span {
            name: "chat".into(),
            attributes: attrs,
            start_time_unix_nano: 1_790_000_000_000_000_000,
            ..Default::default()
        };
        let at = Target::Span {
            rs: 0,
            ss: 0,
            span: 0,
        };
        let mut edits = EditList::new();
        let st = stage();
        let book = st.book().snapshot();
        let s = st.enrich_decoded(
            &book,
            &span,
            ScopeRef {
                name: scope,
                version: "",
            },
            &[],
            at,
            &mut edits,
        );
        let (_, ops) = decode(&edits.finish(Disposition::Forward)).unwrap();
        (s, ops.into_iter().map(|(_, op)| op).collect())
    }

    fn get<'o>(ops: &'o [Op], key: &str) -> Option<&'o Op> {
        ops.iter().find(|o| match o {
            Op::SetStr(k, _) | Op::SetInt(k, _) | Op::SetDouble(k, _) | Op::SetBool(k, _) => {
                k == key
            }
            _ => false,
        })
    }

    #[test]
    fn prices_an_openai_span_and_writes_canonical_usage() {
        let (s, ops) = run(
            vec![
                kv_str("gen_ai.system", "openai"),
                kv_str("gen_ai.operation.name", "chat"),
                kv_str("gen_ai.request.model", "gpt-4o"),
                kv_str("gen_ai.response.model", "gpt-4o-2024-08-06"),
                kv_int("gen_ai.usage.prompt_tokens", 1_000_000),
                kv_int("gen_ai.usage.completion_tokens", 100_000),
            ],
            "opentelemetry.instrumentation.openai.v1",
        );
        let s = s.unwrap();
        assert_eq!(s.status, CostStatus::Priced);
        assert_eq!(s.cost.unwrap().to_string(), "3.5");
        assert_eq!(
            get(&ops, "gen_ai.usage.cost"),
            Some(&Op::SetDouble("gen_ai.usage.cost".into(), 3.5))
        );
        assert_eq!(
            get(&ops, "gen_ai.usage.input_tokens"),
            Some(&Op::SetInt("gen_ai.usage.input_tokens".into(), 1_000_000))
        );
        assert_eq!(
            get(&ops, "gen_ai.provider.name"),
            Some(&Op::SetStr("gen_ai.provider.name".into(), "openai".into()))
        );
        assert_eq!(
            get(&ops, "tollbooth.cost.status"),
            Some(&Op::SetStr("tollbooth.cost.status".into(), "priced".into()))
        );
        assert_eq!(
            get(&ops, "tollbooth.cost.price_entry"),
            Some(&Op::SetStr(
                "tollbooth.cost.price_entry".into(),
                "genai-prices:openai/gpt-4o".into()
            ))
        );
        assert!(get(&ops, "tollbooth.cost.price_source_version").is_some());
    }

    #[test]
    fn unknown_model_is_unpriced_never_zero() {
        let (s, ops) = run(
            vec![
                kv_str("gen_ai.provider.name", "openai"),
                kv_str("gen_ai.operation.name", "chat"),
                kv_str("gen_ai.request.model", "totally-new-model"),
                kv_int("gen_ai.usage.input_tokens", 10),
                kv_int("gen_ai.usage.output_tokens", 10),
            ],
            "x",
        );
        let s = s.unwrap();
        assert_eq!(s.status, CostStatus::Unpriced);
        assert_eq!(s.cost, None);
        assert!(get(&ops, "gen_ai.usage.cost").is_none());
        assert_eq!(
            get(&ops, "tollbooth.cost.status"),
            Some(&Op::SetStr(
                "tollbooth.cost.status".into(),
                "unpriced".into()
            ))
        );
    }

    fn double(key: &str, v: f64) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Some(opentelemetry_proto::tonic::common::v1::AnyValue {
                value: Some(
                    opentelemetry_proto::tonic::common::v1::any_value::Value::DoubleValue(v),
                ),
            }),
        }
    }

    fn sonnet(extra: Vec<KeyValue>) -> Vec<KeyValue> {
        let mut v = vec![
            kv_str("gen_ai.system", "anthropic"),
            kv_str("gen_ai.operation.name", "chat"),
            kv_str("gen_ai.response.model", "claude-sonnet-4-5-20250929"),
            kv_int("gen_ai.usage.input_tokens", 1000),
            kv_int("gen_ai.usage.cache_read.input_tokens", 2000),
            kv_int("gen_ai.usage.output_tokens", 100),
            kv_str("gen_ai.sdk.version", "1.45.0"),
        ];
        v.extend(extra);
        v
    }

    /// An instrumentation's own figure (OpenLIT's 0, pydantic-ai's estimate) is kept for
    /// comparison and never taken as the bill: ours is the accounted cost.
    #[test]
    fn instrumentation_estimates_and_zeros_are_not_the_bill() {
        for reported in [0.0, 0.0051, 0.9] {
            let (s, ops) = run(
                sonnet(vec![double("gen_ai.usage.cost", reported)]),
                "openlit.otel.tracing",
            );
            let s = s.unwrap();
            assert_eq!(s.status, CostStatus::Priced);
            // OpenLIT's Anthropic input excludes cache: 1000 uncached*3 + 2000*0.3 + 100*15 per M.
            assert_eq!(s.tokens.input, 3000);
            // The span's own input count is corrected to what was priced.
            assert_eq!(
                get(&ops, "gen_ai.usage.input_tokens"),
                Some(&Op::SetInt("gen_ai.usage.input_tokens".into(), 3000))
            );
            assert_eq!(s.cost.unwrap().to_string(), "0.0051");
            let acc = s.accounted.unwrap();
            assert_eq!((acc.usd, acc.source), (0.0051, CostSource::PriceBook));
            assert_eq!(
                get(&ops, "gen_ai.usage.cost"),
                Some(&Op::SetDouble("gen_ai.usage.cost".into(), 0.0051))
            );
            assert_eq!(
                get(&ops, "tollbooth.cost.source"),
                Some(&Op::SetStr(
                    "tollbooth.cost.source".into(),
                    "price_book".into()
                ))
            );
            assert_eq!(
                get(&ops, "tollbooth.cost.reported"),
                Some(&Op::SetDouble("tollbooth.cost.reported".into(), reported))
            );
            assert!(
                matches!(get(&ops, "tollbooth.cost.flags"), Some(Op::SetStr(_, f)) if f.contains("input_excluded_cache"))
            );
        }
    }

    /// The provider's own bill (OpenRouter) is the accounted figure; ours sits beside it.
    #[test]
    fn a_provider_bill_is_accounted_and_ours_written_alongside() {
        let (s, ops) = run(sonnet(vec![double("gen_ai.usage.total_cost", 0.006)]), "x");
        let s = s.unwrap();
        assert_eq!(s.status, CostStatus::ProviderReported);
        assert_eq!(s.accounted.unwrap().source, CostSource::Provider);
        assert_eq!(
            get(&ops, "gen_ai.usage.cost"),
            Some(&Op::SetDouble("gen_ai.usage.cost".into(), 0.006))
        );
        assert!(get(&ops, "tollbooth.cost.total").is_some());
        assert!(get(&ops, "tollbooth.cost.reported").is_none());
        // A provider's 0 is no bill either.
        let (s, _) = run(sonnet(vec![double("gen_ai.usage.total_cost", 0.0)]), "x");
        assert_eq!(s.unwrap().status, CostStatus::Priced);
    }

    /// With no price of ours, a non-zero estimate is accounted, and says so.
    #[test]
    fn an_estimate_is_used_only_without_a_price() {
        let attrs = vec![
            kv_str("gen_ai.provider.name", "openai"),
            kv_str("gen_ai.operation.name", "chat"),
            kv_str("gen_ai.request.model", "totally-new-model"),
            kv_int("gen_ai.usage.input_tokens", 10),
            kv_int("gen_ai.usage.output_tokens", 10),
        ];
        let mut with = attrs.clone();
        with.push(double("operation.cost", 0.25));
        let (s, ops) = run(with, "pydantic-ai");
        let s = s.unwrap();
        assert_eq!(s.status, CostStatus::Estimated);
        assert_eq!(
            get(&ops, "tollbooth.cost.source"),
            Some(&Op::SetStr(
                "tollbooth.cost.source".into(),
                "instrumentation".into()
            ))
        );
        let mut zero = attrs;
        zero.push(double("gen_ai.usage.cost", 0.0));
        let (s, ops) = run(zero, "openlit.otel.tracing");
        assert_eq!(s.unwrap().status, CostStatus::Unpriced, "never $0");
        assert!(get(&ops, "gen_ai.usage.cost").is_none());
    }

    /// LiteLLM's cached and reasoning counts live in JSON (or Python-literal) strings.
    #[test]
    fn litellm_usage_objects_give_cached_and_reasoning_tokens() {
        let base = || {
            vec![
                kv_str("gen_ai.system", "openai"),
                kv_str("gen_ai.operation.name", "chat"),
                kv_str("gen_ai.request.model", "o3-mini"),
                kv_str("gen_ai.response.model", "o3-mini-2025-01-31"),
                kv_int("gen_ai.usage.input_tokens", 2006),
                kv_int("gen_ai.usage.output_tokens", 913),
                double("gen_ai.cost.total_cost", 0.0051678),
            ]
        };
        let mut literal = base();
        literal.push(kv_str("metadata.usage_object", "{'completion_tokens': 913, 'prompt_tokens': 2006, 'completion_tokens_details': {'reasoning_tokens': 768, 'text_tokens': None}, 'prompt_tokens_details': {'audio_tokens': 0, 'cached_tokens': 1920}}"));
        let mut json = base();
        json.push(kv_str("hidden_params", r#"{"response_cost": 0.0051678, "usage_object": {"prompt_tokens_details": {"cached_tokens": 1920}, "completion_tokens_details": {"reasoning_tokens": 768}}}"#));
        for attrs in [literal, json] {
            let (s, _) = run(attrs, "litellm");
            let s = s.unwrap();
            assert_eq!((s.tokens.cache_read, s.tokens.reasoning), (1920, 768));
            // 86 x 1.1 + 1920 x 0.55 + 913 x 4.4 per million: LiteLLM's own figure, ours.
            assert_eq!(s.cost.unwrap().to_string(), "0.0051678");
            assert_eq!(s.status, CostStatus::Priced);
        }
    }

    #[test]
    fn aggregate_spans_are_not_priced_and_deployments_map() {
        let (s, ops) = run(
            vec![
                kv_str("gen_ai.operation.name", "invoke_agent"),
                kv_str("gen_ai.request.model", "gpt-4o"),
                kv_int("gen_ai.usage.input_tokens", 10),
            ],
            "x",
        );
        assert!(s.is_none() && ops.is_empty());
        let (s, _) = run(
            vec![
                kv_str("gen_ai.system", "az.ai.openai"),
                kv_str("gen_ai.operation.name", "chat"),
                kv_str("gen_ai.request.model", "prod-4o"),
                kv_str("gen_ai.response.model", "gpt-4"),
                kv_int("gen_ai.usage.input_tokens", 1_000_000),
                kv_int("gen_ai.usage.output_tokens", 0),
            ],
            "x",
        );
        let s = s.unwrap();
        assert_eq!(s.status, CostStatus::Priced);
        assert_eq!(s.cost.unwrap().to_string(), "2.5");
        assert!(s.match_kind.unwrap() >= MatchKind::Override);
    }

    #[test]
    fn batch_and_region_come_from_the_span() {
        let attrs = |extra: Vec<KeyValue>| {
            let mut v = vec![
                kv_str("gen_ai.provider.name", "anthropic"),
                kv_str("gen_ai.operation.name", "chat"),
                kv_str("gen_ai.response.model", "claude-sonnet-4-5-20250929"),
                kv_int("gen_ai.usage.input_tokens", 1_000_000),
                kv_int("gen_ai.usage.output_tokens", 100_000),
            ];
            v.extend(extra);
            v
        };
        let (standard, _) = run(attrs(vec![]), "x");
        let (batch, ops) = run(
            attrs(vec![kv_str("anthropic.response.service_tier", "batch")]),
            "x",
        );
        let (standard, batch) = (
            standard.unwrap().cost.unwrap(),
            batch.unwrap().cost.unwrap(),
        );
        assert_eq!(batch, standard.scale_by(Usd::HALF), "{batch} vs {standard}");
        assert!(get(&ops, "tollbooth.cost.status").is_some());
    }

    #[test]
    fn config_errors_name_the_key() {
        let e = CostConfig::from_json(br#"{"pricing":{"file":["x"]}}"#).unwrap_err();
        assert!(e.contains("`file`"), "{e}");
        let e = CostConfig::from_json(br#"{"attributes":{"costs":"x"}}"#).unwrap_err();
        assert!(e.contains("`costs`"), "{e}");
        let e =
            CostConfig::from_json(br#"{"pricing":{"fine_tune_fallback":"guess"}}"#).unwrap_err();
        assert!(e.contains("guess"), "{e}");
        let missing =
            CostConfig::from_json(br#"{"pricing":{"files":["/nonexistent/p.json"]}}"#).unwrap();
        let e = CostStage::new(missing).err().unwrap();
        assert!(e.0.contains("/nonexistent/p.json"), "{e}");
    }
}
