//! The sampler's own telemetry, named after contrib's self-metrics where one exists so
//! dashboards translate (see collector-contrib-anchors.md §1.9).
//!
//! Counters are relaxed atomics (tallies, never synchronisation). Gauges are kept exact by
//! updating them under the shard lock that changes what they measure.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

use super::decision::Decision;

fn add(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Ordering::Relaxed);
}

fn sub(c: &AtomicU64, n: u64) {
    c.fetch_sub(n, Ordering::Relaxed);
}

fn get(c: &AtomicU64) -> u64 {
    c.load(Ordering::Relaxed)
}

/// count / sum / max of one measure.
#[derive(Debug, Default)]
pub struct Summary {
    count: AtomicU64,
    sum: AtomicU64,
    max: AtomicU64,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SummarySnapshot {
    pub count: u64,
    pub sum: u64,
    pub max: u64,
}

impl Summary {
    pub fn record(&self, v: u64) {
        add(&self.count, 1);
        add(&self.sum, v);
        self.max.fetch_max(v, Ordering::Relaxed);
    }

    fn snapshot(&self) -> SummarySnapshot {
        SummarySnapshot {
            count: get(&self.count),
            sum: get(&self.sum),
            max: get(&self.max),
        }
    }
}

/// Per-policy tallies of each policy's own answer (contrib `count_traces_sampled` /
/// `count_spans_sampled` by `policy` and `decision`).
#[derive(Debug, Default)]
pub struct PolicyCounters {
    pub name: String,
    pub traces_sampled: AtomicU64,
    pub traces_not_sampled: AtomicU64,
    pub traces_dropped: AtomicU64,
    pub traces_invert_sampled: AtomicU64,
    pub traces_invert_not_sampled: AtomicU64,
    pub spans_sampled: AtomicU64,
    pub spans_not_sampled: AtomicU64,
    pub spans_dropped: AtomicU64,
    /// Traces whose final Sampled decision this policy made (the first policy that sampled,
    /// as contrib's `tailsampling.policy` attribute names it).
    pub traces_kept: AtomicU64,
    pub spans_kept: AtomicU64,
}

impl PolicyCounters {
    fn counts(&self) -> PolicyCounts {
        PolicyCounts {
            traces_sampled: get(&self.traces_sampled),
            traces_not_sampled: get(&self.traces_not_sampled),
            traces_dropped: get(&self.traces_dropped),
            traces_invert_sampled: get(&self.traces_invert_sampled),
            traces_invert_not_sampled: get(&self.traces_invert_not_sampled),
            spans_sampled: get(&self.spans_sampled),
            spans_not_sampled: get(&self.spans_not_sampled),
            spans_dropped: get(&self.spans_dropped),
            traces_kept: get(&self.traces_kept),
            spans_kept: get(&self.spans_kept),
        }
    }

    pub fn record(&self, d: Decision, spans: u64) {
        let (t, s) = match d {
            Decision::Sampled => (&self.traces_sampled, &self.spans_sampled),
            Decision::InvertSampled => (&self.traces_invert_sampled, &self.spans_sampled),
            Decision::NotSampled => (&self.traces_not_sampled, &self.spans_not_sampled),
            Decision::InvertNotSampled => {
                (&self.traces_invert_not_sampled, &self.spans_not_sampled)
            }
            Decision::Dropped => (&self.traces_dropped, &self.spans_dropped),
        };
        add(t, 1);
        add(s, spans);
    }
}

/// One policy's tallies at a point in time. `#[repr(C)]` because the C ABI hands these to
/// the collector as they are (src/ffi/stats.rs, exported as `TollboothPolicyStats`).
#[repr(C)]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PolicyCounts {
    pub traces_sampled: u64,
    pub traces_not_sampled: u64,
    pub traces_dropped: u64,
    pub traces_invert_sampled: u64,
    pub traces_invert_not_sampled: u64,
    pub spans_sampled: u64,
    pub spans_not_sampled: u64,
    pub spans_dropped: u64,
    pub traces_kept: u64,
    pub spans_kept: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicySnapshot {
    pub name: String,
    #[serde(flatten)]
    pub counts: PolicyCounts,
}

/// Live telemetry.
#[derive(Debug, Default)]
pub struct Telemetry {
    pub batches_ingested: AtomicU64,
    pub spans_received: AtomicU64,
    /// New trace IDs buffered (contrib `new_trace_id_received`).
    pub traces_received: AtomicU64,
    pub traces_buffered: AtomicU64,
    pub spans_buffered: AtomicU64,
    pub bytes_buffered: AtomicU64,
    pub traces_sampled: AtomicU64,
    pub traces_not_sampled: AtomicU64,
    pub traces_dropped: AtomicU64,
    pub spans_sampled: AtomicU64,
    pub spans_not_sampled: AtomicU64,
    pub spans_dropped: AtomicU64,
    /// Decided before `decision_wait` because num_traces or the byte budget was reached
    /// (contrib's `dropped_too_early`, except that here the trace is decided, not lost).
    pub early_decisions_budget: AtomicU64,
    /// Decided early because the root span had arrived.
    pub early_decisions_root: AtomicU64,
    /// Decided early because the trace passed `maximum_trace_size_bytes`.
    pub early_decisions_oversize: AtomicU64,
    /// Late spans that followed a cached or in-flight decision: kept / discarded.
    pub late_spans_sampled: AtomicU64,
    pub late_spans_dropped: AtomicU64,
    pub shutdown_dropped_traces: AtomicU64,
    pub shutdown_dropped_spans: AtomicU64,
    /// Late spans kept and waiting for the next release, and their estimated bytes.
    pub spans_pending_release: AtomicU64,
    pub bytes_pending_release: AtomicU64,
    pub spans_released: AtomicU64,
    pub release_calls: AtomicU64,
    /// Decided traces with at least one model call (each one's cost is recorded per run).
    pub runs_with_llm_calls: AtomicU64,
    /// Runs with a call we could not price: no cost per run recorded (never a partial sum).
    pub runs_cost_incomplete: AtomicU64,
    /// Kept runs whose root span had not arrived at the decision: no totals written.
    pub runs_root_missing: AtomicU64,
    /// Run costs not recorded because the queue between two collections was full.
    pub run_costs_dropped: AtomicU64,
    /// First span to decision, injected clock, ms (contrib `sampling_trace_removal_age`).
    pub decision_age_ms: Summary,
    /// Wall time spent evaluating policies for one trace, ns (contrib `sampling_decision_latency`).
    pub decision_eval_ns: Summary,
    /// Wall time of one release call, ns (contrib `sampling_decision_timer_latency`).
    pub release_ns: Summary,
    pub policies: Vec<PolicyCounters>,
}

/// A point-in-time copy for the integrator to serialise (JSON via serde).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SamplingSnapshot {
    pub batches_ingested: u64,
    pub spans_received: u64,
    pub traces_received: u64,
    pub traces_buffered: u64,
    pub spans_buffered: u64,
    pub bytes_buffered: u64,
    pub traces_sampled: u64,
    pub traces_not_sampled: u64,
    pub traces_dropped: u64,
    pub spans_sampled: u64,
    pub spans_not_sampled: u64,
    pub spans_dropped: u64,
    pub early_decisions_budget: u64,
    pub early_decisions_root: u64,
    pub early_decisions_oversize: u64,
    pub late_spans_sampled: u64,
    pub late_spans_dropped: u64,
    pub shutdown_dropped_traces: u64,
    pub shutdown_dropped_spans: u64,
    pub spans_pending_release: u64,
    pub bytes_pending_release: u64,
    pub spans_released: u64,
    pub release_calls: u64,
    pub runs_with_llm_calls: u64,
    pub runs_cost_incomplete: u64,
    pub runs_root_missing: u64,
    pub run_costs_dropped: u64,
    pub decision_age_ms: SummarySnapshot,
    pub decision_eval_ns: SummarySnapshot,
    pub release_ns: SummarySnapshot,
    /// Trace IDs held by the decision caches (gauge).
    pub decision_cache_entries: u64,
    /// Estimated Rust heap held by the sampler: buffered and pending spans plus the caches.
    /// Go's memory_limiter cannot see this memory, so export it as a gauge.
    pub memory_bytes: u64,
    pub policies: Vec<PolicySnapshot>,
}

impl SamplingSnapshot {
    /// Spans discarded by an explicit decision (policy, late-span cache, shutdown drop).
    pub fn spans_discarded(&self) -> u64 {
        self.spans_not_sampled
            + self.spans_dropped
            + self.late_spans_dropped
            + self.shutdown_dropped_spans
    }

    /// Invariant 1: every span received is released, discarded by decision, or still held.
    pub fn conserved(&self) -> bool {
        self.spans_received
            == self.spans_released
                + self.spans_discarded()
                + self.spans_buffered
                + self.spans_pending_release
    }
}

impl Telemetry {
    pub fn new(policy_names: Vec<String>) -> Self {
        Telemetry {
            policies: policy_names
                .into_iter()
                .map(|name| PolicyCounters {
                    name,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    pub fn add(c: &AtomicU64, n: u64) {
        add(c, n)
    }

    pub fn sub(c: &AtomicU64, n: u64) {
        sub(c, n)
    }

    pub fn snapshot(&self) -> SamplingSnapshot {
        SamplingSnapshot {
            batches_ingested: get(&self.batches_ingested),
            spans_received: get(&self.spans_received),
            traces_received: get(&self.traces_received),
            traces_buffered: get(&self.traces_buffered),
            spans_buffered: get(&self.spans_buffered),
            bytes_buffered: get(&self.bytes_buffered),
            traces_sampled: get(&self.traces_sampled),
            traces_not_sampled: get(&self.traces_not_sampled),
            traces_dropped: get(&self.traces_dropped),
            spans_sampled: get(&self.spans_sampled),
            spans_not_sampled: get(&self.spans_not_sampled),
            spans_dropped: get(&self.spans_dropped),
            early_decisions_budget: get(&self.early_decisions_budget),
            early_decisions_root: get(&self.early_decisions_root),
            early_decisions_oversize: get(&self.early_decisions_oversize),
            late_spans_sampled: get(&self.late_spans_sampled),
            late_spans_dropped: get(&self.late_spans_dropped),
            shutdown_dropped_traces: get(&self.shutdown_dropped_traces),
            shutdown_dropped_spans: get(&self.shutdown_dropped_spans),
            spans_pending_release: get(&self.spans_pending_release),
            bytes_pending_release: get(&self.bytes_pending_release),
            spans_released: get(&self.spans_released),
            release_calls: get(&self.release_calls),
            runs_with_llm_calls: get(&self.runs_with_llm_calls),
            runs_cost_incomplete: get(&self.runs_cost_incomplete),
            runs_root_missing: get(&self.runs_root_missing),
            run_costs_dropped: get(&self.run_costs_dropped),
            decision_age_ms: self.decision_age_ms.snapshot(),
            decision_eval_ns: self.decision_eval_ns.snapshot(),
            release_ns: self.release_ns.snapshot(),
            decision_cache_entries: 0,
            memory_bytes: get(&self.bytes_buffered) + get(&self.bytes_pending_release),
            policies: self
                .policies
                .iter()
                .map(|p| PolicySnapshot {
                    name: p.name.clone(),
                    counts: p.counts(),
                })
                .collect(),
        }
    }
}
