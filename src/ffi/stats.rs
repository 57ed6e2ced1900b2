//! The engine's counters and gauges as fixed-layout structs the caller owns.
//!
//! The collector reads them when it collects its own telemetry (every few seconds), so the
//! call must be cheap and must not allocate on the caller's side: every value is a `u64` at
//! a fixed offset, written into memory the caller passes in. What cannot have a fixed
//! layout stays in the JSON of `tollbooth_engine_stats`, read rarely: names of tail-sampling
//! policies (fixed at start, read once), counts per secret-rule id (rule files reload at run
//! time, so the set of ids changes under the reader), and text (the last reload error, the
//! secret rules' status). Built-in detectors are a fixed list, so their counts are an array
//! indexed by detector number, named by [`tollbooth_detector_name`].

use std::ffi::{c_char, CString};
use std::panic::catch_unwind;
use std::sync::OnceLock;

use serde::Serialize;

use super::{boundary, engine_ref, TollboothBuf, TollboothEngine, TollboothStatus};
use crate::engine::Engine;
use crate::redact::counts::RedactionCounts;
use crate::redact::detectors;
use crate::sampling::{PolicyCounts, SamplingSnapshot};
use crate::stats::Snapshot;

/// Number of built-in redaction detectors, the length of
/// [`TollboothStats::redaction_detected`]. Written into the header by cbindgen.toml; a test
/// checks both agree.
pub const TOLLBOOTH_DETECTORS: usize = 22;

const _: () = assert!(TOLLBOOTH_DETECTORS == detectors::COUNT);

/// Engine counters (monotonic since the engine started) and gauges (values now). Zero for
/// stages the engine does not run. The caller sets `struct_size` to the size of this struct
/// as it was compiled; a library with another layout refuses the call.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TollboothStats {
    /// `sizeof(TollboothStats)` as the caller knows it (input).
    pub struct_size: u64,
    pub batches_processed: u64,
    pub batches_undecodable: u64,
    pub batches_copied_lossily: u64,
    pub spans_processed: u64,
    pub genai_spans: u64,
    pub genai_inference_spans: u64,
    pub edits_emitted: u64,
    /// Panics caught at the boundary, process-wide.
    pub panics_caught: u64,
    pub cost_priced: u64,
    pub cost_unpriced: u64,
    pub cost_no_usage: u64,
    pub cost_provider_reported: u64,
    pub cost_estimated: u64,
    pub duplicate_calls: u64,
    pub uncounted_without_usage: u64,
    pub pricing_reloads: u64,
    pub pricing_reload_errors: u64,
    /// Gauges of the exactly-once window, and its evictions (a counter).
    pub dedupe_window_entries: u64,
    pub dedupe_window_bytes: u64,
    pub dedupe_window_evictions: u64,
    /// Gauges of the pricing lookup cache.
    pub pricing_cache_entries: u64,
    pub pricing_cache_bytes: u64,
    /// Gauge: bytes Rust holds allocated in this process, all engines together.
    pub rust_heap_bytes: u64,
    /// Secret-rule file reloads and failed reloads (the reason is in the JSON stats).
    pub secret_rules_reloads: u64,
    pub secret_rules_reload_errors: u64,
    /// Redaction tallies (src/redact/counts.rs).
    pub redaction_spans_seen: u64,
    pub redaction_spans_dropped: u64,
    pub redaction_keys_redacted: u64,
    pub redaction_values_masked: u64,
    pub redaction_values_allowed: u64,
    pub redaction_keys_ignored: u64,
    pub redaction_content_dropped: u64,
    pub redaction_content_hashed: u64,
    pub redaction_values_truncated: u64,
    pub redaction_status_messages_masked: u64,
    pub redaction_names_masked: u64,
    pub redaction_sensitive_values_masked: u64,
    pub redaction_numbers_masked: u64,
    pub redaction_nested_masked: u64,
    /// Matches replaced per built-in detector, indexed by detector number.
    pub redaction_detected: [u64; TOLLBOOTH_DETECTORS],
    /// Tail sampler telemetry (src/sampling/telemetry.rs); the buffered and pending values,
    /// the cache entries and the memory are gauges.
    pub sampling_batches_ingested: u64,
    pub sampling_spans_received: u64,
    pub sampling_traces_received: u64,
    pub sampling_traces_buffered: u64,
    pub sampling_spans_buffered: u64,
    pub sampling_bytes_buffered: u64,
    pub sampling_traces_sampled: u64,
    pub sampling_traces_not_sampled: u64,
    pub sampling_traces_dropped: u64,
    pub sampling_spans_sampled: u64,
    pub sampling_spans_not_sampled: u64,
    pub sampling_spans_dropped: u64,
    pub sampling_early_decisions_budget: u64,
    pub sampling_early_decisions_root: u64,
    pub sampling_early_decisions_oversize: u64,
    pub sampling_late_spans_sampled: u64,
    pub sampling_late_spans_dropped: u64,
    pub sampling_shutdown_dropped_traces: u64,
    pub sampling_shutdown_dropped_spans: u64,
    pub sampling_spans_pending_release: u64,
    pub sampling_bytes_pending_release: u64,
    pub sampling_spans_released: u64,
    pub sampling_release_calls: u64,
    pub sampling_runs_with_llm_calls: u64,
    pub sampling_runs_cost_incomplete: u64,
    pub sampling_runs_root_missing: u64,
    pub sampling_run_costs_dropped: u64,
    pub sampling_decision_age_ms_count: u64,
    pub sampling_decision_age_ms_sum: u64,
    pub sampling_decision_age_ms_max: u64,
    pub sampling_decision_eval_ns_count: u64,
    pub sampling_decision_eval_ns_sum: u64,
    pub sampling_decision_eval_ns_max: u64,
    pub sampling_release_ns_count: u64,
    pub sampling_release_ns_sum: u64,
    pub sampling_release_ns_max: u64,
    pub sampling_decision_cache_entries: u64,
    pub sampling_memory_bytes: u64,
    /// Number of sampling policies: the length [`tollbooth_engine_read_policy_stats`] fills.
    pub sampling_policies: u64,
}

/// One tail-sampling policy's counters, in configuration order (the names are in the JSON
/// stats under `sampling.policies`, fixed for the engine's life). The sampler's own struct,
/// exported under this name (cbindgen.toml renames it).
pub use crate::sampling::PolicyCounts as TollboothPolicyStats;

impl TollboothStats {
    const SIZE: u64 = std::mem::size_of::<TollboothStats>() as u64;

    pub(crate) fn zeroed() -> TollboothStats {
        // SAFETY: every field is an integer or an array of integers; all zero bits is valid.
        unsafe { std::mem::zeroed() }
    }

    fn set_counters(&mut self, s: &Snapshot) {
        self.batches_processed = s.batches_processed;
        self.batches_undecodable = s.batches_undecodable;
        self.batches_copied_lossily = s.batches_copied_lossily;
        self.spans_processed = s.spans_processed;
        self.genai_spans = s.genai_spans;
        self.genai_inference_spans = s.genai_inference_spans;
        self.edits_emitted = s.edits_emitted;
        self.cost_priced = s.cost_priced;
        self.cost_unpriced = s.cost_unpriced;
        self.cost_no_usage = s.cost_no_usage;
        self.cost_provider_reported = s.cost_provider_reported;
        self.cost_estimated = s.cost_estimated;
        self.duplicate_calls = s.duplicate_calls;
        self.uncounted_without_usage = s.uncounted_without_usage;
        self.pricing_reloads = s.pricing_reloads;
        self.pricing_reload_errors = s.pricing_reload_errors;
    }

    fn set_redaction(&mut self, r: &RedactionCounts) {
        self.redaction_spans_seen = r.spans_seen;
        self.redaction_spans_dropped = r.spans_dropped;
        self.redaction_keys_redacted = r.keys_redacted;
        self.redaction_values_masked = r.values_masked;
        self.redaction_values_allowed = r.values_allowed;
        self.redaction_keys_ignored = r.keys_ignored;
        self.redaction_content_dropped = r.content_dropped;
        self.redaction_content_hashed = r.content_hashed;
        self.redaction_values_truncated = r.values_truncated;
        self.redaction_status_messages_masked = r.status_messages_masked;
        self.redaction_names_masked = r.names_masked;
        self.redaction_sensitive_values_masked = r.sensitive_values_masked;
        self.redaction_numbers_masked = r.numbers_masked;
        self.redaction_nested_masked = r.nested_masked;
        self.redaction_detected = *r.detections.builtin();
    }

    fn set_sampling(&mut self, s: &SamplingSnapshot) {
        self.sampling_batches_ingested = s.batches_ingested;
        self.sampling_spans_received = s.spans_received;
        self.sampling_traces_received = s.traces_received;
        self.sampling_traces_buffered = s.traces_buffered;
        self.sampling_spans_buffered = s.spans_buffered;
        self.sampling_bytes_buffered = s.bytes_buffered;
        self.sampling_traces_sampled = s.traces_sampled;
        self.sampling_traces_not_sampled = s.traces_not_sampled;
        self.sampling_traces_dropped = s.traces_dropped;
        self.sampling_spans_sampled = s.spans_sampled;
        self.sampling_spans_not_sampled = s.spans_not_sampled;
        self.sampling_spans_dropped = s.spans_dropped;
        self.sampling_early_decisions_budget = s.early_decisions_budget;
        self.sampling_early_decisions_root = s.early_decisions_root;
        self.sampling_early_decisions_oversize = s.early_decisions_oversize;
        self.sampling_late_spans_sampled = s.late_spans_sampled;
        self.sampling_late_spans_dropped = s.late_spans_dropped;
        self.sampling_shutdown_dropped_traces = s.shutdown_dropped_traces;
        self.sampling_shutdown_dropped_spans = s.shutdown_dropped_spans;
        self.sampling_spans_pending_release = s.spans_pending_release;
        self.sampling_bytes_pending_release = s.bytes_pending_release;
        self.sampling_spans_released = s.spans_released;
        self.sampling_release_calls = s.release_calls;
        self.sampling_runs_with_llm_calls = s.runs_with_llm_calls;
        self.sampling_runs_cost_incomplete = s.runs_cost_incomplete;
        self.sampling_runs_root_missing = s.runs_root_missing;
        self.sampling_run_costs_dropped = s.run_costs_dropped;
        self.sampling_decision_age_ms_count = s.decision_age_ms.count;
        self.sampling_decision_age_ms_sum = s.decision_age_ms.sum;
        self.sampling_decision_age_ms_max = s.decision_age_ms.max;
        self.sampling_decision_eval_ns_count = s.decision_eval_ns.count;
        self.sampling_decision_eval_ns_sum = s.decision_eval_ns.sum;
        self.sampling_decision_eval_ns_max = s.decision_eval_ns.max;
        self.sampling_release_ns_count = s.release_ns.count;
        self.sampling_release_ns_sum = s.release_ns.sum;
        self.sampling_release_ns_max = s.release_ns.max;
        self.sampling_decision_cache_entries = s.decision_cache_entries;
        self.sampling_memory_bytes = s.memory_bytes;
        self.sampling_policies = s.policies.len() as u64;
    }

    /// Everything the engine reports that has a fixed place, read now.
    pub fn read(engine: &Engine, panics_caught: u64) -> TollboothStats {
        let mut out = TollboothStats::zeroed();
        out.struct_size = Self::SIZE;
        out.set_counters(&engine.stats());
        out.panics_caught = panics_caught;
        if let Some(d) = engine.dedupe_stats() {
            out.dedupe_window_entries = d.dedupe_window_entries;
            out.dedupe_window_bytes = d.dedupe_window_bytes;
            out.dedupe_window_evictions = d.dedupe_window_evictions;
        }
        if let Some((entries, bytes)) = engine.pricing_cache_usage() {
            out.pricing_cache_entries = entries;
            out.pricing_cache_bytes = bytes;
        }
        out.rust_heap_bytes = crate::heap::allocated_bytes() as u64;
        if let Some((reloads, errors)) = engine.secret_rule_reloads() {
            out.secret_rules_reloads = reloads;
            out.secret_rules_reload_errors = errors;
        }
        if let Some(r) = engine.redaction_totals() {
            out.set_redaction(&r);
        }
        if let Some(s) = engine.sampling_stats() {
            out.set_sampling(&s);
        }
        out
    }
}

fn size_mismatch(what: &str, got: u64, want: u64) -> (TollboothStatus, String) {
    (
        TollboothStatus::SizeMismatch,
        format!("{what} is {want} bytes in this library, the caller passed {got}: the caller was built against another tollbooth.h"),
    )
}

/// Reads the engine's counters and gauges into `out`.
///
/// - `out`: must not be NULL; caller-owned memory. Set `out->struct_size` to
///   `sizeof(TollboothStats)` before the call: any other value returns
///   [`TollboothStatus::SizeMismatch`] and leaves the rest of `*out` untouched. On success
///   every field is written; nothing is allocated for the caller.
/// - `err_out`: may be NULL. Always written; on failure holds the message.
///
/// # Safety
/// `engine` is NULL or live; `out` is NULL or valid for reads and writes of `struct_size`
/// bytes. Thread-safe: may run concurrently with any call but [`super::tollbooth_engine_free`].
#[no_mangle]
pub unsafe extern "C" fn tollbooth_engine_read_stats(
    engine: *const TollboothEngine,
    out: *mut TollboothStats,
    err_out: *mut TollboothBuf,
) -> TollboothStatus {
    boundary(err_out, || {
        if out.is_null() {
            return Err((TollboothStatus::NullArgument, "out is NULL".to_string()));
        }
        // Only the first field is read before the size is known to match.
        let size = out.cast::<u64>().read_unaligned();
        if size != TollboothStats::SIZE {
            return Err(size_mismatch("TollboothStats", size, TollboothStats::SIZE));
        }
        let engine = engine_ref(engine)?;
        out.write(TollboothStats::read(engine, super::panics_caught()));
        Ok(())
    })
}

/// Reads each tail-sampling policy's counters into `out[0..len]`, in configuration order.
///
/// - `out`: caller-owned array of `len` entries; NULL only when `len` is 0.
/// - `entry_size`: `sizeof(TollboothPolicyStats)` as the caller knows it; any other value
///   returns [`TollboothStatus::SizeMismatch`].
/// - `written_out`: must not be NULL; receives how many entries were written (the policy
///   count, or `len` if that is smaller; 0 when the engine does not sample).
/// - `err_out`: may be NULL. Always written; on failure holds the message.
///
/// # Safety
/// Pointers must satisfy the rules above. Thread-safe, like [`tollbooth_engine_read_stats`].
#[no_mangle]
pub unsafe extern "C" fn tollbooth_engine_read_policy_stats(
    engine: *const TollboothEngine,
    out: *mut PolicyCounts,
    len: usize,
    entry_size: usize,
    written_out: *mut usize,
    err_out: *mut TollboothBuf,
) -> TollboothStatus {
    boundary(err_out, || {
        if written_out.is_null() {
            return Err((
                TollboothStatus::NullArgument,
                "written_out is NULL".to_string(),
            ));
        }
        written_out.write(0);
        let want = std::mem::size_of::<PolicyCounts>();
        if entry_size != want {
            return Err(size_mismatch(
                "TollboothPolicyStats",
                entry_size as u64,
                want as u64,
            ));
        }
        if out.is_null() && len > 0 {
            return Err((
                TollboothStatus::NullArgument,
                format!("out is NULL with length {len}"),
            ));
        }
        let engine = engine_ref(engine)?;
        let Some(s) = engine.sampling_stats() else {
            return Ok(());
        };
        let n = s.policies.len().min(len);
        for (i, p) in s.policies.iter().take(n).enumerate() {
            out.add(i).write(p.counts);
        }
        written_out.write(n);
        Ok(())
    })
}

/// Returns the static, NUL-terminated name of built-in detector `index` (the index into
/// [`TollboothStats::redaction_detected`]), or NULL when `index >= TOLLBOOTH_DETECTORS`.
/// Valid for the life of the process; do not free it. Thread-safe; never fails.
#[no_mangle]
pub extern "C" fn tollbooth_detector_name(index: usize) -> *const c_char {
    static NAMES: OnceLock<Vec<CString>> = OnceLock::new();
    catch_unwind(|| {
        let names = NAMES.get_or_init(|| {
            detectors::names()
                .map(|n| CString::new(n).expect("detector names have no NUL"))
                .collect()
        });
        names.get(index).map_or(std::ptr::null(), |n| n.as_ptr())
    })
    .unwrap_or(std::ptr::null())
}
