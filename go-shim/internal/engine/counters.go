package engine

// Counters mirrors TollboothStats in include/tollbooth.h field for field (the `c` tags name
// the C fields; TestCountersMatchTheHeader checks order and names). The engine writes it in
// place, so reading it costs one cgo call and no allocation: the components read it when the
// collector collects its telemetry. Counters are monotonic since the engine started; the
// dedupe window, pricing cache, heap, buffered and pending values are gauges.
type Counters struct {
	StructSize            uint64 `c:"struct_size"`
	BatchesProcessed      uint64 `c:"batches_processed"`
	BatchesUndecodable    uint64 `c:"batches_undecodable"`
	BatchesCopiedLossily  uint64 `c:"batches_copied_lossily"`
	SpansProcessed        uint64 `c:"spans_processed"`
	GenAISpans            uint64 `c:"genai_spans"`
	GenAIInferenceSpans   uint64 `c:"genai_inference_spans"`
	EditsEmitted          uint64 `c:"edits_emitted"`
	PanicsCaught          uint64 `c:"panics_caught"`
	CostPriced            uint64 `c:"cost_priced"`
	CostUnpriced          uint64 `c:"cost_unpriced"`
	CostNoUsage           uint64 `c:"cost_no_usage"`
	CostProviderReported  uint64 `c:"cost_provider_reported"`
	CostEstimated         uint64 `c:"cost_estimated"`
	DuplicateCalls        uint64 `c:"duplicate_calls"`
	UncountedWithoutUsage uint64 `c:"uncounted_without_usage"`
	PricingReloads        uint64 `c:"pricing_reloads"`
	PricingReloadErrors   uint64 `c:"pricing_reload_errors"`

	DedupeWindowEntries   uint64 `c:"dedupe_window_entries"`
	DedupeWindowBytes     uint64 `c:"dedupe_window_bytes"`
	DedupeWindowEvictions uint64 `c:"dedupe_window_evictions"`
	PricingCacheEntries   uint64 `c:"pricing_cache_entries"`
	PricingCacheBytes     uint64 `c:"pricing_cache_bytes"`
	// RustHeapBytes is what Rust holds allocated in this process, all engines together
	// (src/heap.rs): memory Go's runtime metrics and memory_limiter cannot see.
	RustHeapBytes           uint64 `c:"rust_heap_bytes"`
	SecretRulesReloads      uint64 `c:"secret_rules_reloads"`
	SecretRulesReloadErrors uint64 `c:"secret_rules_reload_errors"`

	Redaction RedactionCounters

	Sampling SamplingCounters
}

// Detectors is the number of built-in redaction detectors (TOLLBOOTH_DETECTORS).
const Detectors = 22

// RedactionCounters are the redaction tallies (src/redact/counts.rs), Detected indexed by
// detector number (DetectorNames).
type RedactionCounters struct {
	SpansSeen             uint64            `c:"redaction_spans_seen"`
	SpansDropped          uint64            `c:"redaction_spans_dropped"`
	KeysRedacted          uint64            `c:"redaction_keys_redacted"`
	ValuesMasked          uint64            `c:"redaction_values_masked"`
	ValuesAllowed         uint64            `c:"redaction_values_allowed"`
	KeysIgnored           uint64            `c:"redaction_keys_ignored"`
	ContentDropped        uint64            `c:"redaction_content_dropped"`
	ContentHashed         uint64            `c:"redaction_content_hashed"`
	ValuesTruncated       uint64            `c:"redaction_values_truncated"`
	StatusMessagesMasked  uint64            `c:"redaction_status_messages_masked"`
	NamesMasked           uint64            `c:"redaction_names_masked"`
	SensitiveValuesMasked uint64            `c:"redaction_sensitive_values_masked"`
	NumbersMasked         uint64            `c:"redaction_numbers_masked"`
	NestedMasked          uint64            `c:"redaction_nested_masked"`
	Detected              [Detectors]uint64 `c:"redaction_detected"`
}

// Named calls fn with each tally under the name the engine's JSON stats give it (the
// `detector` attribute of the processor's redactions metric); detectors are "detected.NAME".
func (r *RedactionCounters) Named(fn func(name string, n uint64)) {
	for _, f := range [...]struct {
		name string
		n    uint64
	}{
		{"spans_seen", r.SpansSeen}, {"spans_dropped", r.SpansDropped},
		{"keys_redacted", r.KeysRedacted}, {"values_masked", r.ValuesMasked},
		{"values_allowed", r.ValuesAllowed}, {"keys_ignored", r.KeysIgnored},
		{"content_dropped", r.ContentDropped}, {"content_hashed", r.ContentHashed},
		{"values_truncated", r.ValuesTruncated}, {"status_messages_masked", r.StatusMessagesMasked},
		{"names_masked", r.NamesMasked}, {"sensitive_values_masked", r.SensitiveValuesMasked},
		{"numbers_masked", r.NumbersMasked}, {"nested_masked", r.NestedMasked},
	} {
		fn(f.name, f.n)
	}
	for i, name := range detectorKeys() {
		fn(name, r.Detected[i])
	}
}

// SamplingCounters are the tail sampler's telemetry (src/sampling/telemetry.rs).
type SamplingCounters struct {
	BatchesIngested        uint64  `c:"sampling_batches_ingested"`
	SpansReceived          uint64  `c:"sampling_spans_received"`
	TracesReceived         uint64  `c:"sampling_traces_received"`
	TracesBuffered         uint64  `c:"sampling_traces_buffered"`
	SpansBuffered          uint64  `c:"sampling_spans_buffered"`
	BytesBuffered          uint64  `c:"sampling_bytes_buffered"`
	TracesSampled          uint64  `c:"sampling_traces_sampled"`
	TracesNotSampled       uint64  `c:"sampling_traces_not_sampled"`
	TracesDropped          uint64  `c:"sampling_traces_dropped"`
	SpansSampled           uint64  `c:"sampling_spans_sampled"`
	SpansNotSampled        uint64  `c:"sampling_spans_not_sampled"`
	SpansDropped           uint64  `c:"sampling_spans_dropped"`
	EarlyDecisionsBudget   uint64  `c:"sampling_early_decisions_budget"`
	EarlyDecisionsRoot     uint64  `c:"sampling_early_decisions_root"`
	EarlyDecisionsOversize uint64  `c:"sampling_early_decisions_oversize"`
	LateSpansSampled       uint64  `c:"sampling_late_spans_sampled"`
	LateSpansDropped       uint64  `c:"sampling_late_spans_dropped"`
	ShutdownDroppedTraces  uint64  `c:"sampling_shutdown_dropped_traces"`
	ShutdownDroppedSpans   uint64  `c:"sampling_shutdown_dropped_spans"`
	SpansPendingRelease    uint64  `c:"sampling_spans_pending_release"`
	BytesPendingRelease    uint64  `c:"sampling_bytes_pending_release"`
	SpansReleased          uint64  `c:"sampling_spans_released"`
	ReleaseCalls           uint64  `c:"sampling_release_calls"`
	RunsWithLLMCalls       uint64  `c:"sampling_runs_with_llm_calls"`
	RunsCostIncomplete     uint64  `c:"sampling_runs_cost_incomplete"`
	RunsRootMissing        uint64  `c:"sampling_runs_root_missing"`
	RunCostsDropped        uint64  `c:"sampling_run_costs_dropped"`
	DecisionAgeMs          Summary `c:"sampling_decision_age_ms_"`
	DecisionEvalNs         Summary `c:"sampling_decision_eval_ns_"`
	ReleaseNs              Summary `c:"sampling_release_ns_"`
	DecisionCacheEntries   uint64  `c:"sampling_decision_cache_entries"`
	MemoryBytes            uint64  `c:"sampling_memory_bytes"`
	// Policies is how many entries ReadPolicies fills.
	Policies uint64 `c:"sampling_policies"`
}

// Summary is count, sum and max of one measure (tags are suffixes of the field's own tag).
type Summary struct {
	Count uint64 `c:"count"`
	Sum   uint64 `c:"sum"`
	Max   uint64 `c:"max"`
}

// PolicyCounters mirrors TollboothPolicyStats: one sampling policy's tallies, in
// configuration order (names from Report's Sampling.Policies, fixed at start).
type PolicyCounters struct {
	TracesSampled          uint64 `c:"traces_sampled"`
	TracesNotSampled       uint64 `c:"traces_not_sampled"`
	TracesDropped          uint64 `c:"traces_dropped"`
	TracesInvertSampled    uint64 `c:"traces_invert_sampled"`
	TracesInvertNotSampled uint64 `c:"traces_invert_not_sampled"`
	SpansSampled           uint64 `c:"spans_sampled"`
	SpansNotSampled        uint64 `c:"spans_not_sampled"`
	SpansDropped           uint64 `c:"spans_dropped"`
	TracesKept             uint64 `c:"traces_kept"`
	SpansKept              uint64 `c:"spans_kept"`
}
