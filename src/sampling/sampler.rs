//! The sampler: ingest buffers, release decides. The public face of tail sampling.
//!
//! `ingest` and `release` may run concurrently from different goroutines: ingest holds one
//! shard lock at a time for a short append; `release` (serialised with itself) takes due
//! traces out, evaluates policies with no shard lock held, and returns the kept spans.
//! All time comes from the caller, so the same calls give the same output.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use opentelemetry_proto::tonic::trace::v1::TracesData;

use super::config::SamplingConfig;
use super::decision::{Decision, FinalDecision, Seen};
use super::output;
use super::policy::NamedPolicy;
use super::store::{Limits, Reason, Store, Taken};
use super::stored::{framed_len, Spans, StoredGroup};
use super::telemetry::{SamplingSnapshot, Telemetry};
use super::trace_cost::{annotate_root, root_index, RunCosts, TraceTotals, NO_ROOT};
use super::view::TraceView;
use crate::facts::FactsConfig;
use crate::otlp::TracesRef;
use opentelemetry_proto::tonic::trace::v1::Span;

/// What one `ingest` call did, so the caller can release early when over budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IngestOutcome {
    pub spans: u64,
    /// Buffered traces or bytes are over their limit: call `release` soon.
    pub over_budget: bool,
}

/// Approximate heap per cached trace ID (16-byte key in a hash set, with load-factor slack).
const CACHE_ENTRY_BYTES: u64 = 40;

/// The most encoded bytes one `release_bytes` call returns (the caller calls again until it
/// gets nothing). A release can hold far more than this, e.g. one trace over the whole buffer
/// budget decided early: handed over at once it would need the buffer again as a copy in Go
/// and as Go's decoded form (issue 11: 3.8x the budget). In pieces, what is still to send
/// stays in the held span bytes, and each piece is freed as soon as it is sent. A span larger
/// than this goes alone.
pub const RELEASE_PIECE_BYTES: usize = 4 << 20;

pub struct Sampler {
    store: Store,
    /// Policies, drop policies first; the lock also serialises `release`.
    policies: Mutex<Vec<NamedPolicy>>,
    sample_on_first_match: bool,
    drop_pending_on_shutdown: bool,
    telemetry: Telemetry,
    /// Cost of every decided run with model calls, kept or not, until collected.
    run_costs: Mutex<RunCosts>,
    /// Whether any policy reads span facts, and how to read them.
    needs_facts: bool,
    facts: FactsConfig,
    /// Kept spans decided but not yet handed over by `release_bytes`, oldest first.
    backlog: Mutex<VecDeque<Pending>>,
    /// Heap estimate of `backlog`, part of the memory gauge.
    backlog_bytes: AtomicU64,
}

impl Sampler {
    /// Builds a sampler; every configuration error is reported here, naming the key.
    pub fn new(cfg: SamplingConfig) -> Result<Sampler, String> {
        cfg.validate()?;
        let mut policies = cfg
            .policies
            .iter()
            .map(NamedPolicy::build)
            .collect::<Result<Vec<_>, _>>()?;
        // Contrib: "Dropped decision takes precedence over all others", so drops go first.
        policies.sort_by_key(|p| !p.policy.is_drop());
        let telemetry = Telemetry::new(policies.iter().map(|p| p.name.clone()).collect());
        let limits = Limits {
            wait_ns: cfg.decision_wait,
            wait_after_root_ns: cfg.decision_wait_after_root_received,
            max_trace_bytes: cfg.trace_size_limit(),
            num_traces: cfg.num_traces,
            max_bytes: cfg.max_buffered_bytes,
        };
        let expected = (cfg.expected_new_traces_per_sec as u128 * cfg.decision_wait as u128
            / 1_000_000_000)
            .min(cfg.num_traces as u128) as usize;
        let needs_facts = policies.iter().any(|p| p.policy.needs_facts());
        Ok(Sampler {
            needs_facts,
            facts: FactsConfig::default(),
            store: Store::new(
                cfg.num_shards as usize,
                limits,
                cfg.decision_cache.sampled_cache_size,
                cfg.decision_cache.non_sampled_cache_size,
                expected,
            ),
            policies: Mutex::new(policies),
            sample_on_first_match: cfg.sample_on_first_match,
            drop_pending_on_shutdown: cfg.drop_pending_traces_on_shutdown,
            telemetry,
            run_costs: Mutex::new(RunCosts::default()),
            backlog: Mutex::new(VecDeque::new()),
            backlog_bytes: AtomicU64::new(0),
        })
    }

    /// Parses the JSON configuration and builds the sampler.
    pub fn from_json(bytes: &[u8]) -> Result<Sampler, String> {
        Sampler::new(SamplingConfig::from_json(bytes)?)
    }

    /// Reads span facts as `facts` says (the engine's cost stage keys, token ceiling and
    /// inclusion overrides) instead of the defaults.
    pub fn with_facts_config(mut self, facts: FactsConfig) -> Sampler {
        self.facts = facts;
        self
    }

    /// Takes ownership of a decoded (already enriched) batch and buffers it by trace ID.
    pub fn ingest(&self, td: TracesData, now_unix_nano: u64) -> IngestOutcome {
        let spans = self.store.ingest(td, now_unix_nano, &self.telemetry);
        self.outcome(spans)
    }

    /// Buffers a batch read in place, each span as the bytes it arrived as.
    pub fn ingest_read(&self, td: &TracesRef<'_>, now_unix_nano: u64) -> IngestOutcome {
        let spans = self.store.ingest_read(td, now_unix_nano, &self.telemetry);
        self.outcome(spans)
    }

    fn outcome(&self, spans: u64) -> IngestOutcome {
        IngestOutcome {
            spans,
            over_budget: self.store.over_budget(&self.telemetry),
        }
    }

    /// Decides every trace that is due (all pending traces when `flush_all`, e.g. on
    /// shutdown), decides the oldest early while over budget, and returns the kept spans
    /// grouped by resource and scope.
    pub fn release(&self, now_unix_nano: u64, flush_all: bool) -> TracesData {
        let bytes = output::encode(&self.release_groups(now_unix_nano, flush_all));
        crate::otlp::decode_traces(&bytes).unwrap_or_else(|_| {
            let read = crate::otlp::read_traces(&bytes).expect("bytes we wrote read back");
            crate::otlp::to_owned_lossy(&read)
        })
    }

    /// `release` before the groups are merged by resource and scope.
    fn release_groups(&self, now_unix_nano: u64, flush_all: bool) -> Vec<StoredGroup> {
        let started = Instant::now();
        let mut policies = self.policies.lock().unwrap_or_else(|p| p.into_inner());
        let tel = &self.telemetry;
        Telemetry::add(&tel.release_calls, 1);
        let mut out_groups: Vec<StoredGroup> = Vec::new();
        let mut taken = self
            .store
            .take_due(now_unix_nano, flush_all, tel, &mut out_groups);
        let late_ready: u64 = out_groups.iter().map(|g| g.len() as u64).sum();
        let mut early: Vec<Taken> = Vec::new();
        while self.store.over_budget(tel) {
            match self.store.take_oldest(tel) {
                Some(t) => early.push(t),
                None => break,
            }
        }
        taken.extend(early);
        taken.sort_by_key(|t| (t.data.arrival_ns, t.seq));

        let mut decided = Vec::with_capacity(taken.len());
        let mut kept = 0u64;
        let mut runs = self.run_costs.lock().unwrap_or_else(|p| p.into_inner());
        for mut t in taken {
            match t.reason {
                Reason::Budget => Telemetry::add(&tel.early_decisions_budget, 1),
                Reason::Root => Telemetry::add(&tel.early_decisions_root, 1),
                Reason::Oversize => Telemetry::add(&tel.early_decisions_oversize, 1),
                Reason::Due => {}
            }
            let spans = t.data.span_count;
            // The held bytes read in place, for the policies and the run's totals.
            let Ok(view) = TraceView::of(&t.data) else {
                // The store wrote these bytes from spans it read or encoded, so they read
                // back; were they not, the trace is kept rather than lost unexplained.
                debug_assert!(false, "held spans do not read back");
                decided.push((t.shard, t.data.id, t.seq, FinalDecision::Sampled));
                kept += spans;
                out_groups.extend(t.data.groups);
                continue;
            };
            let decision = if flush_all && self.drop_pending_on_shutdown {
                Telemetry::add(&tel.shutdown_dropped_traces, 1);
                Telemetry::add(&tel.shutdown_dropped_spans, spans);
                FinalDecision::NotSampled
            } else {
                let eval_start = Instant::now();
                let d = self.decide(&mut policies, &view, now_unix_nano);
                tel.decision_eval_ns
                    .record(eval_start.elapsed().as_nanos() as u64);
                tel.decision_age_ms
                    .record(now_unix_nano.saturating_sub(t.data.arrival_ns) / 1_000_000);
                let (traces_c, spans_c) = match d {
                    FinalDecision::Sampled => (&tel.traces_sampled, &tel.spans_sampled),
                    FinalDecision::NotSampled => (&tel.traces_not_sampled, &tel.spans_not_sampled),
                    FinalDecision::Dropped => (&tel.traces_dropped, &tel.spans_dropped),
                };
                Telemetry::add(traces_c, 1);
                Telemetry::add(spans_c, spans);
                d
            };
            decided.push((t.shard, t.data.id, t.seq, decision));
            let root = self.account_run(&view, decision.is_sampled(), &mut runs);
            drop(view);
            if let Some((g, i, span)) = root {
                t.data.replace(g, i, &span);
            }
            if decision.is_sampled() {
                kept += spans;
                out_groups.extend(t.data.groups);
            }
        }
        drop(runs);
        drop(policies);
        let before = out_groups.len();
        self.store.finalize(&decided, tel, &mut out_groups);
        let late_inflight: u64 = out_groups[before..].iter().map(|g| g.len() as u64).sum();
        Telemetry::add(&tel.spans_released, kept + late_ready + late_inflight);
        tel.release_ns.record(started.elapsed().as_nanos() as u64);
        out_groups
    }

    /// The next piece of what `release` keeps, as OTLP `TracesData` bytes of at most
    /// [`RELEASE_PIECE_BYTES`] spans (one larger span goes alone); empty when nothing is left.
    /// Deciding happens only when the previous release has been handed over completely, so
    /// the caller calls until it gets nothing, at shutdown too, and loses nothing.
    pub fn release_bytes(&self, now_unix_nano: u64, flush_all: bool) -> Vec<u8> {
        let mut backlog = self.backlog.lock().unwrap_or_else(|p| p.into_inner());
        if backlog.is_empty() {
            let groups = self.release_groups(now_unix_nano, flush_all);
            let bytes: u64 = groups.iter().map(StoredGroup::cost).sum();
            self.backlog_bytes.store(bytes, Ordering::Relaxed);
            backlog.extend(groups.into_iter().map(Pending::new));
        }
        let piece = take_piece(&mut backlog, RELEASE_PIECE_BYTES);
        let freed: u64 = piece.iter().map(StoredGroup::cost).sum();
        let left = self
            .backlog_bytes
            .load(Ordering::Relaxed)
            .saturating_sub(freed);
        self.backlog_bytes
            .store(if backlog.is_empty() { 0 } else { left }, Ordering::Relaxed);
        drop(backlog);
        if piece.is_empty() {
            Vec::new()
        } else {
            output::encode(&piece)
        }
    }

    /// The run's totals (src/sampling/trace_cost.rs): queued for the histogram of cost per
    /// trace whatever the decision, and written on the root span of a kept trace. Returns
    /// where that root is (group, index) with the root as it goes out: the one span decoded
    /// and encoded again.
    fn account_run(
        &self,
        t: &TraceView<'_>,
        kept: bool,
        runs: &mut RunCosts,
    ) -> Option<(usize, usize, Span)> {
        let totals = TraceTotals::of(t.spans().map(|s| s.attributes()));
        if totals.llm_calls == 0 {
            return None;
        }
        Telemetry::add(&self.telemetry.runs_with_llm_calls, 1);
        let root = root_index(
            t.spans()
                .map(|s| (s.parent_span_id(), s.start_time_unix_nano())),
        )
        .and_then(|i| t.spans().nth(i));
        let service = |g: &StoredGroup| {
            crate::otlp::find_str(g.resource.attributes(), "service.name")
                .unwrap_or("unknown_service")
                .to_string()
        };
        let (svc, root_name) = match &root {
            Some(s) => (
                service(t.group_of(s)),
                String::from_utf8_lossy(s.name()).into_owned(),
            ),
            None => (
                t.groups().first().map(service).unwrap_or_default(),
                NO_ROOT.to_string(),
            ),
        };
        match totals.complete_cost() {
            Some(c) => {
                let before = runs.dropped;
                runs.push(&svc, &root_name, c.to_f64());
                Telemetry::add(&self.telemetry.run_costs_dropped, runs.dropped - before);
            }
            None => Telemetry::add(&self.telemetry.runs_cost_incomplete, 1),
        }
        if !kept {
            return None;
        }
        match root {
            Some(s) => {
                let mut span = crate::otlp::owned::decode_span_lossy(s.raw()).unwrap_or_default();
                annotate_root(&mut span, &totals);
                let (_, g, i) = s.position();
                Some((g as usize, i as usize, span))
            }
            None => {
                Telemetry::add(&self.telemetry.runs_root_missing, 1);
                None
            }
        }
    }

    /// Costs of the runs decided since the last call, oldest first (see `trace_cost`).
    pub fn take_run_costs(&self) -> Vec<super::trace_cost::RunCost> {
        self.run_costs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }

    /// True when the buffer is over `num_traces` or `max_buffered_bytes`.
    pub fn over_budget(&self) -> bool {
        self.store.over_budget(&self.telemetry)
    }

    /// The sampler's telemetry.
    pub fn stats(&self) -> SamplingSnapshot {
        let mut s = self.telemetry.snapshot();
        s.decision_cache_entries = self.store.cache_entries();
        s.memory_bytes += s.decision_cache_entries * CACHE_ENTRY_BYTES
            + self.backlog_bytes.load(Ordering::Relaxed);
        s
    }

    fn decide(&self, policies: &mut [NamedPolicy], t: &TraceView<'_>, now: u64) -> FinalDecision {
        let mut seen = Seen::default();
        let spans = t.span_count;
        let (mut first_sampled, mut first_invert_sampled) = (None, None);
        // Facts are read once per trace, for all policies, and only when one needs them.
        let facts = if self.needs_facts {
            t.facts(&self.facts)
        } else {
            Vec::new()
        };
        for (i, p) in policies.iter_mut().enumerate() {
            let d = p.policy.evaluate(t, &facts, now);
            self.telemetry.policies[i].record(d, spans);
            seen.record(d);
            match d {
                Decision::Sampled => {
                    first_sampled.get_or_insert(i);
                }
                Decision::InvertSampled => {
                    first_invert_sampled.get_or_insert(i);
                }
                _ => {}
            }
            if d == Decision::Dropped || (self.sample_on_first_match && d == Decision::Sampled) {
                break;
            }
        }
        let decision = seen.fold();
        if decision.is_sampled() {
            if let Some(i) = first_sampled.or(first_invert_sampled) {
                Telemetry::add(&self.telemetry.policies[i].traces_kept, 1);
                Telemetry::add(&self.telemetry.policies[i].spans_kept, spans);
            }
        }
        decision
    }
}

/// Kept spans of one group still to be handed over, from `offset` (in framed bytes) on: a
/// 500,000-span group is cut into pieces by copying each piece out, never by moving the rest.
pub(crate) struct Pending {
    group: StoredGroup,
    offset: usize,
    taken: usize,
}

impl Pending {
    fn new(group: StoredGroup) -> Pending {
        Pending {
            group,
            offset: 0,
            taken: 0,
        }
    }
}

/// Takes spans from the front of `backlog` while their encoded size stays within `limit`,
/// splitting a group at the boundary (its resource and scope go with both parts). Always
/// takes at least one span when there is one.
fn take_piece(backlog: &mut VecDeque<Pending>, limit: usize) -> Vec<StoredGroup> {
    let mut piece = Vec::new();
    let mut size = 0usize;
    while let Some(front) = backlog.front_mut() {
        let rest = &front.group.framed()[front.offset..];
        let (mut n, mut bytes) = (0usize, 0usize);
        for s in Spans::of(rest) {
            // The span's bytes plus 6 for its key and length and its share of the envelope
            // the processor repeats in each call it cuts a piece into: a piece of 4 MiB then
            // splits into two whole calls at the default `release.max_bytes` of 2 MiB, not
            // two and a sliver.
            let len = s.len() + 6;
            if size + len > limit && size > 0 {
                break;
            }
            size += len;
            bytes += framed_len(s);
            n += 1;
        }
        let all = front.taken + n == front.group.len();
        if all && front.offset == 0 {
            let whole = backlog.pop_front().expect("front exists");
            piece.push(whole.group);
            continue;
        }
        if n > 0 {
            let g = &front.group;
            let framed = rest[..bytes].to_vec();
            piece.push(StoredGroup::from_framed(&g.resource, &g.scope, framed, n));
            front.offset += bytes;
            front.taken += n;
        }
        if !all {
            break;
        }
        backlog.pop_front();
    }
    piece
}
