//! The engine: runs the configured stages over one batch per call.
//!
//! An `Engine` is `Send + Sync`; the collector calls it from many goroutines at once. Stateless
//! work runs on the calling thread with no lock; the metrics aggregator sits behind a mutex
//! that is held only to bump a few counters per batch.

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use prost::Message;

use crate::config::EngineConfig;
use crate::cost::{Assessed, CostConfig, CostStage, CostStatus};
use crate::dedupe::identity::detail_score;
use crate::dedupe::WindowStats;
use crate::dedupe::{CallIdentity, Deduper, Verdict};
use crate::edits::{self, Disposition, EditList, HeadKind, Target};
use crate::facts::{
    canon, FactsConfig, ResourceFacts, ScopeInput, SpanFacts, SpanInput, UpstreamStatus,
};
use crate::metrics::{span, Aggregator};
use crate::otlp::{decode_traces, read_traces, to_owned_lossy, KeyValueRef, SpanRef, TracesRef};
use crate::redact::{RedactionCounts, Redactor};
use crate::sampling::{Sampler, SamplingSnapshot};
use crate::stats::{PricingGauges, Snapshot, Stats};

/// Why a call failed. Every variant leaves the engine usable; the caller fails open.
#[derive(Debug)]
pub enum EngineError {
    /// The batch is not valid OTLP protobuf (including invalid UTF-8 in a string field).
    Decode(String),
    /// A previous panic poisoned shared state; stateful output can no longer be trusted.
    Poisoned,
}

impl std::fmt::Display for EngineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EngineError::Decode(m) => write!(f, "{m}"),
            EngineError::Poisoned => write!(f, "engine state poisoned by an earlier panic"),
        }
    }
}

pub struct Engine {
    config: EngineConfig,
    stats: Stats,
    metrics: Option<Mutex<Aggregator>>,
    /// Cost enrichment: normalised usage and prices written on inference spans.
    cost: Option<CostStage>,
    /// How span facts are read (the cost stage's keys and ceiling when it is configured).
    facts: FactsConfig,
    /// When the pricing files were last checked for changes (unix ns).
    last_reload_check: AtomicU64,
    /// Redaction of attributes, events, links and status messages.
    redactor: Option<Redactor>,
    /// Redaction counters, per detector, since the engine started.
    redaction_counts: Mutex<RedactionCounts>,
    /// Tail sampler: when present the engine keeps every batch and gives back what it samples.
    sampler: Option<Sampler>,
    /// Exactly-once accounting, for engines that price or count calls.
    dedupe: Option<Deduper>,
}

impl Engine {
    /// Builds an engine from its configuration. Metric series start at their first call, so
    /// `_now_unix_nano` is not needed today; it stays in the ABI for stages that will need it.
    /// Fails, naming the offending key, when a stage's configuration is invalid.
    pub fn new(config: EngineConfig, _now_unix_nano: u64) -> Result<Engine, String> {
        let metrics = config
            .metrics
            .as_ref()
            .map(|m| Mutex::new(Aggregator::new(m.clone())));
        let cost = match &config.cost {
            Some(raw) => {
                let cfg = CostConfig::from_json(raw.to_string().as_bytes())
                    .map_err(|e| format!("cost: {e}"))?;
                Some(CostStage::new(cfg).map_err(|e| format!("cost: {e}"))?)
            }
            None => None,
        };
        let redactor = match &config.redaction {
            Some(raw) => Some(
                Redactor::from_json(raw.to_string().as_bytes())
                    .map_err(|e| format!("redaction: {e}"))?,
            ),
            None => None,
        };
        let facts = cost
            .as_ref()
            .map_or_else(FactsConfig::default, |c| c.facts_config().clone());
        let sampler = match &config.sampling {
            Some(raw) => Some(
                Sampler::from_json(raw.to_string().as_bytes())
                    .map_err(|e| format!("tail sampling: {e}"))?
                    .with_facts_config(facts.clone()),
            ),
            None => None,
        };
        config.dedupe.validate()?;
        let dedupe = (config.dedupe.enabled && (cost.is_some() || metrics.is_some()))
            .then(|| Deduper::new(&config.dedupe));
        Ok(Engine {
            dedupe,
            config,
            stats: Stats::default(),
            metrics,
            cost,
            facts,
            last_reload_check: AtomicU64::new(_now_unix_nano),
            redactor,
            redaction_counts: Mutex::new(RedactionCounts::default()),
            sampler,
        })
    }

    /// Runs the stages over one OTLP traces batch and returns the edit list for the caller.
    pub fn process(&self, batch: &[u8], now_unix_nano: u64) -> Result<Vec<u8>, EngineError> {
        // Read in place: anything pdata can hold reads (strings that are not UTF-8, any depth);
        // only bytes that are not protobuf at all fail here.
        let traces = match read_traces(batch) {
            Ok(t) => t,
            Err(e) => {
                Stats::add(&self.stats.batches_undecodable, 1);
                return Err(EngineError::Decode(e.to_string()));
            }
        };
        let edits = if self.reads_spans() {
            self.process_read(batch, &traces, now_unix_nano)?
        } else {
            // A sampling-only engine (the genai_tail_sampling component): no stage reads span
            // facts at ingest, so none are read; the sampler reads them at its decision.
            Stats::add(&self.stats.spans_processed, traces.span_count() as u64);
            EditList::new()
        };
        Stats::add(&self.stats.batches_processed, 1);
        let Some(sampler) = &self.sampler else {
            Stats::add(&self.stats.edits_emitted, edits.len() as u64);
            return Ok(edits.finish(Disposition::Forward));
        };
        // Nothing to change: the sampler holds each span as the bytes it arrived as.
        if edits.is_empty() {
            sampler.ingest_read(&traces, now_unix_nano);
            return Ok(EditList::new().finish(Disposition::Held));
        }
        // Our own edits must be in what is held: the batch is decoded, edited, and each span
        // encoded again. When prost refuses the bytes (a string that is not UTF-8, nesting
        // past its limit) the edits go on a lossy copy (counted) instead.
        let mut td = decode_traces(batch).unwrap_or_else(|_| {
            Stats::add(&self.stats.batches_copied_lossily, 1);
            to_owned_lossy(&traces)
        });
        // The sampler keeps an owned copy: apply our own edits to it, then hold it.
        if !edits.is_empty() {
            let (_, list) = edits::decode(&edits.finish(Disposition::Forward))
                .expect("an edit list we just encoded decodes");
            // A copy our edits cannot be applied to must not be held unredacted.
            if !edits::apply(&mut td, &list) {
                return Err(EngineError::Decode(
                    "the held copy cannot take this batch's edits".into(),
                ));
            }
        }
        sampler.ingest(td, now_unix_nano);
        Ok(EditList::new().finish(Disposition::Held))
    }

    /// Whether any stage reads or edits spans as a batch passes: cost, metrics, redaction,
    /// or writing the latest attribute names.
    fn reads_spans(&self) -> bool {
        self.cost.is_some()
            || self.metrics.is_some()
            || self.redactor.is_some()
            || self.config.normalize.write_latest_names
    }

    /// One pass over the read batch: facts per span, then cost, metrics and redaction.
    ///
    /// With both metrics and redaction (the fused wiring: one engine for the `genai` processor
    /// and the `genai_metrics` connector), a metric label carries only what a connector after
    /// the processor could have read: redaction runs before calls are recorded, a span it
    /// drops is not counted, and a call whose facts or dimensions read an attribute (or its
    /// span or scope name) that redaction changed is counted from the redacted span instead
    /// (see [`Engine::record_redacted`]).
    fn process_read(
        &self,
        batch: &[u8],
        traces: &TracesRef<'_>,
        now: u64,
    ) -> Result<EditList, EngineError> {
        let mut edits = EditList::new();
        self.maybe_reload_prices(now);
        let book = self.cost.as_ref().map(|c| c.book().snapshot());
        // Dimensions are read from config once; the aggregator lock is taken per call only, so
        // concurrent batches do not serialise on enrichment.
        let dimensions = match &self.metrics {
            Some(m) => Some(
                m.lock()
                    .map_err(|_| EngineError::Poisoned)?
                    .config()
                    .dimensions
                    .clone(),
            ),
            None => None,
        };
        let (mut spans, mut genai) = (0u64, 0u64);
        // Inference spans are judged together (exactly-once), then written and counted.
        let mut calls: Vec<InferenceSpan<'_, '_>> = Vec::new();
        for rs in traces.resource_spans() {
            let resource_attrs = rs.resource_attributes();
            let resource = ResourceFacts::read(resource_attrs.iter().copied(), &self.facts);
            let service: Cow<'_, str> = match &resource.service {
                Some(s) => s.clone(),
                None => Cow::Borrowed("unknown_service"),
            };
            for ss in rs.scope_spans() {
                let scope = ScopeInput {
                    name: ss.scope_name(),
                    version: ss.scope_version(),
                };
                for span in ss.spans() {
                    spans += 1;
                    // Read once: cost and metrics below use these facts only.
                    let f = span_facts(&span, scope, &resource, &self.facts);
                    if !f.is_genai() {
                        continue;
                    }
                    genai += 1;
                    let (rs_i, ss_i, sp_i) = span.position();
                    let at = Target::Span {
                        rs: rs_i,
                        ss: ss_i,
                        span: sp_i,
                    };
                    // The cost stage prices inference spans; it writes after the judgement.
                    let assessed = match (&self.cost, &book) {
                        (Some(c), Some(b)) => c.assess(b, &f),
                        _ => None,
                    };
                    if assessed.is_none()
                        && self.config.normalize.write_latest_names
                        && f.present & canon::PROVIDER == 0
                    {
                        if let Some(p) = f.provider {
                            edits.set_str(at, "gen_ai.provider.name", p);
                        }
                    }
                    if !f.is_inference() {
                        continue;
                    }
                    calls.push(InferenceSpan {
                        at,
                        service: service.clone(),
                        span_attrs: span.attributes(),
                        resource_attrs,
                        span_id: span.span_id(),
                        trace_id: span.trace_id(),
                        is_root: span.parent_span_id().is_empty(),
                        facts: f,
                        assessed,
                    });
                }
            }
        }
        let verdicts = self.judge(&calls, now);
        // Redaction first, into its own list: labels must be read from what it leaves. Its
        // edits still follow the cost edits in what Go receives.
        let redacted = match &self.redactor {
            Some(r) => {
                // Changed rule files are re-read at most once per interval; a bad one keeps
                // the last good rules and shows in the status (stats_json).
                if let Some(rules) = r.secret_rules() {
                    let _ = rules.reload_if_due(now);
                }
                let mut counts = RedactionCounts::default();
                let mut list = EditList::new();
                r.redact_batch(traces, &mut list, &mut counts);
                if let Ok(mut total) = self.redaction_counts.lock() {
                    total.merge(&counts);
                }
                Some(list)
            }
            None => None,
        };
        let mut statuses = [0u64; STATUSES];
        let (mut duplicates, mut no_usage) = (0u64, 0u64);
        for (c, verdict) in calls.iter().zip(&verdicts) {
            let duplicate = *verdict == Verdict::Duplicate;
            if let (Some(stage), Some(a)) = (&self.cost, &c.assessed) {
                if duplicate {
                    stage.write_duplicate(&c.facts, a, c.at, &mut edits);
                } else {
                    stage.write_assessed(&c.facts, a, c.at, &mut edits);
                }
                let status = if duplicate {
                    CostStatus::Duplicate
                } else {
                    a.summary.status
                };
                statuses[status as usize] += 1;
            }
            if duplicate {
                duplicates += 1;
            }
        }
        if let (Some(m), Some(dims)) = (&self.metrics, &dimensions) {
            let touched = match &redacted {
                Some(list) if !list.is_empty() => {
                    Touched::new(list, dims, &self.facts, &calls, &verdicts)
                }
                _ => Touched::default(),
            };
            let mut extra_dims = Vec::new();
            let mut slow = Vec::new();
            for (i, (c, verdict)) in calls.iter().zip(&verdicts).enumerate() {
                if *verdict == Verdict::Duplicate || touched.dropped(c.at) {
                    continue;
                }
                if touched.changed(c.at) {
                    slow.push(i);
                    continue;
                }
                span::extra_dimensions(
                    dims,
                    c.span_attrs.iter().copied(),
                    c.resource_attrs.iter().copied(),
                    &mut extra_dims,
                );
                let record = span::call_record(
                    &c.service,
                    &c.facts,
                    c.assessed.as_ref().map(|a| &a.summary),
                    &extra_dims,
                );
                no_usage += u64::from(!self.record(m, &record, now)?);
            }
            if !slow.is_empty() {
                let list = redacted.as_ref().expect("only redaction changes a call");
                no_usage +=
                    self.record_redacted(m, dims, batch, traces, &edits, list, &calls, &slow, now)?;
            }
        }
        if let Some(list) = redacted {
            edits.append(list);
        }
        Stats::add(&self.stats.spans_processed, spans);
        Stats::add(&self.stats.genai_spans, genai);
        Stats::add(&self.stats.genai_inference_spans, calls.len() as u64);
        Stats::add(&self.stats.duplicate_calls, duplicates);
        Stats::add(&self.stats.uncounted_without_usage, no_usage);
        let st = &self.stats;
        for (counter, status) in [
            (&st.cost_priced, CostStatus::Priced),
            (&st.cost_unpriced, CostStatus::Unpriced),
            (&st.cost_no_usage, CostStatus::NoUsage),
            (&st.cost_provider_reported, CostStatus::ProviderReported),
            (&st.cost_estimated, CostStatus::Estimated),
        ] {
            Stats::add(counter, statuses[status as usize]);
        }
        Ok(edits)
    }

    /// Records one call; `false` (nothing recorded) for a span without usage that did not
    /// fail: it is a log line or a wrapper (logfire's streamed-call span), and the call is
    /// counted where its usage is.
    fn record(
        &self,
        m: &Mutex<Aggregator>,
        record: &crate::metrics::CallRecord<'_>,
        now: u64,
    ) -> Result<bool, EngineError> {
        if record.input_tokens.is_none()
            && record.output_tokens.is_none()
            && record.error_type.is_none()
        {
            return Ok(false);
        }
        m.lock()
            .map_err(|_| EngineError::Poisoned)?
            .record(record, now);
        Ok(true)
    }

    /// Records the calls (`slow`, indexes into `calls`) whose metric inputs redaction changed,
    /// from the batch as a connector after this engine's processor would read it: every edit
    /// (ours and redaction's, drops aside so positions hold) applied to an owned copy, which
    /// is encoded and read again. Facts, the service and the dimensions then come from the
    /// redacted span, and the cost from what the cost stage wrote on it, exactly as in the
    /// separate wiring. Rare: only calls with a secret in a label or a facts key pay for it.
    /// Returns how many were not counted for want of usage.
    #[allow(clippy::too_many_arguments)]
    fn record_redacted(
        &self,
        m: &Mutex<Aggregator>,
        dims: &[crate::config::DimensionConfig],
        batch: &[u8],
        traces: &TracesRef<'_>,
        ours: &EditList,
        redaction: &EditList,
        calls: &[InferenceSpan<'_, '_>],
        slow: &[usize],
        now: u64,
    ) -> Result<u64, EngineError> {
        let mut td = decode_traces(batch).unwrap_or_else(|_| to_owned_lossy(traces));
        let mut ops = ours.ops();
        ops.extend(
            redaction
                .ops()
                .into_iter()
                .filter(|(_, op)| *op != edits::Op::DropSpan),
        );
        if !edits::apply(&mut td, &ops) {
            // Our own edits address the batch they were made for; if that ever fails, count
            // nothing from these calls rather than a label redaction did not see.
            Stats::add(&self.stats.batches_copied_lossily, 1);
            return Ok(0);
        }
        let bytes = td.encode_to_vec();
        let again = read_traces(&bytes).map_err(|e| EngineError::Decode(e.to_string()))?;
        let mut wanted: Vec<((u32, u32, u32), usize)> =
            slow.iter().map(|&i| (position(calls[i].at), i)).collect();
        wanted.sort_unstable();
        let mut no_usage = 0;
        let mut extra_dims = Vec::new();
        for rs in again.resource_spans() {
            let resource_attrs = rs.resource_attributes();
            let resource = ResourceFacts::read(resource_attrs.iter().copied(), &self.facts);
            let service = resource.service_name();
            for ss in rs.scope_spans() {
                let scope = ScopeInput {
                    name: ss.scope_name(),
                    version: ss.scope_version(),
                };
                for sp in ss.spans() {
                    let Ok(k) = wanted.binary_search_by(|w| w.0.cmp(&sp.position())) else {
                        continue;
                    };
                    let f = span_facts(&sp, scope, &resource, &self.facts);
                    // Redaction can make a span unrecognisable (a model name masked away, a
                    // usage key removed): the connector would not have counted it either.
                    if !f.is_inference() {
                        continue;
                    }
                    span::extra_dimensions(
                        dims,
                        sp.attributes().iter().copied(),
                        resource_attrs.iter().copied(),
                        &mut extra_dims,
                    );
                    let assessed = calls[wanted[k].1].assessed.as_ref();
                    let record =
                        span::call_record(service, &f, assessed.map(|a| &a.summary), &extra_dims);
                    no_usage += u64::from(!self.record(m, &record, now)?);
                }
            }
        }
        Ok(no_usage)
    }

    /// Exactly-once: which inference spans report a call already counted. A span an
    /// upstream Tollbooth judged keeps that judgement; spans without usage are never
    /// duplicates (nothing of theirs is counted anyway).
    fn judge(&self, calls: &[InferenceSpan<'_, '_>], now: u64) -> Vec<Verdict> {
        let mut verdicts = vec![Verdict::First; calls.len()];
        let mut fresh: Vec<(usize, CallIdentity<'_>)> = Vec::new();
        for (i, c) in calls.iter().enumerate() {
            match c.facts.upstream.status {
                Some(UpstreamStatus::Duplicate) => {
                    verdicts[i] = Verdict::Duplicate;
                    continue;
                }
                Some(_) => continue,
                None => {}
            }
            if self.dedupe.is_some() {
                if let Some(id) = identity(c) {
                    fresh.push((i, id));
                }
            }
        }
        if let (Some(d), false) = (&self.dedupe, fresh.is_empty()) {
            let ids: Vec<CallIdentity<'_>> = fresh.iter().map(|(_, id)| id.clone()).collect();
            for ((i, _), v) in fresh.iter().zip(d.judge(&ids, now)) {
                verdicts[*i] = v;
            }
        }
        verdicts
    }

    /// Re-reads changed pricing files at most once per configured interval, on the calling
    /// thread; a bad file keeps the last good table and is counted.
    fn maybe_reload_prices(&self, now: u64) {
        let Some(cost) = &self.cost else { return };
        let interval = cost.config().pricing.reload_interval_seconds;
        if interval == 0 {
            return;
        }
        let last = self.last_reload_check.load(Ordering::Relaxed);
        if now.saturating_sub(last) < interval.saturating_mul(1_000_000_000)
            || self
                .last_reload_check
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        match cost.reload_if_changed() {
            Ok(true) => Stats::add(&self.stats.pricing_reloads, 1),
            Ok(false) => {}
            Err(_) => Stats::add(&self.stats.pricing_reload_errors, 1),
        }
    }

    /// Returns traces that stateful stages have finished holding, as OTLP bytes (empty when
    /// none). `flush_all` decides everything still held (shutdown).
    pub fn release(&self, now_unix_nano: u64, flush_all: bool) -> Result<Vec<u8>, EngineError> {
        Ok(match &self.sampler {
            Some(s) => s.release_bytes(now_unix_nano, flush_all),
            None => Vec::new(),
        })
    }

    /// Returns the aggregated metrics as OTLP `MetricsData` bytes (empty when nothing to send).
    /// A sampling engine returns instead the cost of each run decided since the last call
    /// (src/sampling/trace_cost.rs), for its component's histogram.
    pub fn collect_metrics(&self, now_unix_nano: u64) -> Result<Vec<u8>, EngineError> {
        let Some(m) = &self.metrics else {
            let Some(s) = &self.sampler else {
                return Ok(Vec::new());
            };
            let runs = s.take_run_costs();
            if runs.is_empty() {
                return Ok(Vec::new());
            }
            return Ok(
                crate::sampling::trace_cost::runs_to_metrics(runs, now_unix_nano).encode_to_vec(),
            );
        };
        // Only the copy is taken under the lock; encoding happens after it is released.
        let snapshot = m
            .lock()
            .map_err(|_| EngineError::Poisoned)?
            .snapshot(now_unix_nano);
        let md = snapshot.into_metrics();
        if md.resource_metrics.is_empty() {
            return Ok(Vec::new());
        }
        Ok(md.encode_to_vec())
    }

    /// The engine's counters.
    pub fn stats(&self) -> Snapshot {
        self.stats.snapshot()
    }

    /// The pricing lookup cache's size as (entries, bytes), when this engine prices.
    pub fn pricing_cache_usage(&self) -> Option<(u64, u64)> {
        self.cost
            .as_ref()
            .map(|c| c.book().snapshot().cache_usage())
    }

    /// The exactly-once window's size and evictions, when this engine deduplicates.
    pub fn dedupe_stats(&self) -> Option<WindowStats> {
        self.dedupe.as_ref().map(Deduper::stats)
    }

    /// Redaction tallies since start, when this engine redacts (`None` after a panic poisoned
    /// them).
    pub fn redaction_totals(&self) -> Option<RedactionCounts> {
        self.redactor.as_ref()?;
        self.redaction_counts.lock().ok().map(|c| c.clone())
    }

    /// Secret-rule file reloads and failed reloads, when secret rules are configured.
    pub fn secret_rule_reloads(&self) -> Option<(u64, u64)> {
        self.redactor
            .as_ref()
            .and_then(|r| r.secret_rules())
            .map(|r| r.reload_counts())
    }

    /// The tail sampler's telemetry, when this engine samples.
    pub fn sampling_stats(&self) -> Option<SamplingSnapshot> {
        self.sampler.as_ref().map(Sampler::stats)
    }

    /// Everything the engine reports, as one JSON object: counters and gauges at the top
    /// level, the sampler's under `"sampling"`, redaction tallies under `"redaction"`, and
    /// what only text can say (the last pricing reload error, the secret rules' status).
    /// The collector reads the fixed-size counters through `src/ffi/stats.rs` instead; this
    /// is the rare, descriptive call.
    pub fn stats_json(&self, panics_caught: u64) -> Vec<u8> {
        let mut snapshot = self.stats();
        snapshot.panics_caught = panics_caught;
        let mut v = serde_json::to_value(snapshot).expect("plain struct serialises");
        if let (Some(c), Some((entries, bytes))) = (&self.cost, self.pricing_cache_usage()) {
            let g = PricingGauges {
                pricing_cache_entries: entries,
                pricing_cache_bytes: bytes,
                pricing_last_reload_error: c.book().last_reload_error(),
            };
            if let (Some(o), serde_json::Value::Object(g)) = (
                v.as_object_mut(),
                serde_json::to_value(g).expect("plain struct serialises"),
            ) {
                o.extend(g);
            }
        }
        if let (Some(d), Some(o)) = (self.dedupe_stats(), v.as_object_mut()) {
            if let serde_json::Value::Object(w) =
                serde_json::to_value(d).expect("plain struct serialises")
            {
                o.extend(w);
            }
        }
        if let Some(s) = self.sampling_stats() {
            v["sampling"] = serde_json::to_value(s).expect("plain struct serialises");
        }
        if let Some(counts) = self.redaction_totals() {
            let pairs: serde_json::Map<String, serde_json::Value> = counts
                .pairs()
                .into_iter()
                .map(|(k, n)| (k, n.into()))
                .collect();
            v["redaction"] = pairs.into();
        }
        v["rust_heap_bytes"] = (crate::heap::allocated_bytes() as u64).into();
        if let Some(rules) = self.redactor.as_ref().and_then(|r| r.secret_rules()) {
            v["secret_rules"] =
                serde_json::to_value(rules.status()).expect("plain struct serialises");
        }
        serde_json::to_vec(&v).expect("a JSON value serialises")
    }
}

/// Number of [`CostStatus`] values (a per-batch tally is indexed by the enum).
const STATUSES: usize = 6;

/// One inference span of the batch, between reading and writing.
struct InferenceSpan<'t, 'a> {
    at: Target,
    service: Cow<'a, str>,
    span_attrs: &'t [KeyValueRef<'a>],
    resource_attrs: &'t [KeyValueRef<'a>],
    span_id: &'a [u8],
    trace_id: &'a [u8],
    is_root: bool,
    facts: SpanFacts<'a>,
    /// What the cost stage made of it (when this engine prices).
    assessed: Option<Assessed>,
}

/// A span's facts, read once from its name, attributes, scope, status and times.
fn span_facts<'a>(
    span: &SpanRef<'_, 'a>,
    scope: ScopeInput<'a>,
    resource: &ResourceFacts<'a>,
    cfg: &FactsConfig,
) -> SpanFacts<'a> {
    SpanFacts::read(
        SpanInput {
            name: span.name(),
            attributes: span.attributes().iter().copied(),
            scope,
            status_code: span.status().code,
            start_unix_nano: span.start_time_unix_nano(),
            end_unix_nano: span.end_time_unix_nano(),
        },
        resource,
        cfg,
    )
}

/// What redaction did to the inference spans a batch's metrics would count: which it
/// dropped, and which had a metric input changed (an attribute the facts or the configured
/// dimensions read, the span or scope name, or such a resource attribute).
#[derive(Default)]
struct Touched {
    /// Span positions, sorted.
    dropped: Vec<(u32, u32, u32)>,
    changed: Vec<(u32, u32, u32)>,
}

/// A span target's position (resource, scope, span); other targets are never asked for.
fn position(at: Target) -> (u32, u32, u32) {
    match at {
        Target::Span { rs, ss, span } => (rs, ss, span),
        _ => (u32::MAX, u32::MAX, u32::MAX),
    }
}

impl Touched {
    fn new(
        redaction: &EditList,
        dims: &[crate::config::DimensionConfig],
        facts: &FactsConfig,
        calls: &[InferenceSpan<'_, '_>],
        verdicts: &[Verdict],
    ) -> Touched {
        let mut t = Touched::default();
        if calls.is_empty() || verdicts.iter().all(|v| *v == Verdict::Duplicate) {
            return t;
        }
        let read =
            |key: &[u8]| facts.reads_key(key) || dims.iter().any(|d| d.name.as_bytes() == key);
        let mut resources: Vec<u32> = Vec::new();
        let mut scopes: Vec<(u32, u32)> = Vec::new();
        redaction.for_each_head(|h| match (h.kind, h.target) {
            (HeadKind::DropSpan, at) => t.dropped.push(position(at)),
            (HeadKind::SpanName, at) => t.changed.push(position(at)),
            (HeadKind::ScopeName, Target::Scope { rs, ss }) => scopes.push((rs, ss)),
            (HeadKind::Keyed, at @ Target::Span { .. }) if h.key.is_some_and(read) => {
                t.changed.push(position(at))
            }
            (HeadKind::Keyed, Target::Resource { rs }) if h.key.is_some_and(read) => {
                resources.push(rs)
            }
            _ => {}
        });
        for c in calls {
            let Target::Span { rs, ss, .. } = c.at else {
                continue;
            };
            if resources.contains(&rs) || scopes.contains(&(rs, ss)) {
                t.changed.push(position(c.at));
            }
        }
        t.dropped.sort_unstable();
        t.changed.sort_unstable();
        t.changed.dedup();
        t
    }

    fn dropped(&self, at: Target) -> bool {
        self.dropped.binary_search(&position(at)).is_ok()
    }

    fn changed(&self, at: Target) -> bool {
        self.changed.binary_search(&position(at)).is_ok()
    }
}

/// The call's identity for exactly-once accounting; `None` without usage.
fn identity<'c>(c: &'c InferenceSpan<'_, '_>) -> Option<CallIdentity<'c>> {
    let f = &c.facts;
    let u = f.usage()?;
    let response_id = f.response_id.as_deref();
    let has_duration = f.end_unix_nano > f.start_unix_nano;
    Some(CallIdentity {
        service: &c.service,
        provider: f.provider_name(),
        model: f.model(),
        response_id,
        input_tokens: u.input.unwrap_or(0),
        output_tokens: u.output.unwrap_or(0),
        detail: detail_score(
            response_id.is_some(),
            u.cache_read,
            u.cache_write,
            u.cache_write_1h,
            u.reasoning,
            has_duration,
        ),
        start_ns: f.start_unix_nano,
        end_ns: f.end_unix_nano,
        span_id: c.span_id,
        trace_id: c.trace_id,
        is_root: c.is_root,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::edits::{decode, Op};
    use crate::otlp::{find_str, kv_str};
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, TracesData};

    pub(crate) fn batch(spans: Vec<Span>) -> Vec<u8> {
        TracesData {
            resource_spans: vec![ResourceSpans {
                resource: Some(Resource {
                    attributes: vec![kv_str("service.name", "svc")],
                    ..Default::default()
                }),
                scope_spans: vec![ScopeSpans {
                    spans,
                    ..Default::default()
                }],
                schema_url: String::new(),
            }],
        }
        .encode_to_vec()
    }

    fn span(name: &str, attrs: Vec<opentelemetry_proto::tonic::common::v1::KeyValue>) -> Span {
        Span {
            name: name.into(),
            attributes: attrs,
            ..Default::default()
        }
    }

    #[test]
    fn writes_latest_provider_name_only_when_missing() {
        let engine = Engine::new(EngineConfig::default(), 0).unwrap();
        let out = engine
            .process(
                &batch(vec![
                    span("GET /", vec![kv_str("http.method", "GET")]),
                    span("chat", vec![kv_str("gen_ai.system", "az.ai.openai")]),
                    span("chat", vec![kv_str("gen_ai.provider.name", "openai")]),
                ]),
                0,
            )
            .unwrap();
        let (d, edits) = decode(&out).unwrap();
        assert_eq!(d, Disposition::Forward);
        assert_eq!(
            edits,
            vec![(
                Target::Span {
                    rs: 0,
                    ss: 0,
                    span: 1
                },
                Op::SetStr("gen_ai.provider.name".into(), "azure.ai.openai".into())
            )]
        );
        let s = engine.stats();
        assert_eq!(
            (s.spans_processed, s.genai_spans, s.batches_processed),
            (3, 2, 1)
        );
    }

    #[test]
    fn undecodable_batch_is_an_error_and_counted() {
        let engine = Engine::new(EngineConfig::default(), 0).unwrap();
        assert!(matches!(
            engine.process(&[0xff, 0xff, 0xff], 0),
            Err(EngineError::Decode(_))
        ));
        assert_eq!(engine.stats().batches_undecodable, 1);
    }

    #[test]
    fn metrics_read_usage_timing_errors_and_extra_dimensions() {
        use crate::otlp::kv_int;
        use opentelemetry_proto::tonic::metrics::v1::{metric, number_data_point, MetricsData};
        let cfg = EngineConfig::from_json(
            br#"{"metrics": {"dimensions": [{"name": "tenant.id", "default": "none"}]}}"#,
        )
        .unwrap();
        let engine = Engine::new(cfg, 0).unwrap();
        let mut ok = span(
            "chat gpt-4o",
            vec![
                kv_str("gen_ai.provider.name", "openai"),
                kv_str("gen_ai.operation.name", "chat"),
                kv_str("gen_ai.request.model", "gpt-4o"),
                kv_int("gen_ai.usage.input_tokens", 120),
                kv_int("gen_ai.usage.output_tokens", 30),
                kv_str("tenant.id", "acme"),
            ],
        );
        ok.start_time_unix_nano = 1_000_000_000;
        ok.end_time_unix_nano = 1_250_000_000;
        let mut failed = ok.clone();
        failed.attributes.push(kv_str("error.type", "timeout"));
        // Another call (later): the same usage at the same time would be one call reported twice.
        failed.start_time_unix_nano += 10_000_000_000;
        failed.end_time_unix_nano += 10_000_000_000;
        failed.attributes.retain(|kv| kv.key != "tenant.id");
        let agent = span(
            "invoke_agent",
            vec![
                kv_str("gen_ai.operation.name", "invoke_agent"),
                kv_int("gen_ai.usage.input_tokens", 150),
            ],
        );
        engine.process(&batch(vec![ok, failed, agent]), 5).unwrap();
        let md = MetricsData::decode(engine.collect_metrics(6).unwrap().as_slice()).unwrap();
        let metrics = &md.resource_metrics[0].scope_metrics[0].metrics;
        let get = |name: &str| metrics.iter().find(|m| m.name == name).unwrap();
        let Some(metric::Data::Sum(tokens)) = &get(crate::metrics::TOKENS).data else {
            panic!()
        };
        let input: i64 = tokens
            .data_points
            .iter()
            .filter(|p| p.attributes.contains(&kv_str("gen_ai.token.type", "input")))
            .map(|p| match p.value {
                Some(number_data_point::Value::AsInt(v)) => v,
                _ => 0,
            })
            .sum();
        assert_eq!(input, 240, "agent spans are not calls");
        let Some(metric::Data::Histogram(d)) = &get(crate::metrics::OPERATION_DURATION).data else {
            panic!()
        };
        assert_eq!(d.data_points.iter().map(|p| p.count).sum::<u64>(), 2);
        assert_eq!(d.data_points[0].sum, Some(0.25));
        let Some(metric::Data::Sum(errors)) = &get(crate::metrics::ERRORS).data else {
            panic!()
        };
        assert_eq!(errors.data_points.len(), 1);
        let attrs = &errors.data_points[0].attributes;
        assert!(attrs.contains(&kv_str("error.type", "timeout")));
        assert!(
            attrs.contains(&kv_str("tenant.id", "none")),
            "default applies"
        );
    }

    #[test]
    fn metrics_only_when_configured() {
        let plain = Engine::new(EngineConfig::default(), 0).unwrap();
        let b = batch(vec![span(
            "chat",
            vec![
                kv_str("gen_ai.system", "openai"),
                crate::otlp::kv_int("gen_ai.usage.input_tokens", 5),
            ],
        )]);
        plain.process(&b, 0).unwrap();
        assert!(plain.collect_metrics(1).unwrap().is_empty());
        let cfg = EngineConfig::from_json(br#"{"metrics": {}}"#).unwrap();
        let counting = Engine::new(cfg, 0).unwrap();
        counting.process(&b, 0).unwrap();
        let md = opentelemetry_proto::tonic::metrics::v1::MetricsData::decode(
            counting.collect_metrics(1).unwrap().as_slice(),
        )
        .unwrap();
        assert!(md.resource_metrics[0].scope_metrics[0]
            .metrics
            .iter()
            .any(|m| m.name == crate::metrics::REQUESTS));
    }

    #[test]
    fn sampling_engine_holds_batches_and_releases_kept_traces() {
        let cfg = EngineConfig::from_json(
            br#"{"sampling": {"decision_wait": "1s", "policies": [
                {"name": "all", "type": "always_sample"}]}}"#,
        )
        .unwrap();
        let engine = Engine::new(cfg, 0).unwrap();
        let mut s = span("chat", vec![kv_str("gen_ai.system", "openai")]);
        s.trace_id = vec![7; 16];
        s.span_id = vec![1; 8];
        let out = engine.process(&batch(vec![s]), 0).unwrap();
        let (d, edits) = decode(&out).unwrap();
        assert_eq!(d, Disposition::Held);
        assert!(edits.is_empty());
        assert!(
            engine.release(500_000_000, false).unwrap().is_empty(),
            "not yet due"
        );
        let released =
            TracesData::decode(engine.release(2_000_000_000, false).unwrap().as_slice()).unwrap();
        let span = &released.resource_spans[0].scope_spans[0].spans[0];
        // The engine's own enrichment was applied to the held copy.
        assert_eq!(
            crate::otlp::find_str(&span.attributes, "gen_ai.provider.name"),
            Some("openai")
        );
        let stats: serde_json::Value = serde_json::from_slice(&engine.stats_json(0)).unwrap();
        assert_eq!(stats["sampling"]["spans_received"], 1, "{stats}");
    }

    #[test]
    fn bad_sampling_config_is_an_error_naming_the_type() {
        let cfg = EngineConfig::from_json(
            br#"{"sampling": {"policies": [{"name": "x", "type": "ottl_condition"}]}}"#,
        )
        .unwrap();
        let err = Engine::new(cfg, 0).err().unwrap();
        assert!(err.contains("ottl_condition"), "{err}");
    }

    fn chat_span(model: &str, input: i64, output: i64) -> Span {
        span(
            "chat",
            vec![
                kv_str("gen_ai.system", "openai"),
                kv_str("gen_ai.operation.name", "chat"),
                kv_str("gen_ai.request.model", model),
                crate::otlp::kv_int("gen_ai.usage.input_tokens", input),
                crate::otlp::kv_int("gen_ai.usage.output_tokens", output),
                kv_str("gen_ai.prompt.0.content", "mail me at jane.doe@example.com"),
            ],
        )
    }

    fn applied(engine: &Engine, spans: Vec<Span>) -> TracesData {
        let b = batch(spans);
        let (_, list) = decode(&engine.process(&b, 1).unwrap()).unwrap();
        let mut td = TracesData::decode(b.as_slice()).unwrap();
        assert!(edits::apply(&mut td, &list));
        td
    }

    #[test]
    fn cost_and_redaction_stages_edit_the_span_and_feed_metrics() {
        let cfg = EngineConfig::from_json(
            br#"{"cost": {}, "redaction": {"allow_all_keys": true, "detectors": ["email"]},
                 "metrics": {}}"#,
        )
        .unwrap();
        let engine = Engine::new(cfg, 0).unwrap();
        let td = applied(
            &engine,
            vec![
                chat_span("gpt-4o", 1000, 100),
                chat_span("no-such-model-x", 10, 10),
            ],
        );
        let spans = &td.resource_spans[0].scope_spans[0].spans;
        let priced = &spans[0].attributes;
        assert_eq!(find_str(priced, "tollbooth.cost.status"), Some("priced"));
        assert_eq!(find_str(priced, "gen_ai.provider.name"), Some("openai"));
        let cost = match crate::otlp::find(priced, "gen_ai.usage.cost") {
            Some(opentelemetry_proto::tonic::common::v1::any_value::Value::DoubleValue(d)) => *d,
            other => panic!("no cost: {other:?}"),
        };
        assert!(cost > 0.0);
        let prompt = find_str(priced, "gen_ai.prompt.0.content").unwrap();
        assert!(!prompt.contains("jane.doe@example.com"), "{prompt}");
        let unpriced = &spans[1].attributes;
        assert_eq!(
            find_str(unpriced, "tollbooth.cost.status"),
            Some("unpriced")
        );
        assert!(
            crate::otlp::find(unpriced, "gen_ai.usage.cost").is_none(),
            "never $0"
        );
        let s = engine.stats();
        assert_eq!((s.cost_priced, s.cost_unpriced), (1, 1));
        let stats: serde_json::Value = serde_json::from_slice(&engine.stats_json(0)).unwrap();
        assert_eq!(stats["redaction"]["detected.email"], 2, "{stats}");
        // The pricing lookup cache is visible: two distinct models, a few hundred bytes.
        assert_eq!(stats["pricing_cache_entries"], 2, "{stats}");
        let bytes = stats["pricing_cache_bytes"].as_u64().unwrap();
        assert!((128..4096).contains(&bytes), "{stats}");
        assert!(stats.get("pricing_last_reload_error").is_none(), "{stats}");
        let md = opentelemetry_proto::tonic::metrics::v1::MetricsData::decode(
            engine.collect_metrics(2).unwrap().as_slice(),
        )
        .unwrap();
        let names: Vec<&str> = md.resource_metrics[0].scope_metrics[0]
            .metrics
            .iter()
            .map(|m| m.name.as_str())
            .collect();
        assert!(names.contains(&"tollbooth.genai.cost"), "{names:?}");
        assert!(
            names.contains(&"tollbooth.genai.unpriced_requests"),
            "{names:?}"
        );
    }

    #[test]
    fn secret_rules_mask_named_count_and_report_status() {
        let cfg = EngineConfig::from_json(
            br#"{"redaction": {"allow_all_keys": true, "secret_rules": {}}}"#,
        )
        .unwrap();
        let engine = Engine::new(cfg, 0).unwrap();
        let token = format!("ghp_{}", "aB3dE5fG7hJ9kL1mN2pQ4rS6tU8vW0xYz1A2");
        let td = applied(
            &engine,
            vec![span(
                "chat",
                vec![kv_str(
                    "gen_ai.prompt.0.content",
                    &format!("use {token} please"),
                )],
            )],
        );
        let attrs = &td.resource_spans[0].scope_spans[0].spans[0].attributes;
        assert_eq!(
            find_str(attrs, "gen_ai.prompt.0.content"),
            Some("use <REDACTED:github-pat> please")
        );
        let stats: serde_json::Value = serde_json::from_slice(&engine.stats_json(0)).unwrap();
        assert_eq!(stats["redaction"]["detected.github-pat"], 1, "{stats}");
        let rules = &stats["secret_rules"];
        assert!(rules["rules"].as_u64().unwrap() > 200, "{rules}");
        assert!(rules["skipped"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["id"] == "pkcs12-file"));
        assert!(rules["bundled_source"]
            .as_str()
            .unwrap()
            .contains("gitleaks"));
    }

    fn requests_metric(engine: &Engine) -> i64 {
        metric_sum(&collected(engine), crate::metrics::REQUESTS) as i64
    }

    fn collected(engine: &Engine) -> opentelemetry_proto::tonic::metrics::v1::MetricsData {
        let b = engine.collect_metrics(9).unwrap();
        opentelemetry_proto::tonic::metrics::v1::MetricsData::decode(b.as_slice()).unwrap()
    }

    /// The sum of a sum metric's points (0 when the metric is absent).
    fn metric_sum(md: &opentelemetry_proto::tonic::metrics::v1::MetricsData, name: &str) -> f64 {
        use opentelemetry_proto::tonic::metrics::v1::{metric, number_data_point};
        let Some(m) = md
            .resource_metrics
            .iter()
            .flat_map(|r| &r.scope_metrics)
            .flat_map(|s| &s.metrics)
            .find(|m| m.name == name)
        else {
            return 0.0;
        };
        let Some(metric::Data::Sum(sum)) = &m.data else {
            panic!("{name} is a sum")
        };
        sum.data_points
            .iter()
            .map(|p| match p.value {
                Some(number_data_point::Value::AsInt(v)) => v as f64,
                Some(number_data_point::Value::AsDouble(v)) => v,
                None => 0.0,
            })
            .sum()
    }

    fn timed(mut s: Span, id: u8, start_ms: u64, end_ms: u64) -> Span {
        s.span_id = vec![id; 8];
        s.trace_id = vec![id; 16];
        s.start_time_unix_nano = 1_790_000_000_000_000_000 + start_ms * 1_000_000;
        s.end_time_unix_nano = 1_790_000_000_000_000_000 + end_ms * 1_000_000;
        s
    }

    fn status_of(td: &TracesData, i: usize) -> Option<String> {
        let spans: Vec<&Span> = td
            .resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .flat_map(|s| &s.spans)
            .collect();
        find_str(&spans[i].attributes, "tollbooth.cost.status").map(str::to_string)
    }

    /// Two spans of one call, in different batches and traces (OpenInference LangChain over
    /// OpenAI): the first is priced and counted, the second kept as a duplicate without cost.
    #[test]
    fn a_call_reported_twice_is_priced_and_counted_once() {
        let cfg = EngineConfig::from_json(br#"{"cost": {}, "metrics": {}}"#).unwrap();
        let engine = Engine::new(cfg, 0).unwrap();
        let mut inner = chat_span("gpt-4o", 1000, 100);
        inner
            .attributes
            .push(kv_str("gen_ai.response.model", "gpt-4o-2024-08-06"));
        let first = applied(&engine, vec![timed(inner, 1, 20, 900)]);
        assert_eq!(status_of(&first, 0).as_deref(), Some("priced"));
        let mut outer = chat_span("gpt-4o", 1000, 100);
        outer
            .attributes
            .push(crate::otlp::kv_str("gen_ai.usage.cost", "0"));
        let second = applied(&engine, vec![timed(outer, 2, 0, 950)]);
        assert_eq!(status_of(&second, 0).as_deref(), Some("duplicate"));
        let attrs = &second.resource_spans[0].scope_spans[0].spans[0].attributes;
        assert!(
            crate::otlp::find(attrs, "gen_ai.usage.cost").is_none(),
            "{attrs:?}"
        );
        assert!(crate::otlp::find(attrs, "tollbooth.cost.reported").is_some());
        assert_eq!(requests_metric(&engine), 1);
        let s = engine.stats();
        assert_eq!((s.cost_priced, s.duplicate_calls), (1, 1));
        let stats: serde_json::Value = serde_json::from_slice(&engine.stats_json(0)).unwrap();
        assert_eq!(stats["dedupe_window_entries"], 1, "{stats}");
        assert!(stats["dedupe_window_bytes"].as_u64().unwrap() > 0);
        // A later, separate call with the same usage is a call of its own.
        let later = applied(
            &engine,
            vec![timed(chat_span("gpt-4o", 1000, 100), 3, 60_000, 61_000)],
        );
        assert_eq!(status_of(&later, 0).as_deref(), Some("priced"));
        assert_eq!(requests_metric(&engine), 2);
    }

    /// In one batch the span with more usage detail is the call, whatever the order.
    #[test]
    fn within_a_batch_the_richer_span_is_the_call() {
        for flip in [false, true] {
            let cfg = EngineConfig::from_json(br#"{"cost": {}}"#).unwrap();
            let engine = Engine::new(cfg, 0).unwrap();
            let plain = timed(chat_span("gpt-4o", 1000, 100), 1, 0, 1000);
            let mut rich = timed(chat_span("gpt-4o", 1000, 100), 2, 10, 990);
            rich.attributes.push(crate::otlp::kv_int(
                "gen_ai.usage.cache_read.input_tokens",
                800,
            ));
            rich.attributes
                .push(kv_str("gen_ai.response.id", "chatcmpl-1"));
            let spans = if flip {
                vec![rich, plain]
            } else {
                vec![plain, rich]
            };
            let td = applied(&engine, spans);
            let (rich_i, plain_i) = if flip { (0, 1) } else { (1, 0) };
            assert_eq!(status_of(&td, rich_i).as_deref(), Some("priced"));
            assert_eq!(status_of(&td, plain_i).as_deref(), Some("duplicate"));
        }
    }

    /// The connector's engine follows the processor's judgement, and a span without usage
    /// (a log line, a wrapper) is not a request unless it failed.
    #[test]
    fn metrics_follow_upstream_duplicates_and_skip_spans_without_usage() {
        let pricing = Engine::new(EngineConfig::from_json(br#"{"cost": {}}"#).unwrap(), 0).unwrap();
        let a = timed(chat_span("gpt-4o", 1000, 100), 1, 0, 1000);
        let b = timed(chat_span("gpt-4o", 1000, 100), 2, 5, 995);
        let enriched = applied(&pricing, vec![a, b]);
        let counting =
            Engine::new(EngineConfig::from_json(br#"{"metrics": {}}"#).unwrap(), 0).unwrap();
        counting.process(&enriched.encode_to_vec(), 1).unwrap();
        let wrapper = span(
            "Chat Completion with 'gpt-4o'",
            vec![
                kv_str("gen_ai.system", "openai"),
                kv_str("gen_ai.operation.name", "chat"),
                kv_str("gen_ai.request.model", "gpt-4o"),
            ],
        );
        let mut failed = wrapper.clone();
        failed
            .attributes
            .push(kv_str("error.type", "RateLimitError"));
        counting.process(&batch(vec![wrapper, failed]), 2).unwrap();
        assert_eq!(
            requests_metric(&counting),
            2,
            "one call, one failed request"
        );
        let s = counting.stats();
        assert_eq!((s.duplicate_calls, s.uncounted_without_usage), (1, 1));
    }

    #[test]
    fn dedupe_can_be_turned_off_and_its_config_is_checked() {
        let cfg =
            EngineConfig::from_json(br#"{"cost": {}, "dedupe": {"enabled": false}}"#).unwrap();
        let engine = Engine::new(cfg, 0).unwrap();
        let td = applied(
            &engine,
            vec![
                timed(chat_span("gpt-4o", 1000, 100), 1, 0, 1000),
                timed(chat_span("gpt-4o", 1000, 100), 2, 0, 1000),
            ],
        );
        assert_eq!(status_of(&td, 1).as_deref(), Some("priced"));
        let cfg =
            EngineConfig::from_json(br#"{"cost": {}, "dedupe": {"max_entries": 0}}"#).unwrap();
        let err = Engine::new(cfg, 0).err().unwrap();
        assert!(err.contains("dedupe.max_entries"), "{err}");
    }

    /// 1-hour cache writes are a subset of the cache writes: counted once in the token metric.
    #[test]
    fn one_hour_cache_writes_are_counted_once() {
        let cfg = EngineConfig::from_json(br#"{"cost": {}, "metrics": {}}"#).unwrap();
        let engine = Engine::new(cfg, 0).unwrap();
        let int = crate::otlp::kv_int;
        let call = span(
            "anthropic.messages.create",
            vec![
                kv_str("gen_ai.provider.name", "anthropic"),
                kv_str("gen_ai.operation.name", "chat"),
                kv_str("gen_ai.response.model", "claude-haiku-4-5-20251001"),
                int("gen_ai.usage.input_tokens", 2278),
                int("gen_ai.usage.cache_creation.input_tokens", 2048),
                int(
                    "anthropic.usage.cache_creation.ephemeral_1h_input_tokens",
                    2048,
                ),
                int("gen_ai.usage.output_tokens", 96),
            ],
        );
        let td = applied(&engine, vec![call]);
        let attrs = &td.resource_spans[0].scope_spans[0].spans[0].attributes;
        assert_eq!(find_str(attrs, "tollbooth.cost.status"), Some("priced"));
        let md = opentelemetry_proto::tonic::metrics::v1::MetricsData::decode(
            engine.collect_metrics(2).unwrap().as_slice(),
        )
        .unwrap();
        let tokens = md.resource_metrics[0].scope_metrics[0]
            .metrics
            .iter()
            .find(|m| m.name == "tollbooth.genai.tokens")
            .expect("tokens metric");
        let Some(opentelemetry_proto::tonic::metrics::v1::metric::Data::Sum(sum)) = &tokens.data
        else {
            panic!("tokens is a sum")
        };
        let cache_write: Vec<_> = sum
            .data_points
            .iter()
            .filter(|p| find_str(&p.attributes, "gen_ai.token.type") == Some("cache_write"))
            .map(|p| p.value)
            .collect();
        use opentelemetry_proto::tonic::metrics::v1::number_data_point::Value;
        assert!(
            matches!(
                cache_write.as_slice(),
                [Some(Value::AsInt(2048))] | [Some(Value::AsDouble(2048.0))]
            ),
            "{cache_write:?}"
        );
    }

    /// A provider's bill accounted upstream (`provider_reported`) is what the metrics count,
    /// whether the engine downstream only counts (the connector) or also prices (a second
    /// tier's processor and connector on one engine): our price written beside it is not.
    #[test]
    fn metrics_count_the_provider_bill_accounted_upstream() {
        use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
        let pricing = Engine::new(EngineConfig::from_json(br#"{"cost": {}}"#).unwrap(), 0).unwrap();
        let mut billed = chat_span("gpt-4o", 1000, 100);
        billed.attributes.push(KeyValue {
            key: "gen_ai.usage.total_cost".into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::DoubleValue(0.5)),
            }),
        });
        let enriched = applied(&pricing, vec![billed]);
        let a = &enriched.resource_spans[0].scope_spans[0].spans[0].attributes;
        assert_eq!(
            find_str(a, "tollbooth.cost.status"),
            Some("provider_reported")
        );
        assert_eq!(find_str(a, "tollbooth.cost.source"), Some("provider"));
        let ours = match crate::otlp::find(a, "tollbooth.cost.total") {
            Some(any_value::Value::DoubleValue(d)) => *d,
            other => panic!("our price is written beside the bill: {other:?}"),
        };
        assert!(ours > 0.0 && ours != 0.5, "{ours}");
        for cfg in [
            &br#"{"metrics": {}}"#[..],
            br#"{"cost": {}, "metrics": {}}"#,
        ] {
            let counting = Engine::new(EngineConfig::from_json(cfg).unwrap(), 0).unwrap();
            counting.process(&enriched.encode_to_vec(), 1).unwrap();
            let md = collected(&counting);
            let what = String::from_utf8_lossy(cfg);
            assert_eq!(metric_sum(&md, crate::metrics::COST), 0.5, "{what}");
            assert_eq!(metric_sum(&md, crate::metrics::REQUESTS), 1.0, "{what}");
        }
    }

    /// The connector's engine has no pricing: it counts the cost the processor wrote.
    #[test]
    fn metrics_read_the_cost_written_upstream() {
        let priced = Engine::new(EngineConfig::from_json(br#"{"cost": {}}"#).unwrap(), 0).unwrap();
        let enriched = applied(&priced, vec![chat_span("gpt-4o", 1000, 100)]);
        let counting =
            Engine::new(EngineConfig::from_json(br#"{"metrics": {}}"#).unwrap(), 0).unwrap();
        counting.process(&enriched.encode_to_vec(), 1).unwrap();
        let md = opentelemetry_proto::tonic::metrics::v1::MetricsData::decode(
            counting.collect_metrics(2).unwrap().as_slice(),
        )
        .unwrap();
        let cost = md.resource_metrics[0].scope_metrics[0]
            .metrics
            .iter()
            .find(|m| m.name == "tollbooth.genai.cost")
            .expect("cost metric");
        let Some(opentelemetry_proto::tonic::metrics::v1::metric::Data::Sum(sum)) = &cost.data
        else {
            panic!("cost is a sum")
        };
        let want = match crate::otlp::find(
            &enriched.resource_spans[0].scope_spans[0].spans[0].attributes,
            "gen_ai.usage.cost",
        ) {
            Some(opentelemetry_proto::tonic::common::v1::any_value::Value::DoubleValue(d)) => *d,
            _ => panic!("no cost"),
        };
        match sum.data_points[0].value {
            Some(opentelemetry_proto::tonic::metrics::v1::number_data_point::Value::AsDouble(
                v,
            )) => {
                assert_eq!(v, want)
            }
            other => panic!("{other:?}"),
        }
    }
}
